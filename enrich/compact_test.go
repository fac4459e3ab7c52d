package enrich

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// flatPairs flattens a decoded document into "path=value" pairs, array
// indices left out, with their counts.
func flatPairs(prefix string, v any, out map[string]int) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatPairs(p, c, out)
		}
	case []any:
		for _, c := range x {
			flatPairs(prefix, c, out)
		}
	default:
		out[prefix+"="+fmt.Sprint(x)]++
	}
}

// compactOmits are the fields the compact form may leave out (the full
// form's), as path patterns: each is said by another field or is the
// record's "none" (see Config.Full and saysNothing).
var compactOmits = []string{
	"event.time", "event.msec", "event.serial", "event.records", "event.category",
	"syscall.success", "syscall.items", "syscall.exit", "syscall.a[0-3]",
	"process.e*", "process.s*", "process.fs*", "process.args", "process.tty", "process.auid",
	"process.parent.*", "process.ancestors.*",
	"target.first.*", "target.pid_arg", "target.count", "target.scope", "target.processes.auid",
	"signal.syscall", "signal.nr", "exec.args", "exec.argc",
	"file.name", "file.item", "file.nametype", "file.mode", "file.items.*",
	"data.path.cap_*", "data.path.rdev", "data.path.item", "data.path.nametype",
	"data.bprm_fcaps.*", "data.*.ses", "data.*.auid", "data.*.res", "data.*.hostname", "data.*.addr", "data.*.terminal",
	// ECS: ours beside Elastic's
	"event.sequence", "auditd.summary_text", "process.command_line", "process.args",
	"auditd.target.auid", "auditd.target.processes.auid", "auditd.target.count", "auditd.target.scope",
}

func omittable(p string) bool {
	for _, pat := range compactOmits {
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
		if strings.HasSuffix(pat, ".*") && strings.HasPrefix(p, strings.TrimSuffix(pat, "*")) {
			return true
		}
	}
	return false
}

// The compact form says nothing the full form does not (every field and
// value of a compact document is in its full document), and leaves out
// only the fields it documents: nothing else is lost, in either schema,
// over the real-kernel logs and the shared corpus.
func TestCompactIsASubset(t *testing.T) {
	for _, schema := range []string{"default", "ecs"} {
		enr := map[bool]*Enricher{}
		for _, full := range []bool{false, true} {
			e, err := New(Config{Schema: schema, EtcRoot: "testdata", Full: full})
			if err != nil {
				t.Fatal(err)
			}
			enr[full] = e
		}
		var docs [2]encode.Document
		events, leftOut := 0, map[string]int{}
		c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
			var pairs [2]map[string]int
			for i, full := range []bool{false, true} {
				if !enr[full].Enrich(ev, &docs[i]) {
					return
				}
				var m map[string]any
				if err := json.Unmarshal(docs[i].AppendJSON(nil), &m); err != nil {
					t.Fatal(err)
				}
				pairs[i] = map[string]int{}
				flatPairs("", m, pairs[i])
			}
			events++
			for kv, n := range pairs[0] {
				if pairs[1][kv] < n {
					t.Fatalf("%s: the compact document has %q (%d times), the full one does not (%d): %s", schema, kv, n, pairs[1][kv], docs[0].AppendJSON(nil))
				}
			}
			for kv, n := range pairs[1] {
				if pairs[0][kv] < n {
					p := kv[:strings.IndexByte(kv, '=')]
					if !omittable(p) {
						t.Fatalf("%s: the compact form lost %q, which it does not document leaving out: %s", schema, kv, docs[0].AppendJSON(nil))
					}
					leftOut[p]++
				}
			}
		})
		var r parser.Record
		for _, name := range []string{corpus.Seed, corpus.Kills, corpus.Files, corpus.Enriched} {
			for _, l := range corpus.Lines(name) {
				if parser.Parse(l, &r) == nil {
					c.Add(&r)
				}
			}
		}
		c.Flush()
		var ps []string
		for p := range leftOut {
			ps = append(ps, p)
		}
		sort.Strings(ps)
		t.Logf("%s: %d events; fields left out: %s", schema, events, strings.Join(ps, " "))
	}
}

// Bytes per event on the real corpus (31,674 lines, 9,351 events): the
// compact default schema is at most laurel's output for the same log
// (1,002 bytes per event, laurel 0.22 with its default translations and
// enrichments, measured by scripts/compare.sh), ECS at most 1,700 (it
// keeps every field of Auditbeat's documents).
func TestDocumentSize(t *testing.T) {
	for _, c := range []struct {
		schema string
		max    int
	}{{"default", 1002}, {"ecs", 1700}} {
		e, err := New(Config{Schema: c.schema, EtcRoot: "testdata"})
		if err != nil {
			t.Fatal(err)
		}
		var doc encode.Document
		var buf []byte
		n, bytes := 0, 0
		corr := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
			if e.Enrich(ev, &doc) {
				buf = doc.AppendJSON(buf[:0])
				n++
				bytes += len(buf) + 1
			}
		})
		var r parser.Record
		for _, l := range corpus.Lines(corpus.Enriched) {
			if parser.Parse(l, &r) == nil {
				corr.Add(&r)
			}
		}
		corr.Flush()
		t.Logf("%s: %d documents, %d bytes per event", c.schema, n, bytes/n)
		if bytes/n > c.max {
			t.Errorf("%s: %d bytes per event, want at most %d", c.schema, bytes/n, c.max)
		}
	}
}
