package auditlog

import "bytes"

// lines splits the bytes read into buf into lines of at most max bytes: a
// longer line is dropped up to its newline (as it streams in, so it never
// needs a larger buffer) and reported once. Tail and Reader share it: one
// splitter, one way of counting a long line.
type lines struct {
	buf      []byte
	r, w     int // buf[r:w] is read but not yet consumed
	max      int
	skipping bool // inside a line longer than max
}

// What next found.
const (
	needMore    = iota // no complete line in the buffer
	gotLine            // a line
	skippedLong        // the end of a line longer than max, dropped
)

// next returns the next complete line of the buffer (without its '\n') and
// the bytes it consumed (the line and its newline, or the part of a long
// line it dropped, which needMore can report too).
func (l *lines) next() (line []byte, consumed int, status int) {
	b := l.buf[l.r:l.w]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		l.r += i + 1
		if l.skipping || i > l.max {
			l.skipping = false
			return nil, i + 1, skippedLong
		}
		return b[:i:i], i + 1, gotLine
	}
	if l.skipping || len(b) > l.max {
		l.skipping = true
		l.r = l.w
		return nil, len(b), needMore
	}
	return nil, 0, needMore
}

// compact moves the unconsumed bytes to the front of the buffer and
// returns by how much they moved.
func (l *lines) compact() int {
	n := l.r
	if n > 0 {
		copy(l.buf, l.buf[l.r:l.w])
		l.w -= n
		l.r = 0
	}
	return n
}

// space is the free end of the buffer, to read into; then call filled.
func (l *lines) space() []byte { return l.buf[l.w:] }

func (l *lines) filled(n int) { l.w += n }

// rest consumes and returns what is left: the unterminated last line of a
// finished input (nil when it was part of a long line, which is then
// reported by long).
func (l *lines) rest() (line []byte, consumed int, long bool) {
	b := l.buf[l.r:l.w]
	l.r = l.w
	if l.skipping {
		l.skipping = false
		return nil, len(b), true
	}
	return b[:len(b):len(b)], len(b), false
}

// reset forgets the buffered bytes (the next bytes come from elsewhere).
func (l *lines) reset(skipping bool) { l.r, l.w, l.skipping = 0, 0, skipping }
