package rules

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesBuiltin(t *testing.T) {
	rules := KillSet()
	if len(rules) != 8 {
		t.Fatalf("want 8 kill rules (4 per arch), got %d: %q", len(rules), rules)
	}
	for _, want := range []string{
		"-a always,exit -F arch=b64 -S kill -F a1!=23 -k kill",
		"-a always,exit -F arch=b64 -S tgkill -F a2!=23 -k kill",
		"-a always,exit -F arch=b32 -S tkill -F a1!=23 -k kill",
		"-a always,exit -F arch=b32 -S pidfd_send_signal,rt_sigqueueinfo,rt_tgsigqueueinfo -k kill",
	} {
		found := false
		for _, r := range rules {
			found = found || r == want
		}
		if !found {
			t.Errorf("missing built-in rule %q", want)
		}
	}
	for _, r := range append(rules, SelfExclude(os.Getpid())) {
		w, err := Build(r)
		if err != nil {
			t.Fatalf("built-in rule does not build: %v", err)
		}
		if len(w) < 1040 { // struct audit_rule_data without buf
			t.Errorf("%q: wire format only %d bytes", r, len(w))
		}
	}
	// -A sets AUDIT_FILTER_PREPEND (0x10) on the exit list (0x04).
	w, _ := Build(SelfExclude(42))
	if f := binary.NativeEndian.Uint32(w[0:4]); f != 0x14 {
		t.Errorf("self-exclusion rule flags = %#x, want 0x14 (exit|prepend)", f)
	}
	w, _ = Build("-a exit,always -S kill")
	if f := binary.NativeEndian.Uint32(w[0:4]); f != 0x04 {
		t.Errorf("-a rule flags = %#x, want 0x04", f)
	}
}

func TestRulesParse(t *testing.T) {
	good := []string{
		"-a always,exit -F arch=b64 -S kill -k kill",
		"-a never,exit -F arch=b64 -S all -F pid=1",
		"-a always,exit -F arch=b64 -S openat,renameat2 -F dir=/etc -F perm=wa -k etc",
		"-w /etc/passwd -p wa -k passwd",
		`-a always,exit -F arch=b64 -S execve -F "exe=/usr/bin/my tool" -k "a key"`,
		"-a always,exit -F arch=b64 -S kill -C uid!=euid -F key=k2",
		"-Aalways,exit -Farch=b64 -Skill",
	}
	for _, r := range good {
		if _, err := Build(r); err != nil {
			t.Errorf("Build(%q): %v", r, err)
		}
	}
	bad := []string{
		"-a always,exit -F arch=b64 -S not_a_syscall -k x",
		"-a sometimes,exit -S kill",
		"-D",
		"-e 2",
		"-a always,exit -F arch=b64 -S kill -F a1",
		"-w /tmp -S kill",
		"-a always,exit -F 'arch=b64 -S kill",
		"kill",
		"",
	}
	for _, r := range bad {
		_, err := Build(r)
		if err == nil {
			t.Errorf("Build(%q): no error", r)
			continue
		}
		if !strings.Contains(err.Error(), `"`+r+`"`) && r != "" {
			t.Errorf("Build(%q): error does not name the rule: %v", r, err)
		}
	}
}

func TestRulesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.rules")
	os.WriteFile(p, []byte(`# kill monitoring
-a always,exit -F arch=b64 -S kill -k kill

   # indented comment
-w /etc/shadow -p wa -k shadow   # trailing comment
-a always,exit -F arch=b32 -S kill -k kill
`), 0o644)
	rules, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"-a always,exit -F arch=b64 -S kill -k kill",
		"-w /etc/shadow -p wa -k shadow",
		"-a always,exit -F arch=b32 -S kill -k kill",
	}
	if strings.Join(rules, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q\nwant %q", rules, want)
	}
	os.WriteFile(p, []byte("# ok\n-a always,exit -S kill\n-a always,exit -S bogus_call -k b\n"), 0o644)
	_, err = ReadFile(p)
	if err == nil || !strings.Contains(err.Error(), ":3:") || !strings.Contains(err.Error(), "bogus_call") {
		t.Errorf("bad rules file: want error naming line 3 and the rule, got %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing rules file: no error")
	}
}

func TestMarkerAndKeys(t *testing.T) {
	m := Marker(4026531836, 4242, 987654)
	if ns, pid, start, ok := ParseMarker(m); !ok || ns != 4026531836 || pid != 4242 || start != 987654 {
		t.Fatalf("%q: %d %d %d %v", m, ns, pid, start, ok)
	}
	for _, bad := range []string{"kill", "linuxaudit:", "linuxaudit:1:x:1", "linuxaudit:1:0:1", "linuxaudit:12:3"} {
		if _, _, _, ok := ParseMarker(bad); ok {
			t.Errorf("%q parsed as a marker", bad)
		}
	}
	for text, want := range map[string]string{
		"-a always,exit -F arch=b64 -S kill -k kill -k " + m:                  "kill," + m,
		"-w /etc/passwd -p wa -k passwd":                                      "passwd",
		"-a always,exit -F arch=b64 -S openat -F dir=/etc -F exe=/bin/x -k e": "e",
		"-A never,exit -F pid=7 -k " + m:                                      m,
		"-a always,exit -S kill":                                              "",
	} {
		w, err := Build(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(Keys(w), ","); got != want {
			t.Errorf("%s: keys %q, want %q", text, got, want)
		}
	}
}
