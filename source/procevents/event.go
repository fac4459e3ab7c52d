package procevents

import (
	"strconv"
	"syscall"
	"time"
)

// Kind is what happened to a process: the kernel's enum proc_cn_event
// value (linux/cn_proc.h), usable as a bit in Config.Kinds.
type Kind uint32

// The kinds of event the kernel reports.
const (
	Fork     Kind = 0x00000001 // a new task (process, or thread: see Event.Thread)
	Exec     Kind = 0x00000002 // the process executed a new program
	UID      Kind = 0x00000004 // real or effective uid changed
	GID      Kind = 0x00000040 // real or effective gid changed
	SID      Kind = 0x00000080 // the process started a new session (setsid)
	Ptrace   Kind = 0x00000100 // attached (TracerTGID != 0) or detached
	Comm     Kind = 0x00000200 // the task's name changed (prctl PR_SET_NAME)
	Coredump Kind = 0x40000000 // the process is dumping core (before its exit)
	Exit     Kind = 0x80000000 // a task ended (see Event.Status)

	// AllKinds is every kind above.
	AllKinds = Fork | Exec | UID | GID | SID | Ptrace | Comm | Coredump | Exit

	kindNone = 0 // acknowledgements
)

var kindNames = [...]struct {
	k Kind
	n string
}{{Fork, "fork"}, {Exec, "exec"}, {UID, "uid"}, {GID, "gid"}, {SID, "sid"}, {Ptrace, "ptrace"}, {Comm, "comm"}, {Coredump, "coredump"}, {Exit, "exit"}}

// String is the kind's name ("fork", "exec", "exit", ...), or its value in
// hex for one this package does not know.
func (k Kind) String() string {
	for _, e := range kindNames {
		if e.k == k {
			return e.n
		}
	}
	return "0x" + strconv.FormatUint(uint64(k), 16)
}

// Event is one process event. Slices in it point into the Source's
// buffers and are valid until the next call of Next.
//
// The kernel reports tasks (threads). TGID is the process (the pid a user
// sees in ps, kill, audit records); PID is the task the kernel reported,
// equal to TGID for the process's main thread. With Config.Threads unset
// (the default) events about threads other than the main one — thread
// creation (Fork with PID != TGID), thread ends (Exit with PID != TGID),
// and thread name or id changes — are dropped and counted in
// Stats.Threads, so a Fork is a new process and an Exit the end of its
// main thread (for exit_group, the usual way a process ends, the whole
// process; its Status is the process's). A main thread that ends alone
// (pthread_exit) while other threads run gives its Exit then, and the end
// of the last thread is a thread event. With Config.Threads set thread
// events are delivered with Thread true.
type Event struct {
	Kind Kind
	// CPU the event was reported on.
	CPU uint32
	// Mono is the kernel's timestamp (CLOCK_MONOTONIC, since boot); Time
	// is it as wall-clock time (boot time estimated at Open).
	Mono time.Duration
	Time time.Time

	// PID is the task (thread id), TGID its process.
	PID, TGID int32
	// Thread is set for an event about a task that is not its process's
	// main thread (only with Config.Threads).
	Thread bool

	// ParentPID and ParentTGID: for Fork, the parent task and process
	// (ParentTGID is the new process's ppid); for Exit and Coredump,
	// the parent the kernel names (kernel 4.18 and later; 0 before).
	ParentPID, ParentTGID int32

	// Status is the task's exit status (Exit) as a wait status:
	// Status.Exited() and Status.ExitStatus() for exit(N),
	// Status.Signaled(), Status.Signal() and Status.CoreDump() for a
	// death by signal.
	Status syscall.WaitStatus
	// ExitSignal is the signal the parent is sent at the exit (SIGCHLD
	// for most processes, -1 for threads).
	ExitSignal int32

	// RealID and EffectiveID are the new real and effective uid (UID)
	// or gid (GID).
	RealID, EffectiveID uint32
	// TracerPID and TracerTGID are the tracer (Ptrace; 0 for a detach).
	TracerPID, TracerTGID int32
	// Name is the task's new name (Comm).
	Name []byte

	// Proc is what was read from /proc/<TGID> for an Exec with
	// Config.ReadProc.
	Proc Proc
}

// Proc is what was read from /proc/<tgid> right after an exec. Slices are
// valid until the next call of Next.
type Proc struct {
	// Read tells which parts were read; Missing which could not be (the
	// process had already exited or was reaped: a process living a few
	// milliseconds can be gone before its exec event is read).
	Read, Missing ProcParts
	// Truncated tells which parts were longer than their bound
	// (Config.MaxCmdline, Config.MaxCgroup) and are cut.
	Truncated ProcParts

	// From stat: the name (comm), the state letter ('R', 'S', 'Z' for an
	// exited process not yet reaped...), the parent's pid, and the start
	// time in clock ticks since boot (field 22), which with the pid
	// identifies the process.
	Comm      []byte
	State     byte
	PPID      int32
	StartTime uint64
	// UID is the real uid (from status).
	UID uint32
	// Exe is the program's path (readlink of exe; " (deleted)" appended
	// by the kernel when the file was removed).
	Exe []byte
	// Cmdline is the command line: arguments separated by NUL (the
	// trailing NUL removed).
	Cmdline []byte
	// Cgroup is the raw content of /proc/<pid>/cgroup.
	Cgroup []byte
}

// ProcParts is a set of parts of /proc/<pid>.
type ProcParts uint8

// The parts of /proc/<pid> read for an exec.
const (
	ProcStat    ProcParts = 1 << iota // stat: Comm, State, PPID, StartTime
	ProcStatus                        // status: UID
	ProcExe                           // exe: Exe
	ProcCmdline                       // cmdline: Cmdline (missing when empty: the process exited)
	ProcCgroup                        // cgroup: Cgroup

	ProcAll = ProcStat | ProcStatus | ProcExe | ProcCmdline | ProcCgroup
)

var partNames = [...]string{"stat", "status", "exe", "cmdline", "cgroup"}

// String lists the parts ("stat,exe"), "" for none.
func (p ProcParts) String() string {
	s := ""
	for i, n := range partNames {
		if p&(1<<i) != 0 {
			if s != "" {
				s += ","
			}
			s += n
		}
	}
	return s
}
