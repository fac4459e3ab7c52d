package parser

import (
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/auparse"
)

// Record types the correlator and the enricher treat specially.
const (
	TypeSyscall      = 1300
	TypePath         = 1302
	TypeConfigChange = 1305
	TypeSockaddr     = 1306
	TypeCwd          = 1307
	TypeExecve       = 1309
	TypeObjPid       = 1318
	TypeEOE          = 1320
	TypeBprmFcaps    = 1321
	TypeProctitle    = 1327
	TypeAnomAbend    = 1701
	// TypeUnparsed is no audit type: the record of a line the parser
	// could not read, kept whole (Correlator.Unparsed).
	TypeUnparsed = 0xffff
)

// typeNames maps record numbers to names (from go-libaudit's table of the
// kernel's and auditd's types); typeNumbers is the reverse.
var (
	typeNames = map[uint16]string{}
	// typeNameList is typeNames as an array for the common range.
	typeNameList [3000]string
	typeNumbers  = map[string]uint16{}
)

func init() {
	for n := 1000; n < 3000; n++ {
		name := auparse.AuditMessageType(n).String()
		// skip unknown numbers and the range markers (LAST_EVENT, FIRST_...)
		if strings.HasPrefix(name, "UNKNOWN[") || strings.Contains(name, "FIRST_") || strings.Contains(name, "LAST_") {
			continue
		}
		typeNames[uint16(n)] = name
		if n < len(typeNameList) {
			typeNameList[n] = name
		}
		typeNumbers[name] = uint16(n)
	}
}

// TypeName returns the canonical name of a record type; for unknown numbers
// it returns the name as written when there is one, otherwise UNKNOWN[n].
func TypeName(typ uint16, written []byte) string {
	if typ == TypeUnparsed {
		return "UNPARSED"
	}
	if int(typ) < len(typeNameList) {
		if name := typeNameList[typ]; name != "" {
			return name
		}
	} else if name, ok := typeNames[typ]; ok {
		return name
	}
	if len(written) > 0 && typ == 0 {
		return string(written)
	}
	return "UNKNOWN[" + strconv.Itoa(int(typ)) + "]"
}

// TypeNumber returns the number of a record type name; ok is false for names
// that are neither known, nor UNKNOWN[n], nor a decimal number.
func TypeNumber(name []byte) (uint16, bool) {
	// The record types of nearly every line, without hashing.
	switch string(name) {
	case "SYSCALL":
		return TypeSyscall, true
	case "PROCTITLE":
		return TypeProctitle, true
	case "PATH":
		return TypePath, true
	case "CWD":
		return TypeCwd, true
	case "EXECVE":
		return TypeExecve, true
	case "OBJ_PID":
		return TypeObjPid, true
	case "EOE":
		return TypeEOE, true
	}
	if n, ok := typeNumbers[string(name)]; ok {
		return n, true
	}
	if len(name) > 9 && string(name[:8]) == "UNKNOWN[" && name[len(name)-1] == ']' {
		name = name[8 : len(name)-1]
	}
	v, ok := atou(name, 65535)
	return uint16(v), ok
}

// Standalone reports whether records of this type always form an event of
// their own: user-space messages (USER 1005, 1100-1199, 2100-2999), auditd's
// own (1200-1299), the kernel's asynchronous KERNEL record (2000) and its
// crash report ANOM_ABEND (1701: written when a task dumps core, outside
// any syscall, with a serial of its own).
func Standalone(typ uint16) bool {
	return typ == 1005 || (typ >= 1100 && typ <= 1299) || typ == 2000 || typ == TypeAnomAbend || (typ >= 2100 && typ <= 2999)
}

// userSpace reports a record written by a user-space program (not the
// kernel): it is never part of a kernel event, even with the same serial.
func userSpace(typ uint16) bool {
	return typ == 1005 || (typ >= 1100 && typ <= 1299) || (typ >= 2100 && typ <= 2999)
}

// atou parses a non-empty decimal number no larger than max.
func atou(b []byte, max uint64) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
