package enrich

import (
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
)

// renderECS writes the ECS schema: the field names of Elastic's auditd
// integration (Auditbeat's auditd module), so its dashboards and detection
// rules work, plus auditd.target for the processes a kill reached and
// auditd.summary_text for the one-line summary.
func (e *Enricher) renderECS(v *view, doc *Document) {
	ev := v.ev
	e.ts = e.appendTime(e.ts[:0], ev.Sec, ev.Msec)
	doc.strTrusted("@timestamp", e.ts)
	doc.StrBytes("message", e.sum)
	doc.Object("ecs")
	doc.Str("version", "8.11.0")
	doc.End()

	doc.Object("event")
	doc.Str("kind", "event")
	doc.Str("module", "auditd")
	doc.Str("action", v.action)
	doc.Str("outcome", v.outcome)
	cat, typ := ecsCategory(v)
	doc.Array("category")
	doc.Str("", cat)
	doc.End()
	doc.Array("type")
	doc.Str("", typ)
	doc.End()
	e.tmp = appendID(e.tmp[:0], ev)
	doc.StrBytes("id", e.tmp)
	doc.Uint("sequence", uint64(ev.Serial))
	doc.End()

	e.hostAndKeys(v, doc, "tags")

	if v.sys != nil {
		e.ecsProcess(v, doc)
		e.ecsUser(doc, v.sys)
	} else if len(ev.Records) > 0 {
		r := &ev.Records[0]
		doc.Object("process")
		if v.pid > 0 {
			doc.Int("pid", v.pid)
		}
		if f, ok := r.Field("exe"); ok {
			e.scratch, _ = r.Untrusted(e.scratch[:0], f)
			doc.StrBytes("executable", e.scratch)
		}
		doc.End()
		e.ecsUser(doc, r)
	}
	if v.kind == "file" {
		e.ecsFile(v, doc)
	}

	doc.Object("auditd")
	doc.Str("message_type", lowerTypeName(&ev.Records[0]))
	doc.Uint("sequence", uint64(ev.Serial))
	doc.Str("result", ecsResult(v.outcome))
	if s, ok := v.sesOf(); ok {
		doc.Int("session", s)
	}
	doc.StrBytes("summary_text", e.sum)
	e.ecsSummary(v, doc)
	if v.sys != nil {
		doc.Object("data")
		if v.archName != "" {
			doc.Str("arch", v.archName)
		}
		if v.syscall != "" {
			doc.Str("syscall", v.syscall)
		} else {
			doc.Str("syscall", strconv.FormatInt(v.nr, 10))
		}
		if v.hasExit {
			if v.errno != "" {
				doc.Str("exit", v.errno)
			} else {
				doc.Str("exit", strconv.FormatInt(v.exit, 10))
			}
		}
		for i, k := range [4]string{"a0", "a1", "a2", "a3"} {
			if v.hasA[i] {
				e.tmp = strconv.AppendUint(e.tmp[:0], v.a[i], 16)
				doc.strTrusted(k, e.tmp)
			}
		}
		if t, ok := v.sys.Value("tty"); ok {
			doc.StrBytes("tty", t)
		}
		if v.hasSig {
			if n := signalName(v.sig); n != "" {
				doc.Str("signal", n)
			}
		}
		doc.End()
	}
	if v.kind == "kill" {
		doc.Object("target")
		if v.scope != "" {
			doc.Str("scope", v.scope)
		}
		doc.Int("count", int64(len(v.objs)))
		if len(v.objs) > 0 {
			e.objFields(doc, v.objs[0])
		}
		if len(v.objs) > 1 {
			doc.Array("processes")
			for _, o := range v.objs {
				doc.Object("")
				e.objFields(doc, o)
				doc.End()
			}
			doc.End()
		}
		doc.End()
	}
	if v.sys == nil && len(ev.Records) > 0 {
		doc.Object("data")
		e.recordFields(doc, &ev.Records[0])
		doc.End()
	}
	if e.cfg.Raw {
		doc.Array("raw")
		for i := range ev.Records {
			doc.StrBytes("", ev.Records[i].Line)
		}
		doc.End()
	}
	doc.End()
}

func (v *view) sesOf() (int64, bool) {
	r := v.sys
	if r == nil && len(v.ev.Records) > 0 {
		r = &v.ev.Records[0]
	}
	if r == nil {
		return 0, false
	}
	s, ok := fieldInt(r, "ses")
	return s, ok && s != unsetID && s != -1
}

func ecsResult(outcome string) string {
	switch outcome {
	case "success":
		return "success"
	case "failure":
		return "fail"
	}
	return "unknown"
}

func ecsCategory(v *view) (string, string) {
	switch v.kind {
	case "kill":
		return "process", "end"
	case "exec":
		return "process", "start"
	case "file":
		switch v.file.op {
		case "create", "mkdir", "mknod", "link", "symlink":
			return "file", "creation"
		case "delete", "rmdir":
			return "file", "deletion"
		case "read":
			return "file", "access"
		}
		return "file", "change"
	case "user":
		return "authentication", "info"
	case "config":
		return "configuration", "change"
	}
	return "process", "info"
}

func (e *Enricher) ecsProcess(v *view, doc *Document) {
	doc.Object("process")
	doc.Int("pid", v.pid)
	if v.comm != nil {
		doc.StrBytes("name", v.comm)
	}
	if v.exe != nil {
		doc.StrBytes("executable", v.exe)
	}
	argv := v.argv
	p := e.procs.get(v.pid)
	if len(argv) == 0 && p != nil {
		argv = p.argv
	}
	if len(argv) > 0 {
		e.scratch = append(e.scratch[:0], argv...)
		doc.StrBytes("title", joinArgv(e.scratch))
		doc.StrBytes("command_line", e.scratch)
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
	if v.cwd != nil {
		doc.StrBytes("working_directory", v.cwd)
	}
	doc.Object("parent")
	doc.Int("pid", v.ppid)
	if pp := e.procs.get(v.ppid); pp != nil {
		if pp.comm != "" {
			doc.Str("name", pp.comm)
		}
		if pp.exe != "" {
			doc.Str("executable", pp.exe)
		}
		if len(pp.argv) > 0 {
			e.scratch = append(e.scratch[:0], pp.argv...)
			doc.StrBytes("command_line", joinArgv(e.scratch))
		}
	}
	doc.End()
	if p != nil && (p.unit != "" || p.container != "") {
		if p.unit != "" {
			doc.Object("systemd")
			doc.Str("unit", p.unit)
			doc.End()
		}
	}
	doc.End()
	if p != nil && p.container != "" {
		doc.Object("container")
		doc.Str("id", p.container)
		doc.End()
	}
}

// ecsUser writes user.* (id, name, audit, effective, saved, filesystem,
// group) from a record's id fields.
func (e *Enricher) ecsUser(doc *Document, r *parser.Record) {
	doc.Object("user")
	e.ecsID(doc, r, "uid", "", "")
	for _, sub := range [...][3]string{{"audit", "auid", ""}, {"effective", "euid", "egid"}, {"saved", "suid", "sgid"}, {"filesystem", "fsuid", "fsgid"}} {
		doc.Object(sub[0])
		e.ecsID(doc, r, sub[1], sub[2], "")
		doc.End()
	}
	doc.Object("group")
	e.ecsID(doc, r, "gid", "", "")
	doc.End()
	doc.End()
}

// ecsID writes id (as a string, as Auditbeat does) and name for an id
// field, and a group object for gidKey.
func (e *Enricher) ecsID(doc *Document, r *parser.Record, key, gidKey, _ string) {
	if n, name, ok := e.idName(r, key); ok {
		e.tmp = strconv.AppendInt(e.tmp[:0], n, 10)
		doc.strTrusted("id", e.tmp)
		if len(name) > 0 {
			doc.StrBytes("name", name)
		}
	}
	if gidKey != "" {
		if n, name, ok := e.idName(r, gidKey); ok {
			doc.Object("group")
			e.tmp = strconv.AppendInt(e.tmp[:0], n, 10)
			doc.strTrusted("id", e.tmp)
			if len(name) > 0 {
				doc.StrBytes("name", name)
			}
			doc.End()
		}
	}
}

func (e *Enricher) ecsFile(v *view, doc *Document) {
	f := &v.file
	if f.primary < 0 {
		return
	}
	it := &f.items[f.primary]
	doc.Object("file")
	if it.resolved {
		doc.StrBytes("path", f.buf[it.path[0]:it.path[1]])
	}
	if it.name[1] > it.name[0] {
		name := f.buf[it.name[0]:it.name[1]]
		for i := len(name) - 1; i >= 0; i-- {
			if name[i] == '/' {
				name = name[i+1:]
				break
			}
		}
		doc.StrBytes("name", name)
	}
	r := it.rec
	if n, ok := r.Value("inode"); ok {
		doc.StrBytes("inode", n)
	}
	if d, ok := r.Value("dev"); ok {
		doc.StrBytes("device", d)
	}
	if m, ok := r.Value("mode"); ok {
		if mv, err := strconv.ParseUint(string(m), 8, 32); err == nil {
			e.tmp = appendOctal(e.tmp[:0], mv&0o7777)
			doc.strTrusted("mode", e.tmp)
			if t := modeType(mv); t != "" {
				if t == "link" {
					t = "symlink"
				}
				doc.Str("type", t)
			}
		}
	}
	if n, name, ok := e.idName(r, "ouid"); ok {
		e.tmp = strconv.AppendInt(e.tmp[:0], n, 10)
		doc.strTrusted("uid", e.tmp)
		if len(name) > 0 {
			doc.StrBytes("owner", name)
		}
	}
	if n, name, ok := e.idName(r, "ogid"); ok {
		e.tmp = strconv.AppendInt(e.tmp[:0], n, 10)
		doc.strTrusted("gid", e.tmp)
		if len(name) > 0 {
			doc.StrBytes("group", name)
		}
	}
	doc.End()
}

// ecsSummary writes auditd.summary {actor, object, how} as Auditbeat does.
func (e *Enricher) ecsSummary(v *view, doc *Document) {
	doc.Object("summary")
	doc.Object("actor")
	if v.sys != nil {
		if _, name, ok := e.idName(v.sys, "auid"); ok && len(name) > 0 {
			doc.StrBytes("primary", name)
		}
		if _, name, ok := e.idName(v.sys, "uid"); ok && len(name) > 0 {
			doc.StrBytes("secondary", name)
		}
	}
	doc.End()
	doc.Object("object")
	switch v.kind {
	case "kill":
		doc.Str("type", "process")
		if len(v.objs) > 0 {
			pid, _ := v.objs[0].Value("opid")
			doc.StrBytes("primary", pid)
			if f, ok := v.objs[0].Field("ocomm"); ok {
				e.scratch, _ = v.objs[0].Untrusted(e.scratch[:0], f)
				doc.StrBytes("secondary", e.scratch)
			}
		} else if v.hasTarget {
			e.tmp = strconv.AppendInt(e.tmp[:0], v.targetArg, 10)
			doc.strTrusted("primary", e.tmp)
		}
	case "file":
		doc.Str("type", "file")
		if f := &v.file; f.primary >= 0 {
			it := &f.items[f.primary]
			if it.resolved {
				doc.StrBytes("primary", f.buf[it.path[0]:it.path[1]])
			} else if it.name[1] > it.name[0] {
				doc.StrBytes("primary", f.buf[it.name[0]:it.name[1]])
			}
		}
	case "exec":
		doc.Str("type", "file")
		if v.exe != nil {
			doc.StrBytes("primary", v.exe)
		}
	}
	doc.End()
	if v.exe != nil {
		doc.StrBytes("how", v.exe)
	}
	doc.End()
}
