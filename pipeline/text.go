package pipeline

import (
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
)

// textLine writes the CLI's one-line form of an event (format=text):
//
//	2023-09-26 06:37:31.567 HOST SUMMARY
//
// the event's local time with milliseconds, the host (the log's node=,
// else the configured host name, else "-") and the enricher's summary.
// Host and summary come from the audited system: they are escaped as
// documents escape every string (encode.AppendSafe), so the text is the
// JSON document's summary exactly and no command line can split the line
// or paint the terminal. The line is made from the enricher's model and
// summary, without building a document: much cheaper than JSON.
type textLine struct {
	sec    int64
	prefix []byte // "2006-01-02 15:04:05." of sec, local time
}

// head appends the time and host of a line and the space before its
// summary.
func (t *textLine) head(dst []byte, sec int64, msec int, node []byte, host string) []byte {
	if sec != t.sec || len(t.prefix) == 0 {
		t.sec = sec
		t.prefix = time.Unix(sec, 0).AppendFormat(t.prefix[:0], "2006-01-02 15:04:05.")
	}
	dst = append(dst, t.prefix...)
	dst = append(dst, byte('0'+msec/100%10), byte('0'+msec/10%10), byte('0'+msec%10), ' ')
	switch {
	case len(node) > 0:
		dst = encode.AppendSafe(dst, node)
	case host != "":
		dst = encode.AppendSafe(dst, host)
	default:
		dst = append(dst, '-')
	}
	return append(dst, ' ')
}

// emitText is emit for format=text: the model and summary of the event,
// no document.
func (c *core) emitText(ev *parser.Event) {
	if !c.enr.Summarize(ev) {
		return
	}
	c.enc = c.text.head(c.enc[:0], ev.Sec, int(ev.Msec), ev.Node(), c.cfg.Enrich.Hostname)
	c.enc = append(encode.AppendSafe(c.enc, c.enr.Summary()), '\n')
	c.out(c.enc, ev)
}

// appendDoc appends the line of a document the pipeline built itself
// (loss, stats, any record made outside the enricher's model): its time,
// the host, its summary (already safe).
func (t *textLine) appendDoc(dst []byte, d *encode.Document, host string) []byte {
	sum, _ := d.Lookup("summary")
	dst = t.head(dst, d.Sec, int(d.Nsec/1e6), nil, host)
	return append(append(dst, sum...), '\n')
}
