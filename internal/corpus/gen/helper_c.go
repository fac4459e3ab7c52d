package main

// helperC is the source of the small C program the workload runs. It is
// compiled twice: 64-bit (helper) and 32-bit static (helper32). Each mode
// prints "KEY=VALUE" lines the generator records, then makes exactly the
// raw syscall it is named after.
const helperC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

static void usage(void) {
	fprintf(stderr, "usage: helper MODE ARGS (see generator)\n");
	exit(2);
}

static void report(const char *what, long r) {
	if (r < 0)
		printf("%s=-%d(%s)\n", what, errno, strerror(errno));
	else
		printf("%s=%ld\n", what, r);
	fflush(stdout);
}

static volatile pid_t thread_tid;
static void *idle(void *arg) {
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return 0;
}

static void urg(int s) { (void)s; }

int main(int argc, char **argv) {
	if (argc < 2)
		usage();
	const char *m = argv[1];
	printf("CALLER=%d\n", getpid());
	fflush(stdout);
	if (!strcmp(m, "kill") && argc == 4) { /* kill PID SIG */
		report("RESULT", syscall(SYS_kill, atoi(argv[2]), atoi(argv[3])));
	} else if (!strcmp(m, "setname-kill") && argc == 5) { /* NAME PID SIG */
		prctl(PR_SET_NAME, argv[2], 0, 0, 0);
		report("RESULT", syscall(SYS_kill, atoi(argv[3]), atoi(argv[4])));
	} else if (!strcmp(m, "setname-sleep") && argc == 4) { /* NAME SECONDS */
		prctl(PR_SET_NAME, argv[2], 0, 0, 0);
		sleep(atoi(argv[3]));
	} else if (!strcmp(m, "tkill") && argc == 4) { /* TID SIG */
		report("RESULT", syscall(SYS_tkill, atoi(argv[2]), atoi(argv[3])));
	} else if (!strcmp(m, "tgkill") && argc == 5) { /* TGID TID SIG */
		report("RESULT", syscall(SYS_tgkill, atoi(argv[2]), atoi(argv[3]), atoi(argv[4])));
	} else if (!strcmp(m, "tgkill-self-urg") && argc == 2) {
		/* like the Go runtime's async preemption: SIGURG to one of our
		 * own threads */
		pthread_t th;
		signal(SIGURG, urg);
		pthread_create(&th, 0, idle, 0);
		while (!thread_tid)
			usleep(1000);
		printf("TID=%d\n", thread_tid);
		report("RESULT", syscall(SYS_tgkill, getpid(), thread_tid, SIGURG));
	} else if (!strcmp(m, "sigqueue") && argc == 5) { /* PID SIG VALUE */
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = atoi(argv[3]);
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = atoi(argv[4]);
		report("RESULT", syscall(SYS_rt_sigqueueinfo, atoi(argv[2]), si.si_signo, &si));
	} else if (!strcmp(m, "tgsigqueue") && argc == 6) { /* TGID TID SIG VALUE */
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = atoi(argv[4]);
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = atoi(argv[5]);
		report("RESULT", syscall(SYS_rt_tgsigqueueinfo, atoi(argv[2]), atoi(argv[3]), si.si_signo, &si));
	} else if (!strcmp(m, "pidfd") && argc == 4) { /* PID SIG */
		long fd = syscall(SYS_pidfd_open, atoi(argv[2]), 0);
		if (fd < 0) {
			report("PIDFD", fd);
			return 1;
		}
		printf("PIDFD=%ld\n", fd);
		report("RESULT", syscall(SYS_pidfd_send_signal, (int)fd, atoi(argv[3]), NULL, 0));
	} else if (!strcmp(m, "openat") && argc == 4) { /* DIR NAME */
		int d = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (d < 0) {
			report("DIRFD", d);
			return 1;
		}
		int fd = openat(d, argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		report("RESULT", fd);
		if (fd >= 0)
			write(fd, "openat\n", 7);
	} else if (!strcmp(m, "setxattr") && argc == 5) { /* PATH NAME VALUE */
		report("RESULT", setxattr(argv[2], argv[3], argv[4], strlen(argv[4]), 0));
	} else {
		usage();
	}
	return 0;
}
`
