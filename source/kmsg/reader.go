//go:build linux

package kmsg

import (
	"context"
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

// Config configures a Reader.
type Config struct {
	// Path is the kernel log device (default /dev/kmsg).
	Path string
	// FromStart reads the records still in the kernel's buffer first;
	// by default only records logged after Open are read.
	FromStart bool
	// Log receives what the user should know (nil: nothing is logged).
	Log *slog.Logger
}

// Stats are the counters of a Reader.
type Stats struct {
	Records     uint64 // records returned by Next
	Overwritten uint64 // times the kernel overwrote records before we read them (EPIPE)
	Lost        uint64 // records skipped, from gaps in sequence numbers
	Malformed   uint64 // records that did not parse (dropped)
}

// Reader reads /dev/kmsg, one record per read, through Go's poller.
type Reader struct {
	cfg  Config
	log  *slog.Logger
	f    *os.File
	rc   syscall.RawConn
	buf  []byte
	dict [][]byte
	boot time.Time
	last uint64 // sequence number of the last record, +1 (0: none yet)

	readFn func(fd uintptr) bool
	rn     int
	rerr   error

	records, overwritten, lost, malformed atomic.Uint64
	closed                                atomic.Bool
	closeOnce                             sync.Once
	closeErr                              error
}

const (
	// readBuf holds any record (the kernel's limit is 8 KiB with its
	// continuation lines; a smaller buffer makes read fail with EINVAL).
	readBuf = 16 << 10
	// idleAfter is how long Next waits before reporting source.ErrIdle.
	idleAfter = 250 * time.Millisecond
)

// Open opens the kernel log device, at its end unless cfg.FromStart.
// Reading it needs root or CAP_SYSLOG when kernel.dmesg_restrict is 1;
// the error says so, and says when the device does not exist (a
// container without it).
func Open(cfg Config) (*Reader, error) {
	if cfg.Path == "" {
		cfg.Path = "/dev/kmsg"
	}
	r := &Reader{cfg: cfg, log: cfg.Log, buf: make([]byte, readBuf)}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	fd, err := syscall.Open(cfg.Path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES):
			return nil, fmt.Errorf("kernel log %s: %w (reading it needs root or CAP_SYSLOG when kernel.dmesg_restrict=1)", cfg.Path, err)
		case errors.Is(err, syscall.ENOENT):
			return nil, fmt.Errorf("kernel log %s: %w (a container without the host's /dev/kmsg?)", cfg.Path, err)
		}
		return nil, fmt.Errorf("kernel log %s: %w", cfg.Path, err)
	}
	whence := 2 // SEEK_END: after the last record
	if cfg.FromStart {
		whence = 0
	}
	if _, err := syscall.Seek(fd, 0, whence); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("kernel log %s: seek: %w (not a kernel log device?)", cfg.Path, err)
	}
	r.f = os.NewFile(uintptr(fd), cfg.Path)
	if err := r.f.SetReadDeadline(time.Time{}); err != nil {
		r.f.Close()
		return nil, fmt.Errorf("kernel log %s: cannot wait for records on it: %w", cfg.Path, err)
	}
	if r.rc, err = r.f.SyscallConn(); err != nil {
		r.f.Close()
		return nil, fmt.Errorf("kernel log %s: %w", cfg.Path, err)
	}
	r.readFn = r.doRead
	r.setBoot()
	return r, nil
}

// setBoot estimates the wall-clock time of the kernel's printk clock
// zero (CLOCK_MONOTONIC: neither counts time suspended).
func (r *Reader) setBoot() {
	var ts syscall.Timespec
	now := time.Now()
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	r.boot = time.Unix(0, now.UnixNano()-ts.Nano())
}

// Boot is the estimated wall-clock boot time used for Record.Time (and
// usable as LogOptions.Boot for this boot's dmesg output).
func (r *Reader) Boot() time.Time { return r.boot }

func (r *Reader) doRead(fd uintptr) bool {
	n, _, e := syscall.Syscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.buf[0])), uintptr(len(r.buf)))
	if e == syscall.EAGAIN {
		return false
	}
	if e != 0 {
		r.rerr = e
	} else {
		r.rn = int(n)
	}
	return true
}

// Next returns the next record (valid until the next call). After about
// 250 ms without one it returns source.ErrIdle; once ctx is done or Close
// was called, the context's error or os.ErrClosed. When the kernel
// overwrote records before they were read (EPIPE), that is counted and
// logged, and reading goes on with the oldest record left. Not for
// concurrent use.
func (r *Reader) Next(ctx context.Context) (Record, error) {
	r.f.SetReadDeadline(time.Now().Add(idleAfter))
	for {
		if err := ctx.Err(); err != nil {
			return Record{}, err
		}
		if r.closed.Load() {
			return Record{}, os.ErrClosed
		}
		r.rn, r.rerr = 0, nil
		err := r.rc.Read(r.readFn)
		if err == nil {
			err = r.rerr
		}
		if r.closed.Load() {
			return Record{}, os.ErrClosed
		}
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				r.setBoot()
				return Record{}, source.ErrIdle
			case errors.Is(err, syscall.EPIPE):
				c := r.overwritten.Add(1)
				if c&(c-1) == 0 {
					r.log.Warn(fmt.Sprintf("kernel log: records were overwritten before we read them (EPIPE, %d times so far)", c))
				}
				continue
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, os.ErrClosed):
				return Record{}, os.ErrClosed
			}
			return Record{}, fmt.Errorf("kernel log read: %w", err)
		}
		if r.rn == 0 {
			continue
		}
		var rec Record
		if !parseRecord(r.buf[:r.rn], r.boot, &rec, r.dict) {
			r.malformed.Add(1)
			continue
		}
		r.dict = rec.Dict
		if r.last != 0 && rec.Seq >= r.last {
			if gap := rec.Seq - r.last; gap > 0 {
				r.lost.Add(gap)
			}
		}
		r.last = rec.Seq + 1
		r.records.Add(1)
		return rec, nil
	}
}

// Stats returns the counters so far; safe to call from any goroutine.
func (r *Reader) Stats() Stats {
	return Stats{Records: r.records.Load(), Overwritten: r.overwritten.Load(), Lost: r.lost.Load(), Malformed: r.malformed.Load()}
}

// Close closes the device and makes a blocked Next return os.ErrClosed.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		r.closeErr = r.f.Close()
	})
	return r.closeErr
}
