package enrich

import (
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
)

// idField says how to name one id field: its name field and whether it is
// a group.
type idField struct {
	upper string // key in the enriched suffix
	name  string // key of the name beside the number
	group bool
}

var idFields = map[string]idField{
	"uid": {"UID", "user", false}, "auid": {"AUID", "auser", false},
	"euid": {"EUID", "euser", false}, "suid": {"SUID", "suser", false},
	"fsuid": {"FSUID", "fsuser", false}, "ouid": {"OUID", "ouser", false},
	"oauid": {"OAUID", "oauser", false}, "sauid": {"SAUID", "sauser", false},
	"iuid": {"IUID", "iuser", false}, "inode_uid": {"INODE_UID", "inode_user", false},
	"obj_uid": {"OBJ_UID", "obj_user", false}, "old-auid": {"OLD-AUID", "old-auser", false},
	"new-auid": {"NEW-AUID", "new-auser", false}, "old_auid": {"OLD_AUID", "old_auser", false},
	"gid": {"GID", "group", true}, "egid": {"EGID", "egroup", true},
	"sgid": {"SGID", "sgroup", true}, "fsgid": {"FSGID", "fsgroup", true},
	"ogid": {"OGID", "ogroup", true}, "igid": {"IGID", "igroup", true},
	"inode_gid": {"INODE_GID", "inode_group", true}, "obj_gid": {"OBJ_GID", "obj_group", true},
}

// untrustedFields are logged by the kernel or libaudit as a quoted string
// or, when they hold anything unsafe, as hex.
var untrustedFields = map[string]bool{
	"comm": true, "ocomm": true, "exe": true, "cwd": true, "name": true,
	"proctitle": true, "cmd": true, "acct": true, "data": true, "key": true,
	"path": true, "dir": true, "watch": true, "old": false, "new": false,
	"root_dir": true, "vm": true, "file": true, "grp": true, "new_group": true,
	"old-chardev": true, "new-chardev": true, "old-disk": true, "new-disk": true,
	"cgroup": true, "hostname": true, "terminal": false, "sw": true, "uuid": false,
	"unit": true, "id": false, "old_val": true, "new_val": true,
}

// numericFields are emitted as numbers when they parse as such.
var numericFields = map[string]bool{
	"pid": true, "ppid": true, "ses": true, "opid": true, "oses": true,
	"items": true, "item": true, "exit": true, "inode": true, "argc": true,
	"old-ses": true, "new-ses": true, "audit_pid": true, "old": false,
	"audit_enabled": true, "audit_failure": true, "backlog_limit": true,
	"rate_limit": true, "old_prom": true, "prom": true, "sig": true,
	"nlnk-pid": true, "lport": true, "rport": true, "ver": true,
	"fver": true, "frootid": true, "cap_fver": true, "cap_frootid": true,
	"res": false, "list": true, "op": false, "tid": true,
}

// fieldClass says how a generic field is written.
type fieldClass struct {
	key       string // interned key
	id        *idField
	numeric   bool
	untrusted bool
}

var fieldClasses = func() map[string]*fieldClass {
	m := map[string]*fieldClass{}
	get := func(k string) *fieldClass {
		if c, ok := m[k]; ok {
			return c
		}
		c := &fieldClass{key: k}
		m[k] = c
		return c
	}
	for k, v := range idFields {
		v := v
		get(k).id = &v
	}
	for k, v := range numericFields {
		get(k).numeric = v
	}
	for k, v := range untrustedFields {
		get(k).untrusted = v
	}
	for k := range knownKeys {
		get(k)
	}
	return m
}()

// value writes one field of a generic record: numbers as numbers, ids with
// their names, hex strings decoded, everything else as written.
func (e *Enricher) value(doc *Document, r *parser.Record, f parser.Field) {
	key := r.Bytes(f.Key)
	v := r.Bytes(f.Val)
	c := fieldClasses[string(key)]
	if c == nil {
		doc.StrBytes(e.internKey(key), v)
		return
	}
	if c.id != nil {
		if n, ok := parseInt(v); ok {
			e.idPair(doc, r, c.key, *c.id, n)
			return
		}
	}
	if c.numeric {
		if n, ok := parseInt(v); ok {
			doc.Int(c.key, n)
			return
		}
	}
	if c.untrusted {
		e.scratch, _ = r.Untrusted(e.scratch[:0], f)
		if c.key == "proctitle" {
			e.scratch = joinArgv(e.scratch)
		}
		doc.StrBytes(c.key, e.scratch)
		return
	}
	doc.StrBytes(c.key, v)
}

// idPair writes an id and its name, the enriched suffix's name first.
func (e *Enricher) idPair(doc *Document, r *parser.Record, k string, idf idField, n int64) {
	doc.Int(k, n)
	if name := e.nameOf(r, idf, n); len(name) > 0 {
		doc.StrBytes(idf.name, name)
	}
}

// nameOf names id n of r: the enriched suffix's name, else this host's
// (valid until the next call).
func (e *Enricher) nameOf(r *parser.Record, idf idField, n int64) []byte {
	if name, ok := e.enriched(r, idf.upper); ok && len(name) > 0 {
		return name
	}
	var s string
	if idf.group {
		s = e.ids.group(uint64(n))
	} else {
		s = e.ids.user(uint64(n))
	}
	e.nameBuf = append(e.nameBuf[:0], s...)
	return e.nameBuf
}

// enriched finds an upper-case key of r's enriched suffix. The suffix
// lists the ids in the order of the raw fields, so the search starts where
// the previous one (on the same record) ended.
func (e *Enricher) enriched(r *parser.Record, key string) ([]byte, bool) {
	fs := r.Enriched
	if len(fs) == 0 {
		return nil, false
	}
	if e.enrRec != r || e.enrPos >= len(fs) {
		e.enrRec, e.enrPos = r, 0
	}
	for i := 0; i < len(fs); i++ {
		j := e.enrPos + i
		if j >= len(fs) {
			j -= len(fs)
		}
		f := fs[j]
		if int(f.Key.Len) == len(key) && string(r.Line[f.Key.Off:f.Key.Off+f.Key.Len]) == key {
			e.enrPos = j + 1
			return r.Line[f.Val.Off : f.Val.Off+f.Val.Len], true
		}
	}
	return nil, false
}

// idName returns the id field k of r and its name (enriched suffix first,
// then this host); the name is valid until the next call.
func (e *Enricher) idName(r *parser.Record, k string) (int64, []byte, bool) {
	v, ok := r.Value(k)
	if !ok {
		return 0, nil, false
	}
	n, ok := parseInt(v)
	if !ok {
		return 0, nil, false
	}
	return n, e.nameOf(r, idFields[k], n), true
}

// joinArgv turns a NUL separated argv into a space separated line, in place.
func joinArgv(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	return b
}

// keys interns the field names we know, so documents keep constant keys;
// unknown names are interned up to a bound, after which they are copied.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for k := range idFields {
		m[k] = k
	}
	for k := range untrustedFields {
		m[k] = k
	}
	for k := range numericFields {
		m[k] = k
	}
	for _, k := range []string{"arch", "syscall", "success", "a0", "a1", "a2", "a3", "tty",
		"subj", "obj", "op", "res", "grantors", "addr", "terminal", "nametype", "mode", "dev",
		"rdev", "cap_fp", "cap_fi", "cap_fe", "msg", "saddr", "auid", "audit_backlog_limit",
		"old_enabled", "enabled", "old_pid", "format", "kernel", "auditd_pid", "subj_user"} {
		m[k] = k
	}
	return m
}()

func (e *Enricher) internKey(b []byte) string {
	if s, ok := knownKeys[string(b)]; ok {
		return s
	}
	if s, ok := e.dynKeys[string(b)]; ok {
		return s
	}
	// Keys reach the JSON output unescaped: keep them to safe bytes.
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if safeByte[c] && c != '"' {
			clean = append(clean, c)
		} else {
			clean = append(clean, '_')
		}
	}
	s := string(clean)
	if len(e.dynKeys) < 4096 {
		e.dynKeys[s] = s
	}
	return s
}

// fieldInt returns the decimal value of field k.
func fieldInt(r *parser.Record, k string) (int64, bool) {
	v, ok := r.Value(k)
	if !ok {
		return 0, false
	}
	return parseInt(v)
}

// octal formats a file mode like 0100644.
func appendOctal(dst []byte, v uint64) []byte {
	return strconv.AppendUint(append(dst, '0'), v, 8)
}
