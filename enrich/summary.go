package enrich

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
)

// summary builds the one-line human summary into e.sum (escaped later by
// the document like every other string).
func (e *Enricher) summary(v *view) {
	s := e.sum[:0]
	switch v.kind {
	case "kill":
		s = e.actor(s, v, true)
		if v.outcome == "failure" {
			s = append(s, " tried to send "...)
		} else {
			s = append(s, " sent "...)
		}
		if v.hasSig {
			if v.sig == 0 {
				s = append(s, "signal 0 (existence check)"...)
			} else if n := signalName(v.sig); n != "" {
				s = append(s, n...)
			} else {
				s = append(s, "signal "...)
				s = strconv.AppendInt(s, v.sig, 10)
			}
		} else {
			s = append(s, "a signal"...)
		}
		s = append(s, " to "...)
		s = e.targetText(s, v)
		if v.outcome == "failure" {
			s = append(s, ": "...)
			s = e.errText(s, v)
		}
	case "file":
		s = e.fileSummary(s, v)
	case "exec":
		s = e.actor(s, v, false)
		if v.outcome == "failure" {
			s = append(s, " failed to execute "...)
		} else {
			s = append(s, " executed "...)
		}
		if v.hasArgs && e.args.Len() > 0 {
			for i := 0; i < e.args.Len() && i < 32; i++ {
				if i > 0 {
					s = append(s, ' ')
				}
				s = append(s, e.args.Arg(i)...)
			}
		} else if len(v.exe) > 0 {
			s = append(s, v.exe...)
		}
		if v.outcome == "failure" {
			s = append(s, ": "...)
			s = e.errText(s, v)
		}
	case "syscall":
		s = e.actor(s, v, false)
		s = append(s, " called "...)
		if v.syscall != "" {
			s = append(s, v.syscall...)
		} else {
			s = append(s, "syscall "...)
			s = strconv.AppendInt(s, v.nr, 10)
		}
		if v.outcome == "failure" {
			s = append(s, ": "...)
			s = e.errText(s, v)
		}
	default:
		s = e.userSummary(s, v)
	}
	if len(s) > 1024 {
		s = append(s[:1020], "..."...)
	}
	e.sum = s
}

// actor writes "pid 7885 \"sh xdkill.sh\" (/usr/bin/bash, parent 5533,
// user root, unit x.service)".
func (e *Enricher) actor(s []byte, v *view, withParent bool) []byte {
	s = append(s, "pid "...)
	s = strconv.AppendInt(s, v.pid, 10)
	s = append(s, ' ')
	if len(v.argv) > 0 && !v.staleTitle() {
		s = append(s, '"')
		start := len(s)
		s = append(s, v.argv...)
		if len(s)-start > 200 {
			s = append(s[:start+200], "..."...)
		}
		joinArgv(s[start:])
		s = append(s, '"')
	} else {
		s = append(s, v.comm...)
	}
	s = append(s, " ("...)
	if len(v.exe) > 0 {
		s = append(s, v.exe...)
		s = append(s, ", "...)
	}
	if withParent && v.ppid > 0 {
		s = append(s, "parent "...)
		s = strconv.AppendInt(s, v.ppid, 10)
		if pp := e.procs.get(v.ppid); pp != nil && pp.comm != "" {
			s = append(s, ' ')
			s = append(s, pp.comm...)
		}
		s = append(s, ", "...)
	}
	s = append(s, "user "...)
	if v.sys != nil {
		if _, name, ok := e.idName(v.sys, "uid"); ok && len(name) > 0 {
			s = append(s, name...)
		} else {
			s = strconv.AppendInt(s, v.uid, 10)
		}
		if a, name, ok := e.idName(v.sys, "auid"); ok && a != unsetID && a != v.uid && len(name) > 0 {
			s = append(s, ", login "...)
			s = append(s, name...)
		}
	}
	if p := e.procs.m[v.pid]; p != nil && p.unit != "" {
		s = append(s, ", unit "...)
		s = append(s, p.unit...)
	}
	if p := e.procs.m[v.pid]; p != nil && p.container != "" {
		s = append(s, ", container "...)
		c := p.container
		if len(c) > 12 {
			c = c[:12]
		}
		s = append(s, c...)
	}
	return append(s, ')')
}

func (e *Enricher) errText(s []byte, v *view) []byte {
	if v.errno != "" {
		return append(s, v.errno...)
	}
	s = append(s, "exit "...)
	return strconv.AppendInt(s, v.exit, 10)
}

// targetText writes the target of a kill: "pid 7677 (sh)", "process group
// 4242 (5 processes: sleep, sleep, ...)".
func (e *Enricher) targetText(s []byte, v *view) []byte {
	switch v.scope {
	case "process_group":
		s = append(s, "process group "...)
		s = strconv.AppendInt(s, -v.targetArg, 10)
	case "caller_group":
		s = append(s, "its own process group"...)
	case "all":
		s = append(s, "every process it may signal"...)
	case "pidfd":
		if len(v.objs) == 0 && v.hasA[0] {
			s = append(s, "pidfd "...)
			s = strconv.AppendUint(s, v.a[0], 10)
			return s
		}
	}
	if len(v.objs) == 1 && (v.scope == "process" || v.scope == "thread" || v.scope == "pidfd") {
		return e.objText(s, v.objs[0])
	}
	if len(v.objs) == 0 {
		if v.scope == "process" || v.scope == "thread" {
			s = append(s, "pid "...)
			s = strconv.AppendInt(s, v.targetArg, 10)
			if p := e.procs.get(v.targetArg); p != nil && p.comm != "" {
				s = append(s, " ("...)
				s = append(s, p.comm...)
				s = append(s, ')')
			}
		}
		return s
	}
	s = append(s, " ("...)
	s = strconv.AppendInt(s, int64(len(v.objs)), 10)
	s = append(s, " processes: "...)
	for i, o := range v.objs {
		if i == 5 {
			s = append(s, ", ..."...)
			break
		}
		if i > 0 {
			s = append(s, ", "...)
		}
		s = e.objText(s, o)
	}
	return append(s, ')')
}

func (e *Enricher) objText(s []byte, o *parser.Record) []byte {
	pid, _ := fieldInt(o, "opid")
	s = append(s, "pid "...)
	s = strconv.AppendInt(s, pid, 10)
	s = append(s, " ("...)
	if f, ok := o.Field("ocomm"); ok {
		s, _ = o.Untrusted(s, f)
	}
	if p := e.procs.get(pid); p != nil {
		if len(p.argv) > 0 {
			s = append(s, ": "...)
			start := len(s)
			s = append(s, p.argv...)
			if len(s)-start > 120 {
				s = append(s[:start+120], "..."...)
			}
			joinArgv(s[start:])
		}
		if p.unit != "" {
			s = append(s, ", unit "...)
			s = append(s, p.unit...)
		}
	}
	return append(s, ')')
}

// fileSummary: "sed (pid 4123, user root, unit deploy.service) replaced
// /etc/nginx/nginx.conf (renamed from /etc/nginx/sedAb12Cd)".
func (e *Enricher) fileSummary(s []byte, v *view) []byte {
	f := &v.file
	s = e.actor(s, v, false)
	if v.outcome == "failure" {
		s = append(s, " failed to "...)
	} else {
		s = append(s, ' ')
	}
	verb := fileVerbs[v.outcome == "failure"][f.op]
	if f.op == "rename" && f.replaced >= 0 && v.outcome != "failure" {
		verb = "replaced"
	}
	s = append(s, verb...)
	s = append(s, ' ')
	s = e.itemText(s, f, f.primary)
	switch f.op {
	case "write":
		s = append(s, " for writing"...)
	case "append":
		s = append(s, " for append"...)
	case "read":
		s = append(s, " for reading"...)
	case "symlink":
		if f.target >= 0 {
			it := &f.items[f.target]
			s = append(s, " -> "...)
			s = append(s, f.buf[it.name[0]:it.name[1]]...)
		}
	case "rename":
		if f.from >= 0 {
			s = append(s, " (renamed from "...)
			s = e.itemText(s, f, f.from)
			s = append(s, ')')
		}
	case "chmod":
		if f.primary >= 0 {
			if m, ok := f.items[f.primary].rec.Value("mode"); ok {
				if mv, err := strconv.ParseUint(string(m), 8, 32); err == nil {
					s = append(s, " from "...)
					s = appendOctal(s, mv&0o7777)
				}
			}
		}
		if f.hasMode {
			s = append(s, " to "...)
			s = appendOctal(s, f.newMode)
		}
	case "chown":
		if f.hasOwner {
			s = append(s, " to "...)
			if f.newUID == -1 {
				s = append(s, '-')
			} else if n := e.ids.user(uint64(f.newUID)); n != "" {
				s = append(s, n...)
			} else {
				s = strconv.AppendInt(s, f.newUID, 10)
			}
			s = append(s, ':')
			if f.newGID == -1 {
				s = append(s, '-')
			} else if n := e.ids.group(uint64(f.newGID)); n != "" {
				s = append(s, n...)
			} else {
				s = strconv.AppendInt(s, f.newGID, 10)
			}
		}
	}
	if v.outcome == "failure" {
		s = append(s, ": "...)
		s = e.errText(s, v)
	}
	return s
}

func (e *Enricher) itemText(s []byte, f *fileOp, i int) []byte {
	if i < 0 {
		if f.hasFD {
			s = append(s, "fd "...)
			return strconv.AppendInt(s, f.fd, 10)
		}
		return append(s, "a file"...)
	}
	it := &f.items[i]
	if it.nametype == "PARENT" {
		s = append(s, "in directory "...)
	}
	switch {
	case it.resolved:
		s = append(s, f.buf[it.path[0]:it.path[1]]...)
	case it.name[1] > it.name[0]:
		s = append(s, f.buf[it.name[0]:it.name[1]]...)
		if it.dirfd != atFDCWD {
			s = append(s, " (relative to dir fd "...)
			s = strconv.AppendInt(s, it.dirfd, 10)
			s = append(s, ')')
		}
	default:
		s = append(s, "inode "...)
		n, _ := fieldInt(it.rec, "inode")
		s = strconv.AppendInt(s, n, 10)
	}
	return s
}

// userSummary: "USER_AUTH pid 32445 (/usr/bin/su, user root):
// op=PAM:authentication acct=auditvictim res=success".
func (e *Enricher) userSummary(s []byte, v *view) []byte {
	if len(v.ev.Records) == 0 {
		return s
	}
	r := &v.ev.Records[0]
	s = append(s, r.Name()...)
	if v.pid > 0 {
		s = append(s, " by pid "...)
		s = strconv.AppendInt(s, v.pid, 10)
	}
	if f, ok := r.Field("exe"); ok {
		s = append(s, " ("...)
		s, _ = r.Untrusted(s, f)
		s = append(s, ')')
	}
	if _, name, ok := e.idName(r, "uid"); ok && len(name) > 0 {
		s = append(s, " user "...)
		s = append(s, name...)
	}
	for _, k := range [...]string{"op", "acct", "res", "cmd"} {
		if f, ok := r.Field(k); ok {
			s = append(s, ' ')
			s = append(s, k...)
			s = append(s, '=')
			s, _ = r.Untrusted(s, f)
		}
	}
	return s
}

// sockaddr decodes a SOCKADDR record's saddr.
func (e *Enricher) sockaddr(doc *Document, r *parser.Record) {
	hx, ok := r.Value("saddr")
	if !ok {
		return
	}
	b, ok := parser.DecodeHex(e.tmp[:0], hx)
	if !ok || len(b) < 2 {
		return
	}
	e.tmp = b
	fam := binary.LittleEndian.Uint16(b)
	switch fam {
	case 1:
		doc.Str("family", "local")
		p := b[2:]
		if len(p) > 0 && p[0] == 0 {
			doc.Bool("abstract", true)
			p = p[1:]
		}
		for i, c := range p {
			if c == 0 {
				p = p[:i]
				break
			}
		}
		doc.StrBytes("path", p)
	case 2:
		doc.Str("family", "inet")
		if len(b) >= 8 {
			doc.Int("port", int64(binary.BigEndian.Uint16(b[2:])))
			doc.Str("addr", netip.AddrFrom4([4]byte(b[4:8])).String())
		}
	case 10:
		doc.Str("family", "inet6")
		if len(b) >= 24 {
			doc.Int("port", int64(binary.BigEndian.Uint16(b[2:])))
			doc.Str("addr", netip.AddrFrom16([16]byte(b[8:24])).String())
		}
	case 16:
		doc.Str("family", "netlink")
		if len(b) >= 12 {
			doc.Int("nl_pid", int64(binary.LittleEndian.Uint32(b[4:])))
			doc.Int("nl_groups", int64(binary.LittleEndian.Uint32(b[8:])))
		}
	default:
		doc.Int("family_nr", int64(fam))
	}
}

var fileVerbs = map[bool]map[string]string{
	false: {"create": "created", "write": "opened", "append": "opened", "truncate-open": "truncated", "read": "opened",
		"delete": "deleted", "rmdir": "removed directory", "rename": "renamed", "link": "linked", "symlink": "created symlink",
		"chmod": "changed mode of", "chown": "changed owner of", "xattr": "changed extended attributes of",
		"times": "changed times of", "truncate": "truncated", "mkdir": "created directory", "mknod": "created node", "access": "accessed"},
	true: {"create": "create", "write": "open", "append": "open", "truncate-open": "truncate", "read": "open",
		"delete": "delete", "rmdir": "remove directory", "rename": "rename", "link": "link", "symlink": "create symlink",
		"chmod": "change mode of", "chown": "change owner of", "xattr": "change extended attributes of",
		"times": "change times of", "truncate": "truncate", "mkdir": "create directory", "mknod": "create node", "access": "access"},
}
