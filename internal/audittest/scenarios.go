package audittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Get walks a dotted path ("target.processes.0.pid") in a decoded
// document and returns the value there, or nil.
func Get(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// Field is Get as text, "<nil>" for nothing.
func Field(m map[string]any, path string) string {
	v := Get(m, path)
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprint(v)
}

// DecodeEntries decodes concatenated Fluent Bit entries
// ([[ext0 time, {}], record]) into their records, failing the test on
// any other shape.
func DecodeEntries(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	for {
		n, err := dec.DecodeArrayLen()
		if err != nil {
			break
		}
		if n != 2 {
			t.Fatalf("entry is an array of %d", n)
		}
		if h, _ := dec.DecodeArrayLen(); h != 2 {
			t.Fatalf("entry header is an array of %d", h)
		}
		if id, l, err := dec.DecodeExtHeader(); err != nil || id != 0 || l != 8 {
			t.Fatalf("time is not ext 0 of 8 bytes: %v %d %d", err, id, l)
		}
		var ts [8]byte
		if _, err := dec.Buffered().Read(ts[:]); err != nil {
			t.Fatal(err)
		}
		if m, err := dec.DecodeMapLen(); err != nil || m != 0 {
			t.Fatalf("metadata: %v %d", err, m)
		}
		m, err := dec.DecodeMap()
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// Wait waits up to timeout for a record that match accepts and returns it
// with the time it arrived; it fails the test when none comes. Each
// harness (the pipeline's queue, the C host's output, a real Fluent Bit)
// gives its own.
type Wait func(t testing.TB, timeout time.Duration, match func(map[string]any) bool) (map[string]any, time.Time)

// Check fails the test for every path whose value is not the wanted one.
func Check(t testing.TB, what string, r map[string]any, want map[string]string) {
	t.Helper()
	for path, w := range want {
		if got := Field(r, path); got != w {
			t.Errorf("%s: %s = %q, want %q", what, path, got, w)
		}
	}
}

// SeedKill reproduces the article's kill (a loop script in the
// background, another script that kill -9s it), with a kill rule under key
// installed, and checks the record: killer, its parent, the target's
// command line, signal, key, within 2 s.
func SeedKill(t testing.TB, wait Wait, key string) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "loop.sh"), []byte("while :; do sleep 1; done\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "xdkill.sh"), []byte("kill -9 $1\n"), 0o755)
	loop := exec.Command("sh", "loop.sh")
	loop.Dir = dir
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { loop.Process.Kill(); loop.Wait() }()
	target := loop.Process.Pid
	time.Sleep(2500 * time.Millisecond) // the /proc scan (every 2 s) sees the loop alive
	killer := exec.Command("sh", "xdkill.sh", strconv.Itoa(target))
	killer.Dir = dir
	start := time.Now()
	if err := killer.Start(); err != nil {
		t.Fatal(err)
	}
	killerPid := killer.Process.Pid
	killer.Wait()
	r, at := wait(t, 5*time.Second, func(r map[string]any) bool {
		return Field(r, "target.processes.0.pid") == strconv.Itoa(target)
	})
	lat := at.Sub(start)
	t.Logf("seed kill: record %v after the kill: %s", lat.Round(time.Millisecond), Field(r, "summary"))
	if lat > 2*time.Second {
		t.Errorf("record arrived %v after the kill, want within 2s", lat)
	}
	Check(t, "seed kill", r, map[string]string{
		"process.pid":                strconv.Itoa(killerPid),
		"process.cmdline":            "sh xdkill.sh " + strconv.Itoa(target),
		"process.exe":                "/usr/bin/dash",
		"process.user":               "root",
		"process.ppid":               strconv.Itoa(os.Getpid()),
		"process.parent.pid":         strconv.Itoa(os.Getpid()),
		"signal.name":                "SIGKILL",
		"target.processes.0.comm":    "sh",
		"target.processes.0.cmdline": "sh loop.sh",
		"key.0":                      key,
		"event.outcome":              "success",
	})
	if c := Field(r, "process.parent.cmdline"); c == "<nil>" || c == "" || Field(r, "process.parent.exe") == "<nil>" {
		t.Errorf("parent without command line or exe: %v", r["process"])
	}
}

// sleeper starts `sleep 30`, killed when the test ends, and returns its pid.
func sleeper(t testing.TB) string {
	t.Helper()
	victim := exec.Command("sleep", "30")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	return strconv.Itoa(victim.Process.Pid)
}

// FailedKill: an unprivileged user's kill of a root process (EPERM).
func FailedKill(t testing.TB, wait Wait) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Log("setpriv missing: EPERM case skipped")
		return
	}
	pid := sleeper(t)
	out, err := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/kill", "-TERM", pid).CombinedOutput()
	if err == nil {
		t.Fatalf("the unprivileged kill succeeded: %s", out)
	}
	r, _ := wait(t, 8*time.Second, func(r map[string]any) bool {
		return Field(r, "target.processes.0.pid") == pid || Field(r, "target.pid_arg") == pid
	})
	t.Logf("failed kill: %s", Field(r, "summary"))
	Check(t, "failed kill", r, map[string]string{
		"syscall.errno":   "EPERM",
		"process.user":    "nobody",
		"signal.name":     "SIGTERM",
		"event.outcome":   "failure",
		"process.exe":     "/usr/bin/kill",
		"process.cmdline": "/usr/bin/kill -TERM " + pid,
	})
	if !strings.Contains(Field(r, "summary"), "tried to send SIGTERM") {
		t.Errorf("failed kill summary: %s", Field(r, "summary"))
	}
}

// GroupKill: kill(-pgid) reaching four processes, one event.
func GroupKill(t testing.TB, wait Wait) {
	t.Helper()
	grp := exec.Command("setsid", "sh", "-c", "sleep 30 & sleep 30 & sleep 30 & wait")
	if err := grp.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { grp.Process.Kill(); grp.Wait() }()
	pgid := grp.Process.Pid
	for i := 0; i < 100; i++ { // wait for the three sleeps
		out, _ := exec.Command("pgrep", "-g", strconv.Itoa(pgid)).Output()
		if len(strings.Fields(string(out))) >= 4 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := exec.Command("sh", "-c", fmt.Sprintf("kill -TERM -%d", pgid) /* dash: no "--" */).CombinedOutput(); err != nil {
		t.Fatalf("group kill: %v %s", err, out)
	}
	r, _ := wait(t, 3*time.Second, func(r map[string]any) bool {
		return Field(r, "target.pgid") == strconv.Itoa(pgid)
	})
	t.Logf("group kill: %s", Field(r, "summary"))
	Check(t, "group kill", r, map[string]string{"target.count": "4", "target.scope": "process_group", "signal.name": "SIGTERM"})
}

// Kill32: a 32-bit caller (gcc -m32), if the toolchain can build one.
func Kill32(t testing.TB, wait Wait) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "k32.c")
	os.WriteFile(src, []byte("#include <signal.h>\n#include <stdlib.h>\nint main(int c, char **v){return kill(atoi(v[1]), SIGTERM);}\n"), 0o644)
	bin := filepath.Join(dir, "k32")
	if out, err := exec.Command("gcc", "-m32", "-o", bin, src).CombinedOutput(); err != nil {
		if os.Getenv("LINUXAUDIT_REQUIRE_KERNEL") == "1" {
			t.Fatalf("gcc -m32 unavailable (%v %s): install gcc-multilib", err, out)
		}
		t.Logf("gcc -m32 unavailable (%v %s): 32-bit case skipped", err, out)
		return
	}
	pid := sleeper(t)
	if out, err := exec.Command(bin, pid).CombinedOutput(); err != nil {
		t.Fatalf("k32: %v %s", err, out)
	}
	r, _ := wait(t, 3*time.Second, func(r map[string]any) bool {
		return Field(r, "target.processes.0.pid") == pid
	})
	t.Logf("32-bit kill: %s", Field(r, "summary"))
	Check(t, "32-bit kill", r, map[string]string{
		"syscall.arch": "i386", "syscall.name": "kill", "syscall.nr": "37", "signal.name": "SIGTERM", "process.exe": bin,
	})
}

// DuplicateKeys returns the keys that appear twice in one object of the
// JSON value b (valid JSON, but Elasticsearch rejects such a document), as
// dotted paths; an error when b is not one valid JSON value.
func DuplicateKeys(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		keys map[string]bool // nil for an array
		path string
		last string // the key whose value comes next (objects)
		want bool   // an object's next token is a key
	}
	var dups []string
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return dups, err
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if n := len(stack); n > 0 && stack[n-1].keys != nil {
				stack[n-1].want = true
			}
			continue
		}
		if top != nil && top.keys != nil && top.want {
			k := tok.(string)
			if top.keys[k] {
				dups = append(dups, top.path+k)
			}
			top.keys[k], top.last, top.want = true, k, false
			continue
		}
		path := ""
		if top != nil {
			path = top.path
			if top.keys != nil {
				path += top.last + "."
			}
		}
		if d, ok := tok.(json.Delim); ok {
			f := &frame{path: path}
			if d == '{' {
				f.keys, f.want = map[string]bool{}, true
			}
			stack = append(stack, f)
			continue
		}
		if top != nil && top.keys != nil {
			top.want = true
		}
	}
	if len(stack) > 0 {
		return dups, io.ErrUnexpectedEOF
	}
	return dups, nil
}
