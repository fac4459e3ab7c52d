package parser

import (
	"bytes"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

func benchLines(b *testing.B, name string) [][]byte {
	data := corpus.Repeat(name, 4)
	return bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
}

// BenchmarkParse measures Parse alone over the real corpus.
func BenchmarkParse(b *testing.B) {
	for _, name := range []string{corpus.Enriched, corpus.NodeRaw} {
		b.Run(name, func(b *testing.B) {
			lines := benchLines(b, name)
			var r Record
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				for _, l := range lines {
					Parse(l, &r)
				}
				n += len(lines)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
		})
	}
}

// BenchmarkParseCorrelate measures Parse then the correlator.
func BenchmarkParseCorrelate(b *testing.B) {
	for _, name := range []string{corpus.Enriched, corpus.NodeRaw} {
		b.Run(name, func(b *testing.B) {
			lines := benchLines(b, name)
			var r Record
			events := 0
			c := NewCorrelator(Config{}, func(*Event) { events++ })
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				for _, l := range lines {
					if Parse(l, &r) == nil {
						c.Add(&r)
					}
				}
				c.Flush()
				n += len(lines)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lines/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/line")
		})
	}
}
