package pipeline

import "sync"

// queue holds encoded records between the reader goroutine and the
// consumer (Fluent Bit's callback or a test). It is bounded by bytes; put
// either waits for room (file source: nothing is lost, the file position
// simply waits) or refuses (kernel source: the kernel cannot be paused,
// the caller counts the drop).
//
// Entries live in fixed-size chunks that are reused, so neither put nor
// take ever moves or regrows a large buffer while holding the lock: the
// consumer's callback stays short whatever the queue holds.
type queue struct {
	mu      sync.Mutex
	room    *sync.Cond
	chunks  []*chunk // oldest first; entries are appended to the last
	free    []*chunk // reusable chunks (bounded)
	meta    []entry  // queued entries, oldest first
	head    int      // first entry of meta not yet taken
	bytes   int      // queued bytes
	max     int
	closed  bool
	held    *chunk  // drained by the last take, recycled at the next
	pending []entry // the entries taken, until acked
}

// chunkSize is the size of a queue chunk; an entry larger than that gets a
// chunk of its own.
const chunkSize = 1 << 20

type chunk struct {
	b    []byte
	read int // bytes already taken
}

type entry struct {
	size int
	pos  uint64 // source position of the event's first record
	key  uint64 // event id hash, for resume de-duplication (file source; 0 none)
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
	for q.bytes+len(b) > q.max && q.bytes > 0 {
		if !wait || q.closed {
			return false
		}
		q.room.Wait()
	}
	var c *chunk
	if n := len(q.chunks); n > 0 && cap(q.chunks[n-1].b)-len(q.chunks[n-1].b) >= len(b) {
		c = q.chunks[n-1]
	} else {
		if n := len(q.free); n > 0 && len(b) <= chunkSize {
			c = q.free[n-1]
			q.free = q.free[:n-1]
		} else {
			c = &chunk{b: make([]byte, 0, max(chunkSize, len(b)))}
		}
		q.chunks = append(q.chunks, c)
	}
	c.b = append(c.b, b...)
	e.size = len(b)
	q.meta = append(q.meta, e)
	q.bytes += len(b)
	return true
}

// take returns up to max bytes of whole entries (at least one entry when
// any is queued), all from the oldest chunk: a slice of the chunk, not a
// copy (the plugin's feeder copies it into the hand-over anyway, and the
// copy here was 2% of the live path's CPU). A caller wanting more takes
// again. The batch stays valid until the next take: a chunk it drained is
// recycled only then. The entries count as delivered only once acked;
// entries of several takes can wait for their ack together.
func (q *queue) take(max int) ([]byte, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c := q.held; c != nil {
		q.held = nil
		if len(q.free) < 4 {
			c.b, c.read = c.b[:0], 0
			q.free = append(q.free, c)
		}
	}
	if q.head == len(q.meta) {
		return nil, 0
	}
	if len(q.chunks) == 0 {
		// Only empty entries are left (their chunk drained with the
		// entries before them).
		n := len(q.meta) - q.head
		q.pending = append(q.pending, q.meta[q.head:]...)
		q.meta, q.head = q.meta[:0], 0
		return nil, n
	}
	c := q.chunks[0]
	size, n := 0, 0
	for i := q.head; i < len(q.meta); i++ {
		e := q.meta[i].size
		if n > 0 && (size+e > max || c.read+size+e > len(c.b)) {
			break
		}
		size += e
		n++
	}
	q.pending = append(q.pending, q.meta[q.head:q.head+n]...)
	q.head += n
	batch := c.b[c.read : c.read+size]
	c.read += size
	q.bytes -= size
	if c.read == len(c.b) {
		// Drained: recycled at the next take, once the batch is done
		// with (only chunks of the standard size; put reuses them).
		q.chunks = q.chunks[1:]
		if cap(c.b) == chunkSize {
			q.held = c
		}
	}
	if q.head == len(q.meta) {
		q.meta, q.head = q.meta[:0], 0
	} else if q.head > 4096 && q.head > len(q.meta)/2 {
		q.meta = append(q.meta[:0], q.meta[q.head:]...)
		q.head = 0
	}
	q.room.Broadcast()
	return batch, n
}

// ack reports that every batch taken was handed over and returns their
// entries (valid until the next take).
func (q *queue) ack() []entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	return p
}

// ackN is ack for the first n entries taken and not yet acked, appended to
// dst.
func (q *queue) ackN(n int, dst []entry) []entry {
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.pending))
	dst = append(dst, q.pending[:n]...)
	q.pending = q.pending[:copy(q.pending, q.pending[n:])]
	return dst
}

// depth returns the queued entries and bytes.
func (q *queue) depth() (int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.meta) - q.head, q.bytes
}

// unacked calls fn with the positions of entries not yet acknowledged.
func (q *queue) unacked(fn func(pos uint64)) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, e := range q.pending {
		fn(e.pos)
	}
	for _, e := range q.meta[q.head:] {
		fn(e.pos)
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.room.Broadcast()
	q.mu.Unlock()
}
