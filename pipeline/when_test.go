package pipeline

import (
	"strings"
	"testing"
	"time"
)

// TestParseWhen reads every form ausearch's -ts and -te take (and ISO
// 8601) against an injected clock: Wednesday 2026-12-02 06:49:24 in a
// zone five hours behind UTC, so that local dates are not UTC's.
func TestParseWhen(t *testing.T) {
	zone := time.FixedZone("X", -5*3600)
	now := time.Date(2026, 12, 2, 6, 49, 24, 700e6, zone)
	at := func(y int, mo time.Month, d, h, m, s int) time.Time { return time.Date(y, mo, d, h, m, s, 0, zone) }
	for _, c := range []struct {
		in   string
		end  bool
		want time.Time
	}{
		{"now", false, at(2026, 12, 2, 6, 49, 24)},
		{"now", true, at(2026, 12, 2, 6, 49, 24)},
		{"recent", false, at(2026, 12, 2, 6, 39, 24)},
		{"recent", true, at(2026, 12, 2, 6, 39, 24)},
		{"recent 00:00:00", false, at(2026, 12, 2, 6, 39, 24)},
		{"now 05:00", false, at(2026, 12, 2, 5, 0, 0)},
		{"today", false, at(2026, 12, 2, 0, 0, 0)},
		{"today", true, at(2026, 12, 2, 6, 49, 24)}, // ausearch: the end "today" is now
		{"today 08:00", true, at(2026, 12, 2, 8, 0, 0)},
		{"yesterday", false, at(2026, 12, 1, 0, 0, 0)},
		{"yesterday", true, at(2026, 12, 1, 6, 49, 24)}, // an end without a time: the current time of day
		{"yesterday 13:00:00", false, at(2026, 12, 1, 13, 0, 0)},
		{"this-week", false, at(2026, 11, 29, 0, 0, 0)}, // the last Sunday
		{"week-ago", false, at(2026, 11, 25, 0, 0, 0)},
		{"week-ago 01:24:10", false, at(2026, 11, 25, 1, 24, 10)},
		{"this-month", false, at(2026, 12, 1, 0, 0, 0)},
		{"this-month", true, at(2026, 12, 1, 6, 49, 24)},
		{"this-year", false, at(2026, 1, 1, 0, 0, 0)},
		{"11/27/2026 01:24:00", false, at(2026, 11, 27, 1, 24, 0)},
		{"11/27/26 01:24:00", true, at(2026, 11, 27, 1, 24, 0)},
		{"11/27/26 01:24", false, at(2026, 11, 27, 1, 24, 0)},
		{"1/2/99", false, at(1999, 1, 2, 0, 0, 0)},
		{"11/27/2026", false, at(2026, 11, 27, 0, 0, 0)},
		{"11/27/2026", true, at(2026, 11, 27, 6, 49, 24)},
		{"2026-11-27", false, at(2026, 11, 27, 0, 0, 0)},
		{"2026-11-27 1:24:05", false, at(2026, 11, 27, 1, 24, 5)},
		{"01:24:00", false, at(2026, 12, 2, 1, 24, 0)}, // a time alone: today's
		{"23:59", true, at(2026, 12, 2, 23, 59, 0)},
		{"2026-11-27T01:24:00", false, at(2026, 11, 27, 1, 24, 0)},
		{"2026-11-27T01:24", true, at(2026, 11, 27, 1, 24, 0)},
		{"2026-11-27T01:24:00Z", false, time.Date(2026, 11, 27, 1, 24, 0, 0, time.UTC)},
		{"2026-11-27T01:24:00+01:00", false, time.Date(2026, 11, 27, 0, 24, 0, 0, time.UTC)},
		{"2026-11-27T01:24:00-0300", false, time.Date(2026, 11, 27, 4, 24, 0, 0, time.UTC)},
	} {
		got, err := parseWhen(c.in, now, c.end)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%q (end %v): %v %v, want %v", c.in, c.end, got, err, c.want)
		}
	}
	// this-week on a Sunday is that day; this-year keeps the local year.
	sunday := time.Date(2026, 11, 29, 0, 30, 0, 0, zone)
	if got, _ := parseWhen("this-week", sunday, false); !got.Equal(at(2026, 11, 29, 0, 0, 0)) {
		t.Errorf("this-week on a Sunday: %v", got)
	}
	eve := time.Date(2026, 12, 31, 21, 0, 0, 0, zone) // already 2027 in UTC
	if got, _ := parseWhen("this-year", eve, false); !got.Equal(at(2026, 1, 1, 0, 0, 0)) {
		t.Errorf("this-year: %v", got)
	}
	boot, err := parseWhen("boot", now, false)
	up, uerr := uptime()
	if err != nil || uerr != nil || !boot.Equal(now.Add(-up).Truncate(time.Second)) || !boot.Before(now) {
		t.Errorf("boot: %v %v (uptime %v %v)", boot, err, up, uerr)
	}
	for _, bad := range []string{"tomorrow", "13/01/2026", "02/30/2026", "11/27/202", "11/27/2026 25:00", "11/27/2026 01:60",
		"11/27/2026 01:24:00 x", "2026-11-27T01:24:61", "2026-11-27T25:00", "27.11.2026", "1:2", "11/27", "now+1", "11/27/2026 1pm"} {
		if got, err := parseWhen(bad, now, false); err == nil {
			t.Errorf("%q accepted: %v", bad, got)
		} else if !strings.Contains(err.Error(), "this-week") {
			t.Errorf("%q: error does not list the forms: %v", bad, err)
		}
	}
}

// TestSearchKeys: the search keys parse (a time resolved at parse time
// against the clock given), and a bad value is one line naming the key.
func TestSearchKeys(t *testing.T) {
	now := time.Date(2026, 12, 2, 6, 49, 24, 0, time.UTC)
	vals := map[string]string{"since": "yesterday", "until": "11/27/2026 01:24:00", "pid": "1, 2", "target_pid": "7677",
		"unit": "nginx", "key": "kill,gen_kill", "kind": "kill,file", "syscall": "kill", "success": "no"}
	c, err := ParseAt(func(k string) (string, bool) { v, ok := vals[k]; return v, ok }, now)
	s := c.Enrich.Search
	if err != nil || !s.Since.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !s.Until.Equal(time.Date(2026, 11, 27, 1, 24, 0, 0, time.UTC)) ||
		len(s.PIDs) != 2 || s.TargetPIDs[0] != "7677" || s.Units[0] != "nginx" || len(s.Keys) != 2 || len(s.Kinds) != 2 || s.Syscalls[0] != "kill" || s.Success != "no" {
		t.Fatalf("%v %+v", err, s)
	}
	if d := Default(); !d.Enrich.Search.Since.IsZero() || !d.Enrich.Search.Until.IsZero() || d.Enrich.Search.Success != "any" || d.Format != "auto" {
		t.Errorf("defaults: %+v %q", d.Enrich.Search, d.Format)
	}
	for key, val := range map[string]string{"since": "tomorrow", "until": "11/31/2026", "pid": "0", "target_pid": "12x",
		"unit": "system.slice/nginx.service", "key": "a\x01b", "kind": "kills", "syscall": "kil", "success": "maybe", "format": "xml"} {
		_, err := ParseAt(func(k string) (string, bool) { return val, k == key }, now)
		if err == nil || !strings.Contains(err.Error(), `"`+key+`"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s=%q: %v", key, val, err)
		}
	}
}
