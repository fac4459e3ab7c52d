package enrich

import (
	"github.com/whokilledit/linuxaudit/parser"
)

// view is what the enricher extracted from one event, before rendering.
// Byte slices point into the event or into the view's own reused buffers.
type view struct {
	ev  *parser.Event
	sys *parser.Record

	arch     uint32
	archI    *archInfo
	archName string
	nr       int64
	syscall  string
	success  int8 // -1 unknown
	exit     int64
	hasExit  bool
	errno    string
	a        [4]uint64
	hasA     [4]bool

	pid, ppid int64
	uid       int64
	hasUID    bool
	comm, exe []byte
	cwd       []byte
	argv      []byte // PROCTITLE, NUL separated
	commBuf   []byte
	exeBuf    []byte
	cwdBuf    []byte
	argvBuf   []byte

	keyBuf []byte
	keys   [][2]int

	// kill family
	family    string // "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal"
	hasSig    bool
	sig       int64
	targetArg int64
	hasTarget bool
	scope     string
	objs      []*parser.Record

	paths   []*parser.Record
	cwdRec  *parser.Record
	execve  bool
	hasArgs bool // e.args holds the EXECVE arguments
	sockRec *parser.Record

	kind, category, action, outcome string
	file                            fileOp
}

func (e *Enricher) extract(ev *parser.Event, v *view) {
	*v = view{
		ev: ev, success: -1,
		commBuf: v.commBuf[:0], exeBuf: v.exeBuf[:0], cwdBuf: v.cwdBuf[:0], argvBuf: v.argvBuf[:0],
		keyBuf: v.keyBuf[:0], keys: v.keys[:0], objs: v.objs[:0], paths: v.paths[:0],
		file: fileOp{items: v.file.items[:0], buf: v.file.buf[:0]},
	}
	for i := range ev.Records {
		r := &ev.Records[i]
		switch r.Type {
		case parser.TypeSyscall:
			if v.sys == nil {
				v.sys = r
			}
		case parser.TypeObjPid:
			v.objs = append(v.objs, r)
		case parser.TypePath:
			v.paths = append(v.paths, r)
		case parser.TypeCwd:
			v.cwdRec = r
			if f, ok := r.Field("cwd"); ok {
				v.cwdBuf, _ = r.Untrusted(v.cwdBuf[:0], f)
				v.cwd = v.cwdBuf
			}
		case parser.TypeExecve:
			v.execve = true
		case parser.TypeSockaddr:
			v.sockRec = r
		case parser.TypeProctitle:
			if f, ok := r.Field("proctitle"); ok {
				v.argvBuf, _ = r.Untrusted(v.argvBuf[:0], f)
				for len(v.argvBuf) > 0 && v.argvBuf[len(v.argvBuf)-1] == 0 {
					v.argvBuf = v.argvBuf[:len(v.argvBuf)-1]
				}
				v.argv = v.argvBuf
			}
		}
		// Keys can be on SYSCALL or on standalone records (CONFIG_CHANGE).
		// (checked before looking: an EXECVE record can have thousands of
		// fields and no key)
		if len(v.keys) == 0 && (r.Type == parser.TypeSyscall || (v.sys == nil && r.Type != parser.TypeExecve && r.Type != parser.TypePath)) {
			if f, ok := r.Field("key"); ok && f.Depth == 0 {
				e.keysOf(v, r, f)
			}
		}
	}
	if v.sys == nil {
		// User-space records carry pid/uid at the top level.
		if len(ev.Records) > 0 {
			r := &ev.Records[0]
			v.pid, _ = fieldInt(r, "pid")
			if u, ok := fieldInt(r, "uid"); ok {
				v.uid, v.hasUID = u, true
			}
		}
		return
	}
	r := v.sys
	// One pass over the SYSCALL fields.
	for _, f := range r.Fields {
		k := r.Bytes(f.Key)
		if len(k) < 2 || f.Depth != 0 {
			continue
		}
		val := r.Bytes(f.Val)
		switch string(k) {
		case "arch":
			v.arch, v.archI = lookupArch(val)
			if v.archI != nil {
				v.archName = v.archI.name
			}
		case "syscall":
			v.nr, _ = parseInt(val)
		case "success":
			if string(val) == "yes" {
				v.success = 1
			} else if string(val) == "no" {
				v.success = 0
			}
		case "exit":
			if x, ok := parseInt(val); ok {
				v.exit, v.hasExit = x, true
				if x < 0 {
					v.errno = errnoName(-x)
				}
			}
		case "a0", "a1", "a2", "a3":
			n := k[1] - '0'
			v.a[n], v.hasA[n] = parseHex(val)
		case "pid":
			v.pid, _ = parseInt(val)
		case "ppid":
			v.ppid, _ = parseInt(val)
		case "uid":
			if u, ok := parseInt(val); ok {
				v.uid, v.hasUID = u, true
			}
		case "comm":
			v.commBuf, _ = r.Untrusted(v.commBuf[:0], f)
			v.comm = v.commBuf
		case "exe":
			v.exeBuf, _ = r.Untrusted(v.exeBuf[:0], f)
			v.exe = v.exeBuf
		}
	}
	v.syscall = v.archI.syscall(v.nr)
	e.signal(v)
}

// keysOf decodes the audit key(s): "(null)" is none, several keys are
// hex-encoded and separated by 0x01.
func (e *Enricher) keysOf(v *view, r *parser.Record, f parser.Field) {
	raw := r.Bytes(f.Val)
	if f.Kind == parser.Plain && (string(raw) == "(null)" || string(raw) == "?") {
		return
	}
	start := len(v.keyBuf)
	v.keyBuf, _ = r.Untrusted(v.keyBuf, f)
	s := start
	for i := start; i <= len(v.keyBuf); i++ {
		if i == len(v.keyBuf) || v.keyBuf[i] == 0x01 {
			if i > s {
				v.keys = append(v.keys, [2]int{s, i})
			}
			s = i + 1
		}
	}
}

// signal decodes the kill family: which argument holds the signal and the
// target, and what the target pid means.
func (e *Enricher) signal(v *view) {
	sigArg, tgtArg := -1, -1
	switch v.syscall {
	case "kill":
		v.family, sigArg, tgtArg = "kill", 1, 0
	case "tkill":
		v.family, sigArg, tgtArg = "tkill", 1, 0
	case "tgkill":
		v.family, sigArg, tgtArg = "tgkill", 2, 0
	case "rt_sigqueueinfo":
		v.family, sigArg, tgtArg = "rt_sigqueueinfo", 1, 0
	case "rt_tgsigqueueinfo":
		v.family, sigArg, tgtArg = "rt_tgsigqueueinfo", 2, 0
	case "pidfd_send_signal":
		v.family, sigArg = "pidfd_send_signal", 1
	default:
		return
	}
	if v.hasA[sigArg] {
		v.sig, v.hasSig = int64(int32(uint32(v.a[sigArg]))), true
	}
	if tgtArg >= 0 && v.hasA[tgtArg] {
		// pid_t is 32 bits: a 64-bit register holding -1 is ffffffffffffffff.
		v.targetArg, v.hasTarget = int64(int32(uint32(v.a[tgtArg]))), true
	}
	switch {
	case v.family == "pidfd_send_signal":
		v.scope = "pidfd"
	case v.family == "tkill" || v.family == "tgkill" || v.family == "rt_tgsigqueueinfo":
		v.scope = "thread"
	case !v.hasTarget:
	case v.targetArg > 0:
		v.scope = "process"
	case v.targetArg == 0:
		v.scope = "caller_group"
	case v.targetArg == -1:
		v.scope = "all"
	default:
		v.scope = "process_group"
	}
}

// staleTitle reports a PROCTITLE that cannot be the current program's:
// its argv[0] names neither the comm nor the exe (a command line cached
// by the kernel before an execve). Interpreters pass: "bash x.sh" has
// argv[0] bash = exe's base name.
func (v *view) staleTitle() bool {
	if len(v.argv) == 0 || v.execve || (len(v.comm) == 0 && len(v.exe) == 0) {
		return false
	}
	a0 := v.argv
	if i := indexByte(a0, 0); i >= 0 {
		a0 = a0[:i]
	}
	a0 = base(a0)
	comm := v.comm
	if len(a0) > 15 {
		a0 = a0[:15] // comm is at most 15 bytes
	}
	if string(a0) == string(comm) || (len(comm) == 15 && len(a0) >= 15 && string(a0[:15]) == string(comm)) {
		return false
	}
	eb := base(v.exe)
	full := base(v.argv[:max(indexByte(v.argv, 0), 0)])
	if indexByte(v.argv, 0) < 0 {
		full = base(v.argv)
	}
	return string(full) != string(eb)
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func base(b []byte) []byte {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '/' {
			return b[i+1:]
		}
	}
	return b
}
