package parser

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

func mustParse(t testing.TB, line string) *Record {
	t.Helper()
	var r Record
	if err := Parse([]byte(line), &r); err != nil {
		t.Fatalf("Parse(%.120q): %v", line, err)
	}
	return &r
}

func val(t testing.TB, r *Record, key string) string {
	t.Helper()
	v, ok := r.Value(key)
	if !ok {
		t.Fatalf("%s: no field %q", r.Name(), key)
	}
	return string(v)
}

// Every line of the three corpus forms parses, with the header exact, no
// value swallowing the enriched separator, and the enriched part present
// exactly where the file has one.
func TestCorpusEveryLineParses(t *testing.T) {
	for _, name := range []string{corpus.Enriched, corpus.Raw, corpus.NodeRaw, corpus.Seed} {
		t.Run(name, func(t *testing.T) {
			var r Record
			for i, line := range corpus.Lines(name) {
				if err := Parse(line, &r); err != nil {
					t.Fatalf("line %d: %v: %.200q", i+1, err, line)
				}
				if r.Type == 0 || r.Serial == 0 || r.Sec < 1e9 || len(r.Fields) == 0 {
					t.Fatalf("line %d: implausible record %s %d.%03d:%d with %d fields", i+1, r.Name(), r.Sec, r.Msec, r.Serial, len(r.Fields))
				}
				// header round trip
				want := fmt.Sprintf("type=%s msg=audit(%d.%03d:%d): ", r.Name(), r.Sec, r.Msec, r.Serial)
				if r.Node.Len > 0 {
					want = "node=" + string(r.NodeName()) + " " + want
				}
				if !bytes.HasPrefix(line, []byte(want)) {
					t.Fatalf("line %d: header reads back as %q", i+1, want)
				}
				if name == corpus.NodeRaw && string(r.NodeName()) != "vm" {
					t.Fatalf("line %d: node %q", i+1, r.NodeName())
				}
				hasSuffix := bytes.IndexByte(line, EnrichedSeparator) >= 0
				if hasSuffix != (len(r.Enriched) > 0) {
					t.Fatalf("line %d: suffix in line %v, enriched fields %d", i+1, hasSuffix, len(r.Enriched))
				}
				for _, f := range append(r.Fields, r.Enriched...) {
					if bytes.IndexByte(r.Bytes(f.Val), EnrichedSeparator) >= 0 || bytes.IndexByte(r.Bytes(f.Key), EnrichedSeparator) >= 0 {
						t.Fatalf("line %d: field %q glued to the enriched suffix", i+1, r.Bytes(f.Key))
					}
					if f.Kind == Text {
						t.Fatalf("line %d: keyless text %q in a kernel record", i+1, r.Bytes(f.Val))
					}
				}
			}
		})
	}
}

func TestSeedRecords(t *testing.T) {
	lines := corpus.Lines(corpus.Seed)
	r := mustParse(t, string(lines[0]))
	if r.Type != TypeSyscall || r.Name() != "SYSCALL" || r.Sec != 1695710251 || r.Msec != 567 || r.Serial != 366042 {
		t.Fatalf("header: %s %d.%d:%d", r.Name(), r.Sec, r.Msec, r.Serial)
	}
	for k, v := range map[string]string{"arch": "c000003e", "syscall": "62", "a0": "1dfd", "a1": "9", "ppid": "5533", "pid": "7885",
		"comm": "sh", "exe": "/usr/bin/bash", "key": "(null)", "subj": "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", "tty": "pts5"} {
		if got := val(t, r, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if f, _ := r.Field("comm"); f.Kind != Quoted {
		t.Errorf("comm kind %v", f.Kind)
	}
	if f, _ := r.Field("key"); f.Kind != Plain {
		t.Errorf("key kind %v", f.Kind)
	}
	if len(r.Fields) != 26 {
		t.Errorf("%d fields, want 26", len(r.Fields))
	}
	o := mustParse(t, string(lines[1]))
	if o.Type != TypeObjPid || val(t, o, "opid") != "7677" || val(t, o, "ocomm") != "sh" {
		t.Errorf("OBJ_PID: %q", o.Line)
	}
	p := mustParse(t, string(lines[2]))
	f, _ := p.Field("proctitle")
	title, hex := p.Untrusted(nil, f)
	if !hex || string(title) != "sh\x00xdkill.sh" || p.Type != TypeProctitle {
		t.Errorf("proctitle %q hex=%v", title, hex)
	}
}

func TestEnrichedSuffixKeptApart(t *testing.T) {
	line := "type=CONFIG_CHANGE msg=audit(1795531449.680:76875): auid=4294967295 ses=4294967295 op=add_rule key=\"kill\" list=4 res=1\x1dAUID=\"unset\""
	r := mustParse(t, line)
	if val(t, r, "res") != "1" || val(t, r, "key") != "kill" || val(t, r, "op") != "add_rule" {
		t.Fatalf("raw values: res=%q", val(t, r, "res"))
	}
	if v, _ := r.EnrichedValue("AUID"); string(v) != "unset" {
		t.Fatalf("AUID=%q", v)
	}
	if _, ok := r.Value("AUID"); ok {
		t.Fatal("enriched field visible as a raw field")
	}
	if string(r.Bytes(r.Body)) != "auid=4294967295 ses=4294967295 op=add_rule key=\"kill\" list=4 res=1" {
		t.Fatalf("body %q", r.Bytes(r.Body))
	}
	s := mustParse(t, "type=SOCKADDR msg=audit(1795531449.680:76876): saddr=100000000000000000000000\x1dSADDR={ saddr_fam=netlink nlnk-fam=16 nlnk-pid=0 }")
	if v, _ := s.EnrichedValue("SADDR"); string(v) != "saddr_fam=netlink nlnk-fam=16 nlnk-pid=0" {
		t.Fatalf("SADDR=%q", v)
	}
	if val(t, s, "saddr") != "100000000000000000000000" {
		t.Fatal("saddr")
	}
	sys := mustParse(t, string(corpus.Lines(corpus.Enriched)[1]))
	for k, v := range map[string]string{"ARCH": "x86_64", "SYSCALL": "sendto", "AUID": "unset", "UID": "root", "FSGID": "root"} {
		if got, _ := sys.EnrichedValue(k); string(got) != v {
			t.Errorf("%s=%q want %q", k, got, v)
		}
	}
	if val(t, sys, "key") != "(null)" {
		t.Errorf("key=%q", val(t, sys, "key"))
	}
}

func TestNodePrefix(t *testing.T) {
	r := mustParse(t, `node=web-01.example.com type=OBJ_PID msg=audit(1795533165.100:86240): opid=14250 oauid=-1 ouid=0 oses=-1 ocomm="victimsvc"`)
	if string(r.NodeName()) != "web-01.example.com" || r.Type != TypeObjPid || r.Serial != 86240 || val(t, r, "ocomm") != "victimsvc" {
		t.Fatalf("node=%q", r.NodeName())
	}
	for _, bad := range []string{"node= type=SYSCALL msg=audit(1.000:1): a=b", "node=x", "node=x msg=audit(1.000:1): a=b"} {
		var r Record
		if err := Parse([]byte(bad), &r); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// The netlink form of every corpus record (numeric type, payload without
// type= and msg=) parses to the same record as the log line.
func TestNetlinkForm(t *testing.T) {
	var a, b Record
	for i, line := range corpus.Lines(corpus.Raw) {
		if err := Parse(line, &a); err != nil {
			t.Fatal(err)
		}
		payload := line[bytes.Index(line, []byte("audit(")):]
		if err := ParseNetlink(a.Type, append(append([]byte{}, payload...), 0, 0), &b); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if a.Type != b.Type || a.Sec != b.Sec || a.Msec != b.Msec || a.Serial != b.Serial || len(a.Fields) != len(b.Fields) {
			t.Fatalf("line %d: netlink %s %d fields, log %s %d", i+1, b.Name(), len(b.Fields), a.Name(), len(a.Fields))
		}
		for j := range a.Fields {
			if !bytes.Equal(a.Bytes(a.Fields[j].Val), b.Bytes(b.Fields[j].Val)) {
				t.Fatalf("line %d field %d differs", i+1, j)
			}
		}
	}
	var e Record
	if err := ParseNetlink(TypeEOE, []byte("audit(1795531449.680:76876): \x00"), &e); err != nil || e.Type != TypeEOE || e.Serial != 76876 || e.Name() != "EOE" || len(e.Fields) != 0 {
		t.Fatalf("EOE: %v %+v", err, e)
	}
	if err := ParseNetlink(1300, []byte("arch=c000003e syscall=62"), &e); !errors.Is(err, ErrNetlinkPayload) {
		t.Fatalf("payload without header: %v", err)
	}
}

func TestUnknownTypes(t *testing.T) {
	for _, tc := range []struct {
		line string
		typ  uint16
		name string
	}{
		{"type=UNKNOWN[1337] msg=audit(1700000000.001:5): x=1", 1337, "OPENAT2"},
		{"type=UNKNOWN[1399] msg=audit(1700000000.001:5): x=1", 1399, "UNKNOWN[1399]"},
		{"type=1399 msg=audit(1700000000.001:5): x=1", 1399, "UNKNOWN[1399]"},
		{"type=SOME_NEW_TYPE msg=audit(1700000000.001:5): x=1", 0, "SOME_NEW_TYPE"},
		{"type=DAEMON_START msg=audit(1700000000.001:6085): op=start ver=3.0.9 format=enriched kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success", 1200, "DAEMON_START"},
	} {
		r := mustParse(t, tc.line)
		if r.Type != tc.typ || r.Name() != tc.name {
			t.Errorf("%q: type %d %q, want %d %q", tc.line, r.Type, r.Name(), tc.typ, tc.name)
		}
	}
	var r Record
	if err := Parse([]byte("type=UNKNOWN[99999] msg=audit(1.000:1): x=1"), &r); !errors.Is(err, ErrBadType) {
		t.Errorf("out of range type: %v", err)
	}
	if err := Parse([]byte("type=bad<type> msg=audit(1.000:1): x=1"), &r); !errors.Is(err, ErrBadType) {
		t.Errorf("bad type name: %v", err)
	}
}

func TestValueForms(t *testing.T) {
	// nested msg='...' of user-space records, with its inner fields
	r := mustParse(t, string(corpus.Lines(corpus.Enriched)[bytes.Count(corpus.Bytes(corpus.Enriched)[:bytes.Index(corpus.Bytes(corpus.Enriched), []byte("type=USER_AUTH"))], []byte("\n"))]))
	if r.Name() != "USER_AUTH" {
		t.Fatalf("picked %s", r.Name())
	}
	msg, _ := r.Field("msg")
	if msg.Kind != Nested || !strings.HasPrefix(string(r.Bytes(msg.Val)), "op=PAM:authentication ") || !strings.HasSuffix(string(r.Bytes(msg.Val)), "res=success") {
		t.Fatalf("msg %v %q", msg.Kind, r.Bytes(msg.Val))
	}
	for k, v := range map[string]string{"pid": "32445", "op": "PAM:authentication", "acct": "auditvictim", "exe": "/usr/bin/su", "hostname": "?", "res": "success", "grantors": "pam_rootok"} {
		if got := val(t, r, k); got != v {
			t.Errorf("%s=%q want %q", k, got, v)
		}
	}
	if f, _ := r.Field("exe"); f.Depth != 1 {
		t.Errorf("nested exe depth %d", f.Depth)
	}
	if v, _ := r.EnrichedValue("UID"); string(v) != "root" {
		t.Errorf("UID %q", v)
	}

	// unquoted multi-word values, as shadow-utils writes op=
	r = mustParse(t, `type=ADD_USER msg=audit(1700000000.123:77): pid=5 uid=0 auid=1000 ses=3 msg='op=adding user id=1001 exe="/usr/sbin/useradd" hostname=h addr=? terminal=pts/0 res=success'`)
	if val(t, r, "op") != "adding user" || val(t, r, "id") != "1001" || val(t, r, "terminal") != "pts/0" {
		t.Errorf("op=%q id=%q", val(t, r, "op"), val(t, r, "id"))
	}

	// keyless AVC prefix
	r = mustParse(t, `type=AVC msg=audit(1700000000.123:78): avc:  denied  { read } for  pid=1234 comm="cat" name="shadow" tclass=file permissive=0`)
	if r.Fields[0].Kind != Text || string(r.Bytes(r.Fields[0].Val)) != "avc:  denied  { read } for" || val(t, r, "pid") != "1234" || val(t, r, "tclass") != "file" {
		t.Errorf("AVC text %q", r.Bytes(r.Fields[0].Val))
	}

	// hex values stay encoded; the decode helper decodes them
	r = mustParse(t, `type=OBJ_PID msg=audit(1795531449.692:76888): opid=32399 oauid=-1 ouid=0 oses=-1 ocomm=7A68692D66752DE58AA1`)
	f, _ := r.Field("ocomm")
	if string(r.Bytes(f.Val)) != "7A68692D66752DE58AA1" {
		t.Fatal("hex value changed by the parser")
	}
	if s, hex := r.Untrusted(nil, f); !hex || string(s) != "zhi-fu-务" {
		t.Errorf("decoded %q", s)
	}
	if _, ok := DecodeHex(nil, []byte("7A6")); ok {
		t.Error("odd hex decoded")
	}
	if _, ok := DecodeHex(nil, []byte("7G")); ok {
		t.Error("bad hex decoded")
	}
	if s, hex := r.Untrusted(nil, Field{Val: Span{0, 4}}); hex || string(s) != "type" {
		t.Errorf("non-hex plain value %q %v", s, hex)
	}
	// empty values
	r = mustParse(t, `type=USER_CMD msg=audit(1700000000.123:79): pid=1 cwd="" cmd= res=success`)
	if val(t, r, "cwd") != "" || val(t, r, "cmd") != "" || val(t, r, "res") != "success" {
		t.Error("empty values")
	}
}

// An embedded "msg=audit(" inside a value does not start a new record.
func TestEmbeddedHeader(t *testing.T) {
	r := mustParse(t, `type=USER_AVC msg=audit(1700000000.500:900): pid=1 uid=0 auid=0 ses=1 msg='text type=SYSCALL msg=audit(1.000:2): arch=c000003e syscall=62 exe="/x"'`)
	if r.Type != 1107 || r.Serial != 900 || r.Sec != 1700000000 {
		t.Fatalf("header %s %d", r.Name(), r.Serial)
	}
	if val(t, r, "pid") != "1" || val(t, r, "syscall") != "62" {
		t.Fatal("values")
	}
	if f, _ := r.Field("syscall"); f.Depth != 1 {
		t.Fatal("inner text seen as a top-level field")
	}
}

func TestMalformed(t *testing.T) {
	long := "type=EXECVE msg=audit(1700000000.000:1): argc=1 a0=\"" + strings.Repeat("x", 1<<20) + "\""
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/13)
	}
	for _, tc := range []struct {
		line string
		want error
	}{
		{"", ErrEmpty},
		{"\n", ErrEmpty},
		{long, ErrTooLong},
		{string(garbage), ErrBinary},
		{"\x01\x02\x03 garbage", ErrNoType},
		{"msg=audit(1700000000.000:1): a=b", ErrNoType},
		{"type=SYSCALL", ErrBadType},
		{"type=SYSCALL msg=", ErrNoMsg},
		{"type=SYSCALL arch=c000003e", ErrNoMsg},
		{"type=SYSCALL msg=audit(", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.00:1): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.0001:1): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.000:): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.000:4294967296): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.000:12)a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(x.000:12): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(99999999999999999999999.000:12): a=b", ErrBadTimestamp},
		{"type=SYSCALL msg=audit(1700000000.000:12): a=b\x00c", ErrBinary},
		{"type=SYSCALL msg=audit(1700000000.000:12): " + strings.Repeat("a=1 ", MaxFields+1), ErrTooManyFields},
	} {
		var r Record
		err := Parse([]byte(tc.line), &r)
		if !errors.Is(err, tc.want) {
			t.Errorf("%.80q: got %v, want %v", tc.line, err, tc.want)
		}
	}
}

// Lines that ausearch and go-libaudit accept although they are not well
// formed: cut short inside a quote, a stray quote after a value, auditd
// 2.x's DAEMON_CONFIG without the colon, a host= prefix.
func TestLenient(t *testing.T) {
	for _, tc := range []struct {
		line string
		want map[string]string
	}{
		{`type=SYSCALL msg=audit(1700000000.000:12): comm="sh`, map[string]string{"comm": "sh"}},
		{`type=EXECVE msg=audit(1700000400.001:9001): argc=3 a0="podman" a1="ps" a2="3f9c2a1b"'`, map[string]string{"a2": "3f9c2a1b", "a1": "ps"}},
		{`type=SYSCALL msg=audit(1700000000.000:12): comm="sh"x a=1`, map[string]string{"comm": "sh", "a": "1"}},
		{`type=USER_AUTH msg=audit(1700000000.000:12): pid=1 msg='op=x acct="bob" exe="/usr/bin/passwd" hos>`, map[string]string{"op": "x", "acct": "bob", "exe": "/usr/bin/passwd", "pid": "1"}},
		{`type=SERVICE_START msg=audit(1700000400.002:9002): pid=1 uid=0 msg='unit=cron comm="systemd" res=success`, map[string]string{"unit": "cron", "res": "success"}},
		{"type=SOCKADDR msg=audit(1700000000.000:12): saddr=01\x1dSADDR={ x", map[string]string{"saddr": "01"}},
		{`type=DAEMON_CONFIG msg=audit(1700000400.003:35) config changed, auid=0 pid=2001 res=success`, map[string]string{"auid": "0", "res": "success"}},
		{`host=kvmhost type=AVC msg=audit(1700000400.004:242): avc:  denied  { write } for pid=3131 comm="qemu-img"`, map[string]string{"pid": "3131", "comm": "qemu-img"}},
	} {
		r := mustParse(t, tc.line)
		for k, v := range tc.want {
			if got := val(t, r, k); got != v {
				t.Errorf("%.60q: %s = %q, want %q", tc.line, k, got, v)
			}
		}
	}
	if r := mustParse(t, `host=kvmhost type=AVC msg=audit(1700000400.004:242): pid=1`); string(r.NodeName()) != "kvmhost" {
		t.Errorf("host= prefix: node %q", r.NodeName())
	}
}

// A line cut anywhere either fails or yields a prefix of the full record:
// the same header and the same fields, the last one possibly shorter. A cut
// can never produce a different record.
func TestTruncatedLines(t *testing.T) {
	lines := corpus.Lines(corpus.Enriched)
	var full, cut Record
	for _, idx := range []int{0, 1, 2, 3, 30, 40, 100, 200, 1000, 5000} {
		line := lines[idx]
		if err := Parse(line, &full); err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(line); n++ {
			err := Parse(line[:n], &cut)
			if err != nil {
				continue
			}
			if cut.Type != full.Type || cut.Serial != full.Serial || cut.Sec != full.Sec || cut.Msec != full.Msec {
				t.Fatalf("line %d cut at %d: header changed", idx, n)
			}
			all := append(append([]Field{}, full.Fields...), full.Enriched...)
			got := append(append([]Field{}, cut.Fields...), cut.Enriched...)
			if len(got) > len(all) {
				t.Fatalf("line %d cut at %d: more fields than the full line", idx, n)
			}
			for i, f := range got {
				if f.Kind == Text && i == len(got)-1 && bytes.HasPrefix(full.Bytes(all[i].Key), cut.Bytes(f.Val)) {
					continue // a key cut before its '='
				}
				if !bytes.Equal(cut.Bytes(f.Key), full.Bytes(all[i].Key)) && !bytes.HasPrefix(full.Bytes(all[i].Key), cut.Bytes(f.Key)) {
					t.Fatalf("line %d cut at %d: field %d key %q vs %q", idx, n, i, cut.Bytes(f.Key), full.Bytes(all[i].Key))
				}
				if !bytes.HasPrefix(full.Bytes(all[i].Val), cut.Bytes(f.Val)) {
					t.Fatalf("line %d cut at %d: field %q value %q not a prefix of %q", idx, n, cut.Bytes(f.Key), cut.Bytes(f.Val), full.Bytes(all[i].Val))
				}
			}
		}
	}
}

// A Record is reused without allocating.
func TestParseDoesNotAllocate(t *testing.T) {
	lines := corpus.Lines(corpus.Enriched)[:2000]
	var r Record
	for _, l := range lines {
		_ = Parse(l, &r)
	}
	allocs := testing.AllocsPerRun(5, func() {
		for _, l := range lines {
			_ = Parse(l, &r)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per %d lines", allocs, len(lines))
	}
}

func FuzzParse(f *testing.F) {
	for i, l := range corpus.Lines(corpus.Enriched) {
		if i%500 == 0 {
			f.Add(l)
		}
	}
	for _, l := range corpus.Lines(corpus.NodeRaw)[:20] {
		f.Add(l)
	}
	f.Add([]byte(`type=USER_AVC msg=audit(1700000000.500:900): pid=1 msg='a=b c="d" e' x=y`))
	f.Add([]byte("type=SOCKADDR msg=audit(1.000:2): saddr=01\x1dSADDR={ a=b }"))
	f.Add([]byte("type=AVC msg=audit(1.000:2): avc:  denied  { read } for  pid=1"))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		check := func(err error) {
			if err != nil {
				return
			}
			for _, fl := range append(r.Fields, r.Enriched...) {
				for _, s := range []Span{fl.Key, fl.Val} {
					if s.Off < 0 || s.Len < 0 || int(s.Off+s.Len) > len(r.Line) {
						t.Fatalf("span %v out of line of %d", s, len(r.Line))
					}
				}
			}
			if r.Msec > 999 {
				t.Fatalf("msec %d", r.Msec)
			}
			_ = r.Name()
			for _, fl := range r.Fields {
				_, _ = r.Untrusted(nil, fl)
			}
		}
		check(Parse(line, &r))
		check(ParseNetlink(1300, line, &r))
	})
}

func TestHexWithStrayQuote(t *testing.T) {
	r := mustParse(t, `type=SYSCALL msg=audit(1700000400.005:106): arch=c000003e syscall=59 comm="find" key=72756E0177617463686564"`)
	f, _ := r.Field("key")
	if got, hex := r.Untrusted(nil, f); string(got) != "run\x01watched" || !hex {
		t.Errorf("key %q (hex %v)", got, hex)
	}
}
