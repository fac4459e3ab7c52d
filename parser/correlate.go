package parser

import (
	"hash/maphash"
	"time"
)

// Config bounds and times the correlator. Zero values take the defaults.
type Config struct {
	// Timeout closes an event that got no closing record (EOE, PROCTITLE)
	// within this long, measured both in log time (the newest record
	// timestamp seen, so old files replay correctly) and in wall time since
	// the Tick before its first record (so a quiet live source still
	// flushes). Default 2s.
	Timeout time.Duration
	// MaxInFlight bounds the open events; when a new one would exceed it,
	// the oldest is closed with ReasonEvicted. Default 4096.
	MaxInFlight int
	// MaxEventRecords and MaxEventBytes bound one event; records past
	// them are dropped and counted. Defaults 16384 records, 8 MiB.
	MaxEventRecords int
	MaxEventBytes   int
	// Recent is how many closed events are remembered to recognise late and
	// duplicate records for them. Default 8192.
	Recent int
	// Grace is how many records must follow an event's last record before
	// it may time out in log time: a record written a little out of order
	// (after the next event's first records) still joins its event.
	// Default 32.
	Grace int
}

func (c *Config) defaults() {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4096
	}
	if c.MaxEventRecords <= 0 {
		c.MaxEventRecords = 16384
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = 8 << 20
	}
	if c.Recent <= 0 {
		c.Recent = 8192
	}
	if c.Grace <= 0 {
		c.Grace = 32
	}
}

// Stats counts what the correlator saw and what it did not pass on.
type Stats struct {
	Records     uint64 // records accepted by Add
	ParseErrors uint64 // lines counted by ParseError
	Events      uint64 // events emitted
	// ClosedBy counts emitted events per Reason (eoe, proctitle,
	// standalone, timeout, flush, evicted).
	ClosedBy [numReasons]uint64
	// Evicted is ClosedBy[ReasonEvicted]: partial events closed early
	// because MaxInFlight was reached.
	Evicted uint64
	// Duplicates: records identical to one already in their open event.
	Duplicates uint64
	// Late: records that arrived after their event was emitted; they are
	// not dropped but make a follow-up event (Event.Late) with the same
	// id. LateEvents counts those events.
	Late, LateEvents uint64
	// DroppedRecords: records past MaxEventRecords/MaxEventBytes.
	DroppedRecords uint64
	// InFlight is the number of open events now; MaxInFlightSeen its peak.
	InFlight        int
	MaxInFlightSeen int
}

// Correlator joins records into events by (node, timestamp, serial). It is
// not safe for concurrent use.
type Correlator struct {
	cfg      Config
	emit     func(*Event)
	open     map[eventKey]*Event
	head     *Event // oldest open event
	tail     *Event
	free     []*Event
	recent   recentSet
	last     *Event // the open event given the last record, if still open
	seed     maphash.Seed
	clock    int64 // newest record time seen, ms
	wall     int64 // wall time of the last Tick, ms
	timeout  int64 // ms
	stats    Stats
	maxFree  int
	pos      uint64 // position of the record being added
	seq      uint64 // records added so far
	unparsed uint64 // lines given to Unparsed
	scratch  Record
}

// OpenPositions calls fn with the position (see AddAt) of every event
// still open, oldest first.
func (c *Correlator) OpenPositions(fn func(pos uint64)) {
	for e := c.head; e != nil; e = e.next {
		fn(e.Pos)
	}
}

// NewCorrelator returns a correlator that calls emit for every event it
// closes. The event is only valid during the call.
func NewCorrelator(cfg Config, emit func(*Event)) *Correlator {
	cfg.defaults()
	return &Correlator{
		cfg:     cfg,
		emit:    emit,
		open:    make(map[eventKey]*Event, 256),
		recent:  newRecentSet(cfg.Recent),
		seed:    maphash.MakeSeed(),
		timeout: cfg.Timeout.Milliseconds(),
		maxFree: 64,
	}
}

// Stats returns the counters.
func (c *Correlator) Stats() Stats {
	s := c.stats
	s.InFlight = len(c.open)
	s.Evicted = s.ClosedBy[ReasonEvicted]
	return s
}

// ParseError counts a line the parser rejected.
func (c *Correlator) ParseError() { c.stats.ParseErrors++ }

// Unparsed counts a line the parser rejected and emits it as an event of
// its own: one record of type TypeUnparsed whose Line is the line, stamped
// with the newest record time seen, a serial counting such lines, and no
// fields.
func (c *Correlator) Unparsed(line []byte, pos uint64) {
	c.stats.ParseErrors++
	c.unparsed++
	r := &c.scratch
	r.reset(line)
	r.Type = TypeUnparsed
	r.Sec, r.Msec, r.Serial = c.clock/1000, uint16(c.clock%1000), uint32(c.unparsed)
	c.pos = pos
	e := c.newEvent(eventKey{sec: r.Sec, msec: r.Msec, serial: r.Serial, class: classUnparsed}, r)
	e.add(r, 0)
	c.close(e, ReasonStandalone)
}

// Add files one parsed record into its event and emits every event this
// closes. The record is copied; the caller may reuse its line.
func (c *Correlator) Add(r *Record) { c.AddAt(r, NoPos) }

// AddAt is Add for a record read at a source position pos (an opaque
// number, e.g. a file offset); the event remembers the position of its
// first record (Event.Pos) so a source can resume before every event not
// yet delivered.
func (c *Correlator) AddAt(r *Record, pos uint64) {
	c.stats.Records++
	c.seq++
	key := eventKey{sec: r.Sec, msec: r.Msec, serial: r.Serial}
	if userSpace(r.Type) {
		key.class = classUser
	}
	if r.Node.Len > 0 {
		key.node = maphash.Bytes(c.seed, r.Bytes(r.Node)) | 1
	}
	ts := r.Sec*1000 + int64(r.Msec)
	if ts > c.clock {
		c.clock = ts
	}

	// Most records follow one of their own event: the last event given
	// a record saves a map lookup.
	e := c.last
	if e == nil || !e.inFlight || e.key != key {
		e = c.open[key]
	}
	var h uint64
	if r.Type != TypeEOE {
		h = maphash.Bytes(c.seed, r.Line[r.Body.Off:])
	}
	if e == nil {
		c.pos = pos
		late := false
		if old := c.recent.lookup(key); old != nil {
			if r.Type == TypeEOE {
				return // the end marker of an event already closed
			}
			if old.has(h) {
				c.stats.Duplicates++
				return // a record of that event, again
			}
			late = true
		} else if r.Type == TypeEOE {
			return // the end of an event whose records we never saw
		}
		if Standalone(r.Type) {
			e = c.newEvent(key, r)
			if late {
				e.Late = true
				c.stats.LateEvents++
				c.stats.Late++
			}
			e.add(r, h)
			c.close(e, ReasonStandalone)
			c.expire()
			return
		}
		if len(c.open) >= c.cfg.MaxInFlight {
			c.close(c.head, ReasonEvicted)
		}
		e = c.newEvent(key, r)
		if late {
			e.Late = true
			c.stats.LateEvents++
		}
		c.open[key] = e
		e.inFlight = true
		c.push(e)
		if len(c.open) > c.stats.MaxInFlightSeen {
			c.stats.MaxInFlightSeen = len(c.open)
		}
	}
	if e.Late {
		c.stats.Late++
	}
	e.lastSeq = c.seq
	c.last = e

	if r.Type == TypeEOE {
		c.close(e, ReasonEOE)
		c.expire()
		return
	}
	for i := range e.spans {
		if e.spans[i].hash == h && e.Records[i].Type == r.Type {
			c.stats.Duplicates++
			return
		}
	}
	if len(e.Records) >= c.cfg.MaxEventRecords || e.bytes+len(r.Line) > c.cfg.MaxEventBytes {
		e.Dropped++
		c.stats.DroppedRecords++
	} else {
		e.add(r, h)
	}
	e.note(r)
	if e.complete() {
		c.close(e, ReasonProctitle)
	}
	c.expire()
}

// Tick tells the correlator the wall time and closes every event that has
// been open longer than the timeout. Call it regularly (every read, or at
// least every second when the source is idle).
func (c *Correlator) Tick(now time.Time) {
	first := c.wall == 0
	c.wall = now.UnixMilli()
	if first { // events opened before the first Tick start their wait now
		for e := c.head; e != nil; e = e.next {
			e.wall = c.wall
		}
	}
	for e := c.head; e != nil && c.wall-e.wall > c.timeout; e = c.head {
		c.close(e, ReasonTimeout)
	}
	c.expire()
}

// Stamp restarts the wall-clock wait of every open event at now, without
// closing any. A reader that was not keeping up (a file read behind its
// end, a consumer applying backpressure) calls it instead of Tick, so
// events whose remaining records simply have not been read yet are not
// timed out; once caught up it calls Tick again.
func (c *Correlator) Stamp(now time.Time) {
	c.wall = now.UnixMilli()
	for e := c.head; e != nil; e = e.next {
		e.wall = c.wall
	}
}

// Flush closes every open event (end of input).
func (c *Correlator) Flush() {
	for c.head != nil {
		c.close(c.head, ReasonFlush)
	}
}

// expire closes events older than the timeout in log time whose last
// record is at least Grace records ago. Events are listed by arrival, and
// arrival times only grow, so the oldest is first.
func (c *Correlator) expire() {
	for e := c.head; e != nil && c.clock-e.arrival > c.timeout && c.seq-e.lastSeq >= uint64(c.cfg.Grace); e = c.head {
		c.close(e, ReasonTimeout)
	}
}

func (c *Correlator) newEvent(key eventKey, r *Record) *Event {
	var e *Event
	if n := len(c.free); n > 0 {
		e = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		e = &Event{}
	}
	e.key = key
	e.Sec, e.Msec, e.Serial = r.Sec, r.Msec, r.Serial
	e.node = append(e.node[:0], r.Bytes(r.Node)...)
	e.arrival = c.clock
	e.wall = c.wall
	e.Pos = c.pos
	e.items = -1
	return e
}

func (c *Correlator) close(e *Event, why Reason) {
	if e.inFlight {
		delete(c.open, e.key)
		c.unlink(e)
	}
	c.recent.add(e)
	e.Reason = why
	e.seal()
	c.stats.Events++
	c.stats.ClosedBy[why]++
	c.emit(e)
	// Keep a few events, not ones that grew huge.
	if len(c.free) < c.maxFree && cap(e.buf) <= 1<<20 {
		e.reset()
		c.free = append(c.free, e)
	}
}

func (c *Correlator) push(e *Event) {
	e.prev = c.tail
	if c.tail != nil {
		c.tail.next = e
	} else {
		c.head = e
	}
	c.tail = e
}

func (c *Correlator) unlink(e *Event) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
	e.inFlight = false
}

// recentSet remembers the last n closed events: their keys, and the
// hashes of their first records, so that a record arriving again after its
// event closed is told apart (a duplicate) from a late one.
type recentSet struct {
	ring []recentEvent
	// index finds a key's slot in ring: open addressing with linear
	// probing, each entry the key hash's upper half and ring index+1 (0
	// empty). It replaced a map[eventKey]int32 whose lookups and deletes,
	// cold in cache for every new event, cost 6-7% of the kill log's CPU;
	// this table is 16 bytes per remembered event (128 KiB for the default
	// 8192) and a miss rarely reads the ring.
	index []uint64
	mask  uint32
	next  int
	full  bool
}

// recentHashes bounds the record hashes kept per closed event: the first
// ones and the last (the record that closed it, the one most often seen
// again when a log repeats itself).
const recentHashes = 16

type recentEvent struct {
	key    eventKey
	hashes [recentHashes]uint64
	n      uint8
}

func newRecentSet(n int) recentSet {
	size := uint32(4)
	for size < uint32(2*n) {
		size <<= 1
	}
	return recentSet{ring: make([]recentEvent, n), index: make([]uint64, size), mask: size - 1}
}

// tag hashes k to 32 bits, never 0; its low bits are the home slot.
func (k eventKey) tag() uint32 {
	h := k.node ^ uint64(k.sec)*0x9e3779b97f4a7c15 ^ (uint64(k.serial)<<24 | uint64(k.msec)<<8 | uint64(k.class))
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return uint32(h>>32) | 1
}

// slot returns the index slot holding k, or -1.
func (s *recentSet) slot(k eventKey) int {
	t := k.tag()
	for i := t & s.mask; ; i = (i + 1) & s.mask {
		v := s.index[i]
		if v == 0 {
			return -1
		}
		if uint32(v>>32) == t && s.ring[uint32(v)-1].key == k {
			return int(i)
		}
	}
}

// lookup returns the remembered event of key, or nil.
func (s *recentSet) lookup(k eventKey) *recentEvent {
	if i := s.slot(k); i >= 0 {
		return &s.ring[uint32(s.index[i])-1]
	}
	return nil
}

// remove empties slot i, moving back the entries after it that would
// no longer be found (backward-shift deletion: no tombstones).
func (s *recentSet) remove(i uint32) {
	for j := (i + 1) & s.mask; s.index[j] != 0; j = (j + 1) & s.mask {
		home := uint32(s.index[j]>>32) & s.mask
		// the entry at j stays where it is when its home lies in (i, j]
		if (i < j && i < home && home <= j) || (i > j && (home > i || home <= j)) {
			continue
		}
		s.index[i] = s.index[j]
		i = j
	}
	s.index[i] = 0
}

// has reports whether r held a record with hash h.
func (r *recentEvent) has(h uint64) bool {
	for _, x := range r.hashes[:r.n] {
		if x == h {
			return true
		}
	}
	return false
}

// add remembers a closed event (again, for a follow-up: its hashes are
// added to the ones already known, within the bound).
func (s *recentSet) add(e *Event) {
	if i := s.slot(e.key); i >= 0 {
		r := &s.ring[uint32(s.index[i])-1]
		for j := range e.spans {
			if int(r.n) < recentHashes && !r.has(e.spans[j].hash) {
				r.hashes[r.n] = e.spans[j].hash
				r.n++
			}
		}
		return
	}
	if s.full {
		if i := s.slot(s.ring[s.next].key); i >= 0 {
			s.remove(uint32(i))
		}
	}
	r := &s.ring[s.next]
	r.key, r.n = e.key, 0
	for j := range e.spans {
		if int(r.n) < recentHashes-1 || j == len(e.spans)-1 {
			r.hashes[r.n] = e.spans[j].hash
			r.n++
		}
	}
	t := e.key.tag()
	i := t & s.mask
	for s.index[i] != 0 {
		i = (i + 1) & s.mask
	}
	s.index[i] = uint64(t)<<32 | uint64(s.next+1)
	s.next++
	if s.next == len(s.ring) {
		s.next, s.full = 0, true
	}
}
