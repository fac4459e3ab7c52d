package enrich

import (
	"bytes"
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
)

// coalesce fills m.Coalesced from the event's records as aucoalesce's
// CoalesceMessages, its normalizations and ResolveIDs would, and as
// Auditbeat reads them.
func (e *Enricher) coalesce(m *Model) {
	c := &m.Coalesced
	c.reset()
	ev := m.Event
	recs := ev.Records
	if n := len(recs); n > 0 && recs[n-1].Type == parser.TypeEOE {
		recs = recs[:n-1]
	}
	if len(recs) == 0 || recs[0].Type == parser.TypeUnparsed {
		return
	}
	c.Valid = true
	for i := range recs {
		c.grow()
		c.ok[i] = e.auRecord(m, &recs[i], &c.recs[i], &c.tags[i])
	}
	special, sys := -1, -1
	if len(recs) > 1 {
		for i := range recs {
			if i == 0 && recs[i].Type != parser.TypeSyscall {
				special = 0
				continue
			}
			if recs[i].Type == parser.TypeSyscall {
				sys = i
				break
			}
		}
	}
	// Without a SYSCALL a compound event is an error to aucoalesce
	// (Auditbeat then publishes no ECS fields); we read it as its first
	// record alone.
	if sys < 0 {
		special = -1
	}
	first := 0
	if special < 0 && sys >= 0 {
		first = sys
	}
	c.Type = recs[first].Type
	c.Category = eventCategory(c.Type)
	src := first
	if sys >= 0 {
		src = sys
	}
	e.newEvent(m, src)
	if sys >= 0 {
		for i := range recs {
			switch recs[i].Type {
			case parser.TypeSyscall:
				c.Data.del("items")
			case parser.TypePath:
				c.Paths = append(c.Paths, c.recs[i])
			case parser.TypeSockaddr:
				e.addSockaddr(m, i)
			case parser.TypeExecve:
				e.addExecve(m, i)
			default:
				if !c.ok[i] {
					continue
				}
				for _, kv := range c.recs[i] {
					if c.Data.find(string(kv.key)) < 0 {
						c.Data = append(c.Data, kv)
					}
				}
			}
		}
	}
	e.normalize(m)
	for _, f := range [...]struct {
		key string
		dst *[]byte
	}{{"pid", &c.Proc.PID}, {"ppid", &c.Proc.PPID}, {"proctitle", &c.Proc.Title}, {"comm", &c.Proc.Name}, {"exe", &c.Proc.Exe}, {"cwd", &c.Proc.CWD}} {
		if v, ok := c.Data.get(f.key); ok {
			*f.dst = v
			c.Data.del(f.key)
		}
	}
	e.resolveIDs(m)
}

func (c *Coalesced) reset() {
	fsel, cat, typ, mode := c.File.SELinux[:0], c.ECS.Category[:0], c.ECS.Type[:0], c.mode[:0]
	*c = Coalesced{
		Tags: c.Tags[:0], Data: c.Data[:0], IDs: c.IDs[:0], Names: c.Names[:0], SELinux: c.SELinux[:0],
		Args: c.Args[:0], Paths: c.Paths[:0], recs: c.recs[:0], ok: c.ok[:0], tags: c.tags[:0],
	}
	c.File.SELinux, c.ECS.Category, c.ECS.Type, c.mode = fsel, cat, typ, mode
}

// grow adds a record slot, keeping the buffers of earlier events.
func (c *Coalesced) grow() {
	n := len(c.recs)
	if n < cap(c.recs) {
		c.recs = c.recs[:n+1]
		c.recs[n] = c.recs[n][:0]
	} else {
		c.recs = append(c.recs, nil)
	}
	if n < cap(c.tags) {
		c.tags = c.tags[:n+1]
		c.tags[n] = c.tags[n][:0]
	} else {
		c.tags = append(c.tags, nil)
	}
	c.ok = append(c.ok, false)
}

// newEvent is aucoalesce's newEvent: result, session, actor, tags, the
// ids and SELinux labels of the subject, the rest as data.
func (e *Enricher) newEvent(m *Model, i int) {
	c := &m.Coalesced
	c.Result = unknownBytes
	if !c.ok[i] {
		return
	}
	d := c.recs[i]
	if v, ok := d.get("result"); ok {
		c.Result = v
	}
	if v, ok := d.get("ses"); ok {
		c.Session, c.HasSes = v, true
	}
	c.Summary.ActorPrimary, _ = d.get("auid")
	c.Summary.ActorSecondary, _ = d.get("uid")
	c.Tags = append(c.Tags, c.tags[i]...)
	for _, kv := range d {
		k := kv.key
		switch {
		case string(k) == "result" || string(k) == "ses":
		case bytes.HasSuffix(k, []byte("uid")) || bytes.HasSuffix(k, []byte("gid")):
			c.IDs = append(c.IDs, kv)
		case bytes.HasPrefix(k, []byte("subj_")):
			c.SELinux = append(c.SELinux, auKV{k[5:], kv.orig, kv.val})
		default:
			c.Data = append(c.Data, kv)
		}
	}
}

// addSockaddr: socket_* data, and the address as source (received from)
// or destination (sent to) by the syscall.
func (e *Enricher) addSockaddr(m *Model, i int) {
	c := &m.Coalesced
	if !c.ok[i] {
		return
	}
	sc, ok := c.Data.get("syscall")
	if !ok {
		return
	}
	d := c.recs[i]
	for _, kv := range d {
		k := m.arena.keep(append(append(m.arena.room(7+len(kv.key)), "socket_"...), kv.key...))
		c.Data.set(k, kv.orig, kv.val)
	}
	var a *struct {
		Valid                  bool
		IP, Port, Path, Domain []byte
	}
	switch string(sc) {
	case "recvfrom", "recvmsg", "accept", "accept4":
		a, c.Direction = &c.Source, "ingress"
	case "connect", "sendto", "sendmsg":
		a, c.Direction = &c.Dest, "egress"
	default:
		return
	}
	a.IP, _ = d.get("addr")
	a.Port, _ = d.get("port")
	a.Path, _ = d.get("path")
	a.Valid = len(a.IP) > 0 || len(a.Port) > 0 || len(a.Path) > 0
}

// addExecve: argc into data, and the arguments when every one is there.
func (e *Enricher) addExecve(m *Model, i int) {
	c := &m.Coalesced
	if !c.ok[i] {
		return
	}
	d := c.recs[i]
	argc, ok := d.get("argc")
	if !ok {
		return
	}
	c.Data.set([]byte("argc"), argc, argc)
	n, ok := parseInt(argc)
	if !ok || n < 0 || n > 1<<32-1 {
		return
	}
	start := len(c.Args)
	for a := 0; a < int(n); a++ {
		e.tmp = strconv.AppendInt(append(e.tmp[:0], 'a'), int64(a), 10)
		v, ok := d.get(string(e.tmp))
		if !ok {
			c.Args = c.Args[:start]
			return
		}
		c.Args = append(c.Args, v)
	}
	c.HasArgs = true
}

// getValue is aucoalesce's field lookup: data, then the subject's ids.
func (c *Coalesced) getValue(key string) ([]byte, bool) {
	if v, ok := c.Data.get(key); ok {
		return v, true
	}
	return c.IDs.get(key)
}

// normalize applies go-libaudit's normalization data: action, object,
// actor, how, source address, ECS categorisation and entity mappings.
func (e *Enricher) normalize(m *Model) {
	c := &m.Coalesced
	// How: the exe, else the comm; for interpreters the comm.
	if exe, ok := c.Data.get("exe"); ok {
		c.Summary.How = exe
		for _, p := range []string{"/usr/bin/python", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/perl"} {
			if bytes.HasPrefix(exe, []byte(p)) {
				if comm, ok := c.Data.get("comm"); ok {
					c.Summary.How = comm
				}
				break
			}
		}
	} else if comm, ok := c.Data.get("comm"); ok {
		c.Summary.How = comm
	}
	var sysNorm *normalization
	if sc, ok := c.Data.get("syscall"); ok {
		if sysNorm = syscallNorms[string(sc)]; sysNorm == nil {
			sysNorm = syscallNorms["*"]
		}
	}
	var norm *normalization
	if c.Type == parser.TypeSyscall {
		norm = sysNorm
	} else {
		norms := recordNorms[parser.TypeName(c.Type, nil)]
		switch len(norms) {
		case 0:
		case 1:
			norm = norms[0]
		default:
		next:
			for _, n := range norms {
				for _, f := range n.hasFields {
					if c.Data.find(f) < 0 {
						continue next
					}
				}
				norm = n
			}
		}
	}
	if norm == nil {
		return
	}
	c.ECS.Kind = norm.ecs.kind
	c.ECS.Category = append(c.ECS.Category, norm.ecs.category...)
	c.ECS.Type = append(c.ECS.Type, norm.ecs.typ...)
	if sysNorm != nil && sysNorm != norm {
		c.ECS.Category = append(c.ECS.Category, sysNorm.ecs.category...)
		c.ECS.Type = append(c.ECS.Type, sysNorm.ecs.typ...)
		if string(c.Result) == "fail" {
			c.ECS.Outcome = "failure"
		}
	}
	c.Summary.Action = norm.action
	c.Summary.ObjectType = norm.objectWhat
	switch norm.objectWhat {
	case "file", "filesystem":
		if len(c.Paths) > 0 {
			c.fileObject(renamedTo(m, norm), norm.objectPathIndex)
		}
	case "socket":
		if v, ok := c.Data.get("socket_addr"); ok {
			c.Summary.ObjectPrimary = v
		} else if v, ok := c.Data.get("socket_path"); ok {
			c.Summary.ObjectPrimary = v
		}
		if v, ok := c.Data.get("socket_port"); ok {
			c.Summary.ObjectSecondary = v
		}
	}
	for _, f := range [...]struct {
		keys []string
		dst  *[]byte
	}{{norm.subjectPrimary, &c.Summary.ActorPrimary}, {norm.subjectSecondary, &c.Summary.ActorSecondary},
		{norm.objectPrimary, &c.Summary.ObjectPrimary}, {norm.objectSecondary, &c.Summary.ObjectSecondary},
		{norm.how, &c.Summary.How}} {
		for _, k := range f.keys {
			if v, ok := c.getValue(k); ok {
				*f.dst = v
				break
			}
		}
	}
	if !c.Source.Valid {
		for _, k := range norm.sourceIP {
			if v, ok := c.Data.get(k); ok {
				c.Data.del(k)
				c.Source.Valid, c.Source.IP, c.Source.Port, c.Source.Path = true, v, nil, nil
				c.Direction = "ingress"
				break
			}
		}
	}
	for _, mp := range norm.ecs.mappings {
		var v []byte
		switch mp.from {
		case "subject.primary":
			v = c.Summary.ActorPrimary
		case "subject.secondary":
			v = c.Summary.ActorSecondary
		case "object.primary":
			v = c.Summary.ObjectPrimary
		case "object.secondary":
			v = c.Summary.ObjectSecondary
		default:
			if k, ok := cutPrefix(mp.from, "data."); ok {
				v, _ = c.Data.get(k)
			} else if k, ok := cutPrefix(mp.from, "uid."); ok {
				v, _ = c.IDs.get(k)
			}
		}
		var to *entity
		switch mp.to {
		case "user":
			to = &c.ECS.User
		case "user.effective":
			to = &c.ECS.Effective
		case "user.target":
			to = &c.ECS.Target
		case "user.changes":
			to = &c.ECS.Changes
		case "group":
			to = &c.ECS.Group
		default:
			continue
		}
		to.set(v)
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// set is aucoalesce's ECSEntityData.set: unset ids, numbers as the id,
// anything else as the name.
func (t *entity) set(v []byte) {
	switch string(v) {
	case "", "unset", "4294967295", "-1":
		*t = entity{id: unsetBytes}
		return
	}
	if n, ok := parseInt(v); ok && n >= 0 {
		t.id = v
	} else {
		t.name = v
	}
}

// renamedTo is, for a rename, the PATH record of the new name: the file
// is now there, and a watch on it is what matched. A deliberate
// difference: aucoalesce takes item 2, the old name (sed -i's temporary
// file). -1 for anything else.
func renamedTo(m *Model, norm *normalization) int {
	f := &m.File
	if norm.action != "renamed" || f.Primary < 0 || f.Primary >= len(f.Items) {
		return -1
	}
	want := f.Items[f.Primary].Item
	for i, p := range m.Coalesced.Paths {
		if v, ok := p.get("item"); ok {
			if n, ok := parseInt(v); ok && n == want {
				return i
			}
		}
	}
	return -1
}

// fileObject is aucoalesce's setFileObject: the PATH record at the
// normalization's index (or the first), skipping PARENT and UNKNOWN ones;
// the record at exact when that is not -1.
func (c *Coalesced) fileObject(exact, hint int) {
	idx := 0
	if len(c.Paths) > hint {
		idx = hint
	}
	p := c.Paths[idx]
	for _, q := range c.Paths[idx:] {
		if nt, _ := q.get("nametype"); string(nt) != "PARENT" && string(nt) != "UNKNOWN" {
			p = q
			break
		}
	}
	if exact >= 0 {
		p = c.Paths[exact]
	}
	f := &c.File
	f.Valid = true
	if v, ok := p.get("name"); ok {
		c.Summary.ObjectPrimary, f.Path = v, v
	}
	f.Inode, _ = p.get("inode")
	f.Device, _ = p.get("rdev")
	if v, ok := p.get("mode"); ok {
		if mode, err := strconv.ParseUint(string(v), 8, 64); err == nil {
			// %04o
			c.mode = append(c.mode[:0], "0000"...)
			c.mode = strconv.AppendUint(c.mode, mode&0o7777, 8)
			f.Mode = c.mode[min(len(c.mode)-4, 4):]
			// os.FileMode(mode).IsRegular() is true for any mode the
			// kernel logs (its type bits are not os.FileMode's).
			c.Summary.ObjectType = "file"
		}
	}
	f.UID, _ = p.get("ouid")
	f.GID, _ = p.get("ogid")
	for _, kv := range p {
		if bytes.HasPrefix(kv.key, []byte("obj_")) {
			f.SELinux = append(f.SELinux, auKV{kv.key[4:], kv.orig, kv.val})
		}
	}
}

// resolveIDs is aucoalesce's ResolveIDs with this enricher's names: the
// actor, every id of the subject, the file's owner, the ECS entities.
func (e *Enricher) resolveIDs(m *Model) {
	c := &m.Coalesced
	user := func(id []byte) []byte {
		switch string(id) {
		case "", "unset":
			return nil
		}
		v, ok := parseInt(id)
		if !ok || v < 0 || v > 1<<32-1 {
			return nil
		}
		n := uint64(v)
		if v := logName(m, n, false); v != nil {
			return v
		}
		if s := e.names.User(n); s != "" && s != "unset" {
			return view(s)
		}
		return nil
	}
	group := func(id []byte) []byte {
		v, ok := parseInt(id)
		if !ok || v < 0 || v > 1<<32-1 {
			return nil
		}
		n := uint64(v)
		if v := logName(m, n, true); v != nil {
			return v
		}
		if s := e.names.Group(n); s != "" && s != "unset" {
			return view(s)
		}
		return nil
	}
	if v := user(c.Summary.ActorPrimary); v != nil {
		c.Summary.ActorPrimary = v
	}
	if v := user(c.Summary.ActorSecondary); v != nil {
		c.Summary.ActorSecondary = v
	}
	for _, kv := range c.IDs {
		var n []byte
		if bytes.HasSuffix(kv.key, []byte("uid")) {
			n = user(kv.val)
		} else {
			n = group(kv.val)
		}
		if n != nil {
			c.Names = append(c.Names, auKV{kv.key, n, n})
		}
	}
	if c.File.Valid {
		if len(c.File.UID) > 0 {
			c.File.Owner = user(c.File.UID)
		}
		if len(c.File.GID) > 0 {
			c.File.Group = group(c.File.GID)
		}
	}
	for _, t := range []*entity{&c.ECS.User, &c.ECS.Effective, &c.ECS.Target, &c.ECS.Changes} {
		e.lookupEntity(m, t, user, false)
	}
	e.lookupEntity(m, &c.ECS.Group, group, true)
}

// logName is the name the caller's ids carry for id n (nil: none): the
// log's enriched suffix (UID="root" AUID="alice"), resolved on the host
// that wrote it, before this host's accounts. A deliberate difference: Auditbeat reads the
// kernel, never such a log, and would name the ids of another host's log
// with this host's accounts.
func logName(m *Model, n uint64, group bool) []byte {
	if n == 4294967295 {
		return nil
	}
	for i := range m.Process.IDs {
		id := &m.Process.IDs[i]
		if id.Set && idKeys[i].group == group && uint64(id.N) == n && len(id.Name) > 0 {
			return id.Name
		}
	}
	return nil
}

// lookupEntity completes an entity that has only an id or only a name.
func (e *Enricher) lookupEntity(m *Model, t *entity, byID func([]byte) []byte, isGroup bool) {
	if (len(t.id) == 0) == (len(t.name) == 0) {
		return
	}
	if len(t.id) > 0 {
		t.name = byID(t.id)
		return
	}
	var id uint64
	var ok bool
	if isGroup {
		id, ok = e.names.GroupID(string(t.name))
	} else {
		id, ok = e.names.UserID(string(t.name))
	}
	if ok {
		t.id = m.arena.copy(strconv.AppendUint(e.tmp[:0], id, 10))
	}
}
