package pipeline

import (
	"bytes"
	"io"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// BenchmarkBatch measures the whole CLI path (parse, correlate, enrich,
// encode) over the real corpus, for both schemas and outputs.
func BenchmarkBatch(b *testing.B) {
	for _, bc := range []struct {
		name   string
		file   string
		schema string
		json   bool
		text   bool
		copies int
	}{
		{"enriched/default/json", corpus.Enriched, "default", true, false, 4},
		{"enriched/ecs/json", corpus.Enriched, "ecs", true, false, 4},
		{"enriched/default/msgpack", corpus.Enriched, "default", false, false, 4},
		{"enriched/text", corpus.Enriched, "default", false, true, 4},
		{"noderaw/default/json", corpus.NodeRaw, "default", true, false, 4},
		// the kill log (80 lines) repeated to about 4 corpus copies: kill
		// documents are the richest (targets, signals), the ratio to
		// ausearch the lowest
		{"kills/default/json", corpus.Kills, "default", true, false, 1584},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := corpus.Repeat(bc.file, bc.copies)
			lines := bytes.Count(data, []byte{'\n'})
			cfg := Default()
			cfg.Enrich.Schema, cfg.JSON, cfg.Proc = bc.schema, bc.json, "false"
			if bc.text {
				cfg.Format = "text"
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := NewBatch(cfg, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.ReadFrom(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				p.Close()
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(b.N*lines), "lines")
		})
	}
}
