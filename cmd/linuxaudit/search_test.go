package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// logs writes the corpora the search tests read and returns their paths.
func logs(t *testing.T) (kills, files, enriched string) {
	t.Helper()
	dir := t.TempDir()
	var err error
	for _, f := range []struct {
		p    *string
		name string
	}{{&kills, corpus.Kills}, {&files, corpus.Files}, {&enriched, corpus.Enriched}} {
		if *f.p, err = corpus.WriteFile(dir, f.name); err != nil {
			t.Fatal(err)
		}
	}
	return
}

// doc is what the tests read of a JSON document.
type doc struct {
	line  string
	Event struct {
		Serial, Time int64 // from event.id in the compact form
		ID           string
		Kind         string
		Outcome      string
	}
	Key     []string
	Syscall struct{ Name string }
	Process struct{ PID int64 }
	Target  struct {
		PidArg    *int64 `json:"pid_arg"`
		Scope     string
		Processes []struct {
			PID     int64
			Cmdline string
		}
	}
}

func parseDocs(t *testing.T, out string) []doc {
	t.Helper()
	var ds []doc
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		d := doc{line: l}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		// [node:]sec.msec:serial
		if id := d.Event.ID; id != "" && d.Event.Serial == 0 {
			if i := strings.LastIndexByte(id, ':'); i >= 0 {
				d.Event.Serial, _ = strconv.ParseInt(id[i+1:], 10, 64)
				t := id[:i]
				if j := strings.LastIndexByte(t, ':'); j >= 0 {
					t = t[j+1:]
				}
				if k := strings.IndexByte(t, '.'); k >= 0 {
					d.Event.Time, _ = strconv.ParseInt(t[:k], 10, 64)
				}
			}
		}
		ds = append(ds, d)
	}
	return ds
}

func serialsOf(ds []doc) []int64 {
	s := []int64{}
	for _, d := range ds {
		s = append(s, d.Event.Serial)
	}
	return s
}

// fixClock sets the CLI's clock for the test.
func fixClock(t *testing.T, at time.Time) {
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

func targets(pids ...int64) func(doc) bool {
	return func(d doc) bool {
		for _, p := range d.Target.Processes {
			if slices.Contains(pids, p.PID) {
				return true
			}
		}
		a := d.Target.PidArg
		return a != nil && (d.Target.Scope == "process" || d.Target.Scope == "thread") && slices.Contains(pids, *a)
	}
}

// TestSearchFlags runs every search flag on the real logs and checks two
// things: the events kept are exactly those the flag means (the expected
// answers of internal/corpus/README.md where it lists them; otherwise
// every document of an unfiltered run that has the property), and they
// are byte for byte the documents of the unfiltered run, in its order:
// filtering changes which events are printed, never what they say (the
// events filtered out still fed the process table).
func TestSearchFlags(t *testing.T) {
	kills, files, enriched := logs(t)
	// The injected clock: 10 minutes after the kill log's 8th second
	// (2026-11-27 01:24:08 UTC), so recent is 01:24:08.
	at := time.Date(2026, 11, 27, 1, 34, 8, 0, time.UTC)
	fixClock(t, at)
	unfiltered := map[string][]doc{}
	for _, p := range []string{kills, files, enriched} {
		code, out, stderr := runCLI(t, "", "--format=json", p)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", p, code, stderr)
		}
		unfiltered[p] = parseDocs(t, out)
	}
	sec := func(h, m, s int) int64 { return time.Date(2026, 11, 27, h, m, s, 0, time.UTC).Unix() }
	between := func(from, to int64) func(doc) bool {
		return func(d doc) bool { return d.Event.Time >= from && d.Event.Time <= to }
	}
	kind := func(k string) func(doc) bool { return func(d doc) bool { return d.Event.Kind == k } }
	for _, c := range []struct {
		log  string
		args []string
		want []int64 // nil: check pred only
		pred func(doc) bool
		min  int // pred cases: at least this many events
	}{
		// --target-pid: the kill -9 of the seed's scenario; a member and
		// the leader of a killed process group (the leader is also the
		// pid argument's absolute value, not the argument); kill(0)'s
		// caller among its targets; a failed kill (EPERM) still names its
		// target; a kill that reached nobody (ESRCH) by its pid argument;
		// pidfd_send_signal by OBJ_PID only (a0=3 is the pidfd); several.
		{log: kills, args: []string{"--target-pid", "24482"}, want: []int64{527167}, pred: targets(24482)},
		{log: kills, args: []string{"--target_pid=24491"}, want: []int64{527169}, pred: targets(24491)},
		{log: kills, args: []string{"--target-pid=24489"}, want: []int64{527169}, pred: targets(24489)},
		{log: kills, args: []string{"--target-pid", "24503"}, want: []int64{527171}, pred: targets(24503)},
		{log: kills, args: []string{"--target-pid", "24631"}, want: []int64{527175}, pred: targets(24631)},
		{log: kills, args: []string{"--target-pid", "24643"}, want: []int64{527177}, pred: targets(24643)},
		{log: kills, args: []string{"--target-pid", "24701"}, want: []int64{527193}, pred: targets(24701)},
		{log: kills, args: []string{"--target-pid", "3"}, want: []int64{}, pred: targets(3)},
		{log: kills, args: []string{"--target-pid", "24482,24643"}, want: []int64{527167, 527177}, pred: targets(24482, 24643)},
		{log: kills, args: []string{"--target-pid", "24852"}, want: []int64{527209}, pred: targets(24852)},
		// the Go-style tgkill SIGURG to oneself is dropped by drop_sigurg
		{log: kills, args: []string{"--target-pid", "24687"}, want: []int64{}, pred: targets(24687)},
		// --pid: the caller; the stale-PROCTITLE step's shell calls twice
		// (before and after its exec); sed -i's four calls.
		{log: kills, args: []string{"--pid", "24852"}, want: []int64{527209, 527210}, pred: func(d doc) bool { return d.Process.PID == 24852 }},
		{log: kills, args: []string{"--pid=24486,24852"}, want: []int64{527167, 527209, 527210}, pred: func(d doc) bool { return d.Process.PID == 24486 || d.Process.PID == 24852 }},
		{log: kills, args: []string{"--pid", "24482"}, want: []int64{}, pred: func(d doc) bool { return d.Process.PID == 24482 }}, // a target, never a caller
		{log: files, args: []string{"--pid", "24898"}, want: []int64{527230, 527231, 527232, 527233}, pred: func(d doc) bool { return d.Process.PID == 24898 }},
		// --key
		{log: kills, args: []string{"--key", "gen_kill32"}, want: []int64{527179}, pred: func(d doc) bool { return slices.Contains(d.Key, "gen_kill32") }},
		{log: kills, args: []string{"--key", "gen_tkill,gen_pidfd"}, want: []int64{527181, 527183, 527193}, pred: func(d doc) bool { return slices.Contains(d.Key, "gen_tkill") || slices.Contains(d.Key, "gen_pidfd") }},
		{log: files, args: []string{"--key", "gen_utime"}, want: []int64{527254}, pred: func(d doc) bool { return slices.Contains(d.Key, "gen_utime") }},
		{log: files, args: []string{"--key", "gen_dir"}, want: []int64{527260}, pred: func(d doc) bool { return slices.Contains(d.Key, "gen_dir") }},
		// --syscall: by name, for every arch (the 32-bit kill is syscall 37)
		{log: kills, args: []string{"--syscall", "tkill"}, want: []int64{527181}, pred: func(d doc) bool { return d.Syscall.Name == "tkill" }},
		{log: kills, args: []string{"--syscall", "tgkill,rt_tgsigqueueinfo"}, want: []int64{527183, 527191}, pred: func(d doc) bool { return d.Syscall.Name == "tgkill" || d.Syscall.Name == "rt_tgsigqueueinfo" }},
		{log: kills, args: []string{"--syscall", "kill"}, want: []int64{527167, 527169, 527171, 527173, 527175, 527177, 527179, 527195, 527197, 527199, 527201, 527203, 527205, 527207, 527209, 527210, 527212}, pred: func(d doc) bool { return d.Syscall.Name == "kill" }},
		{log: files, args: []string{"--syscall", "renameat2"}, want: []int64{527235, 527236}, pred: func(d doc) bool { return d.Syscall.Name == "renameat2" }},
		{log: files, args: []string{"--syscall", "rename"}, want: []int64{527233}, pred: func(d doc) bool { return d.Syscall.Name == "rename" }},
		{log: enriched, args: []string{"--syscall", "execve"}, pred: func(d doc) bool { return d.Syscall.Name == "execve" }, min: 100},
		// --success: the EPERM and ESRCH kills; the ln -sfn EEXIST and
		// nobody's EACCES; user-space records by their res=.
		{log: kills, args: []string{"--success", "no"}, want: []int64{527175, 527177}, pred: func(d doc) bool { return d.Event.Outcome == "failure" }},
		{log: files, args: []string{"--success=no"}, want: []int64{527242, 527268}, pred: func(d doc) bool { return d.Event.Outcome == "failure" }},
		{log: enriched, args: []string{"--success", "no"}, pred: func(d doc) bool { return d.Event.Outcome == "failure" }, min: 50},
		{log: enriched, args: []string{"--success", "yes"}, pred: func(d doc) bool { return d.Event.Outcome == "success" }, min: 1000},
		// --kind
		{log: kills, args: []string{"--kind", "kill"}, pred: kind("kill"), min: 22},
		{log: files, args: []string{"--kind", "file"}, pred: kind("file"), min: 30},
		{log: enriched, args: []string{"--kind", "kill"}, pred: kind("kill"), min: 2000},
		{log: enriched, args: []string{"--kind", "user"}, pred: kind("user"), min: 1000},
		{log: enriched, args: []string{"--kind", "exec,config"}, pred: func(d doc) bool { return d.Event.Kind == "exec" || d.Event.Kind == "config" }, min: 1000},
		{log: enriched, args: []string{"--kind", "file"}, pred: kind("file"), min: 1000},
		{log: enriched, args: []string{"--kind", "anomaly"}, want: []int64{}, pred: kind("anomaly")},
		// --since, --until: whole seconds, both included (01:24:10.124 to
		// 01:24:11.976); the date and the time as two arguments, as
		// ausearch takes them; ISO 8601.
		{log: kills, args: []string{"--since", "11/27/2026 01:24:10", "--until", "11/27/2026 01:24:11"}, want: []int64{527191, 527193, 527195, 527197, 527199, 527201, 527203}, pred: between(sec(1, 24, 10), sec(1, 24, 11))},
		{log: kills, args: []string{"--since", "11/27/26", "01:24:10", "--until", "11/27/26", "01:24:11"}, want: []int64{527191, 527193, 527195, 527197, 527199, 527201, 527203}, pred: between(sec(1, 24, 10), sec(1, 24, 11))},
		{log: kills, args: []string{"--since=2026-11-27T01:24:12", "--until=2026-11-27T01:24:12Z"}, want: []int64{527205, 527207, 527209, 527210}, pred: between(sec(1, 24, 12), sec(1, 24, 12))},
		{log: kills, args: []string{"--until", "11/27/2026 01:24:00"}, want: []int64{527167}, pred: between(0, sec(1, 24, 0))},
		{log: kills, args: []string{"--since", "2026-11-27T02:24:12+01:00"}, pred: between(sec(1, 24, 12), 1<<62), min: 5},
		// relative forms against the injected clock (01:34:08 UTC)
		{log: kills, args: []string{"--since", "recent"}, pred: between(sec(1, 24, 8), 1<<62), min: 15},
		{log: kills, args: []string{"--until", "recent"}, pred: between(0, sec(1, 24, 8)), min: 6},
		{log: kills, args: []string{"--until", "now"}, pred: between(0, sec(1, 34, 8)), min: 22},
		{log: kills, args: []string{"--since", "now"}, want: []int64{}, pred: between(sec(1, 34, 8), 1<<62)},
		{log: kills, args: []string{"--since", "today", "--until", "today"}, pred: between(sec(0, 0, 0), sec(1, 34, 8)), min: 22},
		{log: kills, args: []string{"--since", "today", "01:24:05"}, pred: between(sec(1, 24, 5), 1<<62), min: 15},
		{log: kills, args: []string{"--since", "01:24:05", "--until", "01:24:07"}, want: []int64{527175, 527177, 527179}, pred: between(sec(1, 24, 5), sec(1, 24, 7))},
		{log: kills, args: []string{"--since", "yesterday"}, pred: between(sec(0, 0, 0)-86400, 1<<62), min: 22},
		{log: kills, args: []string{"--until", "yesterday"}, want: []int64{}, pred: between(0, sec(1, 34, 8)-86400)},
		// AND of several flags; a flag's list is an OR
		{log: kills, args: []string{"--key", "gen_kill", "--success", "no", "--syscall", "kill"}, want: []int64{527175, 527177}, pred: func(d doc) bool { return d.Event.Outcome == "failure" }},
		{log: kills, args: []string{"--target-pid", "24482", "--pid", "24486"}, want: []int64{527167}, pred: targets(24482)},
		{log: kills, args: []string{"--target-pid", "24482", "--pid", "24500"}, want: []int64{}, pred: func(doc) bool { return false }},
		{log: files, args: []string{"--pid", "24898", "--syscall", "rename,fchown", "--success", "yes"}, want: []int64{527231, 527233}, pred: func(d doc) bool {
			return d.Process.PID == 24898 && (d.Syscall.Name == "rename" || d.Syscall.Name == "fchown")
		}},
	} {
		name := filepath.Base(c.log) + " " + strings.Join(c.args, " ")
		code, out, stderr := runCLI(t, "", append(append([]string{"--format=json"}, c.args...), c.log)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
			continue
		}
		got := parseDocs(t, out)
		var want []string
		for _, d := range unfiltered[c.log] {
			if c.pred(d) {
				want = append(want, d.line)
			}
		}
		var lines []string
		for _, d := range got {
			lines = append(lines, d.line)
		}
		if !slices.Equal(lines, want) {
			t.Errorf("%s: %d documents %v, want the %d unfiltered ones that match %v", name, len(got), serialsOf(got), len(want), serialsOf(parseDocs(t, strings.Join(want, "\n"))))
		}
		if c.want != nil && !slices.Equal(serialsOf(got), c.want) {
			t.Errorf("%s: serials %v, want %v", name, serialsOf(got), c.want)
		}
		if len(got) < c.min {
			t.Errorf("%s: %d events, want at least %d", name, len(got), c.min)
		}
	}
}

// TestSearchKeepsProcessContext: the kill documents --kind kill keeps on
// the real corpus are those of the unfiltered run (TestSearchFlags), and
// what they say of their targets (the command line of the victim, dead
// by then) comes from events the search filtered out: on the kill
// events' own records alone the pipeline knows none of it.
func TestSearchKeepsProcessContext(t *testing.T) {
	_, _, enriched := logs(t)
	_, out, _ := runCLI(t, "", "--format=json", "--kind", "kill", enriched)
	kept := parseDocs(t, out)
	ids := map[string]bool{}
	for _, d := range kept {
		ids[fmt.Sprintf(":%d)", d.Event.Serial)] = true
	}
	var own bytes.Buffer
	serial := regexp.MustCompile(`:[0-9]+\)`)
	for _, l := range corpus.Lines(corpus.Enriched) {
		if ids[string(serial.Find(l))] {
			own.Write(l)
			own.WriteByte('\n')
		}
	}
	_, alone, _ := runCLI(t, own.String(), "--format=json", "-")
	withCmdline, aloneCmdline := targetCmdlines(kept), targetCmdlines(parseDocs(t, alone))
	t.Logf("%d kill events: %d name a target's command line when searched in the whole log, %d from their own records", len(kept), withCmdline, aloneCmdline)
	if len(kept) < 2000 || withCmdline < 1000 || aloneCmdline*2 > withCmdline {
		t.Errorf("%d kill events, %d with a target's command line, %d from their own records alone", len(kept), withCmdline, aloneCmdline)
	}
}

func targetCmdlines(ds []doc) int {
	n := 0
	for _, d := range ds {
		for _, p := range d.Target.Processes {
			if p.Cmdline != "" {
				n++
				break
			}
		}
	}
	return n
}

// TestSearchBadValues: a bad value of every search flag is exit 2 and one
// line naming the flag, before anything is read.
func TestSearchBadValues(t *testing.T) {
	for _, c := range []struct{ flag, val, key string }{
		{"--since", "tomorrow", "since"}, {"--since", "11/31/2026", "since"}, {"--until", "11/27/2026 25:00", "until"},
		{"--until", "2026-11-27T01:24:99", "until"}, {"--pid", "0", "pid"}, {"--pid", "abc", "pid"},
		{"--target-pid", "-5", "target_pid"}, {"--target_pid", "1,x", "target_pid"}, {"--unit", "system.slice/x.service", "unit"},
		{"--key", strings.Repeat("k", 257), "key"}, {"--kind", "kills", "kind"}, {"--syscall", "kil", "syscall"},
		{"--success", "maybe", "success"}, {"--format", "xml", "format"},
	} {
		code, out, stderr := runCLI(t, "", c.flag+"="+c.val, "/nonexistent/audit.log")
		if code != 2 || out != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `"`+c.key+`"`) || !strings.HasPrefix(stderr, "linuxaudit: invalid value") {
			t.Errorf("%s=%s: exit %d, stderr %q", c.flag, c.val, code, stderr)
		}
	}
}

// TestSinceUntilAsAusearch: --since and --until select the events ausearch
// -ts and -te select, for every form both take (MM/DD/YY, as the C
// locale's ausearch reads a date, with and without a time; the
// keywords, against the real clock), on the kill log, in UTC.
func TestSinceUntilAsAusearch(t *testing.T) {
	if _, err := exec.LookPath("ausearch"); err != nil {
		if os.Getenv("LINUXAUDIT_REQUIRE_AUSEARCH") == "1" {
			t.Fatal("ausearch not installed (LINUXAUDIT_REQUIRE_AUSEARCH=1)")
		}
		t.Skip("SKIP: ausearch not installed (apt-get install auditd)")
	}
	kills, _, _ := logs(t)
	bin := binary(t)
	env := append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	msg := regexp.MustCompile(`^type=SYSCALL msg=audit\([0-9]+\.[0-9]+:([0-9]+)\)`)
	for _, a := range [][]string{
		{"-ts", "11/27/26", "01:24:05"}, {"-te", "11/27/26", "01:24:05"}, {"-ts", "11/27/26", "01:24"}, {"-te", "11/27/26", "01:24:00"},
		{"-ts", "11/27/26"}, {"-te", "11/27/26"}, {"-ts", "11/28/26"}, {"-te", "11/26/26"},
		{"-ts", "11/27/26", "01:24:10", "-te", "11/27/26", "01:24:11"},
		{"-ts", "01:24:05"}, {"-te", "01:24:05"},
		{"-ts", "now"}, {"-te", "now"}, {"-ts", "recent"}, {"-te", "recent"}, {"-ts", "boot"}, {"-te", "boot"},
		{"-ts", "today"}, {"-te", "today"}, {"-ts", "yesterday"}, {"-te", "yesterday"}, {"-ts", "this-week"}, {"-te", "this-week"},
		{"-ts", "week-ago"}, {"-te", "week-ago"}, {"-ts", "this-month"}, {"-te", "this-month"}, {"-ts", "this-year"}, {"-te", "this-year"},
		{"-ts", "week-ago", "01:24:10"}, {"-te", "this-year", "00:00:01"},
	} {
		cmd := exec.Command("ausearch", append([]string{"-if", kills}, a...)...)
		cmd.Env = env
		res, _ := cmd.Output() // exit 1 with "<no matches>"
		want := []string{}
		for _, l := range strings.Split(string(res), "\n") {
			if m := msg.FindStringSubmatch(l); m != nil {
				want = append(want, m[1])
			}
		}
		ours := []string{"--format=json", "--drop_sigurg=false"}
		for _, w := range a {
			switch w {
			case "-ts":
				w = "--since"
			case "-te":
				w = "--until"
			}
			ours = append(ours, w)
		}
		cmd = exec.Command(bin, append(ours, kills)...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		res, err := cmd.Output()
		if err != nil {
			t.Errorf("%v: %v %s", ours, err, stderr.String())
			continue
		}
		got := []string{}
		for _, d := range parseDocs(t, string(res)) {
			got = append(got, fmt.Sprint(d.Event.Serial))
		}
		if !slices.Equal(got, want) {
			t.Errorf("ausearch %v: %d events %v; we: %d events %v", a, len(want), want, len(got), got)
		}
	}
}
