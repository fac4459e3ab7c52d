package enrich

// The vocabularies of the output, each a typed constant with one table: a
// new kind, operation or scope is one row, and a misspelt name does not
// compile.

// Kind is what an event is about (event.kind in the default schema).
type Kind uint8

const (
	KindOther Kind = iota
	KindKill
	KindExec
	KindFile
	KindConfig
	KindSyscall
	KindUser
	KindDaemon
	KindService
	KindAnomaly
	KindUnparsed // a line that is not an audit record (kept with raw=true)
	KindOOM      // a kernel OOM kill (from the kernel's log, not audit)
	KindDeath    // a watched process ended (process events connector)
	numKinds
)

// kinds: the name and ECS category/type of each kind (file events take
// their ECS type from the operation).
var kinds = [numKinds]struct {
	name     string
	category string // ECS event.category
	typ      string // ECS event.type
}{
	KindOther:    {"other", CategoryProcess, TypeInfo},
	KindKill:     {"kill", CategoryProcess, TypeEnd},
	KindExec:     {"exec", CategoryProcess, TypeStart},
	KindFile:     {"file", CategoryFile, TypeChange},
	KindConfig:   {"config", CategoryConfiguration, TypeChange},
	KindSyscall:  {"syscall", CategoryProcess, TypeInfo},
	KindUser:     {"user", CategoryAuthentication, TypeInfo},
	KindDaemon:   {"daemon", CategoryProcess, TypeInfo},
	KindService:  {"service", CategoryProcess, TypeInfo},
	KindAnomaly:  {"anomaly", CategoryProcess, TypeInfo},
	KindUnparsed: {"unparsed", "", ""},
	KindOOM:      {"oom", CategoryProcess, TypeEnd},
	KindDeath:    {"death", CategoryProcess, TypeEnd},
}

func (k Kind) String() string { return kinds[k].name }

// ECS event.category and event.type values.
const (
	CategoryProcess        = "process"
	CategoryFile           = "file"
	CategoryConfiguration  = "configuration"
	CategoryAuthentication = "authentication"
	CategorySession        = "session"

	TypeStart    = "start"
	TypeEnd      = "end"
	TypeInfo     = "info"
	TypeChange   = "change"
	TypeCreation = "creation"
	TypeDeletion = "deletion"
	TypeAccess   = "access"
)

// Outcome is event.outcome.
type Outcome uint8

const (
	OutcomeUnknown Outcome = iota
	OutcomeSuccess
	OutcomeFailure
)

var outcomes = [...]struct{ name, ecsResult string }{
	OutcomeUnknown: {"unknown", "unknown"},
	OutcomeSuccess: {"success", "success"},
	OutcomeFailure: {"failure", "fail"},
}

func (o Outcome) String() string { return outcomes[o].name }

// Actions of the events we model (Elastic auditd naming); the others
// take go-libaudit's (recordAction, syscallAction).
const (
	ActionKilled     = "killed-pid"
	ActionExecuted   = "executed"
	ActionAuditCfg   = "changed-audit-configuration"
	ActionSyscall    = "syscall"
	ActionUnknown    = "unknown"
	ActionOpenedFile = "opened-file"
	ActionUnparsed   = "unparsed-line"
)

// recordKinds classifies events without a SYSCALL record by the type of
// their first record: kind, and event.category of the default schema.
// Their action is go-libaudit's (recordAction); types not here are
// KindOther with go-libaudit's category.
var recordKinds = map[string]recordKind{
	"USER_AUTH":     {KindUser, CategoryAuthentication},
	"USER_ACCT":     {KindUser, CategoryAuthentication},
	"USER_START":    {KindUser, CategorySession},
	"USER_END":      {KindUser, CategorySession},
	"USER_LOGIN":    {KindUser, CategoryAuthentication},
	"USER_LOGOUT":   {KindUser, CategoryAuthentication},
	"CRED_ACQ":      {KindUser, CategoryAuthentication},
	"CRED_DISP":     {KindUser, CategoryAuthentication},
	"CRED_REFR":     {KindUser, CategoryAuthentication},
	"USER_CMD":      {KindUser, CategoryProcess},
	"USER_ERR":      {KindUser, CategoryAuthentication},
	"CONFIG_CHANGE": {KindConfig, CategoryConfiguration},
	"DAEMON_START":  {KindDaemon, CategoryProcess},
	"DAEMON_END":    {KindDaemon, CategoryProcess},
	"DAEMON_ROTATE": {KindDaemon, CategoryProcess},
	"SERVICE_START": {KindService, CategoryProcess},
	"SERVICE_STOP":  {KindService, CategoryProcess},
	"ANOM_ABEND":    {KindAnomaly, CategoryProcess},
	"LOGIN":         {KindUser, CategoryAuthentication},
}

type recordKind struct {
	kind     Kind
	category string
}

// FileOp is what a file syscall did (file.operation).
type FileOp uint8

const (
	OpNone FileOp = iota
	OpCreate
	OpWrite
	OpAppend
	OpTruncateOpen
	OpRead
	OpDelete
	OpRmdir
	OpRename
	OpLink
	OpSymlink
	OpChmod
	OpChown
	OpXattr
	OpTimes
	OpTruncate
	OpMkdir
	OpMknod
	OpAccess
	// opOpen and opCreat are resolved from the open flags into one of the
	// operations above.
	opOpen
	opCreat
	numFileOps
)

// fileOps: name, event.action, the summary's verb (done, failed) and the
// ECS event.type of each operation.
var fileOps = [numFileOps]struct {
	name, action, done, failed, ecsType string
}{
	OpCreate:       {"create", ActionOpenedFile, "created", "create", TypeCreation},
	OpWrite:        {"write", ActionOpenedFile, "opened", "open", TypeChange},
	OpAppend:       {"append", ActionOpenedFile, "opened", "open", TypeChange},
	OpTruncateOpen: {"truncate-open", ActionOpenedFile, "truncated", "truncate", TypeChange},
	OpRead:         {"read", ActionOpenedFile, "opened", "open", TypeAccess},
	OpDelete:       {"delete", "deleted", "deleted", "delete", TypeDeletion},
	OpRmdir:        {"rmdir", "deleted", "removed directory", "remove directory", TypeDeletion},
	OpRename:       {"rename", "renamed", "renamed", "rename", TypeChange},
	OpLink:         {"link", "linked", "linked", "link", TypeCreation},
	OpSymlink:      {"symlink", "linked", "created symlink", "create symlink", TypeCreation},
	OpChmod:        {"chmod", "changed-file-permissions-of", "changed mode of", "change mode of", TypeChange},
	OpChown:        {"chown", "changed-file-ownership-of", "changed owner of", "change owner of", TypeChange},
	OpXattr:        {"xattr", "changed-file-attributes-of", "changed extended attributes of", "change extended attributes of", TypeChange},
	OpTimes:        {"times", "changed-timestamp-of", "changed times of", "change times of", TypeChange},
	OpTruncate:     {"truncate", "wrote-to-file", "truncated", "truncate", TypeChange},
	OpMkdir:        {"mkdir", "created-directory", "created directory", "create directory", TypeCreation},
	OpMknod:        {"mknod", "made-device", "created node", "create node", TypeCreation},
	OpAccess:       {"access", ActionOpenedFile, "accessed", "access", TypeChange},
}

func (o FileOp) String() string { return fileOps[o].name }

// fileSyscalls: the operation of each file syscall, the argument holding
// its open flags and the one holding its directory fd (-1: none).
var fileSyscalls = func() map[string]fileSyscall {
	m := map[string]fileSyscall{}
	for _, r := range []struct {
		names           []string
		op              FileOp
		flagsArg, dirfd int8
	}{
		{[]string{"open"}, opOpen, 1, -1},
		{[]string{"openat"}, opOpen, 2, 0},
		{[]string{"openat2"}, opOpen, -1, 0},
		{[]string{"creat"}, opCreat, -1, -1},
		{[]string{"unlink"}, OpDelete, -1, -1},
		{[]string{"unlinkat"}, OpDelete, -1, 0},
		{[]string{"rmdir"}, OpRmdir, -1, -1},
		{[]string{"rename"}, OpRename, -1, -1},
		{[]string{"renameat", "renameat2"}, OpRename, -1, 0},
		{[]string{"link"}, OpLink, -1, -1},
		{[]string{"linkat"}, OpLink, -1, 0},
		{[]string{"symlink"}, OpSymlink, -1, -1},
		{[]string{"symlinkat"}, OpSymlink, -1, 1},
		{[]string{"chmod", "fchmod"}, OpChmod, -1, -1},
		{[]string{"fchmodat", "fchmodat2"}, OpChmod, -1, 0},
		{[]string{"chown", "lchown", "fchown", "chown32", "lchown32", "fchown32"}, OpChown, -1, -1},
		{[]string{"fchownat"}, OpChown, -1, 0},
		{[]string{"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat"}, OpXattr, -1, -1},
		{[]string{"utime", "utimes"}, OpTimes, -1, -1},
		{[]string{"futimesat", "utimensat", "utimensat_time64"}, OpTimes, -1, 0},
		{[]string{"truncate", "ftruncate", "truncate64", "ftruncate64"}, OpTruncate, -1, -1},
		{[]string{"mkdir"}, OpMkdir, -1, -1},
		{[]string{"mkdirat"}, OpMkdir, -1, 0},
		{[]string{"mknod"}, OpMknod, -1, -1},
		{[]string{"mknodat"}, OpMknod, -1, 0},
	} {
		for _, n := range r.names {
			m[n] = fileSyscall{r.op, int(r.flagsArg), int(r.dirfd)}
		}
	}
	return m
}()

type fileSyscall struct {
	op              FileOp
	flagsArg, dirfd int
}

// Scope says what a signal's target pid argument meant (target.scope).
type Scope uint8

const (
	ScopeNone Scope = iota
	ScopeProcess
	ScopeThread
	ScopeProcessGroup
	ScopeCallerGroup
	ScopeAll
	ScopePidfd
	numScopes
)

var scopeNames = [numScopes]string{"", "process", "thread", "process_group", "caller_group", "all", "pidfd"}

func (s Scope) String() string { return scopeNames[s] }

// signalSyscalls: where each signal-sending syscall has its signal and its
// target pid (-1: none), and whether it signals threads or a pidfd.
var signalSyscalls = map[string]struct {
	sigArg, pidArg int
	scope          Scope // fixed scope; ScopeNone: from the pid's value
}{
	"kill":              {1, 0, ScopeNone},
	"tkill":             {1, 0, ScopeThread},
	"tgkill":            {2, 0, ScopeThread},
	"rt_sigqueueinfo":   {1, 0, ScopeNone},
	"rt_tgsigqueueinfo": {2, 0, ScopeThread},
	"pidfd_send_signal": {1, -1, ScopePidfd},
}
