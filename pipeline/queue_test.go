package pipeline

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"
	"time"
)

// TestQueueOrderAndBounds puts and takes entries of random sizes (some
// larger than a chunk) and checks order, content, the byte bound and
// that take always returns whole entries.
func TestQueueOrderAndBounds(t *testing.T) {
	q := newQueue(8 << 20)
	rng := rand.New(rand.NewSource(1))
	next, want := 0, 0
	var got []byte
	mk := func(i int) []byte {
		n := 8 + rng.Intn(3000)
		if i%97 == 0 {
			n = chunkSize + 12345
		}
		b := make([]byte, n)
		binary.LittleEndian.PutUint32(b, uint32(i))
		binary.LittleEndian.PutUint32(b[4:], uint32(n))
		return b
	}
	for round := 0; round < 200; round++ {
		for k := rng.Intn(50); k > 0; k-- {
			if !q.put(mk(next), entry{pos: uint64(next)}, false) {
				break
			}
			next++
		}
		if _, b := q.depth(); b > 8<<20 {
			t.Fatalf("queue holds %d bytes, max %d", b, 8<<20)
		}
		batch, n := q.take(64 << 10)
		got = append(got[:0], batch...)
		for i := 0; i < n; i++ {
			id := int(binary.LittleEndian.Uint32(got))
			size := int(binary.LittleEndian.Uint32(got[4:]))
			if id != want {
				t.Fatalf("entry %d, want %d", id, want)
			}
			got = got[size:]
			want++
		}
		if len(got) != 0 {
			t.Fatalf("%d stray bytes in batch", len(got))
		}
		if acked := q.ack(); len(acked) != n {
			t.Fatalf("acked %d, took %d", len(acked), n)
		}
	}
	for {
		if _, n := q.take(1 << 30); n == 0 {
			break
		}
	}
	if e, b := q.depth(); e != 0 || b != 0 {
		t.Fatalf("depth %d/%d after draining", e, b)
	}
}

// TestQueueTakeIsShort: with the queue full (64 MiB) and a writer
// waiting for room, take stays fast (the plugin callback budget is 50 ms).
func TestQueueTakeIsShort(t *testing.T) {
	q := newQueue(64 << 20)
	entry1 := bytes.Repeat([]byte{'x'}, 1300)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200000; i++ {
			if !q.put(entry1, entry{pos: uint64(i)}, true) {
				return
			}
		}
	}()
	var worst time.Duration
	taken := 0
	for taken < 200000 {
		start := time.Now()
		_, n := q.take(4 << 20)
		if d := time.Since(start); d > worst {
			worst = d
		}
		q.ack()
		taken += n
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	<-done
	t.Logf("worst take: %v", worst)
	if worst > 50*time.Millisecond {
		t.Fatalf("take blocked %v", worst)
	}
}

// TestQueueAckN: entries of several takes wait for their ack together and
// are acknowledged in order, n at a time, as the plugin's feeder does;
// unacked reports exactly the entries not yet acknowledged.
func TestQueueAckN(t *testing.T) {
	q := newQueue(1 << 20)
	for i := 0; i < 10; i++ {
		q.put([]byte("0123456789"), entry{pos: uint64(i)}, false)
	}
	for _, max := range []int{25, 25, 1000} { // 2, 2, 6 entries
		q.take(max)
	}
	unacked := func() (ps []uint64) {
		q.unacked(func(p uint64) { ps = append(ps, p) })
		return
	}
	if got := len(unacked()); got != 10 {
		t.Fatalf("%d unacked after the takes, want 10", got)
	}
	var dst []entry
	dst = q.ackN(3, dst[:0])
	if len(dst) != 3 || dst[0].pos != 0 || dst[2].pos != 2 {
		t.Fatalf("ackN(3) = %+v", dst)
	}
	if ps := unacked(); len(ps) != 7 || ps[0] != 3 {
		t.Fatalf("unacked after ackN(3): %v", ps)
	}
	dst = q.ackN(100, dst[:0])
	if len(dst) != 7 || dst[0].pos != 3 || dst[6].pos != 9 {
		t.Fatalf("ackN(100) = %+v", dst)
	}
	if ps := unacked(); len(ps) != 0 {
		t.Fatalf("unacked after acking all: %v", ps)
	}
}

// TestQueueBatchStaysValid: take returns a slice of a chunk, not a copy;
// what it returned must stay intact while more is put, until the next
// take, though the chunk it drained is reused after that.
func TestQueueBatchStaysValid(t *testing.T) {
	q := newQueue(64 << 20)
	data := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 100<<10) }
	for i := 0; i < 10; i++ { // 10 entries of 100 KiB: one 1 MiB chunk
		q.put(data(i), entry{}, false)
	}
	q.put(data(10), entry{}, false) // the next chunk
	b, n := q.take(1 << 30)
	if n != 10 || len(b) != 10*100<<10 {
		t.Fatalf("took %d entries, %d bytes; want the first chunk's 10", n, len(b))
	}
	want := bytes.Clone(b)
	for i := 11; i < 40; i++ { // fills chunk 2, then needs chunks 3 and 4
		q.put(data(i), entry{}, false)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("the batch changed before the next take")
	}
	for got := 10; got < 40; {
		b, n := q.take(1 << 30)
		if n == 0 {
			t.Fatalf("%d entries taken of 40", got)
		}
		for k := 0; k < n; k++ {
			if e := b[k*100<<10 : (k+1)*100<<10]; !bytes.Equal(e, data(got+k)) {
				t.Fatalf("entry %d holds %d", got+k, e[0])
			}
		}
		got += n
	}
}
