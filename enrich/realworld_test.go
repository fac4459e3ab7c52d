package enrich

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// docsOf runs the enricher (fixed users) over log text in one schema and
// returns the JSON lines, failing on a document that is not valid UTF-8
// JSON or has a key twice in an object.
func docsOf(t testing.TB, log string, cfg Config) [][]byte {
	t.Helper()
	cfg.EtcRoot = "testdata"
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	var doc encode.Document
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		if e.Enrich(ev, &doc) {
			b := doc.AppendJSON(nil)
			checkDoc(t, b)
			out = append(out, b)
		}
	})
	var r parser.Record
	for _, l := range strings.Split(log, "\n") {
		if err := parser.Parse([]byte(l), &r); err == nil {
			c.Add(&r)
		} else if err != parser.ErrEmpty && cfg.Raw {
			c.Unparsed([]byte(l), parser.NoPos)
		}
	}
	c.Flush()
	return out
}

func checkDoc(t testing.TB, b []byte) {
	t.Helper()
	if !utf8.Valid(b) || bytes.IndexByte(b, '\n') >= 0 {
		t.Fatalf("not one line of UTF-8: %q", b)
	}
	dups, err := audittest.DuplicateKeys(b)
	if err != nil {
		t.Fatalf("invalid JSON %v: %s", err, b)
	}
	if len(dups) > 0 {
		t.Fatalf("keys twice in one object %v: %s", dups, b)
	}
}

func oneDoc(t *testing.T, log string, cfg Config) map[string]any {
	t.Helper()
	docs := docsOf(t, log, cfg)
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	return runDocsJSON(t, docs[0])
}

// No document has a key twice, in either schema: repeated fields become
// arrays, old/new pairs old_/new_ names, free text one field, and a name
// we derive gives way to a field of the same name in the record.
func TestNoDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		want      map[string]string
	}{
		{"old LOGIN format", `type=LOGIN msg=audit(1500000000.100:7): pid=4242 uid=0 old auid=801 new auid=802 old ses=11 new ses=12`,
			map[string]string{"data.login.old_auid": "801", "data.login.new_auid": "802", "data.login.old_ses": "11", "data.login.new_ses": "12", "data.login.pid": "4242"}},
		{"a field twice", `type=USER_ACCT msg=audit(1500000000.200:8): pid=31 uid=0 auid=1001 ses=3 msg='pam_tally2 uid=1001 reset=0 exe="/sbin/pam_tally2" res=success'`,
			map[string]string{"data.user_acct.uid.0": "0", "data.user_acct.uid.1": "1001", "data.user_acct.user.0": "root", "data.user_acct.user.1": "auditvictim", "data.user_acct.text": "pam_tally2"}},
		{"a derived name beside a field of that name", `type=VIRT_CONTROL msg=audit(1500000000.300:9): pid=77 uid=0 auid=42 ses=5 msg='user=admin reason=api op=create vm=? exe="/usr/bin/dockerd" res=success'`,
			map[string]string{"data.virt_control.user": "admin", "data.virt_control.uid": "0", "data.virt_control.auser": "_apt"}},
		{"free text in several places", `type=USER_ACCT msg=audit(1500000000.400:10): user pid=99 uid=0 auid=4294967295 msg='PAM: accounting acct=root : exe="/usr/sbin/crond" res=success'`,
			// (an unquoted value inside msg='...' takes the words after it)
			map[string]string{"data.user_acct.text": "user PAM: accounting", "data.user_acct.acct": "root :"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, schema := range []string{"default", "ecs"} {
				d := oneDoc(t, tc.log, Config{Schema: schema})
				if schema == "default" {
					check(t, d, want(tc.want))
				}
			}
		})
	}
}

// Records of a syscall event that come without their SYSCALL (the start of
// a rotated log, a lost record) keep what they say: argv, command line,
// directory.
func TestOrphansKeepTheirContent(t *testing.T) {
	d := oneDoc(t, `type=EXECVE msg=audit(1500000001.000:20): argc=3 a0="grep" a1="-r" a2="needle"`, Config{})
	check(t, d, want{"exec.argc": "3", "exec.args.2": "needle", "event.kind": "exec", "event.action": "executed"})
	if !strings.Contains(str(d, "summary"), "executed grep -r needle") {
		t.Errorf("summary %q", str(d, "summary"))
	}
	d = oneDoc(t, `type=PROCTITLE msg=audit(1500000001.000:21): proctitle=2F62696E2F7368002D6300736C656570203130`, Config{})
	check(t, d, want{"process.cmdline": "/bin/sh -c sleep 10", "process.args.2": "sleep 10"})
	d = oneDoc(t, `type=CWD msg=audit(1500000001.000:22): cwd="/srv/app"`, Config{})
	check(t, d, want{"process.cwd": "/srv/app"})
	d = oneDoc(t, `type=PROCTITLE msg=audit(1500000001.000:21): proctitle=2F62696E2F7368002D6300736C656570203130`, Config{Schema: "ecs"})
	check(t, d, want{"process.command_line": "/bin/sh -c sleep 10", "process.args.1": "<nil>"}) // compact: no argv array outside an exec
}

// i386's socketcall multiplexes the socket calls; the call is named, as
// ausearch's socketcall(bind).
func TestSocketcall(t *testing.T) {
	d := oneDoc(t, `type=SYSCALL msg=audit(1500000002.000:30): arch=40000003 syscall=102 success=no exit=-13 a0=2 a1=bf80c000 a2=c00010 a3=1 items=0 ppid=1 pid=200 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 comm="httpd" exe="/usr/sbin/httpd" key=(null)`, Config{})
	check(t, d, want{"syscall.name": "socketcall", "syscall.call": "bind", "syscall.errno": "EACCES"})
	if !strings.Contains(str(d, "summary"), "called socketcall(bind): EACCES") {
		t.Errorf("summary %q", str(d, "summary"))
	}
}

// A record that arrives after its event was emitted comes out in a
// follow-up document with the same id, marked late; with raw=true a line
// that is not an audit record is kept.
func TestLateAndUnparsed(t *testing.T) {
	log := `type=SYSCALL msg=audit(1500000003.000:40): arch=c000003e syscall=62 success=yes exit=0 a0=99 a1=9 items=0 ppid=1 pid=300 uid=0 comm="kill" key=(null)
type=PROCTITLE msg=audit(1500000003.000:40): proctitle=6B696C6C
` + userEnds(40) + `type=OBJ_PID msg=audit(1500000003.000:40): opid=99 oauid=-1 ouid=0 oses=-1 ocomm="sleep"
this is not an audit record`
	for _, schema := range []string{"default", "ecs"} {
		docs := docsOf(t, log, Config{Schema: schema, Raw: true})
		var first, late, unparsed int
		for _, b := range docs {
			d := runDocsJSON(t, b)
			switch {
			case str(d, "event.id") == "1500000003.000:40" && str(d, "event.late") == "true":
				late++
			case str(d, "event.id") == "1500000003.000:40":
				first++
			case strings.Contains(string(b), `"raw":["this is not an audit record"]`):
				unparsed++
			}
		}
		if len(docs) != 43 || first != 1 || late != 1 || unparsed != 1 {
			t.Errorf("%s: %d documents: event %d, follow-up %d, unparsed %d", schema, len(docs), first, late, unparsed)
		}
	}
}

// Every document of the real-kernel logs and of the corpus, in both
// schemas and with the raw records, is one line of valid UTF-8 JSON with no
// key twice in an object.
func TestCorporaWellFormed(t *testing.T) {
	for _, name := range []string{corpus.Enriched, corpus.NodeRaw, corpus.Kills, corpus.Files, corpus.Seed} {
		for _, schema := range []string{"default", "ecs"} {
			n := len(docsOf(t, string(corpus.Bytes(name)), Config{Schema: schema, Raw: true}))
			if n == 0 {
				t.Fatalf("%s: no documents", name)
			}
		}
	}
}

// userEnds is n user-space records, a second after the kill above.
func userEnds(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "type=USER_END msg=audit(1500000004.500:%d): pid=1 uid=0 msg='op=x res=success'\n", 100+i)
	}
	return b.String()
}
