// Package enrich turns a correlated audit event into one document a person
// or a SIEM reads without ausearch: every field decoded and named, the
// signal and target of kills, file operations with absolute paths, the
// caller's and target's process context, and a one-line summary.
package enrich

import (
	"fmt"
	"time"

	"github.com/whokilledit/linuxaudit/parser"
)

// Config selects the schema, the extras and the filters.
type Config struct {
	Schema        string // "default" or "ecs"
	Raw           bool   // add the raw records
	AncestryDepth int    // ancestors of the caller to report
	Proc          bool   // read /proc for live process context
	ProcRoot      string // default /proc
	EtcRoot       string // prefix for /etc/passwd and /etc/group (tests)
	MaxProcs      int    // process table bound (default 32768)
	// Hostname is this collector's host, written as host.name when the
	// log has no node= (live sources); empty for logs of unknown origin.
	Hostname string

	IncludeTypes, ExcludeTypes       []string
	IncludeKeys, ExcludeKeys         []string
	IncludeSyscalls, ExcludeSyscalls []string
	IncludeSignals, ExcludeSignals   []string
	DropSIGURG                       bool
}

// Stats counts what the enricher did and dropped.
type Stats struct {
	Events     uint64 `json:"events"`
	Emitted    uint64 `json:"emitted"`
	Filtered   uint64 `json:"filtered"`
	ByType     uint64 `json:"filtered_type"`
	ByKey      uint64 `json:"filtered_key"`
	BySyscall  uint64 `json:"filtered_syscall"`
	BySignal   uint64 `json:"filtered_signal"`
	SIGURG     uint64 `json:"filtered_sigurg"`
	Incomplete uint64 `json:"incomplete"`
	Processes  int    `json:"processes"`
}

// Enricher builds documents. It is not safe for concurrent use.
type Enricher struct {
	cfg   Config
	stats Stats
	ids   *idNames
	procs *procTable

	inclTypes, exclTypes map[uint16]bool
	inclKeys, exclKeys   map[string]bool
	inclSys, exclSys     map[string]bool
	inclSig, exclSig     map[int64]bool

	v       view
	dynKeys map[string]string
	scratch []byte
	sum     []byte
	tmp     []byte
	args    parser.Args
	ts      []byte
	nameBuf []byte
	tsSec   int64
	tsBase  []byte // "2006-01-02T15:04:05." of tsSec
	strs    map[string]string
	enrRec  *parser.Record
	enrPos  int
}

// New validates the configuration; the error names the offending key.
func New(cfg Config) (*Enricher, error) {
	if cfg.Schema == "" {
		cfg.Schema = "default"
	}
	if cfg.Schema != "default" && cfg.Schema != "ecs" {
		return nil, cfgErr("schema", cfg.Schema, "accepted: default, ecs")
	}
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = 32768
	}
	e := &Enricher{cfg: cfg, ids: newIDNames(cfg.EtcRoot), dynKeys: map[string]string{}, strs: map[string]string{}}
	e.procs = newProcTable(cfg.ProcRoot, cfg.Proc, cfg.MaxProcs)
	e.procs.intern = e.intern
	var err error
	if e.inclTypes, err = typeSet("include_types", cfg.IncludeTypes); err != nil {
		return nil, err
	}
	if e.exclTypes, err = typeSet("exclude_types", cfg.ExcludeTypes); err != nil {
		return nil, err
	}
	e.inclKeys, e.exclKeys = strSet(cfg.IncludeKeys), strSet(cfg.ExcludeKeys)
	if e.inclSys, err = syscallSet("include_syscalls", cfg.IncludeSyscalls); err != nil {
		return nil, err
	}
	if e.exclSys, err = syscallSet("exclude_syscalls", cfg.ExcludeSyscalls); err != nil {
		return nil, err
	}
	if e.inclSig, err = signalSet("include_signals", cfg.IncludeSignals); err != nil {
		return nil, err
	}
	if e.exclSig, err = signalSet("exclude_signals", cfg.ExcludeSignals); err != nil {
		return nil, err
	}
	if cfg.Proc {
		e.procs.tick()
	}
	return e, nil
}

func cfgErr(key, val, why string) error {
	return fmt.Errorf("invalid value %q for key %q: %s", val, key, why)
}

func typeSet(key string, names []string) (map[uint16]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[uint16]bool{}
	for _, n := range names {
		t, ok := parser.TypeNumber([]byte(n))
		if !ok {
			return nil, cfgErr(key, n, "unknown record type (use names like SYSCALL, USER_AUTH or numbers)")
		}
		m[t] = true
	}
	return m, nil
}

func strSet(names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func syscallSet(key string, names []string) (map[string]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[string]bool{}
	for _, n := range names {
		found := false
		for _, a := range arches {
			for _, s := range a.syscalls {
				if s == n {
					found = true
				}
			}
		}
		if !found {
			return nil, cfgErr(key, n, "unknown syscall name")
		}
		m[n] = true
	}
	return m, nil
}

func signalSet(key string, names []string) (map[int64]bool, error) {
	if len(names) == 0 {
		return nil, nil
	}
	m := map[int64]bool{}
	for _, n := range names {
		s, ok := signalNumber(n)
		if !ok {
			return nil, cfgErr(key, n, "unknown signal (use SIGKILL, KILL or 9)")
		}
		m[s] = true
	}
	return m, nil
}

// Stats returns the counters.
func (e *Enricher) Stats() Stats {
	s := e.stats
	s.Processes = len(e.procs.m)
	return s
}

// Tick lets the enricher refresh live process context; the pipeline calls
// it regularly.
func (e *Enricher) Tick() { e.procs.tick() }

// Enrich fills doc for ev and reports whether the event passes the
// filters (a filtered event still feeds the process table).
func (e *Enricher) Enrich(ev *parser.Event, doc *Document) bool {
	e.stats.Events++
	v := &e.v
	e.extract(ev, v)
	e.learn(v)
	if !e.pass(v) {
		e.stats.Filtered++
		return false
	}
	if !ev.Reason.Complete() {
		e.stats.Incomplete++
	}
	e.classify(v)
	e.summary(v)
	doc.Reset()
	doc.Sec, doc.Nsec = ev.Sec, int64(ev.Msec)*int64(time.Millisecond)
	if e.cfg.Schema == "ecs" {
		e.renderECS(v, doc)
	} else {
		e.render(v, doc)
	}
	e.stats.Emitted++
	return true
}

func (e *Enricher) pass(v *view) bool {
	ev := v.ev
	if e.inclTypes != nil {
		ok := false
		for i := range ev.Records {
			if e.inclTypes[ev.Records[i].Type] {
				ok = true
				break
			}
		}
		if !ok {
			e.stats.ByType++
			return false
		}
	}
	if e.exclTypes != nil && len(ev.Records) > 0 && e.exclTypes[ev.Records[0].Type] {
		e.stats.ByType++
		return false
	}
	if e.inclKeys != nil || e.exclKeys != nil {
		in := false
		for _, k := range v.keys {
			if e.exclKeys[string(v.keyBuf[k[0]:k[1]])] {
				e.stats.ByKey++
				return false
			}
			if e.inclKeys[string(v.keyBuf[k[0]:k[1]])] {
				in = true
			}
		}
		if e.inclKeys != nil && !in {
			e.stats.ByKey++
			return false
		}
	}
	if v.sys != nil {
		if (e.inclSys != nil && !e.inclSys[v.syscall]) || e.exclSys[v.syscall] {
			e.stats.BySyscall++
			return false
		}
	}
	if v.hasSig {
		if e.cfg.DropSIGURG && v.sig == 23 && (v.syscall == "tgkill" || v.syscall == "tkill") {
			e.stats.SIGURG++
			return false
		}
		if (e.inclSig != nil && !e.inclSig[v.sig]) || e.exclSig[v.sig] {
			e.stats.BySignal++
			return false
		}
	} else if e.inclSig != nil && v.sys != nil && v.family != "" {
		e.stats.BySignal++
		return false
	}
	return true
}

// learn feeds the process table with the event's caller.
func (e *Enricher) learn(v *view) {
	if v.sys == nil || v.pid <= 0 {
		return
	}
	uid := int64(-1)
	if v.hasUID {
		uid = v.uid
	}
	p := e.procs.observe(v.pid, v.ppid, v.comm, v.exe, uid)
	if p == nil {
		return
	}
	if len(v.argv) > 0 {
		e.procs.setArgv(v.pid, v.argv)
	}
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

// intern returns b as a string, shared with earlier equal values (comm and
// exe repeat endlessly), within a bound.
func (e *Enricher) intern(b []byte) string {
	if s, ok := e.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(e.strs) >= 16384 {
		clear(e.strs)
	}
	e.strs[s] = s
	return s
}
