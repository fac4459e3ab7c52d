// Package examples_test keeps the examples honest: every YAML, JSON and
// NDJSON file parses, every Fluent Bit config names only real keys of the
// linux_audit input, every field a dashboard or query uses exists in the
// documents the pipeline produces for the real corpus, and every audit rule
// is accepted by go-libaudit's rule parser and builder.
package examples_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"
	"gopkg.in/yaml.v3"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/pipeline"
)

// files returns the paths under the examples directory whose names end
// with one of exts.
func files(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, e := range exts {
			if !d.IsDir() && strings.HasSuffix(d.Name(), e) {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------
// Syntax: YAML, JSON, NDJSON.

func TestYAMLParses(t *testing.T) {
	fs := files(t, ".yaml", ".yml")
	if len(fs) < 5 {
		t.Fatalf("only %d YAML files found: %v", len(fs), fs)
	}
	for _, p := range fs {
		dec := yaml.NewDecoder(bytes.NewReader(read(t, p)))
		docs := 0
		for {
			var v any
			err := dec.Decode(&v)
			if err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Errorf("%s: document %d: %v", p, docs+1, err)
				break
			}
			docs++
		}
		if docs == 0 {
			t.Errorf("%s: no YAML document", p)
		}
	}
}

func TestJSONParses(t *testing.T) {
	fs := files(t, ".json")
	if len(fs) == 0 {
		t.Fatal("no JSON file found")
	}
	for _, p := range fs {
		var v any
		if err := json.Unmarshal(read(t, p), &v); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestNDJSONParses(t *testing.T) {
	fs := files(t, ".ndjson")
	if len(fs) == 0 {
		t.Fatal("no NDJSON file found")
	}
	for _, p := range fs {
		n := 0
		for i, l := range bytes.Split(read(t, p), []byte("\n")) {
			if len(bytes.TrimSpace(l)) == 0 {
				continue
			}
			var v map[string]any
			if err := json.Unmarshal(l, &v); err != nil {
				t.Errorf("%s:%d: %v", p, i+1, err)
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s: empty", p)
		}
	}
}

// ---------------------------------------------------------------------
// Audit rules.

// ruleLines returns the rules of a rules file with their line numbers:
// every line that is not blank or a comment, plus the commented-out
// alternatives written as "#-a ..." / "#-w ...".
func ruleLines(b []byte) (lines []string, nums []int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "#-"):
			l = l[1:]
		case strings.HasPrefix(l, "#"):
			continue
		}
		lines = append(lines, l)
		nums = append(nums, n)
	}
	return
}

func TestRulesBuild(t *testing.T) {
	fs := files(t, ".rules")
	want := map[string]bool{"kill.rules": false, "hunting.rules": false, "file-changes.rules": false}
	for _, p := range fs {
		want[filepath.Base(p)] = true
		lines, nums := ruleLines(read(t, p))
		if len(lines) == 0 {
			t.Errorf("%s: no rules", p)
		}
		for i, l := range lines {
			r, err := flags.Parse(l)
			if err != nil {
				t.Errorf("%s:%d: parse %q: %v", p, nums[i], l, err)
				continue
			}
			if _, err := rule.Build(r); err != nil {
				t.Errorf("%s:%d: build %q: %v", p, nums[i], l, err)
			}
			if !strings.Contains(l, " -k ") && !strings.Contains(l, "never,") {
				t.Errorf("%s:%d: rule without a key: %q", p, nums[i], l)
			}
		}
	}
	for f, ok := range want {
		if !ok {
			t.Errorf("rules file %s missing", f)
		}
	}
}

// The kill rules cover every signal-sending syscall on both ABIs, with
// SIGURG excluded where the signal is in a1 (kill, tkill) or a2 (tgkill).
func TestKillRulesSemantics(t *testing.T) {
	lines, _ := ruleLines(read(t, "rules/kill.rules"))
	all := strings.Join(lines, "\n")
	for _, arch := range []string{"b64", "b32"} {
		for _, want := range []string{
			"-a always,exit -F arch=" + arch + " -S kill -F a1!=23 -k kill",
			"-a always,exit -F arch=" + arch + " -S tkill -F a1!=23 -k kill",
			"-a always,exit -F arch=" + arch + " -S tgkill -F a2!=23 -k kill",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("kill.rules lacks %q", want)
			}
		}
		for _, sc := range []string{"rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"} {
			if !regexp.MustCompile(`arch=` + arch + ` .*-S ` + sc + `\b`).MatchString(all) {
				t.Errorf("kill.rules lacks %s for %s", sc, arch)
			}
		}
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "-k kill") {
			t.Errorf("kill.rules: rule without key kill: %q", l)
		}
	}
}

// ---------------------------------------------------------------------
// Fluent Bit configs: the linux_audit input names only real keys.

// coreInputKeys are the keys Fluent Bit's core consumes for every input
// (src/flb_input.c), besides the plugin's own pipeline.Keys.
var coreInputKeys = []string{
	"name", "tag", "alias", "log_level", "log_suppress_interval",
	"mem_buf_limit", "storage.type", "storage.pause_on_chunks_overlimit",
	"threaded", "routable", "processors",
}

func allowedInputKeys() map[string]bool {
	m := map[string]bool{}
	for _, k := range pipeline.Keys {
		m[k.Name] = true
	}
	for _, k := range coreInputKeys {
		m[k] = true
	}
	return m
}

// yamlInputs returns every map of a YAML tree whose name is linux_audit,
// following strings that are themselves Fluent Bit YAML configs (a
// Kubernetes ConfigMap's data).
func yamlInputs(v any, out *[]map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		if n, ok := x["name"].(string); ok && strings.EqualFold(n, "linux_audit") {
			*out = append(*out, x)
		}
		for _, c := range x {
			yamlInputs(c, out)
		}
	case []any:
		for _, c := range x {
			yamlInputs(c, out)
		}
	case string:
		if strings.Contains(x, "linux_audit") && strings.Contains(x, "pipeline:") {
			var inner any
			if yaml.Unmarshal([]byte(x), &inner) == nil {
				yamlInputs(inner, out)
			}
		}
	}
}

// classicInputs parses a classic Fluent Bit config: the key/value pairs of
// every [INPUT] section whose Name is linux_audit.
func classicInputs(b []byte) []map[string]string {
	var out []map[string]string
	var cur map[string]string
	flush := func() {
		if cur != nil && strings.EqualFold(cur["name"], "linux_audit") {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "@") {
			continue
		}
		if strings.HasPrefix(l, "[") {
			flush()
			if strings.EqualFold(l, "[INPUT]") {
				cur = map[string]string{}
			}
			continue
		}
		if cur != nil {
			f := strings.Fields(l)
			cur[strings.ToLower(f[0])] = strings.TrimSpace(strings.TrimPrefix(l, f[0]))
		}
	}
	flush()
	return out
}

func TestFluentBitInputKeys(t *testing.T) {
	ok := allowedInputKeys()
	check := func(p string, keys []string) {
		for _, k := range keys {
			if !ok[strings.ToLower(k)] {
				t.Errorf("%s: linux_audit input has unknown key %q (not in pipeline.Keys nor a core input key)", p, k)
			}
		}
	}
	n := 0
	for _, p := range files(t, ".yaml", ".yml") {
		dec := yaml.NewDecoder(bytes.NewReader(read(t, p)))
		for {
			var v any
			if dec.Decode(&v) != nil {
				break
			}
			var ins []map[string]any
			yamlInputs(v, &ins)
			for _, in := range ins {
				var keys []string
				for k := range in {
					keys = append(keys, k)
				}
				check(p, keys)
				n++
			}
		}
	}
	classic := 0
	for _, p := range files(t, ".conf") {
		for _, in := range classicInputs(read(t, p)) {
			var keys []string
			for k := range in {
				keys = append(keys, k)
			}
			check(p, keys)
			classic++
		}
	}
	if n < 6 || classic < 5 {
		t.Errorf("found %d YAML and %d classic linux_audit inputs; expected every example to declare one", n, classic)
	}
}

// Every config loads the plugin one of the three ways, and the three ways
// all appear in the set; no .so is named flb-*.
func TestFluentBitPluginLoading(t *testing.T) {
	var yamlList, pluginsFile, dashE bool
	for _, p := range append(files(t, ".yaml", ".conf", ".md", ".service"), "../Dockerfile") {
		s := string(read(t, p))
		if regexp.MustCompile(`(?m)^plugins:\s*\n\s+- /\S+/linux_audit\.so`).MatchString(s) {
			yamlList = true
		}
		if regexp.MustCompile(`(?mi)^\s*plugins_file\s+plugins\.conf`).MatchString(s) {
			pluginsFile = true
		}
		if regexp.MustCompile(`fluent-bit -e /\S+/linux_audit\.so`).MatchString(s) {
			dashE = true
		}
		if regexp.MustCompile(`flb-[\w-]*\.so`).MatchString(s) {
			t.Errorf("%s names a plugin flb-*.so", p)
		}
	}
	if !regexp.MustCompile(`(?mi)^\[PLUGINS\]\s*\n\s*Path\s+/\S+/linux_audit\.so`).Match(read(t, "fluent-bit/plugins.conf")) {
		t.Error("fluent-bit/plugins.conf lacks [PLUGINS] Path /.../linux_audit.so")
	}
	if !yamlList || !pluginsFile || !dashE {
		t.Errorf("loading methods shown: yaml plugins list %v, plugins_file %v, -e %v", yamlList, pluginsFile, dashE)
	}
}

// ---------------------------------------------------------------------
// Fields: every field a dashboard or query uses exists in real documents.

// flatten adds every path of v to set: objects joined with dots, array
// elements as "[]" (a scalar array "key[]", an array of objects
// "target.processes[].pid"), intermediate objects included.
func flatten(prefix string, v any, set map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if prefix != "" {
			set[prefix] = true
		}
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, c, set)
		}
	case []any:
		set[prefix] = true
		for _, c := range x {
			flatten(prefix+"[]", c, set)
		}
	default:
		set[prefix] = true
	}
}

func addDocs(t *testing.T, jsonLines []byte, set map[string]bool) int {
	t.Helper()
	n := 0
	for _, l := range bytes.Split(jsonLines, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("pipeline output is not JSON: %v: %s", err, l)
		}
		flatten("", m, set)
		n++
	}
	return n
}

// batchDocs runs the pipeline over a log in batch mode and returns its
// documents as JSON lines.
func batchDocs(t *testing.T, schema string, raw bool, log []byte) []byte {
	t.Helper()
	cfg, err := pipeline.Parse(func(k string) (string, bool) {
		switch k {
		case "schema":
			return schema, true
		case "proc":
			return "false", true
		case "raw":
			return strconv.FormatBool(raw), true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.JSON = true
	var out bytes.Buffer
	b, err := pipeline.NewBatch(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadFrom(bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// batchFields runs the pipeline over corpus files and returns the field
// paths of the documents.
func batchFields(t *testing.T, schema string, names ...string) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for _, name := range names {
		if n := addDocs(t, batchDocs(t, schema, false, corpus.Bytes(name)), set); n == 0 {
			t.Fatalf("%s: no documents", name)
		}
	}
	return set
}

// liveFields runs the kill corpus through the parser and the enricher in
// live mode over a fake /proc in which every pid of the log lives in a
// systemd unit (odd pids) or a container (even pids): the fields that only
// live process context can give (unit, container, target exe/cmdline).
func liveFields(t *testing.T, schema string) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	addDocs(t, liveDocs(t, schema), set)
	return set
}

// liveDocs are liveFields' documents, as JSON lines.
func liveDocs(t *testing.T, schema string) []byte {
	t.Helper()
	root := t.TempDir()
	pids := map[string]bool{}
	re := regexp.MustCompile(`\b(?:pid|ppid|opid)=(\d+)`)
	for _, m := range re.FindAllSubmatch(corpus.Bytes(corpus.Kills), -1) {
		pids[string(m[1])] = true
	}
	for pid := range pids {
		dir := filepath.Join(root, pid)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cg := "0::/system.slice/demo-" + pid + ".service\n"
		if pid[len(pid)-1]%2 == 0 {
			cg = "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + strings.Repeat("ab", 32) + ".scope\n"
		}
		stat := pid + " (demo) S 1 " + pid + " " + pid + " 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 12345 1000000 100 18446744073709551615\n"
		for f, c := range map[string]string{
			"stat": stat, "cgroup": cg, "cmdline": "/usr/bin/demo\x00--serve\x00",
			"status": "Name:\tdemo\nUid:\t0\t0\t0\t0\n", "comm": "demo\n",
		} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("/usr/bin/demo", filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
	}
	// The kubelet's files for the container: pod web-0 of namespace shop.
	node := t.TempDir()
	ctr := strings.Repeat("ab", 32)
	logs := filepath.Join(node, "var/log/pods/shop_web-0_0d6f7c1e-1111-2222-3333-444455556666/app")
	os.MkdirAll(logs, 0o755)
	os.MkdirAll(filepath.Join(node, "var/log/containers"), 0o755)
	if err := os.Symlink(filepath.Join(logs, "0.log"), filepath.Join(node, "var/log/containers", "web-0_shop_app-"+ctr+".log")); err != nil {
		t.Fatal(err)
	}
	enr, err := enrich.New(enrich.Config{Schema: schema, AncestryDepth: 4, Proc: true, ProcRoot: root, DropSIGURG: true,
		ContainerNames: true, ContainersRoot: node})
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	var doc encode.Document
	corr := parser.NewCorrelator(parser.Config{Timeout: 2e9, MaxInFlight: 4096}, func(ev *parser.Event) {
		if enr.Enrich(ev, &doc) {
			out = append(doc.AppendJSON(out), '\n')
		}
	})
	var rec parser.Record
	for _, l := range corpus.Lines(corpus.Kills) {
		if parser.Parse(l, &rec) == nil {
			corr.Add(&rec)
		}
	}
	corr.Flush()
	return out
}

// documentFields returns the fields of the documents of one schema: the
// real corpus (enriched log, kill and file-watch logs, the node= log) in
// batch mode, plus the kill log in live mode.
func documentFields(t *testing.T, schema string) map[string]bool {
	set := batchFields(t, schema, corpus.Enriched, corpus.Kills, corpus.Files, corpus.NodeRaw)
	for f := range liveFields(t, schema) {
		set[f] = true
	}
	addDocs(t, deathDocs(t, schema), set) // OOM kills and watched deaths (live only)
	return set
}

// lokiLabels maps the labels the Loki configs define to the fields they
// come from ("" for labels set from the environment or a constant).
var lokiLabels = map[string]string{
	"job": "", "host": "", "action": "event.action", "outcome": "event.outcome", "key": "key[]",
}

var (
	reJSONExpr   = regexp.MustCompile(`(\w+)="([A-Za-z0-9_@.\[\]]+)"`)
	reJSONStage  = regexp.MustCompile(`\|\s*json\s+((?:\w+="[^"]+"\s*,?\s*)+)`)
	reSelector   = regexp.MustCompile(`\{([^{}]*)\}`)
	reMatcher    = regexp.MustCompile(`(\w+)\s*(?:=~|!~|!=|=)\s*"`)
	reTemplate   = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	reKQLField   = regexp.MustCompile(`([A-Za-z_@][A-Za-z0-9_.@]*)\s*(?::|>=|<=|>|<)`)
	reCodeBlock  = regexp.MustCompile("(?s)```(logql|kql)\n(.*?)```")
	reArrayIndex = regexp.MustCompile(`\[\d+\]`)
)

// logqlFields extracts from a LogQL query the document fields it reads
// (json expressions, label matchers mapped to their fields, line_format
// templates of fields that the plain `| json` stage extracts) and the
// label names of its stream selectors.
func logqlFields(q string) (fields, labels []string) {
	extracted := map[string]bool{}
	for _, st := range reJSONStage.FindAllStringSubmatch(q, -1) {
		for _, m := range reJSONExpr.FindAllStringSubmatch(st[1], -1) {
			extracted[m[1]] = true
			fields = append(fields, reArrayIndex.ReplaceAllString(m[2], "[]"))
		}
	}
	for _, sel := range reSelector.FindAllStringSubmatch(q, -1) {
		if strings.HasPrefix(strings.TrimSpace(sel[1]), ".") {
			continue // a {{.template}}
		}
		for _, m := range reMatcher.FindAllStringSubmatch(sel[1], -1) {
			labels = append(labels, m[1])
		}
	}
	for _, m := range reTemplate.FindAllStringSubmatch(q, -1) {
		if !extracted[m[1]] {
			fields = append(fields, m[1]) // top-level field via plain `| json`
		}
	}
	return
}

func checkLogQL(t *testing.T, where, q string, docs map[string]bool) int {
	t.Helper()
	fields, labels := logqlFields(q)
	for _, l := range labels {
		f, ok := lokiLabels[l]
		if !ok {
			t.Errorf("%s: label %q is not one the Loki configs set: %s", where, l, q)
			continue
		}
		if f != "" {
			fields = append(fields, f)
		}
	}
	for _, f := range fields {
		if !docs[f] {
			t.Errorf("%s: field %q is not in any document (default schema): %s", where, f, q)
		}
	}
	if len(labels) == 0 {
		t.Errorf("%s: no stream selector in %s", where, q)
	}
	return len(fields)
}

// kqlPaths is the ECS field set with array markers removed: Elasticsearch
// flattens arrays of objects (auditd.target.processes.unit).
func kqlPaths(docs map[string]bool) map[string]bool {
	m := map[string]bool{}
	for f := range docs {
		m[strings.ReplaceAll(f, "[]", "")] = true
	}
	return m
}

func checkKQL(t *testing.T, where, q string, ecs map[string]bool) int {
	t.Helper()
	n := 0
	for _, m := range reKQLField.FindAllStringSubmatch(q, -1) {
		switch m[1] {
		case "and", "or", "not":
			continue
		}
		n++
		if !ecs[m[1]] {
			t.Errorf("%s: field %q is not in any document (ECS schema): %s", where, m[1], q)
		}
		checkMapped(t, where, m[1])
	}
	if n == 0 {
		t.Errorf("%s: no field in KQL %q", where, q)
	}
	return n
}

// checkMapped fails unless the ECS index template maps field f for every
// JSON type the documents hold there: a dashboard or a query must not
// depend on Elasticsearch's dynamic mapping.
func checkMapped(t *testing.T, where, f string) {
	t.Helper()
	if ecsTemplate == nil {
		ecsTemplate = loadTemplate(t, "elasticsearch/linux-audit-ecs.json")
	}
	st := typedFields(t, "ecs")[f]
	if st == nil {
		return // reported as absent from the documents
	}
	for kind := range st.kinds {
		if typ, _ := ecsTemplate.typeOf(f, kind); typ == "" || compatible(typ, kind, st) != "" {
			t.Errorf("%s: field %q (%s) is not mapped by %s with a type that takes it (%q)", where, f, kind, ecsTemplate.name, typ)
		}
	}
}

var ecsTemplate *template

// The Loki configs set exactly the labels the queries may use.
func TestLokiLabelsMatchConfigs(t *testing.T) {
	for _, p := range []string{"fluent-bit/loki.yaml", "fluent-bit/loki.conf", "fluent-bit/fanout.yaml", "fluent-bit/fanout.conf", "deploy/kubernetes/daemonset.yaml"} {
		s := string(read(t, p))
		for l, f := range lokiLabels {
			want := l + "="
			if f != "" {
				want += "$" + strings.Replace(strings.Replace(f, "[]", "[0]", 1), ".", "['", 1)
				if strings.Contains(f, ".") {
					want += "']"
				}
			}
			if !strings.Contains(s, want) {
				t.Errorf("%s: Loki labels lack %q", p, want)
			}
		}
	}
}

func TestDashboardFieldsExist(t *testing.T) {
	def := documentFields(t, "default")
	ecs := kqlPaths(documentFields(t, "ecs"))

	// Grafana: every LogQL expression.
	var g struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(read(t, "dashboards/grafana-linux-audit.json"), &g); err != nil {
		t.Fatal(err)
	}
	grafanaFields := map[string]bool{}
	for _, p := range g.Panels {
		for _, tg := range p.Targets {
			checkLogQL(t, "grafana "+p.Title, tg.Expr, def)
			fs, _ := logqlFields(tg.Expr)
			for _, f := range fs {
				grafanaFields[f] = true
			}
		}
	}
	// The explicit list the report names; it must match the dashboard.
	wantGrafana := []string{"signal.name", "syscall.errno", "process.comm", "process.exe", "process.auser",
		"target.processes[].comm", "target.processes[].exe", "target.processes[].unit", "summary",
		"file.path", "file.operation", "oom.memcg", "death.watch", "death.cause"}
	for _, f := range wantGrafana {
		if !grafanaFields[f] {
			t.Errorf("grafana: expected field %q not used", f)
		}
	}
	if len(grafanaFields) != len(wantGrafana) {
		t.Errorf("grafana uses %v, the test lists %v", keys(grafanaFields), wantGrafana)
	}

	// Kibana: columns and KQL of saved searches, fields and KQL of
	// visualizations, the index pattern, the dashboard's panels and every
	// reference between them.
	kib := read(t, "dashboards/kibana-linux-audit.ndjson")
	searches, objects := 0, 0
	exported := -1
	ids := map[string]string{} // id -> type
	type ref struct{ Name, Type, ID string }
	var allRefs []ref
	var visIDs, onDashboard []string
	kibanaVisFields := map[string]bool{}
	for _, l := range bytes.Split(kib, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var o struct {
			ID            string
			Type          string
			ExportedCount *int
			References    []ref
			Attributes    struct {
				Title, TimeFieldName  string
				Columns               []string
				VisState, PanelsJSON  string
				KibanaSavedObjectMeta struct{ SearchSourceJSON string }
			}
		}
		if err := json.Unmarshal(l, &o); err != nil {
			t.Fatal(err)
		}
		if o.ExportedCount != nil { // the export's summary line
			exported = *o.ExportedCount
			continue
		}
		objects++
		if _, dup := ids[o.ID]; dup || o.ID == "" {
			t.Errorf("kibana: empty or duplicate id %q", o.ID)
		}
		ids[o.ID] = o.Type
		allRefs = append(allRefs, o.References...)
		switch o.Type {
		case "visualization":
			visIDs = append(visIDs, o.ID)
			var vs struct {
				Title, Type string
				Aggs        []struct {
					Type, Schema string
					Params       struct{ Field string }
				}
			}
			if err := json.Unmarshal([]byte(o.Attributes.VisState), &vs); err != nil {
				t.Errorf("kibana %q: visState: %v", o.Attributes.Title, err)
				continue
			}
			if vs.Title != o.Attributes.Title {
				t.Errorf("kibana %q: visState title %q", o.Attributes.Title, vs.Title)
			}
			switch vs.Type {
			case "line", "histogram", "horizontal_bar", "area", "pie", "table", "metric":
			default:
				t.Errorf("kibana %q: visualization type %q", o.Attributes.Title, vs.Type)
			}
			metrics := 0
			for _, a := range vs.Aggs {
				if a.Schema == "metric" {
					metrics++
				}
				if a.Params.Field == "" {
					continue
				}
				// Terms aggregations need a keyword field (the template's,
				// not dynamic mapping's text).
				f := a.Params.Field
				checkMapped(t, "kibana "+o.Attributes.Title, f)
				if typ, _ := ecsTemplate.typeOf(f, "string"); a.Type == "terms" && typ != "keyword" {
					t.Errorf("kibana %q: terms on %q, mapped as %q, not keyword", o.Attributes.Title, f, typ)
				}
				if !ecs[f] {
					t.Errorf("kibana %q: %s aggregation field %q is not in any document (ECS schema)", o.Attributes.Title, a.Type, f)
				}
				kibanaVisFields[a.Params.Field] = true
			}
			if metrics == 0 {
				t.Errorf("kibana %q: no metric aggregation", o.Attributes.Title)
			}
			var ss struct {
				Query        struct{ Query, Language string }
				IndexRefName string
			}
			if err := json.Unmarshal([]byte(o.Attributes.KibanaSavedObjectMeta.SearchSourceJSON), &ss); err != nil {
				t.Errorf("kibana %q: searchSourceJSON: %v", o.Attributes.Title, err)
			}
			checkKQL(t, "kibana "+o.Attributes.Title, ss.Query.Query, ecs)
			found := false
			for _, r := range o.References {
				found = found || r.Name == ss.IndexRefName && r.Type == "index-pattern"
			}
			if !found {
				t.Errorf("kibana %q: no index-pattern reference named %q", o.Attributes.Title, ss.IndexRefName)
			}
		case "dashboard":
			var panels []struct{ Type, PanelIndex, PanelRefName string }
			if err := json.Unmarshal([]byte(o.Attributes.PanelsJSON), &panels); err != nil {
				t.Errorf("kibana %q: panelsJSON: %v", o.Attributes.Title, err)
			}
			byName := map[string]ref{}
			for _, r := range o.References {
				byName[r.Name] = r
			}
			seen := map[string]bool{}
			for _, p := range panels {
				r, ok := byName[p.PanelRefName]
				if !ok || r.Type != p.Type || seen[p.PanelIndex] {
					t.Errorf("kibana %q: panel %s (%s) has no matching reference, or a duplicate index", o.Attributes.Title, p.PanelIndex, p.PanelRefName)
				}
				seen[p.PanelIndex] = true
				onDashboard = append(onDashboard, r.ID)
			}
			if len(panels) != len(o.References) {
				t.Errorf("kibana %q: %d panels, %d references", o.Attributes.Title, len(panels), len(o.References))
			}
		case "index-pattern":
			if o.Attributes.Title != "linux-audit-*" || !ecs[o.Attributes.TimeFieldName] {
				t.Errorf("kibana index pattern %q time field %q", o.Attributes.Title, o.Attributes.TimeFieldName)
			}
		case "search":
			searches++
			for _, c := range o.Attributes.Columns {
				if !ecs[c] {
					t.Errorf("kibana %q: column %q is not in any document (ECS schema)", o.Attributes.Title, c)
				}
				checkMapped(t, "kibana "+o.Attributes.Title, c)
			}
			var ss struct {
				Query struct{ Query, Language string }
			}
			if err := json.Unmarshal([]byte(o.Attributes.KibanaSavedObjectMeta.SearchSourceJSON), &ss); err != nil {
				t.Errorf("kibana %q: searchSourceJSON: %v", o.Attributes.Title, err)
			}
			checkKQL(t, "kibana "+o.Attributes.Title, ss.Query.Query, ecs)
		}
	}
	if searches < 6 {
		t.Errorf("kibana: %d saved searches", searches)
	}
	if exported >= 0 && exported != objects {
		t.Errorf("kibana: exportedCount %d, %d objects", exported, objects)
	}
	for _, r := range allRefs {
		if ids[r.ID] != r.Type {
			t.Errorf("kibana: reference %s to %s %q, not in the export", r.Name, r.Type, r.ID)
		}
	}
	for id, typ := range ids {
		if (typ == "visualization" || typ == "search") && !slices.Contains(onDashboard, id) {
			t.Errorf("kibana: %s %q is not on the dashboard", typ, id)
		}
	}
	// The explicit list the report names; it must match the visualizations.
	wantKibana := []string{"@timestamp", "process.executable", "auditd.target.comm",
		"auditd.target.unit", "auditd.data.signal", "auditd.data.exit", "file.path", "process.name", "auditd.death.cause"}
	for _, f := range wantKibana {
		if !kibanaVisFields[f] {
			t.Errorf("kibana: expected visualization field %q not used", f)
		}
	}
	if len(kibanaVisFields) != len(wantKibana) || len(visIDs) < 7 {
		t.Errorf("kibana: %d visualizations use %v, the test lists %v", len(visIDs), keys(kibanaVisFields), wantKibana)
	}

	// queries.md: every ```logql and ```kql block.
	md := read(t, "dashboards/queries.md")
	nl, nk := 0, 0
	for _, m := range reCodeBlock.FindAllSubmatch(md, -1) {
		for _, q := range strings.Split(strings.TrimSpace(string(m[2])), "\n") {
			if string(m[1]) == "logql" {
				checkLogQL(t, "queries.md", q, def)
				nl++
			} else {
				checkKQL(t, "queries.md", q, ecs)
				nk++
			}
		}
	}
	if nl < 8 || nk < 6 {
		t.Errorf("queries.md: %d LogQL and %d KQL queries", nl, nk)
	}
	// Fields named in queries.md prose exist too.
	for _, f := range []string{"process.unit", "target.processes[].unit"} {
		if !def[f] || !bytes.Contains(md, []byte(f)) {
			t.Errorf("queries.md / default schema: %q", f)
		}
	}
	for _, f := range []string{"process.systemd.unit", "auditd.target.unit"} {
		if !ecs[f] || !bytes.Contains(md, []byte(f)) {
			t.Errorf("queries.md / ECS schema: %q", f)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ = fmt.Sprint
