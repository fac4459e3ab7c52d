package enrich

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/whokilledit/linuxaudit/parser"
)

// summary appends the one-line human summary of m to s (escaped later by
// the document like every other string).
func (e *Enricher) summary(s []byte, m *Model) []byte {
	switch m.Kind {
	case KindKill:
		s = e.actor(s, m, true)
		if m.Outcome == OutcomeFailure {
			s = append(s, " tried to send "...)
		} else {
			s = append(s, " sent "...)
		}
		if sig := &m.Signal; sig.Has {
			if sig.Nr == 0 {
				s = append(s, "signal 0 (existence check)"...)
			} else if n := signalName(sig.Nr); n != "" {
				s = append(s, n...)
			} else {
				s = append(s, "signal "...)
				s = strconv.AppendInt(s, sig.Nr, 10)
			}
		} else {
			s = append(s, "a signal"...)
		}
		s = append(s, " to "...)
		s = e.targetText(s, m)
		s = failure(s, m)
	case KindFile:
		s = e.fileSummary(s, m)
	case KindAnomaly:
		if !m.Signal.Has {
			s = msgSummary(s, m)
			break
		}
		// pid 18455 "python3 -c ..." (python3.11, unit payments.service) crashed with SIGSEGV
		p := &m.Process
		s = append(s, "pid "...)
		s = strconv.AppendInt(s, p.PID, 10)
		if len(p.Argv) > 0 {
			s = appendQuoted(append(s, ' '), p.Argv, summaryArgv)
		}
		s = append(s, " ("...)
		if len(p.Exe) > 0 {
			s = append(s, p.Exe...)
		} else {
			s = append(s, p.Comm...)
		}
		s = e.appendWhere(s, p.Known)
		s = append(s, ") crashed with "...)
		s = appendSignal(s, m.Signal.Nr)
	case KindUnparsed:
		s = append(s, "a line that is not an audit record (kept whole under raw)"...)
	case KindExec:
		if !m.Syscall.Valid {
			s = msgSummary(s, m)
			break
		}
		// pid 32396 (parent 32353 bash, user root) executed "victimsvc 300" (/tmp/victimsvc)
		// (the command line once: the process's PROCTITLE after an exec
		// is the new program's.)
		p := &m.Process
		s = strconv.AppendInt(append(s, "pid "...), p.PID, 10)
		s = append(s, " ("...)
		if p.PPID > 0 {
			s = strconv.AppendInt(append(s, "parent "...), p.PPID, 10)
			if pp := m.Parent; pp != nil && pp.Comm != "" {
				s = append(append(s, ' '), pp.Comm...)
			}
			s = append(s, ", "...)
		}
		s = e.appendUser(s, m)
		s = e.appendWhere(s, p.Known)
		s = append(s, ')')
		if m.Outcome == OutcomeFailure {
			s = append(s, " failed to execute "...)
		} else {
			s = append(s, " executed "...)
		}
		if a := m.Exec.Args; m.Exec.Valid && a.Len() > 0 {
			s = append(s, '"')
			start := len(s)
			for i := 0; i < a.Len() && len(s)-start < summaryArgv; i++ {
				if i > 0 {
					s = append(s, ' ')
				}
				s = append(s, a.Arg(i)...)
			}
			if len(s)-start > summaryArgv {
				s = append(s[:start+summaryArgv], "..."...)
			}
			s = append(s, '"')
			if len(p.Exe) > 0 && !bytes.Equal(p.Exe, a.Arg(0)) {
				s = append(append(append(s, " ("...), p.Exe...), ')')
			}
		} else if len(p.Exe) > 0 {
			s = append(s, p.Exe...)
		}
		s = failure(s, m)
	case KindSyscall:
		s = e.actor(s, m, false)
		s = append(s, " called "...)
		if m.Syscall.Call != "" {
			s = append(append(append(append(s, m.Syscall.Name...), '('), m.Syscall.Call...), ')')
		} else if m.Syscall.Name != "" {
			s = append(s, m.Syscall.Name...)
		} else {
			s = append(s, "syscall "...)
			s = strconv.AppendInt(s, m.Syscall.Nr, 10)
		}
		s = failure(s, m)
	default:
		s = msgSummary(s, m)
	}
	if len(s) > 1024 {
		s = append(s[:1020], "..."...)
	}
	return s
}

// failure appends ": ESRCH" (or ": exit N") to a failed syscall's summary.
func failure(s []byte, m *Model) []byte {
	if m.Outcome != OutcomeFailure {
		return s
	}
	s = append(s, ": "...)
	if m.Syscall.Errno != "" {
		return append(s, m.Syscall.Errno...)
	}
	s = append(s, "exit "...)
	return strconv.AppendInt(s, m.Syscall.Exit, 10)
}

// actor writes "pid 7885 \"sh xdkill.sh\" (/usr/bin/bash, parent 5533,
// user root, unit x.service)".
func (e *Enricher) actor(s []byte, m *Model, withParent bool) []byte {
	p := &m.Process
	s = append(s, "pid "...)
	s = strconv.AppendInt(s, p.PID, 10)
	s = append(s, ' ')
	if len(p.Title) > 0 && !p.TitleStale {
		s = appendQuoted(s, p.Title, summaryArgv)
	} else {
		s = append(s, p.Comm...)
	}
	s = append(s, " ("...)
	if len(p.Exe) > 0 {
		s = append(s, p.Exe...)
		s = append(s, ", "...)
	}
	if withParent && p.PPID > 0 {
		s = append(s, "parent "...)
		s = strconv.AppendInt(s, p.PPID, 10)
		if pp := m.Parent; pp != nil && pp.Comm != "" {
			s = append(s, ' ')
			s = append(s, pp.Comm...)
		}
		s = append(s, ", "...)
	}
	s = e.appendUser(s, m)
	s = e.appendWhere(s, p.Known)
	return append(s, ')')
}

// appendUser appends "user root" (", login alice" when the login user
// differs) of a syscall event's caller.
func (e *Enricher) appendUser(s []byte, m *Model) []byte {
	p := &m.Process
	s = append(s, "user "...)
	if m.Syscall.Valid {
		if uid := p.IDs[IDUid]; uid.Set && len(uid.Name) > 0 {
			s = append(s, uid.Name...)
		} else {
			s = strconv.AppendInt(s, uid.N, 10)
		}
		if a, uid := p.IDs[IDAuid], p.IDs[IDUid]; a.Set && a.N != unsetID && a.N != uid.N && len(a.Name) > 0 {
			s = append(s, ", login "...)
			s = append(s, a.Name...)
		}
	}
	return s
}

// appendWhere appends where process p runs: ", unit nginx.service", and
// for a container ", pod shop/payments-7d9f, container app" (or its id
// when unnamed), leaving out a unit that is only the container's scope.
func (e *Enricher) appendWhere(s []byte, p *Proc) []byte {
	if p == nil {
		return s
	}
	if p.Unit != "" && (p.Container == "" || !strings.Contains(p.Unit, p.Container)) {
		s = append(append(s, ", unit "...), p.Unit...)
	}
	if p.Container == "" && p.PodUID == "" {
		return s
	}
	if n, ok := e.containerNames(p); ok && n.Kubernetes.PodName != "" {
		k := n.Kubernetes
		s = append(append(append(append(s, ", pod "...), k.Namespace...), '/'), k.PodName...)
		if k.ContainerName != "" {
			s = append(append(s, ", container "...), k.ContainerName...)
		}
		return s
	} else if ok && n.Docker.Name != "" {
		return append(append(s, ", container "...), n.Docker.Name...)
	}
	if c := p.Container; c != "" {
		s = append(append(s, ", container "...), c[:min(len(c), 12)]...)
	}
	return s
}

// summaryArgv is how much of a command line a summary quotes (the
// documents hold it whole).
const summaryArgv = 100

// appendQuoted appends a NUL separated argv as "a b c", cut after max
// bytes with "...".
func appendQuoted(s, argv []byte, max int) []byte {
	s = append(s, '"')
	start := len(s)
	s = append(s, argv...)
	if len(s)-start > max {
		s = append(s[:start+max], "..."...)
	}
	joinArgv(s[start:])
	return append(s, '"')
}

// targetText writes the target of a kill: "pid 7677 (sh)", "process group
// 4242 (5 processes: sleep, sleep, ...)".
func (e *Enricher) targetText(s []byte, m *Model) []byte {
	t := &m.Target
	switch t.Scope {
	case ScopeProcessGroup:
		s = append(s, "process group "...)
		s = strconv.AppendInt(s, -t.PidArg, 10)
	case ScopeCallerGroup:
		s = append(s, "its own process group"...)
	case ScopeAll:
		s = append(s, "every process it may signal"...)
	case ScopePidfd:
		if len(t.Processes) == 0 && m.Syscall.HasA[0] {
			s = append(s, "pidfd "...)
			return strconv.AppendUint(s, m.Syscall.A[0], 10)
		}
	}
	single := t.Scope == ScopeProcess || t.Scope == ScopeThread || t.Scope == ScopePidfd
	if len(t.Processes) == 1 && single {
		return e.targetProcText(s, &t.Processes[0])
	}
	if len(t.Processes) == 0 {
		if t.Scope == ScopeProcess || t.Scope == ScopeThread {
			s = append(s, "pid "...)
			s = strconv.AppendInt(s, t.PidArg, 10)
			if p := t.ArgProc; p != nil && p.Comm != "" {
				s = append(s, " ("...)
				s = append(s, p.Comm...)
				s = append(s, ')')
			}
		}
		return s
	}
	s = append(s, " ("...)
	s = strconv.AppendInt(s, int64(len(t.Processes)), 10)
	s = append(s, " processes: "...)
	for i := range t.Processes {
		if i == 5 {
			s = append(s, ", ..."...)
			break
		}
		if i > 0 {
			s = append(s, ", "...)
		}
		s = e.targetProcText(s, &t.Processes[i])
	}
	return append(s, ')')
}

func (e *Enricher) targetProcText(s []byte, t *TargetProc) []byte {
	s = append(s, "pid "...)
	s = strconv.AppendInt(s, t.PID, 10)
	s = append(s, " ("...)
	s = append(s, t.Comm...)
	if p := t.Known; p != nil {
		if len(p.Argv) > 0 {
			s = append(s, ": "...)
			start := len(s)
			s = append(s, p.Argv...)
			if len(s)-start > 120 {
				s = append(s[:start+120], "..."...)
			}
			joinArgv(s[start:])
		}
		s = e.appendWhere(s, p)
	}
	return append(s, ')')
}

// fileSummary: "pid 4123 \"sed -i ...\" (/usr/bin/sed, user root) replaced
// /etc/nginx/nginx.conf (renamed from /etc/nginx/sedAb12Cd)".
func (e *Enricher) fileSummary(s []byte, m *Model) []byte {
	f := &m.File
	failed := m.Outcome == OutcomeFailure
	s = e.actor(s, m, false)
	if failed {
		s = append(s, " failed to "...)
	} else {
		s = append(s, ' ')
	}
	verb := fileOps[f.Op].done
	if failed {
		verb = fileOps[f.Op].failed
	} else if f.Op == OpRename && f.Replaced >= 0 {
		verb = "replaced"
	}
	s = append(s, verb...)
	s = append(s, ' ')
	s = itemText(s, f, f.Primary)
	switch f.Op {
	case OpWrite:
		s = append(s, " for writing"...)
	case OpAppend:
		s = append(s, " for append"...)
	case OpRead:
		s = append(s, " for reading"...)
	case OpSymlink:
		if f.LinkTarget >= 0 {
			s = append(s, " -> "...)
			s = append(s, f.Items[f.LinkTarget].Name...)
		}
	case OpRename:
		if f.From >= 0 {
			s = append(s, " (renamed from "...)
			s = itemText(s, f, f.From)
			s = append(s, ')')
		}
	case OpChmod:
		if f.Primary >= 0 && f.Items[f.Primary].HasMode {
			s = append(s, " from "...)
			s = appendOctal(s, f.Items[f.Primary].Mode&0o7777)
		}
		if f.HasMode {
			s = append(s, " to "...)
			s = appendOctal(s, f.NewMode)
		}
	case OpChown:
		if f.HasOwner {
			s = append(s, " to "...)
			s = appendOwner(s, f.NewUID, f.NewUser)
			s = append(s, ':')
			s = appendOwner(s, f.NewGID, f.NewGroup)
		}
	}
	return failure(s, m)
}

// appendOwner writes a chown id: - for unchanged (-1), else its name or
// number.
func appendOwner(s []byte, id int64, name []byte) []byte {
	switch {
	case id == -1:
		return append(s, '-')
	case name != nil:
		return append(s, name...)
	}
	return strconv.AppendInt(s, id, 10)
}

func itemText(s []byte, f *File, i int) []byte {
	if i < 0 {
		if f.HasFD {
			s = append(s, "fd "...)
			return strconv.AppendInt(s, f.FD, 10)
		}
		return append(s, "a file"...)
	}
	it := &f.Items[i]
	if it.Nametype == "PARENT" {
		s = append(s, "in directory "...)
	}
	switch {
	case it.Path != nil:
		s = append(s, it.Path...)
	case len(it.Name) > 0:
		s = append(s, it.Name...)
		if it.DirFD != atFDCWD {
			s = append(s, " (relative to dir fd "...)
			s = strconv.AppendInt(s, it.DirFD, 10)
			s = append(s, ')')
		}
	default:
		s = append(s, "inode "...)
		s = strconv.AppendInt(s, it.Inode, 10)
	}
	return s
}

// msgSummary: "USER_AUTH by pid 32445 (/usr/bin/su) user root
// op=PAM:authentication acct=auditvictim res=success".
func msgSummary(s []byte, m *Model) []byte {
	if len(m.Event.Records) == 0 {
		return s
	}
	g := &m.Msg
	s = append(s, g.TypeName...)
	if m.Process.PID > 0 {
		s = append(s, " by pid "...)
		s = strconv.AppendInt(s, m.Process.PID, 10)
	}
	if g.HasExe {
		s = append(s, " ("...)
		s = append(s, g.Exe...)
		s = append(s, ')')
	}
	if g.UID.Set && len(g.UID.Name) > 0 {
		s = append(s, " user "...)
		s = append(s, g.UID.Name...)
	}
	for _, k := range [...]struct {
		key string
		v   []byte
		has bool
	}{{"op", g.Op, g.HasOp}, {"acct", g.Acct, g.HasAcct}, {"res", g.Res, g.HasRes}, {"cmd", g.Cmd, g.HasCmd}} {
		if k.has && !(k.key == "res" && m.Outcome == OutcomeSuccess) {
			s = append(s, ' ')
			s = append(s, k.key...)
			s = append(s, '=')
			s = append(s, k.v...)
		}
	}
	// Records of a syscall event that came without their SYSCALL.
	p := &m.Process
	if m.Syscall.Valid {
		return s
	}
	if a := m.Exec.Args; m.Exec.Valid && a.Len() > 0 {
		s = append(s, " executed"...)
		for i := 0; i < a.Len() && i < 32; i++ {
			s = append(append(s, ' '), a.Arg(i)...)
		}
	} else if len(p.Title) > 0 {
		s = append(s, ' ')
		s = appendQuoted(s, p.Title, summaryArgv)
	}
	if len(p.Cwd) > 0 {
		s = append(append(s, " in "...), p.Cwd...)
	}
	return s
}

// sockaddr decodes a SOCKADDR record's saddr.
func (e *Enricher) sockaddr(r *parser.Record) Socket {
	hx, ok := r.Value("saddr")
	if !ok {
		return Socket{}
	}
	b, ok := parser.DecodeHex(e.tmp[:0], hx)
	if !ok || len(b) < 2 {
		return Socket{}
	}
	e.tmp = b
	s := Socket{Valid: true, Family: binary.LittleEndian.Uint16(b), NlPid: -1}
	switch s.Family {
	case 1:
		p := b[2:]
		if len(p) > 0 && p[0] == 0 {
			s.Abstract = true
			p = p[1:]
		}
		for i, c := range p {
			if c == 0 {
				p = p[:i]
				break
			}
		}
		s.Path = e.m.arena.copy(p)
	case 2:
		if len(b) >= 8 {
			s.Port = int64(binary.BigEndian.Uint16(b[2:]))
			s.Addr = netip.AddrFrom4([4]byte(b[4:8])).String()
		}
	case 10:
		if len(b) >= 24 {
			s.Port = int64(binary.BigEndian.Uint16(b[2:]))
			s.Addr = netip.AddrFrom16([16]byte(b[8:24])).String()
		}
	case 16:
		if len(b) >= 12 {
			s.NlPid = int64(binary.LittleEndian.Uint32(b[4:]))
			s.NlGroups = int64(binary.LittleEndian.Uint32(b[8:]))
		}
	}
	return s
}
