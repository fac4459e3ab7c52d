package kmsg

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzOOMParser: any text, as saved-log lines and as bare messages, never
// panics, keeps the state within its bounds, and every report has a
// victim line behind it.
func FuzzOOMParser(f *testing.F) {
	f.Add([]byte(strings.Join(pyLines, "\n")))
	f.Add([]byte(strings.Join(globalLines, "\n")))
	if b, err := os.ReadFile("testdata/oom-memcg.kmsg"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("Dec 02 05:00:00 h kernel: [ 1.5] [T9] x invoked oom-killer: gfp_mask=0x0, order=-1, oom_score_adj=-1000\n" +
		"oom-kill:constraint=,nodemask=,cpuset=,mems_allowed=,oom_memcg=,task_memcg=,task=,pid=,uid=\n" +
		"Out of memory: Killed process 0 () total-vm:kB\n[Wed Dec  2 05:00:00 2026] CPU: 0 PID: 1 Comm: \n2026-12-02T05:00:00,1+00:00 memory: usage kB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := NewOOMParser(OOMConfig{MaxPending: 4, MaxQueue: 8, MaxAge: time.Second})
		opt := &LogOptions{Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Location: time.UTC, Boot: time.Unix(1e9, 0)}
		checkOut := func() {
			if p.Pending() > 4 || len(p.out) > 8 {
				t.Fatalf("%d pending, %d queued", p.Pending(), len(p.out))
			}
			for r, ok := p.Report(); ok; r, ok = p.Report() {
				if r.Seen&(OOMSummary|OOMKilled) == 0 {
					t.Fatalf("report without a victim line: %+v", r)
				}
			}
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if l, ok := ParseLogLine(line, opt); ok {
				p.Feed(l)
			}
			p.Feed(Line{Msg: line})
			checkOut()
			var r Record
			parseRecord(bytes.Clone(line), time.Time{}, &r, nil)
		}
		p.Expire(time.Now())
		p.Flush()
		checkOut()
		if p.Pending() != 0 {
			t.Fatalf("%d pending after Flush", p.Pending())
		}
	})
}

// FuzzRecord: any /dev/kmsg record parses or is refused without a panic,
// and what parses stays inside the input.
func FuzzRecord(f *testing.F) {
	f.Add([]byte("7,160,424069,-,caller=T1;pci_root PNP0A03:00: \\x5c n\\x0anext\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n"))
	f.Add([]byte("6,909,2834187856,-;memory: usage 32768kB, limit 32768kB, failcnt 19\n"))
	f.Add([]byte("4,5,6,c;\\x\\x4"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Record
		in := bytes.Clone(data)
		if !parseRecord(in, time.Unix(0, 0), &r, nil) {
			return
		}
		if len(r.Text) > len(data) {
			t.Fatalf("text longer than the record")
		}
		for _, d := range r.Dict {
			if len(d) > len(data) {
				t.Fatalf("dict entry longer than the record")
			}
		}
	})
}
