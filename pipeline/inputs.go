package pipeline

import (
	"fmt"
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/source/auditlog"
	"github.com/whokilledit/linuxaudit/source/kernel"
)

// fileInput tails audit log files (auditlog.Tail) for the live pipeline.
type fileInput struct {
	*auditlog.Tail
	lastEnd map[int]auditlog.Pos // stream -> end of the last line read
	gen     uint16
	stream  int
	safe    map[int]auditlog.Pos
	resume  []byte
	persist bool
}

func openFile(cfg Config, l *Live) (input, error) {
	t, err := auditlog.Open(auditlog.Config{
		Path:         cfg.Path,
		DB:           cfg.DB,
		ReadFromHead: cfg.ReadFromHead,
		Log:          l.log,
	})
	if err != nil {
		return nil, err
	}
	return &fileInput{Tail: t, lastEnd: map[int]auditlog.Pos{}, safe: map[int]auditlog.Pos{}, persist: cfg.DB != ""}, nil
}

func (s *fileInput) fed(end uint64) {
	p := auditlog.Pos(end)
	if g := p.Gen(); g != s.gen {
		s.gen, s.stream = g, s.StreamOf(p)
	}
	s.lastEnd[s.stream] = p
}

// commit saves, for every stream, the oldest position still pending (or
// the end of the last line read when nothing is), and the ids of delivered
// events after it, so a restart resumes exactly.
func (s *fileInput) commit(pending []uint64, delivered []entry) error {
	if !s.persist {
		return nil // no offsets file: nothing to save
	}
	clear(s.safe)
	for st, p := range s.lastEnd {
		s.safe[st] = p
	}
	for _, p := range pending {
		if p == parser.NoPos {
			continue // out-of-band records (loss, stats) have no position
		}
		pp := auditlog.Pos(p)
		st := s.StreamOf(pp)
		if cur, ok := s.safe[st]; !ok || s.Before(pp, cur) {
			s.safe[st] = pp
		}
	}
	s.resume = s.resume[:0]
	for _, e := range delivered {
		pp := auditlog.Pos(e.pos)
		if safe, ok := s.safe[s.StreamOf(pp)]; ok && !s.Before(pp, safe) {
			s.resume = strconv.AppendUint(s.resume, e.key, 16)
			s.resume = append(s.resume, '\n')
		}
	}
	if len(s.resume) > 60<<10 {
		s.resume = s.resume[:0] // bounded; losing it only risks duplicates
	}
	var first error
	for _, p := range s.safe {
		if err := s.Commit(p, s.resume); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *fileInput) resumeList() []byte { return s.Resume() }

func (s *fileInput) stats() map[string]any {
	st := s.Stats()
	return map[string]any{"files": st.Files, "lines": st.Lines, "bytes": st.Bytes, "long_lines": st.LongLines,
		"rotations": st.Rotations, "truncations": st.Truncations, "reopens": st.Reopens, "lag_bytes": st.LagBytes}
}

func (s *fileInput) close() error { return s.Close() }

// kernelInput reads the audit netlink socket (kernel.Source). Records
// carry EOE, so events complete as they arrive; the kernel cannot be
// paused, so when the queue is full or Fluent Bit paused us, events are
// dropped and counted.
type kernelInput struct {
	*kernel.Source
}

func openKernel(cfg Config, l *Live) (input, error) {
	n, err := kernel.Open(kernel.Config{
		Mode:            cfg.KernelMode,
		Rules:           cfg.KernelRules,
		RulesFile:       cfg.KernelRulesFile,
		KillRules:       cfg.KernelKillRules,
		BacklogLimit:    cfg.KernelBacklogLimit,
		RateLimit:       cfg.KernelRateLimit,
		BacklogWaitTime: cfg.KernelBacklogWaitTime,
		Log:             l.log,
		OnLost: func(delta, total uint64) {
			l.log.Warn(fmt.Sprintf("kernel audit lost %d events (total %d since start): raise kernel_backlog_limit or lower the audit rate", delta, total))
			l.lossRecord(delta, total)
		},
	})
	if err != nil {
		return nil, err
	}
	l.log.Info("kernel source in " + n.Mode() + " mode")
	return kernelInput{n}, nil
}

func (kernelInput) fed(uint64)                     {}
func (kernelInput) commit([]uint64, []entry) error { return nil }
func (kernelInput) resumeList() []byte             { return nil }

func (s kernelInput) stats() map[string]any {
	st := s.Stats()
	return map[string]any{"mode": st.Mode, "messages": st.Messages, "bytes": st.Bytes, "enobufs": st.ENOBUFS,
		"kernel_lost": st.KernelLost, "rules_added": st.RulesAdded, "truncated": st.Truncated}
}

func (s kernelInput) close() error { return s.Close() }
