//go:build linux

package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// nlSock is an audit netlink socket driven by Go's poller: a blocked read
// returns as soon as the socket is closed, and the receive path allocates
// nothing per message.
type nlSock struct {
	f      *os.File
	rc     syscall.RawConn
	portID uint32
	seq    atomic.Uint32
	rcvbuf int // effective SO_RCVBUF after setup
}

const nlHdrLen = syscall.NLMSG_HDRLEN // 16

// newNLSock opens a NETLINK_AUDIT socket bound to groups (0 = unicast,
// 1 = AUDIT_NLGRP_READLOG) with a receive buffer of rcvbuf bytes
// (SO_RCVBUFFORCE, falling back to SO_RCVBUF capped by rmem_max).
func newNLSock(groups uint32, rcvbuf int) (*nlSock, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, syscall.NETLINK_AUDIT)
	if err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
			return nil, fmt.Errorf("audit netlink socket: kernel without audit support: %w", err)
		}
		return nil, fmt.Errorf("audit netlink socket: %w", err)
	}
	if rcvbuf > 0 {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf); err != nil {
			_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: groups}); err != nil {
		syscall.Close(fd)
		if groups != 0 && errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("audit netlink multicast bind: %w (needs CAP_AUDIT_READ)", err)
		}
		return nil, fmt.Errorf("audit netlink bind: %w", err)
	}
	s := &nlSock{}
	if sa, err := syscall.Getsockname(fd); err == nil {
		if nl, ok := sa.(*syscall.SockaddrNetlink); ok {
			s.portID = nl.Pid
		}
	}
	s.rcvbuf, _ = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	s.f = os.NewFile(uintptr(fd), "audit-netlink")
	if s.rc, err = s.f.SyscallConn(); err != nil {
		s.f.Close()
		return nil, fmt.Errorf("audit netlink socket: %w", err)
	}
	return s, nil
}

// send writes one netlink message to the kernel and returns its sequence
// number.
func (s *nlSock) send(typ uint16, flags uint16, data []byte) (uint32, error) {
	seq := s.seq.Add(1)
	b := make([]byte, nlHdrLen+len(data))
	binary.NativeEndian.PutUint32(b[0:4], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:6], typ)
	binary.NativeEndian.PutUint16(b[6:8], flags|syscall.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	binary.NativeEndian.PutUint32(b[12:16], s.portID)
	copy(b[nlHdrLen:], data)
	var opErr error
	err := s.rc.Write(func(fd uintptr) bool {
		opErr = syscall.Sendto(int(fd), b, syscall.MSG_DONTWAIT, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
		return opErr != syscall.EAGAIN
	})
	if err == nil {
		err = opErr
	}
	return seq, err
}

// recv reads one datagram into buf, waiting for one (until the socket is
// closed or the read deadline passes). It returns the byte count (the
// datagram's real length: a value above len(buf) means it was truncated)
// and whether the sender was the kernel.
func (s *nlSock) recv(buf []byte) (n int, fromKernel bool, err error) {
	var (
		opErr error
		sa    syscall.RawSockaddrNetlink
	)
	err = s.rc.Read(func(fd uintptr) bool {
		salen := uint32(unsafe.Sizeof(sa))
		var p unsafe.Pointer
		if len(buf) > 0 {
			p = unsafe.Pointer(&buf[0])
		}
		r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(p), uintptr(len(buf)),
			uintptr(syscall.MSG_DONTWAIT|syscall.MSG_TRUNC), uintptr(unsafe.Pointer(&sa)), uintptr(unsafe.Pointer(&salen)))
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 {
			opErr = e
		} else {
			n = int(r)
		}
		return true
	})
	if err == nil {
		err = opErr
	}
	return n, sa.Pid == 0, err
}

func (s *nlSock) close() error { return s.f.Close() }

// nlMsg is a message read while waiting for an acknowledgement.
type nlMsg struct {
	typ  uint16
	data []byte
}

// request sends typ/data asking for an acknowledgement and waits up to
// timeout for the matching NLMSG_ERROR; it returns the kernel's errno (nil
// for success). Audit events read meanwhile are appended to *pending.
// Only for use while no other goroutine reads the socket.
func (s *nlSock) request(typ uint16, data []byte, timeout time.Duration, pending *[]nlMsg) error {
	seq, err := s.send(typ, syscall.NLM_F_ACK, data)
	if err != nil {
		return err
	}
	if err := s.f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	defer s.f.SetReadDeadline(time.Time{})
	buf := make([]byte, 64<<10)
	for {
		n, fromKernel, err := s.recv(buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) || errors.Is(err, syscall.ENOBUFS) {
				continue
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return fmt.Errorf("no answer from the kernel within %v", timeout)
			}
			return err
		}
		if n > len(buf) {
			n = len(buf)
		}
		if !fromKernel || n < nlHdrLen {
			continue
		}
		mtyp := binary.NativeEndian.Uint16(buf[4:6])
		mseq := binary.NativeEndian.Uint32(buf[8:12])
		if mseq == seq && mtyp == syscall.NLMSG_ERROR {
			if n < nlHdrLen+4 {
				return errors.New("short netlink error message")
			}
			if e := int32(binary.NativeEndian.Uint32(buf[nlHdrLen:])); e != 0 {
				return syscall.Errno(-e)
			}
			return nil
		}
		if pending != nil && mseq == 0 {
			*pending = append(*pending, nlMsg{typ: mtyp, data: append([]byte(nil), buf[nlHdrLen:n]...)})
		}
	}
}
