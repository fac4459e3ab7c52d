package main

/*
#include "shim.h"
*/
import "C"

import (
	"time"
	"unsafe"

	"github.com/whokilledit/linuxaudit/pipeline"
)

// feeder moves encoded records from the pipeline's queue into the C
// hand-over (handover.c) every feedEvery, up to buffer_max_size per batch,
// and acknowledges the records of each batch once Fluent Bit has copied it.
// Fluent Bit takes a batch once a second; filling it all along keeps the
// queue short, so the reader never waits on a queue that a once-a-second
// drain would keep full.
type feeder struct {
	h    *C.struct_lau_handover
	live *pipeline.Live
	gens []genCount // records per batch not yet acknowledged, oldest first
	stop chan struct{}
	done chan struct{}
	err  string // why feeding stopped early, if it did
}

type genCount struct {
	gen uint64
	n   int
}

const (
	feedEvery = 5 * time.Millisecond
	// feedStep bounds one copy into the batch (the callback waits for
	// the batch's lock at most one copy): a fraction of a millisecond.
	feedStep = 1 << 20
	// feedMinRoom: a batch with less room than this waits for the
	// callback rather than take one more record that may not fit.
	feedMinRoom = 64 << 10
)

func newFeeder(live *pipeline.Live, max int) *feeder {
	h := C.lau_handover_new(C.size_t(max))
	if h == nil {
		return nil
	}
	return &feeder{h: h, live: live, stop: make(chan struct{}), done: make(chan struct{})}
}

func (f *feeder) run() {
	defer close(f.done)
	t := time.NewTicker(feedEvery)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		if !f.step() {
			return
		}
	}
}

// step acknowledges what Fluent Bit accepted and fills the open batch;
// false when the hand-over is closed or cannot grow.
func (f *feeder) step() bool {
	var st C.struct_lau_handover_state
	C.lau_handover_state(f.h, &st)
	f.acknowledge(uint64(st.accepted))
	room, open := int(st.room), int(st.open)
	for room > 0 && (open == 0 || room >= feedMinRoom) {
		b, n := f.live.Take(min(room, feedStep))
		if n == 0 {
			return true
		}
		gen := uint64(C.lau_handover_append(f.h, unsafe.Pointer(&b[0]), C.size_t(len(b))))
		if gen == 0 {
			// Closed, or no memory for the batch: the records taken stay
			// unacknowledged (a file source reads them again at the next
			// start).
			f.err = "cannot allocate the hand-over batch"
			return false
		}
		if k := len(f.gens); k > 0 && f.gens[k-1].gen == gen {
			f.gens[k-1].n += n
		} else {
			f.gens = append(f.gens, genCount{gen, n})
		}
		room -= len(b)
		open += len(b)
	}
	return true
}

// acknowledge acks the records of every batch up to generation accepted.
func (f *feeder) acknowledge(accepted uint64) {
	n, i := 0, 0
	for ; i < len(f.gens) && f.gens[i].gen <= accepted; i++ {
		n += f.gens[i].n
	}
	if i > 0 {
		f.gens = f.gens[:copy(f.gens, f.gens[i:])]
		f.live.AckN(n)
	}
}

// close stops feeding, closes the hand-over (the open batch is dropped
// unacknowledged) and acknowledges what Fluent Bit accepted before.
func (f *feeder) close() handoverStats {
	close(f.stop)
	<-f.done
	C.lau_handover_close(f.h)
	var st C.struct_lau_handover_state
	C.lau_handover_state(f.h, &st)
	f.acknowledge(uint64(st.accepted))
	return handoverStats{
		Callbacks:     uint64(st.callbacks),
		Batches:       uint64(st.batches),
		Bytes:         uint64(st.bytes),
		MaxCallbackMs: float64(st.max_callback_ms),
	}
}

// handoverStats is what the final stats line says about the hand-over.
type handoverStats struct {
	Callbacks     uint64  `json:"callbacks"`
	Batches       uint64  `json:"batches"`
	Bytes         uint64  `json:"bytes"`
	MaxCallbackMs float64 `json:"max_callback_ms"`
}
