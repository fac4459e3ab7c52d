//go:build linux

package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	libaudit "github.com/elastic/go-libaudit/v2"
)

// NetlinkConfig configures the kernel audit netlink source.
type NetlinkConfig struct {
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
	// KillRules installs the built-in kill-monitoring rules (RuleKillSet).
	KillRules bool
	// BacklogLimit, RateLimit, BacklogWaitTime are set in the kernel when
	// non-nil (and not restored at Close).
	BacklogLimit, RateLimit, BacklogWaitTime *uint32
	// RcvBuf is the socket receive buffer in bytes (default 8 MiB, forced
	// past rmem_max as root).
	RcvBuf int
	// LostPoll is how often the kernel's lost counter is read (default 1s).
	LostPoll time.Duration
	// OnNotice receives log lines: level 1 error, 2 warning, 3 info, 4 debug.
	// It may be called from another goroutine than Receive's.
	OnNotice func(level int, msg string)
	// OnLost is called (from the polling goroutine) when the kernel's lost
	// counter rose: delta since the last poll, total rise since start.
	OnLost func(delta uint64, total uint64)
}

// NetlinkStats are the counters of a Netlink source.
type NetlinkStats struct {
	Messages   uint64 // audit messages delivered to Receive's fn
	Bytes      uint64 // their payload bytes
	ENOBUFS    uint64 // socket overflows (messages dropped by our socket)
	KernelLost uint64 // rise of the kernel's lost counter since start
	RulesAdded uint64 // rules we added (including the self-exclusion rule)
	Truncated  uint64 // messages longer than the read buffer, delivered cut
	Mode       string // "multicast" or "unicast"
}

// Netlink notice levels.
const (
	NetlinkLevelError = 1
	NetlinkLevelWarn  = 2
	NetlinkLevelInfo  = 3
	NetlinkLevelDebug = 4
)

// Netlink is an open kernel audit source.
type Netlink struct {
	cfg  NetlinkConfig
	mode string
	rx   *nlSock
	ctl  *libaudit.AuditClient

	ctlMu          sync.Mutex // serialises use of ctl
	added          [][]byte   // wire formats of the rules we added, in order
	addedText      []string
	registered     bool // unicast: we set the audit pid
	restoreEnabled bool // unicast: enabled was 0, we set it to 1

	pending []nlMsg // events read while waiting for the SetPID ack

	messages, bytes, enobufs, lost, truncated atomic.Uint64

	closed    atomic.Bool
	stop      chan struct{}
	pollDone  chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// NetlinkModeAuto, NetlinkModeMulticast, NetlinkModeUnicast are the accepted
// values of NetlinkConfig.Mode.
const (
	NetlinkModeAuto      = "auto"
	NetlinkModeMulticast = "multicast"
	NetlinkModeUnicast   = "unicast"
)

const (
	netlinkDefaultRcvBuf = 8 << 20
	netlinkCtlTimeout    = 2 * time.Second
	netlinkReadBuf       = 64 << 10

	auditSet     = 1001 // AUDIT_SET
	auditAddRule = 1011 // AUDIT_ADD_RULE
	auditDelRule = 1012 // AUDIT_DEL_RULE
	auditReplace = 1329 // AUDIT_REPLACE: kernel asking if the daemon is alive
)

func (n *Netlink) notice(level int, format string, args ...any) {
	if n.cfg.OnNotice != nil {
		n.cfg.OnNotice(level, fmt.Sprintf(format, args...))
	}
}

// netlinkAlive tells whether pid is a live process.
func netlinkAlive(pid uint32) bool {
	if pid == 0 {
		return false
	}
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// netlinkComm names a process for messages ("1234 (auditd)").
func netlinkComm(pid uint32) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/comm")
	if err != nil {
		return strconv.Itoa(int(pid))
	}
	return fmt.Sprintf("%d (%s)", pid, strings.TrimSpace(string(b)))
}

// OpenNetlink checks and parses the configuration and rules, opens the
// socket, applies the kernel settings, installs the self-exclusion rule
// (-A never,exit -F pid=<our pid>) and the configured rules and, in unicast
// mode, enables audit if needed and registers as the audit daemon. On error
// everything done so far is undone.
func OpenNetlink(cfg NetlinkConfig) (*Netlink, error) {
	mode := cfg.Mode
	if mode == "" {
		mode = NetlinkModeAuto
	}
	switch mode {
	case NetlinkModeAuto, NetlinkModeMulticast, NetlinkModeUnicast:
	default:
		return nil, fmt.Errorf("netlink mode %q: accepted values are multicast, unicast, auto", cfg.Mode)
	}
	if cfg.RcvBuf <= 0 {
		cfg.RcvBuf = netlinkDefaultRcvBuf
	}
	if cfg.LostPoll <= 0 {
		cfg.LostPoll = time.Second
	}

	// Every rule is parsed before anything touches the kernel.
	self := RuleSelfExclude(os.Getpid())
	texts := []string{self}
	texts = append(texts, cfg.Rules...)
	if cfg.RulesFile != "" {
		fr, err := RuleReadFile(cfg.RulesFile)
		if err != nil {
			return nil, err
		}
		texts = append(texts, fr...)
	}
	if cfg.KillRules {
		texts = append(texts, RuleKillSet()...)
	}
	wires := make([][]byte, len(texts))
	for i, t := range texts {
		w, err := RuleBuild(t)
		if err != nil {
			return nil, err
		}
		wires[i] = w
	}

	n := &Netlink{cfg: cfg, stop: make(chan struct{}), pollDone: make(chan struct{})}
	ctl, err := libaudit.NewAuditClient(nil)
	if err != nil {
		return nil, fmt.Errorf("audit netlink: %w", err)
	}
	n.ctl = ctl
	fail := func(err error) (*Netlink, error) {
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
	daemon := st.PID != 0 && netlinkAlive(st.PID)
	if mode == NetlinkModeAuto {
		if daemon {
			mode = NetlinkModeMulticast
		} else {
			mode = NetlinkModeUnicast
		}
	}
	n.mode = mode
	if mode == NetlinkModeUnicast && daemon {
		if int(st.PID) == os.Getpid() {
			return fail(errors.New("unicast: this process is already registered as the audit daemon"))
		}
		return fail(fmt.Errorf("unicast: another audit daemon is registered with the kernel: pid %s; stop it or use mode multicast", netlinkComm(st.PID)))
	}
	if mode == NetlinkModeMulticast && st.Enabled == 0 {
		n.notice(NetlinkLevelWarn, "audit is disabled (enabled 0): no events until something runs auditctl -e 1")
	}

	var groups uint32
	if mode == NetlinkModeMulticast {
		groups = libaudit.NetlinkGroupReadLog
	}
	if n.rx, err = newNLSock(groups, cfg.RcvBuf); err != nil {
		return fail(err)
	}
	if n.rx.rcvbuf < cfg.RcvBuf {
		n.notice(NetlinkLevelWarn, "netlink receive buffer is %d bytes, %d asked", n.rx.rcvbuf, cfg.RcvBuf)
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

	var existing [][]byte // kernel rules, listed once if a -A rule needs it
	for i, w := range wires {
		// The kernel stores a rule without AUDIT_FILTER_PREPEND and finds
		// no duplicate for a -A rule: compare with its list ourselves, and
		// delete with the flag cleared.
		del := w
		var err error
		if binary.NativeEndian.Uint32(w[0:4])&auditFilterPrepend != 0 {
			del = append([]byte(nil), w...)
			binary.NativeEndian.PutUint32(del[0:4], binary.NativeEndian.Uint32(w[0:4])&^auditFilterPrepend)
			if existing == nil {
				if existing, err = ctl.GetRules(); err != nil {
					return fail(fmt.Errorf("listing audit rules: %w", err))
				}
				existing = append(existing, nil)
			}
			for _, e := range existing {
				if bytes.Equal(e, del) {
					err = syscall.EEXIST
				}
			}
		}
		if err == nil {
			err = n.ctlAck(auditAddRule, w)
		}
		switch {
		case err == nil:
			n.added = append(n.added, del)
			n.addedText = append(n.addedText, texts[i])
			n.notice(NetlinkLevelDebug, "audit rule added: %s", texts[i])
		case errors.Is(err, syscall.EEXIST):
			n.notice(NetlinkLevelInfo, "audit rule already present, left as is (not removed at close): %s", texts[i])
		default:
			return fail(fmt.Errorf("adding audit rule %q: %w", texts[i], err))
		}
	}

	if mode == NetlinkModeUnicast {
		if st.Enabled == 0 {
			if err := ctl.SetEnabled(true, libaudit.WaitForReply); err != nil {
				return fail(fmt.Errorf("enabling audit: %w", err))
			}
			n.restoreEnabled = true
		}
		s := libaudit.AuditStatus{Mask: libaudit.AuditStatusPID, PID: uint32(os.Getpid())}
		if err := n.rx.request(auditSet, netlinkStatusBytes(&s), netlinkCtlTimeout, &n.pending); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				if cur, e2 := ctl.GetStatus(); e2 == nil && cur.PID != 0 {
					err = fmt.Errorf("another audit daemon registered meanwhile: pid %s", netlinkComm(cur.PID))
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
	n.notice(NetlinkLevelInfo, "audit netlink source open: mode %s, %d rules added, receive buffer %d bytes", mode, len(n.added), n.rx.rcvbuf)
	return n, nil
}

// netlinkStatusBytes is the wire form of struct audit_status.
func netlinkStatusBytes(s *libaudit.AuditStatus) []byte {
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(s)), unsafe.Sizeof(*s))...)
}

// ctlAck sends a request on the control socket and waits for the kernel's
// acknowledgement, returning its errno (go-libaudit's DeleteRule ignores it,
// and its AddRule hides EEXIST in a string). Callers hold ctlMu or own n.
func (n *Netlink) ctlAck(typ uint16, data []byte) error {
	seq, err := n.ctl.Netlink.Send(syscall.NetlinkMessage{
		Header: syscall.NlMsghdr{Type: typ, Flags: syscall.NLM_F_REQUEST | syscall.NLM_F_ACK},
		Data:   data,
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(netlinkCtlTimeout)
	for {
		msgs, err := n.ctl.Netlink.Receive(true, netlinkParseOne)
		if err != nil {
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				if time.Now().After(deadline) {
					return fmt.Errorf("no answer from the kernel within %v", netlinkCtlTimeout)
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

func netlinkParseOne(b []byte) ([]syscall.NetlinkMessage, error) {
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
func (n *Netlink) pollLost(last uint32) {
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
				n.notice(NetlinkLevelWarn, "audit status poll: %v", err)
			}
			failing = true
			continue
		}
		failing = false
		switch {
		case st.Lost > last:
			d := uint64(st.Lost - last)
			total := n.lost.Add(d)
			n.notice(NetlinkLevelWarn, "kernel audit lost %d events (%d since start; backlog %d of %d)", d, total, st.Backlog, st.BacklogLimit)
			if n.cfg.OnLost != nil {
				n.cfg.OnLost(d, total)
			}
		case st.Lost < last:
			n.notice(NetlinkLevelInfo, "kernel audit lost counter was reset (%d -> %d)", last, st.Lost)
		}
		last = st.Lost
		if n.mode == NetlinkModeUnicast && n.registered && int(st.PID) != os.Getpid() && !lostPid {
			lostPid = true
			n.notice(NetlinkLevelError, "the kernel no longer sends events to us: audit pid is %d", st.PID)
		}
	}
}

// Mode is the mode in use: "multicast" or "unicast".
func (n *Netlink) Mode() string { return n.mode }

// Receive reads audit messages and calls fn for each with the message type
// and its text ("audit(1695710251.567:366042): arch=..." without trailing
// NUL or newline; only valid during the call). It returns nil once Close is
// called, or the first fatal read error. Socket overflows (ENOBUFS) are
// counted, reported through OnNotice, and reading goes on. Netlink control
// messages are not passed on. Not for concurrent use.
func (n *Netlink) Receive(fn func(typ uint16, payload []byte)) error {
	for _, m := range n.pending {
		n.deliver(fn, m.typ, m.data)
	}
	n.pending = nil
	buf := make([]byte, netlinkReadBuf)
	for {
		nr, fromKernel, err := n.rx.recv(buf)
		if n.closed.Load() {
			return nil
		}
		if err != nil {
			switch {
			case errors.Is(err, syscall.ENOBUFS):
				c := n.enobufs.Add(1)
				if c == 1 || c&(c-1) == 0 { // 1st, 2nd, 4th, 8th...
					n.notice(NetlinkLevelWarn, "netlink receive buffer overflow: audit messages dropped (ENOBUFS, %d times so far)", c)
				}
				continue
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, os.ErrClosed):
				return nil
			}
			return fmt.Errorf("audit netlink receive: %w", err)
		}
		if !fromKernel || nr < nlHdrLen {
			continue
		}
		if nr > len(buf) {
			n.truncated.Add(1)
			nr = len(buf)
		}
		n.deliver(fn, binary.NativeEndian.Uint16(buf[4:6]), buf[nlHdrLen:nr])
	}
}

func (n *Netlink) deliver(fn func(uint16, []byte), typ uint16, p []byte) {
	if typ < 1100 || typ == auditReplace {
		return // netlink and audit control messages
	}
	p = bytes.TrimRight(p, "\x00\n")
	n.messages.Add(1)
	n.bytes.Add(uint64(len(p)))
	fn(typ, p)
}

// Stats returns the counters so far.
func (n *Netlink) Stats() NetlinkStats {
	return NetlinkStats{
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
// back to 0), closes the sockets and makes a blocked Receive return nil.
// It does not wait for Receive. Calling it again returns the first result.
func (n *Netlink) Close() error {
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
				n.notice(NetlinkLevelWarn, "audit rule %q was already removed by someone else", n.addedText[i])
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
			if err := n.ctlAck(auditSet, netlinkStatusBytes(&s)); err != nil {
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
			n.notice(NetlinkLevelError, "%v", n.closeErr)
		}
	})
	return n.closeErr
}
