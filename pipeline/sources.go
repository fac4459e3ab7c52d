package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/whokilledit/linuxaudit/source"
)

// fileSource tails audit log files (source/File) for the live pipeline.
type fileSource struct {
	f       *source.File
	lastEnd map[int]source.Pos // stream -> end of the last line read
	gen     uint16
	stream  int
	safe    map[int]source.Pos
	extra   []byte
	persist bool
}

func openFileSource(cfg Config, l *Live) (liveSource, error) {
	f, err := source.OpenFile(source.FileConfig{
		Path:         cfg.Path,
		DB:           cfg.DB,
		ReadFromHead: cfg.ReadFromHead,
		OnNotice:     func(s string) { l.log(LevelWarn, s) },
	})
	if err != nil {
		return nil, err
	}
	return &fileSource{f: f, lastEnd: map[int]source.Pos{}, safe: map[int]source.Pos{}, persist: cfg.DB != ""}, nil
}

func (s *fileSource) run(ctx context.Context, l *Live) error {
	n := 0
	// Wall-clock timeouts only count once the reader has caught up with
	// the file: while it reads behind (backlog, backpressure, pause) the
	// rest of an open event may just not be read yet.
	caughtUp := false
	for ctx.Err() == nil {
		l.waitIfPaused()
		if ctx.Err() != nil {
			break
		}
		line, start, end, err := s.f.Next()
		if err == source.ErrNoData {
			l.tickExpire(time.Now(), caughtUp)
			caughtUp = true
			s.f.Wait(ctx)
			continue
		}
		caughtUp = false
		if err != nil {
			l.log(LevelError, "reading: "+err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if g := end.Gen(); g != s.gen {
			s.gen, s.stream = g, s.f.StreamOf(end)
		}
		s.lastEnd[s.stream] = end
		l.c.line(line, uint64(start))
		if n++; n&1023 == 0 {
			l.tickExpire(time.Now(), false)
		}
	}
	return nil
}

// commit saves, for every stream, the oldest position still pending (or
// the end of the last line read when nothing is), and the ids of delivered
// events after it, so a restart resumes exactly.
func (s *fileSource) commit(pending []uint64, delivered []entry) error {
	if !s.persist {
		return nil // no offsets file: nothing to save
	}
	clear(s.safe)
	for st, p := range s.lastEnd {
		s.safe[st] = p
	}
	for _, p := range pending {
		if p == 1<<64-1 {
			continue // out-of-band records (loss, stats) have no position
		}
		pp := source.Pos(p)
		st := s.f.StreamOf(pp)
		if cur, ok := s.safe[st]; !ok || s.f.Before(pp, cur) {
			s.safe[st] = pp
		}
	}
	s.extra = s.extra[:0]
	for _, e := range delivered {
		pp := source.Pos(e.pos)
		if safe, ok := s.safe[s.f.StreamOf(pp)]; ok && !s.f.Before(pp, safe) {
			s.extra = strconv.AppendUint(s.extra, e.key, 16)
			s.extra = append(s.extra, '\n')
		}
	}
	if len(s.extra) > 60<<10 {
		s.extra = s.extra[:0] // bounded; losing it only risks duplicates
	}
	var first error
	for _, p := range s.safe {
		if err := s.f.Commit(p, s.extra); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *fileSource) resumeList() []byte { return s.f.Extra() }

func (s *fileSource) stats() map[string]any {
	st := s.f.Stats()
	return map[string]any{"files": st.Files, "lines": st.Lines, "bytes": st.Bytes, "long_lines": st.LongLines,
		"rotations": st.Rotations, "truncations": st.Truncations, "reopens": st.Reopens, "lag_bytes": st.LagBytes}
}

func (s *fileSource) close() error { return s.f.Close() }

// kernelSource reads the audit netlink socket (source/Netlink). Records
// carry EOE, so events complete as they arrive; the kernel cannot be
// paused, so when the queue is full or Fluent Bit paused us, events are
// dropped and counted.
type kernelSource struct {
	n  *source.Netlink
	mu sync.Mutex // serializes the core between Receive and the ticker
}

func openKernelSource(cfg Config, l *Live) (liveSource, error) {
	n, err := source.OpenNetlink(source.NetlinkConfig{
		Mode:            cfg.KernelMode,
		Rules:           cfg.KernelRules,
		RulesFile:       cfg.KernelRulesFile,
		KillRules:       cfg.KernelKillRules,
		BacklogLimit:    cfg.KernelBacklogLimit,
		RateLimit:       cfg.KernelRateLimit,
		BacklogWaitTime: cfg.KernelBacklogWaitTime,
		OnNotice:        func(level int, msg string) { l.log(level, msg) },
		OnLost: func(delta, total uint64) {
			l.log(LevelWarn, fmt.Sprintf("kernel audit lost %d events (total %d since start): raise kernel_backlog_limit or lower the audit rate", delta, total))
			l.lossRecord(delta, total)
		},
	})
	if err != nil {
		return nil, err
	}
	l.log(LevelInfo, "kernel source in "+n.Mode()+" mode")
	return &kernelSource{n: n}, nil
}

func (s *kernelSource) run(ctx context.Context, l *Live) error {
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait() // the ticker is gone before the reader is
	defer close(done)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				s.n.Close()
				return
			case now := <-t.C:
				s.mu.Lock()
				l.tick(now)
				s.mu.Unlock()
			}
		}
	}()
	return s.n.Receive(func(typ uint16, payload []byte) {
		s.mu.Lock()
		l.c.netlink(typ, payload)
		s.mu.Unlock()
	})
}

func (s *kernelSource) commit([]uint64, []entry) error { return nil }
func (s *kernelSource) resumeList() []byte             { return nil }

func (s *kernelSource) stats() map[string]any {
	st := s.n.Stats()
	return map[string]any{"mode": st.Mode, "messages": st.Messages, "bytes": st.Bytes, "enobufs": st.ENOBUFS,
		"kernel_lost": st.KernelLost, "rules_added": st.RulesAdded, "truncated": st.Truncated}
}

func (s *kernelSource) close() error { return s.n.Close() }
