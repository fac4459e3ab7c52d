package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/internal/corpus"
)

var serialRE = regexp.MustCompile(`msg=audit\([0-9]+\.[0-9]+:([0-9]+)\)`)

// eventsOf splits a log into its events (their lines, in order) and
// their serials.
func eventsOf(lines [][]byte) (evs [][]byte, serials []string) {
	for _, l := range lines {
		m := serialRE.FindSubmatch(l)
		if m == nil {
			continue
		}
		if n := len(serials); n == 0 || serials[n-1] != string(m[1]) {
			serials = append(serials, string(m[1]))
			evs = append(evs, nil)
		}
		evs[len(evs)-1] = append(append(evs[len(evs)-1], l...), '\n')
	}
	return evs, serials
}

func appendTo(t *testing.T, path string, evs ...[]byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range evs {
		if _, err := f.Write(e); err != nil {
			t.Fatal(err)
		}
	}
}

// startLive runs the CLI in the background until the returned stop is
// called, which returns its exit status; it waits for the live pipeline
// to read.
func startLive(t *testing.T, args ...string) (out, errb *audittest.SyncBuffer, stop func() int) {
	t.Helper()
	out, errb = &audittest.SyncBuffer{}, &audittest.SyncBuffer{}
	started := make(chan struct{})
	liveStarted = func() { close(started) }
	t.Cleanup(func() { liveStarted = nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runCtx(ctx, args, strings.NewReader(""), out, errb) }()
	select {
	case <-started:
	case code := <-done:
		t.Fatalf("exit %d before reading: %s", code, errb.String())
	case <-time.After(10 * time.Second):
		t.Fatal("not reading after 10 s")
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("did not stop within 10 s")
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return out, errb, stop
}

// waitSerials waits until the CLI printed every serial of want (JSON).
func waitSerials(t *testing.T, out *audittest.SyncBuffer, want []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := map[string]bool{}
		for _, d := range parseDocs(t, out.String()) {
			got[strconv.FormatInt(d.Event.Serial, 10)] = true
		}
		missing := []string{}
		for _, s := range want {
			if !got[s] {
				missing = append(missing, s)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s, events %v not printed; output:\n%s", missing, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFollow tails a log as auditd writes it: what it held before the
// CLI started is not printed; events appended are, as they come; auditd's
// rotation (the last lines into the old file, renamed audit.log.1, then a
// new audit.log) loses and repeats nothing. Ctrl-C (here: the context)
// ends it with status 0.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	evs, serials := eventsOf(corpus.Lines(corpus.Kills))
	if len(evs) != 24 {
		t.Fatalf("%d events in the kill log", len(evs))
	}
	appendTo(t, path, evs[:8]...)
	out, errb, stop := startLive(t, "--follow", "--format=json", "--proc=false", path)
	sigurg := []string{"527185", "527187"} // dropped (drop_sigurg)
	expect := func(from, to int) []string {
		var w []string
		for _, s := range serials[from:to] {
			if !slices.Contains(sigurg, s) {
				w = append(w, s)
			}
		}
		return w
	}
	appendTo(t, path, evs[8:14]...)
	waitSerials(t, out, expect(8, 14))
	appendTo(t, path, evs[14:18]...)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, evs[18:]...)
	waitSerials(t, out, expect(8, 24))
	if code := stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got []string
	for _, d := range parseDocs(t, out.String()) {
		got = append(got, strconv.FormatInt(d.Event.Serial, 10))
	}
	if !slices.Equal(got, expect(8, 24)) {
		t.Errorf("printed %v, want %v (once each, none of the log's first 8 events)", got, expect(8, 24))
	}
	if e := errb.String(); e != "" {
		t.Errorf("stderr: %q", e)
	}

	// Text, filtered: who killed pid 24482 (the kill -9)?
	path2 := filepath.Join(dir, "audit2.log")
	appendTo(t, path2)
	out, errb, stop = startLive(t, "--follow", "--format=text", "--target-pid", "24482", path2)
	appendTo(t, path2, evs...)
	host, _ := os.Hostname()
	want := time.Unix(1795742640, 828e6).Format("2006-01-02 15:04:05.000") + " " + host + ` pid 24486 "sh killer.sh 24482" (/usr/bin/dash, parent 24481`
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "sent SIGKILL to pid 24482") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing else comes
	if code := stop(); code != 0 || strings.Count(out.String(), "\n") != 1 || !strings.HasPrefix(out.String(), want) {
		t.Errorf("text: exit %d, %q, want one line starting %q; stderr %q", code, out.String(), want, errb.String())
	}
}

// TestLiveBadUse: the flags that make no sense with --follow or --kernel
// are exit 2 with one line.
func TestLiveBadUse(t *testing.T) {
	for _, args := range [][]string{{"--follow", "--kernel"}, {"--kernel", "/var/log/audit/audit.log"}, {"--follow", "a.log", "b.log"},
		{"--follow", "-"}, {"--follow", "--sample"}, {"--kernel", "--since=tomorrow"}} {
		code, out, stderr := runCLI(t, "", args...)
		if code != 2 || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, %q %q", args, code, out, stderr)
		}
	}
}

// kernelCLI is the built CLI running --kernel.
type kernelCLI struct {
	cmd    *exec.Cmd
	lines  chan string
	exited chan error
	stderr audittest.SyncBuffer
}

// startKernel starts the built CLI with --kernel and args and waits until
// its rules are in (they carry its marker key).
func startKernel(t *testing.T, args ...string) *kernelCLI {
	t.Helper()
	k := &kernelCLI{cmd: exec.Command(binary(t), append([]string{"--kernel"}, args...)...), lines: make(chan string, 1024), exited: make(chan error, 1)}
	stdout, err := k.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	k.cmd.Stderr = &k.stderr
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			k.lines <- sc.Text()
		}
		close(k.lines)
		k.exited <- k.cmd.Wait()
	}()
	t.Cleanup(func() {
		if k.cmd.ProcessState == nil {
			// A failed test: kill the CLI (its pid) and remove the rules
			// it could not.
			k.cmd.Process.Kill()
			<-k.exited
			audittest.RemoveCollectorRules(k.cmd.Process.Pid)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(audittest.Auditctl(t, "-l"), "linuxaudit:") {
		if time.Now().After(deadline) {
			t.Fatalf("no rules installed after 10 s; stderr %q", k.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return k
}

// killSleeper starts a sleep (setup may move it, e.g. into a cgroup),
// kills it with SIGTERM and returns the line the CLI printed for it (the
// test as the killer, the sleep as the target), trying three sleeps.
func (k *kernelCLI) killSleeper(t *testing.T, setup func(pid int)) string {
	return k.killCommand(t, func() *exec.Cmd { return exec.Command("sleep", "30") }, setup)
}

// killCommand is killSleeper with the sleep started by cmd (e.g. inside a
// unit).
func (k *kernelCLI) killCommand(t *testing.T, cmd func() *exec.Cmd, setup func(pid int)) string {
	t.Helper()
	for try := 0; try < 3; try++ {
		child := cmd()
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		pid := child.Process.Pid
		if setup != nil {
			setup(pid)
		}
		start := time.Now()
		syscall.Kill(pid, syscall.SIGTERM)
		child.Wait()
		want := fmt.Sprintf("pid %d ", os.Getpid())
		tail := fmt.Sprintf(" sent SIGTERM to pid %d (sleep", pid)
		wait := time.After(5 * time.Second)
	read:
		for {
			select {
			case l, ok := <-k.lines:
				if !ok {
					t.Fatalf("the CLI ended: %v; stderr %q", <-k.exited, k.stderr.String())
				}
				t.Logf("line: %s", l)
				if strings.Contains(l, want) && strings.Contains(l, tail) {
					t.Logf("printed %v after the kill", time.Since(start).Round(time.Millisecond))
					return l
				}
			case <-wait:
				t.Logf("kill of %d not printed within 5 s (try %d)", pid, try+1)
				break read
			}
		}
	}
	t.Fatalf("no line for the test's kills; stderr %q", k.stderr.String())
	return ""
}

// interrupt sends SIGINT and checks the CLI exits 0 within 10 s.
func (k *kernelCLI) interrupt(t *testing.T) {
	t.Helper()
	if err := k.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range k.lines {
		}
	}()
	select {
	case err := <-k.exited:
		if err != nil {
			t.Errorf("after SIGINT: %v; stderr %q", err, k.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after SIGINT")
	}
	if s := k.stderr.String(); s != "" {
		t.Logf("stderr: %s", s)
	}
}

// TestKernelKill runs the built CLI on the real kernel (root; skips
// otherwise, fails under LINUXAUDIT_REQUIRE_KERNEL=1): with --kernel it
// installs the built-in kill rules, prints the line of a kill the test
// makes (the test kills a sleep it started) as it happens, and on SIGINT
// exits 0 with the audit rules (and the audit daemon pid) as they were.
func TestKernelKill(t *testing.T) {
	audittest.Require(t)
	before := audittest.Auditctl(t, "-l")
	beforePid := audittest.Status(t)["pid"]
	k := startKernel(t, "--format=text")
	if rules := audittest.Auditctl(t, "-l"); !strings.Contains(rules, "-S kill ") || !strings.Contains(rules, "key=kill") {
		t.Errorf("the kill rules are not installed:\n%s", rules)
	}
	line := k.killSleeper(t, nil)
	host, _ := os.Hostname()
	lineRE := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ` + regexp.QuoteMeta(host) + ` pid \d+ `)
	if !lineRE.MatchString(line) {
		t.Errorf("line %q: want local time, host %q, summary", line, host)
	}
	k.interrupt(t)
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules left behind: before\n%s\nafter\n%s", before, after)
	}
	if p := audittest.Status(t)["pid"]; p != beforePid {
		t.Errorf("audit daemon pid %d after, %d before", p, beforePid)
	}
}

// TestKernelUnit: --kernel --unit prints the kill of a process in a
// cgroup named like a systemd service (its unit learned from /proc while
// it lived) and not the kill of one outside it.
func TestKernelUnit(t *testing.T) {
	audittest.Require(t)
	before := audittest.Auditctl(t, "-l")
	unit := fmt.Sprintf("la-cli-test-%d.service", os.Getpid())
	u := audittest.UnitCgroup(t, unit)
	k := startKernel(t, "--format=text", "--unit", strings.TrimSuffix(unit, ".service"))
	// The sleep starts inside the unit, as systemd starts a service's
	// processes: the process events connector sees it there at its exec.
	line := k.killCommand(t, func() *exec.Cmd { return u.Command(nil, "sleep", "30") }, func(pid int) {
		if cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); !strings.Contains(string(cg), unit) {
			time.Sleep(100 * time.Millisecond) // the wrapper moves itself in, then execs
		}
		time.Sleep(300 * time.Millisecond)
	})
	if !strings.Contains(line, "unit "+unit) {
		t.Errorf("line does not name the target's unit: %s", line)
	}
	// A kill outside the unit prints nothing.
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(other.Process.Pid, syscall.SIGTERM)
	other.Wait()
	time.Sleep(time.Second)
	for done := false; !done; {
		select {
		case l := <-k.lines:
			if strings.Contains(l, fmt.Sprintf("to pid %d ", other.Process.Pid)) {
				t.Errorf("kill outside the unit printed: %s", l)
			}
		default:
			done = true
		}
	}
	k.interrupt(t)
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules left behind: before\n%s\nafter\n%s", before, after)
	}
}
