// Package kmsg reads the kernel's log — live from /dev/kmsg, or from
// saved text logs (dmesg, dmesg -T, journalctl -k, syslog's kern.log) —
// and turns the OOM killer's lines into one OOMReport per kill.
//
//   - Reader (Linux): /dev/kmsg records with the pull shape of the other
//     sources, Next(ctx) returning one Record at a time and
//     source.ErrIdle when nothing came for a while;
//   - ParseLogLine: one line of a saved log to its kernel message and
//     time;
//   - OOMParser: kernel messages, in log order, to OOM-kill reports
//     (victim, its memory, the cgroup that hit its limit, the task that
//     triggered the kill).
//
// Only records of the kernel facility are kernel messages: a process
// allowed to write /dev/kmsg gets the user facility, so OOMParser.Record
// ignores anything else and no process can forge a report there.
package kmsg

import (
	"bytes"
	"time"
)

// Record is one /dev/kmsg record. Its slices point into the Reader's
// buffer and are valid until the next call of Next.
type Record struct {
	// Seq is the record's sequence number (64-bit, never reused).
	Seq uint64
	// Level is the syslog severity (0 emerg ... 3 err, 4 warning, 6 info,
	// 7 debug), Facility the syslog facility: 0 for the kernel, 1 (user)
	// for what processes wrote to /dev/kmsg.
	Level, Facility uint8
	// Flags is '-' for a whole record, 'c' or '+' for the fragments of
	// continued lines older kernels logged.
	Flags byte
	// Mono is the time since boot (the kernel's printk clock), Time it
	// as wall-clock time (boot time estimated from CLOCK_MONOTONIC).
	Mono time.Duration
	Time time.Time
	// Caller is the task ("T123") or CPU ("C1") that logged the record
	// when the kernel says (CONFIG_PRINTK_CALLER), else empty.
	Caller []byte
	// Text is the message, the kernel's \xNN escapes decoded (it may hold
	// any byte, a newline included).
	Text []byte
	// Dict holds the record's continuation lines, "KEY=value" pairs
	// (SUBSYSTEM=, DEVICE=), without the leading space, decoded like Text.
	Dict [][]byte
}

// Kernel tells whether the kernel logged the record (facility 0).
func (r *Record) Kernel() bool { return r.Facility == 0 }

// Value returns the value of a Dict entry KEY=value, or nil.
func (r *Record) Value(key string) []byte {
	for _, d := range r.Dict {
		if len(d) > len(key) && d[len(key)] == '=' && string(d[:len(key)]) == key {
			return d[len(key)+1:]
		}
	}
	return nil
}

// Line is the record as a log line for OOMParser.
func (r *Record) Line() Line {
	return Line{Msg: r.Text, Time: r.Time, Mono: r.Mono, HasMono: true, Caller: r.Caller}
}

// parseRecord parses one record as read(2) returns it,
// "PRI,SEQ,USEC,FLAGS[,MORE];TEXT\n[ KEY=VALUE\n]...", decoding escapes in
// place (b is modified). dict is reused for r.Dict. It is false for a
// malformed record.
func parseRecord(b []byte, boot time.Time, r *Record, dict [][]byte) bool {
	semi := bytes.IndexByte(b, ';')
	if semi < 0 {
		return false
	}
	head, body := b[:semi], b[semi+1:]
	*r = Record{Dict: dict[:0]}
	for i := 0; len(head) > 0; i++ {
		f := head
		if c := bytes.IndexByte(head, ','); c >= 0 {
			f, head = head[:c], head[c+1:]
		} else {
			head = nil
		}
		switch i {
		case 0:
			v, ok := atou(f)
			if !ok || v > 1<<10 {
				return false
			}
			r.Level, r.Facility = uint8(v&7), uint8(v>>3)
		case 1:
			v, ok := atou(f)
			if !ok {
				return false
			}
			r.Seq = v
		case 2:
			v, ok := atou(f)
			if !ok || v > 1<<53 {
				return false
			}
			r.Mono = time.Duration(v) * time.Microsecond
		case 3:
			if len(f) != 1 {
				return false
			}
			r.Flags = f[0]
		default:
			if c, ok := bytes.CutPrefix(f, []byte("caller=")); ok {
				r.Caller = c
			}
		}
		if i < 3 && head == nil {
			return false
		}
	}
	if !boot.IsZero() {
		r.Time = boot.Add(r.Mono)
	}
	nl := bytes.IndexByte(body, '\n')
	if nl < 0 {
		nl = len(body)
	}
	r.Text = unescape(body[:nl])
	rest := body[nl:]
	for len(rest) > 0 {
		rest = rest[1:] // '\n'
		if len(rest) == 0 || rest[0] != ' ' {
			break
		}
		e := bytes.IndexByte(rest, '\n')
		if e < 0 {
			e = len(rest)
		}
		r.Dict = append(r.Dict, unescape(rest[1:e]))
		rest = rest[e:]
	}
	return true
}

// unescape decodes the kernel's \xNN escapes in place.
func unescape(b []byte) []byte {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return b
	}
	w := i
	for r := i; r < len(b); r++ {
		c := b[r]
		if c == '\\' && r+3 < len(b) && b[r+1] == 'x' {
			if h, ok := unhex(b[r+2], b[r+3]); ok {
				b[w] = h
				w++
				r += 3
				continue
			}
		}
		b[w] = c
		w++
	}
	return b[:w]
}

func unhex(a, b byte) (byte, bool) {
	x, ok1 := hexval(a)
	y, ok2 := hexval(b)
	return x<<4 | y, ok1 && ok2
}

func hexval(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
