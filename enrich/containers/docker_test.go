package containers

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerJSON returns a config.v2.json shaped as dockerd writes it: one
// line, the top-level members in the order of its container struct
// (State, ID, ..., Config with Env, Image and Labels, Image,
// NetworkSettings, LogPath, Name, ...); nested members here are sorted.
// env pads the Env list by about that many bytes.
func dockerJSON(id, name, image string, labels map[string]string, env int) []byte {
	envs := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25.3"}
	if env > 0 {
		envs = append(envs, "PAD="+strings.Repeat("x", env))
	}
	if labels == nil {
		labels = map[string]string{"maintainer": "NGINX Docker Maintainers"}
	}
	type port struct{}
	doc := []struct {
		k string
		v any
	}{
		{"StreamConfig", map[string]any{}},
		{"State", map[string]any{"Running": true, "Paused": false, "Restarting": false, "OOMKilled": false, "RemovalInProgress": false, "Dead": false, "Pid": 4242, "ExitCode": 0, "Error": "", "StartedAt": "2024-05-01T10:00:00.123456789Z", "FinishedAt": "0001-01-01T00:00:00Z", "Health": nil}},
		{"ID", id},
		{"Created", "2024-05-01T09:59:59.987654321Z"},
		{"Managed", false},
		{"Path", "/docker-entrypoint.sh"},
		{"Args", []string{"nginx", "-g", "daemon off;"}},
		{"Config", map[string]any{
			"Hostname": id[:12], "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false, "AttachStderr": false,
			"ExposedPorts": map[string]port{"80/tcp": {}}, "Tty": false, "OpenStdin": false, "StdinOnce": false,
			"Env": envs, "Cmd": []string{"nginx", "-g", "daemon off;"}, "Image": image, "Volumes": nil, "WorkingDir": "",
			"Entrypoint": []string{"/docker-entrypoint.sh"}, "OnBuild": nil, "Labels": labels, "StopSignal": "SIGQUIT",
		}},
		{"Image", "sha256:a6bd71f48f6839d9faae1f29d3babef831e76bc213107682c5cc80f0cbb30866"},
		{"ImageManifest", nil},
		{"NetworkSettings", map[string]any{"Bridge": "", "SandboxID": id2, "SandboxKey": "/var/run/docker/netns/0a1b2c3d4e5f", "HairpinMode": false,
			"Networks": map[string]any{"bridge": map[string]any{"IPAMConfig": nil, "Links": nil, "Aliases": nil, "NetworkID": id2, "EndpointID": id2, "Gateway": "172.17.0.1", "IPAddress": "172.17.0.2", "IPPrefixLen": 16, "MacAddress": "02:42:ac:11:00:02"}},
			"Service":  nil, "Ports": map[string]any{"80/tcp": nil}, "IsAnonymousEndpoint": false, "HasSwarmEndpoint": false}},
		{"LogPath", "/var/lib/docker/containers/" + id + "/" + id + "-json.log"},
		{"Name", name},
		{"Driver", "overlay2"},
		{"OS", "linux"},
		{"RestartCount", 0},
		{"HasBeenStartedBefore", true},
		{"HasBeenManuallyStopped", false},
		{"MountPoints", map[string]any{}},
		{"SecretReferences", nil},
		{"ConfigReferences", nil},
		{"MountLabel", ""},
		{"ProcessLabel", ""},
		{"AppArmorProfile", "docker-default"},
		{"SeccompProfile", ""},
		{"NoNewPrivileges", false},
		{"HostnamePath", "/var/lib/docker/containers/" + id + "/hostname"},
		{"HostsPath", "/var/lib/docker/containers/" + id + "/hosts"},
		{"ShmPath", "/var/lib/docker/containers/" + id + "/mounts/shm"},
		{"ResolvConfPath", "/var/lib/docker/containers/" + id + "/resolv.conf"},
		{"LocalLogCacheMeta", map[string]any{"HaveNotifyEnabled": false}},
	}
	var b []byte
	b = append(b, '{')
	for i, m := range doc {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(m.k)
		v, err := json.Marshal(m.v)
		if err != nil {
			panic(err)
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}')
}

func writeDocker(t *testing.T, root, id string, data []byte) {
	t.Helper()
	dir := filepath.Join(root, "var/lib/docker/containers", id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if data != nil {
		if err := os.WriteFile(filepath.Join(dir, "config.v2.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadDockerConfig(t *testing.T) {
	dir := t.TempDir()
	kubeLabels := map[string]string{
		"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop",
		"io.kubernetes.container.name": "nginx", "io.kubernetes.pod.uid": uid,
		"io.kubernetes.docker.type": "container", "annotation.io.kubernetes.container.restartCount": "0",
	}
	for _, c := range []struct {
		name  string
		data  []byte
		limit int64
		want  dockerConfig
		ok    bool
	}{
		{"plain", dockerJSON(id1, "/web-1", "nginx:1.25", nil, 0), 1 << 20, dockerConfig{id1, Docker{"web-1", "nginx:1.25"}, Kubernetes{}}, true},
		{"cri-dockerd", dockerJSON(id1, "/k8s_nginx_web-0_shop_"+uid+"_0", "nginx@sha256:abc", kubeLabels, 0), 1 << 20,
			dockerConfig{id1, Docker{"k8s_nginx_web-0_shop_" + uid + "_0", "nginx@sha256:abc"}, Kubernetes{"web-0", "shop", "nginx", uid}}, true},
		// The limit cuts the file inside Env: nothing after it is read.
		{"cut in Env", dockerJSON(id1, "/web-1", "nginx:1.25", nil, 4<<20), 1 << 20, dockerConfig{id: id1}, false},
		// The limit cuts the file after Config: the image is kept.
		{"cut before Name", dockerJSON(id1, "/web-1", "nginx:1.25", nil, 0), 1500, dockerConfig{id1, Docker{"", "nginx:1.25"}, Kubernetes{}}, true},
		{"another id", dockerJSON(id2, "/web-1", "nginx:1.25", nil, 0), 1 << 20, dockerConfig{}, false},
		{"empty", []byte{}, 1 << 20, dockerConfig{}, false},
		{"not json", []byte("\x00\xffgarbage"), 1 << 20, dockerConfig{}, false},
		{"array", []byte(`[{"Name":"/x"}]`), 1 << 20, dockerConfig{}, false},
		{"wrong types", []byte(`{"Name":5,"Config":"x","ID":[1,{"a":2}]}`), 1 << 20, dockerConfig{}, false},
		{"wrong nested types", []byte(`{"Config":{"Image":{"x":[1]},"Labels":[1,2]},"Name":"/ok"}`), 1 << 20, dockerConfig{docker: Docker{Name: "ok"}}, true},
		{"truncated", dockerJSON(id1, "/web-1", "nginx:1.25", nil, 0)[:900], 1 << 20, dockerConfig{id1, Docker{"", "nginx:1.25"}, Kubernetes{}}, true},
		{"control bytes", []byte(`{"Name":"/we\u0007b","Config":{"Image":"ok"}}`), 1 << 20, dockerConfig{docker: Docker{Image: "ok"}}, true},
		{"long name", []byte(`{"Name":"/` + strings.Repeat("n", 5000) + `","Config":{"Image":"ok"}}`), 1 << 20, dockerConfig{docker: Docker{Image: "ok"}}, true},
		{"bad label value", []byte(`{"Config":{"Labels":{"io.kubernetes.pod.name":{"a":1},"io.kubernetes.pod.namespace":"ns"}},"Name":"/x"}`), 1 << 20,
			dockerConfig{docker: Docker{Name: "x"}, kube: Kubernetes{Namespace: "ns"}}, true},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, ok := readDockerConfig(p, id1, c.limit)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
	if _, ok := readDockerConfig(filepath.Join(dir, "missing"), id1, 1<<20); ok {
		t.Error("missing file found")
	}
	if _, ok := readDockerConfig(dir, id1, 1<<20); ok {
		t.Error("a directory found")
	}
}
