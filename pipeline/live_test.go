package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// entries returns the event ids of a batch of Fluent Bit entries.
func entries(t testing.TB, b []byte) []string {
	t.Helper()
	var ids []string
	for _, r := range audittest.DecodeEntries(t, b) {
		ids = append(ids, audittest.Field(r, "event.id"))
	}
	return ids
}

func startFile(t *testing.T, path, db string) *Live { return startWorkers(t, path, db, "auto") }

// startWorkers is startFile with the workers key.
func startWorkers(t *testing.T, path, db, workers string) *Live {
	cfg := Default()
	cfg.Path, cfg.DB, cfg.ReadFromHead, cfg.Proc, cfg.Workers = path, db, true, "false", workers
	l, err := Start(cfg, audittest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// drain takes batches until want ids arrived or the timeout passes.
func drain(t *testing.T, l *Live, seen map[string]int, want int, limit int) int {
	got := 0
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) && len(seen) < want && (limit == 0 || got < limit) {
		b, n := l.Take(256 << 10)
		if n == 0 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		for _, id := range entries(t, b) {
			seen[id]++
			got++
		}
		l.Ack()
	}
	return got
}

// TestLiveFileCorpus and TestLiveFileRestart run with one worker (auto's
// choice for a file) and with two.
func TestLiveFileCorpus(t *testing.T) {
	for _, w := range []string{"1", "2"} {
		t.Run("workers="+w, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			os.WriteFile(path, corpus.Bytes(corpus.Enriched), 0o600)
			l := startWorkers(t, path, "", w)
			seen := map[string]int{}
			drain(t, l, seen, 9351, 0)
			want := 1
			if w == "2" && runtime.GOMAXPROCS(0) > 1 {
				want = 2
			}
			if got := l.Stats().Workers; got != want {
				t.Errorf("stats say %d workers, want %d", got, want)
			}
			l.Stop()
			if len(seen) != 9351 {
				t.Fatalf("%d events, want 9351", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("event %s delivered %d times", id, n)
				}
			}
		})
	}
}

// TestLiveFileRestart stops the pipeline in the middle of the corpus and
// starts it again from its offsets file: every event exactly once.
func TestLiveFileRestart(t *testing.T) {
	for _, w := range []string{"1", "2"} {
		t.Run("workers="+w, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "audit.log")
			db := filepath.Join(dir, "offsets.db")
			os.WriteFile(path, corpus.Bytes(corpus.Enriched), 0o600)
			seen := map[string]int{}
			for round := 0; round < 4 && len(seen) < 9351; round++ {
				l := startWorkers(t, path, db, w)
				drain(t, l, seen, 9351, 2500)
				// Stop right after the last acknowledgement: Stop itself
				// must save what was delivered.
				l.Stop()
			}
			if len(seen) != 9351 {
				t.Fatalf("%d events after restarts, want 9351", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("event %s delivered %d times across restarts", id, n)
				}
			}
		})
	}
}

// TestLiveStatsRecord: with stats_record the statistics arrive as records.
func TestLiveStatsRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, corpus.Bytes(corpus.Seed), 0o600)
	cfg := Default()
	cfg.Path, cfg.ReadFromHead, cfg.Proc = path, true, "false"
	cfg.StatsInterval, cfg.StatsRecord = time.Second, true
	l, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, n := l.Take(1 << 20)
		if n == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		for _, r := range audittest.DecodeEntries(t, b) {
			ev, _ := r["event"].(map[string]any)
			if ev["kind"] == "stats" {
				st := r["stats"].(map[string]any)
				if fmt.Sprint(st["events"]) != "1" || fmt.Sprint(st["lines"]) != "3" {
					t.Fatalf("stats record: %v", st)
				}
				return
			}
		}
		l.Ack()
	}
	t.Fatal("no stats record")
}
