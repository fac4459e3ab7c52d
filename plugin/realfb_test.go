package main

// TestRealFluentBit runs the built plugin inside a real Fluent Bit binary
// (the C host of plugin_test.go only imitates it). It skips when no
// fluent-bit is found: set FLUENT_BIT=/path/to/fluent-bit or put one on PATH.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// findFluentBit returns the fluent-bit to use: $FLUENT_BIT if set, else the
// one on PATH, else "".
func findFluentBit(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FLUENT_BIT"); p != "" {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
		t.Logf("FLUENT_BIT=%s is not an executable file; trying PATH", p)
	}
	if p, err := exec.LookPath("fluent-bit"); err == nil {
		return p
	}
	return ""
}

type fbResult struct {
	records []map[string]any
	output  string // fluent-bit's stdout and stderr
	elapsed time.Duration
}

// runFluentBit runs fb with the plugin over one file, writing records to a
// file output (one JSON record per line). It waits until want records have
// arrived and nothing more came for settle (or until timeout), then stops
// fluent-bit with SIGTERM and expects a clean exit.
func runFluentBit(t *testing.T, fb, so, logPath string, want int, timeout time.Duration) *fbResult {
	t.Helper()
	outDir := t.TempDir()
	const outFile = "records.json"
	outPath := filepath.Join(outDir, outFile)
	cmd := exec.Command(fb, "-e", so,
		"-i", "linux_audit", "-p", "path="+logPath, "-p", "read_from_head=true", "-t", "audit",
		"-o", "file", "-m", "audit", "-p", "path="+outDir, "-p", "file="+outFile, "-p", "format=plain",
		"-f", "1")
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

	// Wait for the records, watching for an early exit.
	const settle = 2 * time.Second
	deadline := time.Now().Add(timeout)
	last, lastChange := -1, time.Now()
	for {
		n := countLines(outPath)
		if n != last {
			last, lastChange = n, time.Now()
		}
		if n >= want && time.Since(lastChange) >= settle {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("timed out after %v with %d records, want %d", timeout, n, want)
			break
		}
		select {
		case err := <-done:
			exited = true
			t.Fatalf("fluent-bit exited early (%v) with %d records\n%s", err, countLines(outPath), tail(output.String()))
		case <-time.After(100 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)

	// Stop it: SIGTERM to its pid, then the grace period (5 s by default).
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var werr error
	select {
	case werr = <-done:
		exited = true
	case <-time.After(30 * time.Second):
		t.Fatalf("fluent-bit did not exit within 30 s of SIGTERM\n%s", tail(output.String()))
	}
	out := output.String()
	if werr != nil {
		t.Errorf("fluent-bit exit: %v\n%s", werr, tail(out))
	}
	for _, bad := range []string{"SIGSEGV", "SIGABRT", "crash", "panic:", "fatal error:", "[engine] caught signal (SIGSEGV)"} {
		if strings.Contains(out, bad) {
			t.Errorf("fluent-bit output contains %q\n%s", bad, tail(out))
		}
	}
	if !strings.Contains(out, "[linux_audit] version") {
		t.Errorf("no plugin version line in the fluent-bit log\n%s", tail(out))
	}
	if !strings.Contains(out, "final stats {") {
		t.Errorf("no final stats line at exit\n%s", tail(out))
	}

	r := &fbResult{output: out, elapsed: elapsed}
	f, err := os.Open(outPath)
	if err != nil {
		t.Fatalf("%v\n%s", err, tail(out))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var rec map[string]any
		if err := d.Decode(&rec); err != nil {
			t.Fatalf("output line is not a JSON object: %v: %.200s", err, sc.Text())
		}
		r.records = append(r.records, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRealFluentBit(t *testing.T) {
	fb := findFluentBit(t)
	if fb == "" {
		t.Skip("SKIP: no fluent-bit on PATH (set FLUENT_BIT=/path/to/fluent-bit to run this test)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	requireFileSource(t)
	if v, err := exec.Command(fb, "--version").Output(); err == nil {
		t.Logf("using %s: %s", fb, strings.SplitN(string(v), "\n", 2)[0])
	}
	so, _ := build(t)

	t.Run("seed", func(t *testing.T) {
		p, err := corpus.WriteFile(t.TempDir(), corpus.Seed)
		if err != nil {
			t.Fatal(err)
		}
		r := runFluentBit(t, fb, so, p, 1, 60*time.Second)
		if len(r.records) != 1 {
			t.Fatalf("%d records, want 1\n%s", len(r.records), tail(r.output))
		}
		const want = `pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)`
		if got, _ := r.records[0]["summary"].(string); got != want {
			t.Errorf("summary %q\nwant    %q\nrecord %v", got, want, r.records[0])
		}
		t.Logf("seed: 1 record after %v", r.elapsed.Round(time.Millisecond))
	})

	t.Run("corpus", func(t *testing.T) {
		const want = 9351
		p, err := corpus.WriteFile(t.TempDir(), corpus.Enriched)
		if err != nil {
			t.Fatal(err)
		}
		if n := batchCount(t, p, "read_from_head=true"); n != want {
			t.Errorf("the batch pipeline gives %d documents for %s, want %d", n, corpus.Enriched, want)
		}
		r := runFluentBit(t, fb, so, p, want, 120*time.Second)
		if len(r.records) != want {
			t.Errorf("%d records, want %d", len(r.records), want)
		}
		ids := map[string]bool{}
		for _, rec := range r.records {
			if _, ok := serialOf(rec); !ok {
				t.Fatalf("record without numeric serial: %v", rec)
			}
			if ev, ok := rec["event"].(map[string]any); ok {
				if id, ok := ev["id"].(string); ok {
					ids[id] = true
				}
			}
		}
		if len(ids) != len(r.records) {
			t.Errorf("%d distinct event.id in %d records", len(ids), len(r.records))
		}
		t.Logf("%s: %d records (%d distinct ids) after %v", corpus.Enriched, len(r.records), len(ids), r.elapsed.Round(time.Millisecond))
	})
}
