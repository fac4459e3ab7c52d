package enrich

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// FuzzEnrich feeds arbitrary log text through parser, correlator and
// enricher: no panic, and every document is one valid JSON object whose
// msgpack form is well formed too.
func FuzzEnrich(f *testing.F) {
	for _, name := range []string{corpus.Seed, corpus.Kills, corpus.Files} {
		f.Add(corpus.Bytes(name))
	}
	lines := corpus.Lines(corpus.Enriched)
	for i := 0; i+8 < len(lines) && i < 400; i += 40 {
		f.Add(bytes.Join(lines[i:i+8], []byte{'\n'}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, schema := range []string{"default", "ecs"} {
			e, err := New(Config{Schema: schema, Raw: true, AncestryDepth: 4})
			if err != nil {
				t.Fatal(err)
			}
			var doc encode.Document
			var buf []byte
			c := parser.NewCorrelator(parser.Config{MaxInFlight: 64}, func(ev *parser.Event) {
				if !e.Enrich(ev, &doc) {
					return
				}
				buf = doc.AppendJSON(buf[:0])
				if !json.Valid(buf) || bytes.IndexByte(buf, '\n') >= 0 {
					t.Fatalf("invalid JSON document: %q", buf)
				}
				doc.AppendFluentBit(nil)
			})
			var r parser.Record
			for _, l := range bytes.Split(data, []byte{'\n'}) {
				if parser.Parse(l, &r) == nil {
					c.Add(&r)
				}
			}
			c.Flush()
		}
	})
}
