package audittest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Logger returns a logger that writes every record (debug included) to the
// test's log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(&capture{log: t.Logf, c: &captured{}})
}

// Capture returns a logger that keeps every message ("LEVEL message"),
// and a function returning them so far; safe for concurrent use.
func Capture() (*slog.Logger, func() []string) {
	c := &captured{}
	return slog.New(&capture{c: c}), func() []string {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]string(nil), c.msgs...)
	}
}

type captured struct {
	mu   sync.Mutex
	msgs []string
}

type capture struct {
	log   func(string, ...any)
	c     *captured
	attrs string
}

func (h *capture) Enabled(context.Context, slog.Level) bool { return true }

func (h *capture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String())
	b.WriteByte(' ')
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	if h.log != nil {
		h.log("%s", b.String())
	}
	h.c.mu.Lock()
	h.c.msgs = append(h.c.msgs, b.String())
	h.c.mu.Unlock()
	return nil
}

func (h *capture) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	for _, a := range as {
		n.attrs += " " + a.String()
	}
	return &n
}

func (h *capture) WithGroup(string) slog.Handler { return h }

// SyncBuffer is a bytes.Buffer a command's output copiers write while a
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
