package enrich

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
)

// deathRig is an enricher with a watched unit and a process table fed by
// hand, as the process events connector would.
type deathRig struct {
	t   *testing.T
	e   *Enricher
	doc encode.Document
	out []map[string]any
}

var t0 = time.Unix(1700000000, 0)

func newDeathRig(t *testing.T, schema string) *deathRig {
	e, err := New(Config{Schema: schema, EtcRoot: "testdata", Watch: Watch{Units: []string{"app*.service"}, Comms: []string{"batchjob"}},
		Hostname: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	return &deathRig{t: t, e: e}
}

func (r *deathRig) exec(pid int64, at time.Duration, unit, argv string) {
	r.e.Process(&ProcEvent{Kind: ProcFork, Time: t0.Add(at), PID: pid, PPID: 1})
	comm := strings.SplitN(argv, "\x00", 2)[0]
	r.e.Process(&ProcEvent{Kind: ProcExec, Time: t0.Add(at), PID: pid, PPID: 1, HasProc: true, Start: uint64(pid) * 10,
		Comm: []byte(comm), Exe: []byte("/usr/bin/" + comm), Argv: []byte(argv), UID: 0,
		Cgroup: []byte("0::/system.slice/" + unit + "\n")})
}

func (r *deathRig) exit(pid int64, at time.Duration, code, sig int) {
	r.e.Process(&ProcEvent{Kind: ProcExit, Time: t0.Add(at), PID: pid, PPID: 1, ExitCode: code, ExitSig: sig})
}

// audit feeds audit lines (one event) through the correlator and enricher.
func (r *deathRig) audit(lines ...string) {
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		if r.e.Enrich(ev, &r.doc) {
			r.collect()
		}
	})
	var rec parser.Record
	for _, l := range lines {
		if err := parser.Parse([]byte(l), &rec); err != nil {
			r.t.Fatalf("%v: %s", err, l)
		}
		c.Add(&rec)
	}
	c.Flush()
}

func (r *deathRig) collect() {
	r.t.Helper()
	b := r.doc.AppendJSON(nil)
	if d := r.doc.DuplicateKeys(); d != nil {
		r.t.Fatalf("keys twice %v: %s", d, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("%v: %s", err, b)
	}
	r.out = append(r.out, m)
}

func (r *deathRig) pending(at time.Duration) {
	for r.e.Pending(t0.Add(at), &r.doc) {
		r.collect()
	}
}

func (r *deathRig) find(path, val string) map[string]any {
	r.t.Helper()
	for _, m := range r.out {
		if str(m, path) == val {
			return m
		}
	}
	r.t.Fatalf("no document with %s = %s among %d", path, val, len(r.out))
	return nil
}

// The four deaths of a watched unit's process, each with its cause, in
// the default schema; an unwatched exit gives nothing; nothing is written
// before its grace has passed.
func TestDiedCauses(t *testing.T) {
	r := newDeathRig(t, "default")
	// Killed: SIGTERM from pid 200, whose audit event comes after the exit.
	r.exec(100, 0, "app.service", "app\x00--serve")
	r.exit(100, 150*time.Millisecond, 0, 15)
	r.pending(500 * time.Millisecond)
	if len(r.out) != 0 {
		t.Fatalf("a died document before its grace: %v", r.out)
	}
	r.audit(
		`type=SYSCALL msg=audit(1700000000.140:10): arch=c000003e syscall=62 success=yes exit=0 a0=64 a1=f a2=0 a3=0 items=0 ppid=1 pid=200 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm="kill" exe="/usr/bin/kill" key="kill"`,
		`type=OBJ_PID msg=audit(1700000000.140:10): opid=100 oauid=0 ouid=0 oses=1 ocomm="app"`,
		`type=PROCTITLE msg=audit(1700000000.140:10): proctitle=6B696C6C00313030`,
		`type=EOE msg=audit(1700000000.140:10): `)
	// OOM-killed.
	r.exec(101, time.Second, "app-worker.service", "worker")
	r.e.OOM(&OOMKill{Time: t0.Add(1100 * time.Millisecond), PID: 101, Comm: "worker", UID: 0, AnonRSS: 30000,
		Constraint: "CONSTRAINT_MEMCG", OOMMemcg: "/system.slice/app-worker.service", MemcgLimit: 32768})
	r.exit(101, 1100*time.Millisecond, 0, 9)
	// Crashed: ANOM_ABEND, then the exit.
	r.exec(102, 2*time.Second, "app.service", "app\x00--child")
	r.audit(`type=ANOM_ABEND msg=audit(1700000002.100:11): auid=0 uid=0 gid=0 ses=1 pid=102 comm="app" exe="/usr/bin/app" sig=11 res=1`)
	r.exit(102, 2100*time.Millisecond, 0, 11)
	// Exited 3; and an unwatched process.
	r.exec(103, 3*time.Second, "app.service", "app\x00--oneshot")
	r.exit(103, 3200*time.Millisecond, 3, 0)
	r.exec(104, 3*time.Second, "other.service", "other")
	r.exit(104, 3200*time.Millisecond, 1, 0)
	// A watched command outside any unit, killed by a signal no event names.
	r.exec(105, 4*time.Second, "", "batchjob")
	r.exit(105, 4100*time.Millisecond, 0, 9)
	r.pending(10 * time.Second)

	died := 0
	for _, m := range r.out {
		if str(m, "event.action") == "died" {
			died++
		}
	}
	if died != 5 {
		t.Errorf("%d died documents, want 5 (the unwatched process gives none)", died)
	}
	check(t, r.find("process.pid", "100"), want{
		"event.kind": "death", "death.cause": "killed", "death.signal.name": "SIGTERM", "death.exit_code": "143",
		"death.killer.pid": "200", "death.killer.cmdline": "kill 100", "death.killer.exe": "/usr/bin/kill",
		"death.killer.user": "root", "death.killer.event_id": "1700000000.140:10", "process.unit": "app.service",
		"process.cmdline": "app --serve", "host.name": "node1", "event.id": "exit:1700000000.150:100",
		"summary": `app.service: pid 100 "app --serve" (app, unit app.service) was killed by SIGTERM from pid 200 "kill 100" (/usr/bin/kill, user root)`,
	})
	oom := r.find("event.action", "oom-killed-pid")
	check(t, oom, want{
		"event.kind": "oom", "target.processes.0.pid": "101", "target.processes.0.cmdline": "worker",
		"target.processes.0.unit": "app-worker.service", "oom.memcg": "/system.slice/app-worker.service",
		"oom.memcg_limit_kb": "32768", "signal.name": "SIGKILL",
		"summary": `the kernel's OOM killer killed pid 101 "worker" (worker, unit app-worker.service): memory cgroup /system.slice/app-worker.service at its limit of 32768 kB, anon-rss 30000 kB`,
	})
	var oomDied map[string]any
	for _, m := range r.out {
		if str(m, "event.action") == "died" && str(m, "process.pid") == "101" {
			oomDied = m
		}
	}
	check(t, oomDied, want{"death.cause": "oom-killed", "death.oom.memcg": "/system.slice/app-worker.service", "death.exit_code": "137"})
	check(t, r.find("event.action", "crashed-program"), want{
		"process.pid": "102", "process.unit": "app.service", "signal.name": "SIGSEGV", "process.cmdline": "app --child",
		"summary": `pid 102 "app --child" (/usr/bin/app, unit app.service) crashed with SIGSEGV`,
	})
	var crashDied map[string]any
	for _, m := range r.out {
		if str(m, "event.action") == "died" && str(m, "process.pid") == "102" {
			crashDied = m
		}
	}
	check(t, crashDied, want{"death.cause": "crashed", "death.signal.name": "SIGSEGV", "death.exit_code": "139"})
	var exited, signaled map[string]any
	for _, m := range r.out {
		switch str(m, "process.pid") {
		case "103":
			exited = m
		case "105":
			signaled = m
		}
	}
	check(t, exited, want{"death.cause": "exited", "death.exit_code": "3",
		"summary": `app.service: pid 103 "app --oneshot" (app, unit app.service) exited with status 3`})
	check(t, signaled, want{"death.cause": "signaled", "death.watch": "batchjob", "death.signal.name": "SIGKILL"})
	if st := r.e.Stats().Deaths; st.Died != 5 || st.OOMKills != 1 {
		t.Errorf("death stats %+v", st)
	}
}

// ECS: a death is a process end: event.type end, process.exit_code as a
// shell reports it, the cause under auditd.death.
func TestDiedECS(t *testing.T) {
	r := newDeathRig(t, "ecs")
	r.exec(100, 0, "app.service", "app\x00--serve")
	r.e.OOM(&OOMKill{Time: t0.Add(100 * time.Millisecond), PID: 100, Comm: "app", UID: 0, Global: true})
	r.exit(100, 100*time.Millisecond, 0, 9)
	r.pending(5 * time.Second)
	check(t, r.find("event.action", "oom-killed-pid"), want{
		"event.category.0": "process", "event.type.0": "end", "process.pid": "100", "process.exit_code": "137",
		"process.command_line": "app --serve", "process.systemd.unit": "app.service", "auditd.oom.global": "true",
		"user.id": "0", "user.name": "root",
	})
	check(t, r.find("event.action", "died"), want{
		"event.type.0": "end", "process.exit_code": "137", "auditd.death.cause": "oom-killed", "process.name": "app",
	})
}

// The tables of deaths are bounded and count what they drop.
func TestDeathBounds(t *testing.T) {
	r := newDeathRig(t, "default")
	for i := int64(0); i < maxPending+10; i++ {
		r.exec(1000+i, 0, "app.service", "app")
		r.exit(1000+i, time.Millisecond, 0, 0)
	}
	if n := r.e.PendingDeaths(); n != maxPending {
		t.Errorf("%d pending, want the bound %d", n, maxPending)
	}
	if st := r.e.Stats().Deaths; st.Dropped != 10 {
		t.Errorf("dropped %d, want 10", st.Dropped)
	}
	for i := 0; i < maxCauses+10; i++ {
		r.e.OOM(&OOMKill{Time: t0.Add(time.Duration(i) * time.Millisecond), PID: int64(5000 + i)})
	}
	if n := len(r.e.deaths.ooms); n > maxCauses {
		t.Errorf("%d OOM kills remembered, bound %d", n, maxCauses)
	}
}

// TestCrashBeforeExecRead: a process seen running its parent's program (a
// /proc scan between fork and exec) that crashes before its exec is read
// does not get the parent's command line or unit: the crash record's exe
// says it runs another program. The same entry still serves a record of
// the parent's program.
func TestCrashBeforeExecRead(t *testing.T) {
	r := newDeathRig(t, "default")
	r.exec(300, 0, "other.service", "runner\x00--tests")
	// pid 301 forked from runner; the table read it before its exec, as
	// runner (not a fork-only entry).
	r.e.Process(&ProcEvent{Kind: ProcExec, Time: t0, PID: 301, PPID: 300, HasProc: true, Start: 3010,
		Comm: []byte("runner"), Exe: []byte("/usr/bin/runner"), Argv: []byte("runner\x00--tests"), UID: 0,
		Cgroup: []byte("0::/system.slice/other.service\n")})
	r.audit(`type=ANOM_ABEND msg=audit(1700000001.100:21): auid=0 uid=0 gid=0 ses=1 pid=301 comm="segv" exe="/tmp/segv" sig=11 res=1`)
	m := r.find("process.pid", "301")
	if got := str(m, "process.cmdline"); got != "<nil>" {
		t.Errorf("process.cmdline = %q, want none (the parent's program)", got)
	}
	if got := str(m, "process.unit"); got == "other.service" {
		t.Errorf("process.unit = %q from the parent's program", got)
	}
	r.audit(`type=ANOM_ABEND msg=audit(1700000001.200:22): auid=0 uid=0 gid=0 ses=1 pid=300 comm="runner" exe="/usr/bin/runner (deleted)" sig=6 res=1`)
	m = r.find("process.pid", "300")
	if got := str(m, "process.cmdline"); got != "runner --tests" {
		t.Errorf("process.cmdline = %q, want the table's %q", got, "runner --tests")
	}
}
