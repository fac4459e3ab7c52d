package enrich

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/whokilledit/linuxaudit/parser"
)

// filters are the include/exclude lists of the configuration, resolved.
type filters struct {
	inclTypes, exclTypes map[uint16]bool
	inclKeys, exclKeys   map[string]bool
	inclSys, exclSys     map[string]bool
	inclSig, exclSig     map[int64]bool
	dropSIGURG           bool
	search               search
}

// Search selects events as ausearch's options do (the CLI's --since,
// --until, --pid, --target-pid, --unit, --key, --kind, --syscall,
// --success): every criterion given must match, and a list matches when
// any of its items does. The criteria the records answer are checked
// with the include/exclude filters, before anything else is decoded;
// kind and success once the event is classified; unit once the process
// table has been asked. A filtered event still feeds the process table.
type Search struct {
	// Since and Until bound the event time in whole seconds, both
	// included, as ausearch's -ts and -te (zero: unbounded).
	Since, Until time.Time
	PIDs         []string // the caller's pid (ausearch -p)
	TargetPIDs   []string // a pid a signal reached (OBJ_PID), or a kill's pid argument
	Units        []string // the systemd unit of the caller or of a target ("nginx" is nginx.service)
	Keys         []string // an audit key (ausearch -k)
	Kinds        []string // event.kind: kill, file, exec...
	Syscalls     []string // the syscall's name (ausearch -sc); events without one do not match
	Success      string   // "yes" or "no" (ausearch -sv); "" or "any": either
}

// search is a Search resolved.
type search struct {
	on           bool
	since, until int64
	pids, tpids  map[int64]bool
	units        map[string]bool
	keys         map[string]bool
	kinds        map[Kind]bool
	syscalls     map[string]bool
	success      Outcome // OutcomeUnknown: either
}

func newSearch(s Search) (search, error) {
	r := search{since: math.MinInt64, until: math.MaxInt64}
	if !s.Since.IsZero() {
		r.since, r.on = s.Since.Unix(), true
	}
	if !s.Until.IsZero() {
		r.until, r.on = s.Until.Unix(), true
	}
	var err error
	if r.pids, err = set("pid", s.PIDs, CheckPID, pidNumber); err != nil {
		return r, err
	}
	if r.tpids, err = set("target_pid", s.TargetPIDs, CheckPID, pidNumber); err != nil {
		return r, err
	}
	if r.units, err = set("unit", s.Units, CheckUnit, UnitName); err != nil {
		return r, err
	}
	if r.keys, err = set("key", s.Keys, CheckKey, same); err != nil {
		return r, err
	}
	if r.kinds, err = set("kind", s.Kinds, CheckKind, kindOf); err != nil {
		return r, err
	}
	if r.syscalls, err = set("syscall", s.Syscalls, CheckSyscall, same); err != nil {
		return r, err
	}
	switch s.Success {
	case "", "any":
	case "yes":
		r.success = OutcomeSuccess
	case "no":
		r.success = OutcomeFailure
	default:
		return r, cfgErr("success", s.Success, "accepted: any, yes, no")
	}
	r.on = r.on || r.pids != nil || r.tpids != nil || r.units != nil || r.keys != nil ||
		r.kinds != nil || r.syscalls != nil || r.success != OutcomeUnknown
	return r, nil
}

func pidNumber(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func kindOf(s string) Kind {
	for k := range kinds {
		if kinds[k].name == s {
			return Kind(k)
		}
	}
	return KindOther
}

// CheckPID accepts a process id (a positive number).
func CheckPID(s string) error {
	if n, err := strconv.ParseInt(s, 10, 32); err != nil || n <= 0 {
		return checkError("expected a process id (a positive number)")
	}
	return nil
}

// CheckKey accepts an audit key: at most 256 bytes (the kernel's
// AUDIT_MAX_KEY_LEN), no control characters.
func CheckKey(s string) error {
	if len(s) > 256 || strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return checkError("expected an audit key (at most 256 bytes, no control characters)")
	}
	return nil
}

// CheckKind accepts a kind of event (event.kind of the default schema).
func CheckKind(s string) error {
	for k := range kinds {
		if kinds[k].name == s {
			return nil
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, kinds[k].name)
	}
	return checkError("accepted: " + strings.Join(names, ", "))
}

// CheckUnit accepts a systemd unit name (nginx.service, or nginx for
// nginx.service).
func CheckUnit(s string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '/' || r == 0x7f }) {
		return checkError("expected a systemd unit name (nginx.service, or nginx)")
	}
	return nil
}

// unitSuffixes are the unit types a process can run in (cgroupPath).
var unitSuffixes = []string{".service", ".scope", ".socket", ".timer", ".mount", ".swap", ".path", ".slice"}

// UnitName is the unit a --unit value names: as given with a type
// suffix, else NAME.service (as systemctl reads it).
func UnitName(s string) string {
	for _, suf := range unitSuffixes {
		if strings.HasSuffix(s, suf) && len(s) > len(suf) {
			return s
		}
	}
	return s + ".service"
}

func newFilters(cfg Config) (filters, error) {
	f := filters{dropSIGURG: cfg.DropSIGURG}
	var err error
	if f.inclTypes, err = set("include_types", cfg.IncludeTypes, CheckType, typeNumber); err != nil {
		return f, err
	}
	if f.exclTypes, err = set("exclude_types", cfg.ExcludeTypes, CheckType, typeNumber); err != nil {
		return f, err
	}
	f.inclKeys, _ = set("include_keys", cfg.IncludeKeys, nil, same)
	f.exclKeys, _ = set("exclude_keys", cfg.ExcludeKeys, nil, same)
	if f.inclSys, err = set("include_syscalls", cfg.IncludeSyscalls, CheckSyscall, same); err != nil {
		return f, err
	}
	if f.exclSys, err = set("exclude_syscalls", cfg.ExcludeSyscalls, CheckSyscall, same); err != nil {
		return f, err
	}
	if f.inclSig, err = set("include_signals", cfg.IncludeSignals, CheckSignal, sigNumber); err != nil {
		return f, err
	}
	if f.exclSig, err = set("exclude_signals", cfg.ExcludeSignals, CheckSignal, sigNumber); err != nil {
		return f, err
	}
	if f.search, err = newSearch(cfg.Search); err != nil {
		return f, err
	}
	return f, nil
}

func set[K comparable](key string, names []string, check func(string) error, conv func(string) K) (map[K]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[K]bool{}
	for _, n := range names {
		if check != nil {
			if err := check(n); err != nil {
				return nil, cfgErr(key, n, err.Error())
			}
		}
		m[conv(n)] = true
	}
	return m, nil
}

func same(s string) string { return s }

func typeNumber(s string) uint16 {
	t, _ := parser.TypeNumber([]byte(s))
	return t
}

func sigNumber(s string) int64 {
	n, _ := signalNumber(s)
	return n
}

type checkError string

func (e checkError) Error() string { return string(e) }

// CheckType accepts a record type name (SYSCALL, USER_AUTH) or number.
func CheckType(s string) error {
	if _, ok := parser.TypeNumber([]byte(s)); !ok {
		return checkError("unknown record type (use names like SYSCALL, USER_AUTH or numbers)")
	}
	return nil
}

// CheckSyscall accepts a syscall name of any architecture.
func CheckSyscall(s string) error {
	if !knownSyscall(s) {
		return checkError("unknown syscall name")
	}
	return nil
}

// CheckSignal accepts a signal name (SIGKILL, KILL) or number.
func CheckSignal(s string) error {
	if _, ok := signalNumber(s); !ok {
		return checkError("unknown signal (use SIGKILL, KILL or 9)")
	}
	return nil
}

// pass applies the filters, counting what each drops.
func (e *Enricher) pass(m *Model) bool {
	f, ev := &e.f, m.Event
	if f.inclTypes != nil {
		ok := false
		for i := range ev.Records {
			if f.inclTypes[ev.Records[i].Type] {
				ok = true
				break
			}
		}
		if !ok {
			e.stats.ByType++
			return false
		}
	}
	if f.exclTypes != nil && len(ev.Records) > 0 && f.exclTypes[ev.Records[0].Type] {
		e.stats.ByType++
		return false
	}
	if f.inclKeys != nil || f.exclKeys != nil {
		in := false
		for _, k := range m.Keys {
			if f.exclKeys[string(k)] {
				e.stats.ByKey++
				return false
			}
			if f.inclKeys[string(k)] {
				in = true
			}
		}
		if f.inclKeys != nil && !in {
			e.stats.ByKey++
			return false
		}
	}
	name := m.Syscall.Name
	if m.Syscall.Valid {
		if (f.inclSys != nil && !f.inclSys[name]) || f.exclSys[name] {
			e.stats.BySyscall++
			return false
		}
	}
	if m.Signal.Has {
		if f.dropSIGURG && m.Signal.Nr == 23 && (name == "tgkill" || name == "tkill") {
			e.stats.SIGURG++
			return false
		}
		if (f.inclSig != nil && !f.inclSig[m.Signal.Nr]) || f.exclSig[m.Signal.Nr] {
			e.stats.BySignal++
			return false
		}
	} else if f.inclSig != nil && m.Syscall.Valid && m.Signal.Syscall != "" {
		e.stats.BySignal++
		return false
	}
	if f.search.on && !f.search.records(m) {
		e.stats.BySearch++
		return false
	}
	return true
}

// records checks the criteria the records answer (pass: before anything
// but the extraction).
func (s *search) records(m *Model) bool {
	if ev := m.Event; ev.Sec < s.since || ev.Sec > s.until {
		return false
	}
	if s.pids != nil && !s.pids[m.Process.PID] {
		return false
	}
	if s.tpids != nil && !s.reached(&m.Target) {
		return false
	}
	if s.keys != nil {
		in := false
		for _, k := range m.Keys {
			if s.keys[string(k)] {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if s.syscalls != nil && !(m.Syscall.Valid && (s.syscalls[m.Syscall.Name] || (m.Syscall.Call != "" && s.syscalls[m.Syscall.Call]))) {
		return false
	}
	return true
}

// reached reports whether a signal reached one of the target pids: an
// OBJ_PID names it, or the pid argument of a kill of one process or
// thread does (a failed kill, ESRCH, has no OBJ_PID).
func (s *search) reached(t *Target) bool {
	for i := range t.Processes {
		if s.tpids[t.Processes[i].PID] {
			return true
		}
	}
	return t.HasPidArg && (t.Scope == ScopeProcess || t.Scope == ScopeThread) && s.tpids[t.PidArg]
}

// searchClassified applies the criteria the classification answers (kind,
// success), and counts what they drop.
func (e *Enricher) searchClassified(m *Model) bool {
	s := &e.f.search
	if !s.on {
		return true
	}
	if (s.kinds != nil && !s.kinds[m.Kind]) || (s.success != OutcomeUnknown && m.Outcome != s.success) {
		e.stats.BySearch++
		return false
	}
	return true
}

// searchResolved applies the criterion the process table answers: the
// unit of the caller or of a target.
func (e *Enricher) searchResolved(m *Model) bool {
	s := &e.f.search
	if s.units == nil {
		return true
	}
	if p := m.Process.Known; p != nil && s.units[p.Unit] {
		return true
	}
	t := &m.Target
	for i := range t.Processes {
		if p := t.Processes[i].Known; p != nil && s.units[p.Unit] {
			return true
		}
	}
	if p := t.ArgProc; p != nil && s.units[p.Unit] {
		return true
	}
	e.stats.BySearch++
	return false
}

// searchDeath applies the search to a death document (an OOM kill or a
// watched process's end), which is about one process, the dead one: it
// is what --pid and --target-pid name, its unit what --unit names. A
// death has no audit key and no syscall, so --key and --syscall leave it
// out (as ausearch leaves out events without them); its kind is oom or
// death, its outcome success.
func (e *Enricher) searchDeath(x *death) bool {
	s := &e.f.search
	if !s.on {
		return true
	}
	pid, kind, at := x.proc.PID, KindDeath, time.UnixMilli(x.proc.Exit.Time)
	if x.proc.Exit.Time == 0 {
		at = time.Unix(x.proc.Exited, 0)
	}
	p := &x.proc
	if x.oom != nil {
		pid, kind, at = x.oom.PID, KindOOM, x.oom.Time
		p = e.oomVictim(x.oom)
	}
	ok := at.Unix() >= s.since && at.Unix() <= s.until &&
		(s.pids == nil || s.pids[pid]) && (s.tpids == nil || s.tpids[pid]) &&
		(s.units == nil || (p != nil && s.units[p.Unit])) &&
		s.keys == nil && s.syscalls == nil &&
		(s.kinds == nil || s.kinds[kind]) && s.success != OutcomeFailure
	if !ok {
		e.stats.BySearch++
	}
	return ok
}
