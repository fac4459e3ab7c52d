package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
)

// journalOOM writes the kernel's lines of a real OOM kill (recorded on
// this kernel by source/kmsg's test, /dev/kmsg format) as journalctl -k
// -o short-iso-precise prints them, stamped from at on.
func journalOOM(t *testing.T, at time.Time) string {
	t.Helper()
	b, err := os.ReadFile("../source/kmsg/testdata/oom-memcg.kmsg")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for i, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		j := strings.IndexByte(l, ';')
		if j < 0 || strings.HasPrefix(l, " ") {
			continue // dictionary lines
		}
		ts := at.Add(time.Duration(i) * time.Microsecond).UTC().Format("2006-01-02T15:04:05.000000-07:00")
		out.WriteString(ts + " vm kernel: " + l[j+1:] + "\n")
	}
	p := filepath.Join(t.TempDir(), "kernel.log")
	if err := os.WriteFile(p, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The CLI joins the OOM kills of a saved kernel log to the audit log, in
// time order, naming the victim's command line from the audit records
// seen before.
func TestKernelLogJoinsAuditLog(t *testing.T) {
	at := time.Unix(1700000000, 0)
	klog := journalOOM(t, at.Add(1500*time.Millisecond))
	audit := strings.Join([]string{
		`type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=5770 pid=5776 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="hog" exe="/tmp/hog" key="exec"`,
		`type=PROCTITLE msg=audit(1700000000.000:1): proctitle=2F746D702F686F67003634`,
		`type=SYSCALL msg=audit(1700000003.000:2): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=f a2=0 a3=0 items=0 ppid=1 pid=900 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="kill" exe="/usr/bin/kill" key="kill"`,
		`type=OBJ_PID msg=audit(1700000003.000:2): opid=1 oauid=0 ouid=0 oses=1 ocomm="init"`,
		`type=PROCTITLE msg=audit(1700000003.000:2): proctitle=6B696C6C0031`,
		""}, "\n")
	for _, schema := range []string{"default", "ecs"} {
		cfg := Default()
		cfg.JSON, cfg.Proc = true, "false"
		cfg.Enrich.Schema = schema
		cfg.KernelLogs = []string{klog}
		var out bytes.Buffer
		b, err := NewBatch(cfg, &out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ReadFrom(strings.NewReader(audit)); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		var docs []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			docs = append(docs, m)
		}
		if len(docs) != 3 {
			t.Fatalf("%s: %d documents, want the exec, the OOM kill, the kill: %s", schema, len(docs), out.String())
		}
		oom := docs[1]
		if audittest.Field(oom, "event.action") != "oom-killed-pid" {
			t.Fatalf("%s: the OOM kill is not between the two audit events (time order): %s", schema, out.String())
		}
		cmdline, memcg := "target.processes.0.cmdline", "oom.memcg"
		if schema == "ecs" {
			cmdline, memcg = "process.command_line", "auditd.oom.memcg"
		}
		audittest.Check(t, schema, oom, map[string]string{cmdline: "/tmp/hog 64", memcg: "/kernelin-exp",
			"host.name": "vm"})
		t.Logf("%s: %s", schema, audittest.Field(oom, "summary")+audittest.Field(oom, "message"))
	}
}

// The search criteria apply to the OOM kills too: an OOM kill is about its
// victim (--target-pid, --pid), has kind oom, and no key or syscall.
func TestKernelLogSearch(t *testing.T) {
	at := time.Unix(1700000000, 0)
	klog := journalOOM(t, at.Add(1500*time.Millisecond))
	audit := strings.Join([]string{
		`type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=5770 pid=5776 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="hog" exe="/tmp/hog" key="exec"`,
		`type=SYSCALL msg=audit(1700000003.000:2): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=f a2=0 a3=0 items=0 ppid=1 pid=900 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="kill" exe="/usr/bin/kill" key="kill"`,
		`type=OBJ_PID msg=audit(1700000003.000:2): opid=1 oauid=0 ouid=0 oses=1 ocomm="init"`,
		""}, "\n")
	for _, c := range []struct {
		name   string
		set    func(*Config)
		events string // the documents' event.action, in order
	}{
		{"none", func(*Config) {}, "executed oom-killed-pid killed-pid"},
		{"target_pid of the kill", func(c *Config) { c.Enrich.Search.TargetPIDs = []string{"1"} }, "killed-pid"},
		{"target_pid of the victim", func(c *Config) { c.Enrich.Search.TargetPIDs = []string{"5776"} }, "oom-killed-pid"},
		{"pid of the victim", func(c *Config) { c.Enrich.Search.PIDs = []string{"5776"} }, "executed oom-killed-pid"},
		{"kind", func(c *Config) { c.Enrich.Search.Kinds = []string{"oom", "kill"} }, "oom-killed-pid killed-pid"},
		{"key", func(c *Config) { c.Enrich.Search.Keys = []string{"exec"} }, "executed"},
		{"syscall", func(c *Config) { c.Enrich.Search.Syscalls = []string{"kill"} }, "killed-pid"},
		{"success=no", func(c *Config) { c.Enrich.Search.Success = "no" }, ""},
		{"until before the OOM kill", func(c *Config) { c.Enrich.Search.Until = at }, "executed"},
	} {
		cfg := Default()
		cfg.JSON, cfg.Proc = true, "false"
		cfg.KernelLogs = []string{klog}
		c.set(&cfg)
		var out bytes.Buffer
		b, err := NewBatch(cfg, &out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ReadFrom(strings.NewReader(audit)); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m map[string]any
			if l == "" {
				continue
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			got = append(got, audittest.Field(m, "event.action"))
		}
		if strings.Join(got, " ") != c.events {
			t.Errorf("%s: documents %q, want %q", c.name, got, c.events)
		}
	}
}

// A kernel log that is not one fails with a line naming the key.
func TestKernelLogBad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("hello\nworld\n"), 0o644)
	cfg := Default()
	cfg.KernelLogs = []string{p}
	if _, err := NewBatch(cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"kernel_log"`) {
		t.Errorf("error %v", err)
	}
	cfg.KernelLogs = []string{p + ".missing"}
	if _, err := NewBatch(cfg, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"kernel_log"`) {
		t.Errorf("error %v", err)
	}
}
