package pipeline

import (
	"flag"
	"os"
	"strings"
	"testing"
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
