package auditlog

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/whokilledit/linuxaudit/source"
)

// Reading: Next and what it needs (end of file, truncation, finishing a
// rotated file, fingerprints).

// fnv64 is the FNV-1a hash of a file's head (its fingerprint).
func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// fingerprintMatches says whether the first want.fpLen bytes of fo hash to
// want.fpHash.
func fingerprintMatches(fo *fileOpen, want fileIdent) bool {
	if want.fpLen > fpMax || want.fpLen < 0 {
		return false
	}
	var head [fpMax]byte
	n, _ := syscall.Pread(fo.fd, head[:want.fpLen], 0)
	return n == want.fpLen && fnv64(head[:n]) == want.fpHash
}

// refreshFingerprint re-reads the head of fo: false if its first fpLen
// bytes changed (the file was truncated and rewritten); else the
// fingerprint is extended to up to fpMax bytes.
func refreshFingerprint(fo *fileOpen) bool {
	var head [fpMax]byte
	n, _ := syscall.Pread(fo.fd, head[:], 0)
	if n < 0 {
		n = 0
	}
	if n < fo.id.fpLen || fnv64(head[:fo.id.fpLen]) != fo.id.fpHash {
		return false
	}
	fo.id.fpLen, fo.id.fpHash = n, fnv64(head[:n])
	return true
}

// refreshFingerprintReset recomputes fo's fingerprint from scratch (at
// open, after a truncation).
func refreshFingerprintReset(fo *fileOpen) {
	var head [fpMax]byte
	n, _ := syscall.Pread(fo.fd, head[:], 0)
	if n < 0 {
		n = 0
	}
	fo.id.fpLen, fo.id.fpHash = n, fnv64(head[:n])
}

func fileSize(fo *fileOpen) int64 {
	var st syscall.Stat_t
	if fo.f == nil || syscall.Fstat(fo.fd, &st) != nil {
		return 0
	}
	return st.Size
}

// tailOffset is the end of the last complete line of fo (0 when the whole
// file, shorter than maxLine, holds no newline; its size when its last
// maxLine bytes hold none).
func tailOffset(fo *fileOpen, maxLine int) int64 {
	size := fileSize(fo)
	n := int64(maxLine) + 1
	if n > size {
		n = size
	}
	b := make([]byte, n)
	m, _ := syscall.Pread(fo.fd, b, size-n)
	if m < 0 {
		m = 0
	}
	b = b[:m]
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return size - n + int64(i) + 1
	}
	if n == size {
		return 0
	}
	return size
}

// Next returns the next complete line with its positions (Msg.Pos: its
// first byte; Msg.End: after its '\n'). When no complete line comes for a
// Poll period it returns source.ErrIdle; once ctx is done, its error. A
// final line without '\n' is never returned while the file may still
// grow; the unterminated last line of a rotated file is returned once that
// file is finished. The line is valid until the next call. Next does not
// allocate in steady state.
func (f *Tail) Next(ctx context.Context) (source.Msg, error) {
	for {
		line, start, end, err := f.next()
		if err == nil {
			return source.Msg{Data: line, Pos: uint64(start), End: uint64(end)}, nil
		}
		if err != errNoData {
			return source.Msg{}, err
		}
		if err := f.wait(ctx); err != nil {
			return source.Msg{}, err
		}
		if line, start, end, err = f.next(); err == nil {
			return source.Msg{Data: line, Pos: uint64(start), End: uint64(end)}, nil
		}
		if err != errNoData {
			return source.Msg{}, err
		}
		return source.Msg{}, source.ErrIdle
	}
}

// next returns the next complete line, or errNoData.
func (f *Tail) next() (line []byte, start, end Pos, err error) {
	if f.closed {
		return nil, 0, 0, os.ErrClosed
	}
	idle := 0 // streams found without data during this call
	for {
		if len(f.streams) == 0 {
			if f.rescan() {
				continue
			}
			return nil, 0, 0, errNoData
		}
		if f.cur >= len(f.streams) {
			f.cur = 0
		}
		s := f.streams[f.cur]
		if len(s.files) == 0 {
			f.checkPath(s)
		}
		if len(s.files) == 0 {
			if f.nextStream(&idle) {
				continue
			}
			return nil, 0, 0, errNoData
		}
		fo := s.files[0]
		if f.bufFile != fo {
			f.bufFile, f.bufOff = fo, fo.off
			f.lines.reset(fo.skipping)
		}
		lineStart := fo.off
		line, n, st := f.lines.next()
		fo.skipping = f.lines.skipping
		if n > 0 {
			fo.off = f.bufOff + int64(f.lines.r)
			f.st.bytes.Add(uint64(n))
			f.budget += int64(n)
			f.consumed(fo, n)
		}
		switch st {
		case gotLine:
			f.st.lines.Add(1)
			return line, MakePos(fo.gen, lineStart), MakePos(fo.gen, fo.off), nil
		case skippedLong:
			f.st.longLines.Add(1)
			continue
		}
		// Need more bytes. Give other streams a turn now and then.
		if f.budget >= switchBudget && len(f.streams) > 1 {
			f.budget = 0
			f.cur = (f.cur + 1) % len(f.streams)
			continue
		}
		f.bufOff += int64(f.lines.compact())
		if fo.eof && f.truncated(fo) {
			continue
		}
		space := f.lines.space()
		n, rerr := syscall.Pread(fo.fd, space, f.bufOff+int64(f.lines.w))
		if rerr == syscall.EINTR {
			continue
		}
		if n > 0 {
			fo.eof = false
			f.lines.filled(n)
			if n == len(space) {
				f.setLag(fo, fileSize(fo)-f.bufOff)
			} else {
				f.setLag(fo, int64(f.lines.w))
			}
			continue
		}
		if rerr != nil {
			return nil, 0, 0, fmt.Errorf("file source: reading %s: %w", fo.name, rerr)
		}
		// At the end of fo.
		fo.eof = true
		f.setLag(fo, int64(f.lines.w-f.lines.r))
		switch f.atEOF(s, fo) {
		case eofAgain:
			continue
		case eofFinal:
			// The unterminated last line of a finished rotated file.
			lineStart := fo.off
			b, n, long := f.lines.rest()
			fo.off = f.bufOff + int64(f.lines.w)
			f.st.bytes.Add(uint64(n))
			f.consumed(fo, n)
			f.finish(s, fo)
			if long {
				f.st.longLines.Add(1)
				continue
			}
			f.st.lines.Add(1)
			return b, MakePos(fo.gen, lineStart), MakePos(fo.gen, fo.off), nil
		}
		if f.nextStream(&idle) {
			continue
		}
		return nil, 0, 0, errNoData
	}
}

// nextStream moves to the next stream; false when every stream has been
// found without data during this call (then the glob is evaluated again,
// at most every Poll, and true is returned if that added a stream).
func (f *Tail) nextStream(idle *int) bool {
	f.budget = 0
	*idle++
	if *idle < len(f.streams) {
		f.cur = (f.cur + 1) % len(f.streams)
		return true
	}
	if f.rescan() {
		*idle = 0
		f.cur = len(f.streams) - 1
		return true
	}
	f.cur = (f.cur + 1) % len(f.streams)
	return false
}

// rescan evaluates the glob again (at most every Poll); true when it found
// new files.
func (f *Tail) rescan() bool {
	if !f.glob || time.Since(f.lastScan) < f.cfg.Poll {
		return false
	}
	f.lastScan = time.Now()
	paths, err := f.match()
	if err != nil {
		return false
	}
	added := false
	for _, p := range paths {
		dup := false
		for _, s := range f.streams {
			if s.path == p {
				dup = true
				break
			}
		}
		if !dup {
			f.notice(slog.LevelInfo, "new file %s", p)
			f.addStream(p, false)
			added = true
		}
	}
	return added
}

type eofAction int

const (
	eofNoData eofAction = iota // nothing more now in this stream
	eofAgain                   // state changed, loop again
	eofFinal                   // return buf[r:w] as the last line of fo, then move on
)

// atEOF runs when fo (the first file of s) has no more bytes: it looks for
// rotation, and finishes a rotated file once it has been quiet for the
// grace period.
func (f *Tail) atEOF(s *fileStream, fo *fileOpen) eofAction {
	var st syscall.Stat_t
	if err := syscall.Fstat(fo.fd, &st); err != nil {
		return eofNoData
	}
	readEnd := f.bufOff + int64(f.lines.w)
	if st.Size != readEnd {
		return eofAgain // grew since the read, or truncated (the next read sees it)
	}
	f.checkPath(s)
	if len(s.files) > 1 {
		mtime := time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
		if time.Since(mtime) < f.grace {
			return eofNoData
		}
		if f.lines.w > f.lines.r {
			return eofFinal
		}
		if fo.skipping {
			f.st.longLines.Add(1)
		}
		f.finish(s, fo)
		return eofAgain
	}
	return eofNoData
}

// truncated runs before reading fo again after it was at its end: when fo
// is shorter than what we have read, or its head changed (truncated, then
// rewritten past our offset), it is read again from 0.
func (f *Tail) truncated(fo *fileOpen) bool {
	var st syscall.Stat_t
	if syscall.Fstat(fo.fd, &st) != nil {
		return false
	}
	readEnd := f.bufOff + int64(f.lines.w)
	if f.bufFile != fo {
		readEnd = fo.off
	}
	if st.Size >= readEnd && refreshFingerprint(fo) {
		return false
	}
	f.st.truncations.Add(1)
	f.notice(slog.LevelWarn, "%s truncated (size %d, we had read %d); reading it again from 0", fo.name, st.Size, readEnd)
	fo.off, fo.skipping, fo.eof = 0, false, false
	f.bufFile = nil
	refreshFingerprintReset(fo)
	return true
}

// finish closes fo, the first file of s, and moves on to the next.
func (f *Tail) finish(s *fileStream, fo *fileOpen) {
	f.closeFile(fo)
	copy(s.files, s.files[1:])
	s.files[len(s.files)-1] = nil
	s.files = s.files[:len(s.files)-1]
	f.bufFile = nil
}
