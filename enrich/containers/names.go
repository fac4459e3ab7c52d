// Package containers names a container id the way Fluent Bit's kubernetes
// filter names things, without any API call, from files every node has:
//
//   - the kubelet's /var/log/containers/<pod>_<namespace>_<container>-<id>.log
//     symlinks (into /var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<n>.log)
//     give pod_name, namespace_name, container_name and pod_id;
//   - Docker's /var/lib/docker/containers/<id>/config.v2.json gives the
//     container name and image (and, under dockershim or cri-dockerd, the
//     kubelet's io.kubernetes.* labels);
//   - /var/log/pods/<namespace>_<pod>_<uid> names a pod from the pod uid of
//     a cgroup path when the container's own symlink is missing.
//
// containerd and CRI-O containers without a /var/log/containers link are
// not found. ParseCgroup and ParseCgroupPath read the container id and pod
// uid from the cgroup paths of the cgroup v1 and v2, cgroupfs and systemd
// drivers.
//
// The package depends on nothing else of the project.
package containers

// Names is what is known of one container.
type Names struct {
	// Runtime is "docker" when Docker's config.v2.json was read; from a
	// cgroup path (Lookup.Cgroup) it may also be "containerd", "cri-o" or
	// "podman". Empty when unknown: the kubelet's files do not say.
	Runtime    string
	Kubernetes Kubernetes
	Docker     Docker
}

// Kubernetes holds the names of Fluent Bit's kubernetes filter.
type Kubernetes struct {
	PodName       string // pod_name
	Namespace     string // namespace_name
	ContainerName string // container_name
	PodID         string // pod_id: the pod uid
}

// Docker holds what Docker's config.v2.json says.
type Docker struct {
	Name  string // "web-1" (Docker writes "/web-1")
	Image string // the image as given: "nginx:1.25", not its sha256 id
}
