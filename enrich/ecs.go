package enrich

import (
	"strconv"

	"github.com/whokilledit/linuxaudit/encode"
)

// writeECS writes the ECS schema: the field names of Elastic's auditd
// integration (Auditbeat's auditd module), so its dashboards and detection
// rules work, plus auditd.target for the processes a kill reached and
// auditd.summary_text for the one-line summary.
func (e *Enricher) writeECS(m *Model, doc *encode.Document) {
	ev := m.Event
	e.ts = e.appendTime(e.ts[:0], ev.Sec, ev.Msec)
	doc.Trusted("@timestamp", e.ts)
	doc.StrBytes("message", e.sum)
	doc.Object("ecs")
	doc.Str("version", "8.11.0")
	doc.End()

	doc.Object("event")
	doc.Str("kind", "event")
	doc.Str("module", "auditd")
	doc.Str("action", m.Action)
	doc.Str("outcome", m.Outcome.String())
	if cat, typ := ecsCategory(m); cat != "" {
		doc.Array("category")
		doc.Str("", cat)
		doc.End()
		doc.Array("type")
		doc.Str("", typ)
		doc.End()
	}
	e.tmp = appendID(e.tmp[:0], ev)
	doc.StrBytes("id", e.tmp)
	doc.Uint("sequence", uint64(ev.Serial))
	if ev.Late {
		doc.Bool("late", true)
	}
	doc.End()

	e.hostAndKeys(m, doc, "tags")

	if m.Syscall.Valid {
		e.ecsProcess(m, doc)
	} else if len(ev.Records) > 0 {
		doc.Object("process")
		if m.Process.PID > 0 {
			doc.Int("pid", m.Process.PID)
		}
		if m.Msg.HasExe {
			doc.StrBytes("executable", m.Msg.Exe)
		}
		e.ecsArgv(m, doc)
		doc.End()
	}
	if len(ev.Records) > 0 {
		e.ecsUser(doc, &m.Process)
	}
	if m.Kind == KindFile {
		e.ecsFile(&m.File, doc)
	}

	doc.Object("auditd")
	doc.Str("message_type", lowerTypeName(&ev.Records[0]))
	doc.Uint("sequence", uint64(ev.Serial))
	doc.Str("result", outcomes[m.Outcome].ecsResult)
	if m.Process.HasSes {
		doc.Int("session", m.Process.Ses)
	}
	doc.StrBytes("summary_text", e.sum)
	e.ecsSummary(m, doc)
	if s := &m.Syscall; s.Valid {
		doc.Object("data")
		if s.Arch != "" {
			doc.Str("arch", s.Arch)
		}
		if s.Name != "" {
			doc.Str("syscall", s.Name)
		} else {
			doc.Str("syscall", strconv.FormatInt(s.Nr, 10))
		}
		if s.HasExit {
			if s.Errno != "" {
				doc.Str("exit", s.Errno)
			} else {
				doc.Str("exit", strconv.FormatInt(s.Exit, 10))
			}
		}
		for i, k := range [4]string{"a0", "a1", "a2", "a3"} {
			if s.HasA[i] {
				e.tmp = strconv.AppendUint(e.tmp[:0], s.A[i], 16)
				doc.Trusted(k, e.tmp)
			}
		}
		if m.Process.TTY != nil {
			doc.StrBytes("tty", m.Process.TTY)
		}
		if m.Signal.Has {
			if n := signalName(m.Signal.Nr); n != "" {
				doc.Str("signal", n)
			}
		}
		doc.End()
	}
	if m.Kind == KindKill {
		t := &m.Target
		doc.Object("target")
		if t.Scope != ScopeNone {
			doc.Str("scope", t.Scope.String())
		}
		doc.Int("count", int64(len(t.Processes)))
		if len(t.Processes) > 0 {
			e.writeTarget(doc, &t.Processes[0])
		}
		if len(t.Processes) > 1 {
			doc.Array("processes")
			for i := range t.Processes {
				doc.Object("")
				e.writeTarget(doc, &t.Processes[i])
				doc.End()
			}
			doc.End()
		}
		doc.End()
	}
	if !m.Syscall.Valid && len(m.Data) > 0 {
		doc.Object("data")
		writeFields(&m.Data[0], doc)
		doc.End()
	}
	if e.cfg.Raw {
		writeRaw(ev, doc)
	}
	doc.End()
}

func ecsCategory(m *Model) (string, string) {
	k := kinds[m.Kind]
	if m.Kind == KindFile {
		return k.category, fileOps[m.File.Op].ecsType
	}
	return k.category, k.typ
}

func (e *Enricher) ecsProcess(m *Model, doc *encode.Document) {
	p := &m.Process
	doc.Object("process")
	doc.Int("pid", p.PID)
	if p.Comm != nil {
		doc.StrBytes("name", p.Comm)
	}
	if p.Exe != nil {
		doc.StrBytes("executable", p.Exe)
	}
	e.ecsArgv(m, doc)
	doc.Object("parent")
	doc.Int("pid", p.PPID)
	if pp := m.Parent; pp != nil {
		if pp.Comm != "" {
			doc.Str("name", pp.Comm)
		}
		if pp.Exe != "" {
			doc.Str("executable", pp.Exe)
		}
		if len(pp.Argv) > 0 {
			e.writeCmdline(doc, "command_line", pp.Argv)
		}
	}
	doc.End()
	k := p.Known
	if k != nil && k.Unit != "" {
		doc.Object("systemd")
		doc.Str("unit", k.Unit)
		doc.End()
	}
	doc.End()
	if k != nil && k.Container != "" {
		doc.Object("container")
		doc.Str("id", k.Container)
		doc.End()
	}
}

// ecsArgv writes the command line and working directory of the caller.
func (e *Enricher) ecsArgv(m *Model, doc *encode.Document) {
	p := &m.Process
	if len(p.Argv) > 0 {
		e.writeCmdline(doc, "title", p.Argv)
		doc.StrBytes("command_line", e.tmp)
		writeArgs(doc, "args", p.Argv)
	}
	if p.Cwd != nil {
		doc.StrBytes("working_directory", p.Cwd)
	}
}

// ecsUser writes user.* (id, name, audit, effective, saved, filesystem,
// group) from the caller's ids.
func (e *Enricher) ecsUser(doc *encode.Document, p *Process) {
	doc.Object("user")
	e.ecsID(doc, p.IDs[IDUid])
	for _, sub := range [...]struct {
		name     string
		uid, gid int
	}{{"audit", IDAuid, -1}, {"effective", IDEuid, IDEgid}, {"saved", IDSuid, IDSgid}, {"filesystem", IDFsuid, IDFsgid}} {
		doc.Object(sub.name)
		e.ecsID(doc, p.IDs[sub.uid])
		if sub.gid >= 0 && p.IDs[sub.gid].Set {
			doc.Object("group")
			e.ecsID(doc, p.IDs[sub.gid])
			doc.End()
		}
		doc.End()
	}
	doc.Object("group")
	e.ecsID(doc, p.IDs[IDGid])
	doc.End()
	doc.End()
}

// ecsID writes id (as a string, as Auditbeat does) and name.
func (e *Enricher) ecsID(doc *encode.Document, id ID) {
	if !id.Set {
		return
	}
	e.tmp = strconv.AppendInt(e.tmp[:0], id.N, 10)
	doc.Trusted("id", e.tmp)
	if len(id.Name) > 0 {
		doc.StrBytes("name", id.Name)
	}
}

func (e *Enricher) ecsFile(f *File, doc *encode.Document) {
	if f.Primary < 0 {
		return
	}
	it := &f.Items[f.Primary]
	doc.Object("file")
	if it.Path != nil {
		doc.StrBytes("path", it.Path)
	}
	if len(it.Name) > 0 {
		doc.StrBytes("name", base(it.Name))
	}
	if it.InodeRaw != nil {
		doc.StrBytes("inode", it.InodeRaw)
	}
	if it.Dev != nil {
		doc.StrBytes("device", it.Dev)
	}
	if it.HasMode {
		e.tmp = appendOctal(e.tmp[:0], it.Mode&0o7777)
		doc.Trusted("mode", e.tmp)
		if t := modeType(it.Mode); t != "" {
			if t == "link" {
				t = "symlink"
			}
			doc.Str("type", t)
		}
	}
	for _, o := range [...]struct {
		id        ID
		key, name string
	}{{it.OUID, "uid", "owner"}, {it.OGID, "gid", "group"}} {
		if o.id.Set {
			e.tmp = strconv.AppendInt(e.tmp[:0], o.id.N, 10)
			doc.Trusted(o.key, e.tmp)
			if len(o.id.Name) > 0 {
				doc.StrBytes(o.name, o.id.Name)
			}
		}
	}
	doc.End()
}

// ecsSummary writes auditd.summary {actor, object, how} as Auditbeat does.
func (e *Enricher) ecsSummary(m *Model, doc *encode.Document) {
	p := &m.Process
	doc.Object("summary")
	doc.Object("actor")
	if m.Syscall.Valid {
		if id := p.IDs[IDAuid]; id.Set && len(id.Name) > 0 {
			doc.StrBytes("primary", id.Name)
		}
		if id := p.IDs[IDUid]; id.Set && len(id.Name) > 0 {
			doc.StrBytes("secondary", id.Name)
		}
	}
	doc.End()
	doc.Object("object")
	switch m.Kind {
	case KindKill:
		doc.Str("type", "process")
		if t := &m.Target; len(t.Processes) > 0 {
			e.tmp = strconv.AppendInt(e.tmp[:0], t.Processes[0].PID, 10)
			doc.Trusted("primary", e.tmp)
			if t.Processes[0].HasComm {
				doc.StrBytes("secondary", t.Processes[0].Comm)
			}
		} else if t.HasPidArg {
			e.tmp = strconv.AppendInt(e.tmp[:0], t.PidArg, 10)
			doc.Trusted("primary", e.tmp)
		}
	case KindFile:
		doc.Str("type", "file")
		if f := &m.File; f.Primary >= 0 {
			it := &f.Items[f.Primary]
			if it.Path != nil {
				doc.StrBytes("primary", it.Path)
			} else if len(it.Name) > 0 {
				doc.StrBytes("primary", it.Name)
			}
		}
	case KindExec:
		doc.Str("type", "file")
		if p.Exe != nil {
			doc.StrBytes("primary", p.Exe)
		}
	}
	doc.End()
	if m.Syscall.Valid && p.Exe != nil {
		doc.StrBytes("how", p.Exe)
	}
	doc.End()
}
