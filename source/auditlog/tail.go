package auditlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Pos is a position in one file this File has opened: file generation (a
// small number the File assigns to each file it opens, 1,2,3...) in the
// high 16 bits, byte offset in the low 48 bits.
type Pos uint64

const (
	posOffsetBits = 48
	posOffsetMask = 1<<posOffsetBits - 1
)

// MakePos builds a Pos from a generation and a byte offset.
func MakePos(gen uint16, off int64) Pos {
	return Pos(uint64(gen)<<posOffsetBits | uint64(off)&posOffsetMask)
}

// Gen is the generation of the file the position is in.
func (p Pos) Gen() uint16 { return uint16(p >> posOffsetBits) }

// Offset is the byte offset in that file.
func (p Pos) Offset() int64 { return int64(p & posOffsetMask) }

func (p Pos) String() string {
	return strconv.Itoa(int(p.Gen())) + ":" + strconv.FormatInt(p.Offset(), 10)
}

// errNoData is returned by next when no complete line is available now.
var errNoData = errors.New("auditlog: no complete line available yet")

// Config configures OpenFile.
type Config struct {
	// Path is a file or a glob (forwarded logs of several hosts:
	// /var/log/remote/*/audit.log). Each matching file is its own stream;
	// the glob is evaluated again every Poll, so new files are picked up.
	// Matches that are rotated siblings of another match (X.1, X.2...)
	// are ignored. The caller applies the default
	// /var/log/audit/audit.log.
	Path string
	// DB is the offsets file; "" = no persistence.
	DB string
	// ReadFromHead says where to start a file that has no saved position
	// when OpenFile runs: at its head (true) or at its tail (false; at the
	// end of its last complete line). Files that appear later are always
	// read from the head.
	ReadFromHead bool
	// Poll is how often to look for new data / rotation when at EOF
	// (default 250ms). A rotated file is finished once it has been at EOF
	// and unmodified for 2*Poll (at least 500ms), so that a writer still
	// holding it open can complete its last lines.
	Poll time.Duration
	// MaxLineLen: longer lines are skipped to their newline and counted
	// (default 64 KiB).
	MaxLineLen int
	// BufSize is the read buffer (default 256 KiB, at least MaxLineLen+1).
	BufSize int
	// Log, when set, receives one line for each thing the user should
	// know about: a saved file that could not be found again (warning), a
	// truncation (warning), a rotation or a new file (info). It is called
	// from Next or Open, on the caller's goroutine.
	Log *slog.Logger
}

// Stats are the File's counters. Stats may be called from any
// goroutine.
type Stats struct {
	Files       uint64 // files opened (live files, rotated ones being finished, glob matches)
	Lines       uint64 // lines returned by Next
	Bytes       uint64 // bytes consumed (returned and skipped lines, with their '\n')
	LongLines   uint64 // lines longer than MaxLineLen, skipped
	Rotations   uint64 // rotated files followed: newer files queued after a rename rotation (also found at OpenFile when resuming in a rotated file)
	Truncations uint64 // times a file was found truncated (or truncated and rewritten) and read again from 0
	Reopens     uint64 // times a path was opened again after its file was deleted, or a saved file was not found
	LagBytes    int64  // unread bytes in the files open (as of the last read of each)
}

// Tail follows an audit log file (or every file matching a glob), through
// rotation by rename and copytruncate, with positions persisted by Commit.
// Next, Commit, Resume and Close must be called from one goroutine (or be
// serialized by the caller); Stats may be called from any.
type Tail struct {
	cfg   Config
	glob  bool
	grace time.Duration

	streams  []*fileStream
	cur      int   // stream being read
	budget   int64 // bytes consumed from streams[cur] since it was chosen
	lastScan time.Time

	gens     map[uint16]*fileOpen
	closedQ  []uint16 // closed generations, oldest first (bounded history for Commit)
	lastGen  uint16
	seq      uint64
	lagTotal int64

	lines   lines     // the read buffer
	bufFile *fileOpen // whose bytes lines holds
	bufOff  int64     // file offset of lines.buf[0]

	db     *offsetsDB
	saved  map[string]offsetsEntry // entries loaded from the DB, by stream path
	resume []byte                  // the resume list of the last Commit

	timer  *time.Timer
	closed bool

	st struct {
		files, lines, bytes, longLines, rotations, truncations, reopens atomic.Uint64
		lag                                                             atomic.Int64
	}
}

// fileStream is one followed path: the file being read first, then newer
// files (after rotation) in order; the last one is the one last seen at
// the path.
type fileStream struct {
	path      string
	files     []*fileOpen
	committed *offsetsEntry // position to persist (from Commit, or loaded)
	commitSeq uint64        // seq of the file the committed position is in
	opened    bool          // a file was opened at this path at some point
}

func (s *fileStream) last() *fileOpen {
	if len(s.files) == 0 {
		return nil
	}
	return s.files[len(s.files)-1]
}

type fileIdent struct {
	dev, ino uint64
	fpLen    int
	fpHash   uint64
}

// fileOpen is one open file. It stays in File.gens for a while after it is
// closed so that Commit can still name it.
type fileOpen struct {
	f        *os.File // nil once closed
	fd       int
	name     string
	id       fileIdent
	gen      uint16
	seq      uint64 // order of opening: within a stream, larger is newer
	stream   *fileStream
	off      int64 // Next's position: the first byte not yet consumed
	skipping bool  // inside a line longer than MaxLineLen
	eof      bool  // the last read found no more bytes
	lag      int64
}

const (
	fpMax        = 256     // bytes of a file's head hashed into its identity
	switchBudget = 4 << 20 // bytes read from one stream before giving others a turn
	genHistory   = 1024    // closed generations Commit still accepts
	maxResume    = 64 << 10
)

// Open opens the file (or the files matching the glob) and positions
// each stream: at its saved position when DB has one (finding the file
// among rotated siblings if it was rotated meanwhile), else at the head or
// the tail as ReadFromHead says.
func Open(cfg Config) (*Tail, error) {
	if cfg.Path == "" {
		return nil, errors.New("file source: empty path")
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.MaxLineLen <= 0 {
		cfg.MaxLineLen = 64 << 10
	}
	if cfg.BufSize <= 0 {
		cfg.BufSize = 256 << 10
	}
	if cfg.BufSize < cfg.MaxLineLen+1 {
		cfg.BufSize = cfg.MaxLineLen + 1
	}
	f := &Tail{
		cfg:   cfg,
		glob:  strings.ContainsAny(cfg.Path, "*?["),
		grace: max(2*cfg.Poll, 500*time.Millisecond),
		gens:  map[uint16]*fileOpen{},
		saved: map[string]offsetsEntry{},
	}
	if f.glob {
		if _, err := filepath.Match(cfg.Path, ""); err != nil {
			return nil, fmt.Errorf("file source: bad glob %q: %w", cfg.Path, err)
		}
	} else if fi, err := os.Stat(cfg.Path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("file source: %s is a directory", cfg.Path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("file source: %w", err)
	}
	if cfg.DB != "" {
		db, st, err := openOffsetsDB(cfg.DB)
		if err != nil {
			return nil, fmt.Errorf("file source: %w", err)
		}
		f.db = db
		if st != nil {
			for _, e := range st.Streams {
				f.saved[e.Path] = e
			}
			f.resume = st.Resume
		}
	}
	paths, err := f.match()
	if err != nil {
		return nil, err
	}
	if !f.glob {
		paths = []string{cfg.Path}
	}
	for _, p := range paths {
		if err := f.addStream(p, true); err != nil {
			f.Close()
			return nil, err
		}
	}
	f.lastScan = time.Now()
	f.lines = lines{buf: make([]byte, cfg.BufSize), max: cfg.MaxLineLen}
	return f, nil
}

func (f *Tail) notice(level slog.Level, format string, args ...any) {
	if f.cfg.Log != nil {
		f.cfg.Log.Log(context.Background(), level, fmt.Sprintf("file source: "+format, args...))
	}
}

// match evaluates the glob, leaving out rotated siblings of other matches
// or of streams already followed.
func (f *Tail) match() ([]string, error) {
	if !f.glob {
		return nil, nil
	}
	m, err := filepath.Glob(f.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("file source: bad glob %q: %w", f.cfg.Path, err)
	}
	known := make(map[string]bool, len(m)+len(f.streams))
	for _, p := range m {
		known[p] = true
	}
	for _, s := range f.streams {
		known[s.path] = true
	}
	out := m[:0]
	for _, p := range m {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		if i := strings.LastIndexByte(p, '.'); i > 0 && isDigits(p[i+1:]) && known[p[:i]] {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// addStream starts following path. atStart: called by OpenFile (saved
// positions and ReadFromHead apply); otherwise the file is new and read
// from its head.
func (f *Tail) addStream(path string, atStart bool) error {
	s := &fileStream{path: path}
	f.streams = append(f.streams, s)
	e, ok := f.saved[path]
	if atStart && ok {
		ec := e
		s.committed = &ec
		return f.resumeAt(s, e)
	}
	fo, err := f.openRaw(s, path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if atStart {
				f.notice(slog.LevelWarn, "%s does not exist yet; waiting for it", path)
			}
			return nil
		}
		return fmt.Errorf("file source: %w", err)
	}
	if atStart && !f.cfg.ReadFromHead {
		fo.off = tailOffset(fo, f.cfg.MaxLineLen)
	}
	f.push(s, fo)
	return nil
}

// resumeAt positions stream s at the saved entry e.
func (f *Tail) resumeAt(s *fileStream, e offsetsEntry) error {
	want := fileIdent{dev: e.Dev, ino: e.Ino, fpLen: e.FPLen, fpHash: e.FPHash}
	var fo *fileOpen
	var n int
	// A rotation between the stat and the open moves names: try again.
	for try := 0; try < 5 && fo == nil; try++ {
		var name string
		var ok bool
		if n, name, ok = findSibling(s.path, e.Dev, e.Ino); !ok {
			break
		}
		if fo, _ = f.openRaw(s, name); fo == nil {
			continue
		}
		if fo.id.dev != want.dev || fo.id.ino != want.ino {
			fo.f.Close()
			fo = nil
			continue
		}
		if !fingerprintMatches(fo, want) {
			fo.f.Close() // same inode, other content: the saved file is gone
			fo = nil
			break
		}
	}
	if fo == nil {
		f.st.reopens.Add(1)
		live, err := f.openRaw(s, s.path)
		if err != nil {
			f.notice(slog.LevelWarn, "%s: saved file (%s, inode %d) is gone and %s cannot be opened (%v); waiting for it, lines may have been lost", s.path, e.Name, e.Ino, s.path, err)
			return nil
		}
		f.notice(slog.LevelWarn, "%s: saved file (%s, inode %d) is gone; reading %s from the head, lines may have been lost", s.path, e.Name, e.Ino, s.path)
		f.push(s, live)
		return nil
	}
	size := fileSize(fo)
	if e.Offset > size {
		f.st.truncations.Add(1)
		f.notice(slog.LevelWarn, "%s: %s is shorter (%d) than the saved offset %d (truncated while stopped); reading it from 0", s.path, fo.name, size, e.Offset)
	} else {
		fo.off = e.Offset
	}
	f.push(s, fo)
	s.commitSeq = fo.seq
	newer := f.openNewer(s, fo, n)
	if len(newer) > 0 {
		f.st.rotations.Add(uint64(len(newer)))
		f.notice(slog.LevelInfo, "%s: resuming in rotated file %s at %d, then %d newer file(s)", s.path, fo.name, fo.off, len(newer))
	}
	for _, nf := range newer {
		f.push(s, nf)
	}
	return nil
}

// push appends fo to s.files, giving it its generation.
func (f *Tail) push(s *fileStream, fo *fileOpen) {
	f.seq++
	fo.seq = f.seq
	fo.gen = f.newGen()
	f.gens[fo.gen] = fo
	f.st.files.Add(1)
	s.files = append(s.files, fo)
	s.opened = true
	f.setLag(fo, fileSize(fo)-fo.off)
}

// openRaw opens name as a file of stream s (not yet pushed).
func (f *Tail) openRaw(s *fileStream, name string) (*fileOpen, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(fh.Fd()), &st); err != nil {
		fh.Close()
		return nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		fh.Close()
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	fo := &fileOpen{f: fh, fd: int(fh.Fd()), name: name, stream: s}
	fo.id.dev, fo.id.ino = uint64(st.Dev), uint64(st.Ino)
	refreshFingerprintReset(fo)
	return fo, nil
}

func (f *Tail) newGen() uint16 {
	for {
		f.lastGen++
		if f.lastGen == 0 {
			f.lastGen = 1
		}
		if old, ok := f.gens[f.lastGen]; !ok || old.f == nil {
			delete(f.gens, f.lastGen)
			return f.lastGen
		}
	}
}

func (f *Tail) closeFile(fo *fileOpen) {
	if fo.f == nil {
		return
	}
	f.setLag(fo, 0)
	fo.f.Close()
	fo.f = nil
	fo.fd = -1
	if f.bufFile == fo {
		f.bufFile = nil
	}
	f.closedQ = append(f.closedQ, fo.gen)
	if len(f.closedQ) > genHistory {
		g := f.closedQ[0]
		f.closedQ = f.closedQ[1:]
		if old, ok := f.gens[g]; ok && old.f == nil {
			delete(f.gens, g)
		}
	}
}

// consumed accounts n bytes of fo as handed over (LagBytes).
func (f *Tail) consumed(fo *fileOpen, n int) {
	if fo.lag < int64(n) {
		n = int(fo.lag)
	}
	fo.lag -= int64(n)
	f.lagTotal -= int64(n)
	f.st.lag.Store(f.lagTotal)
}

func (f *Tail) setLag(fo *fileOpen, v int64) {
	if v < 0 {
		v = 0
	}
	f.lagTotal += v - fo.lag
	fo.lag = v
	f.st.lag.Store(f.lagTotal)
}

// fileSib is path (n 0) or one of its rotated siblings path.n.
type fileSib struct {
	n    int
	name string
}

// listSiblings returns path and its rotated siblings path.1, path.2, ...
// (those that exist), newest (path) first.
func listSiblings(path string) []fileSib {
	sibs := []fileSib{{0, path}}
	dir, base := filepath.Dir(path), filepath.Base(path)
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			name := e.Name()
			if len(name) > len(base)+1 && strings.HasPrefix(name, base) && name[len(base)] == '.' && isDigits(name[len(base)+1:]) {
				if n, err := strconv.Atoi(name[len(base)+1:]); err == nil && n > 0 {
					sibs = append(sibs, fileSib{n, filepath.Join(dir, name)})
				}
			}
		}
	}
	sort.Slice(sibs, func(i, j int) bool { return sibs[i].n < sibs[j].n })
	return sibs
}

// findSibling finds the file dev/ino among path and its rotated siblings.
func findSibling(path string, dev, ino uint64) (n int, name string, ok bool) {
	for _, sb := range listSiblings(path) {
		var st syscall.Stat_t
		if syscall.Stat(sb.name, &st) == nil && uint64(st.Dev) == dev && uint64(st.Ino) == ino {
			return sb.n, sb.name, true
		}
	}
	return 0, "", false
}

// openNewer opens the files newer than old (which was seen as path.n):
// path, path.1, path.2, ... until old itself, and returns them oldest
// first. Names are visited newest first, the opposite direction to the
// renames of a rotation (path.k -> path.k+1, highest first), so a rotation
// meanwhile can show a file twice (dropped by inode) but cannot hide one.
// If old is not met (deleted meanwhile), only the file at path is kept.
// Files of s already open or already read are skipped.
func (f *Tail) openNewer(s *fileStream, old *fileOpen, n int) []*fileOpen {
	seen := map[[2]uint64]bool{}
	for _, fo := range s.files {
		seen[[2]uint64{fo.id.dev, fo.id.ino}] = true
	}
	var done []*fileOpen // files of s already read and closed
	for _, g := range f.closedQ {
		if fo := f.gens[g]; fo != nil && fo.stream == s && fo.f == nil {
			done = append(done, fo)
		}
	}
	maxN := n + 2
	for _, sb := range listSiblings(s.path) {
		maxN = max(maxN, sb.n+2)
	}
	var newer []*fileOpen
	met := false
	for k := 0; k <= maxN && !met; k++ {
		name := s.path
		if k > 0 {
			name += "." + strconv.Itoa(k)
		}
		fo, err := f.openRaw(s, name)
		if err != nil {
			continue
		}
		key := [2]uint64{fo.id.dev, fo.id.ino}
		switch {
		case key == [2]uint64{old.id.dev, old.id.ino}:
			fo.f.Close()
			met = true
		case seen[key] || wasRead(fo, done):
			fo.f.Close()
		default:
			seen[key] = true
			newer = append(newer, fo)
		}
	}
	if !met && len(newer) > 1 {
		for _, fo := range newer[1:] {
			fo.f.Close()
		}
		newer = newer[:1]
	}
	for i, j := 0, len(newer)-1; i < j; i, j = i+1, j-1 {
		newer[i], newer[j] = newer[j], newer[i]
	}
	return newer
}

// wasRead says whether fo is one of the done files (same inode and head).
func wasRead(fo *fileOpen, done []*fileOpen) bool {
	for _, d := range done {
		if d.id.dev == fo.id.dev && d.id.ino == fo.id.ino && fingerprintMatches(fo, d.id) {
			return true
		}
	}
	return false
}

// checkPath compares the file at s.path with the last file of s and queues
// the new file(s) after a rotation.
func (f *Tail) checkPath(s *fileStream) {
	var st syscall.Stat_t
	if err := syscall.Stat(s.path, &st); err != nil {
		return // gone for now (deleted, or between rename and create)
	}
	last := s.last()
	if last != nil && last.id.dev == uint64(st.Dev) && last.id.ino == uint64(st.Ino) {
		return
	}
	if last == nil {
		fo, err := f.openRaw(s, s.path)
		if err != nil {
			return
		}
		if s.opened {
			f.st.reopens.Add(1)
			f.notice(slog.LevelInfo, "%s: reopened", s.path)
		}
		f.push(s, fo)
		return
	}
	var newer []*fileOpen
	if n, _, ok := findSibling(s.path, last.id.dev, last.id.ino); ok {
		newer = f.openNewer(s, last, n)
		f.st.rotations.Add(uint64(len(newer)))
	} else {
		fo, err := f.openRaw(s, s.path)
		if err != nil {
			return
		}
		newer = append(newer, fo)
		var lst syscall.Stat_t
		if syscall.Fstat(last.fd, &lst) == nil && lst.Nlink == 0 {
			f.st.reopens.Add(1)
			f.notice(slog.LevelInfo, "%s: %s was deleted; reading the new file", s.path, last.name)
		} else {
			f.st.rotations.Add(1)
			f.notice(slog.LevelInfo, "%s: rotated to an unknown name; reading the new file", s.path)
		}
	}
	for _, fo := range newer {
		f.push(s, fo)
	}
}

// wait sleeps until data may be there (up to Poll) or ctx is done.
func (f *Tail) wait(ctx context.Context) error {
	if f.timer == nil {
		f.timer = time.NewTimer(f.cfg.Poll)
	} else {
		f.timer.Reset(f.cfg.Poll)
	}
	select {
	case <-ctx.Done():
		f.timer.Stop()
		return ctx.Err()
	case <-f.timer.C:
		return nil
	}
}

// Commit persists (atomically) that everything before p in p's file has
// been handed over, plus an opaque resume list (< 64 KiB, may be nil). The
// list is one for the whole Tail: the last Commit's, whatever stream p
// belongs to. A position before the stream's already committed one is
// ignored (the list is still saved). Without DB, Commit only remembers.
func (f *Tail) Commit(p Pos, resume []byte) error {
	if f.closed {
		return os.ErrClosed
	}
	if len(resume) >= maxResume {
		return fmt.Errorf("file source: commit resume list is %d bytes (limit %d)", len(resume), maxResume)
	}
	fo, ok := f.gens[p.Gen()]
	if !ok {
		return fmt.Errorf("file source: commit of unknown position %v", p)
	}
	s := fo.stream
	if fo.seq > s.commitSeq || fo.seq == s.commitSeq && (s.committed == nil || p.Offset() >= s.committed.Offset) {
		if fo.f != nil && fo.id.fpLen < fpMax {
			refreshFingerprint(fo)
		}
		s.committed = &offsetsEntry{
			Path: s.path, Name: fo.name,
			Dev: fo.id.dev, Ino: fo.id.ino, FPLen: fo.id.fpLen, FPHash: fo.id.fpHash,
			Offset: p.Offset(),
		}
		s.commitSeq = fo.seq
	}
	f.resume = append(f.resume[:0], resume...)
	if f.db == nil {
		return nil
	}
	st := &offsetsState{Version: offsetsVersion, Resume: f.resume}
	inDB := map[string]bool{}
	for _, s := range f.streams {
		if s.committed != nil {
			st.Streams = append(st.Streams, *s.committed)
			inDB[s.path] = true
		}
	}
	// Keep saved entries of streams not followed now (a glob match that
	// vanished may come back).
	for p, e := range f.saved {
		if !inDB[p] {
			st.Streams = append(st.Streams, e)
		}
	}
	sort.Slice(st.Streams, func(i, j int) bool { return st.Streams[i].Path < st.Streams[j].Path })
	return f.db.save(st)
}

// Resume returns the resume list of the last Commit (loaded from the DB
// at Open). Nil if none.
func (f *Tail) Resume() []byte {
	if len(f.resume) == 0 {
		return nil
	}
	return f.resume
}

// Stats returns the counters; safe from any goroutine.
func (f *Tail) Stats() Stats {
	return Stats{
		Files:       f.st.files.Load(),
		Lines:       f.st.lines.Load(),
		Bytes:       f.st.bytes.Load(),
		LongLines:   f.st.longLines.Load(),
		Rotations:   f.st.rotations.Load(),
		Truncations: f.st.truncations.Load(),
		Reopens:     f.st.reopens.Load(),
		LagBytes:    f.st.lag.Load(),
	}
}

// Close closes every file. It does not commit.
func (f *Tail) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	for _, s := range f.streams {
		for _, fo := range s.files {
			f.closeFile(fo)
		}
		s.files = nil
	}
	if f.timer != nil {
		f.timer.Stop()
	}
	return nil
}
