package containers

import (
	"strings"
	"testing"
)

const (
	id2  = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	uid  = "7f7c1b2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	uidu = "7f7c1b2a_1c2d_4e5f_8a9b_0c1d2e3f4a5b" // as the systemd driver writes it
)

func TestParseCgroupPath(t *testing.T) {
	for _, c := range []struct {
		path string
		want Cgroup
	}{
		// Kubernetes, cgroupfs driver (v1 and v2 alike).
		{"/kubepods/burstable/pod" + uid + "/" + id1, Cgroup{id1, uid, "", false}},
		{"/kubepods/besteffort/pod" + uid + "/" + id1, Cgroup{id1, uid, "", false}},
		{"/kubepods/pod" + uid + "/" + id1, Cgroup{id1, uid, "", false}}, // guaranteed
		{"/kubepods/burstable/pod" + uid + "/crio-" + id1, Cgroup{id1, uid, "cri-o", false}},
		// Kubernetes, systemd driver.
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/cri-containerd-" + id1 + ".scope", Cgroup{id1, uid, "containerd", false}},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + uidu + ".slice/crio-" + id1 + ".scope", Cgroup{id1, uid, "cri-o", false}},
		{"/kubepods.slice/kubepods-pod" + uidu + ".slice/crio-" + id1 + ".scope/container", Cgroup{id1, uid, "cri-o", false}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/docker-" + id1 + ".scope", Cgroup{id1, uid, "docker", false}},
		// Static pod: the uid is a hash without dashes.
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7.slice/cri-containerd-" + id1 + ".scope", Cgroup{id1, "6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7", "containerd", false}},
		// containerd's systemd path form under the cgroupfs driver.
		{"/system.slice/containerd.service/kubepods-burstable-pod" + uidu + ".slice:cri-containerd:" + id1, Cgroup{id1, uid, "containerd", false}},
		{"/system.slice/containerd.service/kubepods-pod" + uidu + ".slice:cri-containerd:" + id1, Cgroup{id1, uid, "containerd", false}},
		// The pod's own slice, a process outside any container (conmon).
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/crio-conmon-" + id1 + ".scope", Cgroup{"", uid, "", false}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice", Cgroup{"", uid, "", false}},
		// Plain Docker and Podman.
		{"/system.slice/docker-" + id1 + ".scope", Cgroup{id1, "", "docker", false}},
		{"/docker/" + id1, Cgroup{id1, "", "docker", false}},
		{"/docker/" + id1 + "/init.scope", Cgroup{id1, "", "docker", false}},
		{"/machine.slice/libpod-" + id1 + ".scope", Cgroup{id1, "", "podman", false}},
		{"/machine.slice/libpod-conmon-" + id1 + ".scope", Cgroup{}},
		// Nested: kind (Kubernetes in Docker), Docker in Docker.
		{"/docker/" + id2 + "/kubepods/burstable/pod" + uid + "/" + id1, Cgroup{id1, uid, "", false}},
		{"/docker/" + id2 + "/docker/" + id1, Cgroup{id1, "", "docker", false}},
		// Another runtime's <prefix>-<id>.scope.
		{"/system.slice/nerdctl-" + id1 + ".scope", Cgroup{id1, "", "", false}},
		// Rootless: below a user's systemd instance, user-named.
		{"/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" + id1 + ".scope", Cgroup{id1, "", "docker", true}},
		// No container.
		{"/system.slice/nginx.service", Cgroup{}},
		{"/user.slice/user-1000.slice/session-3.scope", Cgroup{}},
		{"/", Cgroup{}},
		{"", Cgroup{}},
		{"/system.slice/docker-" + id1[:63] + ".scope", Cgroup{}},
		{"/system.slice/docker-" + strings.ToUpper(id1) + ".scope", Cgroup{}},
		{"/system.slice/foo-" + id1 + ".service", Cgroup{}},
		{"/system.slice/containerd.service/x:cri-containerd:" + id1[:10], Cgroup{}},
		// pod<uid> counts only below kubepods.
		{"/pod" + uid + "/" + id1, Cgroup{id1, "", "", false}},
		{"/kubepods/burstable/podXYZ/" + id1, Cgroup{id1, "", "", false}},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod.slice", Cgroup{}},
	} {
		if got := ParseCgroupPath(c.path); got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.path, got, c.want)
		}
	}
}

func TestParseCgroup(t *testing.T) {
	for _, c := range []struct {
		file string
		want Cgroup
	}{
		// cgroup v2.
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/cri-containerd-" + id1 + ".scope\n", Cgroup{id1, uid, "containerd", false}},
		// cgroup v1, cgroupfs driver.
		{"12:pids:/kubepods/burstable/pod" + uid + "/" + id1 + "\n11:memory:/kubepods/burstable/pod" + uid + "/" + id1 + "\n1:name=systemd:/kubepods/burstable/pod" + uid + "/" + id1 + "\n", Cgroup{id1, uid, "", false}},
		// Hybrid: the unified line names no container, the v1 lines do.
		{"12:pids:/docker/" + id1 + "\n1:name=systemd:/docker/" + id1 + "\n0::/system.slice/containerd.service\n", Cgroup{id1, "", "docker", false}},
		// The containerd form holds ':' in the path.
		{"0::/system.slice/containerd.service/kubepods-burstable-pod" + uidu + ".slice:cri-containerd:" + id1 + "\n", Cgroup{id1, uid, "containerd", false}},
		// No container: the pod slice still names the pod.
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/crio-conmon-" + id1 + ".scope\n", Cgroup{"", uid, "", false}},
		{"0::/system.slice/nginx.service\n", Cgroup{}},
		{"", Cgroup{}},
		{"garbage\n::\n:\n0:", Cgroup{}},
		// No final newline.
		{"0::/docker/" + id1, Cgroup{id1, "", "docker", false}},
	} {
		if got := ParseCgroup([]byte(c.file)); got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.file, got, c.want)
		}
	}
}
