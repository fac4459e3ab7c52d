// Package enrich turns a correlated audit event into one document a person
// or a SIEM reads without ausearch: every field decoded and named, the
// signal and target of kills, file operations with absolute paths, the
// caller's and target's process context, and a one-line summary.
//
// Each event is first decoded into a Model (extract, classify, resolve);
// the default schema, the ECS schema and the summary are writers of that
// model and never read the raw records again.
package enrich

import (
	"fmt"
	"strings"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich/containers"
	"github.com/whokilledit/linuxaudit/parser"
)

// Config selects the schema, the extras and the filters.
type Config struct {
	Schema string // "default" or "ecs"
	Raw    bool   // add the raw records
	// Full writes what the compact form leaves out because another field
	// says it: ids equal to uid or gid, argument arrays beside a command
	// line that splits back into them, target.first, event.time and
	// msec, zero capability sets, ECS's command line beside EXECVE's
	// arguments and auditd.summary_text beside message.
	Full          bool
	AncestryDepth int    // ancestors of the caller to report
	Proc          bool   // read /proc for live process context
	ProcRoot      string // default /proc
	EtcRoot       string // prefix for /etc/passwd and /etc/group (tests)
	MaxProcs      int    // process table bound (default 32768)
	// Hostname is this collector's host, written as host.name when the
	// log has no node= (live sources); empty for logs of unknown origin.
	Hostname string
	// Procs and Names replace the process table and the id names (tests);
	// nil: a ProcTable from Proc, ProcRoot, MaxProcs and this host's names.
	Procs Processes
	Names Names

	// Search: ausearch-like selection (filter.go), the CLI's search flags;
	// kind, success and unit are plugin properties too.
	Search Search

	IncludeTypes, ExcludeTypes       []string
	IncludeKeys, ExcludeKeys         []string
	IncludeSyscalls, ExcludeSyscalls []string
	IncludeSignals, ExcludeSignals   []string
	DropSIGURG                       bool

	// Watch names the processes whose every exit is a "died" document
	// (fed by Process); DeathGrace is how long such a document waits for
	// its cause (default 1.5 s).
	Watch      Watch
	DeathGrace time.Duration

	// ContainerNames names the containers of callers and targets from the
	// kubelet's and Docker's files under ContainersRoot (default "/").
	ContainerNames bool
	ContainersRoot string
}

// Stats counts what the enricher did and dropped.
type Stats struct {
	Events     uint64     `json:"events"`
	Emitted    uint64     `json:"emitted"`
	Filtered   uint64     `json:"filtered"`
	ByType     uint64     `json:"filtered_type"`
	ByKey      uint64     `json:"filtered_key"`
	BySyscall  uint64     `json:"filtered_syscall"`
	BySignal   uint64     `json:"filtered_signal"`
	SIGURG     uint64     `json:"filtered_sigurg"`
	BySearch   uint64     `json:"filtered_search"`
	Incomplete uint64     `json:"incomplete"`
	Processes  int        `json:"processes"`
	Deaths     DeathStats `json:"deaths"`
}

// Enricher builds documents. It is not safe for concurrent use.
type Enricher struct {
	cfg    Config
	ecs    bool
	stats  Stats
	names  Names
	procs  Processes
	f      filters
	deaths *deaths
	ctr    *containers.Lookup // nil: container names off

	m       Model
	args    parser.Args
	dynKeys map[string]string
	sum     []byte
	tmp     []byte
	ts      []byte
	tsSec   int64
	tsBase  []byte // "2006-01-02T15:04:05." of tsSec
	enrRec  *parser.Record
	enrPos  int

	// ECS writer state
	auIdx   map[uint64]int32 // auExtract's index of a large record
	users   ecsUsers
	related [][]byte

	// extraction state of the current event
	sys    *parser.Record
	paths  []*parser.Record
	execve bool
}

// New validates the configuration; the error names the offending key.
func New(cfg Config) (*Enricher, error) {
	if cfg.Schema == "" {
		cfg.Schema = "default"
	}
	if cfg.Schema != "default" && cfg.Schema != "ecs" {
		return nil, cfgErr("schema", cfg.Schema, "accepted: default, ecs")
	}
	e := &Enricher{cfg: cfg, ecs: cfg.Schema == "ecs", names: cfg.Names, procs: cfg.Procs, dynKeys: map[string]string{},
		deaths: newDeaths(cfg.Watch, cfg.DeathGrace), auIdx: map[uint64]int32{}}
	if e.names == nil {
		e.names = NewHostNames(cfg.EtcRoot)
	}
	if e.procs == nil {
		e.procs = NewProcTable(cfg.ProcRoot, cfg.Proc, cfg.MaxProcs)
	}
	var err error
	if e.f, err = newFilters(cfg); err != nil {
		return nil, err
	}
	if cfg.ContainerNames {
		e.ctr = containers.New(containers.Config{Root: cfg.ContainersRoot})
	}
	e.procs.Tick()
	return e, nil
}

func cfgErr(key, val, why string) error {
	return fmt.Errorf("invalid value %q for key %q: %s", val, key, why)
}

// Stats returns the counters.
func (e *Enricher) Stats() Stats {
	s := e.stats
	s.Processes = e.procs.Len()
	s.Deaths = e.deaths.stats
	return s
}

// Tick lets the enricher refresh live process context; the pipeline calls
// it regularly.
func (e *Enricher) Tick() {
	e.procs.Tick()
	if e.ctr != nil {
		e.ctr.Tick()
	}
}

// Enrich fills doc for ev and reports whether the event passes the
// filters (a filtered event still feeds the process table).
func (e *Enricher) Enrich(ev *parser.Event, doc *encode.Document) bool {
	m := e.Model(ev)
	if m == nil {
		return false
	}
	doc.Reset()
	doc.Sec, doc.Nsec = ev.Sec, int64(ev.Msec)*int64(time.Millisecond)
	if e.ecs {
		e.writeECS(m, doc)
	} else {
		e.writeDefault(m, doc)
	}
	e.stats.Emitted++
	return true
}

// Model decodes ev into the enricher's model and returns it, or nil when
// the filters drop the event (it still feeds the process table). The
// model is valid until the next call.
func (e *Enricher) Model(ev *parser.Event) *Model {
	e.stats.Events++
	m := &e.m
	e.extract(ev, m)
	e.learn(m)
	if !e.pass(m) {
		e.stats.Filtered++
		return nil
	}
	e.classify(m)
	if !e.searchClassified(m) {
		e.stats.Filtered++
		return nil
	}
	e.data(m)
	e.resolve(m)
	switch m.Kind { // causes of deaths to come, searched for or not
	case KindKill:
		e.noteKill(m)
	case KindAnomaly:
		e.noteCrash(m)
	}
	if !e.searchResolved(m) {
		e.stats.Filtered++
		return nil
	}
	if !ev.Reason.Complete() {
		e.stats.Incomplete++
	}
	if e.ecs {
		e.coalesce(m)
	}
	e.sum = e.summary(e.sum[:0], m)
	return m
}

// Summary is the one-line summary of the last model.
func (e *Enricher) Summary() []byte { return e.sum }

// Summarize is Enrich without a document, for one-line output: it decodes
// ev, counts it as emitted when it passes the filters and reports whether
// it did; its line is Summary().
func (e *Enricher) Summarize(ev *parser.Event) bool {
	if e.Model(ev) == nil {
		return false
	}
	e.stats.Emitted++
	return true
}

// learn feeds the process table with the event's caller.
func (e *Enricher) learn(m *Model) {
	p := &m.Process
	if !m.Syscall.Valid || p.PID <= 0 {
		return
	}
	uid := int64(-1)
	if id := p.IDs[IDUid]; id.Set {
		uid = id.N
	}
	e.procs.Observe(p.PID, p.PPID, p.Comm, p.Exe, uid)
	if len(p.Title) > 0 {
		e.procs.SetArgv(p.PID, p.Title)
	}
}

// classify sets kind, category, action and outcome, and decodes what the
// kind needs (file operation, exec arguments, user-space message).
func (e *Enricher) classify(m *Model) {
	switch m.Syscall.Success {
	case 1:
		m.Outcome = OutcomeSuccess
	case 0:
		m.Outcome = OutcomeFailure
	}
	ev := m.Event
	if !m.Syscall.Valid {
		if len(ev.Records) == 0 {
			m.Kind, m.Action = KindOther, ActionUnknown
			return
		}
		r := &ev.Records[0]
		if r.Type == parser.TypeUnparsed {
			m.Kind, m.Action = KindUnparsed, ActionUnparsed
			return
		}
		e.msg(m, r)
		m.Kind = KindOther
		m.Action, m.Category = recordAction(r)
		if rk, ok := recordKindByType[r.Type]; ok {
			m.Kind, m.Category = rk.kind, rk.category
		}
		if isAnomaly(r.Type) {
			e.anomaly(m, r)
		}
		if m.Msg.HasRes {
			switch string(m.Msg.Res) {
			case "success", "1", "yes":
				m.Outcome = OutcomeSuccess
			case "failed", "0", "no":
				m.Outcome = OutcomeFailure
			}
		}
		// EXECVE records without their SYSCALL still say what ran.
		if e.execve && ev.ExecveArgs(&e.args) {
			m.Exec = Exec{Valid: true, Args: &e.args}
			if m.Kind == KindOther {
				m.Kind, m.Category, m.Action = KindExec, CategoryProcess, ActionExecuted
			}
		}
		return
	}
	name := m.Syscall.Name
	switch {
	case m.Signal.Syscall != "":
		m.Kind, m.Category, m.Action = KindKill, CategoryProcess, ActionKilled
	case e.execve || name == "execve" || name == "execveat":
		m.Kind, m.Category, m.Action = KindExec, CategoryProcess, ActionExecuted
		if e.execve && ev.ExecveArgs(&e.args) {
			m.Exec = Exec{Valid: true, Args: &e.args}
		}
	case ev.Has(parser.TypeConfigChange):
		m.Kind, m.Category, m.Action = KindConfig, CategoryConfiguration, ActionAuditCfg
		e.msg(m, &ev.Records[0])
	case e.fileEvent(m):
		m.Kind, m.Category, m.Action = KindFile, CategoryFile, fileOps[m.File.Op].action
	default:
		m.Kind, m.Category, m.Action = KindSyscall, CategoryProcess, name
		if n := syscallNorms[name]; n != nil && name != "" {
			// go-libaudit's: setuid is changed-identity-of, connect
			// connected-to...
			m.Action = n.action
			if len(n.ecs.category) > 0 {
				m.Category = n.ecs.category[0]
			}
		}
		if m.Action == "" {
			m.Action = ActionSyscall
		}
	}
}

// recordAction is the action and category of an event without SYSCALL
// whose first record is r: go-libaudit's normalization of its type (the
// last whose has_fields r all carries, as aucoalesce picks), else the
// type's name in lower case, as Elastic's auditd integration names it.
func recordAction(r *parser.Record) (action, category string) {
	var norm *normalization
	norms := recordNormsByType[r.Type]
	if len(norms) == 1 {
		norm = norms[0]
		norms = nil
	}
next:
	for _, n := range norms {
		for _, f := range n.hasFields {
			if _, ok := r.Value(f); !ok {
				continue next
			}
		}
		norm = n
	}
	category = kinds[KindOther].category
	if norm == nil || norm.action == "" {
		return lowerTypeName(r), category
	}
	if len(norm.ecs.category) > 0 {
		category = norm.ecs.category[0]
	}
	return norm.action, category
}

var recordNormsByType = func() map[uint16][]*normalization {
	m := map[uint16][]*normalization{}
	for name, ns := range recordNorms {
		if t, ok := parser.TypeNumber([]byte(name)); ok {
			m[t] = ns
		}
	}
	return m
}()

var recordKindByType = func() map[uint16]recordKind {
	m := map[uint16]recordKind{}
	for name, rk := range recordKinds {
		if t, ok := parser.TypeNumber([]byte(name)); ok {
			m[t] = rk
		}
	}
	return m
}()

// data decodes the records the model has no place for: under data in the
// default schema; the first record of an event without SYSCALL also
// feeds the ECS auditd.data.
func (e *Enricher) data(m *Model) {
	ev := m.Event
	for i := range ev.Records {
		r := &ev.Records[i]
		other := e.other(m, r)
		if !other && !(i == 0 && !m.Syscall.Valid) {
			continue
		}
		d := DataRecord{Type: r.Type, Name: lowerTypeName(r), Other: other,
			Outcome: i == 0 && !m.Syscall.Valid && m.Msg.HasRes && m.Outcome != OutcomeUnknown}
		if r.Type == parser.TypeSockaddr {
			d.Socket = e.sockaddr(r)
		}
		// (m.fields may move as it grows later: the arrays earlier
		// records point into keep their content)
		e.decodeFields(m, r, &d)
		m.Data = append(m.Data, d)
	}
}

// other reports a record no part of the model covers.
func (e *Enricher) other(m *Model, r *parser.Record) bool {
	switch r.Type {
	case parser.TypeSyscall:
		return r != e.sys
	case parser.TypeObjPid, parser.TypeProctitle, parser.TypeEOE, parser.TypeExecve, parser.TypeCwd:
		return false
	case parser.TypePath:
		return m.Kind != KindFile
	}
	return true
}

// resolve adds what the process table knows: the caller, its parent and
// ancestors, the targets of a signal.
func (e *Enricher) resolve(m *Model) {
	p := &m.Process
	if p.PID > 0 {
		p.Known = e.procs.Get(p.PID)
		if !m.Syscall.Valid {
			p.Known = current(p.Known, p.Comm, p.Exe)
		}
		if p.Known != nil && p.PPID <= 0 && !m.Syscall.Valid {
			p.PPID = p.Known.PPID // a record without ppid= (ANOM_*): the table's
		}
	}
	p.Argv = p.Title
	if len(p.Argv) == 0 && p.Known != nil {
		p.Argv = p.Known.Argv
	}
	if p.PPID > 0 {
		m.Parent = e.procs.Get(p.PPID)
	}
	if pp := m.Parent; pp != nil && e.cfg.AncestryDepth > 0 {
		for a, seen := pp, 0; a != nil && a.PPID > 0 && seen < e.cfg.AncestryDepth; seen++ {
			next := e.procs.Get(a.PPID)
			m.Ancestors = append(m.Ancestors, Ancestor{PID: a.PPID, Proc: next})
			if next == nil || next.PID == a.PID {
				break
			}
			a = next
		}
	}
	t := &m.Target
	for i := range t.Processes {
		tp := &t.Processes[i]
		tp.Known = current(e.procs.Get(tp.PID), tp.Comm, nil)
	}
	if len(t.Processes) == 0 && (t.Scope == ScopeProcess || t.Scope == ScopeThread) {
		t.ArgProc = e.procs.Get(t.PidArg)
	}
}

// userName names a process table uid ("" unknown).
func (e *Enricher) userName(uid int64) string {
	if uid < 0 {
		return ""
	}
	return e.names.User(uint64(uid))
}

// appendTime formats sec.msec as RFC 3339 UTC with milliseconds.
func (e *Enricher) appendTime(dst []byte, sec int64, msec uint16) []byte {
	if sec != e.tsSec || len(e.tsBase) == 0 {
		e.tsSec = sec
		e.tsBase = time.Unix(sec, 0).UTC().AppendFormat(e.tsBase[:0], "2006-01-02T15:04:05.")
	}
	dst = append(dst, e.tsBase...)
	return append(dst, byte('0'+msec/100), byte('0'+msec/10%10), byte('0'+msec%10), 'Z')
}

var lowerNames = func() (m [3000]string) {
	for t := 1000; t < 3000; t++ {
		n := parser.TypeName(uint16(t), nil)
		if len(n) == 0 || strings.HasPrefix(n, "UNKNOWN[") {
			continue
		}
		m[uint16(t)] = strings.ToLower(n)
	}
	return m
}()

func lowerTypeName(r *parser.Record) string {
	if int(r.Type) < len(lowerNames) && lowerNames[r.Type] != "" {
		return lowerNames[r.Type]
	}
	return strings.ToLower(r.Name())
}
