package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/source"
)

// Live is the pipeline of the plugin: the read loop on its own goroutine
// with a bounded queue at its end, drained by the consumer (Take, Ack).
type Live struct {
	cfg  Config
	log  *slog.Logger
	c    *core
	q    *queue
	in   input
	life *lifecycle // process events and OOM kills (nil: none)
	wait bool       // file source: wait for room instead of dropping

	mu      sync.Mutex
	paused  bool
	resumed *sync.Cond

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	delivered, dropped, skipped atomic.Uint64
	pausedFlag                  atomic.Bool

	oobMu  sync.Mutex // builds out-of-band records (loss, stats)
	oobDoc encode.Document

	ackMu         sync.Mutex
	acked, ackBuf []entry
	ackNBuf       []entry // AckN's scratch (one caller: the plugin's feeder)
	ackNew        bool
	lastCommit    time.Time
	lastStats     time.Time
	resumeSet     map[uint64]struct{}
	pending       []uint64
	recent        []entry
	recentNext    int
	corrStats     atomic.Pointer[parser.Stats]
}

// input is a live source with what the pipeline does with it besides
// reading.
type input interface {
	Source
	// commit persists the delivery state: pending are the positions of
	// events read but not yet delivered; delivered the recently delivered
	// events (position and id), to be skipped after a restart when they
	// come after the saved position.
	commit(pending []uint64, delivered []entry) error
	resumeList() []byte
	// fed is told the end position of every message read.
	fed(end uint64)
	stats() map[string]any
	close() error
}

// Start opens the configured source and starts reading. Everything that
// can fail on the configuration is checked before the source is opened:
// a kernel source's rules are installed last.
func Start(cfg Config, log *slog.Logger) (*Live, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Live{cfg: cfg, log: log, q: newQueue(cfg.QueueMaxBytes), done: make(chan struct{})}
	l.resumed = sync.NewCond(&l.mu)
	live := cfg.Proc == "true" || (cfg.Proc == "auto" && (cfg.Source == "kernel" || !cfg.ReadFromHead))
	if cfg.Enrich.Hostname == "" {
		cfg.Enrich.Hostname, _ = os.Hostname()
	}
	var life *lifecycle
	if live && cfg.Source != "" {
		var err error
		if life, err = openLifecycle(cfg, log); err != nil {
			return nil, err
		}
	}
	l.life = life
	var err error
	if l.c, err = newCore(cfg, live, ends{out: l.out, side: l.sideOut, life: life, parallel: cfg.parallel(false)}); err != nil {
		if life != nil {
			life.close()
		}
		return nil, err
	}
	switch cfg.Source {
	case "file":
		l.wait = true
		l.in, err = openFile(cfg, l)
	case "kernel":
		l.in, err = openKernel(cfg, l)
	default:
		err = &ConfigError{"source", cfg.Source, "accepted: file, kernel"}
	}
	if err != nil {
		if l.c.stage != nil {
			l.c.stage.stop(true)
		}
		if life != nil {
			life.close()
		}
		return nil, err
	}
	if rl := l.in.resumeList(); len(rl) > 0 {
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

// eventHash is a stable 64-bit hash of an event's id (node, time, serial),
// for the resume list: the same across restarts, never 0.
func eventHash(ev *parser.Event) uint64 {
	h := fnv.New64a()
	h.Write(ev.Node())
	var b [1 + 8 + 8 + 8]byte
	binary.LittleEndian.PutUint64(b[1:], uint64(ev.Sec))
	binary.LittleEndian.PutUint64(b[9:], uint64(ev.Msec))
	binary.LittleEndian.PutUint64(b[17:], uint64(ev.Serial))
	h.Write(b[:])
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}

// sideOut queues a document that is not an audit event (a death): no
// position in the source, nothing to resume.
func (l *Live) sideOut(enc []byte) {
	if !l.wait && l.pausedFlag.Load() {
		l.dropped.Add(1)
		return
	}
	if !l.q.put(enc, entry{pos: parser.NoPos}, l.wait) && l.ctx.Err() == nil {
		l.dropped.Add(1)
	}
}

// out is the end of the live pipeline: the queue.
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
	err := l.c.run(l.ctx, l, l, func(err error) bool {
		l.log.Error("reading: " + err.Error())
		select {
		case <-l.ctx.Done():
		case <-time.After(time.Second):
		}
		return true
	})
	if err != nil && l.ctx.Err() == nil {
		l.log.Error("source stopped: " + err.Error())
	}
	if st := l.c.stage; st != nil {
		st.stop(true) // partial batch: not delivered, re-read on restart
	}
	// Open events are not flushed: nobody takes the queue after Stop, and
	// the file source's saved position is before them, so a restart reads
	// them again whole.
}

// Next reads the input for the loop, telling it where each message ended.
func (l *Live) Next(ctx context.Context) (source.Msg, error) {
	m, err := l.in.Next(ctx)
	if err == nil {
		l.in.fed(m.End)
	}
	return m, err
}

// waitWhilePaused blocks the reader while paused (file source only).
func (l *Live) waitWhilePaused(context.Context) {
	if !l.wait {
		return
	}
	l.mu.Lock()
	for l.paused && l.ctx.Err() == nil {
		l.resumed.Wait()
	}
	l.mu.Unlock()
}

// tick closes timed-out events, commits delivered positions and logs
// statistics (loop goroutine).
func (l *Live) tick(now time.Time, expire bool) {
	if expire {
		l.c.corr.Tick(now)
	} else {
		l.c.corr.Stamp(now)
	}
	cs := l.c.corr.Stats()
	l.corrStats.Store(&cs)
	l.c.tickEnricher()
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
	if l.c.stage != nil {
		l.c.stage.positions(func(p uint64) { l.pending = append(l.pending, p) })
	}
	l.q.unacked(func(p uint64) { l.pending = append(l.pending, p) })
	if err := l.in.commit(l.pending, l.recent); err != nil {
		l.log.Warn("saving position: " + err.Error())
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

// Ack reports that every batch taken was handed over (Fluent Bit copied
// it).
func (l *Live) Ack() { l.acknowledge(l.q.ack()) }

// AckN reports that the first n entries taken and not yet acknowledged
// were handed over (the plugin's batches are filled by several takes).
func (l *Live) AckN(n int) {
	if n <= 0 {
		return
	}
	l.ackNBuf = l.q.ackN(n, l.ackNBuf[:0])
	l.acknowledge(l.ackNBuf)
}

func (l *Live) acknowledge(acked []entry) {
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
// commit (loop goroutine, or Stop once the loop is gone).
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
		l.log.Warn("reader did not stop within 5s")
	}
	if l.life != nil {
		l.life.close()
	}
	return l.in.close()
}

// Stats returns the counters (the correlator's as of the last tick).
func (l *Live) Stats() Stats {
	s := Stats{Workers: l.c.workers(), Lines: l.c.lines.Load(), ParseErrs: l.c.badLines.Load()}
	if cs := l.corrStats.Load(); cs != nil {
		s.Correlator = *cs
	}
	if es := l.c.enrStats.Load(); es != nil {
		s.Enrich = *es
	}
	n, b := l.q.depth()
	s.Queue = QueueStats{Events: n, Bytes: b, Delivered: l.delivered.Load(), Dropped: l.dropped.Load(), Skipped: l.skipped.Load()}
	s.Source = l.in.stats()
	if l.life != nil {
		s.Lifecycle = l.life.stats()
	}
	return s
}

// lossRecord queues a record saying the kernel lost events.
func (l *Live) lossRecord(delta, total uint64) {
	l.oobMu.Lock()
	defer l.oobMu.Unlock()
	d := l.oobHeader("loss", "kernel-lost-events")
	d.Str("summary", fmt.Sprintf("the kernel lost %d audit events (%d since start)", delta, total))
	d.Object("loss")
	d.Uint("kernel_lost", delta)
	d.Uint("kernel_lost_total", total)
	d.End()
	l.putOOB(d)
}

// oobHeader starts an out-of-band record (loss, stats) stamped now, with
// event.kind (and event.action when given). Call with oobMu held.
func (l *Live) oobHeader(kind, action string) *encode.Document {
	d := &l.oobDoc
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

func (l *Live) putOOB(d *encode.Document) {
	var b []byte
	if l.cfg.Format == "text" {
		var t textLine
		b = t.appendDoc(nil, d, l.c.cfg.Enrich.Hostname)
	} else if l.cfg.JSON {
		b = append(d.AppendJSON(nil), '\n')
	} else {
		b = d.AppendFluentBit(nil)
	}
	if !l.q.put(b, entry{pos: parser.NoPos}, false) {
		l.dropped.Add(1)
	}
}

// statsRecord queues the statistics as a record (stats_record).
func (l *Live) statsRecord(s Stats) {
	l.oobMu.Lock()
	defer l.oobMu.Unlock()
	d := l.oobHeader("stats", "")
	d.Object("stats")
	d.Uint("lines", s.Lines)
	d.Uint("parse_errors", s.ParseErrs)
	d.Uint("events", s.Correlator.Events)
	d.Uint("evicted", s.Correlator.Evicted)
	d.Uint("late_records", s.Correlator.Late)
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
	l.putOOB(d)
}

func (l *Live) logStats() {
	s := l.Stats()
	if l.cfg.StatsRecord {
		l.statsRecord(s)
	}
	l.log.Info(fmt.Sprintf("stats lines=%d parse_errors=%d events=%d evicted=%d late=%d filtered=%d delivered=%d dropped=%d queued=%d queue_bytes=%d source=%v",
		s.Lines, s.ParseErrs, s.Correlator.Events, s.Correlator.Evicted, s.Correlator.Late, s.Enrich.Filtered, s.Queue.Delivered, s.Queue.Dropped, s.Queue.Events, s.Queue.Bytes, s.Source))
}
