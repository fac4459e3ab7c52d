// Command gen regenerates the small real-kernel audit logs of
// internal/corpus that the shared corpus lacks: kills.log (every signal
// sending syscall, process-group and whole-namespace kills, failed kills, a
// 32-bit caller, hostile process names, a target in a systemd-like cgroup)
// and files.log (file-watch events: create, append, truncate, sed -i,
// rename, link, symlink, unlink, chmod, chown, setxattr, utimes, relative
// paths, openat on a directory fd, an unprivileged user's write and failed
// write, hostile file names). It also writes kills.ausearch.txt,
// files.ausearch.txt (ausearch -i -if) and README.md (the scenario tables,
// built from the events it captured).
//
// Run it as root on a Linux machine with kernel audit, auditd (log_format =
// ENRICHED in /etc/audit/auditd.conf, writing /var/log/audit/audit.log),
// ausearch, gcc and gcc-multilib (gcc -m32), util-linux (setpriv, unshare,
// setsid) and cgroup v1 hybrid mounts under /sys/fs/cgroup:
//
//	cd /work/main && go run ./internal/corpus/gen -out internal/corpus
//
// It takes the audit test lock (/run/lock/linuxaudit-tests.lock, as
// internal/audittest does), enables audit and starts auditd only if they
// were off (and turns them off again afterwards), adds its own rules (keys
// gen_*; the signal rules are limited to auid=0), removes exactly those
// rules at the end, and runs every step in a new session whose loginuid it
// sets to 0, so that the step's session id (ses=) names the step and no
// other process on the machine can match. The events kept are every event
// whose SYSCALL record has a gen_* key and one of the steps' session ids;
// all their records are copied exactly as auditd wrote them.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	lockPath = "/run/lock/linuxaudit-tests.lock"
	logPath  = "/var/log/audit/audit.log"
)

var (
	outDir   = flag.String("out", "internal/corpus", "directory to write the logs and README.md into")
	keepWork = flag.Bool("keep", false, "keep the work directory")
	verbose  = flag.Bool("v", false, "print each step's output")
)

// A step is one scenario: a bash script run in its own session.
type step struct {
	name string   // short label, used in the README
	desc string   // what happens
	sh   string   // bash script; env: W work dir, D watch dir, H helper, H32 32-bit helper
	env  []string // extra environment

	ses    string            // session id, filled in when run
	out    map[string]string // KEY=VALUE lines printed by the step (last wins)
	outAll []string
}

var cleanups []func()

func atExit(f func()) { cleanups = append(cleanups, f) }

func cleanup() {
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "gen: "+format+"\n", a...)
	cleanup()
	os.Exit(1)
}

func run(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		fatal("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func status() map[string]int64 {
	m := map[string]int64{}
	for _, l := range strings.Split(run("auditctl", "-s"), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m
}

// rule adds an audit rule and registers its removal.
func rule(args ...string) {
	run("auditctl", args...)
	del := append([]string(nil), args...)
	switch del[0] {
	case "-a":
		del[0] = "-d"
	case "-w":
		del[0] = "-W"
	}
	atExit(func() {
		if out, err := exec.Command("auditctl", del...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "gen: removing rule %v: %v %s\n", del, err, out)
		}
	})
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fatal("must run as root")
	}
	out, err := filepath.Abs(*outDir)
	if err != nil {
		fatal("%v", err)
	}
	if conf, err := os.ReadFile("/etc/audit/auditd.conf"); err != nil ||
		!regexp.MustCompile(`(?m)^\s*log_format\s*=\s*ENRICHED\s*$`).Match(conf) {
		fatal("/etc/audit/auditd.conf must have log_format = ENRICHED")
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() { <-sigs; fatal("interrupted") }()

	// The lock every kernel-touching test of the project takes.
	os.MkdirAll("/run/lock", 0o755)
	lf, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		fatal("lock: %v", err)
	}
	fmt.Fprintln(os.Stderr, "gen: waiting for", lockPath)
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		fatal("lock: %v", err)
	}
	atExit(func() { syscall.Flock(int(lf.Fd()), syscall.LOCK_UN); lf.Close() })

	st := status()
	if st["enabled"] == 2 {
		fatal("audit configuration is locked (enabled 2)")
	}
	// Restored last (registered first): the enabled flag as found.
	enabled0 := st["enabled"]
	atExit(func() {
		if status()["enabled"] != enabled0 {
			run("auditctl", "-e", strconv.FormatInt(enabled0, 10))
		}
	})
	if p := st["pid"]; p == 0 || syscall.Kill(int(p), 0) != nil {
		startAuditd()
	}
	if status()["enabled"] == 0 {
		run("auditctl", "-e", "1")
	}

	work, err := os.MkdirTemp("", "gen-kills-")
	if err != nil {
		fatal("%v", err)
	}
	os.Chmod(work, 0o755)
	if !*keepWork {
		atExit(func() { os.RemoveAll(work) })
	}
	build(work)

	killSteps := killScenarios(work)
	fileSteps, watchDir := fileScenarios(work)
	start := time.Now().Add(-time.Second)

	// Signals. auid=0 (set by the step wrapper) keeps everything else on
	// the machine (Go runtimes' tgkill(SIGURG), other agents' kills) out.
	n := len(cleanups)
	for _, r := range [][]string{
		{"-a", "always,exit", "-F", "arch=b64", "-S", "kill", "-F", "auid=0", "-k", "gen_kill"},
		{"-a", "always,exit", "-F", "arch=b32", "-S", "kill", "-F", "auid=0", "-k", "gen_kill32"},
		{"-a", "always,exit", "-F", "arch=b64", "-S", "tkill", "-S", "tgkill", "-F", "auid=0", "-k", "gen_tkill"},
		{"-a", "always,exit", "-F", "arch=b64", "-S", "rt_sigqueueinfo", "-S", "rt_tgsigqueueinfo", "-F", "auid=0", "-k", "gen_sigqueue"},
		{"-a", "always,exit", "-F", "arch=b64", "-S", "pidfd_send_signal", "-F", "auid=0", "-k", "gen_pidfd"},
	} {
		rule(r...)
	}
	runSteps(killSteps, work, watchDir)
	removeSince(n)

	// Files. The dir rule on sub/ comes first: the kernel reports the key
	// of the first matching rule only, and a -w on a directory is the same
	// rule as -F dir=DIR -F perm=wa, so a dir rule on DIR itself, added
	// after the watch, would never show its key.
	n = len(cleanups)
	rule("-a", "always,exit", "-F", "arch=b64", "-S", "utimensat", "-S", "utimes", "-S", "utime", "-S", "futimesat", "-F", "dir="+watchDir, "-k", "gen_utime")
	rule("-a", "always,exit", "-F", "dir="+watchDir+"/sub", "-F", "perm=wa", "-k", "gen_dir")
	rule("-w", watchDir, "-p", "wa", "-k", "gen_watch")
	runSteps(fileSteps, work, watchDir)
	removeSince(n)

	kills := collect(killSteps, start)
	files := collect(fileSteps, start)
	write(out, "kills.log", kills, killSteps)
	write(out, "files.log", files, fileSteps)
	writeReadme(out, killSteps, fileSteps, kills, files, watchDir)
	cleanup()
}

// removeSince runs (and forgets) the cleanups registered after the first n.
func removeSince(n int) {
	for i := len(cleanups) - 1; i >= n; i-- {
		cleanups[i]()
	}
	cleanups = cleanups[:n]
}

func startAuditd() {
	if _, err := exec.LookPath("auditd"); err != nil {
		fatal("auditd not running and not installed")
	}
	run("auditd")
	var pid int64
	for i := 0; i < 100 && pid == 0; i++ {
		time.Sleep(50 * time.Millisecond)
		pid = status()["pid"]
	}
	if pid == 0 {
		fatal("auditd did not register with the kernel")
	}
	fmt.Fprintln(os.Stderr, "gen: started auditd, pid", pid)
	atExit(func() {
		syscall.Kill(int(pid), syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(int(pid), 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if status()["pid"] == pid {
			exec.Command("auditctl", "--reset-pid").Run()
		}
		fmt.Fprintln(os.Stderr, "gen: stopped auditd, pid", pid)
	})
}

func build(work string) {
	src := filepath.Join(work, "helper.c")
	if err := os.WriteFile(src, []byte(helperC), 0o644); err != nil {
		fatal("%v", err)
	}
	run("gcc", "-O1", "-Wall", "-pthread", "-o", filepath.Join(work, "helper"), src)
	run("gcc", "-m32", "-static", "-O1", "-Wall", "-pthread", "-o", filepath.Join(work, "helper32"), src)
}

func copyExe(src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		fatal("%v", err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		fatal("%v", err)
	}
}

// Hostile names: comm is the first 15 bytes of the executable's base name.
var hostile = []struct{ label, target, caller string }{
	{"space", "my sleep", "my killer"},
	{"newline", "sleep\nnl", "kill\nnl"},
	{"ESC", "\x1b[31msleep", "\x1b[31mkill"},
	{"invalid UTF-8", "sleep\xff\xfe", "kill\xff\xfe"},
	{"UTF-8", "sléep-été", ""},
	{"UTF-8 cut by the 15-byte comm limit", "sleep-éééééééé", ""},
}

func killScenarios(w string) []*step {
	os.WriteFile(filepath.Join(w, "loop.sh"), []byte("while :; do sleep 1; done\n"), 0o644)
	os.WriteFile(filepath.Join(w, "killer.sh"), []byte("echo CALLER=$$\nkill -9 $1\n"), 0o644)
	steps := []*step{
		{name: "kill -9", desc: "`sh loop.sh &` (dash running `while :; do sleep 1; done`) is killed by `sh killer.sh PID`, whose dash runs the builtin `kill -9 $1` (the seed's scenario)",
			sh: `sh loop.sh & T=$!; sleep 0.3; echo TARGET=$T; sleep 0.5; sh killer.sh $T; wait $T; echo STATUS=$?`},
		{name: "process-group kill", desc: "`setsid sh -c 'sleep 30 & ×5; wait'` makes a group of 6 (sh + 5 sleeps, pgid = the sh); `bash -c 'kill -TERM -- -$1'` kills the group: kill(-PGID, SIGTERM), one event with one OBJ_PID per member",
			sh: `setsid sh -c 'sleep 30 & sleep 30 & sleep 30 & sleep 30 & sleep 30 & wait' & G=$!; sleep 0.5; echo PGID=$G; echo MEMBERS="$(pgrep -g $G | sort -n | tr '\n' ' ')"; bash -c 'echo CALLER=$$; kill -TERM -- -$1' killpg $G; wait`},
		{name: "kill(0, SIGUSR1)", desc: "a bash in its own group (setsid) ignores SIGUSR1 (`trap '' USR1`, inherited by its 3 `sleep 2` children) and runs `kill -USR1 0`: kill(0, SIGUSR1) to its own group, the caller itself included; nobody dies",
			sh: `setsid bash -c 'trap "" USR1; sleep 2 & sleep 2 & sleep 2 & sleep 0.3; echo CALLER=$$; kill -USR1 0; echo RESULT=$?; wait'; wait`},
		{name: "kill(-1, 0)", desc: "in a new PID namespace (`unshare --pid --fork`), whose init is a sh with two `sleep 2` children, the helper calls kill(-1, 0): signal 0 (permission check only) to every process it may signal — in the namespace, all but init (sh) and itself, i.e. the two sleeps. CALLER printed is the namespace pid; the log has the real pids",
			sh: `unshare --pid --fork --kill-child sh -c 'sleep 2 & sleep 2 & sleep 0.3; "$H" kill -1 0; wait'`},
		{name: "EPERM", desc: "user nobody (`setpriv --reuid=65534 --regid=65534 --clear-groups`) runs `/usr/bin/kill -TERM PID` on a root `sleep 2`: kill fails with EPERM, the sleep lives",
			sh: `sleep 2 & T=$!; sleep 0.3; echo TARGET=$T; setpriv --reuid=65534 --regid=65534 --clear-groups kill -TERM $T; echo RC=$?; wait`},
		{name: "ESRCH", desc: "bash's builtin `kill -TERM PID` of a `sleep 0` already reaped: ESRCH, no OBJ_PID",
			sh: `sleep 0 & T=$!; wait $T; echo TARGET=$T; kill -TERM $T; echo RC=$?`},
		{name: "32-bit kill", desc: "helper32 (gcc -m32 -static) calls kill(PID, SIGTERM) on a `sleep 5`: arch=40000003 syscall=37",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H32" kill $T 15; wait`},
		{name: "tkill", desc: "helper: tkill(TID, SIGTERM) on a `sleep 5` (single-threaded: tid = pid)",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" tkill $T 15; wait`},
		{name: "tgkill", desc: "helper: tgkill(PID, PID, SIGTERM) on a `sleep 5`",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" tgkill $T $T 15; wait`},
		{name: "tgkill SIGURG other", desc: "helper: tgkill(PID, PID, SIGURG=23) on a `sleep 1`; SIGURG's default action is to ignore it, the sleep lives",
			sh: `sleep 1 & T=$!; sleep 0.3; echo TARGET=$T; "$H" tgkill $T $T 23; wait`},
		{name: "tgkill SIGURG self", desc: "helper starts a thread and sends it tgkill(getpid(), TID, SIGURG=23), as the Go runtime's asynchronous preemption does: the target is the caller's own process (opid = caller pid)",
			sh: `"$H" tgkill-self-urg`},
		{name: "rt_sigqueueinfo", desc: "helper: rt_sigqueueinfo(PID, SIGUSR1, {si_code=SI_QUEUE, value 42}) on a `sleep 5` (sigqueue(3))",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" sigqueue $T 10 42; wait`},
		{name: "rt_tgsigqueueinfo", desc: "helper: rt_tgsigqueueinfo(PID, PID, SIGUSR2, {si_code=SI_QUEUE, value 7}) on a `sleep 5`",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" tgsigqueue $T $T 12 7; wait`},
		{name: "pidfd_send_signal", desc: "helper: fd = pidfd_open(PID) then pidfd_send_signal(fd, SIGKILL, NULL, 0) on a `sleep 5` (a0 is the fd, not a pid: only OBJ_PID names the target)",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" pidfd $T 9; wait`},
	}
	for i, h := range hostile {
		tgt := filepath.Join(w, fmt.Sprintf("t%d", i), h.target)
		os.MkdirAll(filepath.Dir(tgt), 0o755)
		copyExe("/bin/sleep", tgt)
		callerDesc := "the helper"
		kil := filepath.Join(w, "helper")
		if h.caller != "" {
			kil = filepath.Join(w, fmt.Sprintf("t%d", i), h.caller)
			copyExe(filepath.Join(w, "helper"), kil)
			callerDesc = fmt.Sprintf("a copy of the helper named %q", h.caller)
		}
		steps = append(steps, &step{
			name: "name: " + h.label,
			desc: fmt.Sprintf("a copy of /bin/sleep named %q (run as `sleep 5`) is killed (kill, SIGTERM) by %s", h.target, callerDesc),
			sh:   `"$TGT" 5 & T=$!; sleep 0.3; echo TARGET=$T; "$KIL" kill $T 15; wait`,
			env:  []string{"TGT=" + tgt, "KIL=" + kil},
		})
	}
	steps = append(steps,
		&step{name: "name: prctl", desc: "the helper renames itself with prctl(PR_SET_NAME, `say \"hi\"`) and sleeps; a second helper renames itself `tab<TAB>here` and kills it (kill, SIGTERM); exe of both is the helper",
			sh: `"$H" setname-sleep 'say "hi"' 5 & T=$!; sleep 0.3; echo TARGET=$T; "$H" setname-kill $'tab\there' $T 15; wait`},
		&step{name: "stale PROCTITLE", desc: "a dash runs `kill -0 $$` (an audited kill(self, 0), which makes the kernel cache this task's PROCTITLE) then `exec`s the helper, which kills a `sleep 5` (kill, SIGTERM): the second event has comm/exe of the helper but the PROCTITLE of the dash (`sh -c ...`)",
			sh: `sleep 5 & T=$!; sleep 0.3; echo TARGET=$T; sh -c 'echo CALLER=$$; kill -0 $$; exec "$H" kill $1 15' stale $T; wait`},
		&step{name: "systemd-like cgroup", desc: "a `sleep 30` is moved (cgroup.procs) into system.slice/gen-demo.service of the unified (v2), pids and name=systemd hierarchies, then killed by the helper (kill, SIGTERM); the cgroup dirs are removed afterwards. The log does not show the cgroup",
			sh: cgroupScript},
	)
	return steps
}

// cgroupScript moves a target into a systemd-like service cgroup in every
// hierarchy that exists, kills it, and removes what it created.
const cgroupScript = `
sleep 30 & T=$!; sleep 0.3; echo TARGET=$T
made=""
for h in unified pids systemd; do
	r=/sys/fs/cgroup/$h
	[ -d $r ] || continue
	[ -d $r/system.slice ] || made="$made $r/system.slice"
	mkdir -p $r/system.slice/gen-demo.service || continue
	made="$made $r/system.slice/gen-demo.service"
	echo $T > $r/system.slice/gen-demo.service/cgroup.procs && echo MOVED_$h=$r/system.slice/gen-demo.service
done
grep -E 'gen-demo' /proc/$T/cgroup | sed 's/^/CGROUP_LINE=/' 
"$H" kill $T 15
wait $T
for d in $(echo $made | tr ' ' '\n' | sort -r); do
	for i in 1 2 3 4 5 6 7 8 9 10; do rmdir $d 2>/dev/null && break; sleep 0.1; done
	[ -d $d ] && echo LEFT=$d
done
echo CLEANED=ok
`

func fileScenarios(w string) ([]*step, string) {
	d, err := os.MkdirTemp("", "gen-watch-")
	if err != nil {
		fatal("%v", err)
	}
	atExit(func() { os.RemoveAll(d) })
	os.Chmod(d, 0o755)
	os.Mkdir(filepath.Join(d, "sub"), 0o755)
	os.WriteFile(filepath.Join(d, "shared.txt"), []byte("shared\n"), 0o666)
	os.Chmod(filepath.Join(d, "shared.txt"), 0o666)
	os.WriteFile(filepath.Join(d, "locked.txt"), []byte("locked\n"), 0o644)
	setpriv := `setpriv --reuid=65534 --regid=65534 --clear-groups `
	steps := []*step{
		{name: "create", desc: "`echo a=1 > $D/app.conf` (bash: openat O_WRONLY|O_CREAT|O_TRUNC, file created)", sh: `echo a=1 > "$D/app.conf"`},
		{name: "append", desc: "`echo b=2 >> $D/app.conf` (openat O_WRONLY|O_CREAT|O_APPEND)", sh: `echo b=2 >> "$D/app.conf"`},
		{name: "truncate (O_TRUNC)", desc: "`echo a=1 > $D/app.conf` again: openat O_TRUNC of the existing file", sh: `echo a=1 > "$D/app.conf"`},
		{name: "truncate(1)", desc: "`truncate -s 2 $D/app.conf` (openat O_WRONLY|O_CREAT|O_NONBLOCK, then ftruncate on the fd, which has no path and is not matched)", sh: `truncate -s 2 "$D/app.conf"`},
		{name: "sed -i", desc: "`sed -i s/a=1/a=3/ $D/app.conf`: sed creates $D/sedXXXXXX, writes it, then rename()s it over app.conf", sh: `sed -i 's/a=1/a=3/' "$D/app.conf"`},
		{name: "rename", desc: "`mv app.conf app.conf.new; mv app.conf.new app.conf` (renameat2)", sh: `mv "$D/app.conf" "$D/app.conf.new"; mv "$D/app.conf.new" "$D/app.conf"`},
		{name: "hard link", desc: "`ln $D/app.conf $D/app.hard` (linkat)", sh: `ln "$D/app.conf" "$D/app.hard"`},
		{name: "symlink", desc: "`ln -s app.conf $D/current` (symlinkat)", sh: `ln -s app.conf "$D/current"`},
		{name: "symlink replace", desc: "`ln -sfn app.hard $D/current`: replaces the symlink", sh: `ln -sfn app.hard "$D/current"`},
		{name: "unlink", desc: "`rm $D/app.hard` (unlinkat)", sh: `rm "$D/app.hard"`},
		{name: "chmod", desc: "`chmod 600 $D/app.conf` (fchmodat)", sh: `chmod 600 "$D/app.conf"`},
		{name: "chown", desc: "`chown nobody $D/app.conf` (fchownat to uid 65534)", sh: `chown nobody "$D/app.conf"`},
		{name: "setxattr", desc: "setxattr($D/app.conf, \"user.x\", \"1\") (setfattr if installed, else the helper)", sh: `if command -v setfattr >/dev/null; then setfattr -n user.x -v 1 "$D/app.conf"; else "$H" setxattr "$D/app.conf" user.x 1; fi`},
		{name: "utimes", desc: "`touch -c -d '2020-01-02 03:04:05' $D/app.conf`: utimensat(AT_FDCWD, path, times, 0). utimensat is not in the kernel's attr class, so `-p wa` never sees it: it is logged by the explicit gen_utime syscall rule", sh: `touch -c -d '2020-01-02 03:04:05' "$D/app.conf"`},
		{name: "touch new file", desc: "`touch -d '2020-01-02 03:04:05' $D/touched`: openat(O_CREAT) (gen_watch), then utimensat(fd, NULL, times, 0) on the fd, which is not logged at all (no path, and the kernel collects no inode for it, so the dir= rule cannot match)", sh: `touch -d '2020-01-02 03:04:05' "$D/touched"`},
		{name: "relative path", desc: "`cd $D/sub && echo x >> ../app.conf`: PATH name is `../app.conf`, CWD is $D/sub", sh: `cd "$D/sub" && echo x >> ../app.conf`},
		{name: "dir rule (sub/)", desc: "`echo inner > $D/sub/inner.conf`: matched first by the gen_dir rule on $D/sub", sh: `echo inner > "$D/sub/inner.conf"`},
		{name: "openat(dirfd) from /", desc: "from cwd /, the helper opens $D as a directory fd and calls openat(dirfd, \"dirfd.txt\", O_WRONLY|O_CREAT|O_TRUNC): PATH name is the bare `dirfd.txt`, CWD is `/` — joining them gives the wrong path", sh: `cd / && "$H" openat "$D" dirfd.txt`},
		{name: "openat(dirfd) from $W", desc: "the same from cwd $W (the generator's work dir, outside D): openat(dirfd of $D, \"dirfd2.txt\")", sh: `cd "$W" && "$H" openat "$D" dirfd2.txt`},
		{name: "nobody write ok", desc: "user nobody (setpriv) runs `sh -c 'echo hi >> $D/shared.txt'` on a 0666 root file: success", sh: setpriv + `sh -c 'echo hi >> "$D/shared.txt"'; echo RC=$?`},
		{name: "nobody write EACCES", desc: "user nobody (setpriv) runs `sh -c 'echo hi >> $D/locked.txt'` on a 0644 root file: openat fails with EACCES (exit=-13)", sh: setpriv + `sh -c 'echo hi >> "$D/locked.txt"'; echo RC=$?`},
	}
	names := []struct{ label, name string }{
		{"space", "with space"},
		{"newline", "new\nline"},
		{"ESC", "\x1b[31mred"},
		{"invalid UTF-8", "bad\xffname"},
	}
	for _, n := range names {
		steps = append(steps, &step{name: "file name: " + n.label,
			desc: fmt.Sprintf("`echo x > \"$D/\"%q`", n.name),
			sh:   `echo x > "$D/$N"`, env: []string{"N=" + n.name}})
	}
	steps = append(steps, &step{name: "rm hostile names", desc: "`rm` of the four files above (one unlinkat each)",
		sh: `rm "$D/with space" "$D/"$'new\nline' "$D/"$'\e[31mred' "$D/"$'bad\xffname'`})
	return steps, d
}

// wrapper sets the step's loginuid to 0 (a new session), prints the session
// id and runs the script with bash in a child process. Not with exec: the
// kernel caches a task's PROCTITLE at its first audited event (here the
// LOGIN of the loginuid write) and does not refresh it on execve, so an
// exec'd bash would log the wrapper's command line (the "stale PROCTITLE"
// step shows this on purpose).
const wrapper = `echo 0 > /proc/self/loginuid || exit 97
read s < /proc/self/sessionid; echo SES=$s
/bin/bash -c "$1"`

func runSteps(steps []*step, work, watchDir string) {
	for _, s := range steps {
		cmd := exec.Command("/bin/sh", "-c", wrapper, "gen-step", s.sh)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "W="+work, "D="+watchDir,
			"H="+filepath.Join(work, "helper"), "H32="+filepath.Join(work, "helper32"))
		cmd.Env = append(cmd.Env, s.env...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			fatal("step %s: %v", s.name, err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintf(os.Stderr, "gen: step %q: %v (%s)\n", s.name, err, stderr.Bytes())
			}
		case <-time.After(60 * time.Second):
			// The step's session (setsid) is a process group of ours.
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			fmt.Fprintf(os.Stderr, "gen: step %q timed out\n", s.name)
		}
		s.out = map[string]string{}
		for _, l := range strings.Split(stdout.String(), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok && k != "" && strings.ToUpper(k) == k {
				s.out[k] = v
				s.outAll = append(s.outAll, l)
			}
		}
		s.ses = s.out["SES"]
		if *verbose || stderr.Len() > 0 {
			fmt.Fprintf(os.Stderr, "gen: step %q: %s %s\n", s.name, strings.Join(s.outAll, " "), bytes.TrimSpace(stderr.Bytes()))
		}
		if s.ses == "" {
			fatal("step %q printed no session id", s.name)
		}
	}
}

// event is one audit event as auditd wrote it.
type event struct {
	id    string // "sec.ms:serial"
	lines []string
	step  *step
}

var hdr = regexp.MustCompile(`^type=(\S+) msg=audit\((\d+)\.(\d+):(\d+)\): `)

// fields parses the raw part (before 0x1d) of a record after its header.
func fields(line string) map[string]string {
	m := map[string]string{}
	if i := strings.IndexByte(line, 0x1d); i >= 0 {
		line = line[:i]
	}
	h := hdr.FindStringIndex(line)
	if h == nil {
		return m
	}
	for _, f := range strings.Fields(line[h[1]:]) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = v
		}
	}
	return m
}

func enriched(line string) map[string]string {
	m := map[string]string{}
	i := strings.IndexByte(line, 0x1d)
	if i < 0 {
		return m
	}
	for _, f := range strings.Fields(line[i+1:]) {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[k] = strings.Trim(v, `"`)
		}
	}
	return m
}

func readLogs() []string {
	var lines []string
	for _, p := range []string{logPath + ".1", logPath} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		r := bufio.NewReader(f)
		for {
			l, err := r.ReadString('\n')
			if l != "" && strings.HasSuffix(l, "\n") {
				lines = append(lines, strings.TrimSuffix(l, "\n"))
			}
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return lines
}

// collect waits until auditd has written the events of every step and
// returns them in log order.
func collect(steps []*step, start time.Time) []*event {
	bySes := map[string]*step{}
	for _, s := range steps {
		bySes[s.ses] = s
	}
	var evs []*event
	last, stable := -1, 0
	for try := 0; try < 60; try++ {
		evs = selectEvents(readLogs(), bySes, start)
		have := map[*step]bool{}
		for _, e := range evs {
			have[e.step] = true
		}
		if len(evs) == last && len(have) == len(steps) {
			stable++
		} else {
			stable = 0
		}
		if stable >= 4 {
			break
		}
		last = len(evs)
		time.Sleep(500 * time.Millisecond)
	}
	have := map[*step]int{}
	for _, e := range evs {
		have[e.step]++
	}
	for _, e := range evs {
		for _, l := range e.lines {
			if strings.HasPrefix(l, "type=OBJ_PID ") && fields(l)["ocomm"] == `"bash"` && e.step.name != "kill(0, SIGUSR1)" {
				fmt.Fprintf(os.Stderr, "gen: WARNING: step %q: target %s still named bash (signalled before its exec)\n", e.step.name, fields(l)["opid"])
			}
		}
	}
	for _, s := range steps {
		if have[s] == 0 {
			fmt.Fprintf(os.Stderr, "gen: WARNING: step %q (ses %s) produced no event\n", s.name, s.ses)
		}
	}
	return evs
}

func selectEvents(lines []string, bySes map[string]*step, start time.Time) []*event {
	byID := map[string]*event{}
	var order []*event
	for _, l := range lines {
		m := hdr.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[2], 10, 64)
		if sec < start.Unix() {
			continue
		}
		id := m[2] + "." + m[3] + ":" + m[4]
		e := byID[id]
		if e == nil {
			e = &event{id: id}
			byID[id] = e
			order = append(order, e)
		}
		e.lines = append(e.lines, l)
		if m[1] == "SYSCALL" {
			f := fields(l)
			if strings.HasPrefix(f["key"], `"gen_`) {
				e.step = bySes[f["ses"]]
			}
		}
	}
	var out []*event
	for _, e := range order {
		if e.step != nil {
			out = append(out, e)
		}
	}
	return out
}

func write(dir, name string, evs []*event, steps []*step) {
	var b bytes.Buffer
	n := 0
	for _, e := range evs {
		for _, l := range e.lines {
			b.WriteString(l)
			b.WriteByte('\n')
			n++
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		fatal("%v", err)
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s: %d events, %d lines\n", p, len(evs), n)
	base := strings.TrimSuffix(name, ".log")
	// TZ=UTC: ausearch -i prints local time.
	ac := exec.Command("ausearch", "-i", "-if", p)
	ac.Env = append(os.Environ(), "TZ=UTC")
	as, err := ac.Output()
	if err != nil && len(as) == 0 {
		fmt.Fprintf(os.Stderr, "gen: ausearch -i -if %s: %v\n", p, err)
		return
	}
	os.WriteFile(filepath.Join(dir, base+".ausearch.txt"), as, 0o644)
}

// ---- README ----

// show renders an audit string value (quoted or hex) as a Go-quoted string.
func show(v string) string {
	if v == "" {
		return ""
	}
	if strings.HasPrefix(v, `"`) {
		return strconv.Quote(strings.Trim(v, `"`))
	}
	if v == "(null)" || v == "(none)" {
		return v
	}
	var b []byte
	for i := 0; i+1 < len(v); i += 2 {
		x, err := strconv.ParseUint(v[i:i+2], 16, 8)
		if err != nil {
			return v
		}
		b = append(b, byte(x))
	}
	return strconv.Quote(string(b)) + " (hex)"
}

func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return "`" + s + "`"
}

// signed renders a syscall argument register as a signed 32-bit int.
func signed(hex string) string {
	v, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return hex
	}
	return strconv.Itoa(int(int32(uint32(v))))
}

var sigArg = map[string]string{"kill": "a1", "tkill": "a1", "tgkill": "a2", "rt_sigqueueinfo": "a1", "rt_tgsigqueueinfo": "a2", "pidfd_send_signal": "a1"}

var sigName = map[string]string{"0": "0 (none)", "9": "9 SIGKILL", "10": "10 SIGUSR1", "12": "12 SIGUSR2", "15": "15 SIGTERM", "23": "23 SIGURG"}

func result(f map[string]string) string {
	r := "success=" + f["success"] + " exit=" + f["exit"]
	switch f["exit"] {
	case "-1":
		r += " (EPERM)"
	case "-3":
		r += " (ESRCH)"
	case "-13":
		r += " (EACCES)"
	}
	return r
}

func writeReadme(dir string, ks, fs []*step, kills, files []*event, watchDir string) {
	var b strings.Builder
	b.WriteString(readmeHead)
	fmt.Fprintf(&b, "\n## kills.log\n\n%d events, %d lines. Rules (all also `-F auid=0`): "+
		"`-F arch=b64 -S kill -k gen_kill`, `-F arch=b32 -S kill -k gen_kill32`, "+
		"`-S tkill -S tgkill -k gen_tkill`, `-S rt_sigqueueinfo -S rt_tgsigqueueinfo -k gen_sigqueue`, "+
		"`-S pidfd_send_signal -k gen_pidfd`. Every caller and target runs as root (uid=0) "+
		"with auid=0 unless said otherwise; `comm`/`ocomm`/`exe` are shown decoded and Go-quoted, `(hex)` when the log hex-encodes them.\n\n",
		len(kills), countLines(kills))
	b.WriteString("### Steps\n\n| ses | step | what happens | printed by the step |\n|---|---|---|---|\n")
	for _, s := range ks {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.ses, s.name, cell(s.desc), code(strings.Join(stepOut(s), " ")))
	}
	b.WriteString("\n### Events (the expected answers)\n\n| serial | step | key | syscall (arch) | caller pid (ppid) uid | caller comm | caller exe | a0 → target arg | signal | targets (opid ouid ocomm) | result |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, e := range kills {
		var sc map[string]string
		var en map[string]string
		var objs []string
		for _, l := range e.lines {
			switch {
			case strings.HasPrefix(l, "type=SYSCALL "):
				sc, en = fields(l), enriched(l)
			case strings.HasPrefix(l, "type=OBJ_PID "):
				f := fields(l)
				objs = append(objs, f["opid"]+" "+f["ouid"]+" "+show(f["ocomm"]))
			}
		}
		name := en["SYSCALL"]
		sig := sc[sigArg[name]]
		if s, err := strconv.ParseUint(sig, 16, 64); err == nil {
			sig = strconv.FormatUint(s, 10)
			if n, ok := sigName[sig]; ok {
				sig = n
			}
		}
		tg := "a0=" + sc["a0"]
		if name != "pidfd_send_signal" {
			tg += " → " + signed(sc["a0"])
		} else {
			tg += " (pidfd)"
		}
		targets := strings.Join(objs, "; ")
		if len(objs) > 3 {
			targets = fmt.Sprintf("%d OBJ_PID: %s", len(objs), targets)
		}
		if targets == "" {
			targets = "none (no OBJ_PID)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s %s (%s) | %s (%s) uid=%s | %s | %s | %s | %s | %s | %s |\n",
			serial(e.id), e.step.name, strings.Trim(sc["key"], `"`), name, sc["syscall"], sc["arch"],
			sc["pid"], sc["ppid"], sc["uid"], code(show(sc["comm"])), code(show(sc["exe"])), tg, sig, code(targets), result(sc))
	}

	fmt.Fprintf(&b, "\n## files.log\n\n%d events, %d lines. The watched directory was `%s` (D below; created 0755 with "+
		"`sub/`, `shared.txt` 0666 and `locked.txt` 0644 before the rules were added). Rules, in this order: "+
		"`-a always,exit -F arch=b64 -S utimensat -S utimes -S utime -S futimesat -F dir=D -k gen_utime` "+
		"(timestamp changes are not in the kernel's write or attr classes, so `-p wa` cannot see them), "+
		"`-a always,exit -F dir=D/sub -F perm=wa -k gen_dir`, then `-w D -p wa -k gen_watch`. "+
		"The kernel reports the key of the first matching rule only, and `-w` on a directory is the same rule as "+
		"`-F dir=D -F perm=wa`, so the dir rule is on `D/sub` (a dir rule on D itself would never show its key). "+
		"Every event is by root (auid=0) unless said otherwise.\n\n", len(files), countLines(files), watchDir)
	b.WriteString("### Steps\n\n| ses | step | what happens | printed by the step |\n|---|---|---|---|\n")
	for _, s := range fs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", s.ses, s.name, cell(s.desc), code(strings.Join(stepOut(s), " ")))
	}
	b.WriteString("\n### Events (the expected answers)\n\n| serial | step | key | syscall | caller pid uid comm exe | result | cwd | PATH records (item name nametype inode mode ouid) |\n|---|---|---|---|---|---|---|---|\n")
	for _, e := range files {
		var sc, en map[string]string
		var cwd string
		var paths []string
		for _, l := range e.lines {
			switch {
			case strings.HasPrefix(l, "type=SYSCALL "):
				sc, en = fields(l), enriched(l)
			case strings.HasPrefix(l, "type=CWD "):
				cwd = show(fields(l)["cwd"])
			case strings.HasPrefix(l, "type=PATH "):
				f := fields(l)
				paths = append(paths, fmt.Sprintf("%s %s %s %s %s %s", f["item"], show(f["name"]), f["nametype"], f["inode"], f["mode"], f["ouid"]))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s %s | %s uid=%s %s %s | %s | %s | %s |\n",
			serial(e.id), e.step.name, strings.Trim(sc["key"], `"`), en["SYSCALL"], sc["syscall"],
			sc["pid"], sc["uid"], code(show(sc["comm"])), code(show(sc["exe"])), result(sc), code(cwd), code(strings.Join(paths, "; ")))
	}
	b.WriteString(readmeTraps)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(b.String()), 0o644); err != nil {
		fatal("%v", err)
	}
}

// cell escapes the table separator in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func stepOut(s *step) []string {
	var o []string
	for _, l := range s.outAll {
		if !strings.HasPrefix(l, "SES=") {
			o = append(o, l)
		}
	}
	return o
}

func serial(id string) string { _, s, _ := strings.Cut(id, ":"); return s }

func countLines(evs []*event) int {
	n := 0
	for _, e := range evs {
		n += len(e.lines)
	}
	return n
}
