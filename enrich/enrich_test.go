package enrich

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// runDocs runs parser, correlator and enricher over lines and returns the
// documents as decoded JSON, checking every line is one valid JSON object
// with no raw control byte. The documents are in the full form (every
// field the decoding tests check); TestCompactIsASubset ties the compact
// form to it.
func runDocs(t testing.TB, lines [][]byte, cfg Config) []map[string]any {
	t.Helper()
	cfg.Full = true
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	var doc encode.Document
	var buf []byte
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		if !e.Enrich(ev, &doc) {
			return
		}
		buf = doc.AppendJSON(buf[:0])
		for _, b := range buf {
			if b < 0x20 {
				t.Fatalf("raw control byte %#x in JSON: %s", b, buf)
			}
		}
		out = append(out, runDocsJSON(t, buf))
	})
	var r parser.Record
	for _, l := range lines {
		if err := parser.Parse(l, &r); err != nil {
			t.Fatalf("parse %q: %v", l, err)
		}
		c.Add(&r)
	}
	c.Flush()
	return out
}

var (
	get = audittest.Get
	str = audittest.Field
)

func bySerial(docs []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, d := range docs {
		m[str(d, "event.serial")] = d
	}
	return m
}

type want map[string]string

func check(t *testing.T, d map[string]any, w want) {
	t.Helper()
	if d == nil {
		t.Fatalf("document missing")
	}
	for path, v := range w {
		if got := str(d, path); got != v {
			t.Errorf("serial %s: %s = %q, want %q", str(d, "event.serial"), path, got, v)
		}
	}
}

func TestSeedAnswer(t *testing.T) {
	docs := runDocs(t, corpus.Lines(corpus.Seed), Config{})
	if len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
	check(t, docs[0], want{
		"@timestamp":               "2023-09-26T06:37:31.567Z",
		"event.serial":             "366042",
		"event.id":                 "1695710251.567:366042",
		"event.action":             "killed-pid",
		"event.outcome":            "success",
		"syscall.arch":             "x86_64",
		"syscall.name":             "kill",
		"process.pid":              "7885",
		"process.ppid":             "5533",
		"process.comm":             "sh",
		"process.exe":              "/usr/bin/bash",
		"process.cmdline":          "sh xdkill.sh",
		"process.args.1":           "xdkill.sh",
		"process.user":             "root",
		"process.uid":              "0",
		"process.tty":              "pts5",
		"process.parent.pid":       "5533",
		"signal.nr":                "9",
		"signal.name":              "SIGKILL",
		"target.scope":             "process",
		"target.count":             "1",
		"target.processes.0.pid":   "7677",
		"target.processes.0.comm":  "sh",
		"target.processes.0.user":  "root",
		"target.processes.0.ses":   "7482",
		"summary":                  `pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)`,
		"event.records.0":          "SYSCALL",
		"event.records.2":          "PROCTITLE",
		"target.processes.0.obj":   "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023",
		"process.auser":            "root",
		"process.parent.comm":      "<nil>", // batch mode: the parent never appeared
		"target.processes.0.oauid": "<nil>",
	})
}

func TestKillsLog(t *testing.T) {
	docs := runDocs(t, corpus.Lines(corpus.Kills), Config{DropSIGURG: false})
	if len(docs) != 24 {
		t.Fatalf("%d documents, want 24", len(docs))
	}
	s := bySerial(docs)
	// Group kill: kill(-24489, SIGTERM), six targets.
	check(t, s["527169"], want{
		"target.scope": "process_group", "target.pgid": "24489", "target.pid_arg": "-24489",
		"target.count": "6", "signal.name": "SIGTERM", "process.pid": "24500",
	})
	pids := map[string]bool{}
	for _, p := range get(s["527169"], "target.processes").([]any) {
		pids[str(p.(map[string]any), "pid")] = true
	}
	for _, p := range []string{"24489", "24491", "24492", "24493", "24494", "24495"} {
		if !pids[p] {
			t.Errorf("group kill: target %s missing", p)
		}
	}
	if !strings.Contains(str(s["527169"], "summary"), "process group 24489 (6 processes:") {
		t.Errorf("group kill summary: %s", str(s["527169"], "summary"))
	}
	check(t, s["527171"], want{"target.scope": "caller_group", "target.count": "4", "signal.name": "SIGUSR1"})
	check(t, s["527173"], want{"target.scope": "all", "target.pid_arg": "-1", "signal.nr": "0", "target.count": "2"})
	// Failed kills.
	check(t, s["527175"], want{
		"event.outcome": "failure", "syscall.errno": "EPERM", "syscall.exit": "-1",
		"process.uid": "65534", "target.processes.0.pid": "24631", "signal.name": "SIGTERM",
	})
	if sum := str(s["527175"], "summary"); !strings.Contains(sum, "tried to send SIGTERM to pid 24631 (sleep): EPERM") {
		t.Errorf("EPERM summary: %s", sum)
	}
	check(t, s["527177"], want{"syscall.errno": "ESRCH", "target.count": "0", "target.pid_arg": "24643"})
	if sum := str(s["527177"], "summary"); !strings.HasSuffix(sum, "tried to send SIGTERM to pid 24643: ESRCH") {
		t.Errorf("ESRCH summary: %s", sum)
	}
	// 32-bit caller: syscall 37 on i386 is kill.
	check(t, s["527179"], want{"syscall.arch": "i386", "syscall.nr": "37", "syscall.name": "kill", "signal.name": "SIGTERM", "target.processes.0.pid": "24646", "key.0": "gen_kill32"})
	check(t, s["527181"], want{"syscall.name": "tkill", "target.scope": "thread", "signal.name": "SIGTERM"})
	check(t, s["527183"], want{"syscall.name": "tgkill", "signal.name": "SIGTERM", "target.processes.0.pid": "24657"})
	check(t, s["527185"], want{"signal.name": "SIGURG"})
	check(t, s["527189"], want{"syscall.name": "rt_sigqueueinfo", "signal.name": "SIGUSR1", "target.processes.0.pid": "24691"})
	check(t, s["527191"], want{"syscall.name": "rt_tgsigqueueinfo", "signal.name": "SIGUSR2"})
	check(t, s["527193"], want{"syscall.name": "pidfd_send_signal", "target.scope": "pidfd", "signal.name": "SIGKILL", "target.processes.0.pid": "24701", "target.pid_arg": "<nil>"})
	// Hostile names, decoded and escaped.
	check(t, s["527195"], want{"process.comm": "my killer", "target.processes.0.comm": "my sleep"})
	check(t, s["527197"], want{"process.comm": `kill\x0anl`, "target.processes.0.comm": `sleep\x0anl`})
	check(t, s["527199"], want{"process.comm": `\x1b[31mkill`, "target.processes.0.comm": `\x1b[31msleep`})
	check(t, s["527201"], want{"process.comm": `kill\xff\xfe`, "target.processes.0.comm": `sleep\xff\xfe`})
	check(t, s["527203"], want{"target.processes.0.comm": "sléep-été"})
	check(t, s["527205"], want{"target.processes.0.comm": `sleep-éééé\xc3`})
	check(t, s["527207"], want{"process.comm": `tab\x09here`, "target.processes.0.comm": `say "hi"`})
	for _, d := range docs {
		sum := str(d, "summary")
		if strings.ContainsAny(sum, "\n\x1b\r") {
			t.Errorf("summary with a raw control character: %q", sum)
		}
	}
	// Stale PROCTITLE after exec: flagged, and the summary trusts comm.
	check(t, s["527210"], want{"process.comm": "helper", "process.cmdline_stale": "true"})
	if sum := str(s["527210"], "summary"); strings.Contains(sum, "sh -c") {
		t.Errorf("stale proctitle used in summary: %s", sum)
	}
	check(t, s["527167"], want{"process.cmdline_stale": "<nil>"})
}

func TestSIGURGFilter(t *testing.T) {
	docs := runDocs(t, corpus.Lines(corpus.Kills), Config{DropSIGURG: true})
	if len(docs) != 22 {
		t.Fatalf("%d documents with drop_sigurg, want 22", len(docs))
	}
	docs = runDocs(t, corpus.Lines(corpus.Kills), Config{IncludeSignals: []string{"SIGKILL"}})
	for _, d := range docs {
		if str(d, "signal.name") != "SIGKILL" {
			t.Errorf("include_signals=SIGKILL let through %s", str(d, "signal.name"))
		}
	}
	if len(docs) != 2 {
		t.Errorf("%d SIGKILL documents, want 2", len(docs))
	}
	docs = runDocs(t, corpus.Lines(corpus.Kills), Config{IncludeSyscalls: []string{"tgkill"}, ExcludeKeys: []string{"gen_kill"}})
	if len(docs) != 3 {
		t.Errorf("include_syscalls=tgkill: %d documents, want 3", len(docs))
	}
	for _, bad := range []Config{{IncludeTypes: []string{"NOPE"}}, {IncludeSignals: []string{"SIGFOO"}}, {ExcludeSyscalls: []string{"nosuchcall"}}, {Schema: "xml"}} {
		if _, err := New(bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestEnrichedCorpus(t *testing.T) {
	for _, name := range []string{corpus.Enriched, corpus.Raw, corpus.NodeRaw} {
		t.Run(name, func(t *testing.T) {
			docs := runDocs(t, corpus.Lines(name), Config{Raw: true})
			want := map[string]int{corpus.Enriched: 9351, corpus.Raw: 9351, corpus.NodeRaw: 3307}[name]
			if len(docs) != want {
				t.Fatalf("%d documents, want %d", len(docs), want)
			}
			var i386, eperm, esrch, hexOcomm, args3001 int
			for _, d := range docs {
				if str(d, "syscall.arch") == "i386" && str(d, "syscall.name") == "kill" && str(d, "syscall.nr") == "37" {
					i386++
				}
				switch str(d, "syscall.errno") {
				case "EPERM":
					if str(d, "event.kind") == "kill" {
						eperm++
					}
				case "ESRCH":
					esrch++
				}
				if str(d, "target.processes.0.comm") == "zhi-fu-务" {
					hexOcomm++
				}
				if a, ok := get(d, "exec.args").([]any); ok && len(a) == 3001 {
					args3001++ // argument order is checked in the parser tests
				}
				if name == corpus.NodeRaw && str(d, "event.node") != "vm" {
					t.Fatalf("node missing: %v", d["event"])
				}
				if name == corpus.Enriched {
					// names come from the enriched suffix
					if d["process"] != nil && str(d, "process.user") == "<nil>" {
						t.Fatalf("uid without a name: %v", d["process"])
					}
				}
			}
			if i386 == 0 || eperm == 0 || esrch == 0 || hexOcomm == 0 || args3001 == 0 {
				t.Errorf("i386 kills %d, EPERM kills %d, ESRCH %d, hex ocomm %d, 3001-arg execs %d", i386, eperm, esrch, hexOcomm, args3001)
			}
		})
	}
}

func TestFilesLog(t *testing.T) {
	docs := runDocs(t, corpus.Lines(corpus.Files), Config{})
	s := bySerial(docs)
	D := "/tmp/gen-watch-4177463727"
	check(t, s["527222"], want{"event.action": "opened-file", "file.operation": "create", "file.path": D + "/app.conf", "file.flags": "O_WRONLY|O_CREAT|O_TRUNC", "file.inode": "9978001", "key.0": "gen_watch"})
	check(t, s["527224"], want{"file.operation": "append", "file.path": D + "/app.conf", "file.flags": "O_WRONLY|O_CREAT|O_APPEND"})
	check(t, s["527226"], want{"file.operation": "truncate-open"})
	check(t, s["527233"], want{"event.action": "renamed", "file.operation": "rename", "file.path": D + "/app.conf", "file.from": D + "/sedjurwJK", "file.replaced_inode": "9978001", "file.inode": "9978033"})
	if sum := str(s["527233"], "summary"); !strings.Contains(sum, "replaced "+D+"/app.conf (renamed from "+D+"/sedjurwJK)") {
		t.Errorf("sed -i summary: %s", sum)
	}
	check(t, s["527238"], want{"file.operation": "link", "file.path": D + "/app.hard"})
	check(t, s["527240"], want{"file.operation": "symlink", "file.path": D + "/current", "file.link_target": "app.conf"})
	check(t, s["527242"], want{"event.outcome": "failure", "syscall.errno": "EEXIST"})
	check(t, s["527246"], want{"event.action": "deleted", "file.path": D + "/app.hard"})
	check(t, s["527248"], want{"event.action": "changed-file-permissions-of", "file.new_mode": "0600", "file.perm": "0644"})
	check(t, s["527250"], want{"event.action": "changed-file-ownership-of", "file.new_uid": "65534", "file.new_gid": "-1"})
	check(t, s["527252"], want{"event.action": "changed-file-attributes-of", "file.ouid": "65534"})
	check(t, s["527254"], want{"event.action": "changed-timestamp-of", "file.path": D + "/app.conf", "key.0": "gen_utime"})
	// ../app.conf from D/sub
	check(t, s["527258"], want{"file.path": D + "/app.conf", "file.name": "../app.conf", "process.cwd": D + "/sub"})
	// openat(dirfd): the directory is not in the log: say so, don't guess.
	check(t, s["527262"], want{"file.path": "<nil>", "file.name": "dirfd.txt", "file.dirfd": "3"})
	if str(s["527262"], "file.unresolved") == "<nil>" {
		t.Errorf("openat(dirfd) not marked unresolved: %v", s["527262"]["file"])
	}
	check(t, s["527266"], want{"file.operation": "append", "process.uid": "65534", "process.user": "nobody", "event.outcome": "success"})
	check(t, s["527268"], want{"event.outcome": "failure", "syscall.errno": "EACCES", "file.path": D + "/locked.txt"})
	if sum := str(s["527268"], "summary"); !strings.Contains(sum, "failed to open "+D+"/locked.txt for append: EACCES") {
		t.Errorf("EACCES summary: %s", sum)
	}
	check(t, s["527270"], want{"file.path": D + "/with space"})
	check(t, s["527272"], want{"file.path": D + `/new\x0aline`})
	check(t, s["527274"], want{"file.path": D + `/\x1b[31mred`})
	check(t, s["527276"], want{"file.path": D + `/bad\xffname`})
	check(t, s["527278"], want{"event.action": "deleted", "file.path": D + "/with space"})
}

func TestECS(t *testing.T) {
	docs := runDocs(t, corpus.Lines(corpus.Seed), Config{Schema: "ecs"})
	check(t, docs[0], want{
		"event.action": "killed-pid", "event.category.0": "process", "event.outcome": "success",
		"event.module": "auditd", "process.pid": "7885", "process.name": "sh",
		"process.executable": "/usr/bin/bash", "process.title": "sh xdkill.sh",
		"process.parent.pid": "5533", "user.id": "0", "user.name": "root",
		"user.audit.name": "root", "auditd.data.syscall": "kill", "auditd.data.signal": "SIGKILL",
		"auditd.summary.object.type": "process", "auditd.summary.object.primary": "7677",
		"auditd.summary.object.secondary": "sh", "auditd.target.pid": "7677",
		"auditd.result": "success", "auditd.sequence": "366042",
	})
	docs = runDocs(t, corpus.Lines(corpus.Files), Config{Schema: "ecs"})
	s := map[string]map[string]any{}
	for _, d := range docs {
		s[str(d, "event.sequence")] = d
	}
	check(t, s["527233"], want{"event.action": "renamed", "file.path": "/tmp/gen-watch-4177463727/app.conf", "file.inode": "9978033", "file.mode": "0644", "file.owner": "root", "tags.0": "gen_watch"})
}

func TestHostileInput(t *testing.T) {
	// A comm that is hex for a newline and a fake JSON field, and a
	// user-space message trying to forge a record.
	lines := [][]byte{
		[]byte(`type=SYSCALL msg=audit(1700000000.001:1): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 a2=0 a3=0 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=0A222C2266616B65223A2231 exe="/bin/x" key=(null)`),
		[]byte(`type=OBJ_PID msg=audit(1700000000.001:1): opid=3 oauid=-1 ouid=0 oses=-1 obj=unconfined ocomm=1B5D303B7469746C6507`),
		[]byte(`type=PROCTITLE msg=audit(1700000000.001:1): proctitle=6B696C6C002D39000A747970653D53595343414C4C`),
		[]byte(`type=USER_CMD msg=audit(1700000000.002:2): pid=5 uid=0 auid=0 ses=1 msg='cwd="/" cmd=6563686F200A7479706520E280AE exe="/usr/bin/sudo" terminal=pts/0 res=success'`),
	}
	docs := runDocs(t, lines, Config{})
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	check(t, docs[0], want{
		"process.comm":             `\x0a","fake":"1`,
		"target.processes.0.comm":  `\x1b]0;title\x07`,
		"process.cmdline":          `kill -9 \x0atype=SYSCALL`,
		"target.processes.0.auser": "unset",
	})
	if docs[0]["fake"] != nil {
		t.Fatal("forged field")
	}
	check(t, docs[1], want{"data.user_cmd.cmd": `echo \x0atype \u202e`})
}

func runDocsJSON(t testing.TB, buf []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(buf))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("invalid JSON %v: %s", err, buf)
	}
	if dec.More() {
		t.Fatalf("trailing data after document: %s", buf)
	}
	return m
}

// TestSteadyStateAllocations: once warm, extracting, writing and encoding
// an event allocates nothing (the model, its arena and the document are
// reused), in both schemas, over the real-kernel logs.
func TestSteadyStateAllocations(t *testing.T) {
	var evs []*parser.Event
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		cp := &parser.Event{}
		ev.MoveTo(cp)
		evs = append(evs, cp)
	})
	var r parser.Record
	for _, name := range []string{corpus.Kills, corpus.Files, corpus.Seed} {
		for _, l := range corpus.Lines(name) {
			if parser.Parse(l, &r) == nil {
				c.Add(&r)
			}
		}
	}
	c.Flush()
	for _, schema := range []string{"default", "ecs"} {
		e, err := New(Config{Schema: schema, EtcRoot: "testdata"})
		if err != nil {
			t.Fatal(err)
		}
		var doc encode.Document
		var buf []byte
		run := func() {
			for _, ev := range evs {
				if e.Enrich(ev, &doc) {
					buf = doc.AppendJSON(buf[:0])
				}
			}
		}
		run()
		run()
		if a := testing.AllocsPerRun(5, run); a/float64(len(evs)) > 0.01 {
			t.Errorf("%s: %.0f allocations per pass over %d events (%.2f per event)", schema, a, len(evs), a/float64(len(evs)))
		}
	}
}
