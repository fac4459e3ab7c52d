package main

// TestRealFluentBit runs the built plugin inside every real Fluent Bit binary
// it finds (the C host of plugin_test.go only imitates one):
//
//   - $FLUENT_BIT, a list of paths separated by ':', if set (only those);
//   - otherwise every /usr/local/lib/flb-*/bin/fluent-bit (override the
//     pattern with $FLUENT_BIT_GLOB) plus the fluent-bit on PATH, the same
//     binary counted once.
//
// It skips, saying so, when it finds none. Per version it checks the seed
// answer, the corpus count, two instances (both deliver on >= 4.1; on older
// versions the second is refused with one line and the first delivers),
// `threaded` on and off, the three ways to load the plugin (-e, YAML
// `plugins:`, classic plugins_file), and a clean exit on SIGTERM.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

const seedSummary = `pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)`

// refusalLine is the start of the plugin's error for a second instance on
// Fluent Bit < 4.1.
const refusalLine = "[linux_audit] a second linux_audit input is refused: this Fluent Bit is older than 4.1"

type fluentBit struct {
	path    string
	version string // "v4.2.8"
	v       [3]int
}

// atLeast reports whether the version is >= major.minor.
func (fb fluentBit) atLeast(major, minor int) bool {
	return fb.v[0] > major || fb.v[0] == major && fb.v[1] >= minor
}

var fbVersionRE = regexp.MustCompile(`Fluent Bit v(\d+)\.(\d+)\.(\d+)`)

// fbGlob is where installed Fluent Bit builds are looked for.
func fbGlob() string {
	if g := os.Getenv("FLUENT_BIT_GLOB"); g != "" {
		return g
	}
	return "/usr/local/lib/flb-*/bin/fluent-bit"
}

// fluentBits lists the Fluent Bit binaries to test, oldest first.
func fluentBits(t *testing.T) []fluentBit {
	t.Helper()
	var cands []string
	if env := os.Getenv("FLUENT_BIT"); env != "" {
		cands = filepath.SplitList(env)
	} else {
		m, _ := filepath.Glob(fbGlob())
		cands = append(cands, m...)
		if p, err := exec.LookPath("fluent-bit"); err == nil {
			cands = append(cands, p)
		}
	}
	var fbs []fluentBit
	seen := map[string]bool{}
	for _, p := range cands {
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			t.Logf("%s is not an executable file; ignored", p)
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		out, err := exec.Command(p, "--version").Output()
		m := fbVersionRE.FindStringSubmatch(string(out))
		if err != nil || m == nil {
			t.Errorf("%s --version: %v: %q", p, err, out)
			continue
		}
		fb := fluentBit{path: p, version: "v" + m[1] + "." + m[2] + "." + m[3]}
		for i := range fb.v {
			fb.v[i], _ = strconv.Atoi(m[i+1])
		}
		if seen[real] || seen[fb.version] {
			continue
		}
		seen[real], seen[fb.version] = true, true
		fbs = append(fbs, fb)
	}
	sort.Slice(fbs, func(i, j int) bool {
		a, b := fbs[i].v, fbs[j].v
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
	return fbs
}

// fbRun is one run of fluent-bit.
type fbRun struct {
	args    []string // fluent-bit's arguments
	outs    []string // file outputs, one JSON record per line
	want    int      // records expected over all outs
	timeout time.Duration
	// exits: fluent-bit is expected to stop by itself (it refuses to
	// start); want is then 0 and the exit status is not checked.
	exits bool
}

type fbResult struct {
	records map[string][]map[string]any // by output file
	output  string                      // fluent-bit's stdout and stderr
	elapsed time.Duration
	code    int
}

func (r *fbResult) all() []map[string]any {
	var all []map[string]any
	for _, recs := range r.records {
		all = append(all, recs...)
	}
	return all
}

// runFluentBit runs fluent-bit and waits until run.want records have
// arrived and nothing more came for 2 s (or until the timeout), then stops
// it with SIGTERM and expects a clean exit (status 0, no crash).
func runFluentBit(t *testing.T, fb fluentBit, run fbRun) *fbResult {
	t.Helper()
	cmd := exec.Command(fb.path, run.args...)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	defer func() {
		if !exited {
			cmd.Process.Kill() // only the process this test started
			<-done
		}
	}()
	count := func() int {
		n := 0
		for _, p := range run.outs {
			n += countLines(p)
		}
		return n
	}

	var werr error
	if run.exits {
		select {
		case werr = <-done:
			exited = true
		case <-time.After(run.timeout):
			t.Fatalf("fluent-bit did not stop by itself within %v\n%s", run.timeout, tail(output.String()))
		}
	} else {
		const settle = 2 * time.Second
		deadline := time.Now().Add(run.timeout)
		last, lastChange := -1, time.Now()
		for {
			n := count()
			if n != last {
				last, lastChange = n, time.Now()
			}
			if n >= run.want && time.Since(lastChange) >= settle {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("timed out after %v with %d records, want %d", run.timeout, n, run.want)
				break
			}
			select {
			case err := <-done:
				exited = true
				t.Fatalf("fluent-bit exited early (%v) with %d records\n%s", err, count(), tail(output.String()))
			case <-time.After(100 * time.Millisecond):
			}
		}
		// Stop it: SIGTERM to its pid, then the grace period (5 s by default).
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case werr = <-done:
			exited = true
		case <-time.After(30 * time.Second):
			t.Fatalf("fluent-bit did not exit within 30 s of SIGTERM\n%s", tail(output.String()))
		}
	}
	r := &fbResult{output: output.String(), elapsed: time.Since(start), records: map[string][]map[string]any{}}
	if ee, ok := werr.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
		if ee.Exited() {
			werr = nil // a status, not a signal: judged below
		}
	}
	if werr != nil {
		t.Errorf("fluent-bit: %v\n%s", werr, tail(r.output))
	}
	if !run.exits && r.code != 0 {
		t.Errorf("fluent-bit exit status %d after SIGTERM, want 0\n%s", r.code, tail(r.output))
	}
	for _, bad := range []string{"SIGSEGV", "SIGABRT", "SIGBUS", "crash", "panic:", "fatal error:", "double free", "corrupted"} {
		if strings.Contains(r.output, bad) {
			t.Errorf("fluent-bit output contains %q\n%s", bad, tail(r.output))
		}
	}
	if !strings.Contains(r.output, "[linux_audit] version") {
		t.Errorf("no plugin version line in the fluent-bit log\n%s", tail(r.output))
	}
	if run.want > 0 && !strings.Contains(r.output, "final stats {") {
		t.Errorf("no final stats line at exit\n%s", tail(r.output))
	}
	for _, p := range run.outs {
		r.records[p] = readJSONLines(t, p)
	}
	return r
}

// readJSONLines reads a file output's records; a missing file has none.
func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var rec map[string]any
		if err := d.Decode(&rec); err != nil {
			t.Fatalf("%s: output line is not a JSON object: %v: %.200s", path, err, sc.Text())
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// fileOutArgs are the command-line arguments of a file output writing one
// JSON record per line.
func fileOutArgs(match, path string) []string {
	return []string{"-o", "file", "-m", match, "-p", "path=" + filepath.Dir(path), "-p", "file=" + filepath.Base(path), "-p", "format=plain"}
}

// yamlConfig writes a YAML configuration loading the plugin by the
// top-level plugins: list, one linux_audit input per path (tags in0,
// in1...; extra keys added to each) and one file output per input.
func yamlConfig(t *testing.T, so string, paths []string, extra map[string]string) (config string, outs []string) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	fmt.Fprintf(&b, "service:\n  flush: 1\n  log_level: info\nplugins:\n  - %s\npipeline:\n  inputs:\n", so)
	for i, p := range paths {
		fmt.Fprintf(&b, "    - name: linux_audit\n      tag: in%d\n      path: %s\n      read_from_head: true\n", i, p)
		keys := make([]string, 0, len(extra))
		for k := range extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "      %s: %s\n", k, extra[k])
		}
	}
	b.WriteString("  outputs:\n")
	for i := range paths {
		out := filepath.Join(dir, fmt.Sprintf("in%d.json", i))
		outs = append(outs, out)
		fmt.Fprintf(&b, "    - name: file\n      match: in%d\n      path: %s\n      file: %s\n      format: plain\n", i, dir, filepath.Base(out))
	}
	config = filepath.Join(dir, "fluent-bit.yaml")
	if err := os.WriteFile(config, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return config, outs
}

// seedCopies writes n copies of the seed log, each in its own file.
func seedCopies(t *testing.T, n int) []string {
	t.Helper()
	var ps []string
	for i := 0; i < n; i++ {
		p, err := corpus.WriteFile(t.TempDir(), corpus.Seed)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func checkSeed(t *testing.T, recs []map[string]any, out string) {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1\n%s", len(recs), tail(out))
	}
	if got, _ := recs[0]["summary"].(string); got != seedSummary {
		t.Errorf("summary %q\nwant    %q\nrecord %v", got, seedSummary, recs[0])
	}
}

func TestRealFluentBit(t *testing.T) {
	fbs := fluentBits(t)
	if len(fbs) == 0 {
		where := "$FLUENT_BIT=" + os.Getenv("FLUENT_BIT")
		if os.Getenv("FLUENT_BIT") == "" {
			where = "$FLUENT_BIT unset, nothing at " + fbGlob() + ", no fluent-bit on PATH"
		}
		t.Skip("SKIP: no Fluent Bit found (" + where + "); set FLUENT_BIT=/path/to/fluent-bit[:/another] to run this test")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	requireFileSource(t)
	so, _ := build(t)
	for _, fb := range fbs {
		t.Run(fb.version, func(t *testing.T) {
			t.Logf("using %s (Fluent Bit %s)", fb.path, fb.version)
			testFluentBit(t, fb, so)
		})
	}
}

func testFluentBit(t *testing.T, fb fluentBit, so string) {
	// Loaded with -e, configured on the command line.
	t.Run("seed", func(t *testing.T) {
		p := seedCopies(t, 1)[0]
		out := filepath.Join(t.TempDir(), "records.json")
		args := append([]string{"-e", so, "-i", "linux_audit", "-p", "path=" + p, "-p", "read_from_head=true", "-t", "audit"},
			fileOutArgs("audit", out)...)
		r := runFluentBit(t, fb, fbRun{args: append(args, "-f", "1"), outs: []string{out}, want: 1, timeout: 60 * time.Second})
		checkSeed(t, r.records[out], r.output)
		t.Logf("seed: 1 record after %v", r.elapsed.Round(time.Millisecond))
	})

	// Loaded by a classic configuration's plugins_file.
	t.Run("corpus", func(t *testing.T) {
		const want = 9351
		dir := t.TempDir()
		p, err := corpus.WriteFile(dir, corpus.Enriched)
		if err != nil {
			t.Fatal(err)
		}
		if n := batchCount(t, p, "read_from_head=true"); n != want {
			t.Errorf("the batch pipeline gives %d documents for %s, want %d", n, corpus.Enriched, want)
		}
		out := filepath.Join(dir, "records.json")
		plugins := filepath.Join(dir, "plugins.conf")
		conf := filepath.Join(dir, "fluent-bit.conf")
		if err := os.WriteFile(plugins, []byte("[PLUGINS]\n    Path "+so+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		classic := fmt.Sprintf("[SERVICE]\n    Flush 1\n    Plugins_File %s\n\n[INPUT]\n    Name linux_audit\n    Tag audit\n    Path %s\n    Read_From_Head true\n\n"+
			"[OUTPUT]\n    Name file\n    Match audit\n    Path %s\n    File %s\n    Format plain\n", plugins, p, dir, filepath.Base(out))
		if err := os.WriteFile(conf, []byte(classic), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runFluentBit(t, fb, fbRun{args: []string{"-c", conf}, outs: []string{out}, want: want, timeout: 120 * time.Second})
		recs := r.records[out]
		if len(recs) != want {
			t.Errorf("%d records, want %d", len(recs), want)
		}
		ids := map[string]bool{}
		for _, rec := range recs {
			if _, ok := serialOf(rec); !ok {
				t.Fatalf("record without numeric serial: %v", rec)
			}
			if ev, ok := rec["event"].(map[string]any); ok {
				if id, ok := ev["id"].(string); ok {
					ids[id] = true
				}
			}
		}
		if len(ids) != len(recs) {
			t.Errorf("%d distinct event.id in %d records", len(ids), len(recs))
		}
		t.Logf("%s: %d records (%d distinct ids) after %v", corpus.Enriched, len(recs), len(ids), r.elapsed.Round(time.Millisecond))
	})

	// A bad value fails Init with one line naming the key. Fluent Bit >=
	// 4.1 then stops; 3.2 carries on without the input (and, up to 4.0.2,
	// crashed at exit unless the plugin moved its struct: see shim.c).
	t.Run("bad_config", func(t *testing.T) {
		p := seedCopies(t, 1)[0]
		out := filepath.Join(t.TempDir(), "records.json")
		args := append([]string{"-e", so, "-i", "linux_audit", "-p", "path=" + p, "-p", "schema=xml", "-t", "audit"},
			fileOutArgs("audit", out)...)
		stops := fb.atLeast(4, 1)
		r := runFluentBit(t, fb, fbRun{args: args, outs: []string{out}, timeout: 30 * time.Second, exits: stops})
		const line = `[error] [linux_audit] invalid value "xml" for key "schema": accepted: default, ecs`
		if n := strings.Count(r.output, line); n != 1 {
			t.Errorf("%d lines %q, want 1\n%s", n, line, tail(r.output))
		}
		if stops && r.code == 0 {
			t.Errorf("fluent-bit exit status 0, want a failed start")
		}
		t.Logf("%s: bad value: Fluent Bit %s (exit %d)", fb.version, map[bool]string{true: "stops", false: "runs on without the input"}[stops], r.code)
	})

	// Loaded by the YAML plugins: list.
	for _, threaded := range []string{"on", "off"} {
		t.Run("threaded_"+threaded, func(t *testing.T) {
			conf, outs := yamlConfig(t, so, seedCopies(t, 1), map[string]string{"threaded": threaded})
			r := runFluentBit(t, fb, fbRun{args: []string{"-c", conf}, outs: outs, want: 1, timeout: 60 * time.Second})
			checkSeed(t, r.records[outs[0]], r.output)
			if th := strings.Contains(r.output, "thread instance initialized"); th != (threaded == "on") {
				t.Errorf("threaded: %s, but 'thread instance initialized' logged: %v", threaded, th)
			}
		})
	}

	for _, threaded := range []string{"", "off"} {
		name := "two_instances"
		extra := map[string]string{}
		if threaded != "" {
			name += "_threaded_" + threaded
			extra["threaded"] = threaded
		}
		t.Run(name, func(t *testing.T) {
			conf, outs := yamlConfig(t, so, seedCopies(t, 2), extra)
			refusals := func(out string) int { return strings.Count(out, refusalLine) }
			switch {
			case fb.atLeast(4, 1):
				// Per-instance state: each input delivers its own record.
				r := runFluentBit(t, fb, fbRun{args: []string{"-c", conf}, outs: outs, want: 2, timeout: 60 * time.Second})
				for _, o := range outs {
					checkSeed(t, r.records[o], r.output)
				}
				if !strings.Contains(r.output, "[linux_audit#2] started") {
					t.Errorf("no [linux_audit#2] started\n%s", tail(r.output))
				}
				if n := strings.Count(r.output, "final stats {"); n != 2 {
					t.Errorf("%d final stats lines, want 2\n%s", n, tail(r.output))
				}
				if n := refusals(r.output); n != 0 {
					t.Errorf("%d refusals on %s", n, fb.version)
				}
			case threaded == "off":
				// Fluent Bit < 4.1 stops when a non-threaded input fails Init.
				r := runFluentBit(t, fb, fbRun{args: []string{"-c", conf}, outs: outs, timeout: 30 * time.Second, exits: true})
				if n := refusals(r.output); n != 1 {
					t.Errorf("%d refusal lines, want 1\n%s", n, tail(r.output))
				}
				if r.code == 0 {
					t.Errorf("fluent-bit exit status 0, want a failed start")
				}
				t.Logf("%s, threaded off: the refused second input stops Fluent Bit (exit %d)", fb.version, r.code)
			default:
				// Fluent Bit < 4.1 carries on without a threaded input
				// that failed Init: the first one delivers, alone.
				r := runFluentBit(t, fb, fbRun{args: []string{"-c", conf}, outs: outs, want: 1, timeout: 60 * time.Second})
				checkSeed(t, r.records[outs[0]], r.output)
				if n := len(r.records[outs[1]]); n != 0 {
					t.Errorf("the refused instance delivered %d records", n)
				}
				if n := refusals(r.output); n != 1 {
					t.Errorf("%d refusal lines, want 1\n%s", n, tail(r.output))
				}
				if strings.Contains(r.output, "[linux_audit#2] started") {
					t.Errorf("a second instance started on %s", fb.version)
				}
			}
		})
	}
}
