package enrich

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
)

// Deaths that are not kill() calls: the kernel's OOM kills (OOM), and the
// end of every watched process ("died", from the process events
// connector's exits) with its cause joined from what was seen around it:
// the kill event and its sender, the OOM kill, the crash (ANOM_ABEND), or
// a plain exit. They are documents of their own, without audit records:
// the enricher queues them and the pipeline takes them with Pending.

// OOMKill is a kernel OOM kill as the kernel's lines tell it (the pipeline
// converts source/kmsg's reports).
type OOMKill struct {
	Time time.Time
	Host string
	// The victim.
	PID                                           int64
	Comm                                          string
	UID                                           int64  // -1 unknown
	TotalVM, AnonRSS, FileRSS, ShmemRSS, PgTables uint64 // kB
	OOMScoreAdj                                   int
	// Constraint is CONSTRAINT_MEMCG (a memory cgroup at its limit),
	// CONSTRAINT_NONE (the whole machine, Global)...
	Constraint string
	Global     bool
	// OOMMemcg is the memory cgroup that hit its limit, TaskMemcg the
	// victim's; MemcgUsage and MemcgLimit in kB (0 unknown).
	OOMMemcg, TaskMemcg    string
	MemcgUsage, MemcgLimit uint64
	// The task whose allocation failed.
	TriggerComm string
	TriggerPID  int64
	// Partial: the kill line itself was not seen.
	Partial bool
}

// Watch names the processes whose every exit becomes a "died" event.
type Watch struct {
	Units      []string // systemd units (shell patterns: nginx.service, app-*.service)
	Containers []string // container ids or id prefixes (12 hex at least)
	Comms      []string // process names or executable base names (patterns)
}

func (w *Watch) empty() bool { return len(w.Units)+len(w.Containers)+len(w.Comms) == 0 }

// CheckPattern validates a shell pattern of the watch keys.
func CheckPattern(p string) error {
	_, err := path.Match(p, "")
	return err
}

// match says which watch p falls under ("" none): "unit nginx.service",
// "container 3f2a...", "comm python3".
func (w *Watch) match(p *Proc) string {
	if p.Unit != "" {
		for _, u := range w.Units {
			if ok, _ := path.Match(u, p.Unit); ok {
				return p.Unit
			}
		}
	}
	if p.Container != "" {
		for _, c := range w.Containers {
			if len(c) >= 12 && strings.HasPrefix(p.Container, c) {
				return "container " + p.Container[:12]
			}
		}
	}
	base := p.Exe
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	for _, c := range w.Comms {
		if ok, _ := path.Match(c, p.Comm); ok && p.Comm != "" {
			return p.Comm
		}
		if ok, _ := path.Match(c, base); ok && base != "" {
			return base
		}
	}
	return ""
}

// Bounds of the tables of deaths.
const (
	maxCauses      = 4096 // remembered kills, crashes and OOM kills, each
	maxPending     = 1024 // deaths waiting for their document
	causeRetention = 60 * time.Second
	// causeWindow is how far before a death its cause may be: a SIGTERM
	// sent 10 s before a slow shutdown is still its cause.
	causeWindow = 30 * time.Second
)

// killCause is a signal sent to a pid, from a kill event.
type killCause struct {
	at                 int64 // unix ms
	sig                int64
	pid, ppid          int64
	comm, exe, cmdline string
	uid, auid          ID
	unit               string
	eventID            string
}

// crashCause is an ANOM_ABEND of a pid.
type crashCause struct {
	at  int64
	sig int64
}

// death is a document to come: an OOM kill, or a watched process's exit.
type death struct {
	due   time.Time
	oom   *OOMKill // an OOM kill document
	proc  Proc     // died: the process as the table knew it
	watch string   // died: the watch it fell under
	host  string
}

// deaths is the enricher's state for them.
type deaths struct {
	watch   Watch
	grace   time.Duration
	kills   map[int64]killCause
	crashes map[int64]crashCause
	ooms    map[int64]OOMKill
	pending []death
	stats   DeathStats
}

// DeathStats count the death documents.
type DeathStats struct {
	OOMKills uint64 `json:"oom_kills"`
	Died     uint64 `json:"died"`
	Dropped  uint64 `json:"dropped"` // deaths beyond maxPending
}

func newDeaths(w Watch, grace time.Duration) *deaths {
	if grace <= 0 {
		grace = 1500 * time.Millisecond
	}
	return &deaths{watch: w, grace: grace, kills: map[int64]killCause{}, crashes: map[int64]crashCause{}, ooms: map[int64]OOMKill{}}
}

// pruneCauses keeps a cause table within its bound: causes older than the
// retention go first, then all (they are only a join for deaths to come).
func pruneCauses[T any](m map[int64]T, at func(T) int64, now int64) {
	if len(m) < maxCauses {
		return
	}
	for k, v := range m {
		if now-at(v) > causeRetention.Milliseconds() {
			delete(m, k)
		}
	}
	if len(m) >= maxCauses {
		clear(m)
	}
}

// noteKill remembers the signals of a kill event for the deaths of their
// targets (only when something is watched: the join costs a copy).
func (e *Enricher) noteKill(m *Model) {
	d := e.deaths
	if d.watch.empty() || m.Kind != KindKill || m.Outcome == OutcomeFailure || !m.Signal.Has || m.Signal.Nr == 0 {
		return
	}
	ev, p := m.Event, &m.Process
	at := ev.Sec*1000 + int64(ev.Msec)
	pruneCauses(d.kills, func(k killCause) int64 { return k.at }, at)
	k := killCause{at: at, sig: m.Signal.Nr, pid: p.PID, ppid: p.PPID, comm: string(p.Comm), exe: string(p.Exe),
		uid: p.IDs[IDUid], auid: p.IDs[IDAuid]}
	k.uid.Name, k.auid.Name = []byte(string(k.uid.Name)), []byte(string(k.auid.Name))
	if len(p.Argv) > 0 {
		k.cmdline = string(joinArgv([]byte(string(p.Argv))))
	}
	if p.Known != nil {
		k.unit = p.Known.Unit
	}
	k.eventID = string(appendID(nil, ev))
	for _, t := range m.Target.Processes {
		d.kills[t.PID] = k
	}
	if len(m.Target.Processes) == 0 && m.Target.HasPidArg && m.Target.PidArg > 0 {
		d.kills[m.Target.PidArg] = k
	}
}

// noteCrash remembers an ANOM_ABEND for the death of its process.
func (e *Enricher) noteCrash(m *Model) {
	d := e.deaths
	if d.watch.empty() || !m.Signal.Has || m.Process.PID <= 0 {
		return
	}
	at := m.Event.Sec*1000 + int64(m.Event.Msec)
	pruneCauses(d.crashes, func(c crashCause) int64 { return c.at }, at)
	d.crashes[m.Process.PID] = crashCause{at: at, sig: m.Signal.Nr}
}

// Process records a fork, exec or exit from the process events connector
// in the process table; the exit of a watched process queues its "died"
// document, written once its cause had time to arrive (the kill's audit
// record and the kernel's OOM lines can come after the exit).
func (e *Enricher) Process(ev *ProcEvent) {
	e.procs.Apply(ev)
	d := e.deaths
	if ev.Kind != ProcExit || d.watch.empty() {
		return
	}
	p := e.procs.Get(ev.PID)
	if p == nil {
		return
	}
	w := d.watch.match(p)
	if w == "" {
		return
	}
	snap := *p
	snap.Argv = append([]byte(nil), p.Argv...)
	e.queueDeath(death{due: ev.Time.Add(d.grace), proc: snap, watch: w, host: e.cfg.Hostname})
}

// OOM records a kernel OOM kill and queues its document.
func (e *Enricher) OOM(k *OOMKill) {
	d := e.deaths
	at := k.Time.UnixMilli()
	pruneCauses(d.ooms, func(o OOMKill) int64 { return o.Time.UnixMilli() }, at)
	d.ooms[k.PID] = *k
	kk := *k
	e.queueDeath(death{due: k.Time, oom: &kk, host: k.Host})
}

func (e *Enricher) queueDeath(x death) {
	d := e.deaths
	if len(d.pending) >= maxPending {
		d.stats.Dropped++
		return
	}
	d.pending = append(d.pending, x)
}

// Pending writes into doc the next death document due at now and reports
// whether there was one. Call it until it returns false after Tick, after
// Process and OOM, and (with a far-away now) at the end of an input.
// A death the search criteria leave out is dropped here (counted as
// filtered_search).
func (e *Enricher) Pending(now time.Time, doc *encode.Document) bool {
	d := e.deaths
	var x death
	for {
		best := -1
		for i := range d.pending {
			if !d.pending[i].due.After(now) && (best < 0 || d.pending[i].due.Before(d.pending[best].due)) {
				best = i
			}
		}
		if best < 0 {
			return false
		}
		x = d.pending[best]
		d.pending = append(d.pending[:best], d.pending[best+1:]...)
		if e.searchDeath(&x) {
			break
		}
	}
	doc.Reset()
	if x.oom != nil {
		d.stats.OOMKills++
		e.writeOOM(x.oom, doc)
	} else {
		d.stats.Died++
		e.writeDied(&x, doc)
	}
	return true
}

// PendingDeaths is the number of death documents waiting.
func (e *Enricher) PendingDeaths() int { return len(e.deaths.pending) }

// cause is why a process died, joined at write time.
type cause struct {
	kind  string // killed, oom-killed, crashed, signaled, exited, unknown
	sig   int64
	kill  *killCause
	oom   *OOMKill
	crash bool
}

func (e *Enricher) causeOf(p *Proc) cause {
	d := e.deaths
	x := p.Exit
	end := x.Time
	if end == 0 {
		end = p.Exited * 1000
	}
	near := func(at int64) bool { return at <= end+d.grace.Milliseconds() && at >= end-causeWindow.Milliseconds() }
	c := cause{kind: "unknown", sig: int64(x.Signal)}
	if o, ok := d.ooms[p.PID]; ok && near(o.Time.UnixMilli()) && (x.Signal == 0 || x.Signal == 9) {
		c.kind, c.oom, c.sig = "oom-killed", &o, 9
		return c
	}
	if k, ok := d.kills[p.PID]; ok && near(k.at) && (x.Signal == 0 || int64(x.Signal) == k.sig || k.sig == 15 || k.sig == 2 || k.sig == 1) {
		// A SIGTERM (SIGINT, SIGHUP) may end in an exit(0) or a later
		// SIGKILL: still the sender's doing.
		c.kind, c.kill = "killed", &k
		if c.sig == 0 {
			c.sig = k.sig
		}
		return c
	}
	if cr, ok := d.crashes[p.PID]; ok && near(cr.at) {
		c.kind, c.crash, c.sig = "crashed", true, cr.sig
		return c
	}
	switch {
	case !x.Known:
	case x.Signal > 0 && (x.CoreDumped || crashSignal(x.Signal)):
		c.kind, c.crash = "crashed", true
	case x.Signal > 0:
		c.kind = "signaled"
	default:
		c.kind = "exited"
	}
	return c
}

// crashSignal: the signals the kernel sends a process for its own fault.
func crashSignal(sig int) bool {
	switch sig {
	case 4, 5, 6, 7, 8, 11, 31: // SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS
		return true
	}
	return false
}

// deathID is the id of a death document: kind:sec.msec:pid.
func deathID(b []byte, kind string, t time.Time, pid int64) []byte {
	b = append(append(b, kind...), ':')
	ms := t.UnixMilli()
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.', byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10), ':')
	return strconv.AppendInt(b, pid, 10)
}

// procLabel appends `pid N "cmdline" (comm, unit U, pod P, container C)`.
func (e *Enricher) procLabel(s []byte, pid int64, p *Proc, comm string) []byte {
	s = append(s, "pid "...)
	s = strconv.AppendInt(s, pid, 10)
	if p != nil && len(p.Argv) > 0 {
		s = append(s, ' ')
		s = appendQuoted(s, p.Argv, summaryArgv)
	}
	if p != nil && p.Comm != "" {
		comm = p.Comm
	}
	n := len(s)
	s = append(append(s, " ("...), comm...)
	s = e.appendWhere(s, p)
	switch {
	case len(s) == n+2:
		return s[:n] // nothing known
	case comm == "":
		s = append(s[:n+2], s[n+4:]...) // " (, unit x" -> " (unit x"
	}
	return append(s, ')')
}

func appendSignal(s []byte, sig int64) []byte {
	if n := signalName(sig); n != "" && sig > 0 {
		return append(s, n...)
	}
	return strconv.AppendInt(append(s, "signal "...), sig, 10)
}

// oomText appends what the OOM killer said of the memory.
func oomText(s []byte, k *OOMKill) []byte {
	switch {
	case k.Global:
		s = append(s, "the machine is out of memory"...)
	case k.OOMMemcg != "":
		s = append(append(s, "memory cgroup "...), k.OOMMemcg...)
		if k.MemcgLimit > 0 {
			s = strconv.AppendUint(append(s, " at its limit of "...), k.MemcgLimit, 10)
			s = append(s, " kB"...)
		} else {
			s = append(s, " at its limit"...)
		}
	default:
		s = append(s, "out of memory"...)
		if k.Constraint != "" {
			s = append(append(append(s, " ("...), k.Constraint...), ')')
		}
	}
	if k.AnonRSS > 0 {
		s = strconv.AppendUint(append(s, ", anon-rss "...), k.AnonRSS, 10)
		s = append(s, " kB"...)
	}
	return s
}

// oomSummary: `the kernel's OOM killer killed pid N "cmd" (comm, unit U): memory cgroup /x at its limit of 32768 kB, anon-rss 30000 kB`.
func (e *Enricher) oomSummary(s []byte, k *OOMKill, p *Proc) []byte {
	s = append(s, "the kernel's OOM killer killed "...)
	s = e.procLabel(s, k.PID, p, k.Comm)
	s = append(s, ": "...)
	return oomText(s, k)
}

// diedSummary: `nginx.service: pid N "cmd" (nginx) was killed by SIGKILL from pid M "kill -9 N" (/usr/bin/kill, user root)`.
func (e *Enricher) diedSummary(s []byte, x *death, c *cause) []byte {
	p := &x.proc
	s = append(append(s, x.watch...), ": "...)
	s = e.procLabel(s, p.PID, p, "")
	switch c.kind {
	case "oom-killed":
		s = append(s, " was killed by the kernel's OOM killer: "...)
		s = oomText(s, c.oom)
	case "killed":
		k := c.kill
		s = append(s, " was killed by "...)
		if p.Exit.Signal > 0 && int64(p.Exit.Signal) != k.sig {
			s = appendSignal(s, int64(p.Exit.Signal))
			s = append(s, " after "...)
		}
		s = appendSignal(s, k.sig)
		s = append(s, " from pid "...)
		s = strconv.AppendInt(s, k.pid, 10)
		s = append(s, ' ')
		if k.cmdline != "" {
			s = appendQuoted(s, []byte(k.cmdline), summaryArgv)
		} else {
			s = append(s, k.comm...)
		}
		s = append(s, " ("...)
		if k.exe != "" {
			s = append(append(s, k.exe...), ", "...)
		}
		s = append(s, "user "...)
		if len(k.uid.Name) > 0 {
			s = append(s, k.uid.Name...)
		} else {
			s = strconv.AppendInt(s, k.uid.N, 10)
		}
		if k.unit != "" {
			s = append(append(s, ", unit "...), k.unit...)
		}
		s = append(s, ')')
	case "crashed":
		s = append(s, " crashed with "...)
		s = appendSignal(s, c.sig)
		if p.Exit.CoreDumped {
			s = append(s, " (core dumped)"...)
		}
	case "signaled":
		s = append(s, " was killed by "...)
		s = appendSignal(s, c.sig)
		s = append(s, " (no kill event names the sender: no kill rule, or the kernel sent it)"...)
	case "exited":
		s = strconv.AppendInt(append(s, " exited with status "...), int64(p.Exit.Code), 10)
	default:
		s = append(s, " ended"...)
	}
	return s
}

// oomVictim is the process table's entry of an OOM kill's victim, nil when
// unknown or when the table's pid is another process now.
func (e *Enricher) oomVictim(k *OOMKill) *Proc {
	p := e.procs.Get(k.PID)
	if p != nil && p.Comm != "" && k.Comm != "" && p.Comm != k.Comm {
		return nil
	}
	return p
}

// writeOOM writes an OOM kill in the schema: the victim (target.* in the
// default schema, beside the kill events' targets; process.* in ECS, an
// end event), the kernel's figures under oom.
func (e *Enricher) writeOOM(k *OOMKill, doc *encode.Document) {
	p := e.oomVictim(k)
	doc.Sec, doc.Nsec = k.Time.Unix(), int64(k.Time.Nanosecond())
	e.ts = k.Time.UTC().AppendFormat(e.ts[:0], "2006-01-02T15:04:05.000Z")
	doc.Trusted("@timestamp", e.ts)
	e.sum = e.oomSummary(e.sum[:0], k, p)
	e.tmp = deathID(e.tmp[:0], "oom", k.Time, k.PID)
	host := k.Host
	if host == "" {
		host = e.cfg.Hostname
	}
	if e.ecs {
		doc.StrBytes("message", e.sum)
		e.ecsDeathEvent(doc, "oom-killed-pid", "success")
		writeHost(doc, host)
		e.ecsDeadProcess(doc, k.PID, p, k.Comm, k.UID, &Exit{Known: true, Signal: 9})
		doc.Object("auditd")
		if e.cfg.Full {
			doc.StrBytes("summary_text", e.sum)
		}
		e.writeOOMFields(doc, k)
		doc.End()
		return
	}
	doc.StrBytes("summary", e.sum)
	e.deathEvent(doc, KindOOM, "oom-killed-pid", k.Time)
	writeHost(doc, host)
	doc.Object("signal")
	doc.Int("nr", 9)
	doc.Str("name", "SIGKILL")
	doc.End()
	doc.Object("target")
	doc.Str("scope", ScopeProcess.String())
	doc.Int("count", 1)
	doc.Array("processes")
	doc.Object("")
	e.writeDeadProcess(doc, k.PID, p, k.Comm, k.UID)
	doc.End()
	doc.End()
	doc.End()
	e.writeOOMFields(doc, k)
}

func (e *Enricher) writeOOMFields(doc *encode.Document, k *OOMKill) {
	doc.Object("oom")
	for _, f := range [...]struct {
		key string
		v   string
	}{{"constraint", k.Constraint}, {"memcg", k.OOMMemcg}, {"task_memcg", k.TaskMemcg}} {
		if f.v != "" {
			doc.Str(f.key, f.v)
		}
	}
	doc.Bool("global", k.Global)
	for _, f := range [...]struct {
		key string
		v   uint64
	}{{"memcg_usage_kb", k.MemcgUsage}, {"memcg_limit_kb", k.MemcgLimit}, {"total_vm_kb", k.TotalVM},
		{"anon_rss_kb", k.AnonRSS}, {"file_rss_kb", k.FileRSS}, {"shmem_rss_kb", k.ShmemRSS}, {"pgtables_kb", k.PgTables}} {
		if f.v > 0 {
			doc.Uint(f.key, f.v)
		}
	}
	doc.Int("oom_score_adj", int64(k.OOMScoreAdj))
	if k.TriggerComm != "" || k.TriggerPID > 0 {
		doc.Object("trigger")
		if k.TriggerPID > 0 {
			doc.Int("pid", k.TriggerPID)
		}
		if k.TriggerComm != "" {
			doc.Str("comm", k.TriggerComm)
		}
		doc.End()
	}
	if k.Partial {
		doc.Bool("partial", true)
	}
	doc.End()
}

// writeDied writes a watched process's death with its cause.
func (e *Enricher) writeDied(x *death, doc *encode.Document) {
	p := &x.proc
	c := e.causeOf(p)
	t := time.UnixMilli(p.Exit.Time)
	if p.Exit.Time == 0 {
		t = time.Unix(p.Exited, 0)
	}
	doc.Sec, doc.Nsec = t.Unix(), int64(t.Nanosecond())
	e.ts = t.UTC().AppendFormat(e.ts[:0], "2006-01-02T15:04:05.000Z")
	doc.Trusted("@timestamp", e.ts)
	e.sum = e.diedSummary(e.sum[:0], x, &c)
	e.tmp = deathID(e.tmp[:0], "exit", t, p.PID)
	if e.ecs {
		doc.StrBytes("message", e.sum)
		e.ecsDeathEvent(doc, "died", "success")
		writeHost(doc, x.host)
		e.ecsDeadProcess(doc, p.PID, p, "", p.UID, &p.Exit)
		doc.Object("auditd")
		if e.cfg.Full {
			doc.StrBytes("summary_text", e.sum)
		}
		e.writeCause(doc, x, &c)
		doc.End()
		return
	}
	doc.StrBytes("summary", e.sum)
	e.deathEvent(doc, KindDeath, "died", t)
	writeHost(doc, x.host)
	doc.Object("process")
	e.writeDeadProcess(doc, p.PID, p, "", p.UID)
	doc.End()
	e.writeCause(doc, x, &c)
}

// writeCause writes death.*: the cause, the exit status, the signal, and
// the sender or the OOM kill.
func (e *Enricher) writeCause(doc *encode.Document, x *death, c *cause) {
	p := &x.proc
	doc.Object("death")
	doc.Str("cause", c.kind)
	doc.Str("watch", x.watch)
	if p.Exit.Known {
		doc.Int("exit_code", int64(p.Exit.ExitCode()))
		if p.Exit.CoreDumped {
			doc.Bool("core_dumped", true)
		}
	}
	if c.sig > 0 {
		doc.Object("signal")
		doc.Int("nr", c.sig)
		if n := signalName(c.sig); n != "" {
			doc.Str("name", n)
		}
		doc.End()
	}
	if k := c.kill; k != nil {
		doc.Object("killer")
		doc.Int("pid", k.pid)
		if k.ppid > 0 {
			doc.Int("ppid", k.ppid)
		}
		if k.comm != "" {
			doc.Str("comm", k.comm)
		}
		if k.exe != "" {
			doc.Str("exe", k.exe)
		}
		if k.cmdline != "" {
			doc.Str("cmdline", k.cmdline)
		}
		writeID(doc, "uid", "user", k.uid)
		writeID(doc, "auid", "auser", k.auid)
		if k.unit != "" {
			doc.Str("unit", k.unit)
		}
		doc.Str("event_id", k.eventID)
		doc.End()
	}
	if c.oom != nil {
		e.writeOOMFields(doc, c.oom)
	}
	doc.End()
}

// deathEvent writes the default schema's event block of a death.
func (e *Enricher) deathEvent(doc *encode.Document, kind Kind, action string, t time.Time) {
	doc.Object("event")
	doc.StrBytes("id", e.tmp)
	doc.Int("time", t.Unix())
	doc.Int("msec", int64(t.Nanosecond()/1e6))
	doc.Str("kind", kind.String())
	doc.Str("category", CategoryProcess)
	doc.Str("action", action)
	doc.Str("outcome", "success")
	doc.End()
}

// ecsDeathEvent writes ECS's event block of a death: a process end.
func (e *Enricher) ecsDeathEvent(doc *encode.Document, action, outcome string) {
	doc.Object("ecs")
	doc.Str("version", "8.11.0")
	doc.End()
	doc.Object("event")
	doc.Str("kind", "event")
	doc.Str("module", "auditd")
	doc.Str("action", action)
	doc.Str("outcome", outcome)
	writeStrings(doc, "category", []string{CategoryProcess})
	writeStrings(doc, "type", []string{TypeEnd})
	doc.StrBytes("id", e.tmp)
	doc.End()
}

func writeHost(doc *encode.Document, host string) {
	if host != "" {
		doc.Object("host")
		doc.Str("name", host)
		doc.End()
	}
}

// writeDeadProcess writes a process that ended (default schema): pid,
// what the table knew of it, its name and uid from the kernel's report
// where the table has none.
func (e *Enricher) writeDeadProcess(doc *encode.Document, pid int64, p *Proc, comm string, uid int64) {
	doc.Int("pid", pid)
	q := Proc{Comm: comm, UID: uid}
	if p != nil {
		q = *p
		q.Exited = 0 // (it is a death: said by the document)
		if q.Comm == "" {
			q.Comm = comm
		}
		if uid >= 0 {
			q.UID = uid
		}
	}
	e.writeProc(doc, &q)
	e.writeKube(doc, &q)
}

// ecsDeadProcess writes process.* (and user.*, container.id) of a process
// that ended, with its exit code as a shell reports it.
func (e *Enricher) ecsDeadProcess(doc *encode.Document, pid int64, p *Proc, comm string, uid int64, x *Exit) {
	doc.Object("process")
	doc.Int("pid", pid)
	if p != nil && p.Comm != "" {
		comm = p.Comm
	}
	if comm != "" {
		doc.Str("name", comm)
	}
	if p != nil {
		if p.Exe != "" {
			doc.Str("executable", p.Exe)
		}
		if len(p.Argv) > 0 {
			writeArgs(doc, "args", p.Argv)
			e.writeCmdline(doc, "command_line", p.Argv)
		}
		if p.PPID > 0 {
			doc.Object("parent")
			doc.Int("pid", p.PPID)
			doc.End()
		}
	}
	if x != nil && x.Known {
		doc.Int("exit_code", int64(x.ExitCode()))
	}
	if p != nil && p.Unit != "" {
		doc.Object("systemd")
		doc.Str("unit", p.Unit)
		doc.End()
	}
	doc.End()
	if uid < 0 && p != nil {
		uid = p.UID
	}
	if uid >= 0 {
		doc.Object("user")
		var nb [20]byte
		doc.StrBytes("id", strconv.AppendInt(nb[:0], uid, 10))
		if n := e.userName(uid); n != "" {
			doc.Str("name", n)
		}
		doc.End()
	}
	e.ecsContainer(doc, p)
}
