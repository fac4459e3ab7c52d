package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
)

// TestRealFluentBitShortLivedTargets runs the first death scenario (five
// targets each killed 0.3 s after its start, no exec rule) through a real
// Fluent Bit: the kernel source with the built-in kill rules and the
// process events connector, records to a file output. It skips when no
// fluent-bit is found (set FLUENT_BIT or put one on PATH; CI has none).
func TestRealFluentBitShortLivedTargets(t *testing.T) {
	fbs := fluentBits(t)
	if len(fbs) == 0 {
		t.Skip("SKIP: no fluent-bit found (" + fbGlob() + ", PATH, $FLUENT_BIT): the C host test TestKernelDeathsThroughPlugin covers the plugin")
	}
	requireFileSource(t)
	audittest.Require(t)
	for _, fb := range fbs {
		t.Run(fb.version, func(t *testing.T) { shortLivedInFluentBit(t, fb.path) })
	}
}

func shortLivedInFluentBit(t *testing.T, fb string) {
	so, _ := build(t)
	rulesBefore := audittest.Auditctl(t, "-l")
	outDir := t.TempDir()
	cmd := exec.Command(fb, "-e", so,
		"-i", "linux_audit", "-p", "source=kernel", "-p", "kernel_kill_rules=true", "-p", "proc_events=true", "-t", "audit",
		"-o", "file", "-m", "audit", "-p", "path="+outDir, "-p", "file=records.json", "-p", "format=plain", "-f", "1")
	var output audittest.SyncBuffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	kernelCleanup(t, "kill", nil, func() int { return cmd.Process.Pid })
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(output.String(), "process events connector: following") {
		if time.Now().After(deadline) {
			t.Fatalf("fluent-bit did not start the plugin with the connector\n%s", tail(output.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	f := &follower{path: filepath.Join(outDir, "records.json"), plain: true}
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.path)
			t.Logf("fluent-bit:\n%s\nrecords: %s", tail(output.String()), b)
		}
	}()
	audittest.ShortLivedTargets(t, f.wait)

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("fluent-bit exit: %v\n%s", err, tail(output.String()))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("fluent-bit did not exit within 30 s of SIGTERM")
	}
	if after := audittest.Auditctl(t, "-l"); after != rulesBefore {
		t.Errorf("audit rules after fluent-bit exited:\n%s\nbefore:\n%s", after, rulesBefore)
	}
	if out := output.String(); !strings.Contains(out, "final stats {") {
		t.Errorf("no final stats line\n%s", tail(out))
	}
	t.Logf("fluent-bit: %s", strings.TrimSpace(firstLine(output.String(), "Fluent Bit v")))
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, prefix) {
			return l
		}
	}
	return ""
}
