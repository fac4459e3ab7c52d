package pipeline

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// BenchmarkLiveFile measures the plugin's pipeline (file source, msgpack,
// queue) with a consumer taking batches as fast as it can.
func BenchmarkLiveFile(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "audit.log")
	data := corpus.Repeat(corpus.Enriched, 8)
	os.WriteFile(path, data, 0o600)
	want := uint64(9351 * 8)
	for i := 0; i < b.N; i++ {
		cfg := Default()
		cfg.Path, cfg.ReadFromHead, cfg.Proc = path, true, "false"
		l, err := Start(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		got := uint64(0)
		for got < want {
			_, n := l.Take(32 << 20)
			if n == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			l.Ack()
			got += uint64(n)
		}
		l.Stop()
	}
	b.ReportMetric(float64(253392*b.N)/b.Elapsed().Seconds(), "lines/s")
}
