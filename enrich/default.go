package enrich

import (
	"bytes"
	"strconv"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
)

// writeDefault writes the default schema of m.
func (e *Enricher) writeDefault(m *Model, doc *encode.Document) {
	ev := m.Event
	e.ts = e.appendTime(e.ts[:0], ev.Sec, ev.Msec)
	doc.Trusted("@timestamp", e.ts)
	doc.StrBytes("summary", e.sum)

	doc.Object("event")
	e.tmp = appendID(e.tmp[:0], ev)
	doc.StrBytes("id", e.tmp)
	if n := ev.Node(); len(n) > 0 {
		doc.StrBytes("node", n)
	}
	if e.cfg.Full {
		doc.Int("time", ev.Sec) // @timestamp and event.id say it
		doc.Int("msec", int64(ev.Msec))
	}
	if e.cfg.Full {
		doc.Uint("serial", uint64(ev.Serial)) // event.id holds it
	}
	doc.Str("kind", m.Kind.String())
	if m.Category != "" && (e.cfg.Full || m.Category != kinds[m.Kind].category) {
		doc.Str("category", m.Category) // (a kill's process, a file's file...: said by the kind)
	}
	doc.Str("action", m.Action)
	doc.Str("outcome", m.Outcome.String())
	if e.cfg.Full {
		doc.Array("records")
		for i := range ev.Records {
			doc.Str("", ev.Records[i].Name())
		}
		doc.End()
	}
	if !ev.Reason.Complete() {
		doc.Bool("complete", false)
		doc.Str("closed_by", ev.Reason.String())
	}
	if ev.Late {
		doc.Bool("late", true)
	}
	if ev.Dropped > 0 {
		doc.Int("dropped_records", int64(ev.Dropped))
	}
	doc.End()

	e.hostAndKeys(m, doc, "key")

	if m.Syscall.Valid {
		writeSyscall(&m.Syscall, doc, e.cfg.Full, e.cfg.Full || !(m.Kind == KindKill || m.Kind == KindExec || m.Kind == KindFile))
		e.writeProcess(m, doc)
	} else if m.Kind == KindAnomaly && m.Process.PID > 0 {
		e.writeProcess(m, doc) // the process of the ANOM_* record
	} else if p := &m.Process; len(p.Argv) > 0 || p.Cwd != nil {
		// Records of a syscall event without its SYSCALL (a rotated
		// log's first lines, a lost record): what they say of the caller.
		doc.Object("process")
		if len(p.Argv) > 0 {
			e.writeArgv(doc, p.Argv)
		}
		if p.Cwd != nil {
			doc.StrBytes("cwd", p.Cwd)
		}
		doc.End()
	}
	switch m.Kind {
	case KindKill:
		e.writeKill(m, doc)
	case KindAnomaly:
		if m.Signal.Has {
			doc.Object("signal")
			doc.Int("nr", m.Signal.Nr)
			if n := signalName(m.Signal.Nr); n != "" {
				doc.Str("name", n)
			}
			doc.End()
		}
	case KindFile:
		e.writeFile(&m.File, doc)
	}
	if m.Exec.Valid {
		writeExec(m.Exec.Args, doc, e.cfg.Full || m.Process.TitleStale, m.Process.Title)
	}
	e.writeData(m, doc)
	if e.cfg.Raw {
		writeRaw(ev, doc)
	}
}

// hostAndKeys writes host.name (the log's node=, else the configured host
// name) and the audit keys as an array under keysField.
func (e *Enricher) hostAndKeys(m *Model, doc *encode.Document, keysField string) {
	if n := m.Event.Node(); len(n) > 0 {
		doc.Object("host")
		doc.StrBytes("name", n)
		doc.End()
	} else if e.cfg.Hostname != "" {
		doc.Object("host")
		doc.Str("name", e.cfg.Hostname)
		doc.End()
	}
	if len(m.Keys) > 0 {
		doc.Array(keysField)
		for _, k := range m.Keys {
			if e.ecs {
				// Some logs carry CONFIG_CHANGE keys as key="key=NAME";
				// Auditbeat's tag is NAME. The default schema keeps the
				// key as logged, as ausearch shows it.
				k = bytes.TrimPrefix(k, []byte("key="))
			}
			doc.StrBytes("", k)
		}
		doc.End()
	}
}

func writeRaw(ev *parser.Event, doc *encode.Document) {
	doc.Array("raw")
	for i := range ev.Records {
		doc.StrBytes("", ev.Records[i].Line)
	}
	doc.End()
}

// appendID appends the event id: [node:]sec.msec:serial.
func appendID(dst []byte, ev *parser.Event) []byte {
	if n := ev.Node(); len(n) > 0 {
		dst = append(dst, n...)
		dst = append(dst, ':')
	}
	dst = strconv.AppendInt(dst, ev.Sec, 10)
	ms := ev.Msec
	dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), ':')
	return strconv.AppendUint(dst, uint64(ev.Serial), 10)
}

// writeSyscall writes the SYSCALL record; argsRaw: its a0..a3 (the
// compact form leaves them to the decoded fields of kills, execs and file
// operations: target and signal, exec, file.flags...).
func writeSyscall(s *Syscall, doc *encode.Document, full, argsRaw bool) {
	doc.Object("syscall")
	if s.Arch != "" {
		doc.Str("arch", s.Arch)
	} else if s.ArchRaw != nil {
		doc.StrBytes("arch", s.ArchRaw)
	}
	doc.Int("nr", s.Nr)
	if s.Name != "" {
		doc.Str("name", s.Name)
	}
	if s.Call != "" {
		doc.Str("call", s.Call)
	}
	if s.Success >= 0 && (full || !s.HasExit) {
		doc.Bool("success", s.Success == 1) // else event.outcome says it
	}
	if s.HasExit && (full || s.Exit != 0 || s.Success != 1) {
		doc.Int("exit", s.Exit) // (compact: a success's 0 is event.outcome)
		if s.Errno != "" {
			doc.Str("errno", s.Errno)
		}
	}
	for i, k := range [4]string{"a0", "a1", "a2", "a3"} {
		if s.HasA[i] && argsRaw {
			doc.Uint(k, s.A[i])
		}
	}
	if s.HasItems && full {
		doc.Int("items", s.Items) // the PATH records are in the document
	}
	doc.End()
}

// writeID writes an id under key and its name under nameKey.
func writeID(doc *encode.Document, key, nameKey string, id ID) {
	if !id.Set {
		return
	}
	doc.Int(key, id.N)
	if len(id.Name) > 0 {
		doc.StrBytes(nameKey, id.Name)
	}
}

// writeIDc is writeID in the form of the configuration: compact, an unset
// id (4294967295) is only its name, "unset".
func (e *Enricher) writeIDc(doc *encode.Document, key, nameKey string, id ID) {
	if !e.cfg.Full && id.Set && id.N == unsetID && string(id.Name) == "unset" {
		doc.Str(nameKey, "unset")
		return
	}
	writeID(doc, key, nameKey, id)
}

// writeProcess writes the caller with its parent and ancestors.
func (e *Enricher) writeProcess(m *Model, doc *encode.Document) {
	p := &m.Process
	doc.Object("process")
	doc.Int("pid", p.PID)
	if m.Syscall.Valid || p.PPID > 0 {
		doc.Int("ppid", p.PPID)
	}
	if p.Comm != nil {
		doc.StrBytes("comm", p.Comm)
	}
	if p.Exe != nil {
		doc.StrBytes("exe", p.Exe)
	}
	if len(p.Argv) > 0 {
		e.writeArgv(doc, p.Argv)
		if len(p.Title) > 0 && p.TitleStale {
			// The kernel caches a task's PROCTITLE at its first audited
			// event and keeps it across execve: trust comm and exe.
			doc.Bool("cmdline_stale", true)
		}
	}
	if p.Cwd != nil {
		doc.StrBytes("cwd", p.Cwd)
	}
	for i := range p.IDs {
		if i == IDFsgid+1 {
			break
		}
		if !e.cfg.Full && sameAs(p.IDs, i) {
			continue // euid equal to uid...: said once
		}
		e.writeIDc(doc, idKeys[i].key, idKeys[i].name, p.IDs[i])
	}
	if p.TTY != nil && (e.cfg.Full || string(p.TTY) != "(none)") {
		doc.StrBytes("tty", p.TTY)
	}
	if p.HasSes {
		doc.Int("ses", p.Ses)
	}
	if p.Subj != nil {
		doc.StrBytes("subj", p.Subj)
	}
	if k := p.Known; k != nil {
		if k.Unit != "" {
			doc.Str("unit", k.Unit)
		}
		if k.Container != "" {
			doc.Str("container", k.Container)
		}
		e.writeKube(doc, k)
	}
	if p.PPID > 0 {
		// Ancestors the table knows nothing of are only pids: compact,
		// the parent's ppid says the first one.
		ancestors := e.cfg.AncestryDepth > 0 && m.Parent != nil
		if ancestors && !e.cfg.Full {
			ancestors = false
			for _, a := range m.Ancestors {
				ancestors = ancestors || a.Proc != nil
			}
		}
		if m.Parent != nil || e.cfg.Full {
			// (compact: a parent the table knows nothing of is ppid)
			doc.Object("parent")
			doc.Int("pid", p.PPID)
			if m.Parent != nil {
				e.writeParent(doc, m.Parent, p)
			}
			doc.End()
		}
		if ancestors {
			doc.Array("ancestors")
			for _, a := range m.Ancestors {
				doc.Object("")
				doc.Int("pid", a.PID)
				if a.Proc != nil {
					e.writeProc(doc, a.Proc)
				}
				doc.End()
			}
			doc.End()
		}
	}
	doc.End()
}

// writeProc writes what the process table knows of a process.
// writeParent writes the caller's parent; compact, without its uid when
// it is the caller's.
func (e *Enricher) writeParent(doc *encode.Document, pp *Proc, p *Process) {
	if e.cfg.Full {
		e.writeProc(doc, pp)
		return
	}
	q := *pp
	if uid := p.IDs[IDUid]; uid.Set && uid.N == q.UID {
		q.UID = -1
	}
	e.writeProc(doc, &q)
}

func (e *Enricher) writeProc(doc *encode.Document, p *Proc) {
	if p.PPID > 0 {
		doc.Int("ppid", p.PPID)
	}
	if p.Comm != "" {
		doc.Str("comm", p.Comm)
	}
	if p.Exe != "" {
		doc.Str("exe", p.Exe)
	}
	if len(p.Argv) > 0 {
		e.writeCmdline(doc, "cmdline", p.Argv)
	}
	if p.UID >= 0 {
		doc.Int("uid", p.UID)
		if s := e.userName(p.UID); s != "" {
			doc.Str("user", s)
		}
	}
	if p.Unit != "" {
		doc.Str("unit", p.Unit)
	}
	if p.Container != "" {
		doc.Str("container", p.Container)
	}
	if p.Exited != 0 {
		doc.Bool("exited", true)
	}
}

// writeCmdline writes a NUL separated argv joined with spaces.
func (e *Enricher) writeCmdline(doc *encode.Document, key string, argv []byte) {
	e.tmp = append(e.tmp[:0], argv...)
	doc.StrBytes(key, joinArgv(e.tmp))
}

// writeArgv writes cmdline (joined) and args (array) from a NUL separated
// argv.
func (e *Enricher) writeArgv(doc *encode.Document, argv []byte) {
	e.writeCmdline(doc, "cmdline", argv)
	if e.cfg.Full || ambiguousArgv(argv) {
		writeArgs(doc, "args", argv)
	}
}

// ambiguousArgv: joined with spaces, the NUL separated argv would not
// split back into the same arguments (an empty one, or one holding
// white space).
func ambiguousArgv(argv []byte) bool {
	if len(argv) == 0 || argv[0] == 0 || argv[len(argv)-1] == 0 {
		return true
	}
	for i, c := range argv {
		switch c {
		case ' ', '\t', '\n':
			return true
		case 0:
			if argv[i+1] == 0 {
				return true
			}
		}
	}
	return false
}

// sameAs: id i of the process says what a kept one says (euid, suid,
// fsuid equal to uid; egid, sgid, fsgid equal to gid).
func sameAs(ids [numIDs]ID, i int) bool {
	var ref int
	switch i {
	case IDEuid, IDSuid, IDFsuid:
		ref = IDUid
	case IDEgid, IDSgid, IDFsgid:
		ref = IDGid
	default:
		return false
	}
	return ids[i].Set && ids[ref].Set && ids[i].N == ids[ref].N
}

// writeArgs writes a NUL separated argv as an array.
func writeArgs(doc *encode.Document, key string, argv []byte) {
	doc.Array(key)
	s := 0
	for i := 0; i <= len(argv); i++ {
		if i == len(argv) || argv[i] == 0 {
			doc.StrBytes("", argv[s:i])
			s = i + 1
		}
	}
	doc.End()
}

func (e *Enricher) writeKill(m *Model, doc *encode.Document) {
	doc.Object("signal")
	if m.Signal.Has {
		n := signalName(m.Signal.Nr)
		if e.cfg.Full || n == "" || m.Signal.Nr == 0 {
			doc.Int("nr", m.Signal.Nr) // (compact: the name says it)
		}
		if n != "" {
			doc.Str("name", n)
		}
	}
	if e.cfg.Full {
		doc.Str("syscall", m.Signal.Syscall) // syscall.name says it
	}
	doc.End()
	t := &m.Target
	doc.Object("target")
	if t.HasPidArg && (e.cfg.Full || !(t.Scope == ScopeProcess && len(t.Processes) == 1 && t.Processes[0].PID == t.PidArg)) {
		doc.Int("pid_arg", t.PidArg)
	}
	if t.Scope != ScopeNone && (e.cfg.Full || t.Scope != ScopeProcess || len(t.Processes) != 1) {
		doc.Str("scope", t.Scope.String()) // (compact: one process is the default)
	}
	if t.Scope == ScopeProcessGroup {
		doc.Int("pgid", -t.PidArg)
	}
	if e.cfg.Full || len(t.Processes) != 1 {
		doc.Int("count", int64(len(t.Processes)))
	}
	if len(t.Processes) > 0 && e.cfg.Full {
		// The first target flattened, for queries that cannot look into
		// arrays; every target is in processes (LogQL's json stage takes
		// target.processes[0].pid).
		doc.Object("first")
		e.writeTarget(doc, &t.Processes[0])
		doc.End()
	}
	doc.Array("processes")
	for i := range t.Processes {
		doc.Object("")
		e.writeTarget(doc, &t.Processes[i])
		doc.End()
	}
	doc.End()
	doc.End()
}

// writeTarget writes one OBJ_PID target with what the process table knows.
func (e *Enricher) writeTarget(doc *encode.Document, t *TargetProc) {
	doc.Int("pid", t.PID)
	if t.HasComm {
		doc.StrBytes("comm", t.Comm)
	}
	e.writeIDc(doc, "uid", "user", t.UID)
	e.writeIDc(doc, "auid", "auser", t.AUID)
	if t.HasSes {
		doc.Int("ses", t.Ses)
	}
	if t.Obj != nil {
		doc.StrBytes("obj", t.Obj)
	}
	if p := t.Known; p != nil {
		if p.PPID > 0 {
			doc.Int("ppid", p.PPID)
		}
		if p.Exe != "" {
			doc.Str("exe", p.Exe)
		}
		if len(p.Argv) > 0 {
			e.writeCmdline(doc, "cmdline", p.Argv)
		}
		if p.Unit != "" {
			doc.Str("unit", p.Unit)
		}
		if p.Container != "" {
			doc.Str("container", p.Container)
		}
		e.writeKube(doc, p)
	}
}

// writeExec writes exec.*: the EXECVE arguments, whole. Compact, only
// what process.cmdline (the PROCTITLE, cut by the kernel at 128 bytes)
// does not already say: the array when the command line is not exactly
// the arguments joined, or would not split back into them.
func writeExec(a *parser.Args, doc *encode.Document, full bool, title []byte) {
	doc.Object("exec")
	ambiguous, same := false, true
	rest := title
	for i := 0; i < a.Len(); i++ {
		arg := a.Arg(i)
		ambiguous = ambiguous || len(arg) == 0 || bytes.ContainsAny(arg, " \t\n")
		if i > 0 {
			if len(rest) == 0 || rest[0] != 0 {
				same = false
			} else {
				rest = rest[1:]
			}
		}
		if !bytes.HasPrefix(rest, arg) {
			same = false
		} else {
			rest = rest[len(arg):]
		}
	}
	same = same && len(rest) == 0
	if a.Argc >= 0 && (full || ambiguous || !same || a.Missing > 0 || a.Argc != a.Len()) {
		doc.Int("argc", int64(a.Argc))
	}
	if full || ambiguous || !same {
		doc.Array("args")
		for i := 0; i < a.Len(); i++ {
			doc.StrBytes("", a.Arg(i))
		}
		doc.End()
	}
	if a.Missing > 0 {
		doc.Int("missing_args", int64(a.Missing))
	}
	doc.End()
}

func (e *Enricher) writeFile(f *File, doc *encode.Document) {
	doc.Object("file")
	doc.Str("operation", f.Op.String())
	if f.Flags != nil {
		doc.StrBytes("flags", f.Flags)
	}
	if f.Primary >= 0 {
		e.writeFileItem(doc, &f.Items[f.Primary])
	}
	if f.From >= 0 {
		it := &f.Items[f.From]
		if it.Path != nil {
			doc.StrBytes("from", it.Path)
		} else if len(it.Name) > 0 {
			doc.StrBytes("from_name", it.Name)
		}
	}
	if f.LinkTarget >= 0 {
		doc.StrBytes("link_target", f.Items[f.LinkTarget].Name)
	}
	if f.Replaced >= 0 {
		if it := &f.Items[f.Replaced]; it.HasInode {
			doc.Int("replaced_inode", it.Inode)
		}
	}
	if f.HasMode {
		e.tmp = appendOctal(e.tmp[:0], f.NewMode)
		doc.Trusted("new_mode", e.tmp)
	}
	if f.HasOwner {
		doc.Int("new_uid", f.NewUID)
		if f.NewUser != nil {
			doc.StrBytes("new_user", f.NewUser)
		}
		doc.Int("new_gid", f.NewGID)
		if f.NewGroup != nil {
			doc.StrBytes("new_group", f.NewGroup)
		}
	}
	if f.HasFD {
		doc.Int("fd", f.FD)
	}
	if len(f.Items) > 1 || (len(f.Items) == 1 && f.Primary < 0) {
		var base *FileItem // compact: what items share with it is not repeated
		if f.Primary >= 0 && !e.cfg.Full {
			base = &f.Items[f.Primary]
		}
		doc.Array("items")
		for i := range f.Items {
			it := &f.Items[i]
			if base != nil && (i == f.Primary || sameItem(it, f.Items[:i])) {
				continue // the primary is file.* itself; a repeated PARENT
			}
			doc.Object("")
			e.writeItemAgainst(doc, it, base)
			doc.End()
		}
		doc.End()
	}
	doc.End()
}

// sameItem reports whether an earlier item says what it says (the two
// PARENT records of a rename within one directory).
func sameItem(it *FileItem, earlier []FileItem) bool {
	for i := range earlier {
		o := &earlier[i]
		if o.Nametype == it.Nametype && o.Inode == it.Inode && bytes.Equal(o.Path, it.Path) && bytes.Equal(o.Name, it.Name) {
			return true
		}
	}
	return false
}

// writeItemAgainst writes an item of file.items; with a base (compact),
// its device and owner only where they differ from the base's (file.*).
func (e *Enricher) writeItemAgainst(doc *encode.Document, it, base *FileItem) {
	if base == nil {
		e.writeFileItem(doc, it)
		return
	}
	cp := *it
	if bytes.Equal(cp.Dev, base.Dev) {
		cp.Dev = nil
	}
	if cp.OUID.Set && base.OUID.Set && cp.OUID.N == base.OUID.N {
		cp.OUID = ID{}
	}
	if cp.OGID.Set && base.OGID.Set && cp.OGID.N == base.OGID.N {
		cp.OGID = ID{}
	}
	e.writeFileItem(doc, &cp)
}

func (e *Enricher) writeFileItem(doc *encode.Document, it *FileItem) {
	if it.Path != nil {
		doc.StrBytes("path", it.Path)
	}
	if len(it.Name) > 0 && (e.cfg.Full || it.Path == nil || !bytes.Equal(it.Name, it.Path)) {
		doc.StrBytes("name", it.Name) // as logged, when not the path itself
		if it.Path == nil {
			if it.DirFD != atFDCWD {
				doc.Int("dirfd", it.DirFD)
				doc.Str("unresolved", "relative to a directory file descriptor; its path is not in the log")
			} else {
				doc.Str("unresolved", "relative name without a CWD record")
			}
		}
	}
	if e.cfg.Full {
		doc.Int("item", it.Item)
	}
	if e.cfg.Full || it.Nametype != "NORMAL" {
		doc.Str("nametype", it.Nametype)
	}
	if it.HasInode {
		doc.Int("inode", it.Inode)
	}
	if it.Dev != nil {
		doc.StrBytes("dev", it.Dev)
	}
	if it.HasMode {
		if e.cfg.Full {
			doc.StrBytes("mode", it.ModeRaw) // type and perm say it
		}
		if t := modeType(it.Mode); t != "" {
			doc.Str("type", t)
		}
		e.tmp = appendOctal(e.tmp[:0], it.Mode&0o7777)
		doc.Trusted("perm", e.tmp)
	}
	writeID(doc, "ouid", "ouser", it.OUID)
	writeID(doc, "ogid", "ogroup", it.OGID)
	if it.Obj != nil {
		doc.StrBytes("obj", it.Obj)
	}
}

// writeData writes every record the model has no place for, under
// data.<type> (an array when the type repeats).
func (e *Enricher) writeData(m *Model, doc *encode.Document) {
	opened := false
	for i := range m.Data {
		d := &m.Data[i]
		if !d.Other {
			continue
		}
		dup, n := false, 0
		for j := range m.Data {
			q := &m.Data[j]
			if q.Other && q.Name == d.Name {
				if j < i {
					dup = true
					break
				}
				n++
			}
		}
		if dup {
			continue
		}
		if !opened {
			doc.Object("data")
			opened = true
		}
		if n == 1 {
			doc.Object(d.Name)
			writeFields(d, doc, e.cfg.Full)
			doc.End()
			continue
		}
		doc.Array(d.Name)
		for j := i; j < len(m.Data); j++ {
			if q := &m.Data[j]; q.Other && q.Name == d.Name {
				doc.Object("")
				writeFields(q, doc, e.cfg.Full)
				doc.End()
			}
		}
		doc.End()
	}
	if opened {
		doc.End()
	}
}

// writeFields writes a decoded record's fields (and its socket address):
// a key the record repeats as an array of its values.
func writeFields(d *DataRecord, doc *encode.Document, full bool) {
	if d.Socket.Valid {
		writeSocket(&d.Socket, doc)
	}
	for _, g := range d.Groups {
		if len(g.Members) == 1 {
			if f := &d.Fields[g.Members[0]]; full || !saysNothing(d.Type, g.Key, f) && !(d.Outcome && g.Key == "res") && !unchangedCap(d, g.Key, f) {
				writeField(doc, g.Key, f)
			}
			continue
		}
		doc.Array(g.Key)
		for _, i := range g.Members {
			writeField(doc, "", &d.Fields[i])
		}
		doc.End()
	}
}

// saysNothing: a field the compact form leaves out because its value is
// the record's "none": "?" (no host, no address, no terminal), an unset
// session or auid (its name says "unset"), the zero capability sets of
// PATH and BPRM_FCAPS records, a PATH's rdev 00:00 (not a device file).
func saysNothing(typ uint16, key string, f *DataField) bool {
	if f.Kind != FieldInt && string(f.Str) == "?" || f.Kind == FieldInt && (f.Num == unsetID || f.Num == -1) && (key == "ses" || key == "auid") {
		return true // none; an unset session; an unset auid (auser says "unset")
	}
	zero := f.Kind == FieldInt && f.Num == 0 || f.Kind != FieldInt && string(f.Str) == "0"
	switch typ {
	case parser.TypePath:
		// (and the item number and a NORMAL nametype: the array's order
		// and the default)
		return zero && len(key) > 4 && key[:4] == "cap_" || key == "rdev" && string(f.Str) == "00:00" ||
			key == "item" || key == "nametype" && string(f.Str) == "NORMAL"
	case parser.TypeBprmFcaps:
		return zero
	}
	return false
}

// unchangedCap: a BPRM_FCAPS old_ set equal to the new one (an exec that
// changed no capability set says each once).
func unchangedCap(d *DataRecord, key string, f *DataField) bool {
	if d.Type != parser.TypeBprmFcaps || len(key) < 5 || key[:4] != "old_" {
		return false
	}
	for _, g := range d.Groups {
		if g.Key == key[4:] && len(g.Members) == 1 {
			n := &d.Fields[g.Members[0]]
			return n.Kind == f.Kind && n.Num == f.Num && bytes.Equal(n.Str, f.Str)
		}
	}
	return false
}

func writeField(doc *encode.Document, key string, f *DataField) {
	if f.Kind == FieldInt {
		doc.Int(key, f.Num)
	} else {
		doc.StrBytes(key, f.Str)
	}
}

func writeSocket(s *Socket, doc *encode.Document) {
	switch s.Family {
	case 1:
		doc.Str("family", "local")
		if s.Abstract {
			doc.Bool("abstract", true)
		}
		doc.StrBytes("path", s.Path)
	case 2, 10:
		if s.Family == 2 {
			doc.Str("family", "inet")
		} else {
			doc.Str("family", "inet6")
		}
		if s.Addr != "" {
			doc.Int("port", s.Port)
			doc.Str("addr", s.Addr)
		}
	case 16:
		doc.Str("family", "netlink")
		if s.NlPid >= 0 {
			doc.Int("nl_pid", s.NlPid)
			doc.Int("nl_groups", s.NlGroups)
		}
	default:
		doc.Int("family_nr", int64(s.Family))
	}
}
