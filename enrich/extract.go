package enrich

import (
	"bytes"

	"github.com/whokilledit/linuxaudit/parser"
)

// extract decodes the records of ev into m: everything that needs no
// process table (see resolve) and no classification (see classify).
func (e *Enricher) extract(ev *parser.Event, m *Model) {
	m.reset(ev)
	e.paths, e.execve = e.paths[:0], false
	var sys *parser.Record
	for i := range ev.Records {
		r := &ev.Records[i]
		switch r.Type {
		case parser.TypeSyscall:
			if sys == nil {
				sys = r
			}
		case parser.TypeObjPid:
			m.Target.Processes = append(m.Target.Processes, e.target(m, r))
		case parser.TypePath:
			e.paths = append(e.paths, r)
		case parser.TypeCwd:
			if f, ok := r.Field("cwd"); ok {
				m.Process.Cwd = m.arena.untrusted(r, f)
			}
		case parser.TypeExecve:
			e.execve = true
		case parser.TypeProctitle:
			if f, ok := r.Field("proctitle"); ok {
				t := m.arena.untrusted(r, f)
				for len(t) > 0 && t[len(t)-1] == 0 {
					t = t[:len(t)-1]
				}
				m.Process.Title = t
			}
		}
		// Keys can be on SYSCALL or on standalone records (CONFIG_CHANGE).
		// (checked before looking: an EXECVE record can have thousands of
		// fields and no key)
		// (a SYSCALL's key is read in syscall's one pass over its fields)
		if len(m.Keys) == 0 && sys == nil && r.Type != parser.TypeSyscall && r.Type != parser.TypeExecve && r.Type != parser.TypePath {
			if f, ok := r.Field("key"); ok && f.Depth == 0 {
				e.keysOf(m, r, f)
			}
		}
	}
	if sys == nil {
		e.sys = nil
		if len(ev.Records) > 0 {
			e.subject(m, &ev.Records[0])
		}
		return
	}
	e.sys = sys
	e.syscall(m, sys)
	m.Process.TitleStale = m.Process.staleTitle(e.execve)
	e.signal(m)
}

// reset empties m for ev, keeping its buffers.
func (m *Model) reset(ev *parser.Event) {
	*m = Model{
		Event:     ev,
		Keys:      m.Keys[:0],
		Ancestors: m.Ancestors[:0],
		Target:    Target{Processes: m.Target.Processes[:0]},
		File:      File{Items: m.File.Items[:0]},
		Data:      m.Data[:0],
		fields:    m.fields[:0],
		groups:    m.groups[:0],
		members:   m.members[:0],
		of:        m.of[:0],
		keyIndex:  m.keyIndex,
		text:      m.text[:0],
		arena:     m.arena,
		Coalesced: m.Coalesced,
		Syscall:   Syscall{Success: -1},
	}
	m.arena.reset()
}

// subject reads the caller of an event without SYSCALL from its first
// record (user-space records carry pid, uid, auid... at the top level or
// inside msg='...'), in one pass: the first top-level field of a key wins,
// else its first nested one.
func (e *Enricher) subject(m *Model, r *parser.Record) {
	p := &m.Process
	const (
		fPid = numIDs + iota
		fSes
		numSubject
	)
	var at [numSubject]int32 // field index + 1; 0 none
	for i, f := range r.Fields {
		k := r.Bytes(f.Key)
		j := processID(k)
		switch {
		case j >= 0:
		case string(k) == "pid":
			j = fPid
		case string(k) == "ses":
			j = fSes
		default:
			continue
		}
		if at[j] == 0 || (f.Depth == 0 && r.Fields[at[j]-1].Depth != 0) {
			at[j] = int32(i + 1)
		}
	}
	val := func(j int) (int64, bool) {
		if at[j] == 0 {
			return 0, false
		}
		return parseInt(r.Bytes(r.Fields[at[j]-1].Val))
	}
	p.PID, _ = val(fPid)
	for i := range p.IDs {
		if n, ok := val(i); ok {
			p.IDs[i] = ID{Set: true, N: n, Name: e.nameOf(m, r, idKeys[i], n)}
		}
	}
	if s, ok := val(fSes); ok && s != unsetID && s != -1 {
		p.Ses, p.HasSes = s, true
	}
}

// syscall reads the SYSCALL record, in one pass over its fields.
func (e *Enricher) syscall(m *Model, r *parser.Record) {
	s, p := &m.Syscall, &m.Process
	s.Valid = true
	var arch *archInfo
	for _, f := range r.Fields {
		k := r.Bytes(f.Key)
		if len(k) < 2 || f.Depth != 0 {
			continue
		}
		val := r.Bytes(f.Val)
		switch string(k) {
		case "arch":
			s.ArchRaw = val
			_, arch = lookupArch(val)
			if arch != nil {
				s.Arch = arch.name
			}
		case "syscall":
			s.Nr, _ = parseInt(val)
		case "success":
			if string(val) == "yes" {
				s.Success = 1
			} else if string(val) == "no" {
				s.Success = 0
			}
		case "exit":
			if x, ok := parseInt(val); ok {
				s.Exit, s.HasExit = x, true
				if x < 0 {
					s.Errno = errnoName(-x)
				}
			}
		case "a0", "a1", "a2", "a3":
			n := k[1] - '0'
			s.A[n], s.HasA[n] = parseHex(val)
		case "items":
			s.Items, s.HasItems = parseInt(val)
		case "pid":
			p.PID, _ = parseInt(val)
		case "ppid":
			p.PPID, _ = parseInt(val)
		case "comm":
			p.Comm = m.arena.untrusted(r, f)
		case "exe":
			p.Exe = m.arena.untrusted(r, f)
		case "tty":
			p.TTY = val
		case "subj":
			p.Subj = val
		case "ses":
			if n, ok := parseInt(val); ok && n != unsetID && n != -1 {
				p.Ses, p.HasSes = n, true
			}
		case "key":
			if len(m.Keys) == 0 {
				e.keysOf(m, r, f)
			}
		default:
			if i := processID(k); i >= 0 {
				if n, ok := parseInt(val); ok {
					p.IDs[i] = ID{Set: true, N: n, Name: e.nameOf(m, r, idKeys[i], n)}
				}
			}
		}
	}
	s.Name = arch.syscall(s.Nr)
	if calls, ok := multiplexed[s.Name]; ok && s.HasA[0] && s.A[0] < uint64(len(calls)) {
		s.Call = calls[s.A[0]]
	}
}

// multiplexed names the calls of the syscalls that multiplex others by
// their first argument (linux/net.h SYS_*, linux/ipc.h).
var multiplexed = map[string][]string{
	"socketcall": {1: "socket", 2: "bind", 3: "connect", 4: "listen", 5: "accept", 6: "getsockname",
		7: "getpeername", 8: "socketpair", 9: "send", 10: "recv", 11: "sendto", 12: "recvfrom",
		13: "shutdown", 14: "setsockopt", 15: "getsockopt", 16: "sendmsg", 17: "recvmsg",
		18: "accept4", 19: "recvmmsg", 20: "sendmmsg"},
	"ipc": {1: "semop", 2: "semget", 3: "semctl", 4: "semtimedop", 11: "msgsnd", 12: "msgrcv",
		13: "msgget", 14: "msgctl", 21: "shmat", 22: "shmdt", 23: "shmget", 24: "shmctl"},
}

// processID returns the index in Process.IDs of an id key, or -1.
func processID(k []byte) int {
	if len(k) < 3 || len(k) > 5 || (k[len(k)-2] != 'i' || k[len(k)-1] != 'd') {
		return -1 // every id key ends in "id"
	}
	for i := range idKeys {
		if idKeys[i].key == string(k) {
			return i
		}
	}
	return -1
}

// keysOf decodes the audit key(s): "(null)" is none, several keys are
// hex-encoded and separated by 0x01.
func (e *Enricher) keysOf(m *Model, r *parser.Record, f parser.Field) {
	raw := r.Bytes(f.Val)
	if f.Kind == parser.Plain && (string(raw) == "(null)" || string(raw) == "?") {
		return
	}
	all := m.arena.untrusted(r, f)
	for k := range bytes.SplitSeq(all, []byte{0x01}) {
		if len(k) > 0 && !bytes.HasPrefix(k, collectorKey) {
			m.Keys = append(m.Keys, k)
		}
	}
}

// collectorKey starts the key the kernel source adds to the rules it
// installs (source/rules.MarkerPrefix, to find them again if it is
// killed): not the user's, so documents leave it out.
var collectorKey = []byte("linuxaudit:")

// signal decodes the kill family: which argument holds the signal and the
// target, and what the target pid means.
func (e *Enricher) signal(m *Model) {
	s := &m.Syscall
	fam, ok := signalSyscalls[s.Name]
	if !ok {
		return
	}
	m.Signal.Syscall = s.Name
	if s.HasA[fam.sigArg] {
		m.Signal.Nr, m.Signal.Has = int64(int32(uint32(s.A[fam.sigArg]))), true
	}
	t := &m.Target
	if fam.pidArg >= 0 && s.HasA[fam.pidArg] {
		// pid_t is 32 bits: a 64-bit register holding -1 is ffffffffffffffff.
		t.PidArg, t.HasPidArg = int64(int32(uint32(s.A[fam.pidArg]))), true
	}
	switch {
	case fam.scope != ScopeNone:
		t.Scope = fam.scope
	case !t.HasPidArg:
	case t.PidArg > 0:
		t.Scope = ScopeProcess
	case t.PidArg == 0:
		t.Scope = ScopeCallerGroup
	case t.PidArg == -1:
		t.Scope = ScopeAll
	default:
		t.Scope = ScopeProcessGroup
	}
}

// target reads one OBJ_PID record.
func (e *Enricher) target(m *Model, o *parser.Record) TargetProc {
	t := TargetProc{}
	t.PID, _ = fieldInt(o, "opid")
	if f, ok := o.Field("ocomm"); ok {
		t.Comm, t.HasComm = m.arena.untrusted(o, f), true
	}
	t.UID = e.id(m, o, idFields["ouid"])
	t.AUID = e.id(m, o, idFields["oauid"])
	if s, ok := fieldInt(o, "oses"); ok && s != unsetID && s != -1 {
		t.Ses, t.HasSes = s, true
	}
	t.Obj, _ = o.Value("obj")
	return t
}

// staleTitle reports a PROCTITLE that cannot be the current program's:
// its argv[0] names neither the comm nor the exe (a command line cached
// by the kernel before an execve). Interpreters pass: "bash x.sh" has
// argv[0] bash = exe's base name.
func (p *Process) staleTitle(execve bool) bool {
	if len(p.Title) == 0 || execve || (len(p.Comm) == 0 && len(p.Exe) == 0) {
		return false
	}
	a0 := p.Title
	if i := bytes.IndexByte(a0, 0); i >= 0 {
		a0 = a0[:i]
	}
	a0 = base(a0)
	if len(a0) > 15 {
		a0 = a0[:15] // comm is at most 15 bytes
	}
	if string(a0) == string(p.Comm) || (len(p.Comm) == 15 && string(a0) == string(p.Comm)) {
		return false
	}
	return string(base(a0Full(p.Title))) != string(base(p.Exe))
}

// a0Full is the first argument of a NUL separated argv.
func a0Full(argv []byte) []byte {
	if i := bytes.IndexByte(argv, 0); i >= 0 {
		return argv[:i]
	}
	return argv
}

// base is the last element of a slash separated path.
func base(b []byte) []byte {
	return b[bytes.LastIndexByte(b, '/')+1:]
}

// msg reads the first record of an event: its type and the fields the
// summary of a user-space message names.
func (e *Enricher) msg(m *Model, r *parser.Record) {
	g := &m.Msg
	g.Type, g.TypeName = r.Type, r.Name()
	if f, ok := r.Field("exe"); ok {
		g.Exe, g.HasExe = m.arena.untrusted(r, f), true
	}
	g.UID = e.id(m, r, idKeys[IDUid])
	for _, k := range [...]struct {
		key string
		dst *[]byte
		has *bool
	}{{"op", &g.Op, &g.HasOp}, {"acct", &g.Acct, &g.HasAcct}, {"res", &g.Res, &g.HasRes}, {"cmd", &g.Cmd, &g.HasCmd}} {
		if f, ok := r.Field(k.key); ok {
			*k.dst, *k.has = m.arena.untrusted(r, f), true
		}
	}
}

// isAnomaly: the kernel's (1700-1799) and user space's (2100-2199)
// anomaly records.
func isAnomaly(t uint16) bool { return t >= 1700 && t < 1800 || t >= 2100 && t < 2200 }

// anomaly reads what an ANOM_* record says of its process (comm, exe,
// subj; its pid and ids are read with every first record) and the signal
// of a crash (ANOM_ABEND's sig=): a crash is an event about a process
// like any syscall event.
func (e *Enricher) anomaly(m *Model, r *parser.Record) {
	m.Kind = KindAnomaly
	p := &m.Process
	for _, f := range r.Fields {
		if f.Depth != 0 {
			continue
		}
		switch string(r.Bytes(f.Key)) {
		case "comm":
			p.Comm = m.arena.untrusted(r, f)
		case "exe":
			p.Exe = m.arena.untrusted(r, f)
		case "subj":
			p.Subj = r.Bytes(f.Val)
		case "sig":
			if n, ok := parseInt(r.Bytes(f.Val)); ok && r.Type == parser.TypeAnomAbend {
				m.Signal = Signal{Has: true, Nr: n}
			}
		}
	}
}
