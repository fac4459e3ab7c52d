package enrich

import (
	"bytes"

	"github.com/whokilledit/linuxaudit/enrich/containers"
	"os"
	"slices"
	"strconv"
	"time"
)

// Processes is the process table the enricher feeds with the callers it
// sees and asks about callers, parents and targets. ProcTable is the
// real one; tests can give fixed answers.
type Processes interface {
	// Observe records the caller of a syscall event.
	Observe(pid, ppid int64, comm, exe []byte, uid int64)
	// SetArgv records the command line (NUL separated) of a known pid.
	SetArgv(pid int64, argv []byte)
	// Get returns what is known of pid, or nil. The result is valid
	// until the next call of any method.
	Get(pid int64) *Proc
	// Tick lets a live table refresh itself; called regularly.
	Tick()
	// Len is the number of processes known.
	Len() int
	// Apply records a fork, exec or exit from the process events
	// connector.
	Apply(ev *ProcEvent)
}

// Proc is what is known of one process.
type Proc struct {
	PID, PPID int64
	Start     uint64 // start time in clock ticks after boot (/proc), 0 if unknown
	Comm      string
	Exe       string
	Argv      []byte // NUL separated
	UID       int64  // -1 when unknown
	Unit      string
	Container string // container id (64 hex), from the cgroup path
	PodUID    string // Kubernetes pod uid, from the cgroup path
	Runtime   string // containerd, cri-o, docker, podman when the path says
	Seen      int64  // unix seconds of the last update
	Exited    int64  // unix seconds when found gone, 0 while alive or unknown
	Exit      Exit   // how it ended, when the process events connector said
	FromProc  bool   // read from /proc (or from the connector's exec)
	// Forked: known from its fork only (the parent's program), no exec
	// seen since: stale if the process has exec'd in the meantime.
	Forked bool
}

// ProcTable remembers processes by pid (with their start time, so a reused
// pid replaces the old entry), fed by the events of the stream and, when
// live, by /proc. It is bounded: past max entries the processes gone for
// longest, then the least recently seen, are forgotten.
type ProcTable struct {
	m         map[int64]*Proc
	max       int
	root      string // "/proc"
	live      bool
	lastScan  time.Time
	scanEvery time.Duration
	retention int64 // seconds to keep exited processes
	buf       []byte
	now       func() time.Time
	strs      map[string]string
	calls     uint32
	sec       int64
	events    bool // a process events source feeds Apply
}

// NewProcTable returns a table of at most max processes (default 32768);
// live, it reads root (default /proc) for processes it does not know and
// rescans it every 2 s.
func NewProcTable(root string, live bool, max int) *ProcTable {
	if root == "" {
		root = "/proc"
	}
	if max <= 0 {
		max = 32768
	}
	return &ProcTable{m: make(map[int64]*Proc, min(max, 1024)), max: max, root: root, live: live,
		scanEvery: 2 * time.Second, retention: 600, now: time.Now, strs: map[string]string{}}
}

// Len is the number of processes known.
func (t *ProcTable) Len() int { return len(t.m) }

// intern returns b as a string, shared with earlier equal values (comm and
// exe repeat endlessly), within a bound.
func (t *ProcTable) intern(b []byte) string {
	if s, ok := t.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(t.strs) >= 16384 {
		clear(t.strs)
	}
	t.strs[s] = s
	return s
}

// Observe records the caller of a syscall event. A different ppid for a
// known pid means the pid was reused: the old entry is replaced.
func (t *ProcTable) Observe(pid, ppid int64, comm, exe []byte, uid int64) {
	if pid <= 0 {
		return
	}
	p := t.m[pid]
	if p != nil && ppid > 0 && p.PPID > 0 && p.PPID != ppid && !(p.FromProc && p.Exited == 0 && t.live) {
		p = nil
	}
	if p == nil {
		p = t.add(pid)
	}
	if ppid > 0 {
		p.PPID = ppid
	}
	if len(comm) > 0 && string(comm) != p.Comm {
		p.Comm = t.intern(comm)
	}
	if len(exe) > 0 && string(exe) != p.Exe {
		p.Exe = t.intern(exe)
	}
	if uid >= 0 {
		p.UID = uid
	}
	p.Seen = t.clock()
}

// clock returns the time in seconds, read from the system only every 256
// calls (seen stamps need no precision).
func (t *ProcTable) clock() int64 {
	if t.calls++; t.calls&255 == 0 || t.sec == 0 {
		t.sec = t.now().Unix()
	}
	return t.sec
}

// SetArgv records the command line of pid (EXECVE or PROCTITLE).
func (t *ProcTable) SetArgv(pid int64, argv []byte) {
	if p := t.m[pid]; p != nil && !bytes.Equal(p.Argv, argv) {
		if len(argv) > 4096 {
			argv = argv[:4096]
		}
		p.Argv = append(p.Argv[:0], argv...)
	}
}

func (t *ProcTable) add(pid int64) *Proc {
	if len(t.m) >= t.max {
		t.evict()
	}
	p := &Proc{PID: pid, UID: -1}
	t.m[pid] = p
	return p
}

// evict forgets about a tenth of the table: processes known to have
// exited first, then the least recently seen.
func (t *ProcTable) evict() {
	target := len(t.m) - t.max*9/10
	for pid, p := range t.m {
		if target <= 0 {
			return
		}
		if p.Exited != 0 {
			delete(t.m, pid)
			target--
		}
	}
	if target <= 0 {
		return
	}
	seen := make([]int64, 0, len(t.m))
	for _, p := range t.m {
		seen = append(seen, p.Seen)
	}
	slices.Sort(seen)
	cut := seen[min(target, len(seen))-1]
	for pid, p := range t.m {
		if target <= 0 {
			break
		}
		if p.Seen <= cut {
			delete(t.m, pid)
			target--
		}
	}
}

// Get returns what is known of pid, reading /proc when live and the
// process is not known yet.
func (t *ProcTable) Get(pid int64) *Proc {
	if pid <= 0 {
		return nil
	}
	p := t.m[pid]
	if t.live && (p == nil || (!p.FromProc && p.Exited == 0)) {
		if q := t.readProc(pid, p); q != nil {
			return q
		}
	}
	return p
}

// Tick rescans /proc (live mode) so that targets killed later are known
// with their command line and unit, and marks processes that are gone.
func (t *ProcTable) Tick() {
	if !t.live {
		return
	}
	now := t.now()
	if now.Sub(t.lastScan) < t.scanEvery {
		return
	}
	t.lastScan = now
	d, err := os.Open(t.root)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	alive := make(map[int64]struct{}, len(names))
	for _, n := range names {
		pid, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			continue
		}
		alive[pid] = struct{}{}
		p := t.m[pid]
		if p != nil && p.FromProc {
			// Same process? Compare start times (cheap: one read).
			if st, ok := t.startTime(pid); ok && st == p.Start {
				if t.events {
					// Known from its exec: only its cgroup can have
					// changed since (a process moved into a unit).
					p.setCgroup(t.read(t.root + "/" + strconv.FormatInt(pid, 10) + "/cgroup"))
				}
				continue
			}
			p = nil
		}
		t.readProc(pid, p)
	}
	sec := now.Unix()
	for pid, p := range t.m {
		if _, ok := alive[pid]; !ok && p.Exited == 0 {
			p.Exited = sec
		}
		if p.Exited != 0 && sec-p.Exited > t.retention {
			delete(t.m, pid)
		}
	}
}

func (t *ProcTable) read(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if cap(t.buf) < 8192 {
		t.buf = make([]byte, 8192)
	}
	n, _ := f.Read(t.buf[:cap(t.buf)])
	return t.buf[:n]
}

// startTime reads the start time (field 22) of /proc/pid/stat.
func (t *ProcTable) startTime(pid int64) (uint64, bool) {
	b := t.read(t.root + "/" + strconv.FormatInt(pid, 10) + "/stat")
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	st, err := strconv.ParseUint(string(f[19]), 10, 64)
	return st, err == nil
}

// readProc fills an entry for pid from /proc. prev, when not nil, is the
// stream's entry to update (same process) or replace (pid reused).
func (t *ProcTable) readProc(pid int64, prev *Proc) *Proc {
	dir := t.root + "/" + strconv.FormatInt(pid, 10)
	b := t.read(dir + "/stat")
	i := bytes.LastIndexByte(b, ')')
	j := bytes.IndexByte(b, '(')
	if i < 0 || j < 0 || j > i {
		return nil
	}
	comm := string(b[j+1 : i])
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 {
		return nil
	}
	ppid, _ := strconv.ParseInt(string(f[1]), 10, 64)
	start, _ := strconv.ParseUint(string(f[19]), 10, 64)
	p := prev
	if p == nil || (p.PPID > 0 && p.PPID != ppid) {
		p = t.add(pid)
	}
	p.FromProc, p.Start, p.PPID, p.Exited, p.Forked = true, start, ppid, 0, false
	if p.Comm == "" {
		p.Comm = comm
	}
	if exe, err := os.Readlink(dir + "/exe"); err == nil {
		p.Exe = exe
	}
	if cl := t.read(dir + "/cmdline"); len(cl) > 0 {
		p.Argv = append(p.Argv[:0], bytes.TrimRight(cl, "\x00")...)
	}
	for _, l := range bytes.Split(t.read(dir+"/status"), []byte{'\n'}) {
		if bytes.HasPrefix(l, []byte("Uid:")) {
			if u := bytes.Fields(l[4:]); len(u) > 0 {
				p.UID, _ = strconv.ParseInt(string(u[0]), 10, 64)
			}
			break
		}
	}
	p.setCgroup(t.read(dir + "/cgroup"))
	p.Seen = t.now().Unix()
	return p
}

// setCgroup sets the unit, container and pod of p from the content of
// /proc/PID/cgroup.
func (p *Proc) setCgroup(b []byte) {
	unit, c := cgroupContext(b)
	p.Unit, p.Container, p.PodUID, p.Runtime = unit, c.ContainerID, c.PodUID, c.Runtime
}

// cgroupContext derives the systemd unit and the container (id, pod uid,
// runtime: containers.ParseCgroup) from the content of /proc/PID/cgroup
// (v1 or v2 lines "ID:CONTROLLERS:PATH"). For the unit the unified (v2)
// path or the name=systemd one is preferred.
func cgroupContext(b []byte) (unit string, c containers.Cgroup) {
	var best []byte
	rank := -1
	for _, l := range bytes.Split(b, []byte{'\n'}) {
		parts := bytes.SplitN(l, []byte{':'}, 3)
		if len(parts) != 3 || len(parts[2]) == 0 {
			continue
		}
		r := 0
		switch {
		case len(parts[1]) == 0:
			r = 3 // v2
		case bytes.Equal(parts[1], []byte("name=systemd")):
			r = 2
		case bytes.Contains(parts[1], []byte("pids")):
			r = 1
		}
		if r > rank && !bytes.Equal(parts[2], []byte("/")) {
			rank, best = r, parts[2]
		}
	}
	c = containers.ParseCgroup(b)
	if c.Delegated {
		// Below a user's systemd instance, where that user names the
		// cgroups: an id there proves nothing.
		c = containers.Cgroup{}
	}
	return unitOf(best), c
}

// unitOf finds the innermost systemd unit in a cgroup path such as
// /system.slice/nginx.service or /user.slice/user-1000.slice/session-3.scope.
func unitOf(path []byte) (unit string) {
	for _, c := range bytes.Split(path, []byte{'/'}) {
		for _, suf := range []string{".service", ".scope", ".socket", ".timer", ".mount", ".swap", ".path"} {
			if bytes.HasSuffix(c, []byte(suf)) && len(c) > len(suf) {
				unit = string(c)
			}
		}
	}
	return unit
}
