package enrich

import (
	"bytes"
	"hash/maphash"
	"net/netip"
	"strconv"

	"github.com/elastic/go-libaudit/v2/aucoalesce"
	"github.com/elastic/go-libaudit/v2/auparse"
	"github.com/whokilledit/linuxaudit/parser"
)

// The ECS schema is meant to be a drop-in for the documents Auditbeat (and
// Elastic Agent's Auditd Manager) publish, which its dashboards and
// detection rules are written against. Those come from go-libaudit: auparse
// reads each record into a map of strings, aucoalesce joins an event's maps
// and applies its normalization data (normalize_gen.go), and Auditbeat maps
// the result to ECS. This file does the same from the records we already
// parsed, field for field, without go-libaudit's regular expressions and
// maps (several times faster, and nothing allocated per event once warm);
// ecs.go writes the result with our own enrichment beside it.

// auKV is one key and value of a record as auparse reads it: orig as
// written (quotes included), val as enriched (hex decoded, named...).
type auKV struct {
	key, orig, val []byte
}

// auMap is an ordered map of auKVs with map semantics (a key set twice
// keeps the last value).
type auMap []auKV

func (m auMap) find(key string) int {
	if len(key) == 0 {
		return -1
	}
	c, n := key[0], len(key)
	for i := range m {
		// (length and first byte first: most keys differ there, and
		// auEnrich looks a dozen keys up in every record)
		if k := m[i].key; len(k) == n && k[0] == c && string(k) == key {
			return i
		}
	}
	return -1
}

func (m *auMap) set(key, orig, val []byte) {
	if i := m.find(string(key)); i >= 0 {
		(*m)[i].orig, (*m)[i].val = orig, val
		return
	}
	*m = append(*m, auKV{key, orig, val})
}

func (m auMap) get(key string) ([]byte, bool) {
	if i := m.find(key); i >= 0 {
		return m[i].val, true
	}
	return nil, false
}

func (m *auMap) del(key string) {
	if i := m.find(key); i >= 0 {
		*m = append((*m)[:i], (*m)[i+1:]...)
	}
}

// entity is an ECS user or group: an id and a name.
type entity struct{ id, name []byte }

// Coalesced is an event as Auditbeat publishes it (the fields of
// aucoalesce.Event that its ECS mapping reads).
type Coalesced struct {
	Valid    bool
	Type     uint16 // the event's record type: its first, unless that is SYSCALL's
	Category string // aucoalesce's event category (user-login, audit-rule...)
	Result   []byte // success, fail, unknown
	Session  []byte
	HasSes   bool
	Tags     [][]byte
	Data     auMap
	IDs      auMap // uid, auid, euid... (keys ending in uid or gid)
	Names    auMap // names of IDs, same keys
	SELinux  auMap // subj_* without the prefix
	Proc     struct{ PID, PPID, Title, Name, Exe, CWD []byte }
	Args     [][]byte
	HasArgs  bool
	Paths    []auMap
	File     struct {
		Valid                                             bool
		Path, Device, Inode, Mode, UID, GID, Owner, Group []byte
		SELinux                                           auMap
	}
	Source, Dest struct {
		Valid                  bool
		IP, Port, Path, Domain []byte
	}
	Direction string
	Summary   struct {
		ActorPrimary, ActorSecondary   []byte
		Action                         string
		ObjectType                     string
		ObjectPrimary, ObjectSecondary []byte
		How                            []byte
	}
	ECS struct {
		Kind                             string
		Category, Type                   []string
		Outcome                          string
		User, Effective, Target, Changes entity
		Group                            entity
	}

	recs []auMap    // one per record
	ok   []bool     // the record's Data() succeeded
	tags [][][]byte // the record's rule keys
	mode []byte     // File.Mode's bytes
}

// auRecord reads one record the way auparse does (normalizeAuditMessage,
// extractKeyValuePairs, enrichData) into m; ok false where auparse's Data()
// fails.
func (e *Enricher) auRecord(m *Model, r *parser.Record, out *auMap, tags *[][]byte) (ok bool) {
	*out = (*out)[:0]
	body := r.Line[r.Body.Off : r.Body.Off+r.Body.Len]
	body = auNormalize(m, r.Type, body)
	clear(e.auIdx)
	auExtract(out, body, e.auIdx)
	return e.auEnrich(m, r.Type, out, tags)
}

// auNormalize applies auparse's fixes to a record's text before it is
// read as key=value pairs.
func auNormalize(m *Model, typ uint16, msg []byte) []byte {
	switch typ {
	case 1400: // AVC: "avc:  denied  { read } for  ..." gives seresult and seperms
		i := bytes.Index(msg, []byte("avc:"))
		if i < 0 {
			return msg
		}
		j := i + 4
		sp := func() bool {
			k := j
			for j < len(msg) && isSpace(msg[j]) {
				j++
			}
			return j > k
		}
		if !sp() {
			return msg
		}
		w := j
		for j < len(msg) && isWord(msg[j]) {
			j++
		}
		if j == w {
			return msg
		}
		result := msg[w:j]
		if !sp() || j >= len(msg) || msg[j] != '{' {
			return msg
		}
		// "{\s*(.*)\s*}\s+for\s+": the last "}" followed by " for ".
		open := j + 1
		end := -1
		for k := len(msg) - 1; k > open; k-- {
			if msg[k] != '}' {
				continue
			}
			t := k + 1
			n := t
			for t < len(msg) && isSpace(msg[t]) {
				t++
			}
			if t == n || !bytes.HasPrefix(msg[t:], []byte("for")) {
				continue
			}
			t += 3
			n = t
			for t < len(msg) && isSpace(msg[t]) {
				t++
			}
			if t == n {
				continue
			}
			end = k
			j = t
			break
		}
		if end < 0 {
			return msg
		}
		out := m.arena.room(len(msg) + 32)
		out = append(append(append(out, "seresult="...), result...), " seperms="...)
		first := true
		for _, p := range bytes.Fields(msg[open:end]) {
			if !first {
				out = append(out, ',')
			}
			out, first = append(out, p...), false
		}
		out = append(append(out, ' '), msg[j:]...)
		return m.arena.keep(out)
	case 1006: // LOGIN: the old format's "old auid=1 new auid=2 old ses=3 new ses=4"
		if !bytes.Contains(msg, []byte("old ")) && !bytes.Contains(msg, []byte("new ")) {
			return msg
		}
		out := m.arena.keep(append(m.arena.room(len(msg)), msg...))
		for _, w := range []string{"old ", "new "} {
			for n, from := 0, 0; n < 2; n++ {
				k := bytes.Index(out[from:], []byte(w))
				if k < 0 {
					break
				}
				out[from+k+3] = '_'
				from += k + 4
			}
		}
		return out
	case 1104, 1105, 1106: // CRED_DISP, USER_START, USER_END
		if !bytes.Contains(msg, []byte(" (hostname=")) && (len(msg) == 0 || (msg[len(msg)-1] != ')' && msg[len(msg)-1] != '\'')) {
			return msg
		}
		out := m.arena.room(len(msg))
		rest := msg
		for n := 0; n < 2; n++ {
			k := bytes.Index(rest, []byte(" (hostname="))
			if k < 0 {
				break
			}
			out = append(append(out, rest[:k]...), " hostname="...)
			rest = rest[k+len(" (hostname="):]
		}
		out = append(out, rest...)
		for len(out) > 0 && (out[len(out)-1] == ')' || out[len(out)-1] == '\'') {
			out = out[:len(out)-1]
		}
		return m.arena.keep(out)
	}
	return msg
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isAuKey(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

var auSeed = maphash.MakeSeed()

// auExtract reads key=value pairs as auparse's regular expression
// ([a-z0-9_-]+)=([^"'\s]+|'(\\'|[^'])*'|"(\\"|[^"])*") finds them, from left
// to right; useless values ("", "?", "?,", "(null)") are dropped and
// msg='...' is read into the same map.
//
// A record with many fields (an EXECVE of thousands of arguments) is
// indexed in idx as it grows, so that each key is found in constant time
// rather than by scanning what came before.
func auExtract(out *auMap, msg []byte, idx map[uint64]int32) {
	from := 0
	for from < len(msg) {
		eq := bytes.IndexByte(msg[from:], '=')
		if eq < 0 {
			return
		}
		eq += from
		k := eq
		for k > from && isAuKey(msg[k-1]) {
			k--
		}
		if k == eq {
			from = eq + 1
			continue
		}
		end, ok := auValue(msg, eq+1)
		if !ok {
			from = eq + 1
			continue
		}
		key, orig := msg[k:eq], msg[eq+1:end]
		val := bytes.Trim(orig, "'\" ")
		from = end
		switch string(val) {
		case "", "?", "?,", "(null)":
			continue
		}
		if string(key) == "msg" {
			auExtract(out, val, idx)
			continue
		}
		if len(*out) < 32 {
			out.set(key, orig, val)
			continue
		}
		if len(idx) == 0 {
			for i, kv := range *out {
				idx[maphash.Bytes(auSeed, kv.key)] = int32(i)
			}
		}
		h := maphash.Bytes(auSeed, key)
		if i, ok := idx[h]; ok && bytes.Equal((*out)[i].key, key) {
			(*out)[i].orig, (*out)[i].val = orig, val
			continue
		} else if ok {
			out.set(key, orig, val) // a collision: the slow way
			continue
		}
		idx[h] = int32(len(*out))
		*out = append(*out, auKV{key, orig, val})
	}
}

// auValue matches a value at i: an unquoted run, or a quoted string whose
// closing quote is the first one not escaped (backtracking to the last
// escaped one when none is left, as the regular expression would).
func auValue(msg []byte, i int) (end int, ok bool) {
	if i >= len(msg) || isSpace(msg[i]) {
		return 0, false
	}
	q := msg[i]
	if q != '"' && q != '\'' {
		j := i
		for j < len(msg) && !isSpace(msg[j]) && msg[j] != '"' && msg[j] != '\'' {
			j++
		}
		return j, true
	}
	lastEscaped := -1
	for j := i + 1; j < len(msg); j++ {
		switch {
		case msg[j] == '\\' && j+1 < len(msg) && msg[j+1] == q:
			lastEscaped = j + 1
			j++
		case msg[j] == q:
			return j + 1, true
		}
	}
	if lastEscaped >= 0 {
		return lastEscaped + 1, true
	}
	return 0, false
}

// auEnrich is auparse's enrichData: unset ids, SELinux labels, result,
// errno names, rule keys as tags, hex strings, arch and syscall names,
// socket addresses, EXECVE arguments.
func (e *Enricher) auEnrich(m *Model, typ uint16, d *auMap, tags *[][]byte) bool {
	for _, k := range []string{"auid", "old-auid", "ses"} {
		if i := d.find(k); i >= 0 && (string((*d)[i].val) == "4294967295" || string((*d)[i].val) == "-1") {
			(*d)[i].val = unsetBytes
		}
	}
	auSELinux(m, d, "subj")
	// success (SYSCALL) or res: result.
	i := d.find("success")
	if i < 0 {
		i = d.find("res")
	}
	if i >= 0 {
		v := (*d)[i].val
		d.del(string((*d)[i].key))
		res := failBytes
		if bytes.EqualFold(v, []byte("yes")) || string(v) == "1" || len(v) >= 3 && bytes.EqualFold(v[:3], []byte("suc")) {
			res = successBytes
		}
		d.set(resultKey, res, res)
	}
	if i := d.find("exit"); i >= 0 {
		if n, ok := parseInt((*d)[i].val); ok && n < 0 {
			if name, ok := auparse.AuditErrnoToName[int(-n)]; ok {
				(*d)[i].val = m.arena.str(name)
			}
		}
	}
	if i := d.find("key"); i >= 0 {
		orig, val := (*d)[i].orig, (*d)[i].val
		d.del("key")
		*tags = (*tags)[:0]
		if dec, ok := auUpperHex(m, orig); ok {
			for k := range bytes.SplitSeq(dec, []byte{1}) {
				*tags = append(*tags, k)
			}
		} else if j := bytes.IndexByte(val, '='); j >= 0 {
			*tags = append(*tags, val[j+1:])
		} else {
			*tags = append(*tags, val)
		}
	}
	auHex(m, d, "cwd", true)
	switch typ {
	case 1326, parser.TypeSyscall: // SECCOMP, SYSCALL
		if typ == 1326 {
			i := d.find("sig")
			if i < 0 {
				return false
			}
			n, ok := parseInt((*d)[i].val)
			if !ok {
				return false
			}
			if name := signalName(n); name != "" && n > 0 {
				(*d)[i].val = m.arena.str(name)
			}
		}
		ai := d.find("arch")
		if ai < 0 {
			return false
		}
		a, ok := parseHex((*d)[ai].val)
		if !ok || a > 1<<63-1 {
			return false
		}
		arch := auparse.AuditArch(a).String()
		(*d)[ai].val = m.arena.str(arch)
		si := d.find("syscall")
		if si < 0 {
			return false
		}
		nr, ok := parseInt((*d)[si].val)
		if !ok {
			return false
		}
		if name, ok := auparse.AuditSyscalls[arch][int(nr)]; ok {
			(*d)[si].val = m.arena.str(name)
		}
		if d.find("exe") < 0 {
			return false
		}
		auHex(m, d, "exe", true)
	case parser.TypeSockaddr:
		i := d.find("saddr")
		if i < 0 {
			return false
		}
		s := (*d)[i].val
		d.del("saddr")
		if !e.auSockaddr(m, d, s) {
			return false
		}
	case parser.TypeProctitle:
		if d.find("proctitle") < 0 {
			return false
		}
		auHex(m, d, "proctitle", true)
	case 1123: // USER_CMD
		if d.find("cmd") < 0 {
			return false
		}
		auHex(m, d, "cmd", true)
	case 1319, 1124: // TTY, USER_TTY
		if d.find("data") < 0 {
			return false
		}
		auHex(m, d, "data", true)
	case parser.TypeExecve:
		i := d.find("argc")
		if i < 0 {
			return false
		}
		n, ok := parseInt((*d)[i].val)
		if !ok || n < 0 || n > 1<<32-1 {
			return false
		}
		for a := 0; a < int(n); a++ {
			e.tmp = strconv.AppendInt(append(e.tmp[:0], 'a'), int64(a), 10)
			j := d.find(string(e.tmp))
			if j < 0 {
				return false
			}
			if dec, ok := auUpperHex(m, (*d)[j].orig); ok {
				if z := bytes.IndexByte(dec, 0); z >= 0 {
					dec = dec[:z]
				}
				(*d)[j].val = dec
			}
		}
	case parser.TypePath:
		auSELinux(m, d, "obj")
		auHex(m, d, "name", true)
	case 1112: // USER_LOGIN: acct only in failed logins
		auHex(m, d, "acct", true)
	}
	return true
}

var (
	unsetBytes   = []byte("unset")
	successBytes = []byte("success")
	failBytes    = []byte("fail")
	unknownBytes = []byte("unknown")
	resultKey    = []byte("result")
)

// auSELinux splits a label user:role:domain:level:category into key_user,
// key_role... (at most five parts, the last keeps any further colons).
func auSELinux(m *Model, d *auMap, key string) {
	i := d.find(key)
	if i < 0 {
		return
	}
	v := (*d)[i].val
	d.del(key)
	for n, suffix := range []string{"_user", "_role", "_domain", "_level", "_category"} {
		part := v
		if n < 4 {
			if c := bytes.IndexByte(v, ':'); c >= 0 {
				part, v = v[:c], v[c+1:]
			} else {
				v = nil
			}
		} else {
			v = nil
		}
		k := m.arena.keep(append(append(m.arena.room(len(key)+len(suffix)), key...), suffix...))
		d.set(k, part, part)
		if v == nil {
			break
		}
	}
}

// auHex decodes an upper-case hex value as auparse does (the original,
// quotes included, so a quoted value stays as it is); split joins the NUL
// separated parts with spaces.
func auHex(m *Model, d *auMap, key string, split bool) {
	i := d.find(key)
	if i < 0 {
		return
	}
	dec, ok := auUpperHex(m, (*d)[i].orig)
	if !ok || len(dec) == 0 {
		return
	}
	if split {
		for j := range dec {
			if dec[j] == 0 {
				dec[j] = ' '
			}
		}
	}
	(*d)[i].val = dec
}

// auUpperHex decodes hex of upper-case digits only (auparse's rule).
func auUpperHex(m *Model, s []byte) ([]byte, bool) {
	if len(s)%2 != 0 {
		return nil, false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return nil, false
		}
	}
	out, _ := parser.DecodeHex(m.arena.room(len(s)/2), s)
	return m.arena.keep(out), true
}

// auSockaddr is auparse's parseSockaddr: family, and addr/port or path.
func (e *Enricher) auSockaddr(m *Model, d *auMap, s []byte) bool {
	if len(s) < 4 {
		return false
	}
	fam, err := strconv.ParseInt(string(s[2:4])+string(s[0:2]), 16, 32)
	if err != nil {
		return false
	}
	set := func(k, v string) { d.set([]byte(k), m.arena.str(v), m.arena.str(v)) }
	setB := func(k string, v []byte) { d.set([]byte(k), v, v) }
	switch fam {
	case 1:
		p, ok := auUpperHex(m, s[4:])
		if !ok {
			return false
		}
		if z := bytes.IndexByte(p, 0); z >= 0 {
			p = p[:z]
		}
		set("family", "unix")
		setB("path", p)
	case 2:
		if len(s) < 16 {
			return false
		}
		port, err1 := strconv.ParseInt(string(s[4:8]), 16, 32)
		ip, err2 := strconv.ParseUint(string(s[8:16]), 16, 32)
		if err1 != nil || err2 != nil {
			return false
		}
		set("family", "ipv4")
		set("addr", netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}).String())
		set("port", strconv.Itoa(int(port)))
	case 10:
		if len(s) < 48 {
			return false
		}
		port, err1 := strconv.ParseInt(string(s[4:8]), 16, 32)
		flow, err2 := strconv.ParseInt(string(s[8:16]), 16, 32)
		b, ok := parser.DecodeHex(nil, s[16:48])
		if err1 != nil || err2 != nil || !ok {
			return false
		}
		set("family", "ipv6")
		set("addr", netip.AddrFrom16([16]byte(b)).String())
		set("port", strconv.Itoa(int(port)))
		if flow > 0 {
			set("flow", strconv.Itoa(int(flow)))
		}
	case 16:
		set("family", "netlink")
		setB("saddr", s)
	default:
		set("family", strconv.Itoa(int(fam)))
		setB("saddr", s)
	}
	return true
}

// eventCategories are aucoalesce's event categories per record type.
var eventCategories = func() (t [3000]string) {
	for i := range t {
		t[i] = aucoalesce.GetAuditEventType(auparse.AuditMessageType(i)).String()
	}
	return t
}()

func eventCategory(typ uint16) string {
	if int(typ) < len(eventCategories) {
		return eventCategories[typ]
	}
	return "unknown"
}
