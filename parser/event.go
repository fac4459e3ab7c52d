package parser

import (
	"slices"
	"time"
	"unsafe"
)

// Reason says why the correlator closed an event.
type Reason uint8

const (
	// ReasonEOE: the kernel's end-of-event record arrived (netlink).
	ReasonEOE Reason = iota
	// ReasonProctitle: the event has its SYSCALL, its PROCTITLE (the
	// kernel's last record of a syscall event) and as many PATH records as
	// the SYSCALL's items= announced, in whatever order they came.
	ReasonProctitle
	// ReasonStandalone: a record type that is always an event of its own.
	ReasonStandalone
	// ReasonTimeout: no closing record within the timeout.
	ReasonTimeout
	// ReasonFlush: end of input.
	ReasonFlush
	// ReasonEvicted: too many events in flight; this was the oldest.
	ReasonEvicted
	numReasons
)

var reasonNames = [numReasons]string{"eoe", "proctitle", "standalone", "timeout", "flush", "evicted"}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Complete reports whether the event was closed by a record that proves
// nothing more belongs to it (EOE, PROCTITLE, a standalone type).
func (r Reason) Complete() bool { return r <= ReasonStandalone }

type eventKey struct {
	node   uint64 // hash of the node name, 0 without one
	sec    int64
	msec   uint16
	serial uint32
	// class: 0 kernel records; classUser a user-space record: systemd's
	// SERVICE_START can share its serial with the kernel's records of the
	// sendto() that carried it, and ausearch shows them as two events, as
	// do we; classUnparsed a line the parser could not read.
	class uint8
}

const (
	classKernel = iota
	classUser
	classUnparsed
)

type recSpan struct {
	off, n         int32 // line in Event.buf
	fields, fieldN int32 // in Event.fields
	enr, enrN      int32
	hash           uint64
}

// NoPos is the position of records that come from no source position
// (Add, out-of-band records).
const NoPos = ^uint64(0)

// Event is the set of records of one audit event, (node, time, serial). It
// is valid only during the emit callback; the correlator reuses it after.
type Event struct {
	Sec     int64
	Msec    uint16
	Serial  uint32
	Records []Record // in arrival order; their lines and fields live in the event
	Reason  Reason
	// Dropped counts records of this event the correlator did not keep
	// because the event exceeded MaxEventRecords or MaxEventBytes.
	Dropped int
	// Pos is the source position of the event's first record (AddAt), or
	// NoPos.
	Pos uint64
	// Late: the records of this event arrived after an event with the same
	// id was emitted (a follow-up of it).
	Late bool

	key      eventKey
	node     []byte
	buf      []byte
	fields   []Field
	spans    []recSpan
	bytes    int
	arrival  int64  // stream clock (ms) when the first record arrived
	wall     int64  // wall clock (ms) of the last Tick before the first record
	lastSeq  uint64 // correlator's record count at the last record
	hasSys   bool   // a SYSCALL record arrived
	hasTitle bool   // a PROCTITLE record arrived
	items    int    // the SYSCALL's items= (-1 unknown)
	paths    int    // PATH records kept
	prev     *Event
	next     *Event
	inFlight bool
}

// Node returns the event's node name (empty without node=).
func (e *Event) Node() []byte { return e.node }

// Time returns the event's timestamp.
func (e *Event) Time() time.Time {
	return time.Unix(e.Sec, int64(e.Msec)*int64(time.Millisecond))
}

// First returns the first record of the given type, or nil.
func (e *Event) First(typ uint16) *Record {
	for i := range e.Records {
		if e.Records[i].Type == typ {
			return &e.Records[i]
		}
	}
	return nil
}

// Has reports whether the event has a record of the given type.
func (e *Event) Has(typ uint16) bool { return e.First(typ) != nil }

func (e *Event) reset() {
	e.Records = e.Records[:0]
	e.Dropped = 0
	e.Late = false
	e.hasSys, e.hasTitle, e.items, e.paths = false, false, -1, 0
	e.node = e.node[:0]
	e.buf = e.buf[:0]
	e.fields = e.fields[:0]
	e.spans = e.spans[:0]
	e.bytes = 0
	e.prev, e.next = nil, nil
	e.inFlight = false
}

// add copies the record into the event.
func (e *Event) add(r *Record, hash uint64) {
	s := recSpan{
		off: int32(len(e.buf)), n: int32(len(r.Line)),
		fields: int32(len(e.fields)), fieldN: int32(len(r.Fields)),
		hash: hash,
	}
	e.buf = append(e.buf, r.Line...)
	e.fields = append(e.fields, r.Fields...)
	s.enr, s.enrN = int32(len(e.fields)), int32(len(r.Enriched))
	e.fields = append(e.fields, r.Enriched...)
	e.spans = append(e.spans, s)
	rec := *r
	rec.Line, rec.Fields, rec.Enriched = nil, nil, nil
	e.Records = append(e.Records, rec)
	e.bytes += len(r.Line) + (len(r.Fields)+len(r.Enriched))*16
}

// note updates what completion looks for with a record just added.
func (e *Event) note(r *Record) {
	switch r.Type {
	case TypeSyscall:
		if !e.hasSys {
			e.hasSys = true
			if v, ok := r.Value("items"); ok {
				if n, ok := atou(v, 1<<16); ok {
					e.items = int(n)
				}
			}
		}
	case TypeProctitle:
		e.hasTitle = true
	case TypePath:
		e.paths++
	}
}

// complete reports a syscall event that has all its records: SYSCALL,
// PROCTITLE and the PATH records items= announced.
func (e *Event) complete() bool {
	return e.hasSys && e.hasTitle && e.paths >= e.items
}

// seal points every record at the event's final buffers.
func (e *Event) seal() {
	for i := range e.Records {
		s := &e.spans[i]
		r := &e.Records[i]
		r.Line = e.buf[s.off : s.off+s.n : s.off+s.n]
		r.Fields = e.fields[s.fields : s.fields+s.fieldN : s.fields+s.fieldN]
		r.Enriched = e.fields[s.enr : s.enr+s.enrN : s.enr+s.enrN]
	}
}

// Args is the argument list of an exec, reassembled from every EXECVE record
// of an event. Reuse one Args across events to avoid allocations.
type Args struct {
	// Argc is the argc the kernel announced, -1 when no record said.
	Argc int
	// Missing counts arguments announced or numbered but never seen.
	Missing int
	buf     []byte
	ends    []int32
	pieces  []argPiece
}

type argPiece struct {
	arg, chunk int32 // chunk -1 for a whole aN value
	rec        int32
	field      Field
}

// maxArgs bounds the slots Args allocates, whatever a record claims.
const maxArgs = 1 << 20

// Len returns the number of arguments.
func (a *Args) Len() int { return len(a.ends) }

// Arg returns argument i, decoded.
func (a *Args) Arg(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.buf[start:a.ends[i]]
}

// ExecveArgs reassembles the arguments of every EXECVE record of the event
// (argc, aN quoted or hex, aN_len with aN[i] chunks, across records) into a.
// It returns false when the event has no EXECVE record.
func (e *Event) ExecveArgs(a *Args) bool {
	a.Argc, a.Missing = -1, 0
	a.buf, a.ends, a.pieces = a.buf[:0], a.ends[:0], a.pieces[:0]
	found := false
	for ri := range e.Records {
		r := &e.Records[ri]
		if r.Type != TypeExecve {
			continue
		}
		found = true
		for _, f := range r.Fields {
			if f.Depth != 0 || f.Kind == Text {
				continue
			}
			k := r.Bytes(f.Key)
			if string(k) == "argc" {
				if n, ok := atou(r.Bytes(f.Val), maxArgs); ok {
					a.Argc = int(n)
				}
				continue
			}
			arg, chunk, ok := argKey(k)
			if !ok {
				continue
			}
			a.pieces = append(a.pieces, argPiece{arg: arg, chunk: chunk, rec: int32(ri), field: f})
		}
	}
	if !found {
		return false
	}
	sorted := slices.IsSortedFunc(a.pieces, comparePieces)
	if !sorted {
		slices.SortStableFunc(a.pieces, comparePieces)
	}
	next := int32(0)
	for i, p := range a.pieces {
		if i > 0 && a.pieces[i-1].arg == p.arg && (p.chunk < 0 || a.pieces[i-1].chunk == p.chunk) {
			continue // the same piece twice: keep the first
		}
		for next <= p.arg {
			if next < p.arg {
				a.Missing++
			}
			a.ends = append(a.ends, int32(len(a.buf)))
			next++
		}
		r := &e.Records[p.rec]
		a.buf, _ = r.Untrusted(a.buf, p.field)
		a.ends[len(a.ends)-1] = int32(len(a.buf))
	}
	if a.Argc > len(a.ends) {
		a.Missing += a.Argc - len(a.ends)
	}
	return true
}

func comparePieces(x, y argPiece) int {
	if x.arg != y.arg {
		return int(x.arg - y.arg)
	}
	return int(x.chunk - y.chunk)
}

// argKey parses aN, aN[i] (and rejects aN_len, argc and anything else).
func argKey(k []byte) (arg, chunk int32, ok bool) {
	if len(k) < 2 || k[0] != 'a' {
		return 0, 0, false
	}
	i := 1
	for i < len(k) && isDigit(k[i]) {
		i++
	}
	n, ok := atou(k[1:i], maxArgs-1)
	if !ok {
		return 0, 0, false
	}
	if i == len(k) {
		return int32(n), -1, true
	}
	if k[i] != '[' || k[len(k)-1] != ']' {
		return 0, 0, false
	}
	c, ok := atou(k[i+1:len(k)-1], maxArgs)
	if !ok {
		return 0, 0, false
	}
	return int32(n), int32(c), true
}

// Shrink, once a reused event has been consumed, drops its buffers that
// grew beyond max bytes and its records, so that a pool of events does not
// keep, per slot, the largest event it ever held (an EXECVE of thousands
// of arguments). Clearing the records matters most: their slices, also
// those past len, kept old buffers alive (the pipeline's heap in use on the
// repeated corpus, 65-73 MB before, 21 MB after). The event is empty
// afterwards (CopyTo refills it).
func (e *Event) Shrink(max int) {
	if cap(e.buf) > max {
		e.buf = nil
	}
	if cap(e.node) > max {
		e.node = nil
	}
	if cap(e.fields)*int(unsafe.Sizeof(Field{})) > max {
		e.fields = nil
	}
	if cap(e.spans)*int(unsafe.Sizeof(recSpan{})) > max {
		e.spans = nil
	}
	if cap(e.Records)*int(unsafe.Sizeof(Record{})) > max {
		e.Records = nil
	}
	// The records' slices still point into the buffers just dropped (and
	// those past len into older ones): clear them, or they keep those
	// buffers alive.
	clear(e.Records[:cap(e.Records)])
	e.Records = e.Records[:0]
}

// Cap returns the bytes of memory the event's buffers hold.
func (e *Event) Cap() int {
	return cap(e.buf) + cap(e.node) + cap(e.fields)*int(unsafe.Sizeof(Field{})) + cap(e.spans)*int(unsafe.Sizeof(recSpan{})) + cap(e.Records)*int(unsafe.Sizeof(Record{}))
}

// CopyTo makes dst an independent copy of e (reusing dst's buffers), valid
// after the emit callback returns: for handing events to another goroutine.
func (e *Event) CopyTo(dst *Event) {
	dst.Sec, dst.Msec, dst.Serial, dst.Reason, dst.Dropped, dst.Pos, dst.Late = e.Sec, e.Msec, e.Serial, e.Reason, e.Dropped, e.Pos, e.Late
	dst.key = e.key
	dst.node = append(dst.node[:0], e.node...)
	dst.buf = append(dst.buf[:0], e.buf...)
	dst.fields = append(dst.fields[:0], e.fields...)
	dst.spans = append(dst.spans[:0], e.spans...)
	dst.Records = append(dst.Records[:0], e.Records...)
	dst.bytes = e.bytes
	dst.prev, dst.next, dst.inFlight = nil, nil, false
	dst.seal()
}

// MoveTo gives dst the event, its buffers included, and gives e dst's old
// buffers, emptied: CopyTo without the copy (copying cost 5% of the kill
// log's CPU). Only from the emit callback, whose event the correlator
// resets when the callback returns.
func (e *Event) MoveTo(dst *Event) {
	dst.Sec, dst.Msec, dst.Serial, dst.Reason, dst.Dropped, dst.Pos, dst.Late = e.Sec, e.Msec, e.Serial, e.Reason, e.Dropped, e.Pos, e.Late
	dst.key = e.key
	dst.node, e.node = e.node, dst.node[:0]
	dst.buf, e.buf = e.buf, dst.buf[:0]
	dst.fields, e.fields = e.fields, dst.fields[:0]
	dst.spans, e.spans = e.spans, dst.spans[:0]
	dst.Records, e.Records = e.Records, dst.Records[:0]
	dst.bytes = e.bytes
	dst.prev, dst.next, dst.inFlight = nil, nil, false
}
