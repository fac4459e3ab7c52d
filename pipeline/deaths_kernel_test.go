package pipeline

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/audittest"
)

// TestDeathsOnTheKernel runs the death scenarios through the live
// pipeline on the real kernel: the kernel source with the built-in kill
// rules, the process events connector, /dev/kmsg, a watched unit.
func TestDeathsOnTheKernel(t *testing.T) {
	audittest.Require(t)
	unit := audittest.UnitCgroup(t, fmt.Sprintf("la-watch-%d.service", os.Getpid()))
	cfg := Default()
	cfg.Source = "kernel"
	cfg.KernelKillRules = true
	cfg.ProcEvents, cfg.Kmsg = "true", "true"
	cfg.Enrich.Watch.Units = []string{unit.Name}
	log, lines := audittest.Capture()
	l, err := Start(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	if s := strings.Join(lines(), "\n"); !strings.Contains(s, "process events connector: following") || !strings.Contains(s, "reading OOM kills from /dev/kmsg") {
		t.Errorf("start did not say what it follows:\n%s", s)
	}
	wait := waiter(l)
	t.Run("ShortLivedTargets", func(t *testing.T) { audittest.ShortLivedTargets(t, wait) })
	t.Run("OOMKill", func(t *testing.T) { audittest.OOMKill(t, wait) })
	t.Run("Crashes", func(t *testing.T) { audittest.Crashes(t, wait) })
	t.Run("WatchedUnit", func(t *testing.T) { audittest.WatchedUnit(t, wait, unit) })
	t.Logf("stats: %+v", l.Stats())
}

// TestKubernetesNamesOnTheKernel: kills between two containers of a pod
// (kubepods cgroups, the kubelet's files in a temporary root) name the
// caller and the target, alive and dead, by pod, namespace and container.
func TestKubernetesNamesOnTheKernel(t *testing.T) {
	audittest.Require(t)
	node := audittest.NewKubeNode(t)
	cfg := Default()
	cfg.Source = "kernel"
	cfg.KernelKillRules = true
	cfg.Enrich.ContainersRoot = node.Root
	l, err := Start(cfg, audittest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	audittest.KubeKills(t, waiter(l), node)
}
