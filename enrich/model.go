package enrich

import (
	"github.com/whokilledit/linuxaudit/parser"
)

// Model is one event, decoded once: what the writers (default schema, ECS,
// summary) put into a document. It is filled by the Enricher, reused from
// event to event, and valid until the next event: its byte slices point
// into the parser.Event or into the model's own arena.
type Model struct {
	Event *parser.Event

	Kind     Kind
	Category string // event.category of the default schema ("" none)
	Action   string
	Outcome  Outcome

	Keys [][]byte // audit keys, decoded

	// Syscall is set for events with a SYSCALL record.
	Syscall Syscall
	// Process is the caller: from the SYSCALL record, or from the first
	// record of a user-space event.
	Process Process
	// Parent and Ancestors are what the process table knows of the
	// caller's parent and its ancestors (nil, empty: unknown).
	Parent    *Proc
	Ancestors []Ancestor
	// Signal and Target: the kill family.
	Signal Signal
	Target Target
	// Exec: the EXECVE arguments (Valid when the event has them).
	Exec Exec
	// File: a file syscall (Kind == KindFile).
	File File
	// Msg: the first record of an event without SYSCALL (user space,
	// daemon, configuration).
	Msg Msg
	// Data: records not modelled above, decoded field by field.
	Data []DataRecord
	// Coalesced: the event as Auditbeat reads it (ECS schema only).
	Coalesced Coalesced

	fields   []DataField
	groups   []FieldGroup
	members  []int32
	of       []int32          // group of each field of the record being grouped
	keyIndex map[string]int32 // key -> group, for records with many fields
	text     []byte
	arena    arena
}

// ID is a user or group id with its name (from the log's enriched suffix,
// else this host's).
type ID struct {
	Set  bool
	N    int64
	Name []byte // empty when unknown
}

// The ids of a process, in the kernel's order.
const (
	IDAuid = iota
	IDUid
	IDGid
	IDEuid
	IDSuid
	IDFsuid
	IDEgid
	IDSgid
	IDFsgid
	numIDs
)

// idKeys: the record key, its name key in the default schema, the enriched
// suffix key, and whether it is a group, for each process id.
var idKeys = [numIDs]idField{
	IDAuid:  {"auid", "AUID", "auser", false},
	IDUid:   {"uid", "UID", "user", false},
	IDGid:   {"gid", "GID", "group", true},
	IDEuid:  {"euid", "EUID", "euser", false},
	IDSuid:  {"suid", "SUID", "suser", false},
	IDFsuid: {"fsuid", "FSUID", "fsuser", false},
	IDEgid:  {"egid", "EGID", "egroup", true},
	IDSgid:  {"sgid", "SGID", "sgroup", true},
	IDFsgid: {"fsgid", "FSGID", "fsgroup", true},
}

// Syscall is the SYSCALL record.
type Syscall struct {
	Valid    bool
	Arch     string // x86_64, i386 ... ("" unknown; ArchRaw has the value)
	ArchRaw  []byte
	Nr       int64
	Name     string // "" when the number is not known for the arch
	Success  int8   // -1 unknown, 0 no, 1 yes
	Exit     int64
	HasExit  bool
	Errno    string
	A        [4]uint64
	HasA     [4]bool
	Items    int64
	HasItems bool
	// Call is the call of a multiplexing syscall (i386 socketcall, ipc):
	// "bind" for socketcall(a0=2), as ausearch shows socketcall(bind).
	Call string
}

// Process is the caller of an event.
type Process struct {
	PID, PPID int64
	Comm, Exe []byte // nil when not logged
	Cwd       []byte
	// Title is the PROCTITLE command line (NUL separated); Argv is Title
	// or, without one, the process table's; TitleStale flags a Title the
	// kernel kept from before an execve.
	Title, Argv []byte
	TitleStale  bool
	IDs         [numIDs]ID
	TTY, Subj   []byte
	Ses         int64
	HasSes      bool
	// Known is the process table's entry for the caller (nil: unknown).
	Known *Proc
}

// Ancestor is one ancestor of the caller: its pid, and what the table
// knows of it (nil: nothing).
type Ancestor struct {
	PID  int64
	Proc *Proc
}

// Signal is the signal of a kill-family syscall.
type Signal struct {
	Has     bool
	Nr      int64
	Syscall string // the signal-sending syscall ("" when not one)
}

// Target is what a signal was sent to.
type Target struct {
	PidArg    int64 // the pid argument as the caller gave it (32 bits)
	HasPidArg bool
	Scope     Scope
	// ArgProc is the table's entry for PidArg when no OBJ_PID named the
	// target.
	ArgProc   *Proc
	Processes []TargetProc // one per OBJ_PID record
}

// TargetProc is one process a signal reached (an OBJ_PID record).
type TargetProc struct {
	PID       int64
	Comm      []byte
	HasComm   bool
	UID, AUID ID
	Ses       int64
	HasSes    bool
	Obj       []byte
	Known     *Proc
}

// Exec holds the arguments of an exec, from every EXECVE record.
type Exec struct {
	Valid bool
	Args  *parser.Args
}

// Msg is the first record of an event without a SYSCALL.
type Msg struct {
	Type                           uint16
	TypeName                       string
	Exe                            []byte
	HasExe                         bool
	UID                            ID
	Op, Acct, Res, Cmd             []byte
	HasOp, HasAcct, HasRes, HasCmd bool
}

// DataRecord is one record decoded field by field.
type DataRecord struct {
	Type  uint16
	Name  string // lower-case type name: the key under data
	Other bool   // not modelled elsewhere: written under data
	// Outcome: its res= is the event's event.outcome (the first record of
	// a user-space event).
	Outcome bool
	Socket  Socket // SOCKADDR
	Fields  []DataField
	// Groups are the record's keys in the order they first appear, each
	// with the fields that have it: a key a record repeats is one group of
	// several (written as an array), so no document has a key twice.
	Groups []FieldGroup
}

// FieldKind says how a DataField is written.
type FieldKind uint8

const (
	FieldString FieldKind = iota
	FieldInt
)

// DataField is one decoded field of a DataRecord: a number or a string
// under Key. An id is a number, and its name a field of its own (Derived)
// after it; free text (the words of a record without key=) is one field
// "text".
type DataField struct {
	Key     string
	Kind    FieldKind
	Num     int64
	Str     []byte
	Derived bool // made by us (an id's name), not in the record
}

// FieldGroup is one key of a DataRecord and its fields (indices into
// Fields, in record order).
type FieldGroup struct {
	Key     string
	Members []int32

	own      bool // a member is the record's own (not Derived)
	start, n int32
}

// Socket is a decoded SOCKADDR saddr.
type Socket struct {
	Valid    bool
	Family   uint16
	Addr     string // inet, inet6
	Port     int64
	Path     []byte // local
	Abstract bool
	NlPid    int64
	NlGroups int64
}

// arena holds the model's decoded bytes in chunks that never move, so a
// slice handed out stays valid until reset (unlike appending to one
// buffer). Chunks are kept from event to event.
type arena struct {
	chunks [][]byte
	cur    int
}

const arenaChunk = 64 << 10

func (a *arena) reset() {
	for i := range a.chunks[:min(a.cur+1, len(a.chunks))] {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

// room returns an empty slice with capacity for n bytes; fill it with
// appends of at most n bytes, then call keep with the result.
func (a *arena) room(n int) []byte {
	for {
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, 0, max(arenaChunk, n)))
		}
		c := a.chunks[a.cur]
		if cap(c)-len(c) >= n {
			return c[len(c):len(c)]
		}
		if len(c) == 0 { // too small even empty: replace it
			a.chunks[a.cur] = make([]byte, 0, max(arenaChunk, n))
			continue
		}
		a.cur++
	}
}

// keep marks b (filled from room) as used and returns it.
func (a *arena) keep(b []byte) []byte {
	c := a.chunks[a.cur]
	a.chunks[a.cur] = c[:len(c)+len(b)]
	return b[:len(b):len(b)]
}

// copy returns a stable copy of b.
func (a *arena) copy(b []byte) []byte {
	return a.keep(append(a.room(len(b)), b...))
}

// str returns a stable copy of s.
func (a *arena) str(s string) []byte {
	return a.keep(append(a.room(len(s)), s...))
}

// untrusted returns the decoded value of an untrusted string field (see
// parser.Record.Untrusted), stable until reset.
func (a *arena) untrusted(r *parser.Record, f parser.Field) []byte {
	out, _ := r.Untrusted(a.room(int(f.Val.Len)), f)
	return a.keep(out)
}
