package source

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/elastic/go-libaudit/v2/rule"
)

// RuleKillKey is the key carried by the built-in kill-monitoring rules.
const RuleKillKey = "kill"

// RuleKillSet returns the built-in kill-monitoring rules in auditctl
// syntax, for the 64-bit and the 32-bit ABI of this machine: kill and
// tkill (signal in a1) and tgkill (signal in a2) without SIGURG (23, sent
// by every Go runtime to preempt goroutines, over 90% of the noise), and
// pidfd_send_signal, rt_sigqueueinfo, rt_tgsigqueueinfo unfiltered.
func RuleKillSet() []string {
	var out []string
	for _, arch := range []string{"b64", "b32"} {
		p := "-a always,exit -F arch=" + arch
		out = append(out,
			p+" -S kill -F a1!=23 -k "+RuleKillKey,
			p+" -S tkill -F a1!=23 -k "+RuleKillKey,
			p+" -S tgkill -F a2!=23 -k "+RuleKillKey,
			p+" -S pidfd_send_signal,rt_sigqueueinfo,rt_tgsigqueueinfo -k "+RuleKillKey,
		)
	}
	return out
}

// RuleSelfExclude is the rule that keeps the collector (pid) from auditing
// itself; it is prepended (-A) so that it is evaluated first.
func RuleSelfExclude(pid int) string {
	return "-A never,exit -F pid=" + strconv.Itoa(pid)
}

// RuleReadFile reads rules in auditctl syntax, one per line; blank lines and
// lines starting with # are skipped, as are trailing " #" comments. Each
// returned rule is checked with RuleBuild; an error names the file, the line
// number and the rule.
func RuleReadFile(path string) ([]string, error) {
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
		if _, err := RuleBuild(l); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, ln, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit rules file %s: %w", path, err)
	}
	return out, nil
}

// auditFilterPrepend is AUDIT_FILTER_PREPEND, or-ed into the rule's list
// flags for -A (go-libaudit's rule.Build ignores -A).
const auditFilterPrepend = 0x10

// RuleBuild parses one rule in auditctl syntax (-a/-A with -F, -C, -S, -k;
// or -w with -p, -k) and returns the kernel wire format
// (struct audit_rule_data) for AUDIT_ADD_RULE / AUDIT_DEL_RULE. Errors
// quote the rule text. Commands that are not a rule (-D, -e, -b, ...) are
// refused.
func RuleBuild(text string) ([]byte, error) {
	r, prepend, err := ruleParse(text)
	if err != nil {
		return nil, fmt.Errorf("audit rule %q: %w", text, err)
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
		binary.NativeEndian.PutUint32(wf[0:4], flags|auditFilterPrepend)
	}
	return []byte(wf), nil
}

// ruleSplit splits a command line on blanks, honouring single and double
// quotes and backslash escapes outside single quotes.
func ruleSplit(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		inTok bool
		quote byte
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inTok = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inTok = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inTok {
				out = append(out, cur.String())
				cur.Reset()
				inTok = false
			}
		default:
			cur.WriteByte(c)
			inTok = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inTok {
		out = append(out, cur.String())
	}
	return out, nil
}

var ruleOps = []string{"<=", ">=", "&=", "!=", "=", "<", ">", "&"}

func ruleFilter(v string, inter bool) (rule.FilterSpec, error) {
	for i := 0; i < len(v); i++ {
		for _, op := range ruleOps {
			if strings.HasPrefix(v[i:], op) {
				lhs, rhs := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+len(op):])
				if lhs == "" || rhs == "" {
					return rule.FilterSpec{}, fmt.Errorf("invalid filter %q", v)
				}
				if inter {
					if op != "=" && op != "!=" {
						return rule.FilterSpec{}, fmt.Errorf("invalid comparison %q (only = and !=)", v)
					}
					return rule.FilterSpec{Type: rule.InterFieldFilterType, LHS: lhs, Comparator: op, RHS: rhs}, nil
				}
				return rule.FilterSpec{Type: rule.ValueFilterType, LHS: lhs, Comparator: op, RHS: rhs}, nil
			}
		}
	}
	return rule.FilterSpec{}, fmt.Errorf("invalid filter %q (expected field=value, != < > <= >= & &=)", v)
}

// ruleParse turns auditctl arguments into a go-libaudit rule. It does the
// job of go-libaudit's rule/flags (which needs github.com/kballard/go-shellquote).
func ruleParse(text string) (rule.Rule, bool, error) {
	args, err := ruleSplit(text)
	if err != nil {
		return nil, false, err
	}
	if len(args) == 0 {
		return nil, false, errors.New("empty rule")
	}
	var (
		list, action string
		addFlag      string
		filters      []rule.FilterSpec
		syscalls     []string
		keys         []string
		path         string
		perms        []rule.AccessType
		watchFlags   bool
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || a[1] == '-' {
			return nil, false, fmt.Errorf("unexpected argument %q", a)
		}
		flag, val := a[:2], a[2:]
		if val == "" {
			if i+1 >= len(args) {
				return nil, false, fmt.Errorf("option %s needs a value", flag)
			}
			i++
			val = args[i]
		}
		switch flag {
		case "-a", "-A":
			if addFlag != "" {
				return nil, false, errors.New("only one -a or -A per rule")
			}
			addFlag = flag
			parts := strings.Split(val, ",")
			if len(parts) != 2 {
				return nil, false, fmt.Errorf("%s wants list,action (e.g. always,exit), got %q", flag, val)
			}
			for _, p := range parts {
				switch p = strings.TrimSpace(p); p {
				case "task", "exit", "user", "exclude", "filesystem", "io_uring":
					list = p
				case "always", "never":
					action = p
				default:
					return nil, false, fmt.Errorf("invalid list or action %q", p)
				}
			}
			if list == "" || action == "" {
				return nil, false, fmt.Errorf("%s wants list,action (e.g. always,exit), got %q", flag, val)
			}
		case "-F", "-C":
			f, err := ruleFilter(val, flag == "-C")
			if err != nil {
				return nil, false, err
			}
			if f.Type == rule.ValueFilterType && f.LHS == "key" && f.Comparator == "=" {
				keys = append(keys, f.RHS)
				continue
			}
			filters = append(filters, f)
		case "-S":
			for _, s := range strings.Split(val, ",") {
				if s = strings.TrimSpace(s); s != "" {
					syscalls = append(syscalls, s)
				}
			}
		case "-k":
			keys = append(keys, val)
		case "-w":
			path, watchFlags = val, true
		case "-p":
			watchFlags = true
			for _, c := range val {
				switch c {
				case 'r':
					perms = append(perms, rule.ReadAccessType)
				case 'w':
					perms = append(perms, rule.WriteAccessType)
				case 'x':
					perms = append(perms, rule.ExecuteAccessType)
				case 'a':
					perms = append(perms, rule.AttributeChangeAccessType)
				default:
					return nil, false, fmt.Errorf("invalid permission %q in -p %s (r, w, x, a)", c, val)
				}
			}
		default:
			return nil, false, fmt.Errorf("option %s is not an audit rule (only -a/-A with -F -C -S -k, or -w with -p -k)", flag)
		}
	}
	switch {
	case watchFlags && (addFlag != "" || len(filters) > 0 || len(syscalls) > 0):
		return nil, false, errors.New("-w/-p cannot be mixed with -a/-A/-F/-C/-S")
	case watchFlags:
		if path == "" {
			return nil, false, errors.New("-p needs -w PATH")
		}
		return &rule.FileWatchRule{Type: rule.FileWatchRuleType, Path: path, Permissions: perms, Keys: keys}, false, nil
	case addFlag == "":
		return nil, false, errors.New("a rule needs -a or -A (or -w)")
	}
	typ := rule.AppendSyscallRuleType
	if addFlag == "-A" {
		typ = rule.PrependSyscallRuleType
	}
	return &rule.SyscallRule{Type: typ, List: list, Action: action, Filters: filters, Syscalls: syscalls, Keys: keys}, addFlag == "-A", nil
}
