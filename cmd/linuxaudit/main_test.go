package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestSample(t *testing.T) {
	code, out, stderr := runCLI(t, "", "--sample")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := `pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)`
	if d["summary"] != want {
		t.Fatalf("summary %q, want %q", d["summary"], want)
	}
}

func TestFilesStdinAndGzip(t *testing.T) {
	dir := t.TempDir()
	plain, err := corpus.WriteFile(dir, corpus.NodeRaw)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", plain)
	if n := strings.Count(out, "\n"); code != 0 || n != 3307 {
		t.Fatalf("file: exit %d, %d documents, want 3307", code, n)
	}
	code, out, _ = runCLI(t, string(corpus.Bytes(corpus.Seed)), "--schema=ecs", "-")
	if code != 0 || !strings.Contains(out, `"event":{"kind":"event","module":"auditd","action":"killed-pid"`) {
		t.Fatalf("stdin ecs: exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "", "--include_keys=gen_kill32", filepath.Join(dir, "nope.log"), plain)
	if code != 1 {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
}

func TestBadOptionsAndInput(t *testing.T) {
	code, _, stderr := runCLI(t, "", "--schema=xml", "--sample")
	if code != 2 || !strings.Contains(stderr, `"schema"`) {
		t.Fatalf("bad schema: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "--include_signals=SIGFOO", "--sample")
	if code != 2 || !strings.Contains(stderr, "include_signals") {
		t.Fatalf("bad signal: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "--no-such-flag")
	if code != 2 {
		t.Fatalf("unknown flag: exit %d", code)
	}
	code, out, stderr := runCLI(t, "this is not\nan audit log\n")
	if code != 1 || out != "" || !strings.Contains(stderr, "2 lines could not be parsed") {
		t.Fatalf("garbage: exit %d, out %q, err %q", code, out, stderr)
	}
}

// TestTypedFlags: booleans need no value (--raw --sample is two flags),
// GNU spellings work beside the key names, -h shows types and defaults.
func TestTypedFlags(t *testing.T) {
	code, out, stderr := runCLI(t, "", "--raw", "--sample")
	if code != 0 || !strings.Contains(out, `"raw":["type=SYSCALL`) {
		t.Fatalf("--raw --sample: exit %d, %s %s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "", "--include-keys=nokey", "--sample")
	if code != 0 || out != "" {
		t.Fatalf("--include-keys: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "", "--include_keys", "nokey", "--sample")
	if code != 0 || out != "" {
		t.Fatalf("--include_keys nokey: exit %d, %q", code, out)
	}
	code, _, stderr = runCLI(t, "", "-h")
	for _, want := range []string{"  -raw\n", "  -ancestry_depth int\n", "(default 4)", "  -event_timeout duration\n", "  -include_keys list\n", `(default "default")`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-h lacks %q:\n%s", want, stderr)
		}
	}
	if code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
