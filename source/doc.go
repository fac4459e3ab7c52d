// Package source is where audit records come from. Each kind of source is
// a package of its own with the same pull shape, Next(ctx) returning one
// Msg at a time:
//
//   - auditlog: audit log files, tailed (one file or a glob, auditd's
//     rename rotation and copytruncate, positions persisted for a restart
//     without loss or duplicates) or read once (the CLI);
//   - kernel: the kernel audit netlink socket (multicast beside auditd, or
//     unicast as the audit daemon, with its own rules);
//   - rules: audit rules in auditctl syntax, for the kernel source.
//
// Beside them, two kernel inputs with the same pull shape but their own
// event types (not Msg): procevents (process fork, exec and exit, with
// the exit status, from the kernel's process events connector) and kmsg
// (the kernel log, /dev/kmsg or saved dmesg and journal text, and the OOM
// killer's reports parsed from it).
//
// The pipeline owns the read loop: it calls Next, feeds the parser, and
// ticks when Next reports ErrIdle.
package source

import (
	"errors"

	"github.com/whokilledit/linuxaudit/parser"
)

// Msg is one record as a source hands it over. It is valid until the next
// call of the source's Next.
type Msg struct {
	// Data is a log line (without its newline), or the payload of a
	// netlink message ("audit(...): ...").
	Data []byte
	// Type is the netlink message type; 0 for a log line.
	Type uint16
	// Pos and End are the source positions of the line's first byte and
	// of the byte after it (NoPos when the source has none).
	Pos, End uint64
}

// NoPos is the position of a message from a source without positions.
const NoPos = parser.NoPos

// ErrIdle is returned by Next when nothing arrived for a while (a fraction
// of a second): the caller does its periodic work and calls Next again.
var ErrIdle = errors.New("source: no data for now")
