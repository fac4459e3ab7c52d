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

// TestLiveUnitAfterDeath kills, on the real kernel, a process placed in a
// cgroup named like a systemd service, and checks the document names the
// dead target's unit and command line (learned from /proc before the
// kill), read through auditd's log by the file source.
func TestLiveUnitAfterDeath(t *testing.T) {
	audittest.Require(t)
	audittest.Auditd(t)
	key := fmt.Sprintf("la_unit_%d", os.Getpid())
	audittest.Rule(t, "-a", "always,exit", "-F", "arch=b64", "-S", "kill", "-F", "key="+key)

	unit := fmt.Sprintf("la-test-%d.service", os.Getpid())
	var cgdirs []string
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			continue
		}
		dir := filepath.Join(root, "system.slice", unit)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			cgdirs = append(cgdirs, dir)
		}
	}
	if len(cgdirs) == 0 {
		t.Skip("SKIP: no writable cgroup hierarchy")
	}
	t.Cleanup(func() {
		for _, d := range cgdirs {
			os.Remove(d)
		}
	})

	cfg := Default()
	cfg.Path = audittest.LogPath
	cfg.Proc = "true"
	// The fallback without the process events connector: the /proc
	// rescan (every 2 s) sees the target after its move into the unit
	// (TestDeathsOnTheKernel covers the connector).
	cfg.ProcEvents, cfg.Kmsg = "false", "false"
	cfg.Enrich.IncludeKeys = []string{key}
	l, err := Start(cfg, audittest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()

	target := exec.Command("sleep", "30")
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	pid := target.Process.Pid
	defer target.Process.Kill()
	for _, d := range cgdirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Logf("moving %d into %s: %v", pid, d, err)
		}
	}
	cg, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if !strings.Contains(string(cg), unit) {
		t.Fatalf("target not in the cgroup: %s", cg)
	}
	// Let the pipeline's /proc scan (every 2 s) see the target alive.
	time.Sleep(2500 * time.Millisecond)
	killer := exec.Command("sh", "-c", "kill -TERM "+strconv.Itoa(pid))
	if out, err := killer.CombinedOutput(); err != nil {
		t.Fatalf("kill: %v %s", err, out)
	}
	target.Wait()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Fatal("target still alive")
	}

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, n := l.Take(1 << 20)
		if n == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		recs := audittest.DecodeEntries(t, b)
		for _, r := range recs {
			t.Logf("record: %v", r["summary"])
		}
		l.Ack()
		for _, r := range recs {
			tg, _ := r["target"].(map[string]any)
			ps, _ := tg["processes"].([]any)
			if len(ps) == 0 {
				continue
			}
			p := ps[0].(map[string]any)
			if fmt.Sprint(p["pid"]) != strconv.Itoa(pid) {
				continue
			}
			if p["unit"] != unit || p["cmdline"] != "sleep 30" {
				t.Fatalf("target without unit/cmdline after death: %v", p)
			}
			sig, _ := r["signal"].(map[string]any)
			if sig["name"] != "SIGTERM" {
				t.Fatalf("signal: %v", sig)
			}
			t.Logf("summary: %v", r["summary"])
			if !strings.Contains(fmt.Sprint(r["summary"]), "unit "+unit) {
				t.Errorf("summary does not name the unit: %v", r["summary"])
			}
			return
		}
	}
	t.Fatalf("no kill event for pid %d within 10s (stats %+v)", pid, l.Stats())
}
