package enrich

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// fixedNames answers every id with a fixed name (no file, no NSS).
type fixedNames struct{}

func (fixedNames) User(id uint64) string {
	if id == 0 {
		return "root"
	}
	return ""
}
func (fixedNames) Group(id uint64) string { return fixedNames{}.User(id) }
func (fixedNames) UserID(name string) (uint64, bool) {
	return 0, name == "root"
}
func (fixedNames) GroupID(name string) (uint64, bool) { return fixedNames{}.UserID(name) }

// FuzzEnrich feeds arbitrary log text through parser, correlator and
// enricher, in both schemas, and checks what a consumer relies on: every
// event gives exactly one document (no filter is set), every document is
// one line of valid UTF-8 JSON with no key twice in an object, its raw
// array holds every record of its event (none lost), and its msgpack form
// is well formed, and no field has two JSON types across the documents
// of one input (Elasticsearch would reject one of them). Inputs are bounded (16 KiB, 256 lines) so the fuzzer
// keeps its rate.
func FuzzEnrich(f *testing.F) {
	for _, name := range []string{corpus.Seed, corpus.Kills, corpus.Files} {
		f.Add(corpus.Bytes(name))
	}
	lines := corpus.Lines(corpus.Enriched)
	for i := 0; i+8 < len(lines) && i < 400; i += 40 {
		f.Add(bytes.Join(lines[i:i+8], []byte{'\n'}))
	}
	f.Add([]byte("type=LOGIN msg=audit(1.000:1): pid=1 uid=0 old auid=1 new auid=2 old ses=1 new ses=2\ntype=USER_ACCT msg=audit(1.000:2): user pid=1 uid=0 msg='pam uid=5 acct=x : res=success'"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 || bytes.Count(data, []byte{'\n'}) > 256 {
			return
		}
		for _, schema := range []string{"default", "ecs"} {
			e, err := New(Config{Schema: schema, Raw: true, AncestryDepth: 4, Names: fixedNames{}, MaxProcs: 64,
				Watch: Watch{Units: []string{"fuzz.service"}}})
			if err != nil {
				t.Fatal(err)
			}
			var doc encode.Document
			var buf []byte
			events, docs := 0, 0
			types := map[string]string{} // path: JSON type, across the documents
			var conflict string
			c := parser.NewCorrelator(parser.Config{MaxInFlight: 64, Recent: 64}, func(ev *parser.Event) {
				events++
				if !e.Enrich(ev, &doc) {
					return
				}
				docs++
				buf = doc.AppendJSON(buf[:0])
				if !utf8.Valid(buf) || bytes.IndexByte(buf, '\n') >= 0 || !json.Valid(buf) {
					t.Fatalf("not one line of valid UTF-8 JSON: %q", buf)
				}
				if dups := doc.DuplicateKeys(); dups != nil {
					t.Fatalf("keys %v twice in %q", dups, buf)
				}
				// Every record of the event, in its raw array.
				if n := bytes.Count(buf, []byte(`"type=`)) + bytes.Count(buf, []byte(`"node=`)) + bytes.Count(buf, []byte(`"host=`)); n < len(ev.Records) && ev.Records[0].Type != parser.TypeUnparsed {
					t.Fatalf("%d records in the event, %d raw lines in the document: %q", len(ev.Records), n, buf)
				}
				doc.Fields(func(path, kind string) {
					if kind == "null" {
						return
					}
					if k, ok := types[path]; !ok {
						types[path] = kind
					} else if k != kind && conflict == "" {
						conflict = path + " is " + k + " and " + kind + " in " + string(buf)
					}
				})
				if conflict != "" {
					t.Fatalf("%s: %s", schema, conflict)
				}
				doc.AppendFluentBit(nil)
			})
			var r parser.Record
			for _, l := range bytes.Split(data, []byte{'\n'}) {
				if err := parser.Parse(l, &r); err == nil {
					c.Add(&r)
				} else if err != parser.ErrEmpty {
					c.Unparsed(l, parser.NoPos)
				}
			}
			c.Flush()
			if docs != events {
				t.Fatalf("%s: %d events, %d documents", schema, events, docs)
			}
			// A watched process whose name, command line and cgroup are
			// the input, OOM-killed: its documents are valid too.
			if len(data) > 0 {
				t0 := time.Unix(1700000000, 0)
				half := data[:len(data)/2]
				e.Process(&ProcEvent{Kind: ProcExec, Time: t0, PID: 4242, HasProc: true, Comm: half, Exe: data, Argv: data,
					Cgroup: append([]byte("0::/system.slice/fuzz.service\n"), half...), UID: 0})
				e.OOM(&OOMKill{Time: t0, PID: 4242, Comm: string(half), OOMMemcg: string(data), Constraint: string(half)})
				e.Process(&ProcEvent{Kind: ProcExit, Time: t0, PID: 4242, ExitSig: 9})
				for e.Pending(t0.Add(time.Hour), &doc) {
					buf = doc.AppendJSON(buf[:0])
					if !utf8.Valid(buf) || !json.Valid(buf) || doc.DuplicateKeys() != nil {
						t.Fatalf("death document: %q", buf)
					}
				}
			}
		}
	})
}
