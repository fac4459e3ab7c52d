package enrich

import (
	"github.com/whokilledit/linuxaudit/parser"
)

// filters are the include/exclude lists of the configuration, resolved.
type filters struct {
	inclTypes, exclTypes map[uint16]bool
	inclKeys, exclKeys   map[string]bool
	inclSys, exclSys     map[string]bool
	inclSig, exclSig     map[int64]bool
	dropSIGURG           bool
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
	return true
}
