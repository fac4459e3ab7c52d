package containers

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// dnsSubdomain is a whole pod name as the pod_name group accepts it.
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// referenceLogName is a slow, direct reading of the pattern: the leftmost
// start s, and at s any split (pod end p, namespace end q) with the parts
// as the groups define them. At most one split exists for a start, since
// neither the pod name nor the namespace holds "_".
func referenceLogName(name string) (LogName, bool) {
	if !clean(name) {
		return LogName{}, false
	}
	n := len(name)
	if n < logTail || !strings.HasSuffix(name, ".log") || name[n-logTail] != '-' {
		return LogName{}, false
	}
	id := name[n-logTail+1 : n-4]
	for _, c := range []byte(id) {
		if !alnum(c) {
			return LogName{}, false
		}
	}
	end := n - logTail
	for s := 0; s < end; s++ {
		for p := s + 1; p < end; p++ {
			if name[p] != '_' || !dnsSubdomain.MatchString(name[s:p]) {
				continue
			}
			for q := p + 2; q < end-1; q++ {
				if name[q] == '_' && !strings.Contains(name[p+1:q], "_") {
					return LogName{name[s:p], name[p+1 : q], name[q+1 : end], id}, true
				}
			}
		}
	}
	return LogName{}, false
}

func FuzzParseLogName(f *testing.F) {
	for _, s := range []string{
		"web-0_default_nginx-" + id1 + ".log",
		"Xa..b_n.s_c_x-y-" + id1 + ".log",
		"web_ns_c-" + id1 + ".log\n",
		"web_n\xc3_c-" + id1 + ".log",
		"_-" + id1 + ".log",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, ok := ParseLogName(name)
		if ok {
			if got.PodName == "" || got.Namespace == "" || got.ContainerName == "" || len(got.ContainerID) != 64 {
				t.Fatalf("%q: empty part in %+v", name, got)
			}
			if !strings.HasSuffix(name, got.PodName+"_"+got.Namespace+"_"+got.ContainerName+"-"+got.ContainerID+".log") {
				t.Fatalf("%q: %+v does not spell the name's end", name, got)
			}
			if !dnsSubdomain.MatchString(got.PodName) || strings.Contains(got.Namespace, "_") || !clean(name) {
				t.Fatalf("%q: %+v breaks the pattern", name, got)
			}
		}
		if len(name) <= 300 {
			want, wok := referenceLogName(name)
			if ok != wok || got != want {
				t.Fatalf("%q: %+v %v, reference %+v %v", name, got, ok, want, wok)
			}
		}
		if d, ok := ParsePodDir(name); ok {
			if d.Namespace+"_"+d.PodName+"_"+d.PodUID != name || !validUID(d.PodUID) {
				t.Fatalf("%q: pod dir %+v", name, d)
			}
		}
	})
}

func FuzzParseCgroup(f *testing.F) {
	for _, s := range []string{
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/cri-containerd-" + id1 + ".scope\n",
		"12:pids:/kubepods/burstable/pod" + uid + "/" + id1 + "\n1:name=systemd:/docker/" + id2 + "\n",
		"0::/system.slice/containerd.service/kubepods-pod" + uidu + ".slice:cri-containerd:" + id1,
		"0::/user.slice/user-1000.slice/user@1000.service/docker-" + id1 + ".scope",
		"0::/docker/" + id1 + "/docker/",
		":::",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range []Cgroup{ParseCgroup(b), ParseCgroupPath(string(b))} {
			if c.ContainerID != "" && !ValidID(c.ContainerID) {
				t.Fatalf("%q: container id %q", b, c.ContainerID)
			}
			if c.PodUID != "" && !validUID(c.PodUID) {
				t.Fatalf("%q: pod uid %q", b, c.PodUID)
			}
			if c.ContainerID != "" && !strings.Contains(string(b), c.ContainerID) {
				t.Fatalf("%q: id %q not in the input", b, c.ContainerID)
			}
			switch c.Runtime {
			case "", "containerd", "cri-o", "docker", "podman":
			default:
				t.Fatalf("%q: runtime %q", b, c.Runtime)
			}
		}
	})
}

func FuzzDockerConfig(f *testing.F) {
	f.Add(dockerJSON(id1, "/web-1", "nginx:1.25", nil, 0))
	f.Add([]byte(`{"Config":{"Labels":{"io.kubernetes.pod.name":"a"}},"Name":"/x"}`))
	f.Add([]byte(`{"Name":[{"a":[]}],"Config":[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c dockerConfig
		parseDockerConfig(newDecoder(b), &c)
		for _, s := range []string{c.docker.Name, c.docker.Image, c.kube.PodName, c.kube.Namespace, c.kube.ContainerName, c.kube.PodID} {
			if len(s) > maxValue || !clean(s) {
				t.Fatalf("%q: kept %q", b, s)
			}
		}
	})
}

func newDecoder(b []byte) *json.Decoder { return json.NewDecoder(bytes.NewReader(b)) }
