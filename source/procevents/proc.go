//go:build linux

package procevents

import (
	"bytes"
	"fmt"
	"syscall"
	"unsafe"
)

// procReader reads /proc/<pid> with openat and read on fixed buffers:
// nothing is allocated per process. The process's directory is opened
// first and every file relative to it, so all parts come from the same
// process even if its pid is reused meanwhile (they are then missing).
type procReader struct {
	root int // the proc root, O_PATH
	name [16]byte

	stat, stat2, status, exe []byte
	cmdline, cgroup          []byte // bound + 1, to see truncation
	maxCmd, maxCg            int
}

// NUL-terminated names for openat.
var (
	nameStat    = [...]byte{'s', 't', 'a', 't', 0}
	nameStatus  = [...]byte{'s', 't', 'a', 't', 'u', 's', 0}
	nameExe     = [...]byte{'e', 'x', 'e', 0}
	nameCmdline = [...]byte{'c', 'm', 'd', 'l', 'i', 'n', 'e', 0}
	nameCgroup  = [...]byte{'c', 'g', 'r', 'o', 'u', 'p', 0}
)

func newProcReader(root string, maxCmd, maxCg int) (*procReader, error) {
	fd, err := syscall.Open(root, oPath|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("process events: proc root %s: %w", root, err)
	}
	return &procReader{
		root:    fd,
		stat:    make([]byte, 1024),
		stat2:   make([]byte, 1024),
		status:  make([]byte, 2048),
		exe:     make([]byte, syscall.PathMax),
		cmdline: make([]byte, maxCmd+1),
		cgroup:  make([]byte, maxCg+1),
		maxCmd:  maxCmd,
		maxCg:   maxCg,
	}, nil
}

func (r *procReader) close() error { return syscall.Close(r.root) }

func openat(dir int, name *byte, flags int) (int, syscall.Errno) {
	fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dir), uintptr(unsafe.Pointer(name)), uintptr(flags|syscall.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), 0
}

// readFile reads dir/name into buf (until it is full or at the end) and
// returns the byte count.
func readFile(dir int, name *byte, buf []byte) (int, syscall.Errno) {
	fd, e := openat(dir, name, syscall.O_RDONLY)
	if e != 0 {
		return 0, e
	}
	n := 0
	for n < len(buf) {
		r, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[n])), uintptr(len(buf)-n))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			syscall.Syscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
			return n, e
		}
		if r == 0 {
			break
		}
		n += int(r)
	}
	syscall.Syscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
	return n, 0
}

// read fills p from /proc/<tgid>.
func (r *procReader) read(tgid int32, p *Proc) {
	*p = Proc{}
	// "<tgid>\0"
	var digits [12]byte
	i := len(digits)
	v := uint32(tgid)
	for {
		i--
		digits[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	n := copy(r.name[:], digits[i:])
	r.name[n] = 0
	dir, e := openat(r.root, &r.name[0], oPath|syscall.O_DIRECTORY)
	if e != 0 {
		p.Missing = ProcAll
		return
	}
	defer syscall.Syscall(syscall.SYS_CLOSE, uintptr(dir), 0, 0)
	for try := 0; ; try++ {
		// The parts must be of one program: an exec while they are read
		// (sh -c '... exec prog') mixes the old program's command line
		// with the new one's name. stat before and after: the same name
		// and start time, or read again (once), or say which parts
		// cannot be trusted.
		var q Proc
		n, e := readFile(dir, &nameStat[0], r.stat2)
		before := e == 0 && parseStat(r.stat2[:n], &q)
		r.readDir(dir, p)
		if !before || p.Read&ProcStat == 0 || (q.StartTime == p.StartTime && string(q.Comm) == string(p.Comm)) {
			return
		}
		if try == 1 {
			p.Read &^= ProcCmdline | ProcExe
			p.Missing |= ProcCmdline | ProcExe
			p.Cmdline, p.Exe = nil, nil
			return
		}
		*p = Proc{}
	}
}

// readDir reads the parts of an open /proc/<tgid> into p.
func (r *procReader) readDir(dir int, p *Proc) {
	// cmdline and exe first: they go when the process exits, the
	// others stay readable until it is reaped.
	if n, e := readFile(dir, &nameCmdline[0], r.cmdline); e == 0 && n > 0 {
		if n > r.maxCmd {
			n = r.maxCmd
			p.Truncated |= ProcCmdline
		}
		c := r.cmdline[:n]
		if p.Truncated&ProcCmdline == 0 && c[len(c)-1] == 0 {
			c = c[:len(c)-1]
		}
		p.Cmdline = c
		p.Read |= ProcCmdline
	} else {
		p.Missing |= ProcCmdline // empty: no memory any more (exited)
	}
	rl, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(dir), uintptr(unsafe.Pointer(&nameExe[0])),
		uintptr(unsafe.Pointer(&r.exe[0])), uintptr(len(r.exe)), 0, 0)
	if e == 0 && rl > 0 {
		p.Exe = r.exe[:rl]
		p.Read |= ProcExe
	} else {
		p.Missing |= ProcExe
	}
	if n, e := readFile(dir, &nameStat[0], r.stat); e == 0 && parseStat(r.stat[:n], p) {
		p.Read |= ProcStat
	} else {
		p.Missing |= ProcStat
	}
	if n, e := readFile(dir, &nameStatus[0], r.status); e == 0 && parseStatusUID(r.status[:n], p) {
		p.Read |= ProcStatus
	} else {
		p.Missing |= ProcStatus
	}
	if n, e := readFile(dir, &nameCgroup[0], r.cgroup); e == 0 && n > 0 {
		if n > r.maxCg {
			n = r.maxCg
			p.Truncated |= ProcCgroup
		}
		p.Cgroup = r.cgroup[:n]
		p.Read |= ProcCgroup
	} else {
		p.Missing |= ProcCgroup
	}
}

// parseStat takes comm, state, ppid and starttime (field 22) from
// /proc/<pid>/stat: "pid (comm) S ppid ... starttime ...". The name may
// hold spaces and parentheses: it ends at the last ')'.
func parseStat(b []byte, p *Proc) bool {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 > len(b) {
		return false
	}
	p.Comm = b[open+1 : end]
	rest := b[end+2:]
	field := 3
	got := 0
	for len(rest) > 0 && field <= 22 {
		sp := bytes.IndexByte(rest, ' ')
		tok := rest
		if sp >= 0 {
			tok = rest[:sp]
			rest = rest[sp+1:]
		} else {
			rest = nil
		}
		switch field {
		case 3:
			if len(tok) == 1 {
				p.State = tok[0]
				got++
			}
		case 4:
			if v, ok := atou(tok); ok {
				p.PPID = int32(v)
				got++
			}
		case 22:
			if v, ok := atou(tok); ok {
				p.StartTime = v
				got++
			}
		}
		field++
	}
	return got == 3
}

// parseStatusUID takes the real uid from the "Uid:" line of status.
func parseStatusUID(b []byte, p *Proc) bool {
	i := bytes.Index(b, []byte("\nUid:\t"))
	if i < 0 {
		return false
	}
	b = b[i+6:]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	v, ok := atou(b[:j])
	p.UID = uint32(v)
	return ok
}

func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
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

const oPath = 0x200000 // O_PATH (not in package syscall)
