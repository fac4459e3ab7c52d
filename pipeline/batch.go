package pipeline

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/source"
	"github.com/whokilledit/linuxaudit/source/auditlog"
)

// Batch runs the pipeline over finished logs (the CLI): the read loop with
// a writer at its end; every document is written as it is produced.
type Batch struct {
	c   *core
	w   *bufio.Writer
	err error
	rd  *auditlog.Reader
	// failed is set when writing failed (read from the loop's goroutine).
	failed atomic.Bool
	closed bool
	// Docs counts written documents.
	Docs uint64
}

var errOutput = errors.New("output write failed")

// NewBatch returns a pipeline writing to w (JSON lines when cfg.JSON, else
// Fluent Bit msgpack entries).
func NewBatch(cfg Config, w io.Writer) (*Batch, error) {
	b := &Batch{w: bufio.NewWriterSize(w, 256<<10)}
	write := func(enc []byte) {
		if b.err == nil {
			if _, b.err = b.w.Write(enc); b.err != nil {
				b.failed.Store(true)
			}
		}
		b.Docs++
	}
	kern, err := kernelLogs(cfg.KernelLogs)
	if err != nil {
		return nil, err
	}
	c, err := newCore(cfg, cfg.Proc == "true", ends{out: func(enc []byte, _ *parser.Event) { write(enc) }, side: write, kern: kern, docsOnly: true, parallel: cfg.parallel(true)})
	if err != nil {
		return nil, err
	}
	b.c = c
	return b, nil
}

// ReadFrom feeds every line of r; events stay open across calls (a log
// and its rotated predecessor), until Close. It returns the bytes read.
func (b *Batch) ReadFrom(r io.Reader) (int64, error) {
	if b.rd == nil {
		b.rd = auditlog.NewReader(r, parser.MaxLineLen)
	} else {
		b.rd.Reset(r)
	}
	before := b.rd.Stats().Bytes
	err := b.c.run(context.Background(), stopOnFailure{b}, nil, nil)
	n := int64(b.rd.Stats().Bytes - before)
	if err == nil && b.failed.Load() {
		err = errOutput
	}
	return n, err
}

// stopOnFailure is the batch's source: the reader, until the output fails.
type stopOnFailure struct{ b *Batch }

func (s stopOnFailure) Next(ctx context.Context) (m source.Msg, err error) {
	if s.b.failed.Load() {
		return m, io.EOF
	}
	return s.b.rd.Next(ctx)
}

// Close completes every open event, waits for the encoder and flushes the
// output; it returns the first write error.
func (b *Batch) Close() error {
	if !b.closed {
		b.closed = true
		b.c.corr.Flush()
		if s := b.c.stage; s != nil {
			s.stop(false)
		}
		b.c.finish() // the OOM kills after the last audit event
	}
	if b.err != nil {
		return b.err
	}
	return b.w.Flush()
}

// Stats returns the counters so far.
func (b *Batch) Stats() Stats {
	s := b.c.stats()
	if b.rd != nil {
		st := b.rd.Stats()
		s.Source = map[string]any{"lines": st.Lines, "bytes": st.Bytes, "long_lines": st.LongLines}
	}
	return s
}
