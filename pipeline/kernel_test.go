package pipeline

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
)

// kernelRun starts the pipeline on the kernel source with a kill rule
// under a unique key and returns it with the key.
func kernelRun(t *testing.T, mode string) (*Live, string) {
	key := fmt.Sprintf("la_k_%d_%s", os.Getpid(), mode)
	cfg := Default()
	cfg.Source, cfg.KernelMode, cfg.Proc = "kernel", mode, "true"
	cfg.KernelRules = []string{
		"-a always,exit -F arch=b64 -S kill -k " + key,
		"-a always,exit -F arch=b32 -S kill -k " + key,
	}
	l, err := Start(cfg, func(level int, msg string) { t.Logf("[%d] %s", level, msg) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	return l, key
}

// waitRecord takes batches until match returns true for a record or the
// timeout passes.
func waitRecord(t *testing.T, l *Live, timeout time.Duration, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b, n := l.Take(1 << 20)
		if n == 0 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		recs := decodeRecords(t, b)
		l.Ack()
		for _, r := range recs {
			if match(r) {
				return r
			}
			t.Logf("other record: %s", field(r, "summary"))
		}
	}
	t.Fatalf("no matching record within %v (stats %+v)", timeout, l.Stats())
	return nil
}

func field(m map[string]any, path string) string {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, _ := strconv.Atoi(p)
			if i >= len(c) {
				return "<nil>"
			}
			cur = c[i]
		default:
			return "<nil>"
		}
	}
	if cur == nil {
		return "<nil>"
	}
	return fmt.Sprint(cur)
}

// seedScenario reproduces the article's kill: a loop script in the
// background, another script that kill -9s it.
func seedScenario(t *testing.T, l *Live, key string) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "loop.sh"), []byte("while :; do sleep 1; done\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "xdkill.sh"), []byte("kill -9 $1\n"), 0o755)
	loop := exec.Command("sh", "loop.sh")
	loop.Dir = dir
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	defer loop.Process.Kill()
	target := loop.Process.Pid
	time.Sleep(2500 * time.Millisecond) // the /proc scan sees the loop alive
	killer := exec.Command("sh", "xdkill.sh", strconv.Itoa(target))
	killer.Dir = dir
	start := time.Now()
	if err := killer.Start(); err != nil {
		t.Fatal(err)
	}
	killerPid := killer.Process.Pid
	killer.Wait()
	loop.Wait()
	r := waitRecord(t, l, 2*time.Second, func(r map[string]any) bool {
		return field(r, "target.processes.0.pid") == strconv.Itoa(target)
	})
	t.Logf("record after %v: %s", time.Since(start), field(r, "summary"))
	for path, want := range map[string]string{
		"process.pid":                strconv.Itoa(killerPid),
		"process.cmdline":            "sh xdkill.sh " + strconv.Itoa(target),
		"process.exe":                "/usr/bin/dash",
		"process.user":               "root",
		"process.ppid":               strconv.Itoa(os.Getpid()),
		"process.parent.pid":         strconv.Itoa(os.Getpid()),
		"signal.name":                "SIGKILL",
		"target.processes.0.comm":    "sh",
		"target.processes.0.cmdline": "sh loop.sh",
		"key.0":                      key,
		"event.outcome":              "success",
	} {
		if got := field(r, path); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if field(r, "process.parent.cmdline") == "<nil>" || field(r, "process.parent.exe") == "<nil>" {
		t.Errorf("parent without command line or exe: %v", r["process"])
	}
}

func TestKernelUnicastSeed(t *testing.T) {
	audittest.Require(t)
	if p := audittest.Status(t)["pid"]; p != 0 {
		t.Skipf("SKIP: an audit daemon (pid %d) is registered; unicast needs it stopped", p)
	}
	l, key := kernelRun(t, "unicast")
	if got := audittest.Status(t)["pid"]; got != int64(os.Getpid()) {
		t.Fatalf("audit pid %d, want ours %d", got, os.Getpid())
	}
	seedScenario(t, l, key)
	failedKill(t, l)
	groupKill(t, l)
	kill32(t, l)
	l.Stop()
	if got := audittest.Status(t)["pid"]; got != 0 {
		t.Fatalf("audit pid %d after stop, want 0", got)
	}
}

func TestKernelMulticastSeed(t *testing.T) {
	audittest.Require(t)
	audittest.Auditd(t)
	l, key := kernelRun(t, "multicast")
	seedScenario(t, l, key)
}

// failedKill: an unprivileged user's kill of a root process (EPERM).
func failedKill(t *testing.T, l *Live) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Log("setpriv missing: EPERM case skipped")
		return
	}
	victim := exec.Command("sleep", "30")
	victim.Start()
	defer func() { victim.Process.Kill(); victim.Wait() }()
	pid := strconv.Itoa(victim.Process.Pid)
	out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/kill", "-TERM", pid).CombinedOutput()
	t.Logf("unprivileged kill: %v %s", err, out)
	r := waitRecord(t, l, 8*time.Second, func(r map[string]any) bool {
		return field(r, "target.processes.0.pid") == pid || field(r, "target.pid_arg") == pid
	})
	if field(r, "syscall.errno") != "EPERM" || field(r, "process.user") != "nobody" || !strings.Contains(field(r, "summary"), "tried to send SIGTERM") {
		t.Errorf("failed kill: %s", field(r, "summary"))
	}
}

// groupKill: kill(-pgid) reaching several processes, one event.
func groupKill(t *testing.T, l *Live) {
	grp := exec.Command("setsid", "sh", "-c", "sleep 30 & sleep 30 & sleep 30 & wait")
	grp.Start()
	defer func() { grp.Process.Kill(); grp.Wait() }()
	time.Sleep(300 * time.Millisecond)
	pgid := grp.Process.Pid
	if out, err := exec.Command("/usr/bin/kill", "-TERM", "--", fmt.Sprintf("-%d", pgid)).CombinedOutput(); err != nil {
		t.Logf("group kill: %v %s", err, out)
	}
	r := waitRecord(t, l, 2*time.Second, func(r map[string]any) bool {
		return field(r, "target.pgid") == strconv.Itoa(pgid)
	})
	if field(r, "target.count") != "4" || field(r, "target.scope") != "process_group" {
		t.Errorf("group kill: count %s scope %s: %s", field(r, "target.count"), field(r, "target.scope"), field(r, "summary"))
	}
}

// kill32: a 32-bit caller (gcc -m32), if the toolchain can build one.
func kill32(t *testing.T, l *Live) {
	dir := t.TempDir()
	src := filepath.Join(dir, "k32.c")
	os.WriteFile(src, []byte("#include <signal.h>\n#include <stdlib.h>\nint main(int c, char **v){return kill(atoi(v[1]), SIGTERM);}\n"), 0o644)
	bin := filepath.Join(dir, "k32")
	if out, err := exec.Command("gcc", "-m32", "-o", bin, src).CombinedOutput(); err != nil {
		t.Logf("gcc -m32 unavailable (%v %s): 32-bit case skipped", err, out)
		return
	}
	victim := exec.Command("sleep", "30")
	victim.Start()
	defer func() { victim.Process.Kill(); victim.Wait() }()
	pid := strconv.Itoa(victim.Process.Pid)
	exec.Command(bin, pid).Run()
	r := waitRecord(t, l, 2*time.Second, func(r map[string]any) bool {
		return field(r, "target.processes.0.pid") == pid
	})
	if field(r, "syscall.arch") != "i386" || field(r, "syscall.name") != "kill" || field(r, "syscall.nr") != "37" || field(r, "signal.name") != "SIGTERM" {
		t.Errorf("32-bit kill: %v %v", r["syscall"], r["signal"])
	}
}
