package audittest

import (
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

// Deaths other than kill(): short-lived targets, OOM kills, crashes and
// the deaths of a watched unit, on the real kernel, each checked in the
// default schema by the harness's Wait (the pipeline's queue, the C host,
// a real Fluent Bit). The harness runs the collector live on the host
// with the process events connector and /dev/kmsg, the built-in kill
// rules, and for WatchedUnit watch_units set to the unit's name.

// Unit is a cgroup named like a systemd service (system.slice/NAME) in
// every writable hierarchy that names units (the unified one, name=systemd,
// pids): what the collector reports as the unit of the processes in it.
type Unit struct {
	Name string
	dirs []string
}

// UnitCgroup creates the unit's cgroups, removed when the test ends.
func UnitCgroup(t testing.TB, name string) *Unit {
	t.Helper()
	u := CgroupAt(t, filepath.Join("system.slice", name))
	u.Name = name
	return u
}

// CgroupAt creates the cgroup path (relative to the hierarchies' roots) in
// every writable hierarchy that names units and containers, removed (with
// the parents it created) when the test ends.
func CgroupAt(t testing.TB, path string) *Unit {
	t.Helper()
	NeedRoot(t)
	u := &Unit{Name: filepath.Base(path)}
	var made []string
	for _, root := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/pids", "/sys/fs/cgroup"} {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			continue
		}
		dir := root
		ok := true
		for _, c := range strings.Split(path, "/") {
			dir = filepath.Join(dir, c)
			if err := os.Mkdir(dir, 0o755); err == nil {
				made = append(made, dir)
			} else if !os.IsExist(err) {
				ok = false
				break
			}
		}
		if ok {
			u.dirs = append(u.dirs, dir)
		}
	}
	if len(u.dirs) == 0 {
		Need(t, "no writable cgroup hierarchy for the cgroup "+path)
	}
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			removeCgroup(t, made[i])
		}
	})
	return u
}

// Command returns a command that runs argv inside the unit (and the extra
// cgroups, e.g. a memory cgroup), entered before the exec so that the
// process is in them from its first instruction, with core dumps off.
func (u *Unit) Command(extra []*Cgroup, argv ...string) *exec.Cmd {
	var procs []string
	if u != nil {
		for _, d := range u.dirs {
			procs = append(procs, filepath.Join(d, "cgroup.procs"))
		}
	}
	for _, c := range extra {
		procs = append(procs, c.Procs())
	}
	script := "ulimit -c 0; for f in " + strings.Join(procs, " ") + "; do echo $$ > $f || exit 97; done; exec \"$@\""
	return exec.Command("sh", append([]string{"-c", script, "sh"}, argv...)...)
}

// The C programs of the scenarios.
const (
	hogC = `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long mb = argc > 1 ? atol(argv[1]) : 256;
    for (long i = 0; i < mb; i++) {
        char *p = malloc(1 << 20);
        if (!p) return 2;
        memset(p, 1, 1 << 20);
    }
    sleep(30);
    return 0;
}
`
	segvC = `int main(void) { volatile int *p = 0; *p = 1; return 0; }
`
	abrtC = `#include <stdlib.h>
int main(void) { abort(); }
`
	// segvLaterC crashes 0.2 s after its start, as a service does that
	// crashes while running (one that crashes on its first instruction
	// can be gone before /proc could say which unit it was in).
	segvLaterC = `#include <unistd.h>
int main(void) { usleep(200000); volatile int *p = 0; *p = 1; return 0; }
`
)

// started runs cmd and returns its pid, killing it when the test ends.
func started(t testing.TB, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// ShortLivedTargets: five targets in a row, each started 0.3 s before a
// short-lived killer sends it SIGKILL, with no exec rule: every kill
// record has the target's command line and unit (the process events
// connector saw each exec; the /proc rescan, every 2 s, could not).
func ShortLivedTargets(t testing.TB, wait Wait) {
	t.Helper()
	u := UnitCgroup(t, fmt.Sprintf("la-short-%d.service", os.Getpid()))
	for i := 0; i < 5; i++ {
		target := u.Command(nil, "sleep", strconv.Itoa(30+i))
		pid := started(t, target)
		time.Sleep(300 * time.Millisecond)
		if out, err := exec.Command("sh", "-c", "kill -9 "+strconv.Itoa(pid)).CombinedOutput(); err != nil {
			t.Fatalf("kill: %v %s", err, out)
		}
		target.Wait()
		r, _ := wait(t, 5*time.Second, func(r map[string]any) bool {
			return Field(r, "event.action") == "killed-pid" && Field(r, "target.processes.0.pid") == strconv.Itoa(pid)
		})
		t.Logf("short-lived target %d: %s", i+1, Field(r, "summary"))
		Check(t, fmt.Sprintf("short-lived target %d", i+1), r, map[string]string{
			"target.processes.0.cmdline": "sleep " + strconv.Itoa(30+i),
			"target.processes.0.unit":    u.Name,
			"target.processes.0.exe":     "/usr/bin/sleep",
			"signal.name":                "SIGKILL",
		})
	}
}

// OOMKill: a memory hog in a 32 MiB memory cgroup is killed by the
// kernel's OOM killer: one event naming the victim's command line, its
// cgroup and the OOM killer, within 2 s of the death.
func OOMKill(t testing.TB, wait Wait) {
	t.Helper()
	hog := BuildC(t, "hog", hogC)
	mem := MemoryCgroup(t, 32<<20)
	cmd := (*Unit)(nil).Command([]*Cgroup{mem}, hog, "64")
	pid := started(t, cmd)
	err := cmd.Wait()
	died := time.Now()
	if st, ok := exitStatus(err); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		t.Fatalf("the hog did not die of SIGKILL: %v", err)
	}
	r, at := wait(t, 5*time.Second, func(r map[string]any) bool {
		return Field(r, "event.action") == "oom-killed-pid" && Field(r, "target.processes.0.pid") == strconv.Itoa(pid)
	})
	t.Logf("OOM kill, %v after the death: %s", at.Sub(died).Round(time.Millisecond), Field(r, "summary"))
	if at.Sub(died) > 2*time.Second {
		t.Errorf("OOM event %v after the death, want within 2s", at.Sub(died))
	}
	Check(t, "OOM kill", r, map[string]string{
		"event.kind":                 "oom",
		"target.processes.0.cmdline": hog + " 64",
		"target.processes.0.comm":    "hog",
		"signal.name":                "SIGKILL",
		"oom.memcg":                  mem.Path,
		"oom.constraint":             "CONSTRAINT_MEMCG",
		"oom.memcg_limit_kb":         "32768",
	})
	if !strings.Contains(Field(r, "summary"), "OOM killer") {
		t.Errorf("OOM summary does not name the OOM killer: %s", Field(r, "summary"))
	}
}

func exitStatus(err error) (syscall.WaitStatus, bool) {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return 0, false
	}
	st, ok := ee.Sys().(syscall.WaitStatus)
	return st, ok
}

// Crashes: a program that segfaults and one that aborts give crash
// events with their signal names, complete, within 1.5 s.
func Crashes(t testing.TB, wait Wait) {
	t.Helper()
	for _, c := range []struct{ name, src, sig string }{{"segv", segvC, "SIGSEGV"}, {"abrt", abrtC, "SIGABRT"}} {
		bin := BuildC(t, c.name, c.src)
		cmd := (*Unit)(nil).Command(nil, bin)
		pid := started(t, cmd)
		cmd.Wait()
		died := time.Now()
		r, at := wait(t, 5*time.Second, func(r map[string]any) bool {
			return Field(r, "event.action") == "crashed-program" && Field(r, "process.pid") == strconv.Itoa(pid)
		})
		t.Logf("crash %s, %v after the death: %s", c.name, at.Sub(died).Round(time.Millisecond), Field(r, "summary"))
		if at.Sub(died) > 1500*time.Millisecond {
			t.Errorf("crash event %v after the death, want within 1.5s", at.Sub(died))
		}
		Check(t, "crash "+c.name, r, map[string]string{
			"signal.name":    c.sig,
			"process.comm":   c.name,
			"event.complete": "<nil>",
		})
		// A program that crashes on its first instruction can be gone
		// before /proc is read at its exec: no command line then, but
		// never its parent's.
		if cl := Field(r, "process.cmdline"); cl != "<nil>" && cl != bin {
			t.Errorf("crash %s: process.cmdline = %q, want %q or none", c.name, cl, bin)
		}
		if want := "crashed with " + c.sig; !strings.Contains(Field(r, "summary"), want) {
			t.Errorf("crash summary lacks %q: %s", want, Field(r, "summary"))
		}
	}
}

// WatchedUnit: the main process of a watched unit-like cgroup is killed,
// OOM-killed, crashes and exits 3, in turn: four "died" events, each with
// its cause. The harness has set watch_units to u.Name.
func WatchedUnit(t testing.TB, wait Wait, u *Unit) {
	t.Helper()
	died := func(what string, pid int, want map[string]string) map[string]any {
		t.Helper()
		r, _ := wait(t, 6*time.Second, func(r map[string]any) bool {
			return Field(r, "event.action") == "died" && Field(r, "process.pid") == strconv.Itoa(pid)
		})
		t.Logf("watched unit, %s: %s", what, Field(r, "summary"))
		want["process.unit"] = u.Name
		want["death.watch"] = u.Name
		Check(t, "watched unit, "+what, r, want)
		return r
	}

	// Killed by another process.
	cmd := u.Command(nil, "sleep", "60")
	pid := started(t, cmd)
	time.Sleep(300 * time.Millisecond)
	killer := exec.Command("sh", "-c", "kill -TERM "+strconv.Itoa(pid))
	if out, err := killer.CombinedOutput(); err != nil {
		t.Fatalf("kill: %v %s", err, out)
	}
	cmd.Wait()
	died("killed", pid, map[string]string{"death.cause": "killed", "death.signal.name": "SIGTERM",
		"death.killer.pid": strconv.Itoa(killer.Process.Pid), "death.exit_code": "143", "process.cmdline": "sleep 60"})

	// OOM-killed.
	hog := BuildC(t, "hog", hogC)
	mem := MemoryCgroup(t, 32<<20)
	cmd = u.Command([]*Cgroup{mem}, hog, "64")
	pid = started(t, cmd)
	cmd.Wait()
	died("OOM-killed", pid, map[string]string{"death.cause": "oom-killed", "death.signal.name": "SIGKILL",
		"death.oom.memcg": mem.Path, "death.exit_code": "137"})

	// Crashed.
	segv := BuildC(t, "segv", segvLaterC)
	cmd = u.Command(nil, segv)
	pid = started(t, cmd)
	cmd.Wait()
	died("crashed", pid, map[string]string{"death.cause": "crashed", "death.signal.name": "SIGSEGV", "death.exit_code": "139"})

	// Exited 3.
	cmd = u.Command(nil, "sh", "-c", "sleep 0.2; exit 3")
	pid = started(t, cmd)
	cmd.Wait()
	died("exit 3", pid, map[string]string{"death.cause": "exited", "death.exit_code": "3"})
}

// KubeNode is a node's kubelet layout in a temporary root (what the
// collector reads with containers_root) and a pod's cgroups as the
// systemd driver names them, with two containers.
type KubeNode struct {
	Root, Pod, Namespace, UID string
	App, Sidecar              KubeContainer
}

// KubeContainer is one container of the pod: its name, id and cgroup.
type KubeContainer struct {
	Name, ID string
	Cgroup   *Unit
}

// NewKubeNode builds the layout: /var/log/pods/<ns>_<pod>_<uid>/<c>/0.log
// and the /var/log/containers/<pod>_<ns>_<c>-<id>.log links the kubelet
// makes, and the cgroups kubepods.slice/kubepods-besteffort.slice/
// kubepods-besteffort-pod<uid>.slice/cri-containerd-<id>.scope.
func NewKubeNode(t testing.TB) *KubeNode {
	t.Helper()
	n := &KubeNode{Root: t.TempDir(), Pod: "payments-7d9f8b6c5-x2x4q", Namespace: "shop",
		UID: fmt.Sprintf("5f3b2c1a-%04x-4e5f-8a9b-0c1d2e3f4a5b", os.Getpid()&0xffff)}
	pods := filepath.Join(n.Root, "var/log/pods", n.Namespace+"_"+n.Pod+"_"+n.UID)
	slice := "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(n.UID, "-", "_") + ".slice"
	for i, c := range []*KubeContainer{&n.App, &n.Sidecar} {
		c.Name = []string{"app", "sidecar"}[i]
		c.ID = fmt.Sprintf("%064x", uint64(os.Getpid())<<8|uint64(i+1))
		logDir := filepath.Join(pods, c.Name)
		if err := os.MkdirAll(logDir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(logDir, "0.log"), nil, 0o644)
		links := filepath.Join(n.Root, "var/log/containers")
		os.MkdirAll(links, 0o755)
		link := filepath.Join(links, n.Pod+"_"+n.Namespace+"_"+c.Name+"-"+c.ID+".log")
		if err := os.Symlink(filepath.Join(logDir, "0.log"), link); err != nil {
			t.Fatal(err)
		}
		c.Cgroup = CgroupAt(t, slice+"/cri-containerd-"+c.ID+".scope")
	}
	return n
}

// KubeKills: a process in a pod's container signals another container's
// process, alive (SIGCONT) then dead (SIGKILL): the caller and the target
// are named by pod, namespace and container in both cases. The harness
// reads the node with containers_root set to n.Root.
func KubeKills(t testing.TB, wait Wait, n *KubeNode) {
	t.Helper()
	target := n.App.Cgroup.Command(nil, "sleep", "60")
	pid := started(t, target)
	time.Sleep(300 * time.Millisecond)
	for _, c := range []struct{ what, sig string }{{"live target", "CONT"}, {"dead target", "KILL"}} {
		// The killer lives 0.2 s: a caller that ends within a
		// millisecond of its exec can be gone before /proc says where
		// it ran (the target is named either way).
		killer := n.Sidecar.Cgroup.Command(nil, "sh", "-c", "sleep 0.2; kill -"+c.sig+" "+strconv.Itoa(pid))
		if out, err := killer.CombinedOutput(); err != nil {
			t.Fatalf("kill: %v %s", err, out)
		}
		if c.sig == "KILL" {
			target.Wait()
		}
		r, _ := wait(t, 5*time.Second, func(r map[string]any) bool {
			return Field(r, "event.action") == "killed-pid" && Field(r, "target.processes.0.pid") == strconv.Itoa(pid) &&
				Field(r, "signal.name") == "SIG"+c.sig
		})
		t.Logf("kubernetes, %s: %s", c.what, Field(r, "summary"))
		Check(t, "kubernetes, "+c.what, r, map[string]string{
			"target.processes.0.container":                 n.App.ID,
			"target.processes.0.kubernetes.pod_name":       n.Pod,
			"target.processes.0.kubernetes.namespace_name": n.Namespace,
			"target.processes.0.kubernetes.container_name": "app",
			"target.processes.0.kubernetes.pod_id":         n.UID,
			"process.container":                            n.Sidecar.ID,
			"process.kubernetes.pod_name":                  n.Pod,
			"process.kubernetes.container_name":            "sidecar",
			"process.kubernetes.namespace_name":            n.Namespace,
		})
	}
}
