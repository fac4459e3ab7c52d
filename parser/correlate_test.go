package parser

import (
	"bytes"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// collected is an emitted event, copied out of the correlator.
type collected struct {
	key     string
	reason  Reason
	lines   []string
	dropped int
	late    bool
}

func keyOf(node []byte, sec int64, msec uint16, serial uint32) string {
	return fmt.Sprintf("%s|%d.%03d:%d", node, sec, msec, serial)
}

func collect(out *[]collected) func(*Event) {
	return func(e *Event) {
		c := collected{key: keyOf(e.Node(), e.Sec, e.Msec, e.Serial), reason: e.Reason, dropped: e.Dropped, late: e.Late}
		for i := range e.Records {
			c.lines = append(c.lines, string(e.Records[i].Line))
		}
		*out = append(*out, c)
	}
}

// feed parses every line into the correlator; it fails on parse errors.
func feed(t testing.TB, c *Correlator, lines [][]byte) {
	t.Helper()
	var r Record
	for _, l := range lines {
		if err := Parse(l, &r); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		c.Add(&r)
	}
}

// distinctKeys returns the (node, time, serial) of every line, in first
// appearance order, and the lines of each.
func distinctKeys(t testing.TB, lines [][]byte) (order []string, byKey map[string][]string) {
	byKey = map[string][]string{}
	var r Record
	for _, l := range lines {
		if err := Parse(l, &r); err != nil {
			t.Fatal(err)
		}
		k := keyOf(r.NodeName(), r.Sec, r.Msec, r.Serial)
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], string(r.Line))
	}
	return order, byKey
}

// sameEvents checks that the events hold exactly the records of each key.
func sameEvents(t *testing.T, got []collected, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.key] {
			t.Fatalf("event %s emitted twice", e.key)
		}
		seen[e.key] = true
		w := append([]string{}, want[e.key]...)
		g := append([]string{}, e.lines...)
		sort.Strings(w)
		sort.Strings(g)
		if strings.Join(w, "\n") != strings.Join(g, "\n") {
			t.Fatalf("event %s: got %d records, want %d\n got %q\nwant %q", e.key, len(g), len(w), g, w)
		}
	}
}

func TestCorpusEvents(t *testing.T) {
	for _, name := range []string{corpus.Enriched, corpus.Raw, corpus.NodeRaw, corpus.Seed} {
		t.Run(name, func(t *testing.T) {
			lines := corpus.Lines(name)
			_, want := distinctKeys(t, lines)
			var got []collected
			c := NewCorrelator(Config{}, collect(&got))
			feed(t, c, lines)
			c.Flush()
			sameEvents(t, got, want)
			st := c.Stats()
			if st.Records != uint64(len(lines)) || st.Events != uint64(len(want)) || st.Late != 0 || st.Duplicates != 0 || st.Evicted != 0 || st.DroppedRecords != 0 {
				t.Fatalf("stats %+v", st)
			}
			// In these files every syscall event ends with PROCTITLE and
			// every other event is a user-space record: nothing waits.
			if st.ClosedBy[ReasonTimeout] != 0 || st.ClosedBy[ReasonFlush] != 0 {
				t.Fatalf("events closed late: %+v", st.ClosedBy)
			}
		})
	}
}

func TestSeedEvent(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	feed(t, c, corpus.Lines(corpus.Seed))
	if len(got) != 1 || len(got[0].lines) != 3 || got[0].reason != ReasonProctitle || got[0].key != "|1695710251.567:366042" {
		t.Fatalf("%+v", got)
	}
}

// eventWith finds the first corpus event for which match is true and
// returns a copy of its records via the callback.
func findEvent(t *testing.T, name string, match func(*Event) bool, use func(*Event)) {
	t.Helper()
	found := false
	c := NewCorrelator(Config{}, func(e *Event) {
		if !found && match(e) {
			found = true
			use(e)
		}
	})
	feed(t, c, corpus.Lines(name))
	c.Flush()
	if !found {
		t.Fatal("no such event in the corpus")
	}
}

func TestExecve3001Args(t *testing.T) {
	for _, name := range []string{corpus.Enriched, corpus.NodeRaw} {
		var a Args
		findEvent(t, name, func(e *Event) bool {
			r := e.First(TypeExecve)
			return r != nil && bytes.Contains(r.Line, []byte("argc=3001"))
		}, func(e *Event) {
			n := 0
			for i := range e.Records {
				if e.Records[i].Type == TypeExecve {
					n++
				}
			}
			if n < 2 {
				t.Fatalf("only %d EXECVE records", n)
			}
			if !e.ExecveArgs(&a) {
				t.Fatal("no args")
			}
			if a.Len() != 3001 || a.Argc != 3001 || a.Missing != 0 {
				t.Fatalf("%d args (argc %d, missing %d) over %d records", a.Len(), a.Argc, a.Missing, n)
			}
			if string(a.Arg(0)) != "/tmp/corpus-work/argtool" {
				t.Fatalf("a0=%q", a.Arg(0))
			}
			for i := 1; i < 3001; i++ {
				if string(a.Arg(i)) != strconv.Itoa(i) {
					t.Fatalf("a%d=%q", i, a.Arg(i))
				}
			}
		})
	}
}

func TestExecveChunkedArg(t *testing.T) {
	var a Args
	findEvent(t, corpus.Enriched, func(e *Event) bool {
		r := e.First(TypeExecve)
		return r != nil && bytes.Contains(r.Line, []byte("a1_len=40000"))
	}, func(e *Event) {
		e.ExecveArgs(&a)
		// aN_len is the length of the logged value: an argument longer than
		// 7500 bytes is always hex-encoded, so 40000 hex digits, 20000 bytes
		if a.Len() != 2 || a.Missing != 0 || len(a.Arg(1)) != 20000 || strings.Trim(string(a.Arg(1)), "y") != "" {
			t.Fatalf("%d args, a1 of %d bytes", a.Len(), len(a.Arg(1)))
		}
	})
	// hex whole args and the non-ASCII name
	findEvent(t, corpus.Enriched, func(e *Event) bool {
		r := e.First(TypeExecve)
		return r != nil && bytes.Contains(r.Line, []byte("a0=2F746D70"))
	}, func(e *Event) {
		e.ExecveArgs(&a)
		if a.Len() != 2 || string(a.Arg(0)) != "/tmp/corpus-work/zhi-fu-务" || string(a.Arg(1)) != "300" {
			t.Fatalf("%q %q", a.Arg(0), a.Arg(1))
		}
	})
}

func TestExecveOutOfOrderAndMissing(t *testing.T) {
	lines := []string{
		`type=SYSCALL msg=audit(1700000000.000:10): arch=c000003e syscall=59 success=yes exit=0 pid=1 comm="x"`,
		`type=EXECVE msg=audit(1700000000.000:10):  a2[1]=6364 a3="d"`,
		`type=EXECVE msg=audit(1700000000.000:10): argc=6 a0="x" a2_len=4 a2[0]=6162`,
		`type=PROCTITLE msg=audit(1700000000.000:10): proctitle=78`,
	}
	var a Args
	c := NewCorrelator(Config{}, func(e *Event) {
		e.ExecveArgs(&a)
	})
	for _, l := range lines {
		c.Add(mustParse(t, l))
	}
	if a.Len() != 4 || string(a.Arg(0)) != "x" || string(a.Arg(1)) != "" || string(a.Arg(2)) != "abcd" || string(a.Arg(3)) != "d" || a.Missing != 3 || a.Argc != 6 {
		t.Fatalf("%d args missing %d: %q %q %q", a.Len(), a.Missing, a.Arg(0), a.Arg(2), a.Arg(3))
	}
}

// A process-group kill logs one OBJ_PID per target: all stay in the event.
func TestGroupKill(t *testing.T) {
	seed := corpus.Lines(corpus.Seed)
	lines := [][]byte{seed[0]}
	for i := 0; i < 200; i++ {
		lines = append(lines, []byte(fmt.Sprintf(`type=OBJ_PID msg=audit(1695710251.567:366042): opid=%d oauid=0 ouid=0 oses=7482 obj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 ocomm="sh"`, 7000+i)))
	}
	lines = append(lines, seed[2])
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	feed(t, c, lines)
	if len(got) != 1 || len(got[0].lines) != 202 {
		t.Fatalf("%d events, first with %d records", len(got), len(got[0].lines))
	}
}

// Records of several events interleaved, and each event's records in
// reverse order (the closing record first): the same events come out.
func TestInterleavedAndOutOfOrder(t *testing.T) {
	lines := corpus.Lines(corpus.NodeRaw)
	order, want := distinctKeys(t, lines)
	rng := rand.New(rand.NewSource(1))
	var shuffled [][]byte
	// interleave windows of 8 events, records of each event reversed
	for i := 0; i < len(order); i += 8 {
		var queues [][]string
		for _, k := range order[i:min(i+8, len(order))] {
			recs := append([]string{}, want[k]...)
			// keep PROCTITLE last (it closes the event), shuffle the rest
			rng.Shuffle(len(recs)-1, func(a, b int) { recs[a], recs[b] = recs[b], recs[a] })
			queues = append(queues, recs)
		}
		for len(queues) > 0 {
			q := rng.Intn(len(queues))
			shuffled = append(shuffled, []byte(queues[q][0]))
			queues[q] = queues[q][1:]
			if len(queues[q]) == 0 {
				queues = append(queues[:q], queues[q+1:]...)
			}
		}
	}
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	feed(t, c, shuffled)
	c.Flush()
	sameEvents(t, got, want)
	if c.Stats().ClosedBy[ReasonTimeout]+c.Stats().ClosedBy[ReasonFlush] != 0 {
		t.Fatal("events waited")
	}
}

// Every line twice: each copy is counted, none is kept twice.
func TestDuplicates(t *testing.T) {
	lines := corpus.Lines(corpus.NodeRaw)
	_, want := distinctKeys(t, lines)
	var doubled [][]byte
	for _, l := range lines {
		doubled = append(doubled, l, l)
	}
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	feed(t, c, doubled)
	c.Flush()
	sameEvents(t, got, want)
	st := c.Stats()
	if st.Duplicates != uint64(len(lines)) || st.Late != 0 {
		t.Fatalf("duplicates %d (late %d), want %d", st.Duplicates, st.Late, len(lines))
	}
}

// A finished event is emitted at once, even with an older one still open.
func TestNoHeadOfLineBlocking(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{Timeout: time.Hour}, collect(&got))
	c.Add(mustParse(t, `type=CONFIG_CHANGE msg=audit(1700000000.000:1): auid=0 ses=1 op=set audit_enabled=1 old=1 res=1`))
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000000.001:2): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 pid=5 comm="kill"`))
	c.Add(mustParse(t, `type=PROCTITLE msg=audit(1700000000.001:2): proctitle=6B696C6C`))
	if len(got) != 1 || got[0].key != "|1700000000.001:2" {
		t.Fatalf("finished event held back: %+v", got)
	}
	c.Flush()
	if len(got) != 2 || got[1].reason != ReasonFlush {
		t.Fatalf("%+v", got)
	}
}

func TestTimeouts(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{Timeout: 2 * time.Second, Grace: 1}, collect(&got))
	c.Add(mustParse(t, `type=CONFIG_CHANGE msg=audit(1700000000.000:1): auid=0 ses=1 op=set audit_enabled=1 old=1 res=1`))
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000001.000:2): arch=c000003e syscall=1 success=yes exit=0 pid=5`))
	if len(got) != 0 {
		t.Fatal("closed too early")
	}
	// log time passes: 2.5 s after the first event
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000002.500:3): arch=c000003e syscall=1 success=yes exit=0 pid=5`))
	if len(got) != 1 || got[0].key != "|1700000000.000:1" || got[0].reason != ReasonTimeout {
		t.Fatalf("log-time timeout: %+v", got)
	}
	// wall time passes with no input (a quiet live source)
	now := time.Now()
	c.Tick(now)
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000002.600:4): arch=c000003e syscall=1 success=yes exit=0 pid=5`))
	c.Tick(now.Add(time.Second))
	if len(got) != 1 {
		t.Fatal("wall timeout too early")
	}
	c.Tick(now.Add(2100 * time.Millisecond))
	if len(got) != 4 {
		t.Fatalf("wall timeout: %d events", len(got))
	}
	// a record for an event already closed is late: a follow-up event
	c.Add(mustParse(t, `type=PROCTITLE msg=audit(1700000001.000:2): proctitle=78`))
	if st := c.Stats(); st.Late != 1 || st.LateEvents != 1 || st.ClosedBy[ReasonTimeout] != 4 || st.InFlight != 1 {
		t.Fatalf("%+v", st)
	}
	c.Flush()
	if last := got[len(got)-1]; last.key != "|1700000001.000:2" || !last.late {
		t.Fatalf("follow-up: %+v", last)
	}
}

// Serials wrap at 2^32 and restart after a reboot; auditd's own records
// carry auditd's serial. None of this merges events or invents losses.
func TestSerialWrapAndDaemonRecords(t *testing.T) {
	lines := []string{
		`type=SYSCALL msg=audit(1700000000.000:4294967295): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 pid=5`,
		`type=DAEMON_START msg=audit(1700000000.010:6085): op=start ver=3.0.9 format=enriched kernel=6.1.0 auid=4294967295 pid=100 uid=0 ses=4294967295 res=success`,
		`type=PROCTITLE msg=audit(1700000000.000:4294967295): proctitle=6B696C6C`,
		`type=SYSCALL msg=audit(1700000000.001:0): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 pid=5`,
		`type=PROCTITLE msg=audit(1700000000.001:0): proctitle=6B696C6C`,
		`type=DAEMON_END msg=audit(1700000000.020:3): op=terminate auid=0 pid=1 subj=unconfined res=success`,
		// the same serial after a reboot: another event
		`type=SYSCALL msg=audit(1700000900.000:0): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 pid=5`,
		`type=PROCTITLE msg=audit(1700000900.000:0): proctitle=6B696C6C`,
	}
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	for _, l := range lines {
		c.Add(mustParse(t, l))
	}
	c.Flush()
	if len(got) != 5 {
		t.Fatalf("%d events: %+v", len(got), got)
	}
	st := c.Stats()
	if st.Late != 0 || st.Evicted != 0 || st.Duplicates != 0 || st.ClosedBy[ReasonStandalone] != 2 {
		t.Fatalf("%+v", st)
	}
}

// Netlink: every event ends with EOE, which closes it or follows its
// PROCTITLE; EOE is never counted as late.
func TestNetlinkWithEOE(t *testing.T) {
	lines := corpus.Lines(corpus.Raw)
	order, want := distinctKeys(t, lines)
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	var r Record
	for _, k := range order {
		for _, l := range want[k] {
			if err := ParseNetlink(typeOf(t, l), []byte(l[strings.Index(l, "audit("):]), &r); err != nil {
				t.Fatal(err)
			}
			c.Add(&r)
		}
		eoe := "audit(" + k[strings.Index(k, "|")+1:] + "): "
		if err := ParseNetlink(TypeEOE, []byte(eoe), &r); err != nil {
			t.Fatal(err)
		}
		c.Add(&r)
	}
	if len(got) != len(want) {
		t.Fatalf("%d of %d events closed", len(got), len(want))
	}
	st := c.Stats()
	if st.Late != 0 || st.InFlight != 0 {
		t.Fatalf("%+v", st)
	}
	// an event without PROCTITLE is closed by its EOE
	got = got[:0]
	c.Add(mustParse(t, `type=CONFIG_CHANGE msg=audit(1700000000.000:1): auid=0 ses=1 op=set audit_enabled=1 old=1 res=1`))
	if err := ParseNetlink(TypeEOE, []byte("audit(1700000000.000:1): "), &r); err != nil {
		t.Fatal(err)
	}
	c.Add(&r)
	if len(got) != 1 || got[0].reason != ReasonEOE {
		t.Fatalf("%+v", got)
	}
}

func typeOf(t *testing.T, line string) uint16 {
	return mustParse(t, line).Type
}

// The number of open events never exceeds MaxInFlight; the oldest goes.
func TestBoundedInFlight(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{MaxInFlight: 10, Timeout: time.Hour}, collect(&got))
	for i := 0; i < 100; i++ {
		c.Add(mustParse(t, fmt.Sprintf(`type=SYSCALL msg=audit(1700000000.000:%d): arch=c000003e syscall=1 success=yes exit=0 pid=5`, i+1)))
		if c.Stats().InFlight > 10 {
			t.Fatal("over the bound")
		}
	}
	st := c.Stats()
	if st.Evicted != 90 || len(got) != 90 || got[0].key != "|1700000000.000:1" || got[0].reason != ReasonEvicted || st.MaxInFlightSeen != 10 {
		t.Fatalf("%+v first %+v", st, got[0])
	}
}

func TestEventSizeBound(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{MaxEventRecords: 5}, collect(&got))
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=62 success=yes exit=0 a0=0 a1=9 pid=5`))
	for i := 0; i < 10; i++ {
		c.Add(mustParse(t, fmt.Sprintf(`type=OBJ_PID msg=audit(1700000000.000:1): opid=%d ocomm="x"`, i+100)))
	}
	c.Add(mustParse(t, `type=PROCTITLE msg=audit(1700000000.000:1): proctitle=78`))
	if len(got) != 1 || len(got[0].lines) != 5 || got[0].dropped != 7 || c.Stats().DroppedRecords != 7 {
		t.Fatalf("%+v %+v", got, c.Stats())
	}
}

// Steady state: parse + correlate allocate nothing per line.
func TestCorrelatorSteadyStateAllocations(t *testing.T) {
	lines := corpus.Lines(corpus.Enriched)
	var r Record
	n := 0
	c := NewCorrelator(Config{}, func(*Event) { n++ })
	run := func(shift int64) {
		for _, l := range lines {
			_ = Parse(l, &r)
			r.Sec += shift
			c.Add(&r)
		}
	}
	run(0)
	shift := int64(0)
	allocs := testing.AllocsPerRun(3, func() {
		shift += 1000
		run(shift)
	})
	if perLine := allocs / float64(len(lines)); perLine > 0.01 {
		t.Fatalf("%.4f allocations per line", perLine)
	}
}

// FuzzCorrelate: whatever the lines, no record is lost or counted twice
// (each record added ends in exactly one emitted event, or is counted as a
// duplicate or as over an event's bound), no event holds a record of
// another, and the in-flight bound holds. Inputs are bounded (16 KiB, 256
// lines) so the fuzzer keeps its rate instead of growing huge inputs.
func FuzzCorrelate(f *testing.F) {
	seed := corpus.Bytes(corpus.Seed)
	f.Add(seed)
	f.Add(bytes.Join(corpus.Lines(corpus.Enriched)[100:140], []byte("\n")))
	f.Add(bytes.Join(corpus.Lines(corpus.Kills)[:60], []byte("\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 || bytes.Count(data, []byte("\n")) > 256 {
			return
		}
		var a Args
		var kept uint64
		c := NewCorrelator(Config{MaxInFlight: 8, MaxEventRecords: 64, Recent: 64}, func(e *Event) {
			e.ExecveArgs(&a)
			kept += uint64(len(e.Records))
			for i := range e.Records {
				r := &e.Records[i]
				if r.Sec != e.Sec || r.Msec != e.Msec || r.Serial != e.Serial || !bytes.Equal(r.NodeName(), e.Node()) {
					t.Fatal("record of another event")
				}
			}
		})
		var r Record
		for _, l := range bytes.Split(data, []byte("\n")) {
			if Parse(l, &r) == nil {
				c.Add(&r)
			} else {
				c.ParseError()
			}
		}
		c.Tick(time.Now())
		c.Flush()
		st := c.Stats()
		if st.InFlight != 0 || st.MaxInFlightSeen > 8 {
			t.Fatalf("%+v", st)
		}
		// EOE records end events and are not kept.
		var eoe uint64
		for _, l := range bytes.Split(data, []byte("\n")) {
			if Parse(l, &r) == nil && r.Type == TypeEOE {
				eoe++
			}
		}
		if kept+st.Duplicates+st.DroppedRecords+eoe != st.Records {
			t.Fatalf("records %d: kept %d + duplicates %d + over bound %d + EOE %d", st.Records, kept, st.Duplicates, st.DroppedRecords, eoe)
		}
	})
}

// TestStampDefersTimeout: a reader that was held up restamps open events,
// so their timeout counts from when it caught up, not from before.
func TestStampDefersTimeout(t *testing.T) {
	var got []*Event
	c := NewCorrelator(Config{Timeout: 2 * time.Second}, func(e *Event) { got = append(got, e) })
	t0 := time.Unix(1700000000, 0)
	c.Tick(t0)
	var r Record
	if err := Parse([]byte(`type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=62 success=yes exit=0 a0=1 a1=9 a2=0 a3=0 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="x" exe="/x" key=(null)`), &r); err != nil {
		t.Fatal(err)
	}
	c.Add(&r)
	c.Stamp(t0.Add(5 * time.Second)) // held up 5 s: no timeout, restamped
	c.Tick(t0.Add(6 * time.Second))
	if len(got) != 0 {
		t.Fatalf("event timed out %v after the reader caught up", time.Second)
	}
	c.Tick(t0.Add(7500 * time.Millisecond))
	if len(got) != 1 || got[0].Reason != ReasonTimeout {
		t.Fatalf("event not timed out 2.5 s after the reader caught up: %d", len(got))
	}
}

// TestCopyTo: a copied event stays intact after the correlator reuses the
// original, record for record.
func TestCopyTo(t *testing.T) {
	var copies []*Event
	var want []string
	c := NewCorrelator(Config{}, func(e *Event) {
		cp := &Event{}
		e.CopyTo(cp)
		copies = append(copies, cp)
		var s string
		for _, r := range e.Records {
			s += string(r.Line) + "|" + string(r.Bytes(r.Fields[0].Key)) + "\n"
		}
		want = append(want, s)
	})
	var r Record
	for _, l := range corpus.Lines(corpus.Kills) {
		if Parse(l, &r) == nil {
			c.Add(&r)
		}
	}
	c.Flush()
	for i, e := range copies {
		var s string
		for _, r := range e.Records {
			s += string(r.Line) + "|" + string(r.Bytes(r.Fields[0].Key)) + "\n"
		}
		if s != want[i] {
			t.Fatalf("copy %d differs:\n%s\nwant\n%s", i, s, want[i])
		}
	}
	if len(copies) != 24 {
		t.Fatalf("%d events", len(copies))
	}
}

// TestMoveTo: a moved event stays intact while the correlator reuses the
// buffers it was given back, as the pipeline's stage moves events into a
// ring of reused slots: each slot is checked just before its next move.
func TestMoveTo(t *testing.T) {
	var ring [3]Event
	var want []string
	text := func(e *Event) string {
		var s string
		for _, r := range e.Records {
			s += string(r.Line) + "|" + string(r.Bytes(r.Fields[0].Key)) + "\n"
		}
		return s
	}
	check := func(i int) {
		if got := text(&ring[i%len(ring)]); got != want[i] {
			t.Fatalf("moved event %d differs:\n%s\nwant\n%s", i, got, want[i])
		}
	}
	c := NewCorrelator(Config{}, func(e *Event) {
		n := len(want)
		if n >= len(ring) {
			check(n - len(ring))
		}
		want = append(want, text(e))
		e.MoveTo(&ring[n%len(ring)])
		if len(e.Records) != 0 || len(e.buf) != 0 {
			t.Fatal("the event keeps records after MoveTo")
		}
	})
	var r Record
	for _, l := range corpus.Lines(corpus.Kills) {
		if Parse(l, &r) == nil {
			c.Add(&r)
		}
	}
	c.Flush()
	for i := len(want) - len(ring); i < len(want); i++ {
		check(i)
	}
	if len(want) != 24 {
		t.Fatalf("%d events", len(want))
	}
}

// TestShrink: one reused copy slot, shrunk after each event as the
// pipeline's stage does, holds every event intact while in use and, after
// Shrink, no record and no buffer over the bound; no stale record past len
// (which would keep an old buffer alive).
func TestShrink(t *testing.T) {
	var slot Event
	const keep = 4 << 10
	big := 0
	c := NewCorrelator(Config{}, func(e *Event) {
		var lines []string
		for _, r := range e.Records {
			lines = append(lines, string(r.Line))
		}
		e.MoveTo(&slot)
		if len(slot.Records) != len(lines) {
			t.Fatalf("moved %d records of %d", len(slot.Records), len(lines))
		}
		for i, l := range lines {
			if string(slot.Records[i].Line) != l {
				t.Fatalf("record %d differs", i)
			}
		}
		if slot.Cap() > keep {
			big++
		}
		slot.Shrink(keep)
		if len(slot.Records) != 0 || cap(slot.buf) > keep || cap(slot.fields)*int(unsafe.Sizeof(Field{})) > keep {
			t.Fatalf("after Shrink: %d records, buf %d, fields %d", len(slot.Records), cap(slot.buf), cap(slot.fields))
		}
		for _, r := range slot.Records[:cap(slot.Records)] {
			if r.Line != nil || r.Fields != nil || r.Enriched != nil {
				t.Fatal("a stale record past len after Shrink")
			}
		}
	})
	var r Record
	for _, l := range corpus.Lines(corpus.Enriched) {
		if Parse(l, &r) == nil {
			c.Add(&r)
		}
	}
	c.Flush()
	if big == 0 {
		t.Fatal("no event above the bound: the test shrinks nothing")
	}
}

// Records of one serial that belong to two logical events: systemd's
// SERVICE_START (user space) and the kernel's records of the sendto() that
// carried it. They are two events, as ausearch shows them; none is late.
func TestUserAndKernelShareASerial(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	for _, l := range []string{
		`type=SERVICE_START msg=audit(1700000100.250:77001): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='unit=logrotate comm="systemd" res=success'`,
		`type=SYSCALL msg=audit(1700000100.250:77001): arch=c000003e syscall=44 success=yes exit=120 items=0 ppid=0 pid=1 comm="systemd" key=(null)`,
		`type=SOCKADDR msg=audit(1700000100.250:77001): saddr=100000000000000000000000`,
		`type=UNKNOWN[1420] msg=audit(1700000100.250:77001): subj_apparmor=unconfined`,
		`type=EOE msg=audit(1700000100.250:77001):`,
	} {
		c.Add(mustParse(t, l))
	}
	if len(got) != 2 || len(got[0].lines) != 1 || len(got[1].lines) != 3 || got[1].reason != ReasonEOE {
		t.Fatalf("%+v", got)
	}
	if st := c.Stats(); st.Late != 0 || st.Duplicates != 0 {
		t.Fatalf("%+v", st)
	}
}

// Completion does not rely on PROCTITLE coming last: records in reverse
// order (as ausearch prints them) make one complete event.
func TestReverseOrder(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	for _, l := range []string{
		`type=PROCTITLE msg=audit(1700000200.125:501): proctitle=6D7970726F67`,
		`type=PATH msg=audit(1700000200.125:501): item=0 name="/usr/bin/passwd" inode=40001 dev=fd:01 mode=0104755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL`,
		`type=SYSCALL msg=audit(1700000200.125:501): arch=c000003e syscall=4 success=yes exit=0 items=1 ppid=900 pid=901 comm="cat" key=(null)`,
	} {
		c.Add(mustParse(t, l))
	}
	if len(got) != 1 || len(got[0].lines) != 3 || got[0].reason != ReasonProctitle {
		t.Fatalf("%+v", got)
	}
	c.Add(mustParse(t, `type=EOE msg=audit(1700000200.125:501):`))
	if st := c.Stats(); st.Late != 0 || st.Events != 1 {
		t.Fatalf("%+v", st)
	}
	// PROCTITLE alone does not close an event whose PATH records are
	// still to come.
	got = nil
	c.Add(mustParse(t, `type=SYSCALL msg=audit(1700000201.000:502): arch=c000003e syscall=2 success=yes exit=3 items=2 pid=901 comm="cat"`))
	c.Add(mustParse(t, `type=PROCTITLE msg=audit(1700000201.000:502): proctitle=636174`))
	c.Add(mustParse(t, `type=PATH msg=audit(1700000201.000:502): item=0 name="/a" nametype=NORMAL`))
	if len(got) != 0 {
		t.Fatalf("closed before its second PATH: %+v", got)
	}
	c.Add(mustParse(t, `type=PATH msg=audit(1700000201.000:502): item=1 name="/b" nametype=NORMAL`))
	if len(got) != 1 || len(got[0].lines) != 4 {
		t.Fatalf("%+v", got)
	}
}

// A PATH record written after the next event's SYSCALL, seconds later in
// log time (go-libaudit's out_of_order test), still joins its event; one
// arriving after the event was emitted makes a follow-up event.
func TestRecordAfterTheNextEvent(t *testing.T) {
	var got []collected
	c := NewCorrelator(Config{}, collect(&got))
	for _, l := range []string{
		`type=SYSCALL msg=audit(1700000300.010:60): arch=c000003e syscall=59 success=yes exit=0 items=2 pid=4321 comm="cat" key="cmds"`,
		`type=EXECVE msg=audit(1700000300.010:60): argc=2 a0="cat" a1="notes.txt"`,
		`type=CWD msg=audit(1700000300.010:60):  cwd="/home/ops"`,
		`type=PATH msg=audit(1700000300.010:60): item=0 name="/usr/bin/cat" nametype=NORMAL`,
		`type=SYSCALL msg=audit(1700000307.900:61): arch=c000003e syscall=42 success=yes exit=0 items=1 pid=777 comm="smtpd" key=(null)`,
		`type=PATH msg=audit(1700000300.010:60): item=1 name="/lib64/ld-linux-x86-64.so.2" nametype=NORMAL`,
		`type=SOCKADDR msg=audit(1700000307.900:61): saddr=01002F72756E2F736F636B00`,
	} {
		c.Add(mustParse(t, l))
	}
	c.Flush()
	if len(got) != 2 || got[0].key != "|1700000300.010:60" || len(got[0].lines) != 5 || len(got[1].lines) != 2 {
		t.Fatalf("%+v", got)
	}
	// After the event is gone, a record for it is a follow-up, never dropped.
	c.Add(mustParse(t, `type=PATH msg=audit(1700000300.010:60): item=2 name="/etc/ld.so.cache" nametype=NORMAL`))
	c.Flush()
	if st := c.Stats(); len(got) != 3 || !got[2].late || st.Late != 1 || st.LateEvents != 1 {
		t.Fatalf("%+v %+v", got, st)
	}
}

// TestRecentSetMatchesAModel adds keys to a small recent set, many
// colliding in its index and wrapping its ring, and checks every lookup
// against the plain model: the last n distinct keys added are found, no
// other key is.
func TestRecentSetMatchesAModel(t *testing.T) {
	const n = 7
	s := newRecentSet(n)
	var order []eventKey // the model: distinct keys, oldest first
	rng := rand.New(rand.NewSource(12))
	key := func() eventKey {
		return eventKey{sec: int64(rng.Intn(4)), msec: uint16(rng.Intn(3)), serial: uint32(rng.Intn(6)), class: uint8(rng.Intn(2))}
	}
	for step := 0; step < 20000; step++ {
		k := key()
		known := false
		for _, o := range order {
			known = known || o == k
		}
		if got := s.lookup(k) != nil; got != known {
			t.Fatalf("step %d: lookup(%+v) = %v, model says %v", step, k, got, known)
		}
		if rng.Intn(2) == 0 {
			continue
		}
		s.add(&Event{key: k})
		if !known {
			order = append(order, k)
			if len(order) > n {
				order = order[1:]
			}
		}
		used := 0
		for _, v := range s.index {
			if v != 0 {
				used++
			}
		}
		if used != len(order) {
			t.Fatalf("step %d: index holds %d entries, model %d", step, used, len(order))
		}
	}
}
