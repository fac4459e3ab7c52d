package enrich

import (
	"strconv"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// archInfo is what we know of one AUDIT_ARCH_* value.
type archInfo struct {
	name     string
	syscalls []string // index = number
	bits32   bool
}

var arches = map[uint32]*archInfo{}

// syscallNames holds the syscall names of every architecture.
var syscallNames = map[string]bool{}

func knownSyscall(name string) bool { return syscallNames[name] }

func init() {
	for a, name := range auparse.AuditArchNames {
		info := &archInfo{name: name, bits32: uint32(a)&0x80000000 == 0}
		if t, ok := auparse.AuditSyscalls[name]; ok {
			max := 0
			for n := range t {
				if n > max && n < 4096 {
					max = n
				}
			}
			info.syscalls = make([]string, max+1)
			for n, s := range t {
				if n >= 0 && n <= max {
					info.syscalls[n] = s
				}
				syscallNames[s] = true
			}
		}
		arches[uint32(a)] = info
	}
	// arm64 kernels log 32-bit ARM callers with the arm table; armeb shares it.
	if arm, ok := arches[uint32(auparse.AUDIT_ARCH_ARM)]; ok {
		arches[uint32(auparse.AUDIT_ARCH_ARMEB)].syscalls = arm.syscalls
	}
}

// lookupArch parses the hex arch value of a SYSCALL record.
func lookupArch(hex []byte) (uint32, *archInfo) {
	v, ok := parseHex(hex)
	if !ok || v > 0xffffffff {
		return 0, nil
	}
	return uint32(v), arches[uint32(v)]
}

func (a *archInfo) syscall(n int64) string {
	if a == nil || n < 0 || n >= int64(len(a.syscalls)) {
		return ""
	}
	return a.syscalls[n]
}

// errnoName returns the POSIX name of a positive errno.
func errnoName(n int64) string {
	if n <= 0 || n > 4096 {
		return ""
	}
	return auparse.AuditErrnoToName[int(n)]
}

// signalNames are the Linux signal numbers on x86, arm, arm64, s390,
// powerpc and riscv (mips, alpha and sparc number some differently).
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

var rtNames [33]string

func init() {
	for i := range rtNames {
		rtNames[i] = "SIGRTMIN+" + strconv.Itoa(i)
	}
	rtNames[0] = "SIGRTMIN"
}

// signalName names a signal number; 0 is the existence/permission check.
func signalName(n int64) string {
	switch {
	case n == 0:
		return "0"
	case n > 0 && n < int64(len(signalNames)):
		return signalNames[n]
	case n >= 32 && n <= 64:
		return rtNames[n-32]
	}
	return ""
}

// signalNumber parses a signal given by name (SIGKILL, KILL, kill) or number.
func signalNumber(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= 64 {
		return n, true
	}
	u := []byte(s)
	for i, c := range u {
		if c >= 'a' && c <= 'z' {
			u[i] = c - 32
		}
	}
	name := string(u)
	if len(name) < 3 || name[:3] != "SIG" {
		name = "SIG" + name
	}
	for i := int64(1); i <= 64; i++ {
		if signalName(i) == name {
			return i, true
		}
	}
	return 0, false
}

// parseHex parses an unsigned hex number (no 0x prefix).
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// parseInt parses a signed decimal number.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<63)/10 {
			return 0, false // v*10 is past int64
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}
