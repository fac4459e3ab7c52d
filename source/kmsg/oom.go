package kmsg

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// OOMReport is one kill by the OOM killer, from the kernel's lines:
//
//	python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0       (trigger)
//	CPU: 1 UID: 0 PID: 18497 Comm: python3 Not tainted ...                                 (trigger's pid)
//	memory: usage 32768kB, limit 32768kB, failcnt 19                                       (memory cgroup)
//	Memory cgroup stats for /exp-oom:                                                      (memory cgroup)
//	oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/exp-oom,task_memcg=/exp-oom,task=python3,pid=18497,uid=0
//	Memory cgroup out of memory: Killed process 18497 (python3) total-vm:61644kB, anon-rss:50944kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:160kB oom_score_adj:0
//
// The last line is the kill; the others may be missing (the kernel
// rate-limits them; a saved log may have lost them): Seen says which
// were there.
type OOMReport struct {
	// Time (and Mono, when HasMono) of the kill line, or of the last
	// line seen for a partial report; Host from a syslog or journal line.
	Time    time.Time
	Mono    time.Duration
	HasMono bool
	Host    string

	// The victim: pid, name, uid; its memory when killed, in kB; its
	// oom_score_adj.
	PID                                           int32
	Comm                                          string
	UID                                           uint32
	TotalVM, AnonRSS, FileRSS, ShmemRSS, PgTables uint64
	OOMScoreAdj                                   int

	// Reason is the kill line's prefix: "Memory cgroup out of memory" or
	// "Out of memory" (a global OOM; also "Out of memory
	// (oom_kill_allocating_task)").
	Reason string
	// Constraint is CONSTRAINT_NONE (the whole machine), CONSTRAINT_MEMCG
	// (a memory cgroup's limit), CONSTRAINT_CPUSET or
	// CONSTRAINT_MEMORY_POLICY; Nodemask, Cpuset and MemsAllowed as the
	// summary line prints them.
	Constraint, Nodemask, Cpuset, MemsAllowed string
	// Global is set for an OOM of the whole machine.
	Global bool
	// OOMMemcg is the memory cgroup that hit its limit (memory cgroup
	// OOMs), TaskMemcg the victim's memory cgroup: paths as in
	// /proc/<pid>/cgroup.
	OOMMemcg, TaskMemcg string
	// MemcgUsage and MemcgLimit (kB) of OOMMemcg, when printed.
	MemcgUsage, MemcgLimit uint64

	// The task whose allocation failed: its name, its pid (0 when not
	// printed), the allocation's gfp mask and order, its oom_score_adj.
	TriggerComm        string
	TriggerPID         int32
	GFPMask            string
	Order              int
	TriggerOOMScoreAdj int

	// Seen tells which of the kernel's lines were seen.
	Seen OOMParts
}

// Partial tells that the kill line itself was not seen (the report was
// made from the summary line when no kill line followed in time).
func (r *OOMReport) Partial() bool { return r.Seen&OOMKilled == 0 }

// OOMParts is a set of the kernel's OOM lines.
type OOMParts uint8

// The lines of an OOM kill.
const (
	OOMTrigger    OOMParts = 1 << iota // "<comm> invoked oom-killer: ..."
	OOMTriggerPID                      // "CPU: N UID: U PID: P Comm: <comm> ..."
	OOMUsage                           // "memory: usage ..., limit ..."
	OOMSummary                         // "oom-kill:constraint=..."
	OOMKilled                          // "...: Killed process ..."
)

var oomPartNames = [...]string{"trigger", "trigger_pid", "usage", "summary", "killed"}

// String lists the parts ("trigger,summary,killed").
func (p OOMParts) String() string {
	var s []string
	for i, n := range oomPartNames {
		if p&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return strings.Join(s, ",")
}

// OOMConfig bounds an OOMParser.
type OOMConfig struct {
	// MaxPending is how many OOMs may be in progress at once (default
	// 8); past it the oldest is finished early.
	MaxPending int
	// MaxAge is how long (by the lines' time) an OOM may wait for its
	// kill line (default 30 s).
	MaxAge time.Duration
	// MaxQueue is how many finished reports wait for Report (default
	// 64); past it the oldest is dropped (OOMStats.Dropped).
	MaxQueue int
}

// OOMStats are the counters of an OOMParser.
type OOMStats struct {
	Lines   uint64 // messages fed
	Reports uint64 // reports finished
	Partial uint64 // of them, without a kill line
	NoKill  uint64 // OOMs that ended without a victim (no summary, no kill line): not reported
	Evicted uint64 // OOMs finished early because MaxPending were in progress
	Dropped uint64 // reports dropped because MaxQueue were waiting
	Long    uint64 // messages ignored for being longer than 8 KiB
	Late    uint64 // summary lines of a kill already reported (reordered log): ignored
}

// OOMParser turns kernel messages, fed in log order, into OOMReports. It
// keeps a bounded state: at most MaxPending OOMs in progress, MaxQueue
// finished reports. Not for concurrent use.
//
// Lines go to the OOM in progress they belong to by what ties them: the
// host (logs of several machines merged), the task that logged them
// (Line.Caller, with the kernel's CONFIG_PRINTK_CALLER), the memory
// cgroup ("Memory cgroup stats for X" and the summary's oom_memcg), the
// victim's pid (summary and kill line), the trigger's name (its stack
// dump header); else the newest one waiting for that line. One kernel
// prints an OOM's lines in order, under its OOM lock, with unrelated
// lines in between only.
type OOMParser struct {
	cfg   OOMConfig
	pend  []*oomPending
	free  []*oomPending
	out   []OOMReport
	stats OOMStats
	seq   uint64
	// recent kills (pid and stamp of the kill line), for summary lines
	// that come after their kill line
	recent  [16]recentKill
	nrecent int
}

type recentKill struct {
	pid  int32
	host string
	at   Line
}

type oomPending struct {
	r          OOMReport
	host       string // of the first line: lines of other hosts are not ours
	caller     string // likewise the task that logged it, when known
	memcgRaw   string // the summary's ",oom_memcg=...,task_memcg=...,task=COMM"
	statsMemcg string // from "Memory cgroup stats for X:"
	last       Line   // stamp of the last line (time only)
	seq        uint64
}

const maxOOMLine = 8 << 10

// NewOOMParser returns a parser with cfg's bounds (zero values: the
// defaults).
func NewOOMParser(cfg OOMConfig) *OOMParser {
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 8
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 30 * time.Second
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = 64
	}
	return &OOMParser{cfg: cfg}
}

// Record feeds a /dev/kmsg record; records not logged by the kernel
// (facility other than 0: written by a process) are ignored.
func (p *OOMParser) Record(r *Record) {
	if r.Kernel() {
		p.Feed(r.Line())
	}
}

// Feed takes one kernel message (several if it holds newlines).
func (p *OOMParser) Feed(l Line) {
	msg := l.Msg
	for {
		nl := bytes.IndexByte(msg, '\n')
		if nl < 0 {
			p.line(msg, &l)
			return
		}
		p.line(msg[:nl], &l)
		msg = msg[nl+1:]
	}
}

// Report returns the next finished report, oldest first.
func (p *OOMParser) Report() (OOMReport, bool) {
	if len(p.out) == 0 {
		return OOMReport{}, false
	}
	r := p.out[0]
	copy(p.out, p.out[1:])
	p.out[len(p.out)-1] = OOMReport{}
	p.out = p.out[:len(p.out)-1]
	return r, true
}

// Expire finishes the OOMs that waited more than MaxAge by the wall
// clock (for a live source, when no line came for a while).
func (p *OOMParser) Expire(now time.Time) {
	for i := 0; i < len(p.pend); {
		if t := p.pend[i].last.Time; !t.IsZero() && now.Sub(t) > p.cfg.MaxAge {
			p.finish(i)
			continue
		}
		i++
	}
}

// Flush finishes every OOM in progress (at the end of a saved log).
func (p *OOMParser) Flush() {
	for len(p.pend) > 0 {
		p.finish(0)
	}
}

// Pending is the number of OOMs in progress.
func (p *OOMParser) Pending() int { return len(p.pend) }

// Stats returns the counters so far.
func (p *OOMParser) Stats() OOMStats { return p.stats }

var (
	pfxSummary  = []byte("oom-kill:")
	pfxCPU      = []byte("CPU: ")
	pfxUsage    = []byte("memory: usage ")
	pfxStats    = []byte("Memory cgroup stats for ")
	pfxTaskIn   = []byte("Task in ")
	midKilled   = []byte("Killed process ")
	midInvoked  = []byte(" invoked oom-killer: ")
	midTotalVM  = []byte(") total-vm:")
	midLimitOf  = []byte(" killed as a result of limit of ")
	reasonMemcg = "Memory cgroup out of memory"
	reasonOOM   = "Out of memory"
)

func (p *OOMParser) line(m []byte, l *Line) {
	p.stats.Lines++
	if len(m) > maxOOMLine {
		p.stats.Long++
		return
	}
	if len(p.pend) > 0 {
		p.expireBy(l)
	}
	switch {
	case bytes.HasPrefix(m, pfxSummary):
		p.summary(m[len(pfxSummary):], l)
	case bytes.Contains(m, midKilled):
		p.killed(m, l)
	case len(p.pend) > 0 && bytes.HasPrefix(m, pfxCPU):
		p.cpu(m, l)
	case len(p.pend) > 0 && bytes.HasPrefix(m, pfxUsage):
		p.usage(m[len(pfxUsage):], l)
	case len(p.pend) > 0 && bytes.HasPrefix(m, pfxStats) && bytes.HasSuffix(m, []byte(":")):
		if q := p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMSummary|OOMKilled) == 0 && q.statsMemcg == "" }); q != nil {
			q.statsMemcg = string(m[len(pfxStats) : len(m)-1])
			q.last = stamp(l)
		}
	case bytes.HasPrefix(m, pfxTaskIn) && bytes.Contains(m, midLimitOf):
		p.taskIn(m[len(pfxTaskIn):], l)
	default:
		if i := bytes.Index(m, midInvoked); i > 0 && i <= 64 {
			p.trigger(m[:i], m[i+len(midInvoked):], l)
		}
	}
}

// stamp is l's time without its slices (kept past the caller's buffer).
func stamp(l *Line) Line { return Line{Time: l.Time, Mono: l.Mono, HasMono: l.HasMono} }

// older tells whether a line stamped a is more than MaxAge after b.
func (p *OOMParser) older(b, a *Line) bool {
	if a.HasMono && b.HasMono {
		return a.Mono-b.Mono > p.cfg.MaxAge
	}
	if !a.Time.IsZero() && !b.Time.IsZero() {
		return a.Time.Sub(b.Time) > p.cfg.MaxAge
	}
	return false
}

func (p *OOMParser) expireBy(l *Line) {
	for i := 0; i < len(p.pend); {
		if p.older(&p.pend[i].last, l) {
			p.finish(i)
			continue
		}
		i++
	}
}

// start makes a new OOM in progress, finishing the oldest if there are
// MaxPending already.
func (p *OOMParser) start(l *Line) *oomPending {
	if len(p.pend) >= p.cfg.MaxPending {
		p.stats.Evicted++
		p.finish(0)
	}
	var q *oomPending
	if n := len(p.free); n > 0 {
		q, p.free = p.free[n-1], p.free[:n-1]
		*q = oomPending{}
	} else {
		q = &oomPending{}
	}
	p.seq++
	q.seq, q.last = p.seq, stamp(l)
	q.host, q.caller = string(l.Host), string(l.Caller)
	p.pend = append(p.pend, q)
	return q
}

// newest returns the most recent OOM in progress of l's host (and
// caller, when both know it) that ok accepts.
func (p *OOMParser) newest(l *Line, ok func(*oomPending) bool) *oomPending {
	for i := len(p.pend) - 1; i >= 0; i-- {
		q := p.pend[i]
		if q.host != string(l.Host) || (q.caller != "" && len(l.Caller) > 0 && q.caller != string(l.Caller)) {
			continue
		}
		if ok(q) {
			return q
		}
	}
	return nil
}

// finish ends the i-th OOM in progress: a report when its victim is
// known, else it is counted in NoKill.
func (p *OOMParser) finish(i int) {
	q := p.pend[i]
	copy(p.pend[i:], p.pend[i+1:])
	p.pend[len(p.pend)-1] = nil
	p.pend = p.pend[:len(p.pend)-1]
	if q.r.Seen&(OOMSummary|OOMKilled) == 0 {
		p.stats.NoKill++
	} else {
		p.emit(q)
	}
	q.r = OOMReport{}
	p.free = append(p.free, q)
}

func (p *OOMParser) emit(q *oomPending) {
	r := q.r
	r.Time, r.Mono, r.HasMono = q.last.Time, q.last.Mono, q.last.HasMono
	r.Host = q.host
	if r.OOMMemcg == "" && q.statsMemcg != "" && !r.Global {
		r.OOMMemcg = q.statsMemcg
	}
	if r.Reason == reasonOOM && r.Constraint == "" {
		r.Global = true
	}
	p.stats.Reports++
	if r.Partial() {
		p.stats.Partial++
	}
	if len(p.out) >= p.cfg.MaxQueue {
		p.stats.Dropped++
		copy(p.out, p.out[1:])
		p.out = p.out[:len(p.out)-1]
	}
	p.out = append(p.out, r)
}

// trigger: "<comm> invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
func (p *OOMParser) trigger(comm, rest []byte, l *Line) {
	q := p.start(l)
	q.r.Seen |= OOMTrigger
	q.r.TriggerComm = string(comm)
	if v, ok := field(rest, "gfp_mask=", ", "); ok {
		q.r.GFPMask = string(v)
	}
	if v, ok := field(rest, "order=", ", "); ok {
		q.r.Order, _ = strconv.Atoi(string(v))
	}
	if v, ok := field(rest, "oom_score_adj=", ", "); ok {
		q.r.TriggerOOMScoreAdj, _ = strconv.Atoi(string(v))
	}
}

// cpu: "CPU: 1 UID: 0 PID: 5776 Comm: hog Not tainted ..." (or without
// UID on older kernels), the trigger's stack dump header.
func (p *OOMParser) cpu(m []byte, l *Line) {
	i := bytes.Index(m, []byte(" PID: "))
	if i < 0 {
		return
	}
	j := bytes.Index(m[i:], []byte(" Comm: "))
	if j < 6 {
		return
	}
	j += i
	pid, ok := atou(bytes.TrimSpace(m[i+6 : j]))
	if !ok || pid > 1<<31 {
		return
	}
	comm := m[j+7:]
	q := p.newest(l, func(q *oomPending) bool {
		if q.r.Seen&(OOMTrigger|OOMTriggerPID|OOMSummary|OOMKilled) != OOMTrigger {
			return false
		}
		c := q.r.TriggerComm
		return len(comm) >= len(c) && string(comm[:len(c)]) == c && (len(comm) == len(c) || comm[len(c)] == ' ')
	})
	if q != nil {
		q.r.TriggerPID = int32(pid)
		q.r.Seen |= OOMTriggerPID
		q.last = stamp(l)
	}
}

// usage: "32768kB, limit 32768kB, failcnt 19"
func (p *OOMParser) usage(m []byte, l *Line) {
	q := p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMUsage|OOMSummary|OOMKilled) == 0 })
	if q == nil {
		return
	}
	if v, ok := kB(m, ""); ok {
		q.r.MemcgUsage = v
	}
	if v, ok := kB(m, "limit "); ok {
		q.r.MemcgLimit = v
	}
	q.r.Seen |= OOMUsage
	q.last = stamp(l)
}

// taskIn: older kernels' "Task in /a killed as a result of limit of /b".
func (p *OOMParser) taskIn(m []byte, l *Line) {
	i := bytes.Index(m, midLimitOf)
	q := p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMSummary|OOMKilled) == 0 && q.r.TaskMemcg == "" })
	if q == nil {
		return
	}
	q.r.TaskMemcg, q.r.OOMMemcg = string(m[:i]), string(m[i+len(midLimitOf):])
	q.last = stamp(l)
}

// summary: "constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,
// mems_allowed=0,oom_memcg=/a,task_memcg=/a/b,task=comm,pid=1,uid=0"
// (",global_oom" instead of ",oom_memcg=..." for the whole machine).
// Values are found by their keys in the kernel's order, the victim's
// name and pid from the end: node lists hold commas, names and paths
// any character.
func (p *OOMParser) summary(m []byte, l *Line) {
	var r OOMReport
	iu := bytes.LastIndex(m, []byte(",uid="))
	if iu < 0 {
		return
	}
	uid, ok := atou(bytes.TrimSpace(m[iu+5:]))
	if !ok || uid > 1<<32-1 {
		return
	}
	head := m[:iu]
	ip := bytes.LastIndex(head, []byte(",pid="))
	if ip < 0 {
		return
	}
	pid, ok := atou(head[ip+5:])
	if !ok || pid > 1<<31 {
		return
	}
	head = head[:ip]
	for i := range min(p.nrecent, len(p.recent)) {
		if k := &p.recent[i]; k.pid == int32(pid) && k.host == string(l.Host) && !p.older(&k.at, l) {
			p.stats.Late++
			return
		}
	}
	r.PID, r.UID = int32(pid), uint32(uid)
	rest := head
	if v, after, ok := keyed(rest, "constraint=", ",nodemask="); ok {
		r.Constraint, rest = string(v), after
	}
	if v, after, ok := keyed(rest, "nodemask=", ",cpuset="); ok {
		r.Nodemask, rest = string(v), after
	}
	if v, after, ok := keyed(rest, "cpuset=", ",mems_allowed="); ok {
		r.Cpuset, rest = string(v), after
	}
	raw := rest
	if bytes.HasPrefix(rest, []byte("mems_allowed=")) {
		v := rest[len("mems_allowed="):]
		end := len(v)
		for _, k := range []string{",oom_memcg=", ",global_oom", ",task_memcg=", ",task="} {
			if i := bytes.Index(v, []byte(k)); i >= 0 && i < end {
				end = i
			}
		}
		r.MemsAllowed, raw = string(v[:end]), v[end:]
	}
	r.Seen = OOMSummary
	// The OOM in progress this belongs to: the one whose "Memory cgroup
	// stats for" named its oom_memcg, else the newest waiting for it.
	var q *oomPending
	memcgRaw := string(raw)
	oomMemcg, _, _, _ := splitMemcg(memcgRaw, "")
	if oomMemcg != "" {
		q = p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMSummary|OOMKilled) == 0 && q.statsMemcg == oomMemcg })
	}
	if q == nil {
		q = p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMSummary|OOMKilled) == 0 })
	}
	if q == nil {
		q = p.start(l)
	}
	q.r.Seen |= r.Seen
	q.r.PID, q.r.UID = r.PID, r.UID
	q.r.Constraint, q.r.Nodemask, q.r.Cpuset, q.r.MemsAllowed = r.Constraint, r.Nodemask, r.Cpuset, r.MemsAllowed
	q.memcgRaw = memcgRaw
	q.r.OOMMemcg, q.r.TaskMemcg, q.r.Comm, q.r.Global = splitMemcg(memcgRaw, "")
	if q.r.Global {
		q.r.OOMMemcg = ""
	}
	q.last = stamp(l)
}

// splitMemcg splits ",oom_memcg=A,task_memcg=B,task=C" (or
// ",global_oom,task_memcg=B,task=C"). comm, when known from the kill
// line, decides where the name starts; else the last ",task=". Between
// the two paths, the ",task_memcg=" chosen is one after which the task's
// path lies under the OOM's (it always does), else the first.
func splitMemcg(raw, comm string) (oom, task, taskComm string, global bool) {
	body := raw
	if comm != "" && strings.HasSuffix(raw, ",task="+comm) {
		body, taskComm = raw[:len(raw)-len(",task=")-len(comm)], comm
	} else if i := strings.LastIndex(raw, ",task="); i >= 0 {
		body, taskComm = raw[:i], raw[i+len(",task="):]
	}
	if b, ok := strings.CutPrefix(body, ",global_oom"); ok {
		global = true
		task, _ = strings.CutPrefix(b, ",task_memcg=")
		return
	}
	b, ok := strings.CutPrefix(body, ",oom_memcg=")
	if !ok {
		task, _ = strings.CutPrefix(body, ",task_memcg=")
		return
	}
	const k = ",task_memcg="
	first := -1
	for off := 0; ; {
		i := strings.Index(b[off:], k)
		if i < 0 {
			break
		}
		i += off
		if first < 0 {
			first = i
		}
		o, t := b[:i], b[i+len(k):]
		if t == o || o == "/" || strings.HasPrefix(t, o+"/") {
			return o, t, taskComm, false
		}
		off = i + 1
	}
	if first < 0 {
		return b, "", taskComm, false
	}
	return b[:first], b[first+len(k):], taskComm, false
}

// killed: "<reason>: Killed process 18497 (python3) total-vm:61644kB,
// anon-rss:50944kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:160kB
// oom_score_adj:0". The name ends at the last ") total-vm:".
func (p *OOMParser) killed(m []byte, l *Line) {
	i := bytes.Index(m, midKilled)
	reason := string(bytes.TrimSuffix(bytes.TrimRight(m[:i], " "), []byte(":")))
	if reason != "" && reason != reasonMemcg && !strings.HasPrefix(reason, reasonOOM) {
		return
	}
	rest := m[i+len(midKilled):]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 || sp+1 >= len(rest) || rest[sp+1] != '(' {
		return
	}
	pid, ok := atou(rest[:sp])
	if !ok || pid > 1<<31 {
		return
	}
	e := bytes.LastIndex(rest, midTotalVM)
	if e < sp+2 {
		return
	}
	comm, tail := string(rest[sp+2:e]), rest[e+2:]
	q := p.newest(l, func(q *oomPending) bool {
		return q.r.Seen&OOMSummary != 0 && q.r.Seen&OOMKilled == 0 && q.r.PID == int32(pid)
	})
	if q == nil {
		q = p.newest(l, func(q *oomPending) bool { return q.r.Seen&(OOMSummary|OOMKilled) == 0 })
	}
	if q == nil {
		q = p.start(l)
	}
	r := &q.r
	r.Seen |= OOMKilled
	r.PID, r.Comm, r.Reason = int32(pid), comm, reason
	if q.memcgRaw != "" {
		r.OOMMemcg, r.TaskMemcg, _, r.Global = splitMemcg(q.memcgRaw, comm)
		if r.Global {
			r.OOMMemcg = ""
		}
	}
	r.TotalVM, _ = kB(tail, "total-vm:")
	r.AnonRSS, _ = kB(tail, "anon-rss:")
	r.FileRSS, _ = kB(tail, "file-rss:")
	r.ShmemRSS, _ = kB(tail, "shmem-rss:")
	r.PgTables, _ = kB(tail, "pgtables:")
	if v, ok := field(tail, "UID:", " "); ok {
		if u, ok := atou(v); ok && u < 1<<32 {
			r.UID = uint32(u)
		}
	}
	if v, ok := field(tail, "oom_score_adj:", " "); ok {
		r.OOMScoreAdj, _ = strconv.Atoi(string(v))
	}
	q.last = stamp(l)
	p.recent[p.nrecent%len(p.recent)] = recentKill{pid: int32(pid), host: q.host, at: stamp(l)}
	p.nrecent++
	for j, x := range p.pend {
		if x == q {
			copy(p.pend[j:], p.pend[j+1:])
			p.pend[len(p.pend)-1] = nil
			p.pend = p.pend[:len(p.pend)-1]
			break
		}
	}
	p.emit(q)
	q.r = OOMReport{}
	p.free = append(p.free, q)
}

// field returns the value after key up to sep (or the end).
func field(b []byte, key, sep string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	v := b[i+len(key):]
	if j := bytes.Index(v, []byte(sep)); j >= 0 {
		v = v[:j]
	}
	return bytes.TrimSpace(v), true
}

// keyed returns the value of b's leading key up to next, and the rest
// from after the comma.
func keyed(b []byte, key, next string) (v, rest []byte, ok bool) {
	if !bytes.HasPrefix(b, []byte(key)) {
		return nil, b, false
	}
	v = b[len(key):]
	j := bytes.Index(v, []byte(next))
	if j < 0 {
		return nil, b, false
	}
	return v[:j], v[j+1:], true
}

// kB reads the number of "<key>NkB" in b.
func kB(b []byte, key string) (uint64, bool) {
	v := b
	if key != "" {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return 0, false
		}
		v = b[i+len(key):]
	}
	j := 0
	for j < len(v) && v[j] >= '0' && v[j] <= '9' {
		j++
	}
	if !bytes.HasPrefix(v[j:], []byte("kB")) {
		return 0, false
	}
	return atou(v[:j])
}
