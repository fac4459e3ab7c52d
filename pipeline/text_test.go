package pipeline

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// batchOut runs a finished log through the CLI's pipeline.
func batchOut(t *testing.T, cfg Config, log []byte) (string, Stats) {
	t.Helper()
	var out bytes.Buffer
	b, err := NewBatch(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadFrom(bytes.NewReader(log)); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String(), b.Stats()
}

// TestTextLinesAreTheSummaries: format=text prints, for every event of the
// real logs, one line that is its local time, its host and exactly the
// summary its JSON document carries (the same escaping, no second one),
// with no control byte and valid UTF-8, whatever the process names hold;
// the enricher counts the same events emitted.
func TestTextLinesAreTheSummaries(t *testing.T) {
	for _, name := range []string{corpus.Kills, corpus.Files, corpus.Enriched, corpus.NodeRaw} {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			cfg.Proc, cfg.Enrich.Hostname = "false", "web1"
			cfg.Enrich.Full = true // event.time, event.msec
			cfg.JSON = true
			js, jst := batchOut(t, cfg, corpus.Bytes(name))
			cfg.JSON, cfg.Format = false, "text"
			txt, tst := batchOut(t, cfg, corpus.Bytes(name))
			docs := strings.Split(strings.TrimSuffix(js, "\n"), "\n")
			lines := strings.Split(strings.TrimSuffix(txt, "\n"), "\n")
			if len(docs) != len(lines) || len(docs) < 20 {
				t.Fatalf("%d documents, %d lines", len(docs), len(lines))
			}
			if jst.Enrich.Emitted != tst.Enrich.Emitted || tst.Enrich.Emitted != uint64(len(lines)) {
				t.Errorf("emitted: json %d, text %d, lines %d", jst.Enrich.Emitted, tst.Enrich.Emitted, len(lines))
			}
			escaped := 0
			for i, d := range docs {
				var doc struct {
					Summary string
					Event   struct{ Time, Msec int64 }
					Host    struct{ Name string }
				}
				if err := json.Unmarshal([]byte(d), &doc); err != nil {
					t.Fatal(err)
				}
				want := time.Unix(doc.Event.Time, doc.Event.Msec*1e6).Format("2006-01-02 15:04:05.000") + " " + doc.Host.Name + " " + doc.Summary
				if lines[i] != want {
					t.Fatalf("line %d:\n got %q\nwant %q", i, lines[i], want)
				}
				if !utf8.ValidString(lines[i]) || strings.ContainsFunc(lines[i], func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
					t.Errorf("line %d has a control character or invalid UTF-8: %q", i, lines[i])
				}
				if strings.Contains(lines[i], `\x`) {
					escaped++
				}
			}
			if name == corpus.Kills && escaped < 4 {
				t.Errorf("%d lines with escapes, want the hostile names' (newline, ESC, invalid UTF-8, tab)", escaped)
			}
		})
	}
}

// TestTextHostAndTime: the host is the log's node=, else the configured
// name, else "-"; the time is local.
func TestTextHostAndTime(t *testing.T) {
	cfg := Default()
	cfg.Proc, cfg.Format = "false", "text"
	seed := corpus.Bytes(corpus.Seed)
	const sum = ` pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)` + "\n"
	at := time.Unix(1695710251, 567e6).Format("2006-01-02 15:04:05.000")
	if out, _ := batchOut(t, cfg, seed); out != at+" -"+sum {
		t.Errorf("no host: %q", out)
	}
	cfg.Enrich.Hostname = "web1"
	if out, _ := batchOut(t, cfg, seed); out != at+" web1"+sum {
		t.Errorf("hostname: %q", out)
	}
	node := append([]byte("node=db\x1b[2J "), bytes.ReplaceAll(seed, []byte("\ntype="), []byte("\nnode=db\x1b[2J type="))...)
	if out, _ := batchOut(t, cfg, node); out != at+` db\x1b[2J`+sum {
		t.Errorf("node=: %q", out)
	}
}

// TestTextOutOfBand: a record the live pipeline makes itself (the
// kernel's loss) is a line too, with this host's name.
func TestTextOutOfBand(t *testing.T) {
	c := &core{cfg: Default()}
	c.cfg.Enrich.Hostname = "web1"
	l := &Live{cfg: Config{Format: "text"}, q: newQueue(1 << 20), c: c}
	before := time.Now().Truncate(time.Millisecond)
	l.lossRecord(3, 10)
	b, n := l.q.take(1 << 20)
	line := string(b)
	at, err := time.ParseInLocation("2006-01-02 15:04:05.000", line[:min(23, len(line))], time.Local)
	if n != 1 || err != nil || at.Before(before) || time.Since(at) > time.Minute ||
		line[23:] != " web1 the kernel lost 3 audit events (10 since start)\n" {
		t.Errorf("%d entries: %q (%v)", n, line, err)
	}
}
