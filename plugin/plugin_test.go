package main

// These tests drive the built shared object the way Fluent Bit does, through
// the C host in testdata/flbhost.c (a Go test binary must not dlopen a Go
// shared object, and _test.go files cannot use cgo).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/pipeline"
)

var (
	tmpRoot   string
	buildOnce sync.Once
	soPath    string
	hostPath  string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "linux_audit_plugin_test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles the plugin and the host once per test binary.
func build(t testing.TB) (so, host string) {
	t.Helper()
	buildOnce.Do(func() {
		soPath = filepath.Join(tmpRoot, "linux_audit.so")
		hostPath = filepath.Join(tmpRoot, "flbhost")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-ldflags", "-X main.version=test-1", "-o", soPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build -buildmode=c-shared: %v\n%s", err, out)
			return
		}
		cmd = exec.Command("gcc", "-O2", "-Wall", "-Werror", "-o", hostPath, "testdata/flbhost.c", "-ldl", "-lpthread")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("gcc flbhost.c: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return soPath, hostPath
}

type hostStats struct {
	Records       int64   `json:"records"`
	Callbacks     int64   `json:"callbacks"`
	Batches       int64   `json:"batches"`
	MaxCallbackMs float64 `json:"max_callback_ms"`
	Bytes         int64   `json:"bytes"`
	MaxBatch      int64   `json:"max_batch"`
	MaxRSSKB      int64   `json:"maxrss_kb"`
	CPUUser       float64 `json:"cpu_user_s"`
	CPUSys        float64 `json:"cpu_sys_s"`
	Wall          float64 `json:"wall_s"`
	InitS         float64 `json:"init_s"`
	FirstRecordS  float64 `json:"first_record_s"`
	LastRecordS   float64 `json:"last_record_s"`
}

type hostRecord struct {
	I int            `json:"i"`
	T json.Number    `json:"t"`
	R map[string]any `json:"r"`
}

type hostResult struct {
	code    int
	stderr  string
	stats   hostStats
	outPath string
}

// records reads the host's output file.
func (r *hostResult) records(t testing.TB) []hostRecord {
	t.Helper()
	f, err := os.Open(r.outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []hostRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var rec hostRecord
		if err := d.Decode(&rec); err != nil {
			t.Fatalf("host output line is not JSON: %v: %.200s", err, sc.Text())
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// startHost starts the host with -o into a fresh file; stdin is a pipe.
func startHost(t testing.TB, args ...string) (*exec.Cmd, io.WriteCloser, *bytes.Buffer, string) {
	t.Helper()
	so, host := build(t)
	out := filepath.Join(t.TempDir(), "records.jsonl")
	full := append([]string{"-o", out}, args...)
	for i, a := range full {
		if a == "SO" {
			full[i] = so
		}
	}
	cmd := exec.Command(host, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdin, &stderr, out
}

func finish(t testing.TB, cmd *exec.Cmd, stderr *bytes.Buffer, out string) *hostResult {
	t.Helper()
	return result(t, cmd.Wait(), stderr.String(), out)
}

// result is what a host run gave: its exit code, stderr, the records'
// path and the statistics it printed.
func result(t testing.TB, err error, stderr, out string) *hostResult {
	t.Helper()
	r := &hostResult{stderr: stderr, outPath: out}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if i := strings.LastIndex(r.stderr, "FLBHOST_STATS "); i >= 0 {
		line := r.stderr[i+len("FLBHOST_STATS "):]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		if err := json.Unmarshal([]byte(line), &r.stats); err != nil {
			t.Fatalf("FLBHOST_STATS: %v: %s", err, line)
		}
	}
	return r
}

// runHost runs the host to completion; "SO" in args stands for the plugin.
func runHost(t testing.TB, args ...string) *hostResult {
	t.Helper()
	cmd, stdin, stderr, out := startHost(t, args...)
	stdin.Close()
	return finish(t, cmd, stderr, out)
}

// requireClean asserts a clean exit with a responsive callback.
func requireClean(t testing.TB, r *hostResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("host exit %d\n%s", r.code, tail(r.stderr))
	}
	if !strings.Contains(r.stderr, "FLBHOST_STATS") {
		t.Fatalf("no FLBHOST_STATS\n%s", tail(r.stderr))
	}
	if r.stats.MaxCallbackMs >= 50 {
		t.Errorf("max callback time %.1f ms, want < 50", r.stats.MaxCallbackMs)
	}
	if !strings.Contains(r.stderr, "final stats {") {
		t.Errorf("no final stats line at exit\n%s", tail(r.stderr))
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// requireFileSource skips the test until pipeline.Start can open a file.
func requireFileSource(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	p, err := corpus.WriteFile(dir, corpus.Seed)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pipeline.Parse(func(k string) (string, bool) {
		switch k {
		case "path":
			return p, true
		case "read_from_head":
			return "true", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := pipeline.Start(cfg, nil)
	if err != nil {
		t.Skipf("pipeline.Start(source=file) fails: %v", err)
	}
	l.Stop()
}

// batchCount runs the synchronous pipeline over a file: the number of
// documents the plugin must deliver for it.
func batchCount(t testing.TB, path string, props ...string) int {
	t.Helper()
	cfg, err := pipeline.Parse(propGetter(props))
	if err != nil {
		t.Fatal(err)
	}
	b, err := pipeline.NewBatch(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := b.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return int(b.Docs)
}

func propGetter(props []string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for _, p := range props {
			if kk, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(kk, k) {
				return v, v != ""
			}
		}
		return "", false
	}
}

func TestExports(t *testing.T) {
	so, _ := build(t)
	out, err := exec.Command("nm", "-D", "--defined-only", so).Output()
	if err != nil {
		t.Fatal(err)
	}
	syms := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "T" {
			syms[f[2]] = true
		}
	}
	for _, s := range []string{
		"FLBPluginRegister", "FLBPluginInit", "FLBPluginInputCallback", "FLBPluginInputCallbackCtx",
		"FLBPluginInputCleanupCallback", "FLBPluginInputCleanupCallbackCtx", "FLBPluginInputPause",
		"FLBPluginInputResume", "FLBPluginInputPreExit", "FLBPluginExit", "FLBPluginUnregister",
	} {
		if !syms[s] {
			t.Errorf("%s not exported", s)
		}
	}
	if strings.HasPrefix(filepath.Base(so), "flb-") {
		t.Error("a .so named flb-* is loaded as a C plugin")
	}
}

// TestHostValidator checks the host's own buffer validator: it must reject
// what Fluent Bit rejects, or the other tests prove nothing.
func TestHostValidator(t *testing.T) {
	_, host := build(t)
	out, err := exec.Command(host, "-selftest-bad", "good").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"r":{"a":1,"b":"x\"\n"}`) {
		t.Fatalf("good buffer: %v\n%s", err, out)
	}
	for _, kind := range []string{"ext-type", "ext-len", "not-array", "array3", "not-map", "meta-not-map",
		"trailing", "truncated", "utf8", "nanos", "key-not-string", "bad-byte"} {
		cmd := exec.Command(host, "-selftest-bad", kind)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || !strings.Contains(string(out), "invalid buffer") {
			t.Errorf("%s: want exit 4 and 'invalid buffer', got %v\n%s", kind, err, out)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct{ prop, key string }{
		{"schema=xml", "schema"},
		{"SCHEMA=xml", "schema"}, // property lookup is case-insensitive
		{"source=tcp", "source"},
		{"ancestry_depth=99", "ancestry_depth"},
		{"event_timeout=soon", "event_timeout"},
		{"read_from_head=maybe", "read_from_head"},
		{"buffer_max_size=10", "buffer_max_size"},
		{"kind=kills", "kind"},
		{"format=text", "format"}, // the CLI's keys are no properties
		{"since=today", "since"},
	} {
		t.Run(tc.prop, func(t *testing.T) {
			r := runHost(t, "SO", "-i", "linux_audit", "-p", tc.prop, "-p", "path=/nonexistent")
			if r.code != 3 {
				t.Fatalf("exit %d, want 3 (Init failed)\n%s", r.code, r.stderr)
			}
			var errs []string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(l, "[error]") {
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], "[linux_audit]") || !strings.Contains(errs[0], `"`+tc.key+`"`) {
				t.Fatalf("want one error line naming %q, got %q", tc.key, errs)
			}
			if !strings.Contains(r.stderr, "[linux_audit] version test-1") {
				t.Errorf("no version line\n%s", r.stderr)
			}
		})
	}
}

// TestSearchProperties: the search keys of both front ends (kind,
// success, unit) select the plugin's records too.
func TestSearchProperties(t *testing.T) {
	requireFileSource(t)
	dir := t.TempDir()
	p, err := corpus.WriteFile(dir, corpus.Kills)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		props []string
		want  int
	}{
		{[]string{"kind=kill", "success=no"}, 2}, // the EPERM and ESRCH kills
		{[]string{"kind=file,exec"}, 0},
		{[]string{"success=yes"}, 20},
	} {
		args := []string{"-interval-ms", "100", "-idle", "4", "-t", "60", "SO", "-i", "linux_audit", "-p", "path=" + p, "-p", "read_from_head=true", "-p", "proc=false"}
		for _, pr := range tc.props {
			args = append(args, "-p", pr)
		}
		r := runHost(t, args...)
		requireClean(t, r)
		if recs := r.records(t); len(recs) != tc.want {
			t.Errorf("%v: %d records, want %d", tc.props, len(recs), tc.want)
		}
	}
}

// TestStartError: a source that cannot start fails Init with one error line.
func TestStartError(t *testing.T) {
	requireFileSource(t)
	r := runHost(t, "-t", "10", "SO", "-i", "linux_audit", "-p", "path=/nonexistent/audit.log",
		"-p", "db=/nonexistent/dir/offsets.db")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "[error] [linux_audit]"); n != 1 || !strings.Contains(r.stderr, "offsets.db") {
		t.Errorf("want one error line naming the db\n%s", r.stderr)
	}
}

// TestMissingFile: a log file that does not exist yet is waited for.
func TestMissingFile(t *testing.T) {
	requireFileSource(t)
	r := runHost(t, "-t", "2", "-interval-ms", "100", "SO", "-i", "linux_audit", "-p", "path=/nonexistent/dir/audit.log")
	requireClean(t, r)
	if !strings.Contains(r.stderr, "[warn] [linux_audit]") {
		t.Errorf("no warning about the missing file\n%s", r.stderr)
	}
}

// serialOf finds the audit serial in a record (top level, event.serial in
// the default schema, auditd.sequence in ECS).
func serialOf(r map[string]any) (string, bool) {
	if n, ok := r["serial"].(json.Number); ok {
		return n.String(), true
	}
	for _, p := range [][2]string{{"event", "serial"}, {"auditd", "sequence"}} {
		if m, ok := r[p[0]].(map[string]any); ok {
			if n, ok := m[p[1]].(json.Number); ok {
				return n.String(), true
			}
		}
	}
	// the compact default schema: event.id "[node:]sec.msec:serial"
	if m, ok := r["event"].(map[string]any); ok {
		if id, ok := m["id"].(string); ok {
			if i := strings.LastIndexByte(id, ':'); i >= 0 && i+1 < len(id) {
				if _, err := strconv.ParseUint(id[i+1:], 10, 64); err == nil {
					return id[i+1:], true
				}
			}
		}
	}
	return "", false
}

var serialRE = regexp.MustCompile(`msg=audit\(\d+\.\d+:(\d+)\)`)

func TestSeed(t *testing.T) {
	requireFileSource(t)
	for _, fb := range []string{"5.1", "4.2", "4.0", "3.2"} {
		t.Run("fb"+fb, func(t *testing.T) {
			dir := t.TempDir()
			p, err := corpus.WriteFile(dir, corpus.Seed)
			if err != nil {
				t.Fatal(err)
			}
			want := serialRE.FindSubmatch(corpus.Bytes(corpus.Seed))
			r := runHost(t, "-fb", fb, "-interval-ms", "100", "-idle", "4", "-t", "60",
				"SO", "-i", "linux_audit", "-p", "path="+p, "-p", "read_from_head=true")
			requireClean(t, r)
			recs := r.records(t)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if s, ok := serialOf(recs[0].R); !ok || want == nil || s != string(want[1]) {
				t.Errorf("serial %v, want %s; record %v", recs[0].R["serial"], want[1], recs[0].R)
			}
		})
	}
}

func TestCorpus(t *testing.T) {
	requireFileSource(t)
	for _, tc := range []struct {
		name string
		want int
	}{
		{corpus.Enriched, 9351},
		{corpus.NodeRaw, 3307},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p, err := corpus.WriteFile(dir, tc.name)
			if err != nil {
				t.Fatal(err)
			}
			batch := batchCount(t, p, "read_from_head=true")
			if batch != tc.want {
				t.Errorf("the batch pipeline gives %d documents for %s, the brief says %d", batch, tc.name, tc.want)
			}
			r := runHost(t, "-interval-ms", "200", "-idle", "5", "-t", "120",
				"SO", "-i", "linux_audit", "-p", "path="+p, "-p", "read_from_head=true")
			requireClean(t, r)
			recs := r.records(t)
			if len(recs) != batch {
				t.Errorf("%d records, want %d (batch pipeline)", len(recs), batch)
			}
			seen := map[string]bool{}
			for _, rec := range recs {
				if _, ok := serialOf(rec.R); !ok {
					t.Fatalf("record without numeric serial: %v", rec.R)
				}
				id, _ := rec.R["event"].(map[string]any)["id"].(string)
				seen[id] = true
			}
			if len(seen) != len(recs) {
				t.Errorf("%d distinct event.id in %d records", len(seen), len(recs))
			}
			t.Logf("%s: %d records, %d distinct ids, %d callbacks, %d batches, %d bytes, max callback %.2f ms",
				tc.name, len(recs), len(seen), r.stats.Callbacks, r.stats.Batches, r.stats.Bytes, r.stats.MaxCallbackMs)
		})
	}
}

func TestTwoInstances(t *testing.T) {
	requireFileSource(t)
	for _, fb := range []string{"5.1", "4.2"} {
		t.Run("fb"+fb, func(t *testing.T) {
			dir := t.TempDir()
			seed, err := corpus.WriteFile(dir, corpus.Seed)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := corpus.WriteFile(dir, corpus.NodeRaw)
			if err != nil {
				t.Fatal(err)
			}
			want := batchCount(t, raw, "read_from_head=true")
			r := runHost(t, "-fb", fb, "-interval-ms", "100", "-idle", "5", "-t", "120", "SO",
				"-i", "linux_audit", "-p", "path="+seed, "-p", "read_from_head=true",
				"-i", "linux_audit", "-p", "path="+raw, "-p", "read_from_head=true", "-p", "schema=ecs")
			requireClean(t, r)
			n := map[int]int{}
			for _, rec := range r.records(t) {
				n[rec.I]++
			}
			if n[0] != 1 || n[1] != want || len(n) != 2 {
				t.Errorf("records per instance %v, want 0:1 1:%d", n, want)
			}
			if strings.Count(r.stderr, "final stats {") != 2 {
				t.Errorf("want two final stats lines\n%s", tail(r.stderr))
			}
		})
	}
}

// TestHandover: the batch Fluent Bit takes is filled all along and bounded
// by buffer_max_size (one entry may exceed it alone); every record arrives
// once; the plugin's own count of callbacks, batches
// and bytes (final stats, handover) matches what the host received; with
// the callbacks with context (5.1) and without (3.2).
func TestHandover(t *testing.T) {
	requireFileSource(t)
	dir := t.TempDir()
	raw, err := corpus.WriteFile(dir, corpus.Enriched)
	if err != nil {
		t.Fatal(err)
	}
	want := batchCount(t, raw, "read_from_head=true")
	const max = 256 << 10
	for _, fb := range []string{"5.1", "3.2"} {
		t.Run("fb"+fb, func(t *testing.T) {
			r := runHost(t, "-fb", fb, "-interval-ms", "100", "-n", strconv.Itoa(want), "-idle", "5", "-t", "120", "SO",
				"-i", "linux_audit", "-p", "path="+raw, "-p", "read_from_head=true", "-p", "buffer_max_size="+strconv.Itoa(max))
			requireClean(t, r)
			recs := r.records(t)
			if len(recs) != want {
				t.Fatalf("%d records, want %d", len(recs), want)
			}
			seen := map[string]bool{}
			for _, rec := range recs {
				id := audittest.Field(rec.R, "event.id")
				if seen[id] {
					t.Fatalf("event %s delivered twice", id)
				}
				seen[id] = true
			}
			// The largest event of the corpus is well under 64 KiB.
			if r.stats.MaxBatch > max+64<<10 {
				t.Errorf("largest batch %d bytes, buffer_max_size %d", r.stats.MaxBatch, max)
			}
			if min := r.stats.Bytes / max; r.stats.Batches < min {
				t.Errorf("%d batches for %d bytes, want at least %d", r.stats.Batches, r.stats.Bytes, min)
			}
			const mark = "final stats "
			i := strings.LastIndex(r.stderr, mark)
			if i < 0 {
				t.Fatalf("no final stats\n%s", tail(r.stderr))
			}
			line, _, _ := strings.Cut(r.stderr[i+len(mark):], "\n")
			var st struct {
				Handover handoverStats `json:"handover"`
				Queue    struct {
					Delivered int64 `json:"delivered"`
				} `json:"queue"`
			}
			if err := json.Unmarshal([]byte(line), &st); err != nil {
				t.Fatalf("final stats: %v: %s", err, line)
			}
			h := st.Handover
			if int64(h.Batches) != r.stats.Batches || int64(h.Bytes) != r.stats.Bytes || int64(h.Callbacks) != r.stats.Callbacks {
				t.Errorf("plugin says %+v, host got %d callbacks, %d batches, %d bytes", h, r.stats.Callbacks, r.stats.Batches, r.stats.Bytes)
			}
			if st.Queue.Delivered != int64(want) {
				t.Errorf("plugin acknowledged %d records, want %d", st.Queue.Delivered, want)
			}
			t.Logf("%d records in %d batches (largest %d bytes) over %d callbacks; longest callback %.3f ms (plugin) / %.3f ms (host)",
				len(recs), r.stats.Batches, r.stats.MaxBatch, r.stats.Callbacks, h.MaxCallbackMs, r.stats.MaxCallbackMs)
		})
	}
}

// TestOldFluentBitSingleInstance: Fluent Bit < 4.1 (its Init context is
// the old struct, its callbacks carry no context) gets one clear refusal for
// a second instance, and with -fb 3.2 the host checks that the plugin left
// Fluent Bit <= 4.0.2 no freed plugin struct to use at exit.
func TestOldFluentBitSingleInstance(t *testing.T) {
	requireFileSource(t)
	dir := t.TempDir()
	seed, err := corpus.WriteFile(dir, corpus.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, fb := range []string{"4.0", "3.2"} {
		t.Run("fb"+fb, func(t *testing.T) {
			r := runHost(t, "-fb", fb, "-interval-ms", "100", "-t", "10", "SO",
				"-i", "linux_audit", "-p", "path="+seed, "-p", "read_from_head=true",
				"-i", "linux_audit", "-p", "path="+seed, "-p", "read_from_head=true")
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
			}
			var errs []string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.HasPrefix(l, "[error]") {
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], "[error] [linux_audit] a second linux_audit input is refused: this Fluent Bit is older than 4.1") {
				t.Errorf("want one clear error line, got %q\n%s", errs, r.stderr)
			}
			if !strings.Contains(r.stderr, "[linux_audit] started: source=file") {
				t.Errorf("the first instance did not start\n%s", r.stderr)
			}
		})
	}
}

// TestOldFluentBitBadConfig: a failed Init on Fluent Bit <= 4.0.2 must not
// leave it a freed plugin struct (the host exits 7 if it does).
func TestOldFluentBitBadConfig(t *testing.T) {
	r := runHost(t, "-fb", "3.2", "SO", "-i", "linux_audit", "-p", "schema=xml", "-p", "path=/nonexistent")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (Init failed)\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `[error] [linux_audit] invalid value "xml" for key "schema"`) {
		t.Errorf("no clear error\n%s", r.stderr)
	}
}

// TestUnknownABI: an Init context that matches no known layout is refused
// with one line.
func TestUnknownABI(t *testing.T) {
	r := runHost(t, "-fb", "unknown", "SO", "-i", "linux_audit", "-p", "path=/nonexistent")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (Init failed)\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "[error] [linux_audit] unknown Fluent Bit plugin ABI"); n != 1 {
		t.Errorf("want one error line about the ABI\n%s", r.stderr)
	}
}

// countLines counts the lines written so far to the host's output file.
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte{'\n'})
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPauseResume(t *testing.T) {
	requireFileSource(t)
	dir := t.TempDir()
	p, err := corpus.WriteFile(dir, corpus.Seed)
	if err != nil {
		t.Fatal(err)
	}
	more := corpus.Bytes(corpus.NodeRaw)
	rawPath := filepath.Join(dir, "raw.log")
	if err := os.WriteFile(rawPath, more, 0o644); err != nil {
		t.Fatal(err)
	}
	want := 1 + batchCount(t, rawPath, "read_from_head=true")

	cmd, stdin, stderr, out := startHost(t, "-interval-ms", "100", "-t", "120", "SO",
		"-i", "linux_audit", "-p", "path="+p, "-p", "read_from_head=true", "-p", "event_timeout=500ms")
	defer cmd.Process.Kill()
	waitFor(t, "the seed record", 30*time.Second, func() bool { return countLines(out) >= 1 })

	io.WriteString(stdin, "pause\n")
	time.Sleep(300 * time.Millisecond)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(more)
	f.Close()
	time.Sleep(2 * time.Second)
	if n := countLines(out); n != 1 {
		t.Fatalf("%d records while paused, want 1", n)
	}
	io.WriteString(stdin, "resume\n")
	waitFor(t, fmt.Sprintf("%d records after resume", want), 60*time.Second, func() bool { return countLines(out) >= want })
	time.Sleep(1500 * time.Millisecond) // nothing beyond want
	io.WriteString(stdin, "quit\n")
	stdin.Close()
	r := finish(t, cmd, stderr, out)
	requireClean(t, r)
	if n := len(r.records(t)); n != want {
		t.Errorf("%d records, want %d", n, want)
	}
}

// bigCorpus writes at least n lines: the ENRICHED corpus repeated with
// shifted serials (every copy's events are distinct).
func bigCorpus(t testing.TB, n int) (path string, lines int) {
	t.Helper()
	src := corpus.Lines(corpus.Enriched)
	reps := (n + len(src) - 1) / len(src)
	minS, maxS := uint64(1<<63), uint64(0)
	for _, l := range src {
		if m := serialRE.FindSubmatch(l); m != nil {
			s, _ := strconv.ParseUint(string(m[1]), 10, 64)
			minS, maxS = min(minS, s), max(maxS, s)
		}
	}
	span := maxS - minS + 1
	path = filepath.Join(t.TempDir(), "big.log")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for rep := 0; rep < reps; rep++ {
		for _, l := range src {
			loc := serialRE.FindSubmatchIndex(l)
			if loc == nil {
				w.Write(l)
			} else {
				s, _ := strconv.ParseUint(string(l[loc[2]:loc[3]]), 10, 64)
				w.Write(l[:loc[2]])
				w.WriteString(strconv.FormatUint(s+uint64(rep)*span, 10))
				w.Write(l[loc[3]:])
			}
			w.WriteByte('\n')
			lines++
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, lines
}

// TestThroughput runs the plugin over ~1M lines (the ENRICHED corpus
// repeated with shifted serials) and reports events/s, CPU, peak RSS and
// the longest callback.
func TestThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	requireFileSource(t)
	big, lines := bigCorpus(t, 1_000_000)
	want := batchCount(t, big, "read_from_head=true")

	// Fluent Bit calls the collector once a second, so it takes at most
	// buffer_max_size bytes per second from the plugin; here the host calls
	// every 50 ms to measure what the pipeline itself sustains.
	r := runHost(t, "-q", "-interval-ms", "50", "-n", strconv.Itoa(want), "-idle", "10", "-t", "600", "SO",
		"-i", "linux_audit", "-p", "path="+big, "-p", "read_from_head=true")
	requireClean(t, r)
	if r.stats.Records != int64(want) {
		t.Errorf("%d records, want %d", r.stats.Records, want)
	}
	el := r.stats.LastRecordS - r.stats.InitS
	cpu := r.stats.CPUUser + r.stats.CPUSys
	t.Logf("%d lines, %d events, %d MiB msgpack in %.2fs: %.0f events/s, %.0f lines/s; CPU %.2fs (%.0f%% of one core, %.1f µs/event); peak RSS %d MiB; %d callbacks, max callback %.2f ms",
		lines, r.stats.Records, r.stats.Bytes>>20, el, float64(r.stats.Records)/el, float64(lines)/el,
		cpu, 100*cpu/r.stats.Wall, 1e6*cpu/float64(r.stats.Records), r.stats.MaxRSSKB>>10, r.stats.Callbacks, r.stats.MaxCallbackMs)
	if r.stats.Records > 0 {
		per := float64(r.stats.Bytes) / float64(r.stats.Records)
		bm := pipeline.Default().BufferMaxSize
		t.Logf("%.0f bytes/event: at Fluent Bit's 1 s collector, buffer_max_size=%d hands over at most %.0f events/s", per, bm, float64(bm)/per)
	}
}
