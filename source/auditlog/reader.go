package auditlog

import (
	"context"
	"io"

	"github.com/whokilledit/linuxaudit/source"
)

// Reader reads the lines of a finished audit log (a file, stdin, a
// decompressed stream) once, with the same splitting and long-line
// handling as Tail; the last line needs no newline. Lines have no
// positions (source.NoPos).
type Reader struct {
	r     io.Reader
	lines lines
	eof   bool
	st    Stats
}

// NewReader returns a Reader of r with lines of at most maxLine bytes
// (default 64 KiB).
func NewReader(r io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = 64 << 10
	}
	return &Reader{r: r, lines: lines{buf: make([]byte, max(1<<20, maxLine+1)), max: maxLine}}
}

// Reset makes the Reader read r, keeping its buffer and its counters.
func (rd *Reader) Reset(r io.Reader) {
	rd.r, rd.eof = r, false
	rd.lines.reset(false)
}

// Next returns the next line, or io.EOF at the end of the input (or the
// reader's error). ctx is not consulted: reading a finished input does not
// wait.
func (rd *Reader) Next(context.Context) (source.Msg, error) {
	for {
		line, n, st := rd.lines.next()
		rd.st.Bytes += uint64(n)
		switch st {
		case gotLine:
			rd.st.Lines++
			return source.Msg{Data: line, Pos: source.NoPos, End: source.NoPos}, nil
		case skippedLong:
			rd.st.LongLines++
			continue
		}
		if rd.eof {
			line, n, long := rd.lines.rest()
			rd.st.Bytes += uint64(n)
			switch {
			case long:
				rd.st.LongLines++
			case len(line) > 0:
				rd.st.Lines++
				return source.Msg{Data: line, Pos: source.NoPos, End: source.NoPos}, nil
			}
			return source.Msg{}, io.EOF
		}
		rd.lines.compact()
		n, err := rd.r.Read(rd.lines.space())
		rd.lines.filled(n)
		if err == io.EOF {
			rd.eof = true
		} else if err != nil {
			return source.Msg{}, err
		}
	}
}

// Stats returns the counters (Lines, Bytes, LongLines) of every input read.
func (rd *Reader) Stats() Stats { return rd.st }
