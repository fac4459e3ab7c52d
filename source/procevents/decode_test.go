//go:build linux

package procevents

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// datagram builds what the kernel sends: netlink header, cn_msg, and a
// proc_event of kind what with the given 32-bit words (and tail bytes).
func datagram(what Kind, words []uint32, tail []byte) []byte {
	ev := make([]byte, evHdrLen, 40)
	binary.NativeEndian.PutUint32(ev[0:4], uint32(what))
	binary.NativeEndian.PutUint32(ev[4:8], 1)
	binary.NativeEndian.PutUint64(ev[8:16], uint64(1234*time.Second+5))
	for _, w := range words {
		ev = binary.NativeEndian.AppendUint32(ev, w)
	}
	ev = append(ev, tail...)
	b := make([]byte, evOff, evOff+len(ev))
	binary.NativeEndian.PutUint32(b[0:4], uint32(evOff+len(ev)))
	binary.NativeEndian.PutUint16(b[4:6], syscall.NLMSG_DONE)
	binary.NativeEndian.PutUint32(b[nlHdrLen:], cnIdxProc)
	binary.NativeEndian.PutUint32(b[nlHdrLen+4:], cnValProc)
	binary.NativeEndian.PutUint16(b[nlHdrLen+16:], uint16(len(ev)))
	return append(b, ev...)
}

func TestDecode(t *testing.T) {
	comm := append([]byte("worker"), make([]byte, 10)...)
	neg1 := uint32(0xffffffff)
	for _, c := range []struct {
		name string
		b    []byte
		want Event
	}{
		{"fork", datagram(Fork, []uint32{10, 10, 20, 20}, nil), Event{Kind: Fork, ParentPID: 10, ParentTGID: 10, PID: 20, TGID: 20}},
		{"thread fork", datagram(Fork, []uint32{10, 10, 21, 20}, nil), Event{Kind: Fork, ParentPID: 10, ParentTGID: 10, PID: 21, TGID: 20, Thread: true}},
		{"fork by a thread", datagram(Fork, []uint32{11, 10, 22, 22}, nil), Event{Kind: Fork, ParentPID: 11, ParentTGID: 10, PID: 22, TGID: 22}},
		{"exec", datagram(Exec, []uint32{20, 20}, nil), Event{Kind: Exec, PID: 20, TGID: 20}},
		{"exit 3", datagram(Exit, []uint32{20, 20, 3 << 8, 17, 10, 10}, nil), Event{Kind: Exit, PID: 20, TGID: 20, Status: 3 << 8, ExitSignal: 17, ParentPID: 10, ParentTGID: 10}},
		{"old exit (no parent)", datagram(Exit, []uint32{20, 20, 9, 17}, nil), Event{Kind: Exit, PID: 20, TGID: 20, Status: 9, ExitSignal: 17}},
		{"thread exit", datagram(Exit, []uint32{21, 20, 0, neg1, 10, 10}, nil), Event{Kind: Exit, PID: 21, TGID: 20, ExitSignal: -1, ParentPID: 10, ParentTGID: 10, Thread: true}},
		{"uid", datagram(UID, []uint32{20, 20, 1000, 0}, nil), Event{Kind: UID, PID: 20, TGID: 20, RealID: 1000, EffectiveID: 0}},
		{"gid", datagram(GID, []uint32{20, 20, 5, 6}, nil), Event{Kind: GID, PID: 20, TGID: 20, RealID: 5, EffectiveID: 6}},
		{"sid", datagram(SID, []uint32{20, 20}, nil), Event{Kind: SID, PID: 20, TGID: 20}},
		{"ptrace", datagram(Ptrace, []uint32{20, 20, 30, 30}, nil), Event{Kind: Ptrace, PID: 20, TGID: 20, TracerPID: 30, TracerTGID: 30}},
		{"comm", datagram(Comm, []uint32{20, 20}, comm), Event{Kind: Comm, PID: 20, TGID: 20, Name: []byte("worker")}},
		{"coredump", datagram(Coredump, []uint32{20, 20, 10, 10}, nil), Event{Kind: Coredump, PID: 20, TGID: 20, ParentPID: 10, ParentTGID: 10}},
	} {
		var ev Event
		if !decode(c.b, &ev) {
			t.Errorf("%s: not decoded", c.name)
			continue
		}
		c.want.CPU, c.want.Mono = 1, 1234*time.Second+5
		if ev.Kind != c.want.Kind || ev.PID != c.want.PID || ev.TGID != c.want.TGID || ev.ParentPID != c.want.ParentPID ||
			ev.ParentTGID != c.want.ParentTGID || ev.Status != c.want.Status || ev.ExitSignal != c.want.ExitSignal ||
			ev.RealID != c.want.RealID || ev.EffectiveID != c.want.EffectiveID || ev.TracerPID != c.want.TracerPID ||
			ev.TracerTGID != c.want.TracerTGID || !bytes.Equal(ev.Name, c.want.Name) || ev.Thread != c.want.Thread ||
			ev.CPU != c.want.CPU || ev.Mono != c.want.Mono {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, ev, c.want)
		}
	}
	// Not process events, or cut.
	good := datagram(Exec, []uint32{20, 20}, nil)
	for name, b := range map[string][]byte{
		"short":    good[:evOff+8],
		"len past": append(append([]byte(nil), good[:nlHdrLen+16]...), append([]byte{0xff, 0}, good[nlHdrLen+18:]...)...),
		"other idx": func() []byte {
			b := append([]byte(nil), good...)
			b[nlHdrLen] = 2
			return b
		}(),
		"nlmsg error": func() []byte {
			b := append([]byte(nil), good...)
			b[4] = syscall.NLMSG_ERROR
			return b
		}(),
	} {
		var ev Event
		if decode(b, &ev) {
			t.Errorf("%s: decoded %+v", name, ev)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	// The kernel's exit_code is a wait status.
	if s := syscall.WaitStatus(3 << 8); !s.Exited() || s.ExitStatus() != 3 || s.Signaled() {
		t.Errorf("exit 3: %v", s)
	}
	if s := syscall.WaitStatus(9); !s.Signaled() || s.Signal() != syscall.SIGKILL || s.CoreDump() {
		t.Errorf("SIGKILL: %v", s)
	}
	if s := syscall.WaitStatus(11 | 0x80); !s.Signaled() || s.Signal() != syscall.SIGSEGV || !s.CoreDump() {
		t.Errorf("SIGSEGV core: %v", s)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Fork: "fork", Exec: "exec", Exit: "exit", Comm: "comm", Kind(0x1000): "0x1000"} {
		if k.String() != want {
			t.Errorf("%#x: %q, want %q", uint32(k), k.String(), want)
		}
	}
	if s := (ProcExe | ProcCmdline).String(); s != "exe,cmdline" {
		t.Errorf("parts: %q", s)
	}
}

// fakeProc writes /proc/<pid> files under root.
func fakeProc(t *testing.T, root string, pid int, files map[string]string, exe string) {
	t.Helper()
	dir := filepath.Join(root, itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if exe != "" {
		if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}

// stat22 is a stat line whose comm is tricky and starttime 987654.
const stat22 = "4242 (a) b (c)) S 77 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

func TestProcReader(t *testing.T) {
	root := t.TempDir()
	status := "Name:\ta) b (c)\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t77\nTracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n"
	cg := "12:memory:/system.slice/x.service\n0::/system.slice/x.service\n"
	fakeProc(t, root, 4242, map[string]string{
		"stat": stat22, "status": status, "cmdline": "prog\x00--flag\x00arg with space\x00", "cgroup": cg,
	}, "/usr/bin/prog")
	long := strings.Repeat("x", 100)
	fakeProc(t, root, 4343, map[string]string{"stat": stat22, "status": status, "cmdline": long + "\x00", "cgroup": long}, "")
	zombie := strings.Replace(strings.Replace(stat22, "(a) b (c)) S", "(zombie) Z", 1), "4242", "4444", 1)
	fakeProc(t, root, 4444, map[string]string{"stat": zombie, "status": "Name:\tzombie\n", "cmdline": ""}, "")

	r, err := newProcReader(root, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	var p Proc
	r.read(4242, &p)
	if p.Read != ProcAll || p.Missing != 0 || p.Truncated != 0 {
		t.Errorf("read %v missing %v truncated %v", p.Read, p.Missing, p.Truncated)
	}
	if string(p.Comm) != "a) b (c)" || p.State != 'S' || p.PPID != 77 || p.StartTime != 987654 || p.UID != 1000 {
		t.Errorf("stat/status: comm %q state %c ppid %d start %d uid %d", p.Comm, p.State, p.PPID, p.StartTime, p.UID)
	}
	if string(p.Exe) != "/usr/bin/prog" || string(p.Cmdline) != "prog\x00--flag\x00arg with space" || string(p.Cgroup) != cg {
		t.Errorf("exe %q cmdline %q cgroup %q", p.Exe, p.Cmdline, p.Cgroup)
	}

	r.read(4343, &p)
	if p.Truncated != ProcCmdline|ProcCgroup || len(p.Cmdline) != 64 || len(p.Cgroup) != 64 || p.Missing != ProcExe {
		t.Errorf("bounds: truncated %v missing %v cmdline %d cgroup %d", p.Truncated, p.Missing, len(p.Cmdline), len(p.Cgroup))
	}

	r.read(4444, &p) // exited, not reaped: stat is there, the rest is not
	if p.Read != ProcStat || p.Missing != ProcStatus|ProcExe|ProcCmdline|ProcCgroup || p.State != 'Z' || string(p.Comm) != "zombie" {
		t.Errorf("zombie: read %v missing %v state %c comm %q", p.Read, p.Missing, p.State, p.Comm)
	}

	r.read(99999, &p) // gone
	if p.Missing != ProcAll || p.Read != 0 {
		t.Errorf("gone: read %v missing %v", p.Read, p.Missing)
	}
	if n := testing.AllocsPerRun(100, func() { r.read(4242, &p) }); n != 0 {
		t.Errorf("reading /proc allocates %v times", n)
	}
}
