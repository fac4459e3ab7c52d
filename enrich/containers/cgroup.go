package containers

import (
	"bytes"
	"strings"
)

// Cgroup is what a cgroup path says about the container a process runs in.
type Cgroup struct {
	// ContainerID is the container's id, 64 lowercase hex digits, or ""
	// when the path names no container.
	ContainerID string
	// PodUID is the uid of the Kubernetes pod the path lies in, with
	// dashes (the systemd driver's underscores turned back), or "".
	PodUID string
	// Runtime is "containerd", "cri-o", "docker" or "podman" when the path
	// tells (a runtime prefix, or a bare id under /docker), else "".
	Runtime string
	// Delegated is true when the id was found below a user's systemd
	// instance (user@UID.service), where that user may create and name
	// cgroups (rootless containers do): such an id proves nothing.
	Delegated bool
}

// ParseCgroup reads the content of /proc/PID/cgroup (cgroup v1 lines
// "ID:CONTROLLERS:PATH", the v2 line "0::PATH", or both in hybrid mode)
// and returns what the most telling path says: the first path that names
// a container, taking the v2 line, then name=systemd, then the others;
// failing that, the first that names a pod. The path may itself hold ':'
// (containerd's "slice:prefix:id" form).
func ParseCgroup(b []byte) Cgroup {
	var best Cgroup
	bestRank := -1
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		j := bytes.IndexByte(line[i+1:], ':')
		if j < 0 {
			continue
		}
		ctrl, path := line[i+1:i+1+j], line[i+2+j:]
		rank := 0
		switch {
		case len(ctrl) == 0:
			rank = 2
		case string(ctrl) == "name=systemd":
			rank = 1
		}
		c := ParseCgroupPath(string(path))
		switch {
		case c.ContainerID != "":
			rank += 10
		case c.PodUID != "":
			rank += 5
		default:
			continue
		}
		if rank > bestRank {
			best, bestRank = c, rank
		}
	}
	return best
}

// ParseCgroupPath finds the innermost container id and the pod uid in one
// cgroup path. The forms real nodes have:
//
//	/kubepods/burstable/pod<uid>/<id>                     cgroupfs driver (v1, v2)
//	/kubepods/pod<uid>/crio-<id>                          CRI-O, cgroupfs driver
//	/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
//	.../crio-<id>.scope (and crio-<id>.scope/container)   CRI-O, systemd driver
//	/system.slice/docker-<id>.scope                       Docker, systemd driver
//	/docker/<id>                                          Docker, cgroupfs driver
//	/machine.slice/libpod-<id>.scope                      Podman
//	/system.slice/containerd.service/kubepods-burstable-pod<uid>.slice:cri-containerd:<id>
//	                                                      containerd's systemd path form
//	                                                      under the cgroupfs driver
//
// Nested runtimes (kind, Docker in Docker: /docker/<id>/kubepods/...) give
// the innermost id. The monitors crio-conmon-<id>.scope and
// libpod-conmon-<id>.scope are not the container and give no id. A pod
// uid is taken only from a pod<uid> component below a kubepods one, or
// from a kubepods-...-pod<uid>.slice name.
func ParseCgroupPath(path string) Cgroup {
	var c Cgroup
	kube, user := false, false
	for path != "" {
		comp := path
		if i := strings.IndexByte(path, '/'); i >= 0 {
			comp, path = path[:i], path[i+1:]
		} else {
			path = ""
		}
		if comp == "" {
			continue
		}
		if strings.HasPrefix(comp, "user@") && strings.HasSuffix(comp, ".service") {
			user = true
		}
		slice := comp
		if i := strings.IndexByte(comp, ':'); i >= 0 {
			slice = comp[:i]
		}
		if uid, ok := slicePodUID(slice); ok {
			c.PodUID, kube = uid, true
		} else if strings.HasPrefix(comp, "kubepods") {
			kube = true
		} else if kube && strings.HasPrefix(comp, "pod") && validUID(comp[3:]) {
			c.PodUID = strings.Clone(comp[3:])
		}
		if id, rt, ok := componentID(comp); ok {
			c.ContainerID, c.Runtime, c.Delegated = strings.Clone(id), rt, user
		} else if comp == "docker" {
			// /docker/<id>: Docker's cgroupfs driver.
			if id, ok := nextComponent(path); ok && ValidID(id) {
				c.ContainerID, c.Runtime, c.Delegated = strings.Clone(id), "docker", user
				path = path[len(id):]
			}
		}
	}
	return c
}

func nextComponent(path string) (string, bool) {
	if i := strings.IndexByte(path, '/'); i >= 0 {
		return path[:i], true
	}
	return path, path != ""
}

// runtimes maps the prefixes of container scopes to runtime names.
var runtimes = [...]struct{ prefix, name string }{
	{"cri-containerd-", "containerd"},
	{"crio-", "cri-o"},
	{"docker-", "docker"},
	{"libpod-", "podman"},
}

// componentID returns the container id one path component names.
func componentID(comp string) (id, runtime string, ok bool) {
	if i := strings.IndexByte(comp, ':'); i >= 0 {
		// <slice>:<prefix>:<id>, containerd's systemd cgroup path.
		rest := comp[i+1:]
		j := strings.IndexByte(rest, ':')
		if j < 0 || !ValidID(rest[j+1:]) {
			return "", "", false
		}
		switch rest[:j] {
		case "cri-containerd":
			runtime = "containerd"
		case "crio":
			runtime = "cri-o"
		case "docker":
			runtime = "docker"
		}
		return rest[j+1:], runtime, true
	}
	scope := strings.HasSuffix(comp, ".scope")
	comp = strings.TrimSuffix(comp, ".scope")
	if strings.Contains(comp, "-conmon-") {
		return "", "", false
	}
	for _, r := range runtimes {
		if s, found := strings.CutPrefix(comp, r.prefix); found {
			if ValidID(s) {
				return s, r.name, true
			}
			return "", "", false
		}
	}
	if ValidID(comp) {
		return comp, "", true // bare id (cgroupfs driver)
	}
	if i := strings.LastIndexByte(comp, '-'); scope && i >= 0 && ValidID(comp[i+1:]) {
		return comp[i+1:], "", true // another runtime's <prefix>-<id>.scope
	}
	return "", "", false
}

// slicePodUID reads the pod uid in a systemd slice name
// kubepods-<qos>-pod<uid>.slice or kubepods-pod<uid>.slice, where the
// uid's dashes are written as underscores.
func slicePodUID(s string) (string, bool) {
	s, ok := strings.CutSuffix(s, ".slice")
	if !ok || !strings.HasPrefix(s, "kubepods-") {
		return "", false
	}
	i := strings.LastIndex(s, "-pod")
	if i < 0 {
		return "", false
	}
	uid := strings.ReplaceAll(s[i+4:], "_", "-")
	if !validUID(uid) {
		return "", false
	}
	return uid, true
}
