package audittest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireKernel is the environment variable that turns the skip of a
// real-kernel test into a failure (CI runs as root on a machine that has
// every feature these tests use).
const RequireKernel = "LINUXAUDIT_REQUIRE_KERNEL"

// Need skips the test with "SKIP <why>" when why is not empty, or fails
// it when LINUXAUDIT_REQUIRE_KERNEL=1.
func Need(t testing.TB, why string) {
	t.Helper()
	if why == "" {
		return
	}
	if os.Getenv(RequireKernel) == "1" {
		t.Fatalf("real-kernel test cannot run: %s (%s=1)", why, RequireKernel)
	}
	t.Skipf("SKIP real-kernel test: %s", why)
}

// NeedRoot is Need for tests that need root (euid 0).
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Need(t, "not root")
	}
}

// Exclusive takes the lock every kernel-touching test of every package
// shares (LockPath) until the test ends: for tests that measure (CPU,
// rates) or change state others would see. A user who cannot create the
// lock file locks it read-only, or runs without it (logged).
func Exclusive(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		lock(t)
		return
	}
	f, err := os.Open(LockPath)
	if err != nil {
		t.Logf("running without the test lock: %v", err)
		return
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Logf("running without the test lock: %v", err)
		return
	}
	t.Cleanup(func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() })
}

// BuildC compiles a one-file C program with gcc into the test's temporary
// directory and returns the binary's path; without gcc the test skips (or
// fails under LINUXAUDIT_REQUIRE_KERNEL=1).
func BuildC(t testing.TB, name, src string) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		Need(t, "gcc not installed (apt-get install gcc)")
	}
	dir := t.TempDir()
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("gcc", "-O2", "-o", bin, c).CombinedOutput(); err != nil {
		t.Fatalf("gcc %s: %v\n%s", name, err, out)
	}
	return bin
}

// Cgroup is a memory cgroup a test created; it is removed when the test
// ends (after the processes in it are gone).
type Cgroup struct {
	// Dir is its directory under /sys/fs/cgroup.
	Dir string
	// Path is its path as the kernel prints it (/proc/<pid>/cgroup,
	// oom_memcg=...), relative to the hierarchy's root.
	Path string
	// V2 tells whether it is in the unified hierarchy.
	V2 bool
}

// Procs is the file a pid is written to to move that process in.
func (c *Cgroup) Procs() string { return filepath.Join(c.Dir, "cgroup.procs") }

// MemoryCgroup creates a memory cgroup limited to limit bytes (no swap),
// as a child of the test process's own memory cgroup (cgroup v1
// memory.limit_in_bytes and memory.memsw.limit_in_bytes), or of the
// unified root where the memory controller is enabled (cgroup v2
// memory.max and memory.swap.max). It skips when neither is usable and
// removes the cgroup when the test ends, waiting up to 5 s for it to be
// empty.
func MemoryCgroup(t testing.TB, limit int64) *Cgroup {
	t.Helper()
	NeedRoot(t)
	name := fmt.Sprintf("linuxaudit-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)
	var c *Cgroup
	if own, ok := ownCgroup("memory"); ok && isDir("/sys/fs/cgroup/memory") {
		p := filepath.Join(own, name)
		c = &Cgroup{Dir: filepath.Join("/sys/fs/cgroup/memory", p), Path: p}
	} else if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && strings.Contains(" "+strings.TrimSpace(string(b))+" ", " memory ") {
		c = &Cgroup{Dir: filepath.Join("/sys/fs/cgroup", name), Path: "/" + name, V2: true}
	} else {
		Need(t, "no memory cgroup controller (v1 /sys/fs/cgroup/memory, or v2 with memory in the root's cgroup.subtree_control)")
	}
	if err := os.Mkdir(c.Dir, 0o755); err != nil {
		t.Fatalf("creating cgroup: %v", err)
	}
	t.Cleanup(func() { removeCgroup(t, c.Dir) })
	lim := strconv.FormatInt(limit, 10)
	files := [][2]string{{"memory.limit_in_bytes", lim}, {"memory.memsw.limit_in_bytes", lim}}
	if c.V2 {
		files = [][2]string{{"memory.max", lim}, {"memory.swap.max", "0"}}
	}
	for i, f := range files {
		err := os.WriteFile(filepath.Join(c.Dir, f[0]), []byte(f[1]), 0o644)
		if err != nil && (i == 0 || !errors.Is(err, os.ErrNotExist)) {
			t.Fatalf("cgroup %s: %v", f[0], err)
		}
	}
	return c
}

// ownCgroup returns the test process's cgroup path in the v1 hierarchy
// of controller.
func ownCgroup(controller string) (string, bool) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2], true
			}
		}
	}
	return "", false
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// removeCgroup removes an (emptied) cgroup directory, retrying while the
// kernel still counts a dying process in it.
func removeCgroup(t testing.TB, dir string) {
	var err error
	for i := 0; i < 100; i++ {
		if err = syscall.Rmdir(dir); err == nil || errors.Is(err, syscall.ENOENT) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("removing cgroup %s: %v", dir, err)
}
