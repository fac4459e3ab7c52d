package pipeline

import (
	"fmt"
	"os"
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
	l, err := Start(cfg, audittest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop() })
	return l, key
}

// waiter waits for a record of l (audittest.Wait).
func waiter(l *Live) audittest.Wait {
	return func(t testing.TB, timeout time.Duration, match func(map[string]any) bool) (map[string]any, time.Time) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for time.Now().Before(deadline) {
			b, n := l.Take(1 << 20)
			if n == 0 {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			recs := audittest.DecodeEntries(t, b)
			l.Ack()
			for _, r := range recs {
				if match(r) {
					return r, time.Now()
				}
				t.Logf("other record: %s", audittest.Field(r, "summary"))
			}
		}
		t.Fatalf("no matching record within %v (stats %+v)", timeout, l.Stats())
		return nil, time.Time{}
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
	w := waiter(l)
	audittest.SeedKill(t, w, key)
	audittest.FailedKill(t, w)
	audittest.GroupKill(t, w)
	audittest.Kill32(t, w)
	l.Stop()
	if got := audittest.Status(t)["pid"]; got != 0 {
		t.Fatalf("audit pid %d after stop, want 0", got)
	}
}

func TestKernelMulticastSeed(t *testing.T) {
	audittest.Require(t)
	audittest.Auditd(t)
	l, key := kernelRun(t, "multicast")
	audittest.SeedKill(t, waiter(l), key)
}
