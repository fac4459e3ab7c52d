package main

const readmeHead = "# internal/corpus\n\n" +
	"Real audit logs embedded for the tests (package `corpus`):\n\n" +
	"| file | what |\n|---|---|\n" +
	"| `real-enriched.log.gz`, `real-node-raw.log.gz` (and `../sample/seed-kill.log`, which the CLI bundles) | copies of /work/shared/corpus (see its README) |\n" +
	"| `kills.log` (`corpus.Kills`) | every signal-sending syscall, group and namespace-wide kills, failed kills, a 32-bit caller, hostile process names, a target in a systemd-like cgroup |\n" +
	"| `files.log` (`corpus.Files`) | file-watch events: create, append, truncate, `sed -i`, rename, link, symlink, unlink, chmod, chown, setxattr, utimes, relative paths, openat(dirfd), an unprivileged write and a failed one, hostile file names |\n" +
	"| `kills.ausearch.txt`, `files.ausearch.txt` | `TZ=UTC ausearch -i -if` of the two logs on the generating machine (reference interpretation; uid names are that machine's) |\n\n" +
	"`kills.log` and `files.log` were written by a real kernel (Linux 6.18, x86_64) and auditd 3.0.9 " +
	"(Debian 12) with `log_format = ENRICHED`: each line is exactly as auditd wrote it, and only the lines of the " +
	"generator's own events are kept (every record of every event whose SYSCALL has a `gen_*` key and the session id " +
	"of one of the generator's steps; auditd's own records, CONFIG_CHANGE of the rules and other processes' events are left out). " +
	"Their RAW form is `corpus.StripEnriched` of them (everything from the first 0x1d byte of a line removed).\n\n" +
	"## Regenerating\n\n" +
	"As root, on a machine with kernel audit, auditd (`log_format = ENRICHED`), ausearch, gcc + gcc-multilib, util-linux:\n\n" +
	"    go run ./internal/corpus/gen -out internal/corpus\n\n" +
	"It takes /run/lock/linuxaudit-tests.lock (as `internal/audittest` does), starts auditd and enables audit only if " +
	"they were off (and undoes that), adds its rules (keys `gen_*`) and removes exactly them. Each step runs in a new " +
	"session (setsid) whose loginuid the wrapper sets to 0 (`echo 0 > /proc/self/loginuid`), so every event has auid=0 " +
	"and the step's own `ses=`; the signal rules are restricted to `auid=0`, which keeps the rest of the machine " +
	"(Go runtimes' tgkill SIGURG, other processes' kills) out. Pids, serials, timestamps, session ids, inodes and the " +
	"watched directory's name change with every run; the tables below are rebuilt from the captured events each time, " +
	"and `corpus_gen_test.go` checks that every scenario is still present.\n\n" +
	"## The systemd-like cgroup step\n\n" +
	"The kill log does not show cgroups, but the step proves that a target can be moved into a service cgroup on this " +
	"kind of machine (cgroup v1 hybrid: v1 controllers under /sys/fs/cgroup/*, v2 at /sys/fs/cgroup/unified, the " +
	"named `name=systemd` hierarchy at /sys/fs/cgroup/systemd, no systemd running). As root:\n\n" +
	"    sleep 30 & T=$!\n" +
	"    for h in unified pids systemd; do\n" +
	"        r=/sys/fs/cgroup/$h\n" +
	"        mkdir -p $r/system.slice/gen-demo.service        # note whether system.slice existed before\n" +
	"        echo $T > $r/system.slice/gen-demo.service/cgroup.procs\n" +
	"    done\n" +
	"    cat /proc/$T/cgroup      # 0::/system.slice/gen-demo.service, N:pids:/system.slice/gen-demo.service, N:name=systemd:/system.slice/gen-demo.service\n" +
	"    kill -TERM $T; wait $T   # the generator uses its helper for the kill\n" +
	"    rmdir /sys/fs/cgroup/{unified,pids,systemd}/system.slice/gen-demo.service   # empty once the target is reaped; retry briefly\n" +
	"    rmdir /sys/fs/cgroup/{unified,pids,systemd}/system.slice                    # only those the mkdir -p created\n\n" +
	"The `CGROUP_LINE=` values in the step's output below are the target's /proc/PID/cgroup as read before the kill.\n"

const readmeTraps = "\n## Traps these logs contain (seen on the generating machine)\n\n" +
	"- **kill's pid argument is 32-bit**: `a0=ffffd7f1` is kill(-10255) and `a0=ffffffff` is kill(-1); the register is not sign-extended to 64 bits. `a0=0` is kill(0) (own process group).\n" +
	"- **OBJ_PID per target**: kill(-PGID), kill(0) and kill(-1) give one OBJ_PID per process signalled, in no particular order, the caller itself included when it is in the group (kill(0)). kill(-1) in a PID namespace reaches only that namespace (all but its init and the caller); the log shows global pids.\n" +
	"- **failed kills**: EPERM still has the OBJ_PID of the target (the kernel records the target before the permission check); ESRCH has none.\n" +
	"- **pidfd_send_signal**: a0 is the pidfd (e.g. 3), not a pid; only OBJ_PID names the target.\n" +
	"- **tgkill SIGURG to oneself** (what every Go program's runtime does for preemption): opid = the caller's pid, ocomm = its comm.\n" +
	"- **stale PROCTITLE**: the kernel caches a task's proctitle at its first audited event and does not refresh it on execve: in the `stale PROCTITLE` step the second event has comm=\"helper\", exe=.../helper but the PROCTITLE of the `sh -c ...` it was before the exec. Trust comm/exe, not PROCTITLE, for the executable.\n" +
	"- **hex-encoded strings**: comm, exe, ocomm, PATH name, proctitle are hex (no quotes) when they contain a space, a control byte, `\"`, or a byte >= 0x7f — so any non-ASCII UTF-8 too. comm/ocomm are cut at 15 bytes, which can split a UTF-8 character (`sleep-éééé\\xc3`).\n" +
	"- **PARENT name of a dirfd-relative path**: for openat(dirfd, \"name\") the kernel prints the *cwd* as the PARENT record's name (it assumes a bare name is cwd-relative) while the inode is the real directory's: in the `openat(dirfd)` steps the PARENT name is `/` or the work dir but the inode is D's, and the CREATE name is the bare `dirfd.txt`. Only the inode (or the dirfd's path, which is not logged) is right.\n" +
	"- **relative names**: `../app.conf` with CWD `D/sub`; join CWD and name (and clean) to get the path.\n" +
	"- **fd-based syscalls match watches**: sed -i's fchown and fsetxattr on its temp file have a PATH with `name=(null)` and only an inode.\n" +
	"- **multi-event operations**: `sed -i` = openat(create sedXXXXXX) + fchown + fsetxattr + rename (5 PATH records: 2 PARENT, 2 DELETE, 1 CREATE); `ln -sfn` = failed symlinkat (EEXIST) + symlinkat to a temp name + renameat over; symlinkat's target string is a PATH with `nametype=UNKNOWN` and no inode.\n" +
	"- **failed write**: nobody's openat of a 0644 root file: success=no exit=-13 (EACCES), with the PATH of the file.\n"
