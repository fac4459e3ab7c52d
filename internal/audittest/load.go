package audittest

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// SpawnC starts prog (no arguments) RATE times a second (0: as fast as
// it can) for SECONDS with posix_spawn, reaping as it goes, and prints
// "spawned failed elapsed".
const SpawnC = `#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static double since(struct timespec *a) {
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}
int main(int argc, char **argv) {
	double rate = atof(argv[1]), secs = atof(argv[2]);
	char *args[] = {argv[3], NULL};
	long total = rate > 0 ? (long)(rate * secs) : -1, step = rate > 0 ? (long)(1e9 / rate) : 0, n = 0, failed = 0;
	struct timespec t0, next;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	next = t0;
	while (total >= 0 ? n < total : since(&t0) < secs) {
		pid_t pid;
		if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) == 0) n++; else failed++;
		while (waitpid(-1, NULL, WNOHANG) > 0) {}
		if (step) {
			next.tv_nsec += step;
			while (next.tv_nsec >= 1000000000L) { next.tv_nsec -= 1000000000L; next.tv_sec++; }
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
	}
	while (wait(NULL) > 0) {}
	printf("%ld %ld %.3f\n", n, failed, since(&t0));
	return 0;
}
`

// Spawner is a running SpawnC helper.
type Spawner struct {
	Cmd *exec.Cmd
	Out *strings.Builder
}

// Spawn starts the SpawnC helper bin spawning /bin/true rate times a
// second for secs, killed at the end of the test if still running.
func Spawn(t testing.TB, bin string, rate, secs float64) *Spawner {
	t.Helper()
	cmd := exec.Command(bin, strconv.FormatFloat(rate, 'f', -1, 64), strconv.FormatFloat(secs, 'f', -1, 64), "/bin/true")
	out := &strings.Builder{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return &Spawner{cmd, out}
}

// CPUSeconds is this process's user+system CPU time.
func CPUSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// StatusKB reads a "VmHWM:"-like line of /proc/self/status in kB.
func StatusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}
