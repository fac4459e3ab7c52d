package enrich

import (
	"bytes"
	"strings"
	"time"
)

// ProcEventKind is what happened to a process.
type ProcEventKind uint8

const (
	ProcFork ProcEventKind = iota + 1
	ProcExec
	ProcExit
)

// ProcEvent is a process's fork, exec or exit as the kernel's process
// events connector reports it (the pipeline converts source/procevents'
// events): the process table learns of a process the moment it starts a
// program, even one that lives a few milliseconds, and of its death with
// its exit status.
type ProcEvent struct {
	Kind ProcEventKind
	Time time.Time
	PID  int64
	PPID int64 // fork: the parent; exec: from /proc (0 unknown)

	// Exec: /proc/<pid> read right after the exec; HasProc false when the
	// process was already gone.
	HasProc          bool
	Start            uint64 // start time in clock ticks after boot
	Comm, Exe, Argv  []byte // Argv NUL separated
	Cgroup           []byte // content of /proc/<pid>/cgroup
	UID              int64  // -1 unknown
	CmdlineTruncated bool   // the command line was cut to its bound
	// Exit: exit(ExitCode), or killed by signal ExitSig (0: none).
	ExitCode, ExitSig int
	CoreDumped        bool
}

// Exit is how a process ended, from the process events connector.
type Exit struct {
	Known      bool
	Code       int   // exit(Code), when Signal is 0
	Signal     int   // killed by this signal
	CoreDumped bool  // the signal dumped core
	Time       int64 // unix milliseconds
}

// ExitCode is the process's exit status as a shell or a container runtime
// reports it: the code, or 128 + the signal.
func (x Exit) ExitCode() int {
	if x.Signal > 0 {
		return 128 + x.Signal
	}
	return x.Code
}

// Apply records a process event: a fork adds the child (running its
// parent's program until it execs), an exec replaces what is known of the
// process with what /proc said at that moment, an exit marks it gone with
// its status (kept for the retention time so a kill, OOM kill or crash
// reported later still finds it).
func (t *ProcTable) Apply(ev *ProcEvent) {
	if ev.PID <= 0 {
		return
	}
	sec := ev.Time.Unix()
	switch ev.Kind {
	case ProcFork:
		p := t.add(ev.PID) // a new process: whatever had this pid is gone
		p.PPID, p.Seen, p.Forked = ev.PPID, sec, true
		if pp := t.m[ev.PPID]; pp != nil && pp != p {
			p.Comm, p.Exe, p.UID, p.Unit, p.Container, p.PodUID, p.Runtime = pp.Comm, pp.Exe, pp.UID, pp.Unit, pp.Container, pp.PodUID, pp.Runtime
			p.Argv = append(p.Argv[:0], pp.Argv...)
			p.FromProc = pp.FromProc
		}
	case ProcExec:
		p := t.m[ev.PID]
		if p == nil || (ev.HasProc && p.Start != 0 && ev.Start != 0 && p.Start != ev.Start) {
			p = t.add(ev.PID)
		}
		p.Seen, p.Exited, p.Exit, p.Forked = sec, 0, Exit{}, false
		if !ev.HasProc {
			// Gone before /proc could be read: it runs another program
			// now, unknown; its cgroup (unit, container) stays the
			// fork's.
			p.Comm, p.Exe, p.Argv, p.FromProc, p.Start = "", "", p.Argv[:0], false, 0
			return
		}
		p.FromProc, p.Start = true, ev.Start
		if ev.PPID > 0 {
			p.PPID = ev.PPID
		}
		if len(ev.Comm) > 0 && string(ev.Comm) != p.Comm {
			p.Comm = t.intern(ev.Comm)
		}
		if len(ev.Exe) > 0 && string(ev.Exe) != p.Exe {
			p.Exe = t.intern(ev.Exe)
		}
		if len(ev.Argv) > 0 {
			p.Argv = append(p.Argv[:0], bytes.TrimRight(ev.Argv, "\x00")...)
		}
		if ev.UID >= 0 {
			p.UID = ev.UID
		}
		if len(ev.Cgroup) > 0 {
			p.setCgroup(ev.Cgroup)
		}
	case ProcExit:
		p := t.m[ev.PID]
		if p == nil {
			p = t.add(ev.PID)
			p.PPID = ev.PPID
		}
		if len(ev.Cgroup) > 0 {
			// Where it died: what a process that ended right after its
			// exec (before /proc could be read) was in.
			if u, c := cgroupContext(ev.Cgroup); u != "" || c.ContainerID != "" {
				p.Unit, p.Container, p.PodUID, p.Runtime = u, c.ContainerID, c.PodUID, c.Runtime
			}
		}
		p.Exited = max(sec, 1)
		p.Exit = Exit{Known: true, Code: ev.ExitCode, Signal: ev.ExitSig, CoreDumped: ev.CoreDumped, Time: ev.Time.UnixMilli()}
	}
}

// Events tells the table that a process events source feeds it: the
// periodic /proc rescan is then only a safety net (events lost to a full
// socket buffer) and runs every 30 s instead of every 2 s.
func (t *ProcTable) Events(on bool) {
	t.events = on
	if on {
		t.scanEvery = 30 * time.Second
	} else {
		t.scanEvery = 2 * time.Second
	}
}

// current returns p unless it describes another program than the record
// of the process (comm, exe; nil when the record has none): known from a
// fork only and named otherwise (the process exec'd before the table learnt
// of it, and what the table says is its parent's), or with another
// executable (only an exec changes it: a /proc scan between a fork and its
// exec read the parent's program, and the process crashed before its exec
// could be read).
func current(p *Proc, comm, exe []byte) *Proc {
	if p == nil {
		return nil
	}
	if p.Forked && len(comm) > 0 && p.Comm != "" && p.Comm != string(comm) {
		return nil
	}
	if len(exe) > 0 && p.Exe != "" && trimDeleted(p.Exe) != trimDeleted(string(exe)) {
		return nil
	}
	return p
}

// trimDeleted removes the " (deleted)" the kernel appends to the path of an
// executable removed since it started.
func trimDeleted(s string) string { return strings.TrimSuffix(s, " (deleted)") }

// ProcessEvents tells the enricher that a process events source feeds
// Process (the process table's /proc rescan becomes a safety net).
func (e *Enricher) ProcessEvents(on bool) {
	if t, ok := e.procs.(*ProcTable); ok {
		t.Events(on)
	}
}
