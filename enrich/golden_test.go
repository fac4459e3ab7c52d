package enrich

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// TestGoldenAusearch compares, field by field, the values in our documents
// with `ausearch -i` (the reference interpretation) on every record of the
// corpus and of the real-kernel kill and file logs.
//
// Deliberate differences, handled below and not counted as mismatches:
//   - ausearch prints control bytes and invalid UTF-8 raw (a newline in a
//     comm splits its output line); we escape them (\x0a). Values are
//     compared after undoing our escaping.
//   - exit: ausearch "ESRCH(No such process)", we give errno "ESRCH" and the
//     number; success yes/no is a boolean for us.
//   - a0..a3: ausearch shows hex registers; we give numbers, and for the
//     kill family the decoded target pid (32-bit) and signal name.
//   - ses/auid "unset": ausearch prints unset; we omit ses and name auid
//     "unset" beside the number. key=(null): we omit the key.
//   - mode: ausearch "file,755"; we give mode 0100755, type file, perm 0755.
//   - ids with no name on this host: ausearch "unknown(1001)", we give the
//     number only.
//   - PROCTITLE on a stale title: same text, we also flag it.
func TestGoldenAusearch(t *testing.T) {
	if _, err := exec.LookPath("ausearch"); err != nil {
		if os.Getenv("LINUXAUDIT_REQUIRE_AUSEARCH") == "1" {
			t.Fatal("ausearch not installed (LINUXAUDIT_REQUIRE_AUSEARCH=1)")
		}
		t.Skip("SKIP: ausearch not installed (apt-get install auditd)")
	}
	for _, name := range []string{corpus.Enriched, corpus.NodeRaw, corpus.Raw, corpus.Kills, corpus.Files, corpus.Seed} {
		t.Run(name, func(t *testing.T) {
			n := goldenFile(t, name)
			if n < 10 {
				t.Fatalf("only %d fields compared", n)
			}
			t.Logf("%s: %d field values compared with ausearch -i", name, n)
		})
	}
}

type ausRec struct {
	typ    string
	fields map[string]string
}

func goldenFile(t *testing.T, name string) int {
	return goldenBytes(t, corpus.Bytes(name))
}

// goldenBytes compares our documents for the log data with ausearch -i on
// it and returns the number of values compared.
func goldenBytes(t *testing.T, data []byte) int {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ausearch", "-i", "-if", path)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, _ := cmd.Output() // ausearch exits 1 on some inputs; the output is what counts
	aus := parseAusearch(out)
	if len(aus) == 0 {
		t.Fatalf("no ausearch output")
	}

	// Our side: documents by event, with the raw records that made them.
	e, _ := New(Config{Full: true}) // every field, to compare with ausearch's
	var doc encode.Document
	var buf []byte
	compared, mismatches := 0, 0
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		e.Enrich(ev, &doc)
		buf = doc.AppendJSON(buf[:0])
		d := decodeDoc(t, buf)
		occ := map[string]int{}
		for i := range ev.Records {
			r := &ev.Records[i]
			typ := r.Name()
			base := fmt.Sprintf("%s:%d.%03d:%d:%s", ev.Node(), ev.Sec%60, ev.Msec, ev.Serial, typ)
			var k string
			switch typ {
			case "PATH":
				v, _ := r.Value("item")
				k = base + ":item=" + string(v)
			case "OBJ_PID":
				v, _ := r.Value("opid")
				k = base + ":opid=" + string(v)
			case "EXECVE":
				k = base + ":0"
			default:
				k = fmt.Sprintf("%s:%d", base, occ[typ])
			}
			occ[typ]++
			a, ok := aus[k]
			if !ok {
				if r.Type == parser.TypeEOE {
					continue
				}
				t.Errorf("ausearch has no record %s", k)
				continue
			}
			for _, f := range r.Fields {
				key := string(r.Bytes(f.Key))
				av, ok := a.fields[key]
				if !ok {
					continue
				}
				ours, cmp := ourValue(d, r, typ, occ[typ]-1, key, av)
				if !cmp {
					continue
				}
				compared++
				if unescape(ours) != av {
					mismatches++
					if mismatches < 30 {
						t.Errorf("%s %s: ours %q (%q unescaped), ausearch %q", k, key, ours, unescape(ours), av)
					}
				}
			}
		}
	})
	var r parser.Record
	for _, l := range bytes.Split(data, []byte{'\n'}) {
		if parser.Parse(l, &r) == nil {
			c.Add(&r)
		}
	}
	c.Flush()
	if mismatches > 0 {
		t.Errorf("%d of %d values differ from ausearch", mismatches, compared)
	}
	return compared
}

// parseAusearch splits ausearch -i output into records keyed by
// node:SS.mmm:serial:TYPE:occurrence (SS = seconds mod 100, enough with the
// serial to tell events apart).
func parseAusearch(out []byte) map[string]*ausRec {
	m := map[string]*ausRec{}
	// Records start at a line beginning with "type=" or "node=".
	var starts []int
	for i := 0; i < len(out); i++ {
		if (i == 0 || out[i-1] == '\n') && (bytes.HasPrefix(out[i:], []byte("type=")) || bytes.HasPrefix(out[i:], []byte("node="))) {
			starts = append(starts, i)
		}
	}
	occ := map[string]int{}
	for j, s := range starts {
		end := len(out)
		if j+1 < len(starts) {
			end = starts[j+1]
		}
		rec := out[s:end]
		rec = bytes.TrimSuffix(rec, []byte("----\n"))
		rec = bytes.TrimSuffix(rec, []byte("\n"))
		rec = bytes.TrimSuffix(rec, []byte(" "))
		node := ""
		if bytes.HasPrefix(rec, []byte("node=")) {
			sp := bytes.IndexByte(rec, ' ')
			node = string(rec[5:sp])
			rec = rec[sp+1:]
		}
		sp := bytes.IndexByte(rec, ' ')
		if sp < 0 {
			continue
		}
		typ := string(rec[5:sp])
		// msg=audit(11/24/26 14:44:09.692:76893) : k=v ...
		o := bytes.Index(rec, []byte("msg=audit("))
		c := bytes.Index(rec, []byte(") : "))
		if o < 0 || c < 0 {
			continue
		}
		stamp := string(rec[o+10 : c])
		colon := strings.LastIndexByte(stamp, ':')
		serial := stamp[colon+1:]
		tm := stamp[:colon] // 11/24/26 14:44:09.692
		sec := tm[len(tm)-6 : len(tm)-4]
		msec := tm[len(tm)-3:]
		sn, _ := strconv.Atoi(sec)
		base := fmt.Sprintf("%s:%d.%s:%s:%s", node, sn, msec, serial, typ)
		fields := splitFields(rec[c+4:])
		// ausearch prints an event's records in its own order: key PATH by
		// item, OBJ_PID by opid, and merge split EXECVE records.
		var key string
		switch typ {
		case "PATH":
			key = base + ":item=" + fields["item"]
		case "OBJ_PID":
			key = base + ":opid=" + fields["opid"]
		case "EXECVE":
			key = base + ":0"
			if prev, ok := m[key]; ok {
				for k, v := range fields {
					prev.fields[k] = v
				}
				continue
			}
		default:
			key = fmt.Sprintf("%s:%d", base, occ[base])
			occ[base]++
		}
		m[key] = &ausRec{typ: typ, fields: fields}
	}
	return m
}

// splitFields splits "k=v k=v msg='k=v ...'" where values may contain
// spaces; a new field starts at " name=" with name made of [a-z0-9_-[]].
func splitFields(b []byte) map[string]string {
	m := map[string]string{}
	s := string(b)
	if strings.HasPrefix(s, "proctitle=") { // one field: the whole command line
		m["proctitle"] = unOctal(strings.TrimRight(s[10:], " "))
		return m
	}
	if i := strings.Index(s, "msg='"); i >= 0 {
		inner := strings.TrimSuffix(s[i+5:], "'")
		for k, v := range splitFields([]byte(inner)) {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
		s = s[:i]
	}
	var keys []int
	for i := 0; i < len(s); i++ {
		if i == 0 || s[i-1] == ' ' {
			j := i
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-' || s[j] == '[' || s[j] == ']' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			if j > i && j < len(s) && s[j] == '=' {
				keys = append(keys, i)
			}
		}
	}
	for n, i := range keys {
		end := len(s)
		if n+1 < len(keys) {
			end = keys[n+1] - 1
		}
		eq := strings.IndexByte(s[i:], '=') + i
		if _, dup := m[s[i:eq]]; !dup {
			m[s[i:eq]] = unOctal(strings.TrimRight(s[eq+1:end], " "))
		}
	}
	return m
}

// ourValue returns our document's value for one raw field in ausearch's
// form, and whether the field is compared.
func ourValue(d map[string]any, r *parser.Record, typ string, occ int, key, aus string) (string, bool) {
	idName := func(path string) (string, bool) {
		if strings.HasPrefix(aus, "unknown(") {
			return aus, true // ausearch has no name either; nothing to compare
		}
		v := str(d, path)
		if v == "<nil>" {
			return "", false
		}
		return v, true
	}
	kind := str(d, "event.kind")
	switch typ {
	case "SYSCALL":
		switch key {
		case "arch":
			return str(d, "syscall.arch"), true
		case "syscall":
			return str(d, "syscall.name"), true
		case "success":
			return map[string]string{"true": "yes", "false": "no"}[str(d, "syscall.success")], true
		case "exit":
			if e := str(d, "syscall.errno"); e != "<nil>" {
				if i := strings.IndexByte(aus, '('); i > 0 && aus[:i] == e {
					return aus, true
				}
				return e, true
			}
			return str(d, "syscall.exit"), !strings.Contains(aus, "(")
		case "a0", "a1", "a2":
			if kind != "kill" {
				return "", false
			}
			sys := str(d, "syscall.name")
			sigArg := map[string]string{"kill": "a1", "tkill": "a1", "rt_sigqueueinfo": "a1", "pidfd_send_signal": "a1", "tgkill": "a2", "rt_tgsigqueueinfo": "a2"}[sys]
			if key == sigArg && strings.HasPrefix(aus, "SIG") {
				if aus == "SIG0" && str(d, "signal.name") == "0" {
					return aus, true // ausearch's name for signal 0
				}
				return str(d, "signal.name"), true
			}
			if key == "a0" && (sys == "kill") {
				v, _ := strconv.ParseUint(strings.TrimPrefix(aus, "0x"), 16, 64)
				want := strconv.FormatInt(int64(int32(uint32(v))), 10)
				if str(d, "target.pid_arg") == want {
					return aus, true
				}
				return str(d, "target.pid_arg"), true
			}
			return "", false
		case "ppid", "pid", "tty", "comm", "exe", "subj":
			return str(d, "process."+key), true
		case "items":
			return str(d, "syscall.items"), true
		case "ses":
			if aus == "unset" {
				return "unset", str(d, "process.ses") == "<nil>"
			}
			return str(d, "process.ses"), true
		case "key":
			if aus == "(null)" {
				return aus, str(d, "key") == "<nil>"
			}
			if strings.Contains(aus, "\x01") || strings.Contains(aus, "\\x01") {
				return "", false
			}
			return str(d, "key.0"), true
		default:
			if f, ok := idFields[key]; ok {
				return idName("process." + f.name)
			}
		}
	case "OBJ_PID":
		p := fmt.Sprintf("target.processes.%d.", occ)
		switch key {
		case "opid":
			return str(d, p+"pid"), true
		case "ocomm":
			return str(d, p+"comm"), true
		case "obj":
			return str(d, p+"obj"), true
		case "oses":
			if aus == "unset" || aus == "-1" {
				return aus, str(d, p+"ses") == "<nil>"
			}
			return str(d, p+"ses"), true
		case "ouid":
			return idName(p + "user")
		case "oauid":
			return idName(p + "auser")
		}
	case "PROCTITLE":
		if key == "proctitle" {
			return str(d, "process.cmdline"), true
		}
	case "CWD":
		if key == "cwd" {
			return str(d, "process.cwd"), true
		}
	case "EXECVE":
		if key == "argc" {
			return str(d, "exec.argc"), true
		}
		if len(key) > 1 && key[0] == 'a' && !strings.ContainsAny(key, "[_") {
			n, err := strconv.Atoi(key[1:])
			if err != nil {
				return "", false
			}
			return str(d, fmt.Sprintf("exec.args.%d", n)), true
		}
	case "PATH":
		if kind != "file" {
			return "", false
		}
		items, _ := get(d, "file.items").([]any)
		var it map[string]any
		if len(items) > 0 {
			if occ >= len(items) {
				return "", false
			}
			it = items[occ].(map[string]any)
		} else {
			it, _ = get(d, "file").(map[string]any)
		}
		if it == nil {
			return "", false
		}
		switch key {
		case "name":
			if aus == "(null)" {
				return aus, str(it, "name") == "<nil>"
			}
			if str(it, "name") == "<nil>" {
				return "", false
			}
			return str(it, "name"), true
		case "inode", "dev", "nametype":
			return str(it, key), true
		case "mode":
			// ausearch: file,755 / dir,755 / file,suid,755
			perm := str(it, "perm")
			if perm == "<nil>" {
				return "", false
			}
			p, _ := strconv.ParseUint(perm, 8, 32)
			typ := map[string]string{"file": "file", "dir": "dir", "link": "link", "character-device": "character-special", "block-device": "block-special", "fifo": "fifo", "socket": "socket"}[str(it, "type")]
			s := typ
			for _, b := range []struct {
				bit  uint64
				name string
			}{{0o4000, "suid"}, {0o2000, "sgid"}, {0o1000, "sticky"}} {
				if p&b.bit != 0 {
					s += "," + b.name
				}
			}
			return s + "," + strconv.FormatUint(p&0o777, 8), true
		case "ouid":
			if strings.HasPrefix(aus, "unknown(") {
				return aus, true
			}
			return str(it, "ouser"), true
		case "ogid":
			if strings.HasPrefix(aus, "unknown(") {
				return aus, true
			}
			return str(it, "ogroup"), true
		}
	default:
		// Standalone records (USER_*, CRED_*, CONFIG_CHANGE...) under data.<type>.
		p := "data." + strings.ToLower(typ) + "."
		if _, ok := get(d, "data."+strings.ToLower(typ)).(map[string]any); !ok {
			return "", false
		}
		switch key {
		case "pid", "op", "acct", "exe", "hostname", "addr", "terminal", "grantors", "list":
			if key == "list" {
				return "", false // ausearch names the list (exit); we keep the number
			}
			return str(d, p+key), true
		case "ses":
			if aus == "unset" && str(d, p+"ses") == "4294967295" {
				return aus, true
			}
			return str(d, p+"ses"), true
		case "res":
			v := str(d, p+"res")
			if aus == "yes" && v == "1" || aus == "no" && v == "0" {
				return aus, true
			}
			return v, true
		default:
			if f, ok := idFields[key]; ok {
				return idName(p + f.name)
			}
		}
	}
	return "", false
}

// unescape undoes the Document's escaping (\\, \xNN, \uNNNN).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b = append(b, s[i])
			continue
		}
		switch s[i+1] {
		case '\\':
			b = append(b, '\\')
			i++
		case 'x':
			v, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b = append(b, byte(v))
			i += 3
		case 'u':
			v, _ := strconv.ParseUint(s[i+2:i+6], 16, 32)
			b = utf8.AppendRune(b, rune(v))
			i += 5
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

func decodeDoc(t testing.TB, b []byte) map[string]any {
	docs := runDocsJSON(t, b)
	return docs
}

// unOctal undoes ausearch's \NNN escaping of control bytes in proctitle.
func unOctal(s string) string {
	if !strings.Contains(s, "\\0") {
		return s
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}
