package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
)

// TestProcEventsCost measures what following processes costs the whole
// live pipeline (connector reader, /proc read at each exec, hand-over,
// process table) at a high exec rate: a helper spawns /bin/true 2,000
// times a second for 3 s while the pipeline tails an idle log with
// proc_events on. It reports the CPU this process used per second of
// load (1.0 = one core), the peak RSS and the table's size, and fails
// only when the table outgrows its bound or events were dropped on the way
// to the enricher.
func TestProcEventsCost(t *testing.T) {
	audittest.NeedRoot(t)
	audittest.Exclusive(t)
	bin := audittest.BuildC(t, "spawn", audittest.SpawnC)
	logPath := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(logPath, nil, 0o644)
	cfg := Default()
	cfg.Path, cfg.Proc, cfg.ProcEvents, cfg.Kmsg = logPath, "true", "true", "false"
	cfg.Enrich.MaxProcs = 4096
	l, err := Start(cfg, audittest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	time.Sleep(300 * time.Millisecond) // the first /proc scan
	rssBefore := audittest.StatusKB("VmRSS")
	cpu0 := audittest.CPUSeconds()
	start := time.Now()
	sp := audittest.Spawn(t, bin, 2000, 3)
	if err := sp.Cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the last events drained
	wall := time.Since(start).Seconds()
	cpu := audittest.CPUSeconds() - cpu0
	var spawned, failed int
	var elapsed float64
	fmt.Sscan(sp.Out.String(), &spawned, &failed, &elapsed)
	st := l.Stats()
	pe, _ := st.Lifecycle["proc_events"].(map[string]any)
	t.Logf("%d execs in %.2f s (%.0f/s): pipeline CPU %.3f s = %.3f of a core per second of load, %.1f µs per exec; RSS %d kB -> %d kB (peak %d kB); process table %d entries (bound 4096); connector %v",
		spawned, elapsed, float64(spawned)/elapsed, cpu, cpu/wall, cpu/float64(max(spawned, 1))*1e6,
		rssBefore, audittest.StatusKB("VmRSS"), audittest.StatusKB("VmHWM"), st.Enrich.Processes, pe)
	if st.Enrich.Processes > 4096 {
		t.Errorf("process table %d entries, bound 4096", st.Enrich.Processes)
	}
	if d, _ := pe["queue_dropped"].(uint64); d > 0 {
		t.Errorf("%d process events dropped before the enricher", d)
	}
	if e, _ := pe["exec"].(uint64); e < uint64(spawned) {
		t.Errorf("%d exec events for %d execs", e, spawned)
	}
}
