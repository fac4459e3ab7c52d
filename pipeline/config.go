// Package pipeline wires the stages together for the plugin and the CLI:
// a source (audit log files or the kernel), the parser and correlator, the
// enricher and an encoder, with a bounded queue between the reader
// goroutine and whoever drains it. Both front ends share its configuration
// keys, defaults and validation.
package pipeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Key describes one configuration key (a Fluent Bit property of the plugin,
// a --flag of the CLI).
type Key struct {
	Name    string
	Default string
	Doc     string
}

// Keys lists every configuration key, in documentation order.
var Keys = []Key{
	{"source", "file", "where records come from: `file` (audit log files) or `kernel` (audit netlink socket)"},
	{"path", "/var/log/audit/audit.log", "audit log file or glob (source file); RAW or ENRICHED, with or without node="},
	{"db", "", "offsets file: the position is saved there after every delivered batch and resumed on restart (source file); empty = no persistence"},
	{"read_from_head", "false", "start files without a saved position at their beginning instead of their end (source file)"},
	{"kernel_mode", "auto", "`multicast` (read-only beside auditd), `unicast` (become the audit daemon) or `auto` (multicast when an audit daemon is registered, else unicast) (source kernel)"},
	{"kernel_rules", "", "audit rules to install at start and remove at exit, auditctl syntax, separated by `;` (source kernel)"},
	{"kernel_rules_file", "", "file of audit rules, one per line, auditctl syntax (source kernel)"},
	{"kernel_kill_rules", "false", "install the built-in kill-monitoring rules (kill, tkill, tgkill without SIGURG, pidfd_send_signal, rt_sigqueueinfo; 64 and 32 bit; key `kill`) (source kernel)"},
	{"kernel_backlog_limit", "", "set the kernel's audit backlog limit (only when given) (source kernel)"},
	{"kernel_rate_limit", "", "set the kernel's audit rate limit in messages/s (only when given) (source kernel)"},
	{"kernel_backlog_wait_time", "", "set the kernel's backlog wait time in jiffies (only when given) (source kernel)"},
	{"hostname", "", "host name written as host.name in every document without node= (default: this machine's name for the plugin; none for the CLI)"},
	{"schema", "default", "output schema: `default` or `ecs` (Elastic auditd integration field names)"},
	{"raw", "false", "add the event's raw records to each document (`raw` array)"},
	{"ancestry_depth", "4", "how many ancestors of the caller to report (0-16)"},
	{"proc", "auto", "read /proc for live process context: `true`, `false`, or `auto` (true for source kernel and for files being tailed at their end)"},
	{"event_timeout", "2s", "close an event this long after its first record when no end marker came"},
	{"max_in_flight", "4096", "open (incomplete) events kept at most; the oldest is emitted early and counted as evicted"},
	{"include_types", "", "only emit events containing one of these record types (comma separated, e.g. SYSCALL,USER_AUTH)"},
	{"exclude_types", "", "drop events whose first record has one of these types"},
	{"include_keys", "", "only emit events with one of these audit keys"},
	{"exclude_keys", "", "drop events with one of these audit keys"},
	{"include_syscalls", "", "only emit syscall events with one of these syscall names (non-syscall events pass)"},
	{"exclude_syscalls", "", "drop syscall events with one of these syscall names"},
	{"include_signals", "", "only emit signal events with one of these signals (names like SIGKILL or numbers)"},
	{"exclude_signals", "", "drop signal events with one of these signals"},
	{"drop_sigurg", "true", "drop tgkill/tkill with SIGURG (the Go runtime's preemption signal)"},
	{"queue_max_bytes", "67108864", "bytes of encoded records waiting for Fluent Bit at most; the file source waits, the kernel source drops and counts"},
	{"buffer_max_size", "33554432", "bytes handed to Fluent Bit per callback at most (the rest waits for the next call). Fluent Bit calls a Go input once per second, so this caps the rate: 32 MiB is about 25,000 events/s"},
	{"stats_interval", "60s", "how often statistics are logged (0 = never)"},
	{"stats_record", "false", "also emit statistics as a record (`event.kind: stats`)"},
}

// Config is a validated configuration.
type Config struct {
	Source       string
	Path         string
	DB           string
	ReadFromHead bool

	KernelMode            string
	KernelRules           []string
	KernelRulesFile       string
	KernelKillRules       bool
	KernelBacklogLimit    *uint32
	KernelRateLimit       *uint32
	KernelBacklogWaitTime *uint32

	Hostname      string
	Schema        string
	Raw           bool
	AncestryDepth int
	Proc          string
	EventTimeout  time.Duration
	MaxInFlight   int

	IncludeTypes, ExcludeTypes       []string
	IncludeKeys, ExcludeKeys         []string
	IncludeSyscalls, ExcludeSyscalls []string
	IncludeSignals, ExcludeSignals   []string
	DropSIGURG                       bool

	QueueMaxBytes int
	BufferMaxSize int
	StatsInterval time.Duration
	StatsRecord   bool

	// JSON selects JSON lines output (CLI) instead of Fluent Bit msgpack.
	JSON bool
}

// ConfigError names the offending key.
type ConfigError struct {
	Key, Value, Why string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid value %q for key %q: %s", e.Value, e.Key, e.Why)
}

// Parse builds a Config from get, which returns the value of a key and
// whether it was set (a Fluent Bit property lookup or CLI flags). The first
// bad value is reported as a *ConfigError naming the key.
func Parse(get func(key string) (string, bool)) (Config, error) {
	var c Config
	var err error
	val := func(k Key) string {
		if v, ok := get(k.Name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return k.Default
	}
	bad := func(k, v, why string) error {
		if err == nil {
			err = &ConfigError{k, v, why}
		}
		return err
	}
	for _, k := range Keys {
		v := val(k)
		switch k.Name {
		case "source":
			if v != "file" && v != "kernel" {
				bad(k.Name, v, "accepted: file, kernel")
			}
			c.Source = v
		case "path":
			c.Path = v
		case "db":
			c.DB = v
		case "read_from_head":
			c.ReadFromHead = parseBool(k.Name, v, bad)
		case "kernel_mode":
			if v != "auto" && v != "multicast" && v != "unicast" {
				bad(k.Name, v, "accepted: auto, multicast, unicast")
			}
			c.KernelMode = v
		case "kernel_rules":
			for _, r := range strings.Split(v, ";") {
				if r = strings.TrimSpace(r); r != "" {
					c.KernelRules = append(c.KernelRules, r)
				}
			}
		case "kernel_rules_file":
			c.KernelRulesFile = v
		case "kernel_kill_rules":
			c.KernelKillRules = parseBool(k.Name, v, bad)
		case "kernel_backlog_limit", "kernel_rate_limit", "kernel_backlog_wait_time":
			if v == "" {
				continue
			}
			n, e := strconv.ParseUint(v, 10, 32)
			if e != nil {
				bad(k.Name, v, "expected a non-negative number")
			}
			u := uint32(n)
			switch k.Name {
			case "kernel_backlog_limit":
				c.KernelBacklogLimit = &u
			case "kernel_rate_limit":
				c.KernelRateLimit = &u
			default:
				c.KernelBacklogWaitTime = &u
			}
		case "hostname":
			c.Hostname = v
		case "schema":
			if v != "default" && v != "ecs" {
				bad(k.Name, v, "accepted: default, ecs")
			}
			c.Schema = v
		case "raw":
			c.Raw = parseBool(k.Name, v, bad)
		case "ancestry_depth":
			c.AncestryDepth = parseInt(k.Name, v, 0, 16, bad)
		case "proc":
			if v != "auto" && v != "true" && v != "false" {
				bad(k.Name, v, "accepted: auto, true, false")
			}
			c.Proc = v
		case "event_timeout":
			c.EventTimeout = parseDuration(k.Name, v, 10*time.Millisecond, time.Hour, bad)
		case "max_in_flight":
			c.MaxInFlight = parseInt(k.Name, v, 1, 1<<20, bad)
		case "include_types":
			c.IncludeTypes = list(v)
		case "exclude_types":
			c.ExcludeTypes = list(v)
		case "include_keys":
			c.IncludeKeys = list(v)
		case "exclude_keys":
			c.ExcludeKeys = list(v)
		case "include_syscalls":
			c.IncludeSyscalls = list(v)
		case "exclude_syscalls":
			c.ExcludeSyscalls = list(v)
		case "include_signals":
			c.IncludeSignals = list(v)
		case "exclude_signals":
			c.ExcludeSignals = list(v)
		case "drop_sigurg":
			c.DropSIGURG = parseBool(k.Name, v, bad)
		case "queue_max_bytes":
			c.QueueMaxBytes = parseInt(k.Name, v, 64<<10, 1<<34, bad)
		case "buffer_max_size":
			c.BufferMaxSize = parseInt(k.Name, v, 4<<10, 1<<30, bad)
		case "stats_interval":
			if v == "0" {
				c.StatsInterval = 0
			} else {
				c.StatsInterval = parseDuration(k.Name, v, time.Second, 24*time.Hour, bad)
			}
		case "stats_record":
			c.StatsRecord = parseBool(k.Name, v, bad)
		}
	}
	return c, err
}

// Default returns the configuration with every key at its default.
func Default() Config {
	c, _ := Parse(func(string) (string, bool) { return "", false })
	return c
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseBool(k, v string, bad func(k, v, why string) error) bool {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return true
	case "false", "off", "no", "0":
		return false
	}
	bad(k, v, "accepted: true, false (on/off, yes/no)")
	return false
}

func parseInt(k, v string, lo, hi int, bad func(k, v, why string) error) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		bad(k, v, fmt.Sprintf("expected a number from %d to %d", lo, hi))
	}
	return n
}

func parseDuration(k, v string, lo, hi time.Duration, bad func(k, v, why string) error) time.Duration {
	d, err := time.ParseDuration(v)
	if err != nil {
		if n, e := strconv.Atoi(v); e == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < lo || d > hi {
		bad(k, v, fmt.Sprintf("expected a duration from %v to %v (e.g. 2s, 500ms)", lo, hi))
	}
	return d
}
