package pipeline

import (
	"github.com/whokilledit/linuxaudit/encode"
)

// writer is a third goroutine that encodes the stage's documents and hands
// them out, in order, when out does not read the event (the CLI: ends.
// docsOnly). On the kill log the stage's goroutine did 62% of the
// pipeline's CPU and the loop's 38%, so the stage bounded the wall time;
// encoding there (12% of the CPU) moves to this goroutine and the three
// share two cores more evenly. Documents are self-contained (values are
// copied into the document, keys are constants or interned), so a filled
// one can be read here while the stage fills the next.
type writer struct {
	c    *core
	free chan *docBatch
	full chan *docBatch
	done chan struct{}
	cur  *docBatch
}

type docBatch struct {
	docs  []encode.Document
	side  []bool // a document of out (false) or of side (true)
	n     int
	bytes int
}

const (
	writerBatch = 128
	writerRing  = 4
	// writerBytes hands a batch over once its documents hold this much,
	// a bound on the memory of the documents in flight (writerRing+1
	// batches) in a stretch of large ones.
	writerBytes = 1 << 20
	// writerKeep: a document's buffers larger than this are dropped once
	// written (most documents need a few KB).
	writerKeep = 64 << 10
)

func newWriter(c *core) *writer {
	w := &writer{c: c, free: make(chan *docBatch, writerRing), full: make(chan *docBatch, writerRing),
		done: make(chan struct{})}
	for i := 0; i < writerRing; i++ {
		w.free <- &docBatch{docs: make([]encode.Document, writerBatch), side: make([]bool, writerBatch)}
	}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	var enc []byte
	for bt := range w.full {
		for i := 0; i < bt.n; i++ {
			d := &bt.docs[i]
			enc = encodeDoc(enc[:0], d, w.c.cfg.JSON)
			if bt.side[i] {
				w.c.side(enc)
			} else {
				w.c.out(enc, nil)
			}
			if d.Size() > writerKeep {
				*d = encode.Document{}
			}
		}
		if cap(enc) > writerKeep {
			enc = nil
		}
		bt.n, bt.bytes = 0, 0
		w.free <- bt
	}
}

// doc returns the document to fill next (the stage's goroutine); it is
// handed out by add, or filled again when the event had none.
func (w *writer) doc() *encode.Document {
	if w.cur == nil {
		w.cur = <-w.free
	}
	return &w.cur.docs[w.cur.n]
}

// add hands out the document doc returned.
func (w *writer) add(side bool) {
	bt := w.cur
	bt.side[bt.n] = side
	bt.bytes += bt.docs[bt.n].Size()
	bt.n++
	if bt.n == len(bt.docs) || bt.bytes >= writerBytes {
		w.flush()
	}
}

// flush hands over the partial batch.
func (w *writer) flush() {
	if w.cur != nil && w.cur.n > 0 {
		w.full <- w.cur
		w.cur = nil
	}
}

// stop writes what was handed over and ends the goroutine.
func (w *writer) stop() {
	w.flush()
	close(w.full)
	<-w.done
}

// encodeDoc appends d as a JSON line or a Fluent Bit entry.
func encodeDoc(dst []byte, d *encode.Document, json bool) []byte {
	if json {
		return append(d.AppendJSON(dst), '\n')
	}
	return d.AppendFluentBit(dst)
}
