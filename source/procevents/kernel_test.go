//go:build linux

package procevents

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/source"
)

// open opens a Source or skips (fails under LINUXAUDIT_REQUIRE_KERNEL=1)
// saying why the connector is not usable here.
func open(t *testing.T, cfg Config) *Source {
	t.Helper()
	if cfg.Log == nil {
		cfg.Log = audittest.Logger(t)
	}
	s, err := Open(cfg)
	if err != nil {
		audittest.Need(t, "process events connector: "+err.Error())
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// rec is an Event copied out of the Source's buffers.
type rec struct {
	Event
	cmdline, exe, comm, cgroup, name string
}

// collect reads s on a goroutine until it is closed and sends copies of
// the events on the channel (dropping them if the test does not keep up).
func collect(s *Source) <-chan rec {
	ch := make(chan rec, 4096)
	go func() {
		for {
			ev, err := s.Next(context.Background())
			if errors.Is(err, source.ErrIdle) {
				continue
			}
			if err != nil {
				close(ch)
				return
			}
			r := rec{Event: ev, cmdline: string(ev.Proc.Cmdline), exe: string(ev.Proc.Exe), comm: string(ev.Proc.Comm),
				cgroup: string(ev.Proc.Cgroup), name: string(ev.Name)}
			r.Proc, r.Name = Proc{Read: ev.Proc.Read, Missing: ev.Proc.Missing, UID: ev.Proc.UID, PPID: ev.Proc.PPID,
				StartTime: ev.Proc.StartTime, State: ev.Proc.State}, nil
			select {
			case ch <- r:
			default:
			}
		}
	}()
	return ch
}

// await returns the first event match accepts within timeout.
func await(t *testing.T, ch <-chan rec, timeout time.Duration, what string, match func(rec) bool) rec {
	t.Helper()
	tm := time.NewTimer(timeout)
	defer tm.Stop()
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				t.Fatalf("%s: source closed", what)
			}
			if match(r) {
				return r
			}
		case <-tm.C:
			t.Fatalf("%s: no event within %v", what, timeout)
		}
	}
}

func TestKernelExitCode(t *testing.T) {
	s := open(t, Config{ReadProc: true})
	ch := collect(s)
	start := time.Now()
	cmd := exec.Command("sh", "-c", "sleep 0.05; exit 3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("sh: %v", err)
	}
	self := int32(os.Getpid())
	fork := await(t, ch, 2*time.Second, "fork", func(r rec) bool { return r.Kind == Fork && r.TGID == pid })
	if fork.ParentTGID != self || fork.PID != pid || fork.Thread {
		t.Errorf("fork: %+v, want parent %d", fork.Event, self)
	}
	ex := await(t, ch, 2*time.Second, "exec", func(r rec) bool { return r.Kind == Exec && r.TGID == pid })
	t.Logf("exec: pid %d cmdline %q exe %q comm %q uid %d ppid %d start %d missing %q cgroup %q",
		ex.TGID, ex.cmdline, ex.exe, ex.comm, ex.Proc.UID, ex.Proc.PPID, ex.Proc.StartTime, ex.Proc.Missing, ex.cgroup)
	if ex.cmdline != "sh\x00-c\x00sleep 0.05; exit 3" || ex.comm != "sh" || ex.Proc.PPID != self ||
		ex.Proc.UID != uint32(os.Getuid()) || ex.Proc.Missing != 0 || ex.Proc.StartTime == 0 || ex.cgroup == "" {
		t.Errorf("exec: %+v", ex)
	}
	if want, _ := os.Readlink("/bin/sh"); !strings.HasSuffix(ex.exe, "/"+want) && ex.exe != want {
		t.Errorf("exe %q, /bin/sh -> %q", ex.exe, want)
	}
	exit := await(t, ch, 2*time.Second, "exit", func(r rec) bool { return r.Kind == Exit && r.TGID == pid })
	if !exit.Status.Exited() || exit.Status.ExitStatus() != 3 || exit.ParentTGID != self || exit.ExitSignal != int32(syscall.SIGCHLD) {
		t.Errorf("exit: status %v exited %v code %d parent %d exit signal %d", exit.Status, exit.Status.Exited(),
			exit.Status.ExitStatus(), exit.ParentTGID, exit.ExitSignal)
	}
	if d := exit.Time.Sub(start); d < 0 || d > 2*time.Second {
		t.Errorf("exit time %v is %v after the start", exit.Time, d)
	}
	if exit.Mono <= ex.Mono || ex.Mono <= fork.Mono {
		t.Errorf("timestamps out of order: fork %v exec %v exit %v", fork.Mono, ex.Mono, exit.Mono)
	}
	st := s.Stats()
	t.Logf("stats %+v", st)
	if st.Fork == 0 || st.Exec == 0 || st.Exit == 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestKernelKilled(t *testing.T) {
	s := open(t, Config{Kinds: Exec | Exit})
	ch := collect(s)
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	await(t, ch, 2*time.Second, "exec", func(r rec) bool { return r.Kind == Exec && r.TGID == pid })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	exit := await(t, ch, 2*time.Second, "exit", func(r rec) bool { return r.Kind == Exit && r.TGID == pid })
	if !exit.Status.Signaled() || exit.Status.Signal() != syscall.SIGKILL || exit.Status.CoreDump() || exit.Status.Exited() {
		t.Errorf("exit: status %#x, want killed by signal 9", uint32(exit.Status))
	}
	if st := s.Stats(); st.Fork != 0 {
		t.Errorf("fork events though only exec and exit were asked: %+v", st)
	}
}

// TestKernelShortLived: /bin/true lives about a millisecond; its exec
// event must come every time, and its command line is read from /proc
// before it is gone for most of them. The rest is a race the reader can
// lose: on this kind of VM the wake-up of a reader blocked on the socket
// takes 70 µs typically but 0.7 ms for about one event in ten (a plain C
// reader doing a blocking recv loses as often), as long as /bin/true
// lives. The ratio is logged.
func TestKernelShortLived(t *testing.T) {
	s := open(t, Config{ReadProc: true, Kinds: Exec})
	ch := collect(s)
	const runs = 50
	pids := map[int32]int{}
	for i := 0; i < runs; i++ {
		cmd := exec.Command("/bin/true", "linuxaudit-short-"+strconv.Itoa(i))
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pids[int32(cmd.Process.Pid)] = i
	}
	withCmdline, gone := 0, 0
	for n := 0; n < runs; n++ {
		r := await(t, ch, 2*time.Second, "exec of /bin/true", func(r rec) bool { _, ok := pids[r.TGID]; return ok })
		i := pids[r.TGID]
		delete(pids, r.TGID)
		switch {
		case r.Proc.Missing&ProcCmdline == 0:
			if r.cmdline != "/bin/true\x00linuxaudit-short-"+strconv.Itoa(i) {
				t.Errorf("cmdline %q", r.cmdline)
			}
			withCmdline++
		default:
			gone++
			t.Logf("pid %d gone before /proc was read: missing %q (state %q comm %q)", r.TGID, r.Proc.Missing, r.Proc.State, r.comm)
		}
	}
	t.Logf("/bin/true x %d: %d exec events, %d with their command line read, %d gone first; stats %+v", runs, runs, withCmdline, gone, s.Stats())
	if withCmdline < runs/2 {
		t.Errorf("command line read for only %d of %d", withCmdline, runs)
	}
	if s.Stats().ProcReadFailed < uint64(gone) { // other processes exec too
		t.Errorf("ProcReadFailed %d, %d gone", s.Stats().ProcReadFailed, gone)
	}
}

const threadsC = `#include <pthread.h>
#include <sys/prctl.h>
static void *run(void *a) { return a; }
int main(void) {
	pthread_t t;
	prctl(PR_SET_NAME, "renamed-main");
	if (pthread_create(&t, 0, run, 0)) return 1;
	pthread_join(t, 0);
	return 0;
}
`

// TestKernelThreads: thread creation and end are dropped (and counted)
// by default, delivered with Thread set on request; a name change is a
// Comm event.
func TestKernelThreads(t *testing.T) {
	bin := audittest.BuildC(t, "threads", threadsC)
	for _, threads := range []bool{false, true} {
		s := open(t, Config{Threads: threads})
		ch := collect(s)
		cmd := exec.Command(bin)
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		pid := int32(cmd.Process.Pid)
		var got []rec
		r := rec{}
		for r.Kind != Exit || r.PID != pid {
			r = await(t, ch, 2*time.Second, "events of the threads helper", func(r rec) bool { return r.TGID == pid })
			got = append(got, r)
		}
		var kinds []string
		tf, te, comm := 0, 0, ""
		for _, r := range got {
			kinds = append(kinds, r.Kind.String()+map[bool]string{true: "(thread)"}[r.Thread])
			if r.Thread && r.Kind == Fork {
				tf++
			}
			if r.Thread && r.Kind == Exit {
				te++
			}
			if r.Kind == Comm {
				comm = r.name
			}
		}
		t.Logf("threads %v: %v; stats %+v", threads, kinds, s.Stats())
		if comm != "renamed-main" {
			t.Errorf("comm event %q", comm)
		}
		if threads && (tf != 1 || te != 1) {
			t.Errorf("threads: %d thread forks, %d thread exits, want 1 and 1", tf, te)
		}
		if !threads && (tf != 0 || te != 0 || s.Stats().Threads < 2) {
			t.Errorf("thread events delivered (%d forks, %d exits) or not counted (%d)", tf, te, s.Stats().Threads)
		}
		s.Close()
	}
}

// TestKernelUIDChange: setpriv changing its uid gives a UID event (root).
func TestKernelUIDChange(t *testing.T) {
	audittest.NeedRoot(t)
	if _, err := exec.LookPath("setpriv"); err != nil {
		audittest.Need(t, "setpriv missing")
	}
	s := open(t, Config{Kinds: UID | Fork})
	ch := collect(s)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setpriv: %v %s", err, out)
	}
	pid := int32(cmd.Process.Pid)
	r := await(t, ch, 2*time.Second, "uid change", func(r rec) bool { return r.Kind == UID && r.TGID == pid })
	if r.RealID != 65534 || r.EffectiveID != 65534 {
		t.Errorf("uid event: real %d effective %d", r.RealID, r.EffectiveID)
	}
}

func TestKernelNextEnds(t *testing.T) {
	s := open(t, Config{Kinds: Ptrace}) // hardly any events
	_, err := s.Next(context.Background())
	if err != nil && !errors.Is(err, source.ErrIdle) {
		t.Fatalf("Next: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a done context: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			_, err := s.Next(context.Background())
			if !errors.Is(err, source.ErrIdle) && err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	s.Close()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next did not return after Close")
	}
}
