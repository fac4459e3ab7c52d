//go:build linux

package procevents

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Wire constants of the process events connector (linux/connector.h,
// linux/cn_proc.h).
const (
	netlinkConnector = 11 // NETLINK_CONNECTOR
	cnIdxProc        = 1  // CN_IDX_PROC
	cnValProc        = 1  // CN_VAL_PROC

	mcastListen = 1 // PROC_CN_MCAST_LISTEN
	mcastIgnore = 2 // PROC_CN_MCAST_IGNORE

	nlHdrLen = syscall.NLMSG_HDRLEN // 16
	cnHdrLen = 20                   // struct cn_msg without data
	evOff    = nlHdrLen + cnHdrLen  // struct proc_event in a datagram
	evHdrLen = 16                   // what, cpu, timestamp_ns
)

// cnSock is a NETLINK_CONNECTOR socket bound to the process events group,
// driven by Go's poller: a blocked read returns when the socket is closed
// or its read deadline passes, and reading allocates nothing.
type cnSock struct {
	f      *os.File
	rc     syscall.RawConn
	portID uint32
	rcvbuf int

	// recv's state (one reader at a time)
	readFn func(fd uintptr) bool
	rbuf   []byte
	rn     int
	rerr   error
	rsa    syscall.RawSockaddrNetlink
}

func newCnSock(rcvbuf int) (*cnSock, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, netlinkConnector)
	if err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
			return nil, fmt.Errorf("process events: kernel without the netlink connector (CONFIG_CONNECTOR, CONFIG_PROC_EVENTS): %w", err)
		}
		return nil, fmt.Errorf("process events socket: %w", err)
	}
	if rcvbuf > 0 {
		if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf); err != nil {
			_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("process events: joining the connector's group: %w (needs CAP_NET_ADMIN)", err)
		}
		return nil, fmt.Errorf("process events bind: %w", err)
	}
	s := &cnSock{}
	s.readFn = s.doRead
	if sa, err := syscall.Getsockname(fd); err == nil {
		if nl, ok := sa.(*syscall.SockaddrNetlink); ok {
			s.portID = nl.Pid
		}
	}
	s.rcvbuf, _ = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	s.f = os.NewFile(uintptr(fd), "proc-connector")
	if s.rc, err = s.f.SyscallConn(); err != nil {
		s.f.Close()
		return nil, fmt.Errorf("process events socket: %w", err)
	}
	return s, nil
}

// control sends a multicast control message: op (listen or ignore) and,
// when filter is non-zero, the kernel 6.6 event filter (struct
// proc_input); seq, sent as the ack field, identifies the kernel's
// acknowledgement.
func (s *cnSock) control(op uint32, filter Kind, seq uint32) error {
	var b [nlHdrLen + cnHdrLen + 8]byte
	n := nlHdrLen + cnHdrLen + 4
	if filter != 0 {
		n += 4
		binary.NativeEndian.PutUint32(b[nlHdrLen+cnHdrLen+4:], uint32(filter))
	}
	binary.NativeEndian.PutUint32(b[0:4], uint32(n))
	binary.NativeEndian.PutUint16(b[4:6], syscall.NLMSG_DONE)
	binary.NativeEndian.PutUint32(b[8:12], seq)
	binary.NativeEndian.PutUint32(b[12:16], s.portID)
	c := b[nlHdrLen:]
	binary.NativeEndian.PutUint32(c[0:4], cnIdxProc)
	binary.NativeEndian.PutUint32(c[4:8], cnValProc)
	binary.NativeEndian.PutUint32(c[8:12], seq)
	binary.NativeEndian.PutUint32(c[12:16], seq) // ack: answered with ack+1
	binary.NativeEndian.PutUint16(c[16:18], uint16(n-nlHdrLen-cnHdrLen))
	binary.NativeEndian.PutUint32(c[cnHdrLen:], op)
	var opErr error
	err := s.rc.Write(func(fd uintptr) bool {
		opErr = syscall.Sendto(int(fd), b[:n], 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
		return opErr != syscall.EAGAIN
	})
	if err == nil {
		err = opErr
	}
	return err
}

// recv reads one datagram into buf, waiting for one. It returns its real
// length (above len(buf) when it was cut) and whether the kernel sent it.
// The function given to the poller is bound once (readFn) and its state
// lives in the socket: a closure would put its captured variables on the
// heap at every call.
func (s *cnSock) recv(buf []byte) (n int, fromKernel bool, err error) {
	s.rbuf, s.rn, s.rerr = buf, 0, nil
	err = s.rc.Read(s.readFn)
	if err == nil {
		err = s.rerr
	}
	s.rbuf = nil
	return s.rn, s.rsa.Pid == 0, err
}

func (s *cnSock) doRead(fd uintptr) bool {
	salen := uint32(unsafe.Sizeof(s.rsa))
	r, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)),
		uintptr(syscall.MSG_DONTWAIT|syscall.MSG_TRUNC), uintptr(unsafe.Pointer(&s.rsa)), uintptr(unsafe.Pointer(&salen)))
	if e == syscall.EAGAIN {
		return false
	}
	if e != 0 {
		s.rerr = e
	} else {
		s.rn = int(r)
	}
	return true
}

func (s *cnSock) close() error { return s.f.Close() }
