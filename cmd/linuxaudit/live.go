package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/whokilledit/linuxaudit/pipeline"
)

// liveStarted, when set (tests), is called once the live pipeline reads:
// the log is open at its end, or the kernel's rules are in.
var liveStarted func()

// runLive is --follow and --kernel: the plugin's live pipeline
// (pipeline.Start: the file source read from the end of the log, rotation
// included, or the kernel source with the built-in kill rules), printing
// events as they come until ctx ends or SIGINT, SIGTERM or SIGHUP comes.
// It then stops the source, which removes the rules it installed, and
// prints what was still queued. A broken output (EPIPE) stops it too.
func runLive(ctx context.Context, cfg pipeline.Config, stdout, stderr io.Writer, stats bool) int {
	cfg.StatsInterval = 0 // no periodic statistics lines; --stats prints them at the end
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE) // a closed pipe is a write error, not death with the rules left in
	defer signal.Stop(pipe)

	l, err := pipeline.Start(cfg, slog.New(&lineHandler{w: stderr}))
	if err != nil {
		fmt.Fprintf(stderr, "linuxaudit: %v\n", err)
		return 1
	}
	if liveStarted != nil {
		liveStarted()
	}
	w := bufio.NewWriterSize(stdout, 256<<10)
	// drain writes every queued entry (JSON lines or text lines).
	drain := func() error {
		for {
			b, n := l.Take(0)
			if n == 0 {
				return w.Flush()
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
			l.Ack()
		}
	}
	status := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-ctx.Done():
			running = false
		case <-tick.C:
		}
		if err := drain(); err != nil {
			fmt.Fprintf(stderr, "linuxaudit: writing output: %v\n", err)
			status, running = 1, false
		}
	}
	if err := l.Stop(); err != nil {
		fmt.Fprintf(stderr, "linuxaudit: stopping: %v\n", err)
		status = 1
	}
	if status == 0 {
		if err := drain(); err != nil {
			fmt.Fprintf(stderr, "linuxaudit: writing output: %v\n", err)
			status = 1
		}
	}
	if stats {
		j, _ := json.Marshal(l.Stats())
		fmt.Fprintf(stderr, "%s\n", j)
	}
	return status
}

// lineHandler writes the live pipeline's warnings and errors as
// "linuxaudit: message" lines (its informational lines are left out).
type lineHandler struct {
	w     io.Writer
	attrs []slog.Attr
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	add := func(a slog.Attr) bool { msg += " " + a.String(); return true }
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	_, err := fmt.Fprintf(h.w, "linuxaudit: %s\n", msg)
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &lineHandler{w: h.w, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
