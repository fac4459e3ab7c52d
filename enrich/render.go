package enrich

import (
	"strconv"
	"strings"

	"github.com/whokilledit/linuxaudit/parser"
)

// classify sets kind, category, action and outcome.
func (e *Enricher) classify(v *view) {
	switch v.success {
	case 1:
		v.outcome = "success"
	case 0:
		v.outcome = "failure"
	default:
		v.outcome = "unknown"
	}
	if v.sys == nil {
		if len(v.ev.Records) == 0 {
			v.kind, v.action = "other", "unknown"
			return
		}
		r := &v.ev.Records[0]
		v.kind, v.category, v.action = userKind(r.Type)
		if res, ok := r.Value("res"); ok {
			switch string(res) {
			case "success", "1", "yes":
				v.outcome = "success"
			case "failed", "0", "no":
				v.outcome = "failure"
			}
		}
		return
	}
	switch {
	case v.family != "":
		v.kind, v.category, v.action = "kill", "process", "killed-pid"
	case v.execve || v.syscall == "execve" || v.syscall == "execveat":
		v.kind, v.category, v.action = "exec", "process", "executed"
		v.hasArgs = v.execve && v.ev.ExecveArgs(&e.args)
	case v.ev.Has(parser.TypeConfigChange):
		v.kind, v.category, v.action = "config", "configuration", "changed-audit-configuration"
	case e.fileEvent(v):
		v.kind, v.category, v.action = "file", "file", fileAction(v.file.op)
	default:
		v.kind, v.category, v.action = "syscall", "process", v.syscall
		if v.action == "" {
			v.action = "syscall"
		}
	}
}

// userKind classifies a record without SYSCALL (user space, daemon, config).
func userKind(t uint16) (kind, category, action string) {
	switch parser.TypeName(t, nil) {
	case "USER_AUTH":
		return "user", "authentication", "authenticated"
	case "USER_ACCT":
		return "user", "authentication", "was-authorized"
	case "USER_START":
		return "user", "session", "started-session"
	case "USER_END":
		return "user", "session", "ended-session"
	case "USER_LOGIN":
		return "user", "authentication", "logged-in"
	case "USER_LOGOUT":
		return "user", "authentication", "logged-out"
	case "CRED_ACQ":
		return "user", "authentication", "acquired-credentials"
	case "CRED_DISP":
		return "user", "authentication", "disposed-credentials"
	case "CRED_REFR":
		return "user", "authentication", "refreshed-credentials"
	case "USER_CMD":
		return "user", "process", "ran-command"
	case "USER_ERR":
		return "user", "authentication", "error"
	case "CONFIG_CHANGE":
		return "config", "configuration", "changed-audit-configuration"
	case "DAEMON_START":
		return "daemon", "process", "started-audit"
	case "DAEMON_END":
		return "daemon", "process", "stopped-audit"
	case "DAEMON_ROTATE":
		return "daemon", "process", "rotated-audit-logs"
	case "SERVICE_START":
		return "service", "process", "started-service"
	case "SERVICE_STOP":
		return "service", "process", "stopped-service"
	case "ANOM_ABEND":
		return "anomaly", "process", "crashed-program"
	case "LOGIN":
		return "user", "authentication", "changed-login-id-to"
	}
	return "other", "", "unknown"
}

// render writes the default schema.
func (e *Enricher) render(v *view, doc *Document) {
	ev := v.ev
	e.ts = e.appendTime(e.ts[:0], ev.Sec, ev.Msec)
	doc.strTrusted("@timestamp", e.ts)
	doc.StrBytes("summary", e.sum)

	doc.Object("event")
	e.tmp = appendID(e.tmp[:0], ev)
	doc.StrBytes("id", e.tmp)
	if n := ev.Node(); len(n) > 0 {
		doc.StrBytes("node", n)
	}
	doc.Int("time", ev.Sec)
	doc.Int("msec", int64(ev.Msec))
	doc.Uint("serial", uint64(ev.Serial))
	doc.Str("kind", v.kind)
	if v.category != "" {
		doc.Str("category", v.category)
	}
	doc.Str("action", v.action)
	doc.Str("outcome", v.outcome)
	doc.Array("records")
	for i := range ev.Records {
		doc.Str("", ev.Records[i].Name())
	}
	doc.End()
	if !ev.Reason.Complete() {
		doc.Bool("complete", false)
		doc.Str("closed_by", ev.Reason.String())
	}
	if ev.Dropped > 0 {
		doc.Int("dropped_records", int64(ev.Dropped))
	}
	doc.End()

	e.hostAndKeys(v, doc, "key")

	if v.sys != nil {
		e.renderSyscall(v, doc)
		e.renderProcess(v, doc)
	}
	switch v.kind {
	case "kill":
		e.renderKill(v, doc)
	case "file":
		e.renderFile(v, doc)
	}
	if v.execve {
		e.renderExec(v, doc)
	}
	e.renderOthers(v, doc)
	if e.cfg.Raw {
		doc.Array("raw")
		for i := range ev.Records {
			doc.StrBytes("", ev.Records[i].Line)
		}
		doc.End()
	}
}

// hostAndKeys writes host.name (the log's node=, else the configured host
// name) and the audit keys as an array under keysField.
func (e *Enricher) hostAndKeys(v *view, doc *Document, keysField string) {
	if n := v.ev.Node(); len(n) > 0 {
		doc.Object("host")
		doc.StrBytes("name", n)
		doc.End()
	} else if e.cfg.Hostname != "" {
		doc.Object("host")
		doc.Str("name", e.cfg.Hostname)
		doc.End()
	}
	if len(v.keys) > 0 {
		doc.Array(keysField)
		for _, k := range v.keys {
			doc.StrBytes("", v.keyBuf[k[0]:k[1]])
		}
		doc.End()
	}
}

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

func (e *Enricher) renderSyscall(v *view, doc *Document) {
	r := v.sys
	doc.Object("syscall")
	if v.archName != "" {
		doc.Str("arch", v.archName)
	} else if a, ok := r.Value("arch"); ok {
		doc.StrBytes("arch", a)
	}
	doc.Int("nr", v.nr)
	if v.syscall != "" {
		doc.Str("name", v.syscall)
	}
	if v.success >= 0 {
		doc.Bool("success", v.success == 1)
	}
	if v.hasExit {
		doc.Int("exit", v.exit)
		if v.errno != "" {
			doc.Str("errno", v.errno)
		}
	}
	for i, k := range [4]string{"a0", "a1", "a2", "a3"} {
		if v.hasA[i] {
			doc.Uint(k, v.a[i])
		}
	}
	if n, ok := fieldInt(r, "items"); ok {
		doc.Int("items", n)
	}
	doc.End()
}

// renderProcess writes the caller with its parent and ancestors.
func (e *Enricher) renderProcess(v *view, doc *Document) {
	r := v.sys
	doc.Object("process")
	doc.Int("pid", v.pid)
	doc.Int("ppid", v.ppid)
	if v.comm != nil {
		doc.StrBytes("comm", v.comm)
	}
	if v.exe != nil {
		doc.StrBytes("exe", v.exe)
	}
	argv := v.argv
	var p *procInfo
	if v.pid > 0 {
		p = e.procs.get(v.pid)
	}
	if len(argv) == 0 && p != nil {
		argv = p.argv
	}
	if len(argv) > 0 {
		e.writeArgv(doc, argv)
		if len(v.argv) > 0 && v.staleTitle() {
			// The kernel caches a task's PROCTITLE at its first audited
			// event and keeps it across execve: trust comm and exe.
			doc.Bool("cmdline_stale", true)
		}
	}
	if v.cwd != nil {
		doc.StrBytes("cwd", v.cwd)
	}
	// One pass over the fields, in the kernel's order.
	for _, f := range r.Fields {
		if f.Depth != 0 {
			continue
		}
		var k string
		switch string(r.Bytes(f.Key)) {
		case "uid":
			k = "uid"
		case "auid":
			k = "auid"
		case "euid":
			k = "euid"
		case "suid":
			k = "suid"
		case "fsuid":
			k = "fsuid"
		case "gid":
			k = "gid"
		case "egid":
			k = "egid"
		case "sgid":
			k = "sgid"
		case "fsgid":
			k = "fsgid"
		case "tty":
			doc.StrBytes("tty", r.Bytes(f.Val))
			continue
		case "subj":
			doc.StrBytes("subj", r.Bytes(f.Val))
			continue
		case "ses":
			if s, ok := parseInt(r.Bytes(f.Val)); ok && s != unsetID && s != -1 {
				doc.Int("ses", s)
			}
			continue
		default:
			continue
		}
		if n, ok := parseInt(r.Bytes(f.Val)); ok {
			e.idPair(doc, r, k, *fieldClasses[k].id, n)
		}
	}
	if p != nil {
		if p.unit != "" {
			doc.Str("unit", p.unit)
		}
		if p.container != "" {
			doc.Str("container", p.container)
		}
	}
	if v.ppid > 0 {
		pp := e.procs.get(v.ppid)
		doc.Object("parent")
		doc.Int("pid", v.ppid)
		if pp != nil {
			e.procFields(doc, pp)
		}
		doc.End()
		if e.cfg.AncestryDepth > 0 && pp != nil {
			doc.Array("ancestors")
			seen := 0
			for a := pp; a != nil && a.ppid > 0 && seen < e.cfg.AncestryDepth; seen++ {
				next := e.procs.get(a.ppid)
				doc.Object("")
				doc.Int("pid", a.ppid)
				if next != nil {
					e.procFields(doc, next)
				}
				doc.End()
				if next == nil || next.pid == a.pid {
					break
				}
				a = next
			}
			doc.End()
		}
	}
	doc.End()
}

// procFields writes what the process table knows of a process.
func (e *Enricher) procFields(doc *Document, p *procInfo) {
	if p.ppid > 0 {
		doc.Int("ppid", p.ppid)
	}
	if p.comm != "" {
		doc.Str("comm", p.comm)
	}
	if p.exe != "" {
		doc.Str("exe", p.exe)
	}
	if len(p.argv) > 0 {
		e.scratch = append(e.scratch[:0], p.argv...)
		doc.StrBytes("cmdline", joinArgv(e.scratch))
	}
	if p.uid >= 0 {
		doc.Int("uid", p.uid)
		if s := e.ids.user(uint64(p.uid)); s != "" {
			doc.Str("user", s)
		}
	}
	if p.unit != "" {
		doc.Str("unit", p.unit)
	}
	if p.container != "" {
		doc.Str("container", p.container)
	}
	if p.exited != 0 {
		doc.Bool("exited", true)
	}
}

// writeArgv writes cmdline (joined) and args (array) from a NUL separated
// argv.
func (e *Enricher) writeArgv(doc *Document, argv []byte) {
	e.scratch = append(e.scratch[:0], argv...)
	doc.StrBytes("cmdline", joinArgv(e.scratch))
	doc.Array("args")
	s := 0
	for i := 0; i <= len(argv); i++ {
		if i == len(argv) || argv[i] == 0 {
			doc.StrBytes("", argv[s:i])
			s = i + 1
		}
	}
	doc.End()
}

func (e *Enricher) renderKill(v *view, doc *Document) {
	doc.Object("signal")
	if v.hasSig {
		doc.Int("nr", v.sig)
		if n := signalName(v.sig); n != "" {
			doc.Str("name", n)
		}
	}
	doc.Str("syscall", v.family)
	doc.End()
	doc.Object("target")
	if v.hasTarget {
		doc.Int("pid_arg", v.targetArg)
	}
	if v.scope != "" {
		doc.Str("scope", v.scope)
	}
	if v.scope == "process_group" {
		doc.Int("pgid", -v.targetArg)
	}
	doc.Int("count", int64(len(v.objs)))
	if len(v.objs) > 0 {
		// The first target flattened, for queries that cannot look into
		// arrays (LogQL | json); every target is in processes.
		doc.Object("first")
		e.objFields(doc, v.objs[0])
		doc.End()
	}
	doc.Array("processes")
	for _, o := range v.objs {
		doc.Object("")
		e.objFields(doc, o)
		doc.End()
	}
	doc.End()
	doc.End()
}

// objFields writes one OBJ_PID target with what the process table knows.
func (e *Enricher) objFields(doc *Document, o *parser.Record) {
	pid, _ := fieldInt(o, "opid")
	doc.Int("pid", pid)
	if f, ok := o.Field("ocomm"); ok {
		e.scratch, _ = o.Untrusted(e.scratch[:0], f)
		doc.StrBytes("comm", e.scratch)
	}
	for _, k := range [...][3]string{{"ouid", "uid", "user"}, {"oauid", "auid", "auser"}} {
		if n, ok := fieldInt(o, k[0]); ok {
			e.idPair(doc, o, k[1], idField{idFields[k[0]].upper, k[2], false}, n)
		}
	}
	if s, ok := fieldInt(o, "oses"); ok && s != unsetID && s != -1 {
		doc.Int("ses", s)
	}
	if s, ok := o.Value("obj"); ok {
		doc.StrBytes("obj", s)
	}
	if p := e.procs.get(pid); p != nil {
		if p.ppid > 0 {
			doc.Int("ppid", p.ppid)
		}
		if p.exe != "" {
			doc.Str("exe", p.exe)
		}
		if len(p.argv) > 0 {
			e.scratch = append(e.scratch[:0], p.argv...)
			doc.StrBytes("cmdline", joinArgv(e.scratch))
		}
		if p.unit != "" {
			doc.Str("unit", p.unit)
		}
		if p.container != "" {
			doc.Str("container", p.container)
		}
	}
}

func (e *Enricher) renderExec(v *view, doc *Document) {
	if !v.hasArgs {
		return
	}
	doc.Object("exec")
	if e.args.Argc >= 0 {
		doc.Int("argc", int64(e.args.Argc))
	}
	doc.Array("args")
	for i := 0; i < e.args.Len(); i++ {
		doc.StrBytes("", e.args.Arg(i))
	}
	doc.End()
	if e.args.Missing > 0 {
		doc.Int("missing_args", int64(e.args.Missing))
	}
	doc.End()
}

func (e *Enricher) renderFile(v *view, doc *Document) {
	f := &v.file
	doc.Object("file")
	doc.Str("operation", f.op)
	if f.flags[1] > 0 {
		doc.StrBytes("flags", f.buf[f.flags[0]:f.flags[1]])
	}
	if f.primary >= 0 {
		e.fileItemFields(doc, f, &f.items[f.primary])
	}
	if f.from >= 0 {
		it := &f.items[f.from]
		if it.resolved {
			doc.StrBytes("from", f.buf[it.path[0]:it.path[1]])
		} else if it.name[1] > it.name[0] {
			doc.StrBytes("from_name", f.buf[it.name[0]:it.name[1]])
		}
	}
	if f.target >= 0 {
		it := &f.items[f.target]
		doc.StrBytes("link_target", f.buf[it.name[0]:it.name[1]])
	}
	if f.replaced >= 0 {
		it := &f.items[f.replaced]
		if n, ok := fieldInt(it.rec, "inode"); ok {
			doc.Int("replaced_inode", n)
		}
	}
	if f.hasMode {
		e.tmp = appendOctal(e.tmp[:0], f.newMode)
		doc.strTrusted("new_mode", e.tmp)
	}
	if f.hasOwner {
		doc.Int("new_uid", f.newUID)
		if s := e.ids.user(uint64(uint32(f.newUID))); s != "" && f.newUID >= 0 {
			doc.Str("new_user", s)
		}
		doc.Int("new_gid", f.newGID)
		if s := e.ids.group(uint64(uint32(f.newGID))); s != "" && f.newGID >= 0 {
			doc.Str("new_group", s)
		}
	}
	if f.hasFD {
		doc.Int("fd", f.fd)
	}
	if len(f.items) > 1 || (len(f.items) == 1 && f.primary < 0) {
		doc.Array("items")
		for i := range f.items {
			doc.Object("")
			e.fileItemFields(doc, f, &f.items[i])
			doc.End()
		}
		doc.End()
	}
	doc.End()
}

func (e *Enricher) fileItemFields(doc *Document, f *fileOp, it *fileItem) {
	if it.resolved {
		doc.StrBytes("path", f.buf[it.path[0]:it.path[1]])
	}
	if it.name[1] > it.name[0] {
		doc.StrBytes("name", f.buf[it.name[0]:it.name[1]])
	}
	if !it.resolved && it.name[1] > it.name[0] {
		if it.dirfd != atFDCWD {
			doc.Int("dirfd", it.dirfd)
			doc.Str("unresolved", "relative to a directory file descriptor; its path is not in the log")
		} else {
			doc.Str("unresolved", "relative name without a CWD record")
		}
	}
	doc.Int("item", it.item)
	doc.Str("nametype", it.nametype)
	r := it.rec
	if n, ok := fieldInt(r, "inode"); ok {
		doc.Int("inode", n)
	}
	if d, ok := r.Value("dev"); ok {
		doc.StrBytes("dev", d)
	}
	if m, ok := r.Value("mode"); ok {
		if mv, err := strconv.ParseUint(string(m), 8, 32); err == nil {
			doc.StrBytes("mode", m)
			if t := modeType(mv); t != "" {
				doc.Str("type", t)
			}
			e.tmp = appendOctal(e.tmp[:0], mv&0o7777)
			doc.strTrusted("perm", e.tmp)
		}
	}
	for _, k := range [...]string{"ouid", "ogid"} {
		if n, ok := fieldInt(r, k); ok {
			e.idPair(doc, r, k, idFields[k], n)
		}
	}
	if o, ok := r.Value("obj"); ok {
		doc.StrBytes("obj", o)
	}
}

// renderOthers writes every record not rendered above, decoded field by
// field, under data.<type> (an array when the type repeats).
func (e *Enricher) renderOthers(v *view, doc *Document) {
	ev := v.ev
	opened := false
	other := func(r *parser.Record) bool {
		switch r.Type {
		case parser.TypeSyscall:
			return r != v.sys
		case parser.TypeObjPid, parser.TypeProctitle, parser.TypeEOE, parser.TypeExecve, parser.TypeCwd:
			return false
		case parser.TypePath:
			return v.kind != "file"
		}
		return true
	}
	for i := range ev.Records {
		r := &ev.Records[i]
		if !other(r) {
			continue
		}
		dup, n := false, 0
		for j := range ev.Records {
			q := &ev.Records[j]
			if q.Type == r.Type && q.Type != 0 && other(q) || q == r {
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
			doc.Object(lowerTypeName(r))
			e.recordFields(doc, r)
			doc.End()
			continue
		}
		doc.Array(lowerTypeName(r))
		for j := i; j < len(ev.Records); j++ {
			if q := &ev.Records[j]; q.Type == r.Type && other(q) {
				doc.Object("")
				e.recordFields(doc, q)
				doc.End()
			}
		}
		doc.End()
	}
	if opened {
		doc.End()
	}
}

func (e *Enricher) recordFields(doc *Document, r *parser.Record) {
	if r.Type == parser.TypeSockaddr {
		e.sockaddr(doc, r)
	}
	for _, f := range r.Fields {
		k := r.Bytes(f.Key)
		if f.Kind == parser.Text {
			doc.StrBytes("text", r.Bytes(f.Val))
			continue
		}
		if f.Kind == parser.Nested || len(k) == 0 {
			continue
		}
		e.value(doc, r, f)
	}
}

var lowerNames = func() (m [3000]string) {
	for t := 1000; t < 3000; t++ {
		n := parser.TypeName(uint16(t), nil)
		if len(n) == 0 || n[0] == 'U' && len(n) > 8 && n[:8] == "UNKNOWN[" {
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
