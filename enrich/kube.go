package enrich

import (
	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/enrich/containers"
)

// Container and Kubernetes names of a process, as Fluent Bit's kubernetes
// filter names things (pod_name, namespace_name, container_name, pod_id),
// from the kubelet's and Docker's files on the node (enrich/containers):
// for the caller and for each target, known after the target died (the
// table keeps its container id, the lookup its names).

// containerNames returns the names of p's container or pod, if any are
// known.
func (e *Enricher) containerNames(p *Proc) (containers.Names, bool) {
	if e.ctr == nil || p == nil || (p.Container == "" && p.PodUID == "") {
		return containers.Names{}, false
	}
	n, ok := e.ctr.Cgroup(containers.Cgroup{ContainerID: p.Container, PodUID: p.PodUID, Runtime: p.Runtime})
	if !ok || n.Kubernetes.PodName == "" && n.Docker.Name == "" {
		return n, false
	}
	return n, true
}

// writeKube writes kubernetes.{pod_name,namespace_name,container_name,pod_id}
// and docker.{name,image} of p (default schema, and our auditd.target).
func (e *Enricher) writeKube(doc *encode.Document, p *Proc) {
	n, ok := e.containerNames(p)
	if !ok {
		return
	}
	if k := n.Kubernetes; k.PodName != "" {
		doc.Object("kubernetes")
		doc.Str("pod_name", k.PodName)
		doc.Str("namespace_name", k.Namespace)
		if k.ContainerName != "" {
			doc.Str("container_name", k.ContainerName)
		}
		if k.PodID != "" {
			doc.Str("pod_id", k.PodID)
		}
		doc.End()
	}
	if d := n.Docker; d.Name != "" {
		doc.Object("docker")
		doc.Str("name", d.Name)
		if d.Image != "" {
			doc.Str("image", d.Image)
		}
		doc.End()
	}
}

// ecsContainer writes ECS's container.*, orchestrator.* and the
// kubernetes.* fields of Elastic's Kubernetes integration for p (the
// event's process).
func (e *Enricher) ecsContainer(doc *encode.Document, p *Proc) {
	if p == nil || p.Container == "" && p.PodUID == "" {
		return
	}
	n, named := e.containerNames(p)
	k := n.Kubernetes
	if p.Container != "" {
		doc.Object("container")
		doc.Str("id", p.Container)
		switch {
		case k.ContainerName != "":
			doc.Str("name", k.ContainerName)
		case n.Docker.Name != "":
			doc.Str("name", n.Docker.Name)
		}
		if rt := cmpOr(n.Runtime, p.Runtime); rt != "" {
			doc.Str("runtime", rt)
		}
		if n.Docker.Image != "" {
			doc.Object("image")
			doc.Str("name", n.Docker.Image)
			doc.End()
		}
		doc.End()
	}
	if !named || k.PodName == "" {
		return
	}
	doc.Object("orchestrator")
	doc.Str("type", "kubernetes")
	doc.Str("namespace", k.Namespace)
	doc.Object("resource")
	doc.Str("type", "pod")
	doc.Str("name", k.PodName)
	if k.PodID != "" {
		doc.Str("id", k.PodID)
	}
	doc.End()
	doc.End()
	doc.Object("kubernetes")
	doc.Object("pod")
	doc.Str("name", k.PodName)
	if k.PodID != "" {
		doc.Str("uid", k.PodID)
	}
	doc.End()
	doc.Str("namespace", k.Namespace)
	if k.ContainerName != "" {
		doc.Object("container")
		doc.Str("name", k.ContainerName)
		doc.End()
	}
	doc.End()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
