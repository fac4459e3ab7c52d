package pipeline

import (
	"os"
	"strings"
	"testing"
)

func TestParseErrorsNameTheKey(t *testing.T) {
	for key, val := range map[string]string{
		"schema": "xml", "source": "tcp", "read_from_head": "maybe", "ancestry_depth": "99",
		"event_timeout": "forever", "kernel_mode": "broadcast", "kernel_backlog_limit": "-1",
		"queue_max_bytes": "12", "stats_interval": "1ms", "proc": "sometimes",
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
		if !strings.Contains(err.Error(), `"`+key+`"`) {
			t.Errorf("error for %s does not name it: %v", key, err)
		}
	}
	c := Default()
	if c.Source != "file" || c.Path != "/var/log/audit/audit.log" || !c.DropSIGURG || c.EventTimeout.String() != "2s" {
		t.Errorf("defaults: %+v", c)
	}
}

// TestREADMEDocumentsEveryKey keeps the configuration reference honest.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys {
		d := k.Default
		if d == "" {
			d = "(empty)"
		}
		if !strings.Contains(string(b), "| `"+k.Name+"` | `"+d+"` |") {
			t.Errorf("README lacks key %s with default %q", k.Name, d)
		}
	}
}
