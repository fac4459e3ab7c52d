//go:build linux

package procevents

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/source"
)

// TestKernelLoad measures the reader at a high exec rate: a helper
// spawns /bin/true 2,000 times a second for 3 s (then as fast as it can
// for 2 s), and the test counts the fork, exec and exit events of its
// children against what it spawned, the CPU time this process used per
// second, ENOBUFS and the peak resident memory.
func TestKernelLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: not with -short")
	}
	bin := audittest.BuildC(t, "spawn", audittest.SpawnC)
	audittest.Exclusive(t) // no other kernel test measures or loads the machine meanwhile
	for _, c := range []struct {
		rate, secs float64
		readProc   bool
	}{{2000, 3, false}, {2000, 3, true}, {0, 2, true}} {
		name := fmt.Sprintf("rate=%v/s,%vs,ReadProc=%v", c.rate, c.secs, c.readProc)
		if c.rate == 0 {
			name = fmt.Sprintf("rate=max,%vs,ReadProc=%v", c.secs, c.readProc)
		}
		t.Run(name, func(t *testing.T) { load(t, bin, c.rate, c.secs, c.readProc) })
	}
}

func load(t *testing.T, bin string, rate, secs float64, readProc bool) {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM (peak RSS)
	rss0 := audittest.StatusKB("VmRSS")
	s := open(t, Config{ReadProc: readProc, Kinds: Fork | Exec | Exit})
	// Children of the helper, by pid: a fixed bitmap, so the counting
	// itself allocates nothing.
	const maxPID = 1 << 22
	kids := make([]uint64, maxPID/64)
	mark := func(pid int32) bool {
		if pid <= 0 || pid >= maxPID {
			return false
		}
		b := &kids[pid/64]
		had := *b&(1<<(pid%64)) != 0
		*b |= 1 << (pid % 64)
		return had
	}
	known := func(pid int32) bool { return pid > 0 && pid < maxPID && kids[pid/64]&(1<<(pid%64)) != 0 }

	cpu0, t0 := audittest.CPUSeconds(), time.Now()
	sp := audittest.Spawn(t, bin, rate, secs)
	helper := int32(sp.Cmd.Process.Pid)
	var forks, execs, exits, cmdlines, missing int
	done := make(chan error, 1)
	go func() { done <- sp.Cmd.Wait() }()
	finished := false
	var spawned, failed int
	var elapsed float64
	for {
		ev, err := s.Next(context.Background())
		if errors.Is(err, source.ErrIdle) {
			if finished {
				break // the helper is done and nothing came for 250 ms
			}
		} else if err != nil {
			t.Fatal(err)
		}
		select {
		case werr := <-done:
			finished = true
			if _, err := fmt.Sscan(sp.Out.String(), &spawned, &failed, &elapsed); werr != nil || err != nil {
				t.Fatalf("spawn helper: %v %v: %q", werr, err, sp.Out.String())
			}
		default:
		}
		if err != nil {
			continue
		}
		switch ev.Kind {
		case Fork:
			if ev.ParentTGID == helper {
				mark(ev.TGID)
				forks++
			}
		case Exec:
			if known(ev.TGID) {
				execs++
				if readProc {
					if ev.Proc.Missing&ProcCmdline == 0 && string(ev.Proc.Cmdline) == "/bin/true" {
						cmdlines++
					} else {
						missing++
					}
				}
			}
		case Exit:
			if known(ev.TGID) {
				exits++
			}
		}
	}
	wall := time.Since(t0).Seconds()
	cpu := audittest.CPUSeconds() - cpu0
	st := s.Stats()
	expected := 3 * spawned
	got := forks + execs + exits
	line := fmt.Sprintf("spawned %d /bin/true in %.2fs (%.0f/s, %d spawn failures); events of its children %d of %d expected (fork %d, exec %d, exit %d), lost %d; ENOBUFS %d; reader CPU %.3fs = %.3f CPU-s per second of load (%.2fs until the reader was idle) = %.1f µs per event; peak RSS (VmHWM) %d kB, %d kB before Open; stats %+v",
		spawned, elapsed, float64(spawned)/elapsed, failed, got, expected, forks, execs, exits, expected-got, st.ENOBUFS,
		cpu, cpu/elapsed, wall, 1e6*cpu/float64(max(got, 1)), audittest.StatusKB("VmHWM"), rss0, st)
	if readProc {
		line += fmt.Sprintf("; command line read for %d of %d execs (%d gone first)", cmdlines, execs, missing)
	}
	t.Log(line)
	if spawned == 0 || got > expected {
		t.Errorf("counting is off: %d events for %d spawned", got, spawned)
	}
	if st.ENOBUFS == 0 && got != expected {
		t.Errorf("%d events missing without an ENOBUFS", expected-got)
	}
	if rate > 0 && st.ENOBUFS != 0 {
		t.Errorf("ENOBUFS at %v execs/s", rate)
	}
}

// TestKernelAllocs: Next allocates nothing per event in steady state,
// with and without reading /proc.
func TestKernelAllocs(t *testing.T) {
	bin := audittest.BuildC(t, "spawn", audittest.SpawnC)
	for _, readProc := range []bool{false, true} {
		s := open(t, Config{ReadProc: readProc})
		sp := audittest.Spawn(t, bin, 1000, 3)
		ctx := context.Background()
		for i := 0; i < 200; i++ { // warm up
			s.Next(ctx)
		}
		var idle, events int
		allocs := testing.AllocsPerRun(2000, func() {
			if _, err := s.Next(ctx); err == nil {
				events++
			} else if errors.Is(err, source.ErrIdle) {
				idle++
			} else {
				t.Fatal(err)
			}
		})
		t.Logf("ReadProc %v: %v allocations per Next over %d events (%d idle)", readProc, allocs, events, idle)
		if allocs != 0 {
			t.Errorf("ReadProc %v: Next allocates %v times per event", readProc, allocs)
		}
		if events < 1000 {
			t.Errorf("only %d events during the measure", events)
		}
		sp.Cmd.Process.Kill()
		sp.Cmd.Wait()
		s.Close()
	}
}

// BenchmarkNext reads events while a helper spawns /bin/true as fast as
// it can (go test -bench Next -benchmem, as root).
func BenchmarkNext(b *testing.B) {
	s, err := Open(Config{ReadProc: true})
	if err != nil {
		b.Skipf("SKIP: %v", err)
	}
	defer s.Close()
	bin := audittest.BuildC(b, "spawn", audittest.SpawnC)
	cmd := exec.Command(bin, "0", "600", "/bin/true")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Next(ctx); err != nil && !errors.Is(err, source.ErrIdle) {
			b.Fatal(err)
		}
	}
}

// TestKernelOverflow: with a tiny receive buffer and nobody reading
// during a burst, the kernel drops events; Next counts the ENOBUFS, logs
// it, and goes on delivering.
func TestKernelOverflow(t *testing.T) {
	audittest.NeedRoot(t) // SO_RCVBUFFORCE below rmem_default
	bin := audittest.BuildC(t, "spawn", audittest.SpawnC)
	log, msgs := audittest.Capture()
	s := open(t, Config{RcvBuf: 4096, Kinds: Fork | Exec | Exit, Log: log})
	t.Logf("receive buffer %d bytes", s.RcvBuf())
	sp := audittest.Spawn(t, bin, 0, 0.3) // as fast as it can, nobody reading
	if err := sp.Cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// Read what is queued (the overflow is reported here) until idle,
	// then a process started after the burst must be seen.
	ctx := context.Background()
	for {
		_, err := s.Next(ctx)
		if errors.Is(err, source.ErrIdle) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	after := exec.Command("/bin/true", "after-overflow")
	if err := after.Run(); err != nil {
		t.Fatal(err)
	}
	pid := int32(after.Process.Pid)
	seen := false
	for deadline := time.Now().Add(3 * time.Second); !seen && time.Now().Before(deadline); {
		ev, err := s.Next(ctx)
		if errors.Is(err, source.ErrIdle) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		seen = ev.Kind == Exit && ev.TGID == pid
	}
	st := s.Stats()
	t.Logf("spawned %q; stats %+v; log %q", strings.TrimSpace(sp.Out.String()), st, msgs())
	if st.ENOBUFS == 0 {
		t.Errorf("no ENOBUFS with a %d-byte buffer", s.RcvBuf())
	}
	if !seen {
		t.Errorf("events after the overflow not delivered")
	}
	logged := false
	for _, m := range msgs() {
		logged = logged || strings.Contains(m, "ENOBUFS")
	}
	if !logged {
		t.Errorf("overflow not logged: %q", msgs())
	}
}
