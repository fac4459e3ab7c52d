//go:build linux

// Package kernel reads audit records straight from the kernel's audit
// netlink socket: multicast (read-only, beside auditd) or unicast (as the
// audit daemon), installing its own rules and removing them at Close.
package kernel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
	"github.com/whokilledit/linuxaudit/source"
	"github.com/whokilledit/linuxaudit/source/rules"
)

// Config configures the kernel audit netlink source.
type Config struct {
	// Mode is "multicast" (read-only, beside a running auditd: the
	// AUDIT_NLGRP_READLOG group), "unicast" (become the audit daemon) or
	// "auto" (or ""): multicast when an audit daemon pid is registered and
	// alive, else unicast.
	Mode string
	// Rules in auditctl syntax ("-a always,exit -F arch=b64 -S kill -k
	// kill"), installed at start and removed at Close. Rules the kernel
	// already has are left alone (and reported through OnNotice).
	Rules []string
	// RulesFile holds more rules, one per line, # comments, blank lines.
	RulesFile string
	// KillRules installs the built-in kill-monitoring rules (rules.KillSet).
	KillRules bool
	// BacklogLimit, RateLimit, BacklogWaitTime are set in the kernel when
	// non-nil (and not restored at Close).
	BacklogLimit, RateLimit, BacklogWaitTime *uint32
	// RcvBuf is the socket receive buffer in bytes (default 8 MiB, forced
	// past rmem_max as root).
	RcvBuf int
	// LostPoll is how often the kernel's lost counter is read (default 1s).
	LostPoll time.Duration
	// Log receives what the user should know (nil: nothing is logged); it
	// may be called from another goroutine than Next's.
	Log *slog.Logger
	// OnLost is called (from the polling goroutine) when the kernel's lost
	// counter rose: delta since the last poll, total rise since start.
	OnLost func(delta uint64, total uint64)
}

// Stats are the counters of a Source.
type Stats struct {
	Messages   uint64 // audit messages returned by Next
	Bytes      uint64 // their payload bytes
	ENOBUFS    uint64 // socket overflows (messages dropped by our socket)
	KernelLost uint64 // rise of the kernel's lost counter since start
	RulesAdded uint64 // rules we added (including the self-exclusion rule)
	Truncated  uint64 // messages longer than the read buffer, delivered cut
	Mode       string // "multicast" or "unicast"
}

// Source is an open kernel audit source.
type Source struct {
	cfg  Config
	log  *slog.Logger
	mode string
	rx   *nlSock
	ctl  *libaudit.AuditClient

	ctlMu          sync.Mutex // serialises use of ctl
	added          [][]byte   // wire formats of the rules we added, in order
	addedText      []string
	registered     bool // unicast: we set the audit pid
	restoreEnabled bool // unicast: enabled was 0, we set it to 1

	pending []nlMsg // events read while waiting for the SetPID ack
	buf     []byte

	messages, bytes, enobufs, lost, truncated atomic.Uint64

	closed    atomic.Bool
	stop      chan struct{}
	pollDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// The accepted values of Config.Mode.
const (
	ModeAuto      = "auto"
	ModeMulticast = "multicast"
	ModeUnicast   = "unicast"
)

const (
	defaultRcvBuf = 8 << 20
	ctlTimeout    = 2 * time.Second
	readBuf       = 64 << 10

	auditSet     = 1001 // AUDIT_SET
	auditAddRule = 1011 // AUDIT_ADD_RULE
	auditDelRule = 1012 // AUDIT_DEL_RULE
	auditReplace = 1329 // AUDIT_REPLACE: kernel asking if the daemon is alive
)

func (n *Source) notice(level slog.Level, format string, args ...any) {
	n.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
}

// alive tells whether pid is a live process.
func alive(pid uint32) bool {
	if pid == 0 {
		return false
	}
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// procName names a process for messages ("1234 (auditd)").
func procName(pid uint32) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/comm")
	if err != nil {
		return strconv.Itoa(int(pid))
	}
	return fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(b)))
}

// Open checks and parses the configuration and rules, opens the
// socket, applies the kernel settings, installs the self-exclusion rule
// (-A never,exit -F pid=<our pid>) and the configured rules and, in unicast
// mode, enables audit if needed and registers as the audit daemon. On error
// everything done so far is undone.
func Open(cfg Config) (*Source, error) {
	mode := cfg.Mode
	if mode == "" {
		mode = ModeAuto
	}
	switch mode {
	case ModeAuto, ModeMulticast, ModeUnicast:
	default:
		return nil, fmt.Errorf("netlink mode %q: accepted values are multicast, unicast, auto", cfg.Mode)
	}
	if cfg.RcvBuf <= 0 {
		cfg.RcvBuf = defaultRcvBuf
	}
	if cfg.LostPoll <= 0 {
		cfg.LostPoll = time.Second
	}

	// Every rule is parsed before anything touches the kernel. Each is
	// installed with a marker key naming this process, so that rules left
	// by a collector that was killed can be told apart and removed by the
	// next one; plain is the rule as given, to recognise one the kernel
	// already has.
	self := rules.SelfExclude(os.Getpid())
	texts := []string{self}
	texts = append(texts, cfg.Rules...)
	if cfg.RulesFile != "" {
		fr, err := rules.ReadFile(cfg.RulesFile)
		if err != nil {
			return nil, err
		}
		texts = append(texts, fr...)
	}
	if cfg.KillRules {
		texts = append(texts, rules.KillSet()...)
	}
	marker := rules.Marker(pidNamespace(), os.Getpid(), startTime(os.Getpid()))
	wires := make([][]byte, len(texts))
	plain := make([][]byte, len(texts))
	for i, t := range texts {
		w, err := rules.Build(t)
		if err != nil {
			return nil, err
		}
		plain[i] = unprepended(w)
		if wires[i], err = rules.Build(t + " -k " + marker); err != nil {
			return nil, err
		}
	}

	n := &Source{cfg: cfg, log: cfg.Log, stop: make(chan struct{}), pollDone: make(chan struct{})}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	ctl, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return nil, fmt.Errorf("audit netlink: %w", err)
	}
	n.ctl = ctl
	fail := func(err error) (*Source, error) {
		close(n.pollDone) // no poller yet
		n.Close()
		return nil, err
	}
	st, err := ctl.GetStatus()
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			err = fmt.Errorf("%w (needs root or CAP_AUDIT_CONTROL)", err)
		}
		return fail(fmt.Errorf("audit status: %w", err))
	}
	if st.Enabled == 2 {
		return fail(errors.New("audit configuration is locked (enabled 2, auditctl -e 2): rules and settings cannot change until reboot"))
	}
	daemon := st.PID != 0 && alive(st.PID)
	if mode == ModeAuto {
		if daemon {
			mode = ModeMulticast
		} else {
			mode = ModeUnicast
		}
	}
	n.mode = mode
	if mode == ModeUnicast && daemon {
		if int(st.PID) == os.Getpid() {
			return fail(errors.New("unicast: this process is already registered as the audit daemon"))
		}
		return fail(fmt.Errorf("unicast: another audit daemon is registered with the kernel: pid %s; stop it or use mode multicast", procName(st.PID)))
	}
	if mode == ModeMulticast && st.Enabled == 0 {
		n.notice(slog.LevelWarn, "audit is disabled (enabled 0): no events until something runs auditctl -e 1")
	}

	var groups uint32
	if mode == ModeMulticast {
		groups = libaudit.NetlinkGroupReadLog
	}
	if n.rx, err = newNLSock(groups, cfg.RcvBuf); err != nil {
		return fail(err)
	}
	if n.rx.rcvbuf < cfg.RcvBuf {
		n.notice(slog.LevelWarn, "netlink receive buffer is %d bytes, %d asked", n.rx.rcvbuf, cfg.RcvBuf)
	}

	if cfg.BacklogLimit != nil {
		if err := ctl.SetBacklogLimit(*cfg.BacklogLimit, libaudit.WaitForReply); err != nil {
			return fail(fmt.Errorf("audit backlog limit %d: %w", *cfg.BacklogLimit, err))
		}
	}
	if cfg.RateLimit != nil {
		if err := ctl.SetRateLimit(*cfg.RateLimit, libaudit.WaitForReply); err != nil {
			return fail(fmt.Errorf("audit rate limit %d: %w", *cfg.RateLimit, err))
		}
	}
	if cfg.BacklogWaitTime != nil {
		if err := ctl.SetBacklogWaitTime(int32(*cfg.BacklogWaitTime), libaudit.WaitForReply); err != nil {
			return fail(fmt.Errorf("audit backlog wait time %d: %w", *cfg.BacklogWaitTime, err))
		}
	}

	existing, err := ctl.GetRules()
	if err != nil {
		return fail(fmt.Errorf("listing audit rules: %w", err))
	}
	existing = n.removeLeftovers(existing)
	for i, w := range wires {
		// The kernel stores a rule without AUDIT_FILTER_PREPEND and finds
		// no duplicate for a -A rule: compare with its list ourselves, and
		// delete with the flag cleared.
		del := unprepended(w)
		var err error
		for _, e := range existing {
			if bytes.Equal(e, plain[i]) || bytes.Equal(e, del) {
				err = syscall.EEXIST
			}
		}
		if err == nil {
			err = n.ctlAck(auditAddRule, w)
		}
		switch {
		case err == nil:
			n.added = append(n.added, del)
			n.addedText = append(n.addedText, texts[i])
			n.notice(slog.LevelDebug, "audit rule added: %s", texts[i])
		case errors.Is(err, syscall.EEXIST):
			n.notice(slog.LevelInfo, "audit rule already present, left as is (not removed at close): %s", texts[i])
		default:
			return fail(fmt.Errorf("adding audit rule %q: %w", texts[i], err))
		}
	}

	if mode == ModeUnicast {
		if st.Enabled == 0 {
			if err := ctl.SetEnabled(true, libaudit.WaitForReply); err != nil {
				return fail(fmt.Errorf("enabling audit: %w", err))
			}
			n.restoreEnabled = true
		}
		s := libaudit.AuditStatus{Mask: libaudit.AuditStatusPID, PID: uint32(os.Getpid())}
		if err := n.rx.request(auditSet, statusBytes(&s), ctlTimeout, &n.pending); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				if cur, e2 := ctl.GetStatus(); e2 == nil && cur.PID != 0 {
					err = fmt.Errorf("another audit daemon registered meanwhile: pid %s", procName(cur.PID))
				}
			}
			return fail(fmt.Errorf("unicast: registering as the audit daemon: %w", err))
		}
		n.registered = true
	}

	// Baseline for the lost counter, after our own setup.
	base := st.Lost
	if cur, err := ctl.GetStatus(); err == nil {
		base = cur.Lost
	}
	go n.pollLost(base)
	n.notice(slog.LevelInfo, "audit netlink source open: mode %s, %d rules added, receive buffer %d bytes", mode, len(n.added), n.rx.rcvbuf)
	return n, nil
}

// unprepended is a rule's wire format as the kernel stores it: without
// AUDIT_FILTER_PREPEND (-A).
func unprepended(w []byte) []byte {
	if binary.NativeEndian.Uint32(w[0:4])&rules.FilterPrepend == 0 {
		return w
	}
	d := append([]byte(nil), w...)
	binary.NativeEndian.PutUint32(d[0:4], binary.NativeEndian.Uint32(w[0:4])&^rules.FilterPrepend)
	return d
}

// removeLeftovers deletes the rules a collector installed (rules.Marker)
// and did not remove because it was killed or crashed: its process is
// gone, or its pid now belongs to another process. The exclusion rule of
// a dead collector matters most: a process that gets that pid later would
// not be audited at all. It returns the kernel's rules that remain.
func (n *Source) removeLeftovers(existing [][]byte) [][]byte {
	kept := existing[:0]
	removed := map[string]int{}
	for _, w := range existing {
		left := ""
		for _, k := range rules.Keys(w) {
			if ns, pid, start, ok := rules.ParseMarker(k); ok && ns == pidNamespace() && pid != os.Getpid() && startTime(pid) != start {
				left = k
			}
		}
		if left == "" {
			kept = append(kept, w)
			continue
		}
		if err := n.ctlAck(auditDelRule, w); err != nil {
			n.notice(slog.LevelWarn, "could not remove an audit rule left by a collector that is gone (%s): %v", left, err)
			kept = append(kept, w)
			continue
		}
		removed[left]++
	}
	for k, c := range removed {
		_, pid, _, _ := rules.ParseMarker(k)
		n.notice(slog.LevelWarn, "removed %d audit rules left by collector pid %d, which is gone (it was stopped without removing them; its exclusion rule would have kept pid %d out of the audit log)", c, pid, pid)
	}
	return kept
}

// pidNamespace is the inode of this process's pid namespace.
func pidNamespace() uint64 {
	var st syscall.Stat_t
	if syscall.Stat("/proc/self/ns/pid", &st) != nil {
		return 0
	}
	return st.Ino
}

// startTime is the start time of pid (field 22 of /proc/pid/stat, clock
// ticks after boot), 0 when there is no such process.
func startTime(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0
	}
	st, _ := strconv.ParseUint(f[19], 10, 64)
	return st
}

// statusBytes is the wire form of struct audit_status.
func statusBytes(s *libaudit.AuditStatus) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(s)), unsafe.Sizeof(*s))...)
}

// ctlAck sends a request on the control socket and waits for the kernel's
// acknowledgement, returning its errno (go-libaudit's DeleteRule ignores it,
// and its AddRule hides EEXIST in a string). Callers hold ctlMu or own n.
func (n *Source) ctlAck(typ uint16, data []byte) error {
	seq, err := n.ctl.Netlink.Send(syscall.NetlinkMessage{
		Header: syscall.NlMsghdr{Type: typ, Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_ACK},
		Data:   data,
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(ctlTimeout)
	for {
		msgs, err := n.ctl.Netlink.Receive(true, parseOne)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				if time.Now().After(deadline) {
					return fmt.Errorf("no answer from the kernel within %v", ctlTimeout)
				}
				time.Sleep(2 * time.Millisecond)
				continue
			}
			return err
		}
		m := msgs[0]
		if m.Header.Seq != seq || m.Header.Type != syscall.NLMSG_ERROR {
			continue
		}
		return libaudit.ParseNetlinkError(m.Data)
	}
}

func parseOne(b []byte) ([]syscall.NetlinkMessage, error) {
	if len(b) < nlHdrLen {
		return nil, syscall.EINVAL
	}
	var h syscall.NlMsghdr
	h.Len = binary.NativeEndian.Uint32(b[0:4])
	h.Type = binary.NativeEndian.Uint16(b[4:6])
	h.Flags = binary.NativeEndian.Uint16(b[6:8])
	h.Seq = binary.NativeEndian.Uint32(b[8:12])
	h.Pid = binary.NativeEndian.Uint32(b[12:16])
	return []syscall.NetlinkMessage{{Header: h, Data: b[nlHdrLen:]}}, nil
}

// pollLost reads the kernel status every LostPoll on the control socket and
// reports rises of the lost counter.
func (n *Source) pollLost(last uint32) {
	defer close(n.pollDone)
	t := time.NewTicker(n.cfg.LostPoll)
	defer t.Stop()
	failing, lostPid := false, false
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		n.ctlMu.Lock()
		st, err := n.ctl.GetStatus()
		n.ctlMu.Unlock()
		if err != nil {
			if !failing {
				n.notice(slog.LevelWarn, "audit status poll: %v", err)
			}
			failing = true
			continue
		}
		failing = false
		switch {
		case st.Lost > last:
			d := uint64(st.Lost - last)
			total := n.lost.Add(d)
			n.notice(slog.LevelWarn, "kernel audit lost %d events (%d since start; backlog %d of %d)", d, total, st.Backlog, st.BacklogLimit)
			if n.cfg.OnLost != nil {
				n.cfg.OnLost(d, total)
			}
		case st.Lost < last:
			n.notice(slog.LevelInfo, "kernel audit lost counter was reset (%d -> %d)", last, st.Lost)
		}
		last = st.Lost
		if n.mode == ModeUnicast && n.registered && int(st.PID) != os.Getpid() && !lostPid {
			lostPid = true
			n.notice(slog.LevelError, "the kernel no longer sends events to us: audit pid is %d", st.PID)
		}
	}
}

// Mode is the mode in use: "multicast" or "unicast".
func (n *Source) Mode() string { return n.mode }

// Next returns the next audit message (type and text,
// "audit(1695710251.567:366042): arch=..." without trailing NUL or
// newline; valid until the next call). After about 250 ms without one it
// returns source.ErrIdle; once ctx is done or Close is called, the
// context's error or os.ErrClosed. Socket overflows (ENOBUFS) are counted,
// logged, and reading goes on. Netlink control messages are not returned.
// Not for concurrent use.
func (n *Source) Next(ctx context.Context) (source.Msg, error) {
	for len(n.pending) > 0 {
		m := n.pending[0]
		n.pending = n.pending[1:]
		if msg, ok := n.deliver(m.typ, m.data); ok {
			return msg, nil
		}
	}
	if n.buf == nil {
		n.buf = make([]byte, readBuf)
	}
	deadline := time.Now().Add(idleAfter)
	n.rx.f.SetReadDeadline(deadline)
	for {
		if err := ctx.Err(); err != nil {
			return source.Msg{}, err
		}
		if n.closed.Load() {
			return source.Msg{}, os.ErrClosed
		}
		nr, fromKernel, err := n.rx.recv(n.buf)
		if n.closed.Load() {
			return source.Msg{}, os.ErrClosed
		}
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				return source.Msg{}, source.ErrIdle
			case errors.Is(err, syscall.ENOBUFS):
				c := n.enobufs.Add(1)
				if c == 1 || c&(c-1) == 0 { // 1st, 2nd, 4th, 8th...
					n.notice(slog.LevelWarn, "netlink receive buffer overflow: audit messages dropped (ENOBUFS, %d times so far)", c)
				}
				continue
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, os.ErrClosed):
				return source.Msg{}, os.ErrClosed
			}
			return source.Msg{}, fmt.Errorf("audit netlink receive: %w", err)
		}
		if !fromKernel || nr < nlHdrLen {
			continue
		}
		if nr > len(n.buf) {
			n.truncated.Add(1)
			nr = len(n.buf)
		}
		if msg, ok := n.deliver(binary.NativeEndian.Uint16(n.buf[4:6]), n.buf[nlHdrLen:nr]); ok {
			return msg, nil
		}
	}
}

// idleAfter is how long Next waits before reporting source.ErrIdle: the
// pipeline then hands the events read so far to the enricher, so it is
// the latency of a lone event (a kill, a crash) on a quiet system.
const idleAfter = 50 * time.Millisecond

func (n *Source) deliver(typ uint16, p []byte) (source.Msg, bool) {
	if typ < 1100 || typ == auditReplace {
		return source.Msg{}, false // netlink and audit control messages
	}
	p = bytes.TrimRight(p, "\x00\n")
	n.messages.Add(1)
	n.bytes.Add(uint64(len(p)))
	return source.Msg{Data: p, Type: typ, Pos: source.NoPos, End: source.NoPos}, true
}

// Stats returns the counters so far.
func (n *Source) Stats() Stats {
	return Stats{
		Messages:   n.messages.Load(),
		Bytes:      n.bytes.Load(),
		ENOBUFS:    n.enobufs.Load(),
		KernelLost: n.lost.Load(),
		RulesAdded: uint64(len(n.added)),
		Truncated:  n.truncated.Load(),
		Mode:       n.mode,
	}
}

// Close removes the rules we added, restores the enabled flag we changed,
// unregisters us as the audit daemon (unicast: the kernel's audit pid goes
// back to 0), closes the sockets and makes a blocked Next return. It does
// not wait for Next. Calling it again returns the first result.
func (n *Source) Close() error {
	n.closeOnce.Do(func() {
		n.closed.Store(true)
		close(n.stop)
		<-n.pollDone
		n.ctlMu.Lock()
		defer n.ctlMu.Unlock()
		var errs []error
		for i := len(n.added) - 1; i >= 0; i-- {
			err := n.ctlAck(auditDelRule, n.added[i])
			switch {
			case errors.Is(err, syscall.ENOENT):
				n.notice(slog.LevelWarn, "audit rule %q was already removed by someone else", n.addedText[i])
			case err != nil:
				errs = append(errs, fmt.Errorf("removing audit rule %q: %w", n.addedText[i], err))
			}
		}
		if n.restoreEnabled {
			if err := n.ctl.SetEnabled(false, libaudit.WaitForReply); err != nil {
				errs = append(errs, fmt.Errorf("restoring audit enabled 0: %w", err))
			}
		}
		if n.registered {
			s := libaudit.AuditStatus{Mask: libaudit.AuditStatusPID, PID: 0}
			if err := n.ctlAck(auditSet, statusBytes(&s)); err != nil {
				errs = append(errs, fmt.Errorf("unregistering as the audit daemon: %w", err))
			}
		}
		if n.rx != nil {
			n.rx.close()
		}
		if n.ctl != nil {
			n.ctl.Close()
		}
		n.closeErr = errors.Join(errs...)
		if n.closeErr != nil {
			n.notice(slog.LevelError, "%v", n.closeErr)
		}
	})
	return n.closeErr
}
