// Package audittest lets tests use the real kernel audit subsystem safely:
// one test process at a time (a file lock shared by every package's tests),
// the audit state found (enabled flag, daemon, rules) restored afterwards,
// and a clear skip (or failure under LINUXAUDIT_REQUIRE_KERNEL=1, as in CI)
// where the machine cannot do it.
package audittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// LockPath is the file every kernel-touching test locks first.
const LockPath = "/run/lock/linuxaudit-tests.lock"

// Require skips the test (or fails it when LINUXAUDIT_REQUIRE_KERNEL=1)
// unless we are root with auditctl installed and the audit netlink usable.
// On success it takes the global test lock and registers restoration of
// the enabled flag.
func Require(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	} else if _, err := exec.LookPath("auditctl"); err != nil {
		why = "auditctl not installed (apt-get install auditd)"
	} else if out, err := exec.Command("auditctl", "-s").CombinedOutput(); err != nil {
		why = "audit netlink unusable: " + strings.TrimSpace(string(out))
	}
	if why != "" {
		if os.Getenv("LINUXAUDIT_REQUIRE_KERNEL") == "1" {
			t.Fatalf("real-kernel test cannot run: %s (LINUXAUDIT_REQUIRE_KERNEL=1)", why)
		}
		t.Skipf("SKIP real-kernel test: %s", why)
	}
	lock(t)
	st := Status(t)
	if st["enabled"] == 2 {
		t.Skip("SKIP: audit configuration is locked (enabled 2)")
	}
	if st["enabled"] == 0 {
		Auditctl(t, "-e", "1")
		t.Cleanup(func() { exec.Command("auditctl", "-e", "0").Run() })
	}
}

func lock(t testing.TB) {
	os.MkdirAll("/run/lock", 0o755)
	f, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatalf("audit test lock: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("audit test lock: %v", err)
	}
	t.Cleanup(func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() })
}

// Auditctl runs auditctl and fails the test on error.
func Auditctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("auditctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("auditctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Status returns `auditctl -s` as numbers (enabled, pid, lost, ...).
func Status(t testing.TB) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, l := range strings.Split(Auditctl(t, "-s"), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m
}

// Rule adds an audit rule (auditctl syntax starting with -a or -w) and
// removes exactly that rule when the test ends.
func Rule(t testing.TB, args ...string) {
	t.Helper()
	Auditctl(t, args...)
	del := append([]string(nil), args...)
	switch del[0] {
	case "-a", "-A":
		del[0] = "-d"
	case "-w":
		// -w PATH ... is removed with -W PATH ...
		del[0] = "-W"
	}
	t.Cleanup(func() {
		if out, err := exec.Command("auditctl", del...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "audittest: removing rule %v: %v %s\n", del, err, out)
		}
	})
}

// LogPath is where the system auditd writes (Debian default).
const LogPath = "/var/log/audit/audit.log"

// Auditd makes sure the system auditd is running and writing LogPath,
// starting it (and stopping it at the end) if it was not running.
func Auditd(t testing.TB) {
	t.Helper()
	if p := Status(t)["pid"]; p != 0 && syscall.Kill(int(p), 0) == nil {
		return
	}
	if _, err := exec.LookPath("auditd"); err != nil {
		t.Fatalf("auditd not installed")
	}
	out, err := exec.Command("auditd").CombinedOutput()
	if err != nil {
		t.Fatalf("starting auditd: %v %s", err, out)
	}
	var pid int64
	for i := 0; i < 100 && pid == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		pid = Status(t)["pid"]
	}
	if pid == 0 {
		t.Fatalf("auditd did not register with the kernel")
	}
	t.Cleanup(func() { StopAuditd(t, int(pid)) })
}

// StopAuditd stops the auditd with this pid (one we started) and waits
// until the kernel no longer points at it.
func StopAuditd(t testing.TB, pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := exec.Command("auditctl", "-s").Output()
	if bytes.Contains(out, []byte(fmt.Sprintf("pid %d\n", pid))) {
		exec.Command("auditctl", "--reset-pid").Run()
	}
}

// RemoveCollectorRules deletes the audit rules a collector with this pid
// installed (each carries the marker key linuxaudit:<pidns>:<pid>:<start>),
// for a test whose collector was killed before it could remove them, and
// returns how many marker keys it removed.
func RemoveCollectorRules(pid int) int {
	out, _ := exec.Command("auditctl", "-l").Output()
	seen := map[string]bool{}
	for _, f := range strings.Fields(string(out)) {
		k, ok := strings.CutPrefix(f, "key=")
		if !ok {
			continue
		}
		parts := strings.Split(k, ":")
		if len(parts) == 4 && parts[0] == "linuxaudit" && parts[2] == strconv.Itoa(pid) && !seen[k] {
			seen[k] = true
			exec.Command("auditctl", "-D", "-k", k).Run()
		}
	}
	return len(seen)
}
