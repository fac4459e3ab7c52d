//go:build linux

// Package procevents reads process lifecycle events — fork, exec, exit,
// and uid, gid, session, ptrace, name and core-dump changes — from the
// kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC), with
// the pull shape of the other sources: Next(ctx) returns one Event at a
// time, source.ErrIdle when nothing came for a while.
//
// Exit events carry the exit status, so a process's death (exit code, or
// signal and core dump) is known even when no audit rule saw it; exec
// events, with Config.ReadProc, carry what /proc said about the new
// program at once (command line, exe, uid, parent, start time, cgroups),
// read before a short-lived process is gone.
//
// The connector reports processes with pids of the initial pid namespace
// and only to listeners in the initial user and pid namespaces. Listening
// needs CAP_NET_ADMIN on kernels before 6.6 (Open's error says so); later
// kernels let any user listen (seen on 6.18 as nobody).
package procevents

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/whokilledit/linuxaudit/source"
)

// Config configures a Source.
type Config struct {
	// Log receives what the user should know (nil: nothing is logged).
	Log *slog.Logger
	// RcvBuf is the socket receive buffer in bytes (default 16 MiB,
	// forced past net.core.rmem_max when we are allowed to).
	RcvBuf int
	// Kinds are the kinds of event wanted (0: all). On kernel 6.6 and
	// later the kernel sends only these; before, the others are read and
	// dropped here (Stats.Filtered).
	Kinds Kind
	// Threads delivers events about threads other than a process's main
	// one (see Event); by default they are dropped and counted.
	Threads bool
	// ReadProc reads /proc/<tgid> for every Exec into Event.Proc.
	ReadProc bool
	// ProcRoot is where proc is mounted (default /proc; for tests).
	ProcRoot string
	// MaxCmdline and MaxCgroup bound what is read of cmdline and cgroup
	// (default 4096 bytes each); longer ones are cut and marked in
	// Proc.Truncated.
	MaxCmdline, MaxCgroup int
}

// Stats are the counters of a Source.
type Stats struct {
	// Events returned by Next, by kind.
	Fork, Exec, Exit, UID, GID, SID, Ptrace, Comm, Coredump uint64
	// Other counts events of kinds this package does not know (dropped).
	Other uint64
	// Threads counts thread events dropped (Config.Threads unset).
	Threads uint64
	// Filtered counts events of kinds not in Config.Kinds (dropped; only
	// on kernels that cannot filter).
	Filtered uint64
	// ENOBUFS counts socket overflows: the kernel dropped events because
	// the receive buffer was full.
	ENOBUFS uint64
	// ProcReadFailed counts Exec events for which some part of /proc
	// could not be read (Proc.Missing not empty).
	ProcReadFailed uint64
	// Truncated counts datagrams longer than the read buffer (dropped).
	Truncated uint64
}

// Source is an open process events connector socket.
type Source struct {
	cfg  Config
	log  *slog.Logger
	sock *cnSock
	proc *procReader
	buf  []byte
	boot int64 // wall-clock ns at CLOCK_MONOTONIC 0

	subscribed bool

	counts                                            [10]atomic.Uint64 // by kindIndex
	threads, filtered, enobufs, procFailed, truncated atomic.Uint64
	closed                                            atomic.Bool
	closeOnce                                         sync.Once
	closeErr                                          error
}

const (
	defaultRcvBuf  = 16 << 20
	defaultMaxRead = 4096
	readBuf        = 4096
	ackTimeout     = time.Second
	// idleAfter is how long Next waits before reporting source.ErrIdle.
	idleAfter = 250 * time.Millisecond
)

// Open opens the connector socket, joins the process events group and
// subscribes (PROC_CN_MCAST_LISTEN), waiting up to a second for the
// kernel's acknowledgement (events read meanwhile are dropped); Close
// unsubscribes. With ReadProc it opens the proc root first.
func Open(cfg Config) (*Source, error) {
	if cfg.RcvBuf <= 0 {
		cfg.RcvBuf = defaultRcvBuf
	}
	if cfg.Kinds == 0 {
		cfg.Kinds = AllKinds
	}
	if cfg.Kinds&^AllKinds != 0 {
		return nil, fmt.Errorf("process events: unknown kinds %#x", uint32(cfg.Kinds&^AllKinds))
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.MaxCmdline <= 0 {
		cfg.MaxCmdline = defaultMaxRead
	}
	if cfg.MaxCgroup <= 0 {
		cfg.MaxCgroup = defaultMaxRead
	}
	s := &Source{cfg: cfg, log: cfg.Log, buf: make([]byte, readBuf)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if cfg.ReadProc {
		if s.proc, err = newProcReader(cfg.ProcRoot, cfg.MaxCmdline, cfg.MaxCgroup); err != nil {
			return nil, err
		}
	}
	if s.sock, err = newCnSock(cfg.RcvBuf); err != nil {
		s.Close()
		return nil, err
	}
	if s.sock.rcvbuf < cfg.RcvBuf {
		s.log.Warn(fmt.Sprintf("process events: receive buffer is %d bytes, %d asked", s.sock.rcvbuf, cfg.RcvBuf))
	}
	s.setBoot()
	if err := s.subscribe(); err != nil {
		s.Close()
		return nil, err
	}
	s.log.Info(fmt.Sprintf("process events source open: receive buffer %d bytes, kinds %#x, read /proc %v", s.sock.rcvbuf, uint32(cfg.Kinds), cfg.ReadProc))
	return s, nil
}

// subscribe sends PROC_CN_MCAST_LISTEN and waits for the kernel's ack,
// then, when not every kind is wanted, sends it again with the event
// filter (struct proc_input, kernel 6.6 and later; earlier kernels ignore
// that longer message). The filtered form cannot be acknowledged: the
// kernel passes its ack (kind 0) through the socket's filter, which drops
// it. A second LISTEN on the same socket is not counted twice by the
// kernel. Next filters by kind too.
func (s *Source) subscribe() error {
	seq := s.sock.portID ^ uint32(time.Now().UnixNano())
	if err := s.sock.control(mcastListen, 0, seq); err != nil {
		return fmt.Errorf("process events: subscribing: %w", err)
	}
	switch err := s.waitAck(seq); {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("process events: no acknowledgement from the kernel within %v (the connector answers only listeners in the initial user and pid namespaces: in a container?)", ackTimeout)
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("process events: subscribing: %w (needs CAP_NET_ADMIN in the initial user namespace)", err)
	default:
		return fmt.Errorf("process events: subscribing: %w", err)
	}
	s.subscribed = true
	if s.cfg.Kinds != AllKinds {
		if err := s.sock.control(mcastListen, s.cfg.Kinds, seq+1); err != nil {
			return fmt.Errorf("process events: setting the event filter: %w", err)
		}
	}
	return nil
}

// waitAck reads until the acknowledgement of the control message seq and
// returns its error; events read meanwhile are dropped. The kernel puts
// its own sequence number in the answer but our ack field plus one: that
// is what identifies it among the acknowledgements every listener gets.
func (s *Source) waitAck(seq uint32) error {
	s.sock.f.SetReadDeadline(time.Now().Add(ackTimeout))
	defer s.sock.f.SetReadDeadline(time.Time{})
	for {
		n, fromKernel, err := s.sock.recv(s.buf)
		if err != nil {
			if errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EINTR) {
				continue
			}
			return err
		}
		if !fromKernel || n < evOff+evHdrLen+4 || n > len(s.buf) {
			continue
		}
		b := s.buf[:n]
		cn := b[nlHdrLen:]
		if binary.NativeEndian.Uint32(cn[0:4]) != cnIdxProc || binary.NativeEndian.Uint32(cn[4:8]) != cnValProc {
			continue
		}
		if binary.NativeEndian.Uint32(b[evOff:]) != kindNone || binary.NativeEndian.Uint32(cn[12:16]) != seq+1 {
			continue
		}
		if e := binary.NativeEndian.Uint32(b[evOff+evHdrLen:]); e != 0 {
			return syscall.Errno(e)
		}
		return nil
	}
}

// setBoot estimates the wall-clock time of CLOCK_MONOTONIC zero.
func (s *Source) setBoot() {
	var ts syscall.Timespec
	now := time.Now().UnixNano()
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	s.boot = now - ts.Nano()
}

// Next returns the next event (valid until the next call). After about
// 250 ms without one it returns source.ErrIdle; once ctx is done or Close
// was called, the context's error or os.ErrClosed. Socket overflows
// (ENOBUFS: events the kernel could not queue) are counted, logged, and
// reading goes on. Not for concurrent use.
func (s *Source) Next(ctx context.Context) (Event, error) {
	s.sock.f.SetReadDeadline(time.Now().Add(idleAfter))
	for {
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
		if s.closed.Load() {
			return Event{}, os.ErrClosed
		}
		n, fromKernel, err := s.sock.recv(s.buf)
		if s.closed.Load() {
			return Event{}, os.ErrClosed
		}
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				s.setBoot()
				return Event{}, source.ErrIdle
			case errors.Is(err, syscall.ENOBUFS):
				c := s.enobufs.Add(1)
				if c&(c-1) == 0 { // 1st, 2nd, 4th, 8th...
					s.log.Warn(fmt.Sprintf("process events: receive buffer overflow: events dropped by the kernel (ENOBUFS, %d times so far)", c))
				}
				continue
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, os.ErrClosed):
				return Event{}, os.ErrClosed
			}
			return Event{}, fmt.Errorf("process events receive: %w", err)
		}
		if !fromKernel {
			continue
		}
		if n > len(s.buf) {
			s.truncated.Add(1)
			continue
		}
		var ev Event
		if !decode(s.buf[:n], &ev) {
			continue
		}
		if !s.keep(&ev) {
			continue
		}
		ev.Time = time.Unix(0, s.boot+int64(ev.Mono))
		if ev.Kind == Exec && s.proc != nil {
			s.proc.read(ev.TGID, &ev.Proc)
			if ev.Proc.Missing != 0 {
				s.procFailed.Add(1)
			}
		}
		return ev, nil
	}
}

// keep counts ev and tells whether Next returns it.
func (s *Source) keep(ev *Event) bool {
	if ev.Kind == kindNone {
		return false // acknowledgements (ours or another listener's)
	}
	i := kindIndex(ev.Kind)
	if i < 0 {
		s.counts[len(s.counts)-1].Add(1)
		return false
	}
	if ev.Kind&s.cfg.Kinds == 0 {
		s.filtered.Add(1)
		return false
	}
	if ev.Thread && !s.cfg.Threads {
		s.threads.Add(1)
		return false
	}
	s.counts[i].Add(1)
	return true
}

func kindIndex(k Kind) int {
	for i, e := range kindNames {
		if e.k == k {
			return i
		}
	}
	return -1
}

// decode reads one datagram (netlink header, cn_msg, proc_event) into
// ev; it is false for anything that is not a process event.
func decode(b []byte, ev *Event) bool {
	if len(b) < evOff+evHdrLen {
		return false
	}
	if binary.NativeEndian.Uint16(b[4:6]) != syscall.NLMSG_DONE {
		return false
	}
	cn := b[nlHdrLen:]
	if binary.NativeEndian.Uint32(cn[0:4]) != cnIdxProc || binary.NativeEndian.Uint32(cn[4:8]) != cnValProc {
		return false
	}
	l := int(binary.NativeEndian.Uint16(cn[16:18]))
	if l < evHdrLen || evOff+l > len(b) {
		return false
	}
	e := b[evOff : evOff+l]
	ev.Kind = Kind(binary.NativeEndian.Uint32(e[0:4]))
	ev.CPU = binary.NativeEndian.Uint32(e[4:8])
	ev.Mono = time.Duration(binary.NativeEndian.Uint64(e[8:16]))
	d := e[evHdrLen:]
	u32 := func(i int) uint32 {
		if 4*i+4 > len(d) {
			return 0
		}
		return binary.NativeEndian.Uint32(d[4*i:])
	}
	i32 := func(i int) int32 { return int32(u32(i)) }
	switch ev.Kind {
	case kindNone:
		return true
	case Fork:
		ev.ParentPID, ev.ParentTGID = i32(0), i32(1)
		ev.PID, ev.TGID = i32(2), i32(3)
	case Exit:
		ev.PID, ev.TGID = i32(0), i32(1)
		ev.Status = syscall.WaitStatus(u32(2))
		ev.ExitSignal = i32(3)
		ev.ParentPID, ev.ParentTGID = i32(4), i32(5)
	case UID, GID:
		ev.PID, ev.TGID = i32(0), i32(1)
		ev.RealID, ev.EffectiveID = u32(2), u32(3)
	case Ptrace:
		ev.PID, ev.TGID = i32(0), i32(1)
		ev.TracerPID, ev.TracerTGID = i32(2), i32(3)
	case Comm:
		ev.PID, ev.TGID = i32(0), i32(1)
		if len(d) > 8 {
			c := d[8:min(len(d), 8+16)]
			for j, x := range c {
				if x == 0 {
					c = c[:j]
					break
				}
			}
			ev.Name = c
		}
	case Coredump:
		ev.PID, ev.TGID = i32(0), i32(1)
		ev.ParentPID, ev.ParentTGID = i32(2), i32(3)
	default: // Exec, SID and unknown kinds start with pid, tgid
		ev.PID, ev.TGID = i32(0), i32(1)
	}
	ev.Thread = ev.PID != ev.TGID
	return true
}

// Stats returns the counters so far; safe to call from any goroutine.
func (s *Source) Stats() Stats {
	c := func(k Kind) uint64 { return s.counts[kindIndex(k)].Load() }
	return Stats{
		Fork: c(Fork), Exec: c(Exec), Exit: c(Exit), UID: c(UID), GID: c(GID),
		SID: c(SID), Ptrace: c(Ptrace), Comm: c(Comm), Coredump: c(Coredump),
		Other:          s.counts[len(s.counts)-1].Load(),
		Threads:        s.threads.Load(),
		Filtered:       s.filtered.Load(),
		ENOBUFS:        s.enobufs.Load(),
		ProcReadFailed: s.procFailed.Load(),
		Truncated:      s.truncated.Load(),
	}
}

// RcvBuf is the socket's effective receive buffer in bytes.
func (s *Source) RcvBuf() int { return s.sock.rcvbuf }

// Close unsubscribes (PROC_CN_MCAST_IGNORE: the kernel stops producing
// events when no listener is left), closes the socket and makes a blocked
// Next return os.ErrClosed. It does not wait for Next. Calling it again
// returns the first result.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		var errs []error
		if s.sock != nil {
			if s.subscribed {
				if err := s.sock.control(mcastIgnore, 0, 0); err != nil {
					errs = append(errs, fmt.Errorf("process events: unsubscribing: %w", err))
				}
			}
			if err := s.sock.close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.proc != nil {
			s.proc.close()
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
