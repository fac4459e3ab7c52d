package pipeline

import "sync"

// queue holds encoded records between the reader goroutine and the
// consumer (Fluent Bit's callback or the CLI's writer). It is bounded by
// bytes; put either waits for room (file source: nothing is lost, the file
// position simply waits) or refuses (kernel source: the kernel cannot be
// paused, the caller counts the drop).
type queue struct {
	mu      sync.Mutex
	room    *sync.Cond
	buf     []byte // encoded entries; buf[head:] not yet taken
	head    int
	meta    []entry // entries in buf[head:], oldest first
	max     int
	closed  bool
	batch   []byte  // the last batch handed out, kept until the next take
	pending []entry // the entries of that batch, until acked
}

type entry struct {
	end int    // offset in buf just past the entry
	pos uint64 // source position of the event's first record
	key string // event id, for resume de-duplication (file source)
}

func newQueue(max int) *queue {
	q := &queue{max: max}
	q.room = sync.NewCond(&q.mu)
	return q
}

// put appends one encoded entry. With wait it blocks while the queue is
// full; otherwise it returns false when the entry does not fit.
func (q *queue) put(b []byte, e entry, wait bool) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.buf)-q.head+len(b) > q.max && len(q.meta) > 0 {
		if !wait || q.closed {
			return false
		}
		q.room.Wait()
	}
	if q.head > 0 && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		for i := range q.meta {
			q.meta[i].end -= q.head
		}
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, b...)
	e.end = len(q.buf)
	q.meta = append(q.meta, e)
	return true
}

// take moves up to max bytes of whole entries (at least one entry when any
// is queued) into a batch and returns it; the batch stays valid until the
// next take. The entries count as delivered only once ack is called.
func (q *queue) take(max int) ([]byte, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batch = q.batch[:0]
	q.pending = q.pending[:0]
	n := 0
	for n < len(q.meta) {
		start := q.head
		if n > 0 {
			start = q.meta[n-1].end
		}
		size := q.meta[n].end - start
		if n > 0 && len(q.batch)+size > max {
			break
		}
		q.batch = append(q.batch, q.buf[start:q.meta[n].end]...)
		n++
	}
	if n == 0 {
		return nil, 0
	}
	q.head = q.meta[n-1].end
	q.pending = append(q.pending, q.meta[:n]...)
	q.meta = append(q.meta[:0], q.meta[n:]...)
	if len(q.meta) == 0 {
		q.buf, q.head = q.buf[:0], 0
	}
	q.room.Broadcast()
	return q.batch, n
}

// ack reports that the last batch was handed over and returns its entries
// (valid until the next take).
func (q *queue) ack() []entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	return p
}

// depth returns the queued entries and bytes.
func (q *queue) depth() (int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.meta), len(q.buf) - q.head
}

// oldest calls fn with the positions of entries not yet acknowledged.
func (q *queue) unacked(fn func(pos uint64)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.pending {
		fn(e.pos)
	}
	for _, e := range q.meta {
		fn(e.pos)
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
}
