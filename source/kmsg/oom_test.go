package kmsg

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// kmsgRecords reads a saved /dev/kmsg dump (one record per line).
func kmsgRecords(t *testing.T, path string, boot time.Time) []Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if !parseRecord([]byte(sc.Text()+"\n"), boot, &r, nil) {
			t.Fatalf("bad record %q", sc.Text())
		}
		r.Text = append([]byte(nil), r.Text...)
		out = append(out, r)
	}
	return out
}

func drain(p *OOMParser) []OOMReport {
	var out []OOMReport
	for r, ok := p.Report(); ok; r, ok = p.Report() {
		out = append(out, r)
	}
	return out
}

// feedLines feeds messages without time and returns the reports, after
// a Flush.
func feedLines(p *OOMParser, lines ...string) []OOMReport {
	for _, l := range lines {
		p.Feed(Line{Msg: []byte(l)})
	}
	p.Flush()
	return drain(p)
}

// check compares the fields of r named in want (by their Go names).
func check(t *testing.T, what string, r OOMReport, want map[string]any) {
	t.Helper()
	got := map[string]any{
		"PID": r.PID, "Comm": r.Comm, "UID": r.UID, "TotalVM": r.TotalVM, "AnonRSS": r.AnonRSS, "FileRSS": r.FileRSS,
		"ShmemRSS": r.ShmemRSS, "PgTables": r.PgTables, "OOMScoreAdj": r.OOMScoreAdj, "Reason": r.Reason,
		"Constraint": r.Constraint, "Nodemask": r.Nodemask, "Cpuset": r.Cpuset, "MemsAllowed": r.MemsAllowed,
		"Global": r.Global, "OOMMemcg": r.OOMMemcg, "TaskMemcg": r.TaskMemcg, "MemcgUsage": r.MemcgUsage,
		"MemcgLimit": r.MemcgLimit, "TriggerComm": r.TriggerComm, "TriggerPID": r.TriggerPID, "GFPMask": r.GFPMask,
		"Order": r.Order, "TriggerOOMScoreAdj": r.TriggerOOMScoreAdj, "Seen": r.Seen.String(), "Host": r.Host,
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("check: no field %s", k)
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: %s = %v, want %v", what, k, g, w)
		}
	}
}

// hogWant is the report of testdata/oom-memcg.kmsg: a C program using
// 32 MiB in a memory cgroup limited to 32 MiB, on this project's test VM
// (kernel 6.18).
var hogWant = map[string]any{
	"PID": 5776, "Comm": "hog", "UID": 0, "TotalVM": 35372, "AnonRSS": 32640, "FileRSS": 960, "ShmemRSS": 0,
	"PgTables": 104, "OOMScoreAdj": 0, "Reason": "Memory cgroup out of memory", "Constraint": "CONSTRAINT_MEMCG",
	"Nodemask": "(null)", "Cpuset": "/", "MemsAllowed": "0", "Global": false, "OOMMemcg": "/kernelin-exp",
	"TaskMemcg": "/kernelin-exp", "MemcgUsage": 32768, "MemcgLimit": 32768, "TriggerComm": "hog", "TriggerPID": 5776,
	"GFPMask": "0xcc0(GFP_KERNEL)", "Order": 0, "TriggerOOMScoreAdj": 0, "Seen": "trigger,trigger_pid,usage,summary,killed",
}

func TestOOMKmsgRecords(t *testing.T) {
	boot := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	recs := kmsgRecords(t, "testdata/oom-memcg.kmsg", boot)
	p := NewOOMParser(OOMConfig{})
	var reports []OOMReport
	for i := range recs {
		p.Record(&recs[i])
		reports = append(reports, drain(p)...)
		if len(reports) > 0 && i != len(recs)-1 {
			t.Fatalf("report before the kill line (record %d)", i)
		}
	}
	if len(reports) != 1 {
		t.Fatalf("%d reports", len(reports))
	}
	r := reports[0]
	check(t, "kmsg", r, hogWant)
	kill := recs[len(recs)-1]
	if !r.Time.Equal(kill.Time) || r.Mono != kill.Mono || !r.HasMono || r.Partial() {
		t.Errorf("time %v mono %v (kill line %v %v), partial %v", r.Time, r.Mono, kill.Time, kill.Mono, r.Partial())
	}
	if p.Pending() != 0 || p.Stats().Reports != 1 || p.Stats().Lines != uint64(len(recs)) {
		t.Errorf("pending %d stats %+v", p.Pending(), p.Stats())
	}

	// The same lines written by a process (user facility) are no kernel
	// message: no report.
	p = NewOOMParser(OOMConfig{})
	for i := range recs {
		r := recs[i]
		r.Facility = 1
		p.Record(&r)
	}
	p.Flush()
	if n := len(drain(p)); n != 0 || p.Stats().Lines != 0 {
		t.Errorf("user-facility records gave %d reports (%d lines fed)", n, p.Stats().Lines)
	}
}

// TestOOMSavedLogs: the same kernel lines as dmesg, dmesg -T and
// journalctl -k print them give the same report, with the log's time.
func TestOOMSavedLogs(t *testing.T) {
	boot := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	recs := kmsgRecords(t, "testdata/oom-memcg.kmsg", boot)
	kill := recs[len(recs)-1]
	for _, form := range []struct {
		name   string
		format func(r Record) string
		want   time.Time
		host   string
	}{
		{"dmesg", func(r Record) string {
			return fmt.Sprintf("[%5d.%06d] %s", r.Mono/time.Second, (r.Mono%time.Second)/time.Microsecond, r.Text)
		}, kill.Time.Truncate(time.Microsecond), ""},
		{"dmesg -T", func(r Record) string { return "[" + r.Time.Format("Mon Jan _2 15:04:05 2006") + "] " + string(r.Text) }, kill.Time.Truncate(time.Second), ""},
		{"journalctl -k", func(r Record) string { return r.Time.Format("Jan 02 15:04:05") + " vm kernel: " + string(r.Text) }, kill.Time.Truncate(time.Second), "vm"},
		{"journalctl -k -o short-iso-precise", func(r Record) string {
			return r.Time.Format("2006-01-02T15:04:05.000000-07:00") + " vm kernel: " + string(r.Text)
		}, kill.Time.Truncate(time.Microsecond), "vm"},
		{"kern.log (klogd stamp)", func(r Record) string {
			return r.Time.Format("Jan _2 15:04:05") + " vm kernel: " + fmt.Sprintf("[%5d.%06d] ", r.Mono/time.Second, (r.Mono%time.Second)/time.Microsecond) + string(r.Text)
		}, kill.Time.Truncate(time.Second), "vm"},
	} {
		opt := &LogOptions{Now: boot.Add(24 * time.Hour), Location: time.UTC, Boot: boot}
		p := NewOOMParser(OOMConfig{})
		var lines []string
		for _, r := range recs {
			lines = append(lines, form.format(r))
		}
		// and a line of another program in between
		lines = append(lines[:3:3], append([]string{boot.Format("Jan 02 15:04:05") + " vm systemd[1]: Started x.service."}, lines[3:]...)...)
		for _, s := range lines {
			if l, ok := ParseLogLine([]byte(s), opt); ok {
				p.Feed(l)
			}
		}
		p.Flush()
		reports := drain(p)
		if len(reports) != 1 {
			t.Errorf("%s: %d reports", form.name, len(reports))
			continue
		}
		w := map[string]any{"Host": form.host}
		for k, v := range hogWant {
			w[k] = v
		}
		check(t, form.name, reports[0], w)
		if !reports[0].Time.Equal(form.want) {
			t.Errorf("%s: time %v, want %v", form.name, reports[0].Time, form.want)
		}
	}
}

// The lines of the task (python3 in /exp-oom), and a global OOM.
var (
	pyLines = []string{
		"python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
		"CPU: 0 UID: 0 PID: 18497 Comm: python3 Not tainted 6.18.44 #1 PREEMPT(none) ",
		"Call Trace:",
		" <TASK>",
		" dump_stack_lvl+0x57/0x80",
		" </TASK>",
		"memory: usage 51200kB, limit 51200kB, failcnt 30",
		"memory+swap: usage 51200kB, limit 9007199254740988kB, failcnt 0",
		"Memory cgroup stats for /exp-oom:",
		"anon 52428800",
		"Tasks state (memory values in pages):",
		"[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name",
		"[  18497]     0 18497    15411    12736    12736        0         0   163840        0             0 python3",
		"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/exp-oom,task_memcg=/exp-oom,task=python3,pid=18497,uid=0",
		"Memory cgroup out of memory: Killed process 18497 (python3) total-vm:61644kB, anon-rss:50944kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:160kB oom_score_adj:0",
	}
	pyWant = map[string]any{
		"PID": 18497, "Comm": "python3", "UID": 0, "TotalVM": 61644, "AnonRSS": 50944, "FileRSS": 0, "ShmemRSS": 0,
		"PgTables": 160, "OOMScoreAdj": 0, "Constraint": "CONSTRAINT_MEMCG", "OOMMemcg": "/exp-oom", "TaskMemcg": "/exp-oom",
		"TriggerComm": "python3", "TriggerPID": 18497, "MemcgUsage": 51200, "MemcgLimit": 51200, "Global": false,
		"Seen": "trigger,trigger_pid,usage,summary,killed",
	}
	globalLines = []string{
		"stress invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0",
		"CPU: 1 PID: 4321 Comm: stress Not tainted 5.15.0-91-generic #101-Ubuntu",
		"Mem-Info:",
		"active_anon:480000 inactive_anon:20 isolated_anon:0",
		"Tasks state (memory values in pages):",
		"[   4321]  1000  4321   500000   480000  3900000        0             0 stress",
		"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0-1,3,global_oom,task_memcg=/user.slice/user-1000.slice/session-3.scope,task=stress,pid=4321,uid=1000",
		"Out of memory: Killed process 4321 (stress) total-vm:2000000kB, anon-rss:1920000kB, file-rss:4kB, shmem-rss:0kB, UID:1000 pgtables:3808kB oom_score_adj:-17",
		"oom_reaper: reaped process 4321 (stress), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
	}
	globalWant = map[string]any{
		"PID": 4321, "Comm": "stress", "UID": 1000, "TotalVM": 2000000, "AnonRSS": 1920000, "FileRSS": 4, "PgTables": 3808,
		"OOMScoreAdj": -17, "Reason": "Out of memory", "Constraint": "CONSTRAINT_NONE", "MemsAllowed": "0-1,3", "Global": true,
		"OOMMemcg": "", "TaskMemcg": "/user.slice/user-1000.slice/session-3.scope", "TriggerComm": "stress", "TriggerPID": 4321,
		"GFPMask": "0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)", "Seen": "trigger,trigger_pid,summary,killed",
	}
)

func TestOOMForms(t *testing.T) {
	r := feedLines(NewOOMParser(OOMConfig{}), pyLines...)
	if len(r) != 1 {
		t.Fatalf("memcg: %d reports", len(r))
	}
	check(t, "memcg", r[0], pyWant)

	r = feedLines(NewOOMParser(OOMConfig{}), globalLines...)
	if len(r) != 1 {
		t.Fatalf("global: %d reports", len(r))
	}
	check(t, "global", r[0], globalWant)

	// Older kernels: "Task in ... killed as a result of limit of ...",
	// no summary line, "Kill process ... or sacrifice child".
	r = feedLines(NewOOMParser(OOMConfig{}),
		"java invoked oom-killer: gfp_mask=0x24000c0, order=0, oom_score_adj=0",
		"CPU: 3 PID: 900 Comm: java Not tainted 4.4.0 #1",
		"Task in /docker/abc killed as a result of limit of /docker/abc",
		"memory: usage 524288kB, limit 524288kB, failcnt 100",
		"Memory cgroup out of memory: Kill process 901 (java) score 1000 or sacrifice child",
		"Killed process 901 (java) total-vm:3000000kB, anon-rss:520000kB, file-rss:1000kB",
	)
	if len(r) != 1 {
		t.Fatalf("old kernel: %d reports", len(r))
	}
	check(t, "old kernel", r[0], map[string]any{"PID": 901, "Comm": "java", "OOMMemcg": "/docker/abc", "TaskMemcg": "/docker/abc",
		"TriggerPID": 900, "AnonRSS": 520000, "MemcgLimit": 524288, "Reason": "", "Seen": "trigger,trigger_pid,usage,killed"})
}

func TestOOMMissingAndReordered(t *testing.T) {
	// Only the kill line (the kernel rate-limits the dump).
	r := feedLines(NewOOMParser(OOMConfig{}), pyLines[len(pyLines)-1])
	if len(r) != 1 || r[0].Partial() {
		t.Fatalf("kill line only: %+v", r)
	}
	check(t, "kill only", r[0], map[string]any{"PID": 18497, "Comm": "python3", "AnonRSS": 50944, "OOMMemcg": "", "Seen": "killed"})

	// No kill line: a partial report from the summary at Flush.
	p := NewOOMParser(OOMConfig{})
	r = feedLines(p, pyLines[:len(pyLines)-1]...)
	if len(r) != 1 || !r[0].Partial() {
		t.Fatalf("no kill line: %+v", r)
	}
	check(t, "no kill line", r[0], map[string]any{"PID": 18497, "Comm": "python3", "OOMMemcg": "/exp-oom", "AnonRSS": 0})
	if st := p.Stats(); st.Partial != 1 || st.Reports != 1 {
		t.Errorf("stats %+v", st)
	}

	// Only a trigger: no victim, no report, counted.
	p = NewOOMParser(OOMConfig{})
	if r = feedLines(p, pyLines[:13]...); len(r) != 0 || p.Stats().NoKill != 1 {
		t.Errorf("trigger only: %d reports, stats %+v", len(r), p.Stats())
	}

	// Without the trigger and the dump.
	r = feedLines(NewOOMParser(OOMConfig{}), pyLines[13:]...)
	if len(r) != 1 {
		t.Fatalf("summary and kill: %d", len(r))
	}
	check(t, "summary and kill", r[0], map[string]any{"PID": 18497, "OOMMemcg": "/exp-oom", "TriggerComm": "", "Seen": "summary,killed"})

	// The summary after the kill line: one report, the late line counted.
	p = NewOOMParser(OOMConfig{})
	r = feedLines(p, append(append([]string{}, pyLines[:13]...), pyLines[14], pyLines[13])...)
	if len(r) != 1 || p.Stats().Late != 1 {
		t.Fatalf("summary after kill: %d reports, stats %+v", len(r), p.Stats())
	}
	check(t, "summary after kill", r[0], map[string]any{"PID": 18497, "TriggerPID": 18497, "Seen": "trigger,trigger_pid,usage,killed"})
}

// TestOOMInterleaved: two memory cgroup OOMs whose lines are mixed.
// Line by line when something tells them apart: the host (two machines'
// logs merged), the caller (CONFIG_PRINTK_CALLER); and without either,
// when only the summaries and kill lines cross.
func TestOOMInterleaved(t *testing.T) {
	a := func(s string) string {
		return strings.NewReplacer("python3", "pyA", "18497", "100", "/exp-oom", "/a").Replace(s)
	}
	b := func(s string) string {
		return strings.NewReplacer("python3", "pyB", "18497", "200", "/exp-oom", "/b", "51200", "40960").Replace(s)
	}
	wantB := map[string]any{"PID": 200, "Comm": "pyB", "OOMMemcg": "/b", "TriggerComm": "pyB", "TriggerPID": 200, "MemcgLimit": 40960,
		"Seen": "trigger,trigger_pid,usage,summary,killed"}
	wantA := map[string]any{"PID": 100, "Comm": "pyA", "OOMMemcg": "/a", "TriggerComm": "pyA", "TriggerPID": 100, "MemcgLimit": 51200,
		"Seen": "trigger,trigger_pid,usage,summary,killed"}
	run := func(name string, la, lb func(string) string, kill [2]func(string) string) {
		var lines []string
		for i := 0; i < 14; i++ {
			lines = append(lines, la(a(pyLines[i])), lb(b(pyLines[i])))
		}
		lines = append(lines, kill[0](pyLines[14]), kill[1](pyLines[14]))
		p := NewOOMParser(OOMConfig{})
		for _, s := range lines {
			l, ok := ParseLogLine([]byte(s), &LogOptions{Location: time.UTC})
			if !ok {
				t.Fatalf("%s: line %q", name, s)
			}
			p.Feed(l)
		}
		p.Flush()
		r := drain(p)
		if len(r) != 2 {
			t.Fatalf("%s: %d reports", name, len(r))
		}
		check(t, name+" B", r[0], wantB)
		check(t, name+" A", r[1], wantA)
	}
	hostA := func(s string) string { return "Dec 02 05:00:00 hosta kernel: " + s }
	hostB := func(s string) string { return "Dec 02 05:00:00 hostb kernel: " + s }
	run("hosts", hostA, hostB, [2]func(string) string{func(s string) string { return hostB(b(s)) }, func(s string) string { return hostA(a(s)) }})
	callerA := func(s string) string { return "[ 10.000000] [ T100] " + s }
	callerB := func(s string) string { return "[ 10.000000] [ T200] " + s }
	run("callers", callerA, callerB, [2]func(string) string{func(s string) string { return callerB(b(s)) }, func(s string) string { return callerA(a(s)) }})

	// One stream, no keys: A's dump, B's dump, then the summaries and
	// kills crossed.
	var lines []string
	for i := 0; i < 13; i++ {
		lines = append(lines, a(pyLines[i]))
	}
	for i := 0; i < 13; i++ {
		lines = append(lines, b(pyLines[i]))
	}
	lines = append(lines, a(pyLines[13]), b(pyLines[13]), b(pyLines[14]), a(pyLines[14]))
	p := NewOOMParser(OOMConfig{})
	r := feedLines(p, lines...)
	if len(r) != 2 {
		t.Fatalf("%d reports", len(r))
	}
	check(t, "B", r[0], wantB)
	check(t, "A", r[1], wantA)
	if p.Pending() != 0 {
		t.Errorf("%d pending", p.Pending())
	}
}

// TestOOMNames: a victim's name and cgroup paths can hold the
// separators the lines use.
func TestOOMNames(t *testing.T) {
	// A name with ",task=" and ",pid=" in it, cgroup directories named
	// with ",task_memcg=".
	r := feedLines(NewOOMParser(OOMConfig{}),
		"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/p,task_memcg=/q,task_memcg=/p,task_memcg=/q/r,task=b,task=c,pid=1,pid=77,uid=5",
		"Memory cgroup out of memory: Killed process 77 (b,task=c,pid=1) total-vm:100kB, anon-rss:90kB, file-rss:0kB, shmem-rss:0kB, UID:5 pgtables:4kB oom_score_adj:0",
	)
	if len(r) != 1 {
		t.Fatalf("%d reports", len(r))
	}
	check(t, "names", r[0], map[string]any{"PID": 77, "Comm": "b,task=c,pid=1", "TotalVM": 100, "UID": 5,
		"OOMMemcg": "/p,task_memcg=/q", "TaskMemcg": "/p,task_memcg=/q/r"})

	// A name with ") total-vm:" in it.
	r = feedLines(NewOOMParser(OOMConfig{}),
		"Out of memory: Killed process 78 (x) total-vm:1kB) total-vm:100kB, anon-rss:90kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0")
	check(t, "name with ) total-vm:", r[0], map[string]any{"PID": 78, "Comm": "x) total-vm:1kB", "TotalVM": 100, "AnonRSS": 90, "Global": true})

	r = feedLines(NewOOMParser(OOMConfig{}),
		"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/p,task_memcg=/p/x,task=a,task=b,pid=77,uid=0",
		"Memory cgroup out of memory: Killed process 77 (a,task=b) total-vm:100kB, anon-rss:90kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
	)
	check(t, "comm with ,task=", r[0], map[string]any{"Comm": "a,task=b", "OOMMemcg": "/p", "TaskMemcg": "/p/x"})

	// A message that only contains a kill line is not one.
	if r = feedLines(NewOOMParser(OOMConfig{}), "myprog[12]: Out of memory: Killed process 1 (init) total-vm:1kB, anon-rss:1kB"); len(r) != 0 {
		t.Errorf("forged kill line inside another message: %+v", r)
	}
	// Nor a trigger with a name longer than a task name can be.
	p := NewOOMParser(OOMConfig{})
	p.Feed(Line{Msg: []byte(strings.Repeat("x", 70) + " invoked oom-killer: gfp_mask=0x0, order=0, oom_score_adj=0")})
	if p.Pending() != 0 {
		t.Errorf("long trigger name accepted")
	}
}

func TestOOMAge(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	p := NewOOMParser(OOMConfig{MaxAge: 5 * time.Second})
	for i, s := range pyLines[:14] { // no kill line
		p.Feed(Line{Msg: []byte(s), Time: t0, Mono: time.Duration(i) * time.Millisecond, HasMono: true})
	}
	p.Feed(Line{Msg: []byte("unrelated"), Time: t0.Add(time.Second), Mono: time.Second, HasMono: true})
	if p.Pending() != 1 || len(drain(p)) != 0 {
		t.Fatalf("expired too early")
	}
	// By the lines' clock...
	p.Feed(Line{Msg: []byte("unrelated"), Time: t0.Add(6 * time.Second), Mono: 6 * time.Second, HasMono: true})
	if r := drain(p); len(r) != 1 || !r[0].Partial() || r[0].PID != 18497 {
		t.Fatalf("after MaxAge: %+v", r)
	}
	// ...or by the wall clock when no line comes.
	for _, s := range pyLines[:14] {
		p.Feed(Line{Msg: []byte(s), Time: t0})
	}
	p.Expire(t0.Add(time.Second))
	if p.Pending() != 1 {
		t.Fatalf("Expire too early")
	}
	p.Expire(t0.Add(time.Minute))
	if r := drain(p); len(r) != 1 || p.Pending() != 0 {
		t.Fatalf("Expire: %d reports, %d pending", len(r), p.Pending())
	}
}

// TestOOMBounded: state stays bounded whatever comes.
func TestOOMBounded(t *testing.T) {
	p := NewOOMParser(OOMConfig{MaxPending: 4, MaxQueue: 8})
	for i := 0; i < 1000; i++ {
		p.Feed(Line{Msg: []byte(fmt.Sprintf("t%d invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0", i))})
		if i%2 == 0 {
			p.Feed(Line{Msg: []byte(fmt.Sprintf("oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=v,pid=%d,uid=0", i+1))})
		}
		if p.Pending() > 4 || len(p.out) > 8 {
			t.Fatalf("line %d: %d pending, %d queued", i, p.Pending(), len(p.out))
		}
	}
	p.Flush()
	st := p.Stats()
	t.Logf("stats %+v", st)
	if st.Evicted == 0 || st.Dropped == 0 || st.NoKill != 500 || st.Reports != 500 || len(drain(p)) != 8 {
		t.Errorf("stats %+v", st)
	}
	// Lines that are no OOM cost no allocation.
	line := Line{Msg: []byte("audit: type=1300 audit(1796190661.707:221129): arch=c000003e syscall=44 success=yes exit=60 comm=\"auditd\"")}
	if n := testing.AllocsPerRun(1000, func() { p.Feed(line) }); n != 0 {
		t.Errorf("Feed of an unrelated line allocates %v times", n)
	}
}
