//go:build linux

package kmsg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/source"
)

// openKmsg opens /dev/kmsg or skips (fails under
// LINUXAUDIT_REQUIRE_KERNEL=1) saying why.
func openKmsg(t *testing.T, cfg Config) *Reader {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = audittest.Logger(t)
	}
	r, err := Open(cfg)
	if err != nil {
		audittest.Need(t, err.Error())
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readUntil reads records until match accepts one or timeout passes.
func readUntil(t *testing.T, r *Reader, timeout time.Duration, match func(*Record) bool) (Record, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		rec, err := r.Next(ctx)
		switch {
		case err == nil:
			if match(&rec) {
				return rec, true
			}
		case errors.Is(err, source.ErrIdle):
		case errors.Is(err, context.DeadlineExceeded):
			return Record{}, false
		default:
			t.Fatalf("Next: %v", err)
		}
	}
}

// TestKernelReader writes a marker to /dev/kmsg (as root) and reads it
// back: user facility, level, text with escapes decoded, a wall-clock
// time within a second of the write.
func TestKernelReader(t *testing.T) {
	audittest.NeedRoot(t)
	r := openKmsg(t, Config{})
	marker := fmt.Sprintf("linuxaudit-kmsg-test %d %d back\\slash", os.Getpid(), time.Now().UnixNano())
	before := time.Now()
	if err := os.WriteFile("/dev/kmsg", []byte("<14>"+marker+"\n"), 0); err != nil {
		t.Fatalf("writing /dev/kmsg: %v", err)
	}
	rec, ok := readUntil(t, r, 2*time.Second, func(rec *Record) bool { return string(rec.Text) == marker })
	if !ok {
		t.Fatal("marker not read back within 2s")
	}
	skew := rec.Time.Sub(before)
	t.Logf("marker: seq %d facility %d level %d time %v (%v after the write started), boot %v", rec.Seq, rec.Facility, rec.Level,
		rec.Time, skew, r.Boot())
	if rec.Facility != 1 || rec.Level != 6 || rec.Kernel() || rec.Flags != '-' {
		t.Errorf("marker: facility %d level %d flags %c", rec.Facility, rec.Level, rec.Flags)
	}
	if skew < -time.Second || skew > time.Second {
		t.Errorf("record time %v is %v from the write", rec.Time, skew)
	}
	// An OOM parser ignores it even if it looked like a kill line.
	p := NewOOMParser(OOMConfig{})
	p.Record(&rec)
	if p.Stats().Lines != 0 {
		t.Errorf("the parser took a user-facility record")
	}

	// From the start: the oldest record left first, the marker later.
	r2 := openKmsg(t, Config{FromStart: true})
	first, ok := readUntil(t, r2, time.Second, func(*Record) bool { return true })
	if !ok || first.Seq > rec.Seq {
		t.Fatalf("FromStart: first record seq %d, marker %d", first.Seq, rec.Seq)
	}
	if _, ok := readUntil(t, r2, 5*time.Second, func(x *Record) bool { return x.Seq == rec.Seq && string(x.Text) == marker }); !ok {
		t.Errorf("FromStart: marker not found")
	}
	st := r2.Stats()
	t.Logf("FromStart: first seq %d; stats %+v", first.Seq, st)
	if st.Malformed != 0 {
		t.Errorf("malformed records: %+v", st)
	}

	// Reading allocates nothing per record (the buffer's records again,
	// with a parser looking at each).
	r3 := openKmsg(t, Config{FromStart: true})
	ctx := context.Background()
	records := 0
	allocs := testing.AllocsPerRun(100, func() {
		if rec, err := r3.Next(ctx); err == nil {
			p.Record(&rec)
			records++
		}
	})
	t.Logf("%v allocations per Next over %d records", allocs, records)
	if allocs != 0 {
		t.Errorf("Next allocates %v times per record", allocs)
	}
}

func TestKernelReaderEnds(t *testing.T) {
	r := openKmsg(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a done context: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			_, err := r.Next(context.Background())
			if err != nil && !errors.Is(err, source.ErrIdle) {
				done <- err
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after Close")
	}
}

// TestKernelReaderUnprivileged: as nobody, with kernel.dmesg_restrict=1,
// Open says what reading the kernel log needs. The test binary runs
// itself under setpriv.
func TestKernelReaderUnprivileged(t *testing.T) {
	if os.Getenv("LINUXAUDIT_KMSG_CHILD") == "1" {
		_, err := Open(Config{})
		fmt.Printf("OPEN-ERROR: %v\n", err)
		return
	}
	audittest.NeedRoot(t)
	if b, _ := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); strings.TrimSpace(string(b)) != "1" {
		t.Skip("SKIP: kernel.dmesg_restrict is not 1: anyone may read the kernel log")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		audittest.Need(t, "setpriv missing")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	self, _ := os.Executable()
	bin := filepath.Join(dir, "kmsg.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, "-test.run=^TestKernelReaderUnprivileged$")
	cmd.Env = append(os.Environ(), "LINUXAUDIT_KMSG_CHILD=1")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody: %s", strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if !strings.Contains(string(out), "OPEN-ERROR: kernel log /dev/kmsg: operation not permitted (reading it needs root or CAP_SYSLOG") {
		t.Errorf("unprivileged Open error does not say what is needed")
	}
	if _, err := Open(Config{Path: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "container") {
		t.Errorf("missing device: %v", err)
	}
}

// hogC allocates and touches 1 MiB at a time until it is killed.
const hogC = `#include <stdlib.h>
#include <string.h>
int main(void) {
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p) return 2;
		memset(p, 1, 1 << 20);
	}
}
`

// TestKernelOOM: a memory hog in its own memory cgroup limited to 32 MiB
// is OOM-killed; the reader and the parser give exactly one report that
// names its pid, its name and the cgroup, within 2 s of its death.
func TestKernelOOM(t *testing.T) {
	audittest.NeedRoot(t)
	hog := audittest.BuildC(t, "hog", hogC)
	r := openKmsg(t, Config{})
	cg := audittest.MemoryCgroup(t, 32<<20)
	t.Logf("cgroup %s (%s), v2 %v", cg.Dir, cg.Path, cg.V2)

	// The shell moves itself into the cgroup and becomes the hog.
	cmd := exec.Command("sh", "-c", "echo $$ > "+cg.Procs()+" && exec "+hog)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	werr := cmd.Wait()
	died := time.Now()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("hog did not die of SIGKILL: %v (%v)", werr, cmd.ProcessState)
	}
	t.Logf("hog %d killed after %v", pid, died.Sub(start).Round(time.Millisecond))

	p := NewOOMParser(OOMConfig{})
	var reports []OOMReport
	var got time.Time
	readUntil(t, r, 2*time.Second, func(rec *Record) bool {
		p.Record(rec)
		for rep, ok := p.Report(); ok; rep, ok = p.Report() {
			if rep.PID == pid {
				reports = append(reports, rep)
				got = time.Now()
			}
		}
		return len(reports) > 0
	})
	if len(reports) == 0 {
		t.Fatalf("no OOM report for pid %d within 2s of its death (parser stats %+v, reader %+v)", pid, p.Stats(), r.Stats())
	}
	// Nothing more about it in the next half second.
	readUntil(t, r, 500*time.Millisecond, func(rec *Record) bool {
		p.Record(rec)
		for rep, ok := p.Report(); ok; rep, ok = p.Report() {
			if rep.PID == pid {
				reports = append(reports, rep)
			}
		}
		return false
	})
	p.Flush()
	for rep, ok := p.Report(); ok; rep, ok = p.Report() {
		if rep.PID == pid {
			reports = append(reports, rep)
		}
	}
	rep := reports[0]
	t.Logf("report %v after the death (kernel time %v): %+v", got.Sub(died).Round(time.Millisecond), rep.Time, rep)
	t.Logf("parser %+v, reader %+v", p.Stats(), r.Stats())
	if len(reports) != 1 {
		t.Errorf("%d reports for pid %d, want 1", len(reports), pid)
	}
	if d := got.Sub(died); d > 2*time.Second {
		t.Errorf("report %v after the death", d)
	}
	if rep.Comm != "hog" || rep.OOMMemcg != cg.Path || rep.TaskMemcg != cg.Path || rep.Constraint != "CONSTRAINT_MEMCG" ||
		rep.Global || rep.Reason != "Memory cgroup out of memory" || rep.AnonRSS == 0 || rep.Partial() || rep.UID != 0 {
		t.Errorf("report: %+v", rep)
	}
	if rep.Seen&OOMTrigger != 0 && (rep.TriggerComm != "hog" || (rep.Seen&OOMTriggerPID != 0 && rep.TriggerPID != pid)) {
		t.Errorf("trigger: %q %d", rep.TriggerComm, rep.TriggerPID)
	}
	if rep.Seen&OOMUsage != 0 && rep.MemcgLimit != 32<<10 {
		t.Errorf("memcg limit %d kB, want %d", rep.MemcgLimit, 32<<10)
	}
	if d := rep.Time.Sub(died); d < -2*time.Second || d > time.Second {
		t.Errorf("report time %v is %v from the death", rep.Time, d)
	}
}
