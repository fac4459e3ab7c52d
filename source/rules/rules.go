// Package rules reads audit rules in auditctl syntax (with go-libaudit's
// rule/flags and rule.Build) into the kernel's wire format, and holds the
// built-in rule sets.
package rules

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"
	"github.com/elastic/go-libaudit/v2/rule/flags"
	"github.com/kballard/go-shellquote"
)

// KillKey is the key carried by the built-in kill-monitoring rules.
const KillKey = "kill"

// KillSet returns the built-in kill-monitoring rules in auditctl
// syntax, for the 64-bit and the 32-bit ABI of this machine: kill and
// tkill (signal in a1) and tgkill (signal in a2) without SIGURG (23, sent
// by every Go runtime to preempt goroutines, over 90% of the noise), and
// pidfd_send_signal, rt_sigqueueinfo, rt_tgsigqueueinfo unfiltered.
func KillSet() []string {
	var out []string
	for _, arch := range []string{"b64", "b32"} {
		p := "-a always,exit -F arch=" + arch
		out = append(out,
			p+" -S kill -F a1!=23 -k "+KillKey,
			p+" -S tkill -F a1!=23 -k "+KillKey,
			p+" -S tgkill -F a2!=23 -k "+KillKey,
			p+" -S pidfd_send_signal,rt_sigqueueinfo,rt_tgsigqueueinfo -k "+KillKey,
		)
	}
	return out
}

// SelfExclude is the rule that keeps the collector (pid) from auditing
// itself; it is prepended (-A) so that it is evaluated first.
func SelfExclude(pid int) string {
	return "-A never,exit -F pid=" + strconv.Itoa(pid)
}

// ReadFile reads rules in auditctl syntax, one per line; blank lines and
// lines starting with # are skipped, as are trailing " #" comments. Each
// returned rule is checked with Build; an error names the file, the line
// number and the rule.
func ReadFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit rules file: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		l := strings.TrimSpace(sc.Text())
		if i := strings.Index(l, " #"); i >= 0 && !strings.ContainsAny(l[:i], `"'`) {
			l = strings.TrimSpace(l[:i])
		}
		if l == "" || l[0] == '#' {
			continue
		}
		if _, err := Build(l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, ln, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit rules file %s: %w", path, err)
	}
	return out, nil
}

// FilterPrepend is AUDIT_FILTER_PREPEND, or-ed into the rule's list flags
// for -A (go-libaudit's rule.Build ignores -A). The kernel stores a rule
// without it.
const FilterPrepend = 0x10

// Build parses one rule in auditctl syntax (-a/-A with -F, -C, -S, -k;
// or -w with -p, -k) and returns the kernel wire format
// (struct audit_rule_data) for AUDIT_ADD_RULE / AUDIT_DEL_RULE. Errors
// quote the rule text. Commands that are not a rule (-D, -e, -b, ...) are
// refused.
func Build(text string) ([]byte, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("audit rule: empty rule")
	}
	args, err := shellquote.Split(text)
	if err != nil {
		return nil, fmt.Errorf("audit rule %q: %w", text, err)
	}
	r, err := flags.Parse(shellquote.Join(detach(args)...))
	if err != nil {
		return nil, fmt.Errorf("audit rule %q: %w", text, err)
	}
	prepend := false
	if sr, ok := r.(*rule.SyscallRule); ok && sr.Type == rule.PrependSyscallRuleType {
		prepend = true
	}
	wf, err := rule.Build(r)
	if err != nil {
		return nil, fmt.Errorf("audit rule %q: %w", text, err)
	}
	if prepend {
		if len(wf) < 4 {
			return nil, fmt.Errorf("audit rule %q: short wire format", text)
		}
		flags := binary.NativeEndian.Uint32(wf[0:4])
		binary.NativeEndian.PutUint32(wf[0:4], flags|FilterPrepend)
	}
	return []byte(wf), nil
}

// detach splits options written with their value attached, as auditctl
// (getopt) accepts them ("-Aalways,exit -Farch=b64"), into the option and
// its value, which rule/flags (Go's flag package) needs apart.
func detach(args []string) []string {
	out := make([]string, 0, len(args)+4)
	for _, a := range args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && a[2] != '=' {
			out = append(out, a[:2], a[2:])
			continue
		}
		out = append(out, a)
	}
	return out
}

// Check reports whether text is a rule Build accepts.
func Check(text string) error {
	_, err := Build(text)
	return err
}

// CheckFile reports whether path is a readable file of valid rules.
func CheckFile(path string) error {
	_, err := ReadFile(path)
	return err
}

// MarkerPrefix starts the key this project adds to every rule it installs
// (Marker): a collector that dies without removing its rules leaves them
// recognisable, and the next one removes them (Leftover). Documents leave
// the marker out of their keys.
const MarkerPrefix = "linuxaudit:"

// Marker is the key that marks the rules installed by the process pid of
// pid namespace ns (the inode of /proc/self/ns/pid) whose start time
// (field 22 of /proc/pid/stat) is start: a collector can only tell
// whether a collector of its own pid namespace is gone.
func Marker(ns uint64, pid int, start uint64) string {
	return MarkerPrefix + strconv.FormatUint(ns, 10) + ":" + strconv.Itoa(pid) + ":" + strconv.FormatUint(start, 10)
}

// ParseMarker reads a key made by Marker.
func ParseMarker(key string) (ns uint64, pid int, start uint64, ok bool) {
	rest, found := strings.CutPrefix(key, MarkerPrefix)
	if !found {
		return 0, 0, 0, false
	}
	f := strings.Split(rest, ":")
	if len(f) != 3 {
		return 0, 0, 0, false
	}
	ns, err0 := strconv.ParseUint(f[0], 10, 64)
	pid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[2], 10, 64)
	return ns, pid, start, err0 == nil && err1 == nil && err2 == nil && pid > 0
}

// struct audit_rule_data, as the kernel lists its rules: flags, action,
// field_count, mask[64], fields[64], values[64], fieldflags[64], buflen,
// buf[]; the string fields' values are their lengths in buf, in order.
const (
	ruleFieldCount = 8
	ruleFields     = 12 + 64*4
	ruleValues     = ruleFields + 64*4
	ruleBuf        = ruleValues + 2*64*4 + 4
	auditFilterKey = 210
)

// stringField reports the rule fields whose value is a string in buf
// (linux/audit.h: AUDIT_SUBJ_USER..AUDIT_SUBJ_CLR, AUDIT_OBJ_USER..
// AUDIT_OBJ_LEV_HIGH, AUDIT_WATCH, AUDIT_DIR, AUDIT_EXE, AUDIT_FILTERKEY).
func stringField(f uint32) bool {
	return f >= 13 && f <= 17 || f >= 19 && f <= 23 || f == 105 || f == 107 || f == 112 || f == auditFilterKey
}

// Keys returns the keys of a rule in the kernel's wire format (several
// keys of one rule are separated by 0x01 in one field).
func Keys(wire []byte) []string {
	if len(wire) < ruleBuf {
		return nil
	}
	n := binary.NativeEndian.Uint32(wire[ruleFieldCount:])
	if n > 64 {
		return nil
	}
	buf := wire[ruleBuf:]
	off := 0
	var keys []string
	for i := 0; i < int(n); i++ {
		f := binary.NativeEndian.Uint32(wire[ruleFields+4*i:])
		if !stringField(f) {
			continue
		}
		l := int(binary.NativeEndian.Uint32(wire[ruleValues+4*i:]))
		if l < 0 || off+l > len(buf) {
			return keys
		}
		if f == auditFilterKey {
			keys = append(keys, strings.Split(string(buf[off:off+l]), "\x01")...)
		}
		off += l
	}
	return keys
}
