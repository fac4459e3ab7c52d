package pipeline

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/source"
)

// Source is what the read loop pulls from: auditlog.Tail, auditlog.Reader,
// kernel.Source. Next returns one message, source.ErrIdle when nothing
// came for a while, io.EOF at the end of a finished input.
type Source interface {
	Next(ctx context.Context) (source.Msg, error)
}

// core is the chain every message goes through: parse, correlate, enrich,
// encode, then out (the writer of the CLI, the queue of the plugin).
// With two workers (Config.parallel), reading, parsing and correlating run
// on the loop's goroutine while a second one enriches, encodes and hands
// out, in order.
type core struct {
	cfg   Config
	rec   parser.Record
	corr  *parser.Correlator
	enr   *enrich.Enricher
	doc   encode.Document
	enc   []byte
	out   func(enc []byte, ev *parser.Event)
	stage *stage  // nil: enrich on the loop's goroutine
	w     *writer // nil: encode and hand out on the stage's goroutine
	text  textLine

	// Deaths that are not audit events (enrich.Pending): side hands out
	// their documents; life feeds process events and OOM kills when live;
	// kern holds a batch's OOM kills from saved kernel logs, in time
	// order, joined by the time of the audit events.
	side     func(enc []byte)
	life     *lifecycle
	kern     []enrich.OOMKill
	liveTime bool // deaths are due by the wall clock (live), else by the log's time

	lines, badLines atomic.Uint64
	enrStats        atomic.Pointer[enrich.Stats] // published by the stage
}

// ends are the ends of a core: out takes the documents of audit events,
// side the others (deaths); life, when live, feeds process events and OOM
// kills; kern are a batch's OOM kills from saved kernel logs.
type ends struct {
	out  func(enc []byte, ev *parser.Event)
	side func(enc []byte)
	life *lifecycle
	kern []enrich.OOMKill
	// docsOnly: out does not read its event, so documents may be
	// encoded and handed out on a goroutine of their own (writer).
	docsOnly bool
	// parallel: a second goroutine enriches and encodes (Config.parallel).
	parallel bool
}

func newCore(cfg Config, liveProc bool, x ends) (*core, error) {
	ecfg := cfg.Enrich
	ecfg.Proc = liveProc
	ecfg.ContainerNames = ecfg.ContainerNames && liveProc // ids come from /proc
	enr, err := enrich.New(ecfg)
	if err != nil {
		return nil, err
	}
	if x.life != nil && x.life.procs != nil {
		enr.ProcessEvents(true)
	}
	c := &core{cfg: cfg, enr: enr, out: x.out, side: x.side, life: x.life, kern: x.kern, liveTime: x.life != nil}
	emit := c.emit
	if x.parallel {
		if x.docsOnly && cfg.Format != "text" {
			c.w = newWriter(c)
		}
		c.stage = newStage(c)
		emit = c.stage.emit
	}
	c.corr = parser.NewCorrelator(parser.Config{Timeout: cfg.EventTimeout, MaxInFlight: cfg.MaxInFlight}, emit)
	return c, nil
}

// emit enriches, encodes and hands out one event (on the stage's
// goroutine when there is one).
func (c *core) emit(ev *parser.Event) {
	c.absorb(ev)
	if c.cfg.Format == "text" {
		c.emitText(ev)
		return
	}
	if c.w != nil {
		if c.enr.Enrich(ev, c.w.doc()) {
			c.w.add(false)
		}
		return
	}
	if !c.enr.Enrich(ev, &c.doc) {
		return
	}
	c.encode()
	c.out(c.enc, ev)
}

func (c *core) encode() {
	if c.cfg.Format == "text" {
		c.enc = c.text.appendDoc(c.enc[:0], &c.doc, c.cfg.Enrich.Hostname)
		return
	}
	if c.cfg.JSON {
		c.enc = append(c.doc.AppendJSON(c.enc[:0]), '\n')
	} else {
		c.enc = c.doc.AppendFluentBit(c.enc[:0])
	}
}

// absorb hands the enricher the process events and OOM kills that came
// before ev (nil: now) and writes the death documents that are due
// (enricher's goroutine). Cheap when there is nothing: channel lengths.
func (c *core) absorb(ev *parser.Event) {
	if c.life != nil && c.life.queued() {
		c.life.drain(c.enr)
	}
	var now time.Time
	if c.liveTime || ev == nil {
		if c.enr.PendingDeaths() == 0 {
			return
		}
		now = time.Now()
	} else {
		now = time.Unix(ev.Sec, int64(ev.Msec)*int64(time.Millisecond))
		for len(c.kern) > 0 && !c.kern[0].Time.After(now) {
			c.enr.OOM(&c.kern[0])
			c.kern = c.kern[1:]
		}
		if c.enr.PendingDeaths() == 0 {
			return
		}
	}
	c.pending(now)
}

// pending writes the death documents due at now.
func (c *core) pending(now time.Time) {
	if c.w != nil {
		for c.enr.Pending(now, c.w.doc()) {
			c.w.add(true)
		}
		return
	}
	for c.enr.Pending(now, &c.doc) {
		c.encode()
		c.side(c.enc)
	}
}

// flushWriter hands the writer the documents so far (stage goroutine).
func (c *core) flushWriter() {
	if c.w != nil {
		c.w.flush()
	}
}

// stopWriter writes what the writer holds and ends it: from then on the
// stage's goroutine is gone and finish encodes on the loop's.
func (c *core) stopWriter() {
	if c.w != nil {
		c.w.stop()
		c.w = nil
	}
}

// finish writes what is left of the deaths at the end of a finished input.
func (c *core) finish() {
	for i := range c.kern {
		c.enr.OOM(&c.kern[i])
	}
	c.kern = nil
	c.pending(time.Unix(1<<40, 0))
}

// feed parses one message and files it in its event.
func (c *core) feed(m source.Msg) {
	c.lines.Add(1)
	var err error
	if m.Type != 0 {
		err = parser.ParseNetlink(m.Type, m.Data, &c.rec)
	} else {
		b := m.Data
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if len(b) == 0 {
			return
		}
		err = parser.Parse(b, &c.rec)
	}
	if err != nil {
		if err == parser.ErrEmpty {
			return
		}
		c.badLines.Add(1)
		if c.cfg.Enrich.Raw {
			c.corr.Unparsed(m.Data, m.Pos) // kept whole, as a document of its own
		} else {
			c.corr.ParseError()
		}
		return
	}
	c.corr.AddAt(&c.rec, m.Pos)
}

// clock is what the loop does with time: nothing for a finished input
// (events close by log time), timeouts, commits and statistics for a live
// one.
type clock interface {
	// waitWhilePaused blocks while the consumer asked the reader to pause.
	waitWhilePaused(ctx context.Context)
	// tick runs at least every tickEvery; expire false means the reader is
	// behind its source, so open events are restamped instead of timed out
	// (see parser.Correlator.Stamp).
	tick(now time.Time, expire bool)
}

const tickEvery = 250 * time.Millisecond

// run is the read loop, for the CLI and the plugin alike: pull a message,
// feed it, tick now and then. It returns nil at the end of a finished
// input (io.EOF) or when ctx is done, else the source's error.
func (c *core) run(ctx context.Context, src Source, clk clock, retry func(error) bool) error {
	// due is set every tickEvery by a ticker: reading the clock for every
	// message cost 1.7% of the live file path's CPU.
	var due atomic.Bool
	if clk != nil {
		t := time.NewTicker(tickEvery)
		done := make(chan struct{})
		defer close(done)
		go func() {
			defer t.Stop()
			for {
				select {
				case <-t.C:
					due.Store(true)
				case <-done:
					return
				}
			}
		}()
	}
	caughtUp := false
	for {
		if clk != nil {
			clk.waitWhilePaused(ctx)
		}
		if ctx.Err() != nil {
			return nil
		}
		m, err := src.Next(ctx)
		switch {
		case err == nil:
			c.feed(m)
			caughtUp = false
			if clk == nil {
				continue
			}
		case errors.Is(err, source.ErrIdle):
			// The first idle after data only restamps: the rest of an
			// open event may not be written yet.
			if clk != nil {
				due.Store(false)
				clk.tick(time.Now(), caughtUp)
			}
			caughtUp = true
			continue
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, io.EOF):
			return nil
		default:
			if retry == nil || !retry(err) {
				return err
			}
			continue
		}
		if due.Load() {
			due.Store(false)
			clk.tick(time.Now(), false)
		}
	}
}

// stage hands correlated events to a second goroutine that enriches,
// encodes and hands them out, in batches of reused events: parsing and
// correlating overlap with enriching on a multi-core machine. The
// enricher's /proc scan runs there too, also while idle, so that a
// process killed later was seen alive.
type stage struct {
	free chan *evBatch
	full chan *evBatch
	done chan struct{}
	cur  *evBatch

	// Batches handed over and not yet emitted, whose positions a commit
	// must still count as pending.
	mu     sync.Mutex
	handed map[*evBatch]struct{}
}

type evBatch struct {
	evs   []parser.Event
	n     int
	bytes int // memory of the events copied in
}

const (
	stageBatch = 128
	stageRing  = 4
	// stageBytes: a batch is handed over once its events hold this much
	// memory, a bound on what the batches in flight hold in a stretch of
	// large events (EXECVEs of thousands of arguments), which 128 events
	// per batch alone do not give.
	stageBytes = 1 << 20
	// stageKeep: a staged event's buffers larger than this are not kept
	// for the next event (most events need a few KB).
	stageKeep = 16 << 10
)

func newStage(c *core) *stage {
	s := &stage{free: make(chan *evBatch, stageRing), full: make(chan *evBatch, stageRing),
		done: make(chan struct{}), handed: map[*evBatch]struct{}{}}
	for i := 0; i < stageRing; i++ {
		s.free <- &evBatch{evs: make([]parser.Event, stageBatch)}
	}
	go func() {
		defer close(s.done)
		defer c.publish()
		defer c.stopWriter()
		n := 0
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		var notify chan struct{} // nil: never ready
		if c.life != nil {
			notify = c.life.notify
		}
		for {
			select {
			case bt, ok := <-s.full:
				if !ok {
					return
				}
				c.enr.Tick()
				for i := 0; i < bt.n; i++ {
					c.emit(&bt.evs[i])
					bt.evs[i].Shrink(stageKeep)
				}
				if n++; n&7 == 0 {
					c.publish()
				}
				s.release(bt)
				c.flushWriter()
			case <-notify:
				c.absorb(nil)
				c.flushWriter()
			case <-t.C:
				c.enr.Tick()
				c.absorb(nil)
				c.flushWriter()
				c.publish()
			}
		}
	}()
	return s
}

func (s *stage) emit(ev *parser.Event) {
	if s.cur == nil {
		s.cur = <-s.free
		s.cur.n, s.cur.bytes = 0, 0
	}
	// An event within stageKeep moves (buffers swapped, no copy). A larger
	// one is copied: moved, its buffers would be dropped by the slot's
	// Shrink and grown again by the correlator for the next large event
	// (moving them all cost the corpus 41% more bytes allocated).
	if slot := &s.cur.evs[s.cur.n]; ev.Cap() <= stageKeep {
		ev.MoveTo(slot)
	} else {
		ev.CopyTo(slot)
	}
	s.cur.bytes += s.cur.evs[s.cur.n].Cap()
	s.cur.n++
	if s.cur.n == len(s.cur.evs) || s.cur.bytes >= stageBytes {
		s.send()
	}
}

func (s *stage) send() {
	s.mu.Lock()
	s.handed[s.cur] = struct{}{}
	s.mu.Unlock()
	s.full <- s.cur
	s.cur = nil
}

// flush hands over a partial batch.
func (s *stage) flush() {
	if s.cur != nil && s.cur.n > 0 {
		s.send()
	}
	s.cur = nil
}

// stop ends the stage after the batches handed over; discard drops the
// partial batch instead of handing it over.
func (s *stage) stop(discard bool) {
	if discard {
		s.cur = nil
	}
	s.flush()
	close(s.full)
	<-s.done
}

// release: the stage is done with a batch.
func (s *stage) release(bt *evBatch) {
	s.mu.Lock()
	delete(s.handed, bt)
	s.mu.Unlock()
	s.free <- bt
}

// positions calls fn with the position of every event in the stage
// (loop goroutine).
func (s *stage) positions(fn func(uint64)) {
	if s.cur != nil {
		for i := 0; i < s.cur.n; i++ {
			fn(s.cur.evs[i].Pos)
		}
	}
	s.mu.Lock()
	for bt := range s.handed {
		for i := 0; i < bt.n; i++ {
			fn(bt.evs[i].Pos)
		}
	}
	s.mu.Unlock()
}

// tickEnricher lets the enricher refresh itself when it runs on the loop's
// goroutine, or hands the stage what waits for a full batch.
func (c *core) tickEnricher() {
	if c.stage != nil {
		c.stage.flush()
	} else {
		c.enr.Tick()
		c.absorb(nil)
		c.publish()
	}
}

// publish makes the enricher's counters readable from other goroutines
// (by the goroutine that owns the enricher).
func (c *core) publish() {
	es := c.enr.Stats()
	c.enrStats.Store(&es)
}

// Stats are the pipeline's counters.
type Stats struct {
	Workers    int            `json:"workers"` // goroutines doing the work (the workers key)
	Lines      uint64         `json:"lines"`
	ParseErrs  uint64         `json:"parse_errors"`
	Correlator parser.Stats   `json:"correlator"`
	Enrich     enrich.Stats   `json:"enrich"`
	Queue      QueueStats     `json:"queue"`
	Source     map[string]any `json:"source,omitempty"`
	Lifecycle  map[string]any `json:"lifecycle,omitempty"`
}

// QueueStats describe the queue between reader and consumer.
type QueueStats struct {
	Events    int    `json:"events"`
	Bytes     int    `json:"bytes"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Skipped   uint64 `json:"resume_skipped"`
}

// workers is the number of goroutines doing the work (the workers key).
func (c *core) workers() int {
	if c.stage != nil {
		return 2
	}
	return 1
}

// stats returns the counters; the enricher's from the stage when there is
// one (it owns the enricher).
func (c *core) stats() Stats {
	s := Stats{Workers: c.workers(), Lines: c.lines.Load(), ParseErrs: c.badLines.Load(), Correlator: c.corr.Stats()}
	if c.stage == nil {
		s.Enrich = c.enr.Stats()
	} else if es := c.enrStats.Load(); es != nil {
		s.Enrich = *es
	}
	return s
}
