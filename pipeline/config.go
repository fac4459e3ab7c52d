// Package pipeline wires the stages together for the plugin and the CLI:
// a source (audit log files or the kernel), the parser and correlator, the
// enricher and an encoder, in one read loop whose end is either a writer
// (the CLI) or a bounded queue drained by Fluent Bit (the plugin). Both
// front ends share its table of configuration keys.
package pipeline

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/source/rules"
)

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

	// Enrich holds the keys of the enricher (schema, extras, filters); its
	// Proc is set from Proc when the pipeline starts.
	Enrich       enrich.Config
	Proc         string
	ProcEvents   string
	Kmsg         string
	KernelLogs   []string
	EventTimeout time.Duration
	MaxInFlight  int
	Workers      string // "auto", "1" or "2" (see parallel)

	QueueMaxBytes int
	BufferMaxSize int
	StatsInterval time.Duration
	StatsRecord   bool

	// JSON selects JSON lines output (CLI) instead of Fluent Bit msgpack.
	JSON bool
	// Format is the CLI's output: "json", "text" (one line per event:
	// local time, host, summary; it takes precedence over JSON) or "auto"
	// (the CLI picks one).
	Format string

	now time.Time // what relative times (since=today) are relative to
}

// Type is the type of a key's value.
type Type uint8

const (
	String Type = iota
	Bool
	Int
	Enum
	Duration
	List
	Uint32  // optional: unset unless given
	Time    // an instant as ausearch -ts reads it (see parseWhen); zero unless given
	EndTime // the same, read as ausearch -te does
)

var typeNames = [...]string{String: "string", Bool: "bool", Int: "int", Enum: "string", Duration: "duration", List: "list", Uint32: "uint", Time: "time", EndTime: "time"}

func (t Type) String() string { return typeNames[t] }

// Scope says which front end has a key.
type Scope uint8

const (
	Plugin Scope = 1 << iota // a Fluent Bit property
	CLI                      // a --flag of the CLI
	Both   = Plugin | CLI
)

func (s Scope) String() string {
	switch s {
	case Plugin:
		return "plugin"
	case CLI:
		return "CLI"
	}
	return "both"
}

// Key describes one configuration key: a Fluent Bit property of the
// plugin and/or a --flag of the CLI.
type Key struct {
	Name    string
	Type    Type
	Default string
	Scope   Scope
	Help    string
	// Min and Max bound an Int (and a Duration, in nanoseconds).
	Min, Max int64
	// Values are the accepted values of an Enum.
	Values []string
	// Sep separates the items of a List (default ",").
	Sep string
	// Off is a Duration value meaning "never" (stored as 0).
	Off string
	// Check validates each item of a List, or a String's value.
	Check func(string) error
	// field points at the Config field the key sets: *string, *bool, *int,
	// *time.Duration, *[]string, **uint32 or *time.Time, per Type.
	field func(*Config) any
}

// Keys lists every configuration key, in documentation order.
var Keys = []Key{
	{Name: "source", Type: Enum, Default: "file", Scope: Plugin, Values: []string{"file", "kernel"},
		Help:  "where records come from: `file` (audit log files) or `kernel` (audit netlink socket)",
		field: func(c *Config) any { return &c.Source }},
	{Name: "path", Type: String, Default: "/var/log/audit/audit.log", Scope: Plugin,
		Help:  "audit log file or glob (source file); RAW or ENRICHED, with or without node=",
		field: func(c *Config) any { return &c.Path }},
	{Name: "db", Type: String, Scope: Plugin,
		Help:  "offsets file: the position is saved there after every delivered batch and resumed on restart (source file); empty = no persistence",
		field: func(c *Config) any { return &c.DB }},
	{Name: "read_from_head", Type: Bool, Default: "false", Scope: Plugin,
		Help:  "start files without a saved position at their beginning instead of their end (source file)",
		field: func(c *Config) any { return &c.ReadFromHead }},
	{Name: "kernel_mode", Type: Enum, Default: "auto", Scope: Plugin, Values: []string{"auto", "multicast", "unicast"},
		Help:  "`multicast` (read-only beside auditd), `unicast` (become the audit daemon) or `auto` (multicast when an audit daemon is registered, else unicast) (source kernel)",
		field: func(c *Config) any { return &c.KernelMode }},
	{Name: "kernel_rules", Type: List, Sep: ";", Scope: Plugin, Check: rules.Check,
		Help:  "audit rules to install at start and remove at exit, auditctl syntax, separated by `;` (source kernel)",
		field: func(c *Config) any { return &c.KernelRules }},
	{Name: "kernel_rules_file", Type: String, Scope: Plugin, Check: rules.CheckFile,
		Help:  "file of audit rules, one per line, auditctl syntax (source kernel)",
		field: func(c *Config) any { return &c.KernelRulesFile }},
	{Name: "kernel_kill_rules", Type: Bool, Default: "false", Scope: Plugin,
		Help:  "install the built-in kill-monitoring rules (kill, tkill, tgkill without SIGURG, pidfd_send_signal, rt_sigqueueinfo; 64 and 32 bit; key `kill`) (source kernel)",
		field: func(c *Config) any { return &c.KernelKillRules }},
	{Name: "kernel_backlog_limit", Type: Uint32, Scope: Plugin,
		Help:  "set the kernel's audit backlog limit (only when given) (source kernel)",
		field: func(c *Config) any { return &c.KernelBacklogLimit }},
	{Name: "kernel_rate_limit", Type: Uint32, Scope: Plugin,
		Help:  "set the kernel's audit rate limit in messages/s (only when given) (source kernel)",
		field: func(c *Config) any { return &c.KernelRateLimit }},
	{Name: "kernel_backlog_wait_time", Type: Uint32, Scope: Plugin,
		Help:  "set the kernel's backlog wait time in jiffies (only when given) (source kernel)",
		field: func(c *Config) any { return &c.KernelBacklogWaitTime }},
	{Name: "hostname", Type: String, Scope: Both,
		Help:  "host name written as host.name in every document without node= (default: this machine's name for the plugin; none for the CLI)",
		field: func(c *Config) any { return &c.Enrich.Hostname }},
	{Name: "schema", Type: Enum, Default: "default", Scope: Both, Values: []string{"default", "ecs"},
		Help:  "output schema: `default` or `ecs` (Elastic auditd integration field names)",
		field: func(c *Config) any { return &c.Enrich.Schema }},
	{Name: "raw", Type: Bool, Default: "false", Scope: Both,
		Help:  "add the event's raw records to each document (`raw` array)",
		field: func(c *Config) any { return &c.Enrich.Raw }},
	{Name: "full", Type: Bool, Default: "false", Scope: Both,
		Help:  "write the full form of every document: by default what another field already says is left out (ids equal to uid/gid, argument arrays that the command line splits back into, target.first, event.time/msec, zero capability sets; in ECS process.command_line beside EXECVE's process.args and auditd.summary_text beside message)",
		field: func(c *Config) any { return &c.Enrich.Full }},
	{Name: "ancestry_depth", Type: Int, Default: "4", Scope: Both, Min: 0, Max: 16,
		Help:  "how many ancestors of the caller to report",
		field: func(c *Config) any { return &c.Enrich.AncestryDepth }},
	{Name: "proc", Type: Enum, Default: "auto", Scope: Both, Values: []string{"auto", "true", "false"},
		Help:  "read /proc for live process context: `true`, `false`, or `auto` (true for source kernel and for files being tailed at their end; false in the CLI)",
		field: func(c *Config) any { return &c.Proc }},
	{Name: "proc_events", Type: Enum, Default: "auto", Scope: Plugin, Values: []string{"auto", "true", "false"},
		Help:  "follow fork, exec and exit through the kernel's process events connector when live on the host (needs CAP_NET_ADMIN): processes that live a few ms are known, and exits feed `watch_*`; `auto` falls back to /proc rescans (said at start), `true` fails instead",
		field: func(c *Config) any { return &c.ProcEvents }},
	{Name: "kmsg", Type: Enum, Default: "auto", Scope: Plugin, Values: []string{"auto", "true", "false"},
		Help:  "read the kernel's OOM kills from /dev/kmsg when live on the host (root or CAP_SYSLOG): one `oom-killed-pid` event each; `auto` when readable",
		field: func(c *Config) any { return &c.Kmsg }},
	{Name: "kernel_log", Type: List, Scope: CLI,
		Help:  "saved kernel logs (dmesg, dmesg -T, journalctl -k, kern.log) whose OOM kills join the audit log, in time order",
		field: func(c *Config) any { return &c.KernelLogs }},
	{Name: "watch_units", Type: List, Scope: Plugin, Check: enrich.CheckPattern,
		Help:  "systemd units (shell patterns) whose every process exit is a `died` event with its cause: the kill and its sender, the OOM kill, the crash, or the exit code (needs `proc_events`)",
		field: func(c *Config) any { return &c.Enrich.Watch.Units }},
	{Name: "watch_containers", Type: List, Scope: Plugin, Check: checkContainerID,
		Help:  "container ids (or prefixes of 12 hex digits or more) whose processes' exits are `died` events",
		field: func(c *Config) any { return &c.Enrich.Watch.Containers }},
	{Name: "watch_comms", Type: List, Scope: Plugin, Check: enrich.CheckPattern,
		Help:  "process names or executable base names (shell patterns) whose exits are `died` events",
		field: func(c *Config) any { return &c.Enrich.Watch.Comms }},
	{Name: "container_names", Type: Bool, Default: "true", Scope: Both,
		Help:  "name the containers of callers and targets as Fluent Bit's kubernetes filter does (`kubernetes.pod_name`, `namespace_name`, `container_name`, `pod_id`; ECS `container.*`, `orchestrator.*`, `kubernetes.*`) from the kubelet's /var/log/containers and /var/log/pods and Docker's config.v2.json, no API call (live process context only)",
		field: func(c *Config) any { return &c.Enrich.ContainerNames }},
	{Name: "containers_root", Type: String, Default: "/", Scope: Both,
		Help:  "where the node's /var/log/containers, /var/log/pods and /var/lib/docker/containers are read (the host's root mounted elsewhere, a test tree)",
		field: func(c *Config) any { return &c.Enrich.ContainersRoot }},
	{Name: "event_timeout", Type: Duration, Default: "2s", Scope: Both, Min: int64(10 * time.Millisecond), Max: int64(time.Hour),
		Help:  "close an event this long after its first record when no end marker came",
		field: func(c *Config) any { return &c.EventTimeout }},
	{Name: "max_in_flight", Type: Int, Default: "4096", Scope: Both, Min: 1, Max: 1 << 20,
		Help:  "open (incomplete) events kept at most; the oldest is emitted early and counted as evicted",
		field: func(c *Config) any { return &c.MaxInFlight }},
	{Name: "workers", Type: Enum, Default: "auto", Scope: Both, Values: []string{"auto", "1", "2"},
		Help:  "goroutines doing the work: `1` reads, parses, correlates, enriches and encodes on one (the fewest CPU-seconds per event); `2` enriches and encodes on a second (the CLI writes on a third): on the 2-vCPU machine measured the CLI finished 7-18% sooner at 1.5 times the CPU-seconds, and Fluent Bit delivered the same rate at 4-14% more CPU and 18-27% more memory (README, Numbers); `auto`: 2 for reading logs to their end and for the kernel source (it must not fall behind the kernel), 1 for following a file (it waits, never loses). With one CPU it is 1",
		field: func(c *Config) any { return &c.Workers }},
	{Name: "include_types", Type: List, Scope: Both, Check: enrich.CheckType,
		Help:  "only emit events containing one of these record types (comma separated, e.g. SYSCALL,USER_AUTH)",
		field: func(c *Config) any { return &c.Enrich.IncludeTypes }},
	{Name: "exclude_types", Type: List, Scope: Both, Check: enrich.CheckType,
		Help:  "drop events whose first record has one of these types",
		field: func(c *Config) any { return &c.Enrich.ExcludeTypes }},
	{Name: "include_keys", Type: List, Scope: Both,
		Help:  "only emit events with one of these audit keys",
		field: func(c *Config) any { return &c.Enrich.IncludeKeys }},
	{Name: "exclude_keys", Type: List, Scope: Both,
		Help:  "drop events with one of these audit keys",
		field: func(c *Config) any { return &c.Enrich.ExcludeKeys }},
	{Name: "include_syscalls", Type: List, Scope: Both, Check: enrich.CheckSyscall,
		Help:  "only emit syscall events with one of these syscall names (non-syscall events pass)",
		field: func(c *Config) any { return &c.Enrich.IncludeSyscalls }},
	{Name: "exclude_syscalls", Type: List, Scope: Both, Check: enrich.CheckSyscall,
		Help:  "drop syscall events with one of these syscall names",
		field: func(c *Config) any { return &c.Enrich.ExcludeSyscalls }},
	{Name: "include_signals", Type: List, Scope: Both, Check: enrich.CheckSignal,
		Help:  "only emit signal events with one of these signals (names like SIGKILL or numbers)",
		field: func(c *Config) any { return &c.Enrich.IncludeSignals }},
	{Name: "exclude_signals", Type: List, Scope: Both, Check: enrich.CheckSignal,
		Help:  "drop signal events with one of these signals",
		field: func(c *Config) any { return &c.Enrich.ExcludeSignals }},
	{Name: "drop_sigurg", Type: Bool, Default: "true", Scope: Both,
		Help:  "drop tgkill/tkill with SIGURG (the Go runtime's preemption signal)",
		field: func(c *Config) any { return &c.Enrich.DropSIGURG }},
	{Name: "since", Type: Time, Scope: CLI,
		Help:  "only events at or after this time, as `ausearch -ts` reads it: `recent` (10 minutes ago), `now`, `boot`, `today`, `yesterday`, `this-week`, `week-ago`, `this-month`, `this-year`, a date `MM/DD/YYYY` (or `MM/DD/YY`, `YYYY-MM-DD`) and an optional time `HH:MM[:SS]` (midnight without one), a time alone (today's), or ISO 8601 `2026-11-27T01:24:00` (local time unless it ends in `Z` or `+01:00`)",
		field: func(c *Config) any { return &c.Enrich.Search.Since }},
	{Name: "until", Type: EndTime, Scope: CLI,
		Help:  "only events at or before this time; the forms of `since`, read as `ausearch -te` does: a date without a time is that date at the current time of day, `today` is now",
		field: func(c *Config) any { return &c.Enrich.Search.Until }},
	{Name: "pid", Type: List, Scope: CLI, Check: enrich.CheckPID,
		Help:  "only events whose caller has one of these pids",
		field: func(c *Config) any { return &c.Enrich.Search.PIDs }},
	{Name: "target_pid", Type: List, Scope: CLI, Check: enrich.CheckPID,
		Help:  "only events that sent a signal to one of these pids: a target of the signal (OBJ_PID), or the pid argument of a kill that reached nobody (ESRCH)",
		field: func(c *Config) any { return &c.Enrich.Search.TargetPIDs }},
	{Name: "unit", Type: List, Scope: Both, Check: enrich.CheckUnit,
		Help:  "only events whose caller or a target runs in one of these systemd units (`nginx` is nginx.service); needs process context (`proc`: live sources, not old logs)",
		field: func(c *Config) any { return &c.Enrich.Search.Units }},
	{Name: "key", Type: List, Scope: CLI, Check: enrich.CheckKey,
		Help:  "only events with one of these audit keys (as `ausearch -k`; combines with include_keys)",
		field: func(c *Config) any { return &c.Enrich.Search.Keys }},
	{Name: "kind", Type: List, Scope: Both, Check: enrich.CheckKind,
		Help:  "only events of one of these kinds (event.kind: kill, file, exec, syscall, user, config, daemon, service, anomaly, other)",
		field: func(c *Config) any { return &c.Enrich.Search.Kinds }},
	{Name: "syscall", Type: List, Scope: CLI, Check: enrich.CheckSyscall,
		Help:  "only events of one of these syscalls (as `ausearch -sc`: events without a syscall do not match, unlike include_syscalls)",
		field: func(c *Config) any { return &c.Enrich.Search.Syscalls }},
	{Name: "success", Type: Enum, Default: "any", Scope: Both, Values: []string{"any", "yes", "no"},
		Help:  "only events that succeeded (`yes`) or failed (`no`): the syscall's success, or a user-space record's res= (as `ausearch -sv`); `any`: both",
		field: func(c *Config) any { return &c.Enrich.Search.Success }},
	{Name: "format", Type: Enum, Default: "auto", Scope: CLI, Values: []string{"auto", "json", "text"},
		Help:  "output: `json` (one JSON document per line), `text` (one line per event: local time, host, summary) or `auto` (text when standard output is a terminal, else json)",
		field: func(c *Config) any { return &c.Format }},
	{Name: "queue_max_bytes", Type: Int, Default: "8388608", Scope: Plugin, Min: 64 << 10, Max: 1 << 34,
		Help:  "bytes of encoded records waiting for the hand-over at most, besides the batch Fluent Bit takes next (buffer_max_size); when both are full the file source waits, the kernel source drops and counts",
		field: func(c *Config) any { return &c.QueueMaxBytes }},
	{Name: "buffer_max_size", Type: Int, Default: "67108864", Scope: Plugin, Min: 4 << 10, Max: 1 << 30,
		Help:  "bytes handed to Fluent Bit per callback at most (the batch is filled all along; the rest waits for the next call). Fluent Bit calls a Go input once per second, so this caps the rate: 64 MiB is about 77,000 events/s of the default schema (66,000 measured in Fluent Bit 5.1 on 2 cores); Fluent Bit's peak memory grows by about three times this",
		field: func(c *Config) any { return &c.BufferMaxSize }},
	{Name: "stats_interval", Type: Duration, Default: "60s", Scope: Plugin, Min: int64(time.Second), Max: int64(24 * time.Hour), Off: "0",
		Help:  "how often statistics are logged",
		field: func(c *Config) any { return &c.StatsInterval }},
	{Name: "stats_record", Type: Bool, Default: "false", Scope: Plugin,
		Help:  "also emit statistics as a record (`event.kind: stats`)",
		field: func(c *Config) any { return &c.StatsRecord }},
}

// ConfigError names the offending key.
type ConfigError struct {
	Key, Value, Why string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid value %q for key %q: %s", e.Value, e.Key, e.Why)
}

// Parse builds a Config from get, which returns the value of a key and
// whether it was set (a Fluent Bit property lookup or CLI flags). Every
// value is checked here, before anything is opened or touched; the first
// bad one is reported as a *ConfigError naming the key.
func Parse(get func(key string) (string, bool)) (Config, error) {
	return ParseAt(get, time.Now())
}

// ParseAt is Parse with relative times (since=today) relative to now, and
// dates read in now's location.
func ParseAt(get func(key string) (string, bool), now time.Time) (Config, error) {
	c := Config{now: now}
	for i := range Keys {
		k := &Keys[i]
		v := k.Default
		if s, ok := get(k.Name); ok && strings.TrimSpace(s) != "" {
			v = strings.TrimSpace(s)
		}
		if err := k.set(&c, v); err != nil {
			return c, &ConfigError{k.Name, v, err.Error()}
		}
	}
	return c, nil
}

// Default returns the configuration with every key at its default.
func Default() Config {
	c, _ := Parse(func(string) (string, bool) { return "", false })
	return c
}

type why string

func (w why) Error() string { return string(w) }

// set parses v as the key's type and stores it in c.
func (k *Key) set(c *Config, v string) error {
	switch p := k.field(c).(type) {
	case *string:
		if k.Type == Enum && !contains(k.Values, v) {
			return why("accepted: " + strings.Join(k.Values, ", "))
		}
		if k.Check != nil && v != "" {
			if err := k.Check(v); err != nil {
				return err
			}
		}
		*p = v
	case *bool:
		b, ok := parseBool(v)
		if !ok {
			return why("accepted: true, false (on/off, yes/no)")
		}
		*p = b
	case *int:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < k.Min || n > k.Max {
			return why(fmt.Sprintf("expected a number from %d to %d", k.Min, k.Max))
		}
		*p = int(n)
	case *time.Duration:
		if k.Off != "" && v == k.Off {
			*p = 0
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			if n, e := strconv.Atoi(v); e == nil {
				d, err = time.Duration(n)*time.Second, nil
			}
		}
		if err != nil || int64(d) < k.Min || int64(d) > k.Max {
			return why(fmt.Sprintf("expected a duration from %v to %v (e.g. 2s, 500ms)", time.Duration(k.Min), time.Duration(k.Max)))
		}
		*p = d
	case *[]string:
		sep := k.Sep
		if sep == "" {
			sep = ","
		}
		var out []string
		for _, s := range strings.Split(v, sep) {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			if k.Check != nil {
				if err := k.Check(s); err != nil {
					return fmt.Errorf("%q: %w", s, err)
				}
			}
			out = append(out, s)
		}
		*p = out
	case **uint32:
		if v == "" {
			return nil
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return why("expected a non-negative number")
		}
		u := uint32(n)
		*p = &u
	case *time.Time:
		if v == "" {
			return nil
		}
		t, err := parseWhen(v, c.now, k.Type == EndTime)
		if err != nil {
			return err
		}
		*p = t
	default:
		panic("pipeline: key " + k.Name + " has a field of an unknown type")
	}
	return nil
}

// checkContainerID accepts a container id or a prefix of one (12 hex
// digits or more).
func checkContainerID(s string) error {
	if len(s) < 12 || len(s) > 64 {
		return why("a container id: 12 to 64 hex digits")
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return why("a container id: 12 to 64 lower-case hex digits")
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// ParseBool accepts true/false, on/off, yes/no, 1/0 (any case).
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "on", "yes", "1":
		return true, true
	case "false", "off", "no", "0":
		return false, true
	}
	return false, false
}

// IsBool reports whether a key takes no value on a command line.
func (k *Key) IsBool() bool { return k.Type == Bool }

// Accepted describes the values a key takes, for help texts: the enum
// values, the range of a number or duration.
func (k *Key) Accepted() string {
	switch k.Type {
	case Enum:
		return strings.Join(k.Values, ", ")
	case Int:
		return fmt.Sprintf("%d-%d", k.Min, k.Max)
	case Duration:
		s := fmt.Sprintf("%v-%v", time.Duration(k.Min), time.Duration(k.Max))
		if k.Off != "" {
			s += ", " + k.Off + " = never"
		}
		return s
	}
	return ""
}

// Markdown is the README's configuration table, made from Keys.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| key | type | default | where | meaning |\n|---|---|---|---|---|\n")
	for _, k := range Keys {
		d := "`" + k.Default + "`"
		if k.Default == "" {
			d = "(empty)"
		}
		help := k.Help
		if a := k.Accepted(); a != "" && k.Type != Enum {
			help += " (" + a + ")"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.Name, k.Type, d, k.Scope, help)
	}
	return b.String()
}

// parallel says whether a second goroutine enriches and encodes (the
// workers key); finite: the input is read to its end (the CLI's batch).
func (c Config) parallel(finite bool) bool {
	if runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	switch c.Workers {
	case "1":
		return false
	case "2":
		return true
	}
	// auto. Following a file, one goroutine: inside Fluent Bit 5.1 on 2
	// vCPUs it delivered the same 49,800 events/s as two, with 4-13% fewer
	// CPU-seconds and 18-27% less peak memory (README, Numbers).
	return finite || c.Source == "kernel"
}
