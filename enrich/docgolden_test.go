package enrich

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// update rewrites the golden documents: go test ./enrich -run TestGoldenDocuments -update
var update = flag.Bool("update", false, "rewrite testdata/golden/*.jsonl from the current output")

// goldenInputs are the logs whose documents are pinned: the real-kernel
// logs in full and slices of the shared corpus that keep every shape of
// event (record types and syscall) a few times.
func goldenInputs() map[string][]byte {
	return map[string][]byte{
		"seed":           corpus.Bytes(corpus.Seed),
		"kills":          corpus.Bytes(corpus.Kills),
		"files":          corpus.Bytes(corpus.Files),
		"enriched-slice": shapeSlice(corpus.Bytes(corpus.Enriched), 3),
		"noderaw-slice":  shapeSlice(corpus.Bytes(corpus.NodeRaw), 3),
	}
}

// shapeSlice keeps the lines of the first n events of every shape (the
// record types in order and the SYSCALL's syscall= value), grouping lines
// by their node and audit(...) header with plain byte operations, so the
// selection does not depend on the code under test.
func shapeSlice(log []byte, n int) []byte {
	type ev struct {
		lines [][]byte
		shape []byte
	}
	var order []string
	evs := map[string]*ev{}
	for _, l := range bytes.Split(log, []byte("\n")) {
		i := bytes.Index(l, []byte("msg=audit("))
		if i < 0 {
			continue
		}
		j := bytes.IndexByte(l[i:], ')')
		if j < 0 {
			continue
		}
		id := string(l[:i]) // node= and type=
		if k := bytes.Index(l, []byte("type=")); k >= 0 {
			id = string(l[:k])
		}
		id += string(l[i : i+j])
		e := evs[id]
		if e == nil {
			e = &ev{}
			evs[id] = e
			order = append(order, id)
		}
		e.lines = append(e.lines, l)
		t := l[bytes.Index(l, []byte("type="))+5:]
		t = t[:bytes.IndexByte(t, ' ')]
		e.shape = append(append(e.shape, t...), ',')
		if bytes.Equal(t, []byte("SYSCALL")) {
			if k := bytes.Index(l, []byte(" syscall=")); k >= 0 {
				s := l[k+9:]
				if m := bytes.IndexByte(s, ' '); m >= 0 {
					s = s[:m]
				}
				e.shape = append(append(e.shape, s...), ',')
			}
		}
	}
	seen := map[string]int{}
	var keep []*ev
	for _, id := range order {
		e := evs[id]
		if seen[string(e.shape)] < n {
			seen[string(e.shape)]++
			keep = append(keep, e)
		}
	}
	// Original line order, so interleaving is kept as it was.
	kept := map[string]bool{}
	for _, e := range keep {
		for _, l := range e.lines {
			kept[string(l)] = true
		}
	}
	var out []byte
	for _, l := range bytes.Split(log, []byte("\n")) {
		if kept[string(l)] {
			out = append(append(out, l...), '\n')
		}
	}
	return out
}

// goldenDocs runs the enricher (fixed users and groups, no /proc) over log
// and returns its JSON lines.
func goldenDocs(t *testing.T, log []byte, schema string, full bool) []byte {
	t.Helper()
	e, err := New(Config{Schema: schema, EtcRoot: "testdata", Full: full})
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var doc encode.Document
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		if e.Enrich(ev, &doc) {
			out = append(doc.AppendJSON(out), '\n')
		}
	})
	var r parser.Record
	for _, l := range bytes.Split(log, []byte("\n")) {
		if parser.Parse(l, &r) == nil {
			c.Add(&r)
		}
	}
	c.Flush()
	return out
}

// TestGoldenDocuments pins every document of both schemas: a change to the
// output shows up as a diff of testdata/golden in review.
func TestGoldenDocuments(t *testing.T) {
	type pin struct {
		name, schema string
		full         bool
	}
	var pins []pin
	for name := range goldenInputs() {
		for _, schema := range []string{"default", "ecs"} {
			pins = append(pins, pin{name, schema, false})
			if name == "seed" || name == "kills" {
				pins = append(pins, pin{name, schema, true}) // the full form (full=true)
			}
		}
	}
	for _, p := range pins {
		name, schema := p.name, p.schema
		log := goldenInputs()[name]
		{
			got := goldenDocs(t, log, schema, p.full)
			form := schema
			if p.full {
				form += ".full"
			}
			path := filepath.Join("testdata", "golden", fmt.Sprintf("%s.%s.jsonl", name, form))
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./enrich -run TestGoldenDocuments -update)", err)
			}
			if !bytes.Equal(got, want) {
				gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w []byte
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if !bytes.Equal(g, w) {
						t.Errorf("%s: line %d differs (%d lines now, %d pinned)\n got: %s\nwant: %s\n(if intended: go test ./enrich -run TestGoldenDocuments -update)", path, i+1, len(gl), len(wl), g, w)
						break
					}
				}
			}
		}
	}
}

// The README shows the seed kill event in both schemas: those examples
// are the pinned documents, indented (-update rewrites them).
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := readme
	for _, ex := range []struct{ heading, golden string }{
		{"### Default schema", "seed.default.jsonl"},
		{"### ECS schema", "seed.ecs.jsonl"},
	} {
		g, err := os.ReadFile(filepath.Join("testdata", "golden", ex.golden))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, bytes.SplitN(g, []byte("\n"), 2)[0], "", "    "); err != nil {
			t.Fatal(err)
		}
		h := bytes.Index(out, []byte("\n"+ex.heading))
		if h < 0 {
			t.Fatalf("README has no %q section", ex.heading)
		}
		i := bytes.Index(out[h:], []byte("\n```json\n"))
		if i < 0 {
			t.Fatalf("README's %q section has no json example", ex.heading)
		}
		i += h + len("\n```json\n")
		j := bytes.Index(out[i:], []byte("\n```"))
		if j < 0 {
			t.Fatalf("README's %q example is not closed", ex.heading)
		}
		j += i
		if bytes.Equal(out[i:j], want.Bytes()) {
			continue
		}
		if !*update {
			t.Errorf("README's %s example is not %s (go test ./enrich -run TestREADMEExamples -update)", ex.heading, ex.golden)
			continue
		}
		out = append(append(append([]byte{}, out[:i]...), want.Bytes()...), out[j:]...)
	}
	if *update && !bytes.Equal(out, readme) {
		if err := os.WriteFile("../README.md", out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
