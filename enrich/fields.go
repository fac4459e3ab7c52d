package enrich

import (
	"strconv"
	"unsafe"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
)

// idField says how to name one id field.
type idField struct {
	key   string // the record's key
	upper string // key in the enriched suffix
	name  string // key of the name beside the number
	group bool
}

var idFields = func() map[string]idField {
	m := map[string]idField{}
	for _, f := range idKeys {
		m[f.key] = f
	}
	for _, f := range []idField{
		{"ouid", "OUID", "ouser", false}, {"oauid", "OAUID", "oauser", false},
		{"sauid", "SAUID", "sauser", false}, {"iuid", "IUID", "iuser", false},
		{"inode_uid", "INODE_UID", "inode_user", false}, {"obj_uid", "OBJ_UID", "obj_user", false},
		{"old-auid", "OLD-AUID", "old-auser", false}, {"new-auid", "NEW-AUID", "new-auser", false},
		{"old_auid", "OLD_AUID", "old_auser", false},
		{"ogid", "OGID", "ogroup", true}, {"igid", "IGID", "igroup", true},
		{"inode_gid", "INODE_GID", "inode_group", true}, {"obj_gid", "OBJ_GID", "obj_group", true},
	} {
		m[f.key] = f
	}
	return m
}()

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
	"nlnk-pid": true, "lport": true, "rport": true,
	"fver": true, "frootid": true, "cap_fver": true, "cap_frootid": true,
	"res": false, "list": true, "op": false, "tid": true,
}

// fieldClass says how a generic field is decoded.
type fieldClass struct {
	key       string // interned key
	id        *idField
	numeric   bool
	untrusted bool
	rawKey    string // KEY_raw: a numeric field's value that is not a number
}

var fieldClasses = func() map[string]*fieldClass {
	m := map[string]*fieldClass{}
	get := func(k string) *fieldClass {
		if c, ok := m[k]; ok {
			return c
		}
		c := &fieldClass{key: k, rawKey: k + "_raw"}
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
	for _, k := range []string{"arch", "syscall", "success", "a0", "a1", "a2", "a3", "tty",
		"subj", "obj", "op", "res", "grantors", "addr", "terminal", "nametype", "mode", "dev",
		"rdev", "cap_fp", "cap_fi", "cap_fe", "msg", "saddr", "auid", "audit_backlog_limit",
		"old_enabled", "enabled", "old_pid", "format", "kernel", "auditd_pid", "subj_user"} {
		get(k)
	}
	return m
}()

// decodeFields appends a DataField for every field of r (numbers as
// numbers, ids with their names, hex strings decoded, text as written)
// and groups them by key.
func (e *Enricher) decodeFields(m *Model, r *parser.Record, d *DataRecord) {
	start := len(m.fields)
	var prefix string // "old_"/"new_": the old LOGIN format's "old auid=700 new auid=701"
	textAt := -1
	m.text = m.text[:0]
	for _, f := range r.Fields {
		k := r.Bytes(f.Key)
		if f.Kind == parser.Text {
			v := r.Bytes(f.Val)
			if string(v) == "old" || string(v) == "new" {
				prefix = string(v) + "_"
				continue
			}
			// Free text is one field, its words joined, where it first
			// appears.
			if textAt < 0 {
				textAt = len(m.fields)
				m.fields = append(m.fields, DataField{Key: "text"})
			} else {
				m.text = append(m.text, ' ')
			}
			m.text = append(m.text, v...)
			continue
		}
		if f.Kind == parser.Nested || len(k) == 0 {
			continue
		}
		if prefix != "" {
			e.tmp = append(append(e.tmp[:0], prefix...), k...)
			k, prefix = e.tmp, ""
		}
		e.decodeField(m, r, f, k)
	}
	if textAt >= 0 {
		m.fields[textAt].Str = m.arena.copy(m.text)
	}
	d.Fields = m.fields[start:len(m.fields):len(m.fields)]
	m.group(d)
}

func (e *Enricher) decodeField(m *Model, r *parser.Record, f parser.Field, key []byte) {
	v := r.Bytes(f.Val)
	c := fieldClasses[string(key)]
	if c == nil {
		m.fields = append(m.fields, DataField{Key: e.internKey(key), Str: v})
		return
	}
	if c.id != nil {
		if n, ok := parseInt(v); ok {
			m.fields = append(m.fields, DataField{Key: c.key, Kind: FieldInt, Num: n})
			if name := e.nameOf(m, r, *c.id, n); len(name) > 0 {
				m.fields = append(m.fields, DataField{Key: c.id.name, Str: name, Derived: true})
			}
			return
		}
	}
	if c.numeric {
		if n, ok := parseInt(v); ok {
			m.fields = append(m.fields, DataField{Key: c.key, Kind: FieldInt, Num: n})
			return
		}
	}
	if c.id != nil || c.numeric {
		// Not a number: "?" is the log's "none"; anything else goes
		// under KEY_raw, so that KEY is a number in every document
		// (Elasticsearch rejects a document whose field changes type).
		if f.Kind == parser.Plain && string(v) == "?" {
			return
		}
		m.fields = append(m.fields, DataField{Key: c.rawKey, Str: m.arena.untrusted(r, f)})
		return
	}
	if c.untrusted {
		s := m.arena.untrusted(r, f)
		if c.key == "proctitle" {
			s = joinArgv(s)
		}
		m.fields = append(m.fields, DataField{Key: c.key, Str: s})
		return
	}
	m.fields = append(m.fields, DataField{Key: c.key, Str: v})
}

// group fills d.Groups: the keys of d in the order they first appear,
// each with its fields. A name we derived that a field of the record
// already has as its key (VIRT_CONTROL's user= beside uid's name) is left
// out: the record's own value wins.
func (m *Model) group(d *DataRecord) {
	gs := len(m.groups)
	m.of = m.of[:0]
	big := len(d.Fields) > 32
	if big {
		clear(m.keyIndex)
	}
	for i := range d.Fields {
		f := &d.Fields[i]
		g := -1
		if big {
			if j, ok := m.keyIndex[f.Key]; ok {
				g = int(j)
			}
		} else {
			for j := gs; j < len(m.groups); j++ {
				if m.groups[j].Key == f.Key {
					g = j
					break
				}
			}
		}
		if g < 0 {
			m.groups = append(m.groups, FieldGroup{Key: f.Key})
			g = len(m.groups) - 1
			if big {
				if m.keyIndex == nil {
					m.keyIndex = map[string]int32{}
				}
				m.keyIndex[f.Key] = int32(g)
			}
		}
		if !f.Derived {
			m.groups[g].own = true
		}
		m.of = append(m.of, int32(g))
	}
	// Each group's members are a contiguous run of m.members: count,
	// place the runs, fill them.
	keep := func(i int, g int32) bool { return !(d.Fields[i].Derived && m.groups[g].own) }
	for i, g := range m.of {
		if keep(i, g) {
			m.groups[g].n++
		}
	}
	off := int32(len(m.members))
	for j := gs; j < len(m.groups); j++ {
		m.groups[j].start, off = off, off+m.groups[j].n
		m.groups[j].n = 0
	}
	m.members = append(m.members, make([]int32, int(off)-len(m.members))...)
	for i, g := range m.of {
		if keep(i, g) {
			grp := &m.groups[g]
			m.members[grp.start+grp.n] = int32(i)
			grp.n++
		}
	}
	for j := gs; j < len(m.groups); j++ {
		g := &m.groups[j]
		g.Members = m.members[g.start : g.start+g.n : g.start+g.n]
	}
	d.Groups = m.groups[gs:len(m.groups):len(m.groups)]
}

// nameOf names id n of r: the enriched suffix's name, else this host's.
func (e *Enricher) nameOf(m *Model, r *parser.Record, idf idField, n int64) []byte {
	if name, ok := e.enriched(r, idf.upper); ok && len(name) > 0 {
		return name
	}
	var s string
	if idf.group {
		s = e.names.Group(uint64(n))
	} else {
		s = e.names.User(uint64(n))
	}
	if s == "" {
		return nil
	}
	return view(s)
}

// view returns the bytes of s without copying them. The model only reads
// its byte slices, and names come from long-lived caches: copying every
// name of every event into the arena cost measurably (a few percent of the
// whole pipeline).
func view(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// id reads the id field key of r (top level first, then inside msg='...')
// with its name.
func (e *Enricher) id(m *Model, r *parser.Record, idf idField) ID {
	n, ok := fieldInt(r, idf.key)
	if !ok {
		return ID{}
	}
	if n == -1 {
		n = unsetID // OBJ_PID's oauid=-1 is SYSCALL's auid=4294967295
	}
	return ID{Set: true, N: n, Name: e.nameOf(m, r, idf, n)}
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

// internKey returns a field name as a document key: ours for the names we
// know, else made safe (encode.SafeKey) and interned up to a bound.
func (e *Enricher) internKey(b []byte) string {
	if c, ok := fieldClasses[string(b)]; ok {
		return c.key
	}
	if s, ok := e.dynKeys[string(b)]; ok {
		return s
	}
	s := string(encode.SafeKey(nil, b))
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

// appendOctal formats a file mode like 0100644.
func appendOctal(dst []byte, v uint64) []byte {
	return strconv.AppendUint(append(dst, '0'), v, 8)
}
