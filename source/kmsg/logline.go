package kmsg

import (
	"bytes"
	"time"
)

// Line is one kernel message with what is known of its time.
type Line struct {
	// Msg is the kernel's message, without any log prefix.
	Msg []byte
	// Time is the wall-clock time; zero when the line does not say
	// (dmesg's [seconds] stamps without LogOptions.Boot, dmesg -t).
	Time time.Time
	// Mono is the time since boot, when HasMono (/dev/kmsg, dmesg,
	// klogd's stamp inside a syslog line, journalctl -o short-monotonic).
	Mono    time.Duration
	HasMono bool
	// Host is the host name of a syslog or journal line.
	Host []byte
	// Caller is the task ("T123") or CPU ("C1") that logged the message,
	// when the log says (the kernel's CONFIG_PRINTK_CALLER).
	Caller []byte
}

// LogOptions tell ParseLogLine what a line does not.
type LogOptions struct {
	// Now decides the year of stamps without one ("Dec 02 05:00:00"):
	// the latest year that does not put the stamp more than a day after
	// Now (default: the current time).
	Now time.Time
	// Location is the zone of stamps without one (default time.Local).
	Location *time.Location
	// Boot is the wall-clock boot time, to give dmesg's [seconds] stamps
	// a Time (zero: Mono only).
	Boot time.Time
}

// ParseLogLine takes one line of a saved kernel log (without its
// newline) and returns the kernel message and its time. It knows
//
//	[12345.678901] msg                         dmesg (also [T123] after the stamp, <6> before it: dmesg -r)
//	kern  :err   : [12345.678901] msg          dmesg -x
//	[Wed Dec  2 05:00:00 2026] msg             dmesg -T
//	2026-12-02T05:00:00,123456+00:00 msg       dmesg --time-format=iso (a comma before the fraction)
//	Dec 02 05:00:00 host kernel: msg           journalctl -k, syslog (kern.log); also with .123456
//	2026-12-02T05:00:00+0000 host kernel: msg  journalctl -o short-iso[-precise], rsyslog RFC 3339
//	[12345.678901] host kernel: msg            journalctl -o short-monotonic
//
// and klogd's "[12345.678901] " stamp at the start of a syslog message.
// A line in none of these forms is returned whole, without a time (dmesg
// -t). It is false for lines that are no kernel message: a syslog or
// journal line of another program, journalctl's "-- ... --" notes, empty
// lines.
func ParseLogLine(line []byte, opt *LogOptions) (Line, bool) {
	var o LogOptions
	if opt != nil {
		o = *opt
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return Line{}, false
	}
	if bytes.HasPrefix(line, []byte("-- ")) && bytes.HasSuffix(line, []byte(" --")) {
		return Line{}, false
	}
	var l Line
	rest := line
	// dmesg -r: "<6>"
	if len(rest) > 2 && rest[0] == '<' {
		if e := bytes.IndexByte(rest[:min(len(rest), 6)], '>'); e > 1 {
			if _, ok := atou(rest[1:e]); ok {
				rest = rest[e+1:]
			}
		}
	}
	// dmesg -x: "kern  :err   : "
	if f, lv, r2, ok := facLevel(rest); ok && f != "" && lv != "" {
		if f != "kern" {
			return Line{}, false
		}
		rest = r2
	}
	switch {
	case len(rest) > 0 && rest[0] == '[':
		e := bytes.IndexByte(rest, ']')
		if e < 0 {
			break
		}
		stamp := rest[1:e]
		if d, ok := monoStamp(stamp); ok {
			after := skipCaller(rest[e+1:], &l)
			// journalctl -o short-monotonic: "[...] host kernel: msg";
			// anything else after a stamp is dmesg's message.
			if host, msg, ok := syslogTag(after); ok {
				l.Host, rest = host, msg
			} else {
				rest = after
			}
			l.Mono, l.HasMono = d, true
			if !o.Boot.IsZero() {
				l.Time = o.Boot.Add(d)
			}
		} else if t, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", string(bytes.TrimSpace(stamp)), o.Location); err == nil {
			l.Time = t
			rest = skipCaller(rest[e+1:], &l)
		}
	case isISO(rest):
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			break
		}
		t, ok := isoTime(rest[:sp], o.Location)
		if !ok {
			break
		}
		l.Time = t
		after := rest[sp+1:]
		if bytes.IndexByte(rest[:sp], ',') < 0 {
			// journal or rsyslog: "host kernel: msg", or another program
			host, msg, ok := syslogTag(after)
			if !ok {
				return Line{}, false
			}
			l.Host, after = host, msg
		}
		rest = after
	default:
		if t, after, ok := syslogTime(rest, o); ok {
			host, msg, ok := syslogTag(after)
			if !ok {
				return Line{}, false // another program's line
			}
			l.Time, l.Host, rest = t, host, msg
		}
	}
	// klogd's kernel stamp inside a syslog message: "[12345.678901] msg"
	if l.Host != nil && len(rest) > 0 && rest[0] == '[' {
		if e := bytes.IndexByte(rest, ']'); e > 0 {
			if d, ok := monoStamp(rest[1:e]); ok {
				l.Mono, l.HasMono = d, true
				rest = skipCaller(rest[e+1:], &l)
			}
		}
	}
	l.Msg = rest
	return l, true
}

// facLevel splits dmesg -x's "kern  :err   : rest".
func facLevel(b []byte) (fac, level string, rest []byte, ok bool) {
	c1 := bytes.IndexByte(b[:min(len(b), 12)], ':')
	if c1 <= 0 {
		return "", "", b, false
	}
	f := string(bytes.TrimSpace(b[:c1]))
	switch f {
	case "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7":
	default:
		return "", "", b, false
	}
	r := b[c1+1:]
	c2 := bytes.IndexByte(r[:min(len(r), 10)], ':')
	if c2 <= 0 {
		return "", "", b, false
	}
	lv := string(bytes.TrimSpace(r[:c2]))
	switch lv {
	case "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug":
	default:
		return "", "", b, false
	}
	return f, lv, bytes.TrimLeft(r[c2+1:], " "), true
}

// monoStamp parses "    12.345678" (seconds since boot).
func monoStamp(b []byte) (time.Duration, bool) {
	b = bytes.TrimLeft(b, " ")
	dot := bytes.IndexByte(b, '.')
	if dot <= 0 || dot == len(b)-1 || len(b)-dot-1 > 9 {
		return 0, false
	}
	s, ok1 := atou(b[:dot])
	frac := b[dot+1:]
	f, ok2 := atou(frac)
	if !ok1 || !ok2 || s > 1<<33 {
		return 0, false
	}
	for i := len(frac); i < 9; i++ {
		f *= 10
	}
	return time.Duration(s)*time.Second + time.Duration(f), true
}

// skipCaller drops the space after a stamp, and a "[T123]" or "[  C1]"
// caller field with its space, setting l.Caller.
func skipCaller(b []byte, l *Line) []byte {
	if len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	if len(b) > 3 && b[0] == '[' {
		if e := bytes.IndexByte(b[:min(len(b), 12)], ']'); e > 2 {
			id := bytes.TrimLeft(b[1:e], " ")
			if len(id) > 1 && (id[0] == 'T' || id[0] == 'C') {
				if _, ok := atou(id[1:]); ok {
					l.Caller = id
					b = b[e+1:]
					if len(b) > 0 && b[0] == ' ' {
						b = b[1:]
					}
				}
			}
		}
	}
	return b
}

// syslogTag splits "host kernel: msg"; ok tells it is that form.
func syslogTag(b []byte) (host, msg []byte, ok bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp <= 0 {
		return nil, nil, false
	}
	host, r := b[:sp], b[sp+1:]
	if m, found := bytes.CutPrefix(r, []byte("kernel: ")); found {
		return host, m, true
	}
	if bytes.Equal(r, []byte("kernel:")) {
		return host, []byte{}, true
	}
	return nil, nil, false
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// syslogTime parses "Dec 02 05:00:00[.123456] " (or "Dec  2 ...") and
// returns the rest of the line.
func syslogTime(b []byte, o LogOptions) (time.Time, []byte, bool) {
	if len(b) < 16 || b[3] != ' ' {
		return time.Time{}, nil, false
	}
	mon := -1
	for i, m := range months {
		if string(b[:3]) == m {
			mon = i + 1
		}
	}
	if mon < 0 {
		return time.Time{}, nil, false
	}
	r := bytes.TrimLeft(b[4:], " ")
	sp := bytes.IndexByte(r, ' ')
	if sp < 1 || sp > 2 {
		return time.Time{}, nil, false
	}
	day, ok := atou(r[:sp])
	if !ok || day < 1 || day > 31 {
		return time.Time{}, nil, false
	}
	r = r[sp+1:]
	end := bytes.IndexByte(r, ' ')
	if end < 8 {
		return time.Time{}, nil, false
	}
	hh, mm, ss, ns, ok := clock(r[:end])
	if !ok {
		return time.Time{}, nil, false
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.In(o.Location)
	y := now.Year()
	t := time.Date(y, time.Month(mon), int(day), hh, mm, ss, ns, o.Location)
	if t.After(now.Add(24 * time.Hour)) {
		t = time.Date(y-1, time.Month(mon), int(day), hh, mm, ss, ns, o.Location)
	}
	return t, r[end+1:], true
}

// clock parses "15:04:05" with an optional ".fraction" or ",fraction".
func clock(b []byte) (hh, mm, ss, ns int, ok bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return
	}
	h, ok1 := atou(b[0:2])
	m, ok2 := atou(b[3:5])
	s, ok3 := atou(b[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || s > 60 {
		return
	}
	if len(b) > 8 {
		if (b[8] != '.' && b[8] != ',') || len(b) == 9 || len(b) > 18 {
			return
		}
		f, okf := atou(b[9:])
		if !okf {
			return
		}
		for i := len(b) - 9; i < 9; i++ {
			f *= 10
		}
		ns = int(f)
	}
	return int(h), int(m), int(s), ns, true
}

func isISO(b []byte) bool {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || b[10] != 'T' {
		return false
	}
	_, ok := atou(b[:4])
	return ok
}

// isoTime parses 2026-12-02T05:00:00[.,fraction][Z|+0000|+00:00].
func isoTime(b []byte, loc *time.Location) (time.Time, bool) {
	y, ok1 := atou(b[0:4])
	mo, ok2 := atou(b[5:7])
	d, ok3 := atou(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	r := b[11:]
	z := len(r)
	for i := 8; i < len(r); i++ {
		if r[i] == 'Z' || r[i] == '+' || r[i] == '-' {
			z = i
			break
		}
	}
	hh, mm, ss, ns, ok := clock(r[:z])
	if !ok {
		return time.Time{}, false
	}
	if z < len(r) {
		zone := r[z:]
		if zone[0] == 'Z' {
			if len(zone) != 1 {
				return time.Time{}, false
			}
			loc = time.UTC
		} else {
			digits := bytes.ReplaceAll(zone[1:], []byte(":"), nil)
			if len(digits) != 4 {
				return time.Time{}, false
			}
			zh, okh := atou(digits[:2])
			zm, okm := atou(digits[2:])
			if !okh || !okm || zh > 23 || zm > 59 {
				return time.Time{}, false
			}
			off := int(zh)*3600 + int(zm)*60
			if zone[0] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		}
	}
	return time.Date(int(y), time.Month(mo), int(d), hh, mm, ss, ns, loc), true
}
