package enrich

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
)

// writeECS writes the ECS schema: the document Auditbeat's auditd module
// publishes for the event (m.Coalesced, see coalesce.go), so Elastic's
// dashboards and detection rules work on it, plus what we add beyond it:
// the summary as message and auditd.summary_text, the caller's parent
// and unit, the processes a signal reached (auditd.target), the full
// command line. Deliberate differences from Auditbeat's fields are listed
// in the README (file.path is absolute, file.device is the file's device).
func (e *Enricher) writeECS(m *Model, doc *encode.Document) {
	ev := m.Event
	c := &m.Coalesced
	e.ts = e.appendTime(e.ts[:0], ev.Sec, ev.Msec)
	doc.Trusted("@timestamp", e.ts)
	doc.StrBytes("message", e.sum)
	doc.Object("ecs")
	doc.Str("version", "8.11.0")
	doc.End()

	e.ecsEvent(m, doc)
	e.hostAndKeys(m, doc, "tags")
	e.ecsProcess(m, doc)
	e.ecsUser(m, doc)
	e.ecsFile(m, doc)
	for _, a := range [...]struct {
		key string
		a   *struct {
			Valid                  bool
			IP, Port, Path, Domain []byte
		}
	}{{"source", &c.Source}, {"destination", &c.Dest}} {
		if !a.a.Valid && a.key == "source" {
			// Ours: the peer address of a user-space record
			// (sshd's, PAM's addr=) where Auditbeat's normalization
			// names none, as Elastic's auditd integration does.
			if v, ok := c.Data.get("addr"); ok && c.Type != parser.TypeSyscall && isIP(v) {
				a.a.Valid, a.a.IP = true, v
			}
		}
		if !a.a.Valid {
			continue
		}
		doc.Object(a.key)
		// source.address, destination.address: ECS's raw address, ours.
		switch {
		case len(a.a.IP) > 0:
			doc.StrBytes("address", a.a.IP)
		case len(a.a.Domain) > 0:
			doc.StrBytes("address", a.a.Domain)
		case len(a.a.Path) > 0:
			doc.StrBytes("address", a.a.Path)
		}
		for _, f := range [...]struct {
			k string
			v []byte
		}{{"domain", a.a.Domain}, {"ip", a.a.IP}, {"port", a.a.Port}, {"path", a.a.Path}} {
			if len(f.v) > 0 {
				doc.StrBytes(f.k, f.v)
			}
		}
		doc.End()
	}
	if c.Direction != "" {
		doc.Object("network")
		doc.Str("direction", c.Direction)
		doc.End()
	}
	e.ecsAuditd(m, doc)
}

// ecsEvent writes event.*: Auditbeat's action and categorisation (from
// go-libaudit's normalizations), ours where it has none.
func (e *Enricher) ecsEvent(m *Model, doc *encode.Document) {
	c, ev := &m.Coalesced, m.Event
	doc.Object("event")
	doc.Str("kind", "event")
	doc.Str("module", "auditd")
	action := c.Summary.Action
	if action == "" && m.Action != ActionUnknown {
		action = m.Action
	}
	if action != "" {
		doc.Str("action", action)
	}
	outcome := m.Outcome.String()
	switch {
	case c.ECS.Outcome != "":
		outcome = c.ECS.Outcome
	case c.Valid && string(c.Result) == "fail":
		outcome = "failure"
	case c.Valid:
		outcome = string(c.Result)
	}
	doc.Str("outcome", outcome)
	switch {
	case len(c.ECS.Category) > 0:
		writeStrings(doc, "category", c.ECS.Category)
		if len(c.ECS.Type) > 0 {
			writeStrings(doc, "type", c.ECS.Type)
		}
	case c.Valid:
		doc.Array("category")
		doc.Str("", c.Category)
		doc.End()
	}
	e.tmp = appendID(e.tmp[:0], ev)
	doc.StrBytes("id", e.tmp)
	if e.cfg.Full {
		doc.Uint("sequence", uint64(ev.Serial)) // auditd.sequence, as Auditbeat
	}
	if ev.Late {
		doc.Bool("late", true)
	}
	doc.End()
}

// isIP reports whether b reads as an IPv4 or IPv6 address.
func isIP(b []byte) bool {
	if len(b) < 2 || len(b) > 45 {
		return false
	}
	var dots, colons int
	for _, ch := range b {
		switch {
		case ch == '.':
			dots++
		case ch == ':':
			colons++
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f', ch >= 'A' && ch <= 'F':
		default:
			return false
		}
	}
	if colons > 0 {
		return colons >= 2
	}
	if dots != 3 {
		return false
	}
	for part := range bytes.SplitSeq(b, []byte{'.'}) {
		n, err := strconv.Atoi(string(part))
		if err != nil || n > 255 || len(part) == 0 || len(part) > 3 {
			return false
		}
	}
	return true
}

func writeStrings(doc *encode.Document, key string, v []string) {
	doc.Array(key)
	for _, s := range v {
		doc.Str("", s)
	}
	doc.End()
}

// ecsProcess writes process.*: Auditbeat's pid, parent pid, title, name,
// executable, working directory and EXECVE arguments; our command line,
// the parent's name, executable and command line, the systemd unit; and
// container.id.
func (e *Enricher) ecsProcess(m *Model, doc *encode.Document) {
	c, p := &m.Coalesced, &m.Process
	doc.Object("process")
	if pid, err := strconv.Atoi(string(c.Proc.PID)); err == nil {
		doc.Int("pid", int64(pid))
	} else if p.PID > 0 {
		doc.Int("pid", p.PID)
	}
	for _, f := range [...]struct {
		key string
		v   []byte
	}{{"title", c.Proc.Title}, {"name", c.Proc.Name}, {"executable", c.Proc.Exe}, {"working_directory", c.Proc.CWD}} {
		if len(f.v) > 0 {
			doc.StrBytes(f.key, f.v)
		}
	}
	switch {
	case c.HasArgs:
		doc.Array("args")
		for _, a := range c.Args {
			doc.StrBytes("", a)
		}
		doc.End()
		if a := m.Exec.Args; m.Exec.Valid && a.Len() > 0 && e.cfg.Full {
			e.tmp = e.tmp[:0]
			for i := 0; i < a.Len(); i++ {
				if i > 0 {
					e.tmp = append(e.tmp, ' ')
				}
				e.tmp = append(e.tmp, a.Arg(i)...)
			}
			doc.StrBytes("command_line", e.tmp)
		}
	case m.Exec.Valid && m.Exec.Args.Len() > 0:
		// EXECVE arguments aucoalesce could not read (split or missing):
		// ours, reassembled.
		a := m.Exec.Args
		doc.Array("args")
		e.tmp = e.tmp[:0]
		for i := 0; i < a.Len(); i++ {
			doc.StrBytes("", a.Arg(i))
			if i > 0 {
				e.tmp = append(e.tmp, ' ')
			}
			e.tmp = append(e.tmp, a.Arg(i)...)
		}
		doc.End()
		if e.cfg.Full {
			doc.StrBytes("command_line", e.tmp)
		}
	case len(p.Argv) > 0:
		// Not an exec: ECS's command_line (Auditbeat writes no args
		// here); the array only in the full form.
		if e.cfg.Full {
			writeArgs(doc, "args", p.Argv)
		}
		e.writeCmdline(doc, "command_line", p.Argv)
	}
	// process.args_count, ours: the exec's argc (its arguments can be
	// fewer when the kernel could not log them all).
	if a := m.Exec.Args; m.Exec.Valid && a.Argc >= 0 {
		doc.Int("args_count", int64(a.Argc))
	}
	ppid, err := strconv.Atoi(string(c.Proc.PPID))
	if err != nil && p.PPID > 0 {
		ppid, err = int(p.PPID), nil
	}
	if err == nil || m.Parent != nil {
		doc.Object("parent")
		if err == nil {
			doc.Int("pid", int64(ppid))
		}
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
	}
	k := p.Known
	if k != nil && k.Unit != "" {
		doc.Object("systemd")
		doc.Str("unit", k.Unit)
		doc.End()
	}
	doc.End()
	e.ecsContainer(doc, k)
}

// ecsPerson is one user (or group) of user.*: id and name.
type ecsPerson struct{ id, name []byte }

// ecsUsers is user.* and group.* as Auditbeat builds them: the subject's
// ids by kind, then the ECS entities of the normalization over them.
type ecsUsers struct {
	user, group, eff, effGroup, saved, savedGroup, fs, fsGroup, audit ecsPerson
	target, changes, topGroup                                         ecsPerson
	hasEff                                                            bool
	others                                                            []auKV // other ids: key, id (val); names below
	otherNames                                                        []auKV
}

// slot is where an id key of the subject goes in user.*.
func (u *ecsUsers) slot(key []byte) *ecsPerson {
	switch string(key) {
	case "uid":
		return &u.user
	case "gid":
		return &u.group
	case "euid":
		return &u.eff
	case "egid":
		return &u.effGroup
	case "suid":
		return &u.saved
	case "sgid":
		return &u.savedGroup
	case "fsuid":
		return &u.fs
	case "fsgid":
		return &u.fsGroup
	case "auid":
		return &u.audit
	}
	return nil
}

// ecsUser writes user.*, group.* and related.user.
func (e *Enricher) ecsUser(m *Model, doc *encode.Document) {
	c := &m.Coalesced
	if !c.Valid {
		return
	}
	u := &e.users
	*u = ecsUsers{others: u.others[:0], otherNames: u.otherNames[:0]}
	for _, kv := range c.IDs {
		if string(kv.val) == "unset" {
			continue
		}
		if s := u.slot(kv.key); s != nil {
			s.id = kv.val
		} else {
			u.others = append(u.others, kv)
		}
	}
	for _, kv := range c.Names {
		if s := u.slot(kv.key); s != nil {
			s.name = kv.val
		} else {
			u.otherNames = append(u.otherNames, kv)
		}
	}
	// The normalization's entities replace what the ids said.
	apply := func(dst *ecsPerson, t entity) bool {
		if len(t.id) == 0 && len(t.name) == 0 {
			return false
		}
		id := t.id
		if string(id) == "unset" {
			id = nil
		}
		dst.id, dst.name = id, t.name
		return true
	}
	apply(&u.user, c.ECS.User)
	apply(&u.eff, c.ECS.Effective)
	apply(&u.target, c.ECS.Target)
	apply(&u.changes, c.ECS.Changes)
	apply(&u.topGroup, c.ECS.Group)
	// related.user: the names of the entities.
	e.related = e.related[:0]
	for _, t := range []entity{c.ECS.User, c.ECS.Effective, c.ECS.Target, c.ECS.Changes} {
		if len(t.name) > 0 && !slices.ContainsFunc(e.related, func(b []byte) bool { return bytes.Equal(b, t.name) }) {
			e.related = append(e.related, t.name)
		}
	}
	// A user.effective equal to user says nothing more.
	if (len(u.user.id) > 0 && bytes.Equal(u.user.id, u.eff.id)) || (len(u.user.name) > 0 && bytes.Equal(u.user.name, u.eff.name)) {
		u.eff, u.effGroup = ecsPerson{}, ecsPerson{}
	}

	doc.Object("user")
	writePerson(doc, &u.user)
	if t, ok := c.Data.get("terminal"); ok && len(t) > 0 && string(t) != "?" && string(t) != "(none)" {
		// Ours, as Elastic's auditd integration maps terminal=.
		doc.StrBytes("terminal", t)
	}
	for _, sub := range [...]struct {
		key       string
		p, groupP *ecsPerson
	}{{"audit", &u.audit, nil}, {"effective", &u.eff, &u.effGroup}, {"saved", &u.saved, &u.savedGroup},
		{"filesystem", &u.fs, &u.fsGroup}, {"target", &u.target, nil}, {"changes", &u.changes, nil}} {
		doc.Object(sub.key)
		writePerson(doc, sub.p)
		if sub.groupP != nil {
			doc.Object("group")
			writePerson(doc, sub.groupP)
			doc.End()
		}
		doc.End()
	}
	doc.Object("group")
	writePerson(doc, &u.group)
	doc.End()
	for _, kv := range u.others {
		doc.Object(e.internKey(kv.key))
		doc.StrBytes("id", kv.val)
		for _, n := range u.otherNames {
			if bytes.Equal(n.key, kv.key) {
				doc.StrBytes("name", n.val)
			}
		}
		doc.End()
	}
	if len(c.SELinux) > 0 {
		doc.Object("selinux")
		writeAuMap(doc, c.SELinux, e)
		doc.End()
	}
	doc.End()
	if len(u.topGroup.id) > 0 || len(u.topGroup.name) > 0 {
		doc.Object("group")
		writePerson(doc, &u.topGroup)
		doc.End()
	}
	if len(e.related) > 0 {
		slices.SortFunc(e.related, bytes.Compare)
		doc.Object("related")
		doc.Array("user")
		for _, n := range e.related {
			doc.StrBytes("", n)
		}
		doc.End()
		doc.End()
	}
}

func writePerson(doc *encode.Document, p *ecsPerson) {
	if len(p.id) > 0 {
		doc.StrBytes("id", p.id)
	}
	if len(p.name) > 0 {
		doc.StrBytes("name", p.name)
	}
}

// writeAuMap writes key/values as strings (keys made safe).
func writeAuMap(doc *encode.Document, kvs auMap, e *Enricher) {
	for _, kv := range kvs {
		doc.StrBytes(e.internKey(kv.key), kv.val)
	}
}

// ecsFile writes file.*: the PATH record Auditbeat picks, with the path
// resolved against the CWD and the file's own device (Auditbeat gives the
// name as logged, relative or not, and rdev).
func (e *Enricher) ecsFile(m *Model, doc *encode.Document) {
	c := &m.Coalesced
	if !c.File.Valid {
		return
	}
	f := &c.File
	path, dev, name := f.Path, f.Device, []byte(nil)
	typ := ""
	for i := range m.File.Items {
		it := &m.File.Items[i]
		if bytes.Equal(it.Name, f.Path) && it.HasInode && string(it.InodeRaw) == string(f.Inode) {
			if it.Path != nil {
				path = it.Path
			}
			if it.Dev != nil {
				dev = it.Dev
			}
			name = base(it.Name)
			if it.HasMode {
				if typ = modeType(it.Mode); typ == "link" {
					typ = "symlink"
				}
			}
			break
		}
	}
	doc.Object("file")
	for _, kv := range [...]struct {
		k string
		v []byte
	}{{"path", path}, {"name", name}, {"device", dev}, {"inode", f.Inode}, {"mode", f.Mode},
		{"uid", f.UID}, {"gid", f.GID}, {"owner", f.Owner}, {"group", f.Group}} {
		if len(kv.v) > 0 {
			doc.StrBytes(kv.k, kv.v)
		}
	}
	if typ != "" {
		doc.Str("type", typ)
	}
	if len(f.SELinux) > 0 {
		doc.Object("selinux")
		writeAuMap(doc, f.SELinux, e)
		doc.End()
	}
	doc.End()
}

// ecsAuditd writes auditd.*: Auditbeat's message type, sequence, result,
// session, data, summary and paths, and ours: the summary text, the
// targets of a signal, the raw records.
func (e *Enricher) ecsAuditd(m *Model, doc *encode.Document) {
	c, ev := &m.Coalesced, m.Event
	doc.Object("auditd")
	typ := ev.Records[0].Type
	if c.Valid {
		typ = c.Type
	}
	doc.Str("message_type", lowerNameOf(typ, ev))
	doc.Uint("sequence", uint64(ev.Serial))
	if c.Valid {
		doc.StrBytes("result", c.Result)
		if string(c.Session) != "unset" {
			doc.StrBytes("session", c.Session)
		}
	} else {
		doc.Str("result", outcomes[m.Outcome].ecsResult)
	}
	if e.cfg.Full {
		doc.StrBytes("summary_text", e.sum) // message holds it
	}
	s := &c.Summary
	doc.Object("summary")
	doc.Object("actor")
	if len(s.ActorPrimary) > 0 {
		doc.StrBytes("primary", s.ActorPrimary)
	}
	if len(s.ActorSecondary) > 0 {
		doc.StrBytes("secondary", s.ActorSecondary)
	}
	doc.End()
	doc.Object("object")
	if s.ObjectType != "" {
		doc.Str("type", s.ObjectType)
	}
	if t := &m.Target; len(s.ObjectPrimary) == 0 && len(s.ObjectSecondary) == 0 && m.Kind == KindKill && len(t.Processes) == 1 {
		// A deliberate difference: aucoalesce names no object of a
		// signal; ours is the target pid and its comm.
		var nb [20]byte
		doc.StrBytes("primary", strconv.AppendInt(nb[:0], t.Processes[0].PID, 10))
		if t.Processes[0].HasComm {
			doc.StrBytes("secondary", t.Processes[0].Comm)
		}
	} else {
		if len(s.ObjectPrimary) > 0 {
			doc.StrBytes("primary", s.ObjectPrimary)
		}
		if len(s.ObjectSecondary) > 0 {
			doc.StrBytes("secondary", s.ObjectSecondary)
		}
	}
	doc.End()
	if len(s.How) > 0 {
		doc.StrBytes("how", s.How)
	}
	doc.End()
	if len(c.Data) > 0 || m.Signal.Has {
		doc.Object("data")
		sockets := false
		for _, kv := range c.Data {
			if bytes.HasPrefix(kv.key, []byte("socket_")) {
				sockets = true
				continue
			}
			if string(kv.key) == "socket" && sockets {
				continue
			}
			doc.StrBytes(e.internKey(kv.key), kv.val)
		}
		if sockets {
			doc.Object("socket")
			for _, kv := range c.Data {
				if k, ok := bytes.CutPrefix(kv.key, []byte("socket_")); ok {
					doc.StrBytes(e.internKey(k), kv.val)
				}
			}
			doc.End()
		}
		if m.Signal.Has && c.Data.find("signal") < 0 {
			if n := signalName(m.Signal.Nr); n != "" {
				doc.Str("signal", n)
			}
		}
		doc.End()
	}
	if len(c.Paths) > 0 {
		doc.Array("paths")
		for _, p := range c.Paths {
			doc.Object("")
			writeAuMap(doc, p, e)
			doc.End()
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
	if e.cfg.Raw {
		writeRaw(ev, doc)
	}
	doc.End()
}

// lowerNameOf is the lower-case name of a record type of ev.
func lowerNameOf(typ uint16, ev *parser.Event) string {
	for i := range ev.Records {
		if ev.Records[i].Type == typ {
			return lowerTypeName(&ev.Records[i])
		}
	}
	return lowerTypeName(&ev.Records[0])
}
