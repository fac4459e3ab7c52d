package examples_test

// Types Elasticsearch can index: every field of a schema has one JSON type
// across all documents, and the index templates of examples/elasticsearch
// map every field the pipeline produces with a type that takes its values.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// fieldStat is what the documents put at one path.
type fieldStat struct {
	kinds   map[string]int // JSON type: string, integer, float, boolean, object
	neg     bool           // an integer below zero
	big     bool           // an integer past int64
	notInt  bool           // a string that is not an integer
	notIP   bool           // a string that is not an IP address
	notDate bool           // a string that is not an RFC 3339 time
	example map[string]string
	where   map[string]string // kind: the source it was first seen in
	values  map[string]int    // the first 256 distinct strings, with their counts
}

type fieldSet map[string]*fieldStat

func (s fieldSet) add(p string, v any, where string) {
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			s.add(p, e, where) // Elasticsearch flattens arrays
		}
		return
	}
	st := s[p]
	if st == nil {
		st = &fieldStat{kinds: map[string]int{}, example: map[string]string{}, where: map[string]string{}, values: map[string]int{}}
		s[p] = st
	}
	var kind string
	switch x := v.(type) {
	case nil:
		return
	case bool:
		kind = "boolean"
	case json.Number:
		kind = "integer"
		if _, err := strconv.ParseInt(string(x), 10, 64); err != nil {
			if u, err := strconv.ParseUint(string(x), 10, 64); err == nil && u > math.MaxInt64 {
				st.big = true
			} else {
				kind = "float"
			}
		}
		st.neg = st.neg || strings.HasPrefix(string(x), "-")
	case string:
		kind = "string"
		if _, ok := st.values[x]; ok || len(st.values) < 256 {
			st.values[x]++
		}
		if _, err := strconv.ParseInt(x, 10, 64); err != nil {
			st.notInt = true
		}
		if _, err := netip.ParseAddr(x); err != nil {
			st.notIP = true
		}
		if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
			st.notDate = true
		}
	case map[string]any:
		kind = "object"
		for k, c := range x {
			q := k
			if p != "" {
				q = p + "." + k
			}
			s.add(q, c, where)
		}
	}
	if p == "" {
		return
	}
	if st.kinds[kind] == 0 {
		ex := fmt.Sprint(v)
		if kind == "object" {
			ex = "{...}"
		}
		st.example[kind], st.where[kind] = ex[:min(len(ex), 60)], where
	}
	st.kinds[kind]++
}

func (s fieldSet) addLines(t *testing.T, lines []byte, where string) int {
	t.Helper()
	n := 0
	for _, l := range bytes.Split(lines, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s: not JSON: %v: %s", where, err, l)
		}
		s.add("", m, where)
		n++
	}
	return n
}

// deathDocs are the documents of deaths that are not audit events (an
// OOM kill, a watched process killed, OOM-killed, crashed, exited), made
// through the enricher as the live pipeline feeds it.
func deathDocs(t *testing.T, schema string) []byte {
	t.Helper()
	e, err := enrich.New(enrich.Config{Schema: schema, Watch: enrich.Watch{Units: []string{"app.service"}}, Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0)
	var out []byte
	var doc encode.Document
	for i, sig := range []int{15, 9, 11, 0} {
		pid := int64(100 + i)
		at := t0.Add(time.Duration(i) * time.Second)
		e.Process(&enrich.ProcEvent{Kind: enrich.ProcExec, Time: at, PID: pid, PPID: 1, HasProc: true, Start: 1,
			Comm: []byte("app"), Exe: []byte("/usr/bin/app"), Argv: []byte("app\x00--serve"), UID: 0,
			Cgroup: []byte("0::/system.slice/app.service\n")})
		if sig == 9 {
			e.OOM(&enrich.OOMKill{Time: at, PID: pid, Comm: "app", UID: 0, AnonRSS: 1, TotalVM: 2, Constraint: "CONSTRAINT_MEMCG",
				OOMMemcg: "/system.slice/app.service", TaskMemcg: "/system.slice/app.service", MemcgUsage: 3, MemcgLimit: 4,
				TriggerComm: "app", TriggerPID: pid})
		}
		e.Process(&enrich.ProcEvent{Kind: enrich.ProcExit, Time: at.Add(time.Millisecond), PID: pid, ExitSig: sig, ExitCode: 3})
	}
	for e.Pending(t0.Add(time.Hour), &doc) {
		out = append(doc.AppendJSON(out), '\n')
	}
	if n := bytes.Count(out, []byte("\n")); n != 5 {
		t.Fatalf("%s: %d death documents, want 5", schema, n)
	}
	return out
}

// externalCorpus is ../shared/external-corpus (or $LINUXAUDIT_EXTERNAL_CORPUS):
// public logs of other projects, read in place, never copied here. ""
// when this checkout has none beside it.
func externalCorpus() string {
	dir := os.Getenv("LINUXAUDIT_EXTERNAL_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "external-corpus")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

var (
	typedOnce = map[string]*sync.Once{"default": {}, "ecs": {}}
	typed     = map[string]fieldSet{}
	typedDocs = map[string]int{}
)

// typedFields returns the fields of every document of one schema: the
// real corpus in batch mode with raw lines, the kill log in live mode, and
// each log of the external corpus when it is there.
func typedFields(t *testing.T, schema string) fieldSet {
	t.Helper()
	typedOnce[schema].Do(func() {
		s := fieldSet{}
		n := 0
		for _, name := range []string{corpus.Enriched, corpus.Raw, corpus.NodeRaw, corpus.Kills, corpus.Files, corpus.Seed} {
			n += s.addLines(t, batchDocs(t, schema, true, corpus.Bytes(name)), name)
		}
		n += s.addLines(t, liveDocs(t, schema), "kills.log (live)")
		n += s.addLines(t, deathDocs(t, schema), "deaths")
		if dir := externalCorpus(); dir != "" {
			files := 0
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".log") || strings.HasSuffix(p, ".txt")) {
					return nil
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				rel, _ := filepath.Rel(dir, p)
				n += s.addLines(t, batchDocs(t, schema, true, b), rel)
				files++
				return nil
			})
			t.Logf("%s: external corpus: %d logs read from %s", schema, files, dir)
		} else {
			t.Logf("%s: no external corpus beside this checkout (../../shared/external-corpus or $LINUXAUDIT_EXTERNAL_CORPUS): the shared corpus only", schema)
		}
		typed[schema], typedDocs[schema] = s, n
	})
	if typed[schema] == nil {
		t.Fatal("documents could not be collected")
	}
	return typed[schema]
}

// Every field has one JSON type across every document of a schema: a
// field that is a number in one document and a string or an object in
// another makes Elasticsearch reject one of them.
func TestFieldTypesStable(t *testing.T) {
	for _, schema := range []string{"default", "ecs"} {
		s := typedFields(t, schema)
		for _, p := range slices.Sorted(func(yield func(string) bool) {
			for k := range s {
				if !yield(k) {
					return
				}
			}
		}) {
			st := s[p]
			if len(st.kinds) > 1 {
				var seen []string
				for k, n := range st.kinds {
					seen = append(seen, fmt.Sprintf("%s ×%d (%q in %s)", k, n, st.example[k], st.where[k]))
				}
				slices.Sort(seen)
				t.Errorf("%s: %s has %d types: %s", schema, p, len(st.kinds), strings.Join(seen, ", "))
			}
		}
		t.Logf("%s: %d documents, %d fields, one type each", schema, typedDocs[schema], len(s))
	}
}

// Every document of either schema names its action, and none is
// "unknown": record types go-libaudit normalizes take its action, the
// others their type's name (TestRecordActionsFromNormalizations in
// enrich checks the first).
func TestEveryDocumentHasAnAction(t *testing.T) {
	for _, schema := range []string{"default", "ecs"} {
		s := typedFields(t, schema)
		st := s["event.action"]
		if st == nil || st.kinds["string"] != typedDocs[schema] {
			t.Errorf("%s: %d documents, %v with an event.action", schema, typedDocs[schema], st)
			continue
		}
		for _, bad := range []string{"", "unknown"} {
			if n := st.values[bad]; n > 0 {
				t.Errorf("%s: %d documents with event.action %q", schema, n, bad)
			}
		}
		t.Logf("%s: %d documents, %d distinct actions", schema, typedDocs[schema], len(st.values))
	}
}

// template is a composable index template's mappings.
type template struct {
	name    string
	props   map[string]any
	dynamic []dynamicTemplate
}

type dynamicTemplate struct {
	name, pathMatch, match, mappingType string
	typ                                 string
}

func loadTemplate(t *testing.T, file string) *template {
	t.Helper()
	var raw struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Mappings struct {
				DynamicTemplates []map[string]struct {
					PathMatch        string `json:"path_match"`
					Match            string `json:"match"`
					MatchMappingType string `json:"match_mapping_type"`
					Mapping          struct {
						Type string `json:"type"`
					} `json:"mapping"`
				} `json:"dynamic_templates"`
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(read(t, file), &raw); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(raw.IndexPatterns) == 0 || len(raw.Template.Mappings.Properties) == 0 {
		t.Fatalf("%s: not a composable index template (index_patterns, template.mappings.properties)", file)
	}
	tp := &template{name: file, props: raw.Template.Mappings.Properties}
	for _, m := range raw.Template.Mappings.DynamicTemplates {
		for name, d := range m {
			tp.dynamic = append(tp.dynamic, dynamicTemplate{name, d.PathMatch, d.Match, d.MatchMappingType, d.Mapping.Type})
		}
	}
	return tp
}

// esDynamicType is the match_mapping_type of a JSON value's kind.
var esDynamicType = map[string]string{"string": "string", "integer": "long", "float": "double", "boolean": "boolean", "object": "object"}

// typeOf is the Elasticsearch type of the field at p holding a value of
// JSON kind: the explicit mapping, else the first dynamic template that
// matches; "object" for an object no template names (mapped as one
// implicitly); "" when nothing maps it.
func (tp *template) typeOf(p, kind string) (typ, by string) {
	props := tp.props
	segs := strings.Split(p, ".")
	for i, seg := range segs {
		node, ok := props[seg].(map[string]any)
		if !ok {
			break
		}
		ty, _ := node["type"].(string)
		if sub, ok := node["properties"].(map[string]any); ok && (ty == "" || ty == "object" || ty == "nested") {
			if i == len(segs)-1 {
				return "object", "properties"
			}
			props = sub
			continue
		}
		switch ty {
		case "flattened":
			return "flattened", "properties"
		case "object", "nested":
			if i == len(segs)-1 {
				return ty, "properties"
			}
			props = map[string]any{} // below: dynamic templates
			continue
		}
		if i == len(segs)-1 {
			return ty, "properties"
		}
		return "leaf " + ty + " at " + strings.Join(segs[:i+1], "."), "properties"
	}
	for _, d := range tp.dynamic {
		if d.mappingType != "" && d.mappingType != "*" && d.mappingType != esDynamicType[kind] {
			continue
		}
		if d.pathMatch != "" {
			if ok, _ := path.Match(d.pathMatch, p); !ok {
				continue
			}
		}
		if d.match != "" {
			if ok, _ := path.Match(d.match, segs[len(segs)-1]); !ok {
				continue
			}
		}
		if kind == "object" && d.mappingType == "*" {
			return "object", "dynamic template " + d.name // Elasticsearch applies "*" templates to leaves
		}
		return d.typ, "dynamic template " + d.name
	}
	if kind == "object" {
		return "object", "implicit"
	}
	return "", ""
}

// compatible says why Elasticsearch type typ cannot take the values st
// saw of JSON kind ("" when it can).
func compatible(typ, kind string, st *fieldStat) string {
	switch kind {
	case "object":
		if typ == "object" || typ == "nested" || typ == "flattened" {
			return ""
		}
	case "string":
		switch typ {
		case "keyword", "wildcard", "text", "match_only_text", "constant_keyword", "flattened":
			return ""
		case "ip":
			if !st.notIP {
				return ""
			}
			return "a value is not an IP address"
		case "date":
			if !st.notDate {
				return ""
			}
			return "a value is not a date"
		case "long", "unsigned_long":
			if !st.notInt {
				return "" // coerced from a numeric string
			}
			return "a value is not an integer"
		}
	case "integer":
		switch typ {
		case "long":
			if !st.big {
				return ""
			}
			return "a value is past int64 (unsigned_long takes it)"
		case "unsigned_long":
			if !st.neg {
				return ""
			}
			return "a value is negative"
		case "double", "float", "scaled_float", "flattened":
			return ""
		}
	case "float":
		switch typ {
		case "double", "float", "scaled_float", "flattened":
			return ""
		}
	case "boolean":
		if typ == "boolean" || typ == "flattened" {
			return ""
		}
	}
	return "a " + kind + " value"
}

// Every field the pipeline produces for the corpora is mapped by the
// schema's index template, with a type that takes every value seen.
func TestIndexTemplatesMapEveryField(t *testing.T) {
	for schema, file := range map[string]string{"ecs": "elasticsearch/linux-audit-ecs.json", "default": "elasticsearch/linux-audit-default.json"} {
		tp := loadTemplate(t, file)
		s := typedFields(t, schema)
		explicit := 0
		for p, st := range s {
			for kind := range st.kinds {
				typ, by := tp.typeOf(p, kind)
				if typ == "" {
					t.Errorf("%s: %s (%s, e.g. %q in %s) is mapped by nothing", file, p, kind, st.example[kind], st.where[kind])
					continue
				}
				if by == "properties" {
					explicit++
				}
				if why := compatible(typ, kind, st); why != "" {
					t.Errorf("%s: %s is %s (%s) but the documents hold %s: e.g. %q in %s", file, p, typ, by, why, st.example[kind], st.where[kind])
				}
			}
		}
		t.Logf("%s: %d fields, %d mapped explicitly, the others by dynamic templates", file, len(s), explicit)
	}
}

// The templates themselves are what Elasticsearch expects: the two index
// patterns do not collide at one priority, every explicit type is one
// Elasticsearch has.
func TestIndexTemplatesWellFormed(t *testing.T) {
	known := map[string]bool{"keyword": true, "wildcard": true, "match_only_text": true, "text": true, "long": true,
		"unsigned_long": true, "boolean": true, "date": true, "ip": true, "object": true, "nested": true, "flattened": true, "double": true}
	prio := map[float64]string{}
	for _, file := range []string{"elasticsearch/linux-audit-ecs.json", "elasticsearch/linux-audit-default.json"} {
		var raw map[string]any
		if err := json.Unmarshal(read(t, file), &raw); err != nil {
			t.Fatal(err)
		}
		p, _ := raw["priority"].(float64)
		if other, dup := prio[p]; dup {
			t.Errorf("%s and %s share priority %v: Elasticsearch refuses overlapping patterns at one priority", file, other, p)
		}
		prio[p] = file
		var walk func(where string, v any)
		walk = func(where string, v any) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			if ty, ok := m["type"].(string); ok && !known[ty] {
				t.Errorf("%s: %s: type %q", file, where, ty)
			}
			for k, c := range m {
				walk(where+"/"+k, c)
			}
		}
		walk("", raw["template"])
	}
}
