package corpus

import (
	"bytes"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// These tests pin the scenarios of kills.log and files.log (README.md), so
// that a regenerated log which lost a case fails.

type rec struct {
	typ string
	f   map[string]string // raw fields (before 0x1d)
	e   map[string]string // enriched fields (after 0x1d), unquoted
}

type ev struct {
	id   string
	recs []rec
}

func (e *ev) first(typ string) (rec, bool) {
	for _, r := range e.recs {
		if r.typ == typ {
			return r, true
		}
	}
	return rec{}, false
}

func (e *ev) all(typ string) []rec {
	var out []rec
	for _, r := range e.recs {
		if r.typ == typ {
			out = append(out, r)
		}
	}
	return out
}

var genHdr = regexp.MustCompile(`^type=(\S+) msg=audit\((\d+\.\d+:\d+)\): `)

func parseEvents(t *testing.T, name string) []*ev {
	t.Helper()
	var out []*ev
	byID := map[string]*ev{}
	for i, l := range Lines(name) {
		m := genHdr.FindSubmatchIndex(l)
		if m == nil {
			t.Fatalf("%s:%d: not an audit record: %q", name, i+1, l)
		}
		typ, id := string(l[m[2]:m[3]]), string(l[m[4]:m[5]])
		raw, enr := l[m[1]:], []byte(nil)
		if j := bytes.IndexByte(raw, 0x1d); j >= 0 {
			raw, enr = raw[:j], raw[j+1:]
		}
		r := rec{typ: typ, f: kv(raw, false), e: kv(enr, true)}
		e := byID[id]
		if e == nil {
			e = &ev{id: id}
			byID[id] = e
			out = append(out, e)
		}
		e.recs = append(e.recs, r)
	}
	return out
}

func kv(b []byte, unquote bool) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(f, "="); ok {
			if unquote {
				v = strings.Trim(v, `"`)
			}
			m[k] = v
		}
	}
	return m
}

// str decodes an audit string value: "quoted" or hex.
func str(v string) string {
	if strings.HasPrefix(v, `"`) {
		return strings.Trim(v, `"`)
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return v
	}
	return string(b)
}

func i32(hexv string) int64 {
	v, _ := strconv.ParseUint(hexv, 16, 64)
	return int64(int32(uint32(v)))
}

func checkCommon(t *testing.T, name string, evs []*ev) {
	t.Helper()
	if len(evs) == 0 {
		t.Fatalf("%s: no events", name)
	}
	for _, e := range evs {
		sc, ok := e.first("SYSCALL")
		if !ok {
			t.Errorf("%s: event %s has no SYSCALL record", name, e.id)
			continue
		}
		if !strings.HasPrefix(sc.f["key"], `"gen_`) {
			t.Errorf("%s: event %s key %s, want gen_*", name, e.id, sc.f["key"])
		}
		if sc.f["auid"] != "0" {
			t.Errorf("%s: event %s auid=%s, want 0", name, e.id, sc.f["auid"])
		}
		if sc.e["SYSCALL"] == "" {
			t.Errorf("%s: event %s SYSCALL record not enriched", name, e.id)
		}
	}
}

func TestKillsScenarios(t *testing.T) {
	evs := parseEvents(t, Kills)
	checkCommon(t, Kills, evs)
	type want struct {
		name string
		ok   func(e *ev, sc rec, objs []rec) bool
	}
	has := func(pred func(string) bool, vals ...string) bool {
		for _, v := range vals {
			if pred(v) {
				return true
			}
		}
		return false
	}
	x86 := func(sc rec, nr string) bool { return sc.f["arch"] == "c000003e" && sc.f["syscall"] == nr }
	wants := []want{
		{"seed-like kill -9 of sh by sh", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && sc.f["a1"] == "9" && sc.f["comm"] == `"sh"` && len(o) == 1 && o[0].f["ocomm"] == `"sh"` &&
				i32(sc.f["a0"]) == mustInt(o[0].f["opid"])
		}},
		{"process-group kill(-PGID, SIGTERM) with >=5 OBJ_PID", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && i32(sc.f["a0"]) < -1 && sc.f["a1"] == "f" && len(o) >= 5
		}},
		{"kill(0, SIGUSR1) reaching the caller", func(e *ev, sc rec, o []rec) bool {
			if !x86(sc, "62") || sc.f["a0"] != "0" || sc.f["a1"] != "a" || len(o) < 2 {
				return false
			}
			for _, r := range o {
				if r.f["opid"] == sc.f["pid"] {
					return true
				}
			}
			return false
		}},
		{"kill(-1, 0)", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && i32(sc.f["a0"]) == -1 && sc.f["a1"] == "0" && len(o) >= 1
		}},
		{"EPERM by uid 65534, with OBJ_PID", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && sc.f["success"] == "no" && sc.f["exit"] == "-1" && sc.f["uid"] == "65534" && len(o) == 1
		}},
		{"ESRCH, no OBJ_PID", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && sc.f["success"] == "no" && sc.f["exit"] == "-3" && len(o) == 0
		}},
		{"32-bit kill (arch=40000003 syscall=37)", func(e *ev, sc rec, o []rec) bool {
			return sc.f["arch"] == "40000003" && sc.f["syscall"] == "37" && sc.e["ARCH"] == "i386" && o0(o, "ocomm") == `"sleep"`
		}},
		{"tkill (200)", func(e *ev, sc rec, o []rec) bool { return x86(sc, "200") && o0(o, "ocomm") == `"sleep"` }},
		{"tgkill (234) SIGTERM", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "234") && sc.f["a2"] == "f" && o0(o, "ocomm") == `"sleep"`
		}},
		{"tgkill SIGURG to another process", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "234") && sc.f["a2"] == "17" && len(o) == 1 && o[0].f["opid"] != sc.f["pid"]
		}},
		{"tgkill SIGURG to own thread", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "234") && sc.f["a2"] == "17" && len(o) == 1 && o[0].f["opid"] == sc.f["pid"]
		}},
		{"rt_sigqueueinfo (129)", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "129") && sc.f["a1"] == "a" && o0(o, "ocomm") == `"sleep"`
		}},
		{"rt_tgsigqueueinfo (297)", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "297") && sc.f["a2"] == "c" && o0(o, "ocomm") == `"sleep"`
		}},
		{"pidfd_send_signal (424)", func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "424") && sc.f["a1"] == "9" && o0(o, "ocomm") == `"sleep"`
		}},
		{"stale PROCTITLE (helper exe, sh proctitle)", func(e *ev, sc rec, o []rec) bool {
			p, ok := e.first("PROCTITLE")
			return ok && sc.f["comm"] == `"helper"` && strings.HasPrefix(str(p.f["proctitle"]), "sh\x00-c\x00")
		}},
	}
	for _, c := range []struct{ what, sub string }{
		{"space", " "}, {"newline", "\n"}, {"ESC", "\x1b[31m"}, {"invalid UTF-8", "\xff"},
	} {
		c := c
		wants = append(wants, want{"caller comm and target ocomm with " + c.what, func(e *ev, sc rec, o []rec) bool {
			return x86(sc, "62") && !strings.HasPrefix(sc.f["comm"], `"`) && strings.Contains(str(sc.f["comm"]), c.sub) &&
				strings.Contains(str(sc.f["exe"]), c.sub) && len(o) == 1 && strings.Contains(str(o[0].f["ocomm"]), c.sub)
		}})
	}
	wants = append(wants,
		want{"UTF-8 ocomm", func(e *ev, sc rec, o []rec) bool {
			return len(o) == 1 && has(func(s string) bool { return utf8.ValidString(s) && strings.ContainsRune(s, 'é') }, str(o[0].f["ocomm"]))
		}},
		want{"ocomm with UTF-8 cut at 15 bytes", func(e *ev, sc rec, o []rec) bool {
			s := str(o0(o, "ocomm"))
			return len(s) == 15 && !utf8.ValidString(s) && strings.HasSuffix(s, "\xc3")
		}},
		want{"prctl names: comm with TAB, ocomm with quote", func(e *ev, sc rec, o []rec) bool {
			return str(sc.f["comm"]) == "tab\there" && str(o0(o, "ocomm")) == `say "hi"`
		}},
	)
	for _, w := range wants {
		found := false
		for _, e := range evs {
			sc, _ := e.first("SYSCALL")
			if w.ok(e, sc, e.all("OBJ_PID")) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("kills.log: no event for scenario %q", w.name)
		}
	}
}

func o0(o []rec, k string) string {
	if len(o) != 1 {
		return ""
	}
	return o[0].f[k]
}

func mustInt(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

func TestFilesScenarios(t *testing.T) {
	evs := parseEvents(t, Files)
	checkCommon(t, Files, evs)
	keys := map[string]bool{}
	calls := map[string]string{} // name -> number seen
	nametypes := map[string]bool{}
	for _, e := range evs {
		sc, _ := e.first("SYSCALL")
		keys[sc.f["key"]] = true
		calls[sc.e["SYSCALL"]] = sc.f["syscall"]
		for _, p := range e.all("PATH") {
			nametypes[p.f["nametype"]] = true
		}
	}
	for _, k := range []string{`"gen_watch"`, `"gen_dir"`} {
		if !keys[k] {
			t.Errorf("files.log: no event with key %s", k)
		}
	}
	for name, nr := range map[string]string{
		"openat": "257", "rename": "82", "renameat": "264", "renameat2": "316", "linkat": "265",
		"symlinkat": "266", "unlinkat": "263", "fchmodat": "268", "fchownat": "260",
		"setxattr": "188", "utimensat": "280", "fchown": "93", "fsetxattr": "190",
	} {
		if calls[name] != nr {
			t.Errorf("files.log: no %s (syscall=%s) event (have %q)", name, nr, calls[name])
		}
	}
	for _, nt := range []string{"NORMAL", "PARENT", "CREATE", "DELETE", "UNKNOWN"} {
		if !nametypes[nt] {
			t.Errorf("files.log: no PATH with nametype=%s", nt)
		}
	}
	type want struct {
		name string
		ok   func(e *ev, sc rec, paths []rec) bool
	}
	openFlags := func(sc rec, set, unset uint64) bool {
		v, _ := strconv.ParseUint(sc.f["a2"], 16, 64)
		return sc.e["SYSCALL"] == "openat" && sc.f["success"] == "yes" && v&set == set && v&unset == 0
	}
	const oCreat, oTrunc, oAppend = 0o100, 0o1000, 0o2000
	wants := []want{
		{"create (O_CREAT, CREATE path)", func(e *ev, sc rec, p []rec) bool {
			return openFlags(sc, oCreat|oTrunc, 0) && len(p) == 2 && p[1].f["nametype"] == "CREATE"
		}},
		{"append (O_APPEND)", func(e *ev, sc rec, p []rec) bool { return openFlags(sc, oAppend, oTrunc) }},
		{"truncate of an existing file (O_TRUNC, NORMAL path)", func(e *ev, sc rec, p []rec) bool {
			return openFlags(sc, oTrunc, 0) && len(p) == 1 && p[0].f["nametype"] == "NORMAL"
		}},
		{"sed -i rename over (5 PATH)", func(e *ev, sc rec, p []rec) bool {
			return sc.e["SYSCALL"] == "rename" && sc.f["comm"] == `"sed"` && len(p) == 5
		}},
		{"failed symlinkat EEXIST", func(e *ev, sc rec, p []rec) bool {
			return sc.e["SYSCALL"] == "symlinkat" && sc.f["exit"] == "-17"
		}},
		{"chown to nobody (a2=fffe)", func(e *ev, sc rec, p []rec) bool {
			return sc.e["SYSCALL"] == "fchownat" && sc.f["a2"] == "fffe"
		}},
		{"fd-based event with PATH name=(null)", func(e *ev, sc rec, p []rec) bool {
			return len(p) == 1 && p[0].f["name"] == "(null)"
		}},
		{"relative path ../app.conf from D/sub", func(e *ev, sc rec, p []rec) bool {
			c, _ := e.first("CWD")
			return len(p) == 1 && str(p[0].f["name"]) == "../app.conf" && strings.HasSuffix(str(c.f["cwd"]), "/sub")
		}},
		{"openat(dirfd, \"dirfd.txt\") from cwd /", func(e *ev, sc rec, p []rec) bool {
			c, _ := e.first("CWD")
			return len(p) == 2 && str(p[1].f["name"]) == "dirfd.txt" && p[1].f["nametype"] == "CREATE" && str(c.f["cwd"]) == "/" &&
				sc.f["a0"] != "ffffff9c"
		}},
		{"nobody's successful write", func(e *ev, sc rec, p []rec) bool {
			return sc.f["uid"] == "65534" && sc.f["success"] == "yes" && openFlags(sc, oAppend, 0)
		}},
		{"nobody's failed write EACCES", func(e *ev, sc rec, p []rec) bool {
			return sc.f["uid"] == "65534" && sc.f["success"] == "no" && sc.f["exit"] == "-13" && len(p) == 1
		}},
		{"dir rule key on D/sub", func(e *ev, sc rec, p []rec) bool {
			return sc.f["key"] == `"gen_dir"` && len(p) == 2 && strings.HasSuffix(str(p[1].f["name"]), "/sub/inner.conf")
		}},
	}
	for _, c := range []struct{ what, sub string }{
		{"space", " "}, {"newline", "\n"}, {"ESC", "\x1b[31m"}, {"invalid UTF-8", "\xff"},
	} {
		for _, nt := range []string{"CREATE", "DELETE"} {
			c, nt := c, nt
			wants = append(wants, want{nt + " of a file name with " + c.what, func(e *ev, sc rec, p []rec) bool {
				for _, r := range p {
					if r.f["nametype"] == nt && !strings.HasPrefix(r.f["name"], `"`) && strings.Contains(str(r.f["name"]), c.sub) {
						return true
					}
				}
				return false
			}})
		}
	}
	for _, w := range wants {
		found := false
		for _, e := range evs {
			sc, _ := e.first("SYSCALL")
			if w.ok(e, sc, e.all("PATH")) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("files.log: no event for scenario %q", w.name)
		}
	}
}

func TestGenLogsRaw(t *testing.T) {
	// The RAW form is derived, not stored: every enriched line loses its
	// suffix and nothing else.
	for _, name := range []string{Kills, Files} {
		b := Bytes(name)
		raw := StripEnriched(b)
		if bytes.IndexByte(raw, 0x1d) >= 0 || bytes.Count(raw, []byte("\n")) != bytes.Count(b, []byte("\n")) {
			t.Errorf("%s: StripEnriched broke lines", name)
		}
		if bytes.IndexByte(b, 0x1d) < 0 {
			t.Errorf("%s: not ENRICHED", name)
		}
	}
}
