package auditlog

import (
	"github.com/whokilledit/linuxaudit/internal/audittest"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// numbered line i, as the test files hold them.
func fileLine(i int) string { return fmt.Sprintf("line %06d type=TEST msg=audit(1.0:%d): x=y", i, i) }

func lineNo(t testing.TB, l []byte) int {
	t.Helper()
	s := string(l)
	if !strings.HasPrefix(s, "line ") || len(s) < 11 {
		t.Fatalf("unexpected line %q", s)
	}
	n, err := strconv.Atoi(s[5:11])
	if err != nil {
		t.Fatalf("unexpected line %q", s)
	}
	if s != fileLine(n) {
		t.Fatalf("line %d damaged: %q", n, s)
	}
	return n
}

func appendLines(t testing.TB, path string, from, to int) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(fileLine(i))
		b.WriteByte('\n')
	}
	if _, err := fh.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	fh.Close()
}

func appendRaw(t testing.TB, path, s string) {
	t.Helper()
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteString(s); err != nil {
		t.Fatal(err)
	}
	fh.Close()
}

// rotate does what auditd does: path.N -> path.N+1 (highest first), path
// -> path.1; the new path is created by the next write.
func rotate(t testing.TB, path string) {
	t.Helper()
	n := 1
	for {
		if _, err := os.Stat(path + "." + strconv.Itoa(n)); err != nil {
			break
		}
		n++
	}
	for ; n > 1; n-- {
		if err := os.Rename(path+"."+strconv.Itoa(n-1), path+"."+strconv.Itoa(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
}

type readLine struct {
	n          int
	start, end Pos
}

// readUntil reads lines until want lines were read or timeout; fails on
// timeout.
func readUntil(t testing.TB, f *Tail, want int, timeout time.Duration) []readLine {
	t.Helper()
	var out []readLine
	deadline := time.Now().Add(timeout)
	for len(out) < want {
		l, s, e, err := f.next()
		if err == errNoData {
			if time.Now().After(deadline) {
				t.Fatalf("timeout: read %d lines of %d (stats %+v)", len(out), want, f.Stats())
			}
			f.wait(context.Background())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, readLine{lineNo(t, l), s, e})
	}
	return out
}

// expectNoMore checks nothing else comes for a while.
func expectNoMore(t testing.TB, f *Tail, quiet time.Duration) {
	t.Helper()
	deadline := time.Now().Add(quiet)
	for time.Now().Before(deadline) {
		l, _, _, err := f.next()
		if err == nil {
			t.Fatalf("unexpected extra line %q", l)
		}
		if err != errNoData {
			t.Fatal(err)
		}
		f.wait(context.Background())
	}
}

func expectSeq(t testing.TB, got []readLine, from, to int) {
	t.Helper()
	if len(got) != to-from+1 {
		t.Fatalf("got %d lines, want %d (%d..%d); first %v", len(got), to-from+1, from, to, got[:min(len(got), 3)])
	}
	for i, l := range got {
		if l.n != from+i {
			t.Fatalf("line #%d is %d, want %d", i, l.n, from+i)
		}
	}
}

func TestPos(t *testing.T) {
	p := MakePos(65535, 1<<47+12345)
	if p.Gen() != 65535 || p.Offset() != 1<<47+12345 {
		t.Fatalf("round trip: %d %d", p.Gen(), p.Offset())
	}
	if p := MakePos(3, 0); p.Gen() != 3 || p.Offset() != 0 {
		t.Fatal(p)
	}
}

// A line being written is returned only once complete, whole; positions
// are the line's first byte and the byte after its '\n'.
func TestFilePartialLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendRaw(t, log, "first\nsecond hal")
	f, err := Open(Config{Path: log, ReadFromHead: true, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, s, e, err := f.next()
	if err != nil || string(l) != "first" || s.Offset() != 0 || e.Offset() != 6 {
		t.Fatalf("got %q %v %v %v", l, s, e, err)
	}
	for i := 0; i < 3; i++ {
		if l, _, _, err := f.next(); err != errNoData {
			t.Fatalf("partial line returned: %q %v", l, err)
		}
		f.wait(context.Background())
	}
	appendRaw(t, log, "f")
	if l, _, _, err := f.next(); err != errNoData {
		t.Fatalf("partial line returned: %q %v", l, err)
	}
	appendRaw(t, log, " done\nthird\n")
	l, s, e, err = f.next()
	if err != nil || string(l) != "second half done" || s.Offset() != 6 || e.Offset() != 23 || s.Gen() != e.Gen() {
		t.Fatalf("got %q %v %v %v", l, s, e, err)
	}
	if l, _, _, err := f.next(); string(l) != "third" || err != nil {
		t.Fatalf("got %q %v", l, err)
	}
	if st := f.Stats(); st.Lines != 3 || st.Bytes != 29 || st.LagBytes != 0 || st.Files != 1 {
		t.Fatalf("stats %+v", st)
	}

	// Tail start: at the end of the last complete line.
	appendRaw(t, log, "fourth\nfif")
	g, err := Open(Config{Path: log, ReadFromHead: false, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if l, _, _, err := g.next(); err != errNoData {
		t.Fatalf("tail start returned %q %v", l, err)
	}
	appendRaw(t, log, "th\n")
	if l, _, _, err := g.next(); string(l) != "fifth" || err != nil {
		t.Fatalf("tail start: got %q %v", l, err)
	}
}

// auditd-style rotation while reading: audit.log renamed to audit.log.1,
// the old file's tail written after the rename (even after the new file
// exists) is still read, and before the new file.
func TestFileRotationRename(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendLines(t, log, 1, 100)
	f, err := Open(Config{Path: log, ReadFromHead: true, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := readUntil(t, f, 50, 5*time.Second)

	var wg sync.WaitGroup
	wg.Add(1)
	var rest []readLine
	go func() {
		defer wg.Done()
		rest = readUntil(t, f, 150, 10*time.Second)
	}()
	time.Sleep(20 * time.Millisecond)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	appendLines(t, log+".1", 101, 110) // after the rename
	time.Sleep(20 * time.Millisecond)
	appendLines(t, log, 121, 130)      // the new file
	appendLines(t, log+".1", 111, 120) // old writer still finishing
	time.Sleep(20 * time.Millisecond)
	appendLines(t, log, 131, 200)
	wg.Wait()
	if t.Failed() {
		return
	}
	expectSeq(t, append(got, rest...), 1, 200)
	expectNoMore(t, f, 100*time.Millisecond)
	// Generations: the first 120 lines in one file, the rest in another.
	if got[0].start.Gen() == rest[len(rest)-1].start.Gen() {
		t.Fatal("same generation for both files")
	}
	if st := f.Stats(); st.Rotations != 1 || st.Files != 2 || st.Truncations != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// copytruncate: the file truncated in place is read again from 0, also
// when it was rewritten past our offset before we looked.
func TestFileCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendLines(t, log, 1, 50)
	lg, noted := audittest.Capture()
	f, err := Open(Config{Path: log, ReadFromHead: true, Poll: 10 * time.Millisecond, Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectSeq(t, readUntil(t, f, 50, 5*time.Second), 1, 50)
	expectNoMore(t, f, 30*time.Millisecond)

	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	expectNoMore(t, f, 30*time.Millisecond)
	appendLines(t, log, 51, 60)
	expectSeq(t, readUntil(t, f, 10, 5*time.Second), 51, 60)
	if st := f.Stats(); st.Truncations != 1 {
		t.Fatalf("stats %+v", st)
	}
	expectNoMore(t, f, 30*time.Millisecond)

	// Truncated and rewritten beyond our offset before the next read.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendLines(t, log, 61, 200)
	expectSeq(t, readUntil(t, f, 140, 5*time.Second), 61, 200)
	if st := f.Stats(); st.Truncations != 2 {
		t.Fatalf("stats %+v", st)
	}
	if notes := noted(); len(notes) != 2 || !strings.Contains(notes[0], "truncated") {
		t.Fatalf("notices %q", notes)
	}
}

// Restart in the middle of a file: the second run starts exactly at the
// committed position (not at what the first run had read), and Extra
// comes back.
func TestFileRestartMidFile(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	db := filepath.Join(dir, "offsets.json")
	appendLines(t, log, 1, 100)
	cfg := Config{Path: log, DB: db, ReadFromHead: true, Poll: 10 * time.Millisecond}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := readUntil(t, f, 60, 5*time.Second)
	for _, l := range got[:40] {
		if err := f.Commit(l.end, []byte("keys-"+strconv.Itoa(l.n))); err != nil {
			t.Fatal(err)
		}
	}
	// A commit behind the committed position is ignored.
	if err := f.Commit(got[10].end, []byte("keys-40")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	appendLines(t, log, 101, 120)

	cfg.ReadFromHead = false // a saved position wins
	f, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if string(f.Resume()) != "keys-40" {
		t.Fatalf("extra %q", f.Resume())
	}
	second := readUntil(t, f, 80, 5*time.Second)
	expectSeq(t, append(got[:40:40], second...), 1, 120)
	expectNoMore(t, f, 30*time.Millisecond)
}

// Restart in the middle of a rotation: the first run stops after the
// rename, before reading the old file's rest; more rotations happen while
// it is stopped. The second run finds the committed file among the rotated
// siblings, reads its rest, then the newer files in order.
func TestFileRestartMidRotation(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	db := filepath.Join(dir, "offsets.json")
	appendLines(t, log, 1, 50)
	cfg := Config{Path: log, DB: db, ReadFromHead: true, Poll: 10 * time.Millisecond}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := readUntil(t, f, 30, 5*time.Second)
	if err := f.Commit(first[29].end, nil); err != nil {
		t.Fatal(err)
	}
	// auditd rotates while we run...
	rotate(t, log)
	appendLines(t, log+".1", 51, 60)
	appendLines(t, log, 61, 80)
	f.Close() // ... and we stop before reading the old file's rest.
	// Two more rotations while stopped, with an older unrelated file
	// (that must not be read) among the siblings.
	appendLines(t, log+".2", 900, 910)
	rotate(t, log)
	appendLines(t, log, 81, 90)
	rotate(t, log)
	appendLines(t, log, 91, 100)

	lg, noted := audittest.Capture()
	cfg.Log = lg
	f, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	second := readUntil(t, f, 70, 10*time.Second)
	expectSeq(t, append(first, second...), 1, 100)
	// And it goes on following the live file.
	appendLines(t, log, 101, 110)
	rotate(t, log)
	appendLines(t, log, 111, 120)
	third := readUntil(t, f, 20, 10*time.Second)
	expectSeq(t, third, 101, 120)
	expectNoMore(t, f, 30*time.Millisecond)
	if notes := noted(); len(notes) == 0 || !strings.Contains(notes[0], "resuming in rotated file") {
		t.Fatalf("notices %q", notes)
	}
	// Commit in the live file, restart: nothing again.
	if err := f.Commit(third[19].end, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	f, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	expectNoMore(t, f, 30*time.Millisecond)
	f.Close()

	// The saved file gone entirely (and the path holds a new file with the
	// same head): the live file is read from its head, with a notice.
	for _, n := range []string{"", ".1", ".2", ".3", ".4", ".5", ".6"} {
		os.Remove(log + n)
	}
	appendLines(t, log, 1, 5)
	lg, noted = audittest.Capture()
	cfg.Log = lg
	f, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectSeq(t, readUntil(t, f, 5, 5*time.Second), 1, 5)
	if notes := noted(); len(notes) != 1 || !strings.Contains(notes[0], "gone") || f.Stats().Reopens != 1 {
		t.Fatalf("notices %q stats %+v", notes, f.Stats())
	}
}

// A glob: each file its own stream, files appearing later picked up,
// positions persisted per stream, rotated siblings not taken as streams.
func TestFileGlob(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "offsets.json")
	host := func(h string) string {
		os.MkdirAll(filepath.Join(dir, h), 0o755)
		return filepath.Join(dir, h, "audit.log")
	}
	a, b := host("a"), host("b")
	appendLines(t, a, 1, 100)
	appendLines(t, b, 1001, 1050)
	appendLines(t, a+".1", 5000, 5010) // a rotated sibling: not a stream
	cfg := Config{Path: filepath.Join(dir, "*", "audit.log*"), DB: db, ReadFromHead: true, Poll: 10 * time.Millisecond}
	f, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	byFile := func(ls []readLine) map[int][]readLine {
		m := map[int][]readLine{}
		for _, l := range ls {
			m[l.n/1000] = append(m[l.n/1000], l)
		}
		return m
	}
	m := byFile(readUntil(t, f, 150, 5*time.Second))
	expectSeq(t, m[0], 1, 100)
	expectSeq(t, m[1], 1001, 1050)
	c := host("c")
	appendLines(t, c, 2001, 2020) // a new host
	appendLines(t, a, 101, 110)
	m2 := byFile(readUntil(t, f, 30, 5*time.Second))
	expectSeq(t, m2[0], 101, 110)
	expectSeq(t, m2[2], 2001, 2020)
	expectNoMore(t, f, 30*time.Millisecond)
	// Commit a in the middle, b and c at their ends.
	f.Commit(m[0][49].end, nil)
	f.Commit(m[1][49].end, nil)
	f.Commit(m2[2][19].end, nil)
	f.Close()
	appendLines(t, b, 1051, 1060)
	appendLines(t, c, 2021, 2030)

	f, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m3 := byFile(readUntil(t, f, 80, 5*time.Second))
	expectSeq(t, m3[0], 51, 110)
	expectSeq(t, m3[1], 1051, 1060)
	expectSeq(t, m3[2], 2021, 2030)
	expectNoMore(t, f, 30*time.Millisecond)
	if st := f.Stats(); st.Files != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// Lines longer than MaxLineLen are skipped to their newline and counted,
// also when they arrive in pieces; a line of exactly MaxLineLen is kept.
func TestFileLongLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	long := strings.Repeat("x", 300)
	max := strings.Repeat("m", 100)
	appendRaw(t, log, fileLine(1)+"\n"+long+"\n"+fileLine(2)+"\n"+max+"\n"+long+long)
	f, err := Open(Config{Path: log, ReadFromHead: true, Poll: 10 * time.Millisecond, MaxLineLen: 100, BufSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	next := func() {
		for i := 0; i < 5; i++ {
			l, _, _, err := f.next()
			if err == errNoData {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(l))
		}
	}
	next()
	appendRaw(t, log, long+"\n"+fileLine(3)+"\n")
	next()
	want := []string{fileLine(1), fileLine(2), max, fileLine(3)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q", got)
	}
	if st := f.Stats(); st.LongLines != 2 || st.Lines != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// Commit replaces the DB file whole (a new inode each time, no temporary
// left behind): a concurrent reader never sees a half-written file.
func TestFileCommitAtomic(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	db := filepath.Join(dir, "offsets.json")
	appendLines(t, log, 1, 300)
	f, err := Open(Config{Path: log, DB: db, ReadFromHead: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := readUntil(t, f, 300, 5*time.Second)
	stop := make(chan struct{})
	var reads, bad int
	var badMsg string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := os.ReadFile(db)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			reads++
			var st offsetsState
			if err := json.Unmarshal(b, &st); err != nil || st.Version != offsetsVersion || len(st.Streams) != 1 {
				bad++
				badMsg = fmt.Sprintf("%v: %q", err, b)
			}
		}
	}()
	var lastIno uint64
	replaced := 0
	for i, l := range lines {
		extra := bytes.Repeat([]byte{byte(i)}, 1000+i*10)
		if err := f.Commit(l.end, extra); err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(db, &st); err != nil {
			t.Fatal(err)
		}
		if lastIno != 0 && st.Ino != lastIno {
			replaced++
		}
		lastIno = st.Ino
	}
	close(stop)
	<-done
	f.Close()
	if bad > 0 {
		t.Fatalf("%d of %d reads saw a bad DB: %s", bad, reads, badMsg)
	}
	if replaced < len(lines)/2 { // inodes may be reused, but not every time
		t.Fatalf("DB replaced only %d times of %d", replaced, len(lines)-1)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("left behind: %v", ents)
	}
	if err := f.Commit(lines[0].end, nil); err == nil {
		t.Fatal("commit after close accepted")
	}
	f, err = Open(Config{Path: log, DB: db, ReadFromHead: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if x := f.Resume(); len(x) != 1000+299*10 || x[0] != byte(299&0xff) {
		t.Fatalf("extra len %d", len(x))
	}
	expectNoMore(t, f, 10*time.Millisecond)
	t.Logf("%d concurrent reads of the DB, all whole", reads)
}

func TestFileOpenErrors(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendLines(t, log, 1, 2)
	corrupt := filepath.Join(dir, "bad.json")
	os.WriteFile(corrupt, []byte(`{"version":1,"streams":[{"pa`), 0o644)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Path: filepath.Join(dir, "[a")}, "bad glob"},
		{Config{Path: log, DB: filepath.Join(dir, "nodir", "db.json")}, "directory"},
		{Config{Path: log, DB: corrupt}, "corrupt"},
		{Config{Path: dir}, "is a directory"},
		{Config{}, "empty path"},
	} {
		f, err := Open(c.cfg)
		if err == nil {
			f.Close()
			t.Errorf("%+v: no error", c.cfg)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %q does not say %q", c.cfg, err, c.want)
		}
	}
	// A path that does not exist yet is waited for and read from the head.
	later := filepath.Join(dir, "later.log")
	f, err := Open(Config{Path: later, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	expectNoMore(t, f, 20*time.Millisecond)
	appendLines(t, later, 1, 3)
	expectSeq(t, readUntil(t, f, 3, 5*time.Second), 1, 3)
}

// Next does not allocate per line.
func TestFileNextNoAlloc(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendLines(t, log, 1, 30000)
	f, err := Open(Config{Path: log, ReadFromHead: true, BufSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	allocs := testing.AllocsPerRun(20000, func() {
		if _, _, _, err := f.next(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per line", allocs)
	}
}

func BenchmarkFileNext(b *testing.B) {
	dir := b.TempDir()
	log := filepath.Join(dir, "audit.log")
	appendLines(b, log, 1, 200000)
	fi, _ := os.Stat(log)
	b.SetBytes(fi.Size() / 200000)
	b.ReportAllocs()
	var f *Tail
	for i := 0; i < b.N; i++ {
		if f == nil {
			var err error
			if f, err = Open(Config{Path: log, ReadFromHead: true}); err != nil {
				b.Fatal(err)
			}
		}
		if _, _, _, err := f.next(); err == errNoData {
			f.Close()
			f = nil
		}
	}
	if f != nil {
		f.Close()
	}
}
