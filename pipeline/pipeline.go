package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/parser"
)

// Logger receives log lines; level 1 error, 2 warn, 3 info, 4 debug.
type Logger func(level int, msg string)

// Log levels.
const (
	LevelError = 1
	LevelWarn  = 2
	LevelInfo  = 3
	LevelDebug = 4
)

// core is the synchronous part: parse, correlate, enrich, encode.
type core struct {
	cfg  Config
	rec  parser.Record
	corr *parser.Correlator
	enr  *enrich.Enricher
	doc  encode.Document
	enc  []byte
	out  func(enc []byte, ev *parser.Event)

	lines, badLines atomic.Uint64
}

func newCore(cfg Config, liveProc bool, out func(enc []byte, ev *parser.Event)) (*core, error) {
	ecfg := enrich.Config{
		Schema:          cfg.Schema,
		Raw:             cfg.Raw,
		AncestryDepth:   cfg.AncestryDepth,
		Proc:            liveProc,
		IncludeTypes:    cfg.IncludeTypes,
		ExcludeTypes:    cfg.ExcludeTypes,
		IncludeKeys:     cfg.IncludeKeys,
		ExcludeKeys:     cfg.ExcludeKeys,
		IncludeSyscalls: cfg.IncludeSyscalls,
		ExcludeSyscalls: cfg.ExcludeSyscalls,
		IncludeSignals:  cfg.IncludeSignals,
		ExcludeSignals:  cfg.ExcludeSignals,
		DropSIGURG:      cfg.DropSIGURG,
		Hostname:        cfg.Hostname,
	}
	enr, err := enrich.New(ecfg)
	if err != nil {
		return nil, err
	}
	c := &core{cfg: cfg, enr: enr, out: out}
	c.corr = parser.NewCorrelator(parser.Config{Timeout: cfg.EventTimeout, MaxInFlight: cfg.MaxInFlight}, c.emit)
	return c, nil
}

func (c *core) emit(ev *parser.Event) {
	if !c.enr.Enrich(ev, &c.doc) {
		return
	}
	if c.cfg.JSON {
		c.enc = append(c.doc.AppendJSON(c.enc[:0]), '\n')
	} else {
		c.enc = c.doc.AppendFluentBit(c.enc[:0])
	}
	c.out(c.enc, ev)
}

// line feeds one log line read at position pos.
func (c *core) line(b []byte, pos uint64) {
	c.lines.Add(1)
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if err := parser.Parse(b, &c.rec); err != nil {
		if err != parser.ErrEmpty {
			c.badLines.Add(1)
			c.corr.ParseError()
		}
		return
	}
	c.corr.AddAt(&c.rec, pos)
}

// netlink feeds one message from the kernel.
func (c *core) netlink(typ uint16, payload []byte) {
	c.lines.Add(1)
	if err := parser.ParseNetlink(typ, payload, &c.rec); err != nil {
		c.badLines.Add(1)
		c.corr.ParseError()
		return
	}
	c.corr.Add(&c.rec)
}

// Batch runs the pipeline over finished logs (the CLI): every document is
// written to w as it is produced. With more than one CPU, reading, parsing
// and correlating run on the caller's goroutine while a second one
// enriches, encodes and writes, in order (10% faster on 2 cores; a third
// stage for encoding alone measured no faster).
type Batch struct {
	c   *core
	w   *bufio.Writer
	err error
	br  *bufio.Reader
	// stage, when set, enriches and writes on a second goroutine.
	stage *evStage
	// failed is set when writing failed (read from the reading goroutine).
	failed atomic.Bool
	// Docs counts written documents.
	Docs uint64
}

// evStage hands correlated events to a second goroutine that enriches,
// encodes and writes them, in batches of reused events: parsing and
// correlating overlap with enriching on a multi-core machine.
type evStage struct {
	free chan *evBatch
	full chan *evBatch
	done chan struct{}
	cur  *evBatch

	// For the live pipeline: batches handed over and not yet queued, whose
	// positions a commit must still count as pending.
	mu      sync.Mutex
	handed  map[*evBatch]struct{}
	tracked bool
}

type evBatch struct {
	evs []parser.Event
	n   int
}

const stageBatch = 128

func (s *evStage) emit(ev *parser.Event) {
	if s.cur == nil {
		s.cur = <-s.free
		s.cur.n = 0
	}
	ev.CopyTo(&s.cur.evs[s.cur.n])
	s.cur.n++
	if s.cur.n == len(s.cur.evs) {
		s.send()
	}
}

func (s *evStage) send() {
	if s.tracked {
		s.mu.Lock()
		s.handed[s.cur] = struct{}{}
		s.mu.Unlock()
	}
	s.full <- s.cur
	s.cur = nil
}

func (s *evStage) flush() {
	if s.cur != nil && s.cur.n > 0 {
		s.send()
	}
	s.cur = nil
}

// done with a batch (stage goroutine): it no longer holds pending events.
func (s *evStage) release(bt *evBatch) {
	if s.tracked {
		s.mu.Lock()
		delete(s.handed, bt)
		s.mu.Unlock()
	}
	s.free <- bt
}

// positions calls fn with the position of every event in the stage
// (reader goroutine).
func (s *evStage) positions(fn func(uint64)) {
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

func newEvStage(tracked bool) *evStage {
	const ring = 4
	s := &evStage{free: make(chan *evBatch, ring), full: make(chan *evBatch, ring), done: make(chan struct{}), tracked: tracked}
	if tracked {
		s.handed = map[*evBatch]struct{}{}
	}
	for i := 0; i < ring; i++ {
		s.free <- &evBatch{evs: make([]parser.Event, stageBatch)}
	}
	return s
}

// NewBatch returns a pipeline writing to w (JSON lines when cfg.JSON, else
// Fluent Bit msgpack entries).
func NewBatch(cfg Config, w io.Writer) (*Batch, error) {
	b := &Batch{w: bufio.NewWriterSize(w, 256<<10)}
	c, err := newCore(cfg, cfg.Proc == "true", func(enc []byte, _ *parser.Event) {
		if b.err == nil {
			if _, b.err = b.w.Write(enc); b.err != nil {
				b.failed.Store(true)
			}
		}
		b.Docs++
	})
	if err != nil {
		return nil, err
	}
	b.c = c
	if runtime.GOMAXPROCS(0) > 1 {
		s := newEvStage(false)
		b.stage = s
		// The correlator hands copies to the stage; the stage's goroutine
		// runs the core's emit (enrich, encode, write) in order.
		c.corr = parser.NewCorrelator(parser.Config{Timeout: cfg.EventTimeout, MaxInFlight: cfg.MaxInFlight}, s.emit)
		go func() {
			defer close(s.done)
			for bt := range s.full {
				for i := 0; i < bt.n; i++ {
					c.emit(&bt.evs[i])
				}
				s.release(bt)
			}
		}()
	}
	return b, nil
}

// ReadFrom feeds every line of r (log lines; a line longer than
// parser.MaxLineLen is counted as a parse error). It returns the bytes read.
func (b *Batch) ReadFrom(r io.Reader) (int64, error) {
	if b.br == nil {
		b.br = bufio.NewReaderSize(r, 1<<20)
	} else {
		b.br.Reset(r)
	}
	var n int64
	var long []byte
	for {
		line, err := b.br.ReadSlice('\n')
		n += int64(len(line))
		if err == bufio.ErrBufferFull {
			if len(long) < parser.MaxLineLen+2 {
				long = append(long, line...)
			}
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if len(line) > 0 {
			b.c.line(line, 0)
		}
		if err == io.EOF {
			return n, nil
		}
		if b.failed.Load() {
			return n, errors.New("output write failed")
		}
		if err != nil {
			return n, err
		}
	}
}

// Close completes every open event, waits for the encoder and flushes the
// output; it returns the first write error.
func (b *Batch) Close() error {
	b.c.corr.Flush()
	if s := b.stage; s != nil {
		s.flush()
		close(s.full)
		<-s.done
		b.stage = nil
	}
	if b.err != nil {
		return b.err
	}
	return b.w.Flush()
}

// Stats returns the counters so far.
func (b *Batch) Stats() Stats { return b.c.stats() }

// Stats are the pipeline's counters.
type Stats struct {
	Lines      uint64         `json:"lines"`
	ParseErrs  uint64         `json:"parse_errors"`
	Correlator parser.Stats   `json:"correlator"`
	Enrich     enrich.Stats   `json:"enrich"`
	Queue      QueueStats     `json:"queue"`
	Source     map[string]any `json:"source,omitempty"`
}

// QueueStats describe the queue between reader and consumer.
type QueueStats struct {
	Events    int    `json:"events"`
	Bytes     int    `json:"bytes"`
	Delivered uint64 `json:"delivered"`
	Dropped   uint64 `json:"dropped"`
	Skipped   uint64 `json:"resume_skipped"`
}

func (c *core) stats() Stats {
	s := c.statsNoEnrich()
	s.Enrich = c.enr.Stats()
	return s
}

// statsNoEnrich leaves out the enricher's counters (owned by another
// goroutine when a stage runs).
func (c *core) statsNoEnrich() Stats {
	return Stats{
		Lines:      c.lines.Load(),
		ParseErrs:  c.badLines.Load(),
		Correlator: c.corr.Stats(),
	}
}

// eventHash is a stable 64-bit hash (FNV-1a) of an event's id (node,
// time, serial), for the resume list: the same across restarts, never 0.
func eventHash(ev *parser.Event) uint64 {
	h := uint64(14695981039346656037)
	mix := func(b byte) { h = (h ^ uint64(b)) * 1099511628211 }
	for _, b := range ev.Node() {
		mix(b)
	}
	mix(0)
	for _, v := range [...]uint64{uint64(ev.Sec), uint64(ev.Msec), uint64(ev.Serial)} {
		for i := 0; i < 8; i++ {
			mix(byte(v >> (8 * i)))
		}
	}
	if h == 0 {
		h = 1
	}
	return h
}

// Live is the asynchronous pipeline of the plugin: a reader goroutine
// feeds the queue, the consumer takes batches.
type Live struct {
	cfg  Config
	log  Logger
	c    *core
	q    *queue
	src  liveSource
	wait bool // file source: wait for room instead of dropping

	mu      sync.Mutex
	paused  bool
	resumed *sync.Cond

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	delivered, dropped, skipped atomic.Uint64
	pausedFlag                  atomic.Bool
	extraMu                     sync.Mutex // builds out-of-band records (loss, stats)
	extraDoc                    encode.Document
	ackMu                       sync.Mutex
	acked, ackBuf               []entry
	ackNew                      bool
	lastCommit                  time.Time
	stage                       *evStage
	enrStats                    atomic.Pointer[enrich.Stats]
	lastStats                   time.Time
	resumeSet                   map[uint64]struct{}
	pending                     []uint64
	recent                      []entry
	recentNext                  int
}

// liveSource is what the reader goroutine reads from.
type liveSource interface {
	// run reads until ctx ends, calling line/netlink on the core through
	// feed; it must call tick regularly (at least every 250 ms when idle).
	run(ctx context.Context, l *Live) error
	// commit persists the delivery state: pending are the positions of
	// events read but not yet delivered; delivered the recently delivered
	// events (position and id), to be skipped after a restart when they
	// come after the saved position.
	commit(pending []uint64, delivered []entry) error
	resumeList() []byte
	stats() map[string]any
	close() error
}

// Start opens the configured source and starts reading.
func Start(cfg Config, log Logger) (*Live, error) {
	if log == nil {
		log = func(int, string) {}
	}
	l := &Live{cfg: cfg, log: log, q: newQueue(cfg.QueueMaxBytes), done: make(chan struct{})}
	l.resumed = sync.NewCond(&l.mu)
	var err error
	switch cfg.Source {
	case "file":
		l.wait = true
		l.src, err = openFileSource(cfg, l)
	case "kernel":
		l.src, err = openKernelSource(cfg, l)
	default:
		err = &ConfigError{"source", cfg.Source, "accepted: file, kernel"}
	}
	if err != nil {
		return nil, err
	}
	live := cfg.Proc == "true" || (cfg.Proc == "auto" && (cfg.Source == "kernel" || !cfg.ReadFromHead))
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	l.c, err = newCore(cfg, live, l.out)
	if err != nil {
		l.src.close()
		return nil, err
	}
	if runtime.GOMAXPROCS(0) > 1 {
		// Reading, parsing and correlating on the reader goroutine;
		// enriching, encoding and queueing on a second one.
		st := newEvStage(true)
		l.stage = st
		c := l.c
		c.corr = parser.NewCorrelator(parser.Config{Timeout: cfg.EventTimeout, MaxInFlight: cfg.MaxInFlight}, st.emit)
		go func() {
			defer close(st.done)
			// The enricher's /proc scan must run while idle too, so that
			// a process killed later was seen alive.
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case bt, ok := <-st.full:
					if !ok {
						return
					}
					c.enr.Tick()
					for i := 0; i < bt.n; i++ {
						c.emit(&bt.evs[i])
					}
					es := c.enr.Stats()
					l.enrStats.Store(&es)
					st.release(bt)
				case <-t.C:
					c.enr.Tick()
				}
			}
		}()
	}
	if rl := l.src.resumeList(); len(rl) > 0 {
		l.resumeSet = map[uint64]struct{}{}
		for _, k := range bytes.Split(rl, []byte{'\n'}) {
			if h, err := strconv.ParseUint(string(k), 16, 64); err == nil && h != 0 {
				l.resumeSet[h] = struct{}{}
			}
		}
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	go l.loop()
	return l, nil
}

func (l *Live) out(enc []byte, ev *parser.Event) {
	var h uint64
	if l.wait {
		h = eventHash(ev)
	}
	if l.resumeSet != nil {
		if _, ok := l.resumeSet[h]; ok {
			delete(l.resumeSet, h)
			if len(l.resumeSet) == 0 {
				l.resumeSet = nil
			}
			l.skipped.Add(1)
			return
		}
	}
	e := entry{pos: ev.Pos}
	if l.wait {
		e.key = h
	} else if l.pausedFlag.Load() {
		l.dropped.Add(1) // kernel source: cannot wait while Fluent Bit is paused
		return
	}
	if !l.q.put(enc, e, l.wait) && l.ctx.Err() == nil {
		l.dropped.Add(1)
	}
}

func (l *Live) loop() {
	defer close(l.done)
	err := l.src.run(l.ctx, l)
	if err != nil && l.ctx.Err() == nil {
		l.log(LevelError, "source stopped: "+err.Error())
	}
	if st := l.stage; st != nil {
		st.cur = nil // partial batch: not delivered, re-read on restart
		close(st.full)
		<-st.done
	}
	// Open events are not flushed: nobody takes the queue after Stop, and
	// the file source's saved position is before them, so a restart reads
	// them again whole.
}

// waitIfPaused blocks the reader while paused (file source only).
func (l *Live) waitIfPaused() {
	l.mu.Lock()
	for l.paused && l.ctx.Err() == nil {
		l.resumed.Wait()
	}
	l.mu.Unlock()
}

// tick is called by sources regularly from the reader goroutine: it
// closes timed-out events, commits delivered positions and logs stats.
func (l *Live) tick(now time.Time) { l.tickExpire(now, true) }

// tickExpire is tick; with expire false open events are restamped
// instead of timed out (the source is behind: see Correlator.Stamp).
func (l *Live) tickExpire(now time.Time, expire bool) {
	if expire {
		l.c.corr.Tick(now)
	} else {
		l.c.corr.Stamp(now)
	}
	if l.stage != nil {
		l.stage.flush() // hand over what is waiting for a full batch
	} else {
		l.c.enr.Tick()
	}
	l.commitAckedAt(now)
	if l.cfg.StatsInterval > 0 && now.Sub(l.lastStats) >= l.cfg.StatsInterval {
		if !l.lastStats.IsZero() {
			l.logStats()
		}
		l.lastStats = now
	}
}

// commit hands the source the positions still pending (open events and
// queued, unacknowledged entries) and the recently delivered events.
func (l *Live) commit(acked []entry) {
	for _, e := range acked {
		if e.key == 0 {
			continue
		}
		if len(l.recent) < maxRecentDelivered {
			l.recent = append(l.recent, e)
		} else {
			l.recent[l.recentNext] = e
			l.recentNext = (l.recentNext + 1) % maxRecentDelivered
		}
	}
	l.pending = l.pending[:0]
	l.c.corr.OpenPositions(func(p uint64) { l.pending = append(l.pending, p) })
	if l.stage != nil {
		l.stage.positions(func(p uint64) { l.pending = append(l.pending, p) })
	}
	l.q.unacked(func(p uint64) { l.pending = append(l.pending, p) })
	if err := l.src.commit(l.pending, l.recent); err != nil {
		l.log(LevelWarn, "saving position: "+err.Error())
	}
}

// maxRecentDelivered bounds the delivered events remembered for the resume
// list.
const maxRecentDelivered = 4096

// Take returns the next batch of encoded entries, at most max bytes (at
// least one entry if any is queued), or nil. The batch stays valid until
// the next Take. It never blocks on the reader.
func (l *Live) Take(max int) ([]byte, int) {
	if max <= 0 {
		max = l.cfg.BufferMaxSize
	}
	return l.q.take(max)
}

// TakeInto is Take with the batch copied once, straight into memory from
// alloc (called with the exact size, at most once, only when there is
// something to hand over): the plugin passes C.malloc.
func (l *Live) TakeInto(max int, alloc func(n int) []byte) ([]byte, int) {
	if max <= 0 {
		max = l.cfg.BufferMaxSize
	}
	return l.q.takeInto(max, alloc)
}

// Ack reports that the last batch was handed over (Fluent Bit copied it).
func (l *Live) Ack() {
	acked := l.q.ack()
	if len(acked) == 0 {
		return
	}
	l.delivered.Add(uint64(len(acked)))
	l.ackMu.Lock()
	l.acked = append(l.acked, acked...)
	if len(l.acked) > 4*maxRecentDelivered {
		// The reader is far behind on commits: older entries only matter
		// for the resume list, which keeps the newest ones anyway.
		l.acked = append(l.acked[:0], l.acked[len(l.acked)-maxRecentDelivered:]...)
	}
	l.ackNew = true
	l.ackMu.Unlock()
}

// commitAcked commits when batches were acknowledged since the last
// commit (reader goroutine, or Stop once the reader is gone).
func (l *Live) commitAcked() { l.commitAckedAt(time.Time{}) }

// commitAckedAt is commitAcked at most every 250 ms (now is the tick's
// time; zero forces it): Fluent Bit acknowledges once a second, but a fast
// consumer must not turn every tick into a position save.
func (l *Live) commitAckedAt(now time.Time) {
	if !now.IsZero() {
		if now.Sub(l.lastCommit) < 250*time.Millisecond {
			return
		}
		l.lastCommit = now
	}
	l.ackMu.Lock()
	if !l.ackNew {
		l.ackMu.Unlock()
		return
	}
	l.ackNew = false
	l.ackBuf, l.acked = l.acked, l.ackBuf[:0]
	l.ackMu.Unlock()
	l.commit(l.ackBuf)
}

// Pause stops reading (file) or starts counting drops (kernel).
func (l *Live) Pause() {
	l.pausedFlag.Store(true)
	l.mu.Lock()
	l.paused = true
	l.mu.Unlock()
}

// Resume undoes Pause.
func (l *Live) Resume() {
	l.pausedFlag.Store(false)
	l.mu.Lock()
	l.paused = false
	l.resumed.Broadcast()
	l.mu.Unlock()
}

// Stop ends the reader, completes nothing further and closes the source.
// Entries still queued are not delivered; their position is not saved, so
// a restart reads them again.
func (l *Live) Stop() error {
	l.cancel()
	l.q.close()
	l.mu.Lock()
	l.resumed.Broadcast()
	l.mu.Unlock()
	select {
	case <-l.done:
		// Save what the last acknowledged batches delivered, so a restart
		// neither repeats nor skips them.
		l.commitAcked()
	case <-time.After(5 * time.Second):
		l.log(LevelWarn, "reader did not stop within 5s")
	}
	return l.src.close()
}

// Stats returns the counters.
func (l *Live) Stats() Stats {
	var s Stats
	if l.stage != nil {
		s = l.c.statsNoEnrich()
		if es := l.enrStats.Load(); es != nil {
			s.Enrich = *es
		}
	} else {
		s = l.c.stats()
	}
	n, b := l.q.depth()
	s.Queue = QueueStats{Events: n, Bytes: b, Delivered: l.delivered.Load(), Dropped: l.dropped.Load(), Skipped: l.skipped.Load()}
	s.Source = l.src.stats()
	return s
}

// lossRecord queues a record saying the kernel lost events.
func (l *Live) lossRecord(delta, total uint64) {
	l.extraMu.Lock()
	defer l.extraMu.Unlock()
	d := l.extraHeader("loss", "kernel-lost-events")
	d.Str("summary", fmt.Sprintf("the kernel lost %d audit events (%d since start)", delta, total))
	d.Object("loss")
	d.Uint("kernel_lost", delta)
	d.Uint("kernel_lost_total", total)
	d.End()
	l.putExtra(d)
}

// extraHeader starts an out-of-band record (loss, stats) stamped now, with
// event.kind (and event.action when given). Call with extraMu held.
func (l *Live) extraHeader(kind, action string) *encode.Document {
	d := &l.extraDoc
	d.Reset()
	now := time.Now()
	d.Sec, d.Nsec = now.Unix(), int64(now.Nanosecond())
	d.Str("@timestamp", now.UTC().Format("2006-01-02T15:04:05.000Z"))
	d.Object("event")
	d.Str("kind", kind)
	if action != "" {
		d.Str("action", action)
	}
	d.End()
	return d
}

func (l *Live) putExtra(d *encode.Document) {
	var b []byte
	if l.cfg.JSON {
		b = append(d.AppendJSON(nil), '\n')
	} else {
		b = d.AppendFluentBit(nil)
	}
	if !l.q.put(b, entry{pos: 1<<64 - 1}, false) {
		l.dropped.Add(1)
	}
}

// statsRecord queues the statistics as a record (stats_record).
func (l *Live) statsRecord(s Stats) {
	l.extraMu.Lock()
	defer l.extraMu.Unlock()
	d := l.extraHeader("stats", "")
	d.Object("stats")
	d.Uint("lines", s.Lines)
	d.Uint("parse_errors", s.ParseErrs)
	d.Uint("events", s.Correlator.Events)
	d.Uint("evicted", s.Correlator.Evicted)
	d.Uint("late_records", s.Correlator.LateRecords)
	d.Uint("duplicates", s.Correlator.Duplicates)
	d.Uint("dropped_records", s.Correlator.DroppedRecords)
	d.Int("in_flight", int64(s.Correlator.InFlight))
	d.Uint("filtered", s.Enrich.Filtered)
	d.Uint("filtered_sigurg", s.Enrich.SIGURG)
	d.Uint("delivered", s.Queue.Delivered)
	d.Uint("dropped", s.Queue.Dropped)
	d.Int("queue_events", int64(s.Queue.Events))
	d.Int("queue_bytes", int64(s.Queue.Bytes))
	d.Object("source")
	for _, k := range []string{"lag_bytes", "rotations", "truncations", "long_lines", "kernel_lost", "enobufs", "messages", "mode"} {
		switch v := s.Source[k].(type) {
		case uint64:
			d.Uint(k, v)
		case int64:
			d.Int(k, v)
		case string:
			d.Str(k, v)
		}
	}
	d.End()
	d.End()
	l.putExtra(d)
}

func (l *Live) logStats() {
	s := l.Stats()
	if l.cfg.StatsRecord {
		l.statsRecord(s)
	}
	l.log(LevelInfo, fmt.Sprintf("stats lines=%d parse_errors=%d events=%d evicted=%d late=%d filtered=%d delivered=%d dropped=%d queued=%d queue_bytes=%d source=%v",
		s.Lines, s.ParseErrs, s.Correlator.Events, s.Correlator.Evicted, s.Correlator.LateRecords, s.Enrich.Filtered, s.Queue.Delivered, s.Queue.Dropped, s.Queue.Events, s.Queue.Bytes, s.Source))
}
