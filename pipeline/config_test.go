package pipeline

import (
	"encoding/hex"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/source/rules"
)

var update = flag.Bool("update", false, "rewrite the README's configuration table from Keys")

func TestParseErrorsNameTheKey(t *testing.T) {
	for key, val := range map[string]string{
		"schema": "xml", "source": "tcp", "read_from_head": "maybe", "ancestry_depth": "99",
		"event_timeout": "forever", "kernel_mode": "broadcast", "kernel_backlog_limit": "-1",
		"queue_max_bytes": "12", "stats_interval": "1ms", "proc": "sometimes",
		"include_syscalls": "kil", "exclude_types": "NOT_A_TYPE", "include_signals": "SIGFOO",
		"kernel_rules": "-a always,exit -S nosuchcall", "kernel_rules_file": "/nonexistent/rules",
	} {
		_, err := Parse(func(k string) (string, bool) {
			if k == key {
				return val, true
			}
			return "", false
		})
		if err == nil {
			t.Errorf("%s=%s accepted", key, val)
			continue
		}
		if !strings.Contains(err.Error(), `"`+key+`"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("error for %s is not one line naming it: %v", key, err)
		}
	}
	c := Default()
	if c.Source != "file" || c.Path != "/var/log/audit/audit.log" || !c.Enrich.DropSIGURG || c.EventTimeout.String() != "2s" || c.StatsInterval.String() != "1m0s" {
		t.Errorf("defaults: %+v", c)
	}
	c, err := Parse(func(k string) (string, bool) {
		return map[string]string{"stats_interval": "0", "kernel_rules": "-a always,exit -S kill -k a; -w /etc -p wa", "include_types": "SYSCALL, 1300", "kernel_rate_limit": "7"}[k], true
	})
	if err != nil || c.StatsInterval != 0 || len(c.KernelRules) != 2 || len(c.Enrich.IncludeTypes) != 2 || c.KernelRateLimit == nil || *c.KernelRateLimit != 7 || c.KernelBacklogLimit != nil {
		t.Errorf("values: %v %+v", err, c)
	}
}

// TestREADMEKeys keeps the configuration reference the table of Keys.
func TestREADMEKeys(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "-update rewrites it -->\n", "<!-- end of keys -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README has no generated keys table (%q ... %q)", begin, end)
	}
	i += len(begin)
	want := Markdown()
	if *update {
		if err := os.WriteFile("../README.md", []byte(s[:i]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s[i:j] != want {
		t.Errorf("README's keys table differs from Keys; run go test ./pipeline -run TestREADMEKeys -update")
	}
}

// The enricher leaves out of documents the key the kernel source marks its
// rules with.
func TestMarkerKeyLeftOut(t *testing.T) {
	m := rules.Marker(1, 2, 3)
	cfg := Default()
	cfg.JSON = true
	var out strings.Builder
	b, err := NewBatch(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	key := hex.EncodeToString([]byte("kill\x01" + m))
	b.ReadFrom(strings.NewReader("type=SYSCALL msg=audit(1.000:1): arch=c000003e syscall=62 success=yes exit=0 a0=5 a1=9 items=0 pid=2 uid=0 comm=\"k\" key=" + key + "\ntype=PROCTITLE msg=audit(1.000:1): proctitle=6B\n"))
	b.Close()
	if !strings.Contains(out.String(), `"key":["kill"]`) || strings.Contains(out.String(), rules.MarkerPrefix) {
		t.Errorf("%s", out.String())
	}
}
