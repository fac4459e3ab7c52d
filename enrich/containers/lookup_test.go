package containers

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// kubelet writes what the kubelet writes for one container: the log file
// /var/log/pods/<ns>_<pod>_<uid>/<container>/<restart>.log and the link
// /var/log/containers/<pod>_<ns>_<container>-<id>.log to it. The link's
// target is absolute, as the kubelet makes it, so under a test root it
// dangles: the lookup reads link names and targets, never through them.
func kubelet(t *testing.T, root, ns, pod, podUID, container, id string, restart int) string {
	t.Helper()
	logDir := filepath.Join("/var/log/pods", ns+"_"+pod+"_"+podUID, container)
	if err := os.MkdirAll(filepath.Join(root, logDir), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(logDir, fmt.Sprintf("%d.log", restart))
	if err := os.WriteFile(filepath.Join(root, logFile), []byte("2024-05-01T10:00:00.000000000Z stdout F hello\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(root, "var/log/containers")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(links, pod+"_"+ns+"_"+container+"-"+id+".log")
	if err := os.Symlink(logFile, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// age sets the mtime of the watched directories in the past, so that
// their listings are trusted (see settle).
func age(t *testing.T, root string) {
	t.Helper()
	old := time.Now().Add(-2 * time.Hour)
	for _, d := range []string{"var/log/containers", "var/log/pods", "var/lib/docker/containers"} {
		if err := os.Chtimes(filepath.Join(root, d), old, old); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newLookup(cfg Config) (*Lookup, *fakeClock) {
	l := New(cfg)
	c := &fakeClock{time.Unix(1714557600, 0)}
	l.now = c.now
	return l, c
}

func hexID(n int) string { return fmt.Sprintf("%064x", n) }

func TestLookupKubelet(t *testing.T) {
	root := t.TempDir()
	kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	kubelet(t, root, "shop", "web-0", uid, "log-shipper_v2", hexID(2), 3)
	kubelet(t, root, "kube-system", "coredns-5d78c9869d-x7k2p", "6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7", "coredns", hexID(3), 0)
	kubelet(t, root, "a.b", "my.pod.v1", uid, "c", hexID(4), 0) // dots: Fluent Bit accepts
	// Hostile or foreign entries: ignored, counted.
	links := filepath.Join(root, "var/log/containers")
	for _, name := range []string{
		"not-a-log-name",
		"web_ns_c-" + strings.Repeat("z", 64) + ".log", // Fluent Bit's id class, but not hex
		"web_ns_c\xff\xfe-" + hexID(5) + ".log",        // not UTF-8
		"web_ns\x01_c-" + hexID(6) + ".log",            // control byte
		("web_ns_" + strings.Repeat("c", 200) + "-" + hexID(7) + ".log")[:255],
	} {
		if err := os.Symlink("/nowhere", filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(links, "dir_ns_c-"+hexID(8)+".log.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, _ := newLookup(Config{Root: root})
	for id, want := range map[string]Kubernetes{
		id1:      {"web-0", "shop", "nginx", uid},
		hexID(2): {"web-0", "shop", "log-shipper_v2", uid},
		hexID(3): {"coredns-5d78c9869d-x7k2p", "kube-system", "coredns", "6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7"},
		hexID(4): {"my.pod.v1", "a.b", "c", ""}, // "a.b" is no namespace: the pod dir does not parse, no uid
	} {
		n, ok := l.Name(id)
		if !ok || n.Kubernetes != want || n.Docker != (Docker{}) || n.Runtime != "" {
			t.Errorf("%s: %+v %v, want %+v", id, n, ok, want)
		}
	}
	for _, id := range []string{hexID(5), hexID(6), hexID(7), hexID(8), hexID(9), strings.Repeat("z", 64), "", "short", "../../etc/passwd"} {
		if n, ok := l.Name(id); ok {
			t.Errorf("%q found: %+v", id, n)
		}
	}
	if s := l.Stats(); s.BadNames != 6 || s.Containers != 4 || s.Listings != 1 {
		t.Errorf("stats %+v: want 6 bad names, 4 containers, 1 listing", s)
	}
}

func TestLookupHit(t *testing.T) {
	root := t.TempDir()
	kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	writeDocker(t, root, id2, dockerJSON(id2, "/web-1", "nginx:1.25", nil, 0))
	l, clock := newLookup(Config{Root: root})
	if _, ok := l.Name(id1); !ok {
		t.Fatal("not found")
	}
	if _, ok := l.Name(id2); !ok {
		t.Fatal("docker container not found")
	}
	// A hit touches no file: with the whole tree gone, and the clock past
	// Refresh, hits still answer and no look is made.
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Hour)
	before := l.Stats()
	for i := 0; i < 1000; i++ {
		if _, ok := l.Name(id1); !ok {
			t.Fatal("hit lost")
		}
		if _, ok := l.Name(id2); !ok {
			t.Fatal("hit lost")
		}
	}
	after := l.Stats()
	if after.Looks != before.Looks || after.Listings != before.Listings || after.DockerReads != before.DockerReads {
		t.Errorf("hits touched the file system: %+v then %+v", before, after)
	}
	if after.Hits-before.Hits != 2000 {
		t.Errorf("%d hits counted, want 2000", after.Hits-before.Hits)
	}
	if n := testing.AllocsPerRun(1000, func() { l.Name(id1) }); n != 0 {
		t.Errorf("a hit allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { l.Cgroup(Cgroup{ContainerID: id1, PodUID: uid, Runtime: "containerd"}) }); n != 0 {
		t.Errorf("a Cgroup hit allocates %v times", n)
	}
}

func TestLookupNegative(t *testing.T) {
	root := t.TempDir()
	kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	writeDocker(t, root, id1, nil) // /var/lib/docker/containers exists
	age(t, root)
	l, clock := newLookup(Config{Root: root, Refresh: 2 * time.Second})
	unknown := hexID(42)
	for i := 0; i < 1000; i++ {
		if _, ok := l.Name(unknown); ok {
			t.Fatal("unknown id found")
		}
	}
	s := l.Stats()
	if s.Looks != 1 || s.Listings != 1 || s.DockerReads != 2 || s.NegativeHits != 999 || s.Misses != 1000 {
		t.Fatalf("1000 asks of an unknown id: %+v; want 1 look, 1 listing, 2 docker reads (id1 while listing, the unknown id), 999 negative hits", s)
	}
	if n := testing.AllocsPerRun(1000, func() { l.Name(unknown) }); n != 0 {
		t.Errorf("a negative hit allocates %v times", n)
	}
	// Past Refresh, with nothing changed: one look (stats), no listing,
	// no docker read.
	clock.add(3 * time.Second)
	for i := 0; i < 100; i++ {
		l.Name(unknown)
	}
	s = l.Stats()
	if s.Looks != 2 || s.Listings != 1 || s.DockerReads != 2 {
		t.Fatalf("after Refresh, unchanged: %+v; want 2 looks, 1 listing, 2 docker reads", s)
	}
	// The container appears: within Refresh the miss stands; past it the
	// directory's new mtime makes a listing and the id is found.
	kubelet(t, root, "shop", "web-1", uid, "nginx", unknown, 0)
	if _, ok := l.Name(unknown); ok {
		t.Fatal("found before Refresh: the negative answer should stand")
	}
	clock.add(3 * time.Second)
	n, ok := l.Name(unknown)
	if !ok || n.Kubernetes.PodName != "web-1" {
		t.Fatalf("new container: %+v %v", n, ok)
	}
	if s := l.Stats(); s.Listings != 2 {
		t.Errorf("listings %d, want 2", s.Listings)
	}
}

func TestLookupUntrustedMtime(t *testing.T) {
	// A directory changed within the last second is listed again at the
	// next look even if its mtime has not moved: an entry added in the
	// same timestamp tick would not move it.
	root := t.TempDir()
	kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	l, clock := newLookup(Config{Root: root, NoDocker: true})
	l.settle = time.Hour // "recent" however slow the machine; age() goes 2 h back
	l.Name(hexID(1))
	if s := l.Stats(); s.Listings != 1 {
		t.Fatalf("listings %d", s.Listings)
	}
	clock.add(3 * time.Second)
	l.Tick()
	if s := l.Stats(); s.Listings != 2 {
		t.Fatalf("recent mtime not listed again: listings %d", s.Listings)
	}
	age(t, root)
	clock.add(3 * time.Second)
	l.Tick() // the mtime moved (into the past): listed, and now trusted
	clock.add(3 * time.Second)
	l.Tick()
	if s := l.Stats(); s.Listings != 3 || s.Looks != 4 {
		t.Fatalf("old mtime: %+v; want 3 listings, 4 looks", s)
	}
}

func TestLookupDeadContainer(t *testing.T) {
	root := t.TempDir()
	asked := kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	ticked := kubelet(t, root, "shop", "job-1", uid, "work", hexID(2), 0)
	age(t, root)
	l, clock := newLookup(Config{Root: root, NoDocker: true})
	if _, ok := l.Name(id1); !ok {
		t.Fatal("not found while alive")
	}
	// The kubelet garbage-collects both containers; a third comes and
	// goes between two looks, never listed.
	os.Remove(asked)
	os.Remove(ticked)
	brief := kubelet(t, root, "shop", "brief", uid, "x", hexID(3), 0)
	os.Remove(brief)
	clock.add(time.Hour)
	l.Tick()
	if n, ok := l.Name(id1); !ok || n.Kubernetes.ContainerName != "nginx" {
		t.Errorf("dead container forgotten: %+v %v", n, ok)
	}
	if n, ok := l.Name(hexID(2)); !ok || n.Kubernetes.ContainerName != "work" {
		t.Errorf("container listed before it died forgotten: %+v %v", n, ok)
	}
	if _, ok := l.Name(hexID(3)); ok {
		t.Error("a container never listed found")
	}
}

func TestLookupDocker(t *testing.T) {
	root := t.TempDir()
	writeDocker(t, root, id1, dockerJSON(id1, "/web-1", "nginx:1.25", nil, 0))
	writeDocker(t, root, hexID(3), []byte("{not json"))
	writeDocker(t, root, hexID(4), nil) // no config.v2.json
	writeDocker(t, root, hexID(5), dockerJSON(id1, "/other", "x", nil, 0))
	// cri-dockerd: Docker's config and the kubelet's link.
	kubelet(t, root, "shop", "web-0", uid, "nginx", id2, 0)
	writeDocker(t, root, id2, dockerJSON(id2, "/k8s_nginx_web-0_shop_"+uid+"_0", "nginx:1.25", map[string]string{
		"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop", "io.kubernetes.container.name": "nginx", "io.kubernetes.pod.uid": uid,
	}, 0))
	// A Docker-managed pod container whose link is gone: names from labels.
	writeDocker(t, root, hexID(6), dockerJSON(hexID(6), "/k8s_POD_web-0_shop_"+uid+"_0", "registry.k8s.io/pause:3.9", map[string]string{
		"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop", "io.kubernetes.container.name": "POD", "io.kubernetes.pod.uid": uid,
	}, 0))
	l, _ := newLookup(Config{Root: root})
	for id, want := range map[string]Names{
		id1:      {Runtime: "docker", Docker: Docker{"web-1", "nginx:1.25"}},
		id2:      {Runtime: "docker", Docker: Docker{"k8s_nginx_web-0_shop_" + uid + "_0", "nginx:1.25"}, Kubernetes: Kubernetes{"web-0", "shop", "nginx", uid}},
		hexID(6): {Runtime: "docker", Docker: Docker{"k8s_POD_web-0_shop_" + uid + "_0", "registry.k8s.io/pause:3.9"}, Kubernetes: Kubernetes{"web-0", "shop", "POD", uid}},
	} {
		if n, ok := l.Name(id); !ok || n != want {
			t.Errorf("%s: %+v %v\nwant %+v", id, n, ok, want)
		}
	}
	for _, id := range []string{hexID(3), hexID(4), hexID(5), hexID(7)} {
		if n, ok := l.Name(id); ok {
			t.Errorf("%s found: %+v", id, n)
		}
	}
	// NoDocker leaves /var/lib/docker alone.
	l, _ = newLookup(Config{Root: root, NoDocker: true})
	if n, ok := l.Name(id2); !ok || n.Runtime != "" || n.Docker != (Docker{}) {
		t.Errorf("NoDocker: %+v %v", n, ok)
	}
	if _, ok := l.Name(id1); ok {
		t.Error("NoDocker: Docker container found")
	}
	if s := l.Stats(); s.DockerReads != 0 {
		t.Errorf("NoDocker: %d docker reads", s.DockerReads)
	}
}

func TestLookupCgroup(t *testing.T) {
	root := t.TempDir()
	kubelet(t, root, "shop", "web-0", uid, "nginx", id1, 0)
	// A second pod whose container link was cut by the kubelet's 255-byte
	// limit: only its pod directory names it.
	long := strings.Repeat("c", 200)
	dir := filepath.Join(root, "var/log/pods", "batch_report-28593_"+"0a1b2c3d-0000-4000-8000-00000000cafe", long)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := ("report-28593_batch_" + long + "-" + id2 + ".log")[:255]
	if err := os.Symlink(filepath.Join(dir, "0.log"), filepath.Join(root, "var/log/containers", name)); err != nil {
		t.Fatal(err)
	}
	l, _ := newLookup(Config{Root: root, NoDocker: true})
	for path, want := range map[string]Names{
		// By container id; the runtime from the path.
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/cri-containerd-" + id1 + ".scope": {
			Runtime: "containerd", Kubernetes: Kubernetes{"web-0", "shop", "nginx", uid}},
		// The pause container of web-0: no link, the pod by its uid.
		"/kubepods/burstable/pod" + uid + "/" + hexID(9): {Kubernetes: Kubernetes{"web-0", "shop", "", uid}},
		// The cut link: the pod by its uid, from /var/log/pods.
		"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_0000_4000_8000_00000000cafe.slice/crio-" + id2 + ".scope": {
			Runtime: "cri-o", Kubernetes: Kubernetes{"report-28593", "batch", "", "0a1b2c3d-0000-4000-8000-00000000cafe"}},
	} {
		if n, ok := l.Cgroup(ParseCgroupPath(path)); !ok || n != want {
			t.Errorf("%s:\n %+v %v\nwant %+v", path, n, ok, want)
		}
	}
	// Unknown pod and container: the runtime only.
	n, ok := l.Cgroup(ParseCgroupPath("/kubepods.slice/kubepods-pod" + strings.ReplaceAll(uid, "7f", "00") + ".slice/cri-containerd-" + hexID(10) + ".scope"))
	if ok || n != (Names{Runtime: "containerd"}) {
		t.Errorf("unknown: %+v %v", n, ok)
	}
	if k, ok := l.Pod("../../x"); ok {
		t.Errorf("invalid uid found: %+v", k)
	}
}

func TestLookupBounded(t *testing.T) {
	root := t.TempDir()
	for i := 1; i <= 100; i++ {
		kubelet(t, root, "ns", fmt.Sprintf("pod-%d", i), fmt.Sprintf("%08x-0000-4000-8000-000000000000", i), "c", hexID(i), 0)
	}
	age(t, root)
	l, clock := newLookup(Config{Root: root, MaxEntries: 20, MaxMisses: 16, NoDocker: true})
	// 100 links, room for 20: the asked id is always learnt.
	for _, i := range []int{1, 50, 100, 77, 3} {
		clock.add(time.Hour)
		if n, ok := l.Name(hexID(i)); !ok || n.Kubernetes.PodName != fmt.Sprintf("pod-%d", i) {
			t.Errorf("%d: %+v %v", i, n, ok)
		}
	}
	s := l.Stats()
	if s.Containers > 20 || s.Pods > 20 || s.Evicted == 0 || s.Overflow == 0 {
		t.Errorf("stats %+v: want at most 20 containers and pods, evictions, overflow", s)
	}
	for i := 0; i < 1000; i++ {
		l.Name(hexID(1000 + i))
	}
	if len(l.missID) > 16 {
		t.Errorf("%d misses remembered, bound 16", len(l.missID))
	}
}

func TestLookupNoFiles(t *testing.T) {
	// containerd or CRI-O without /var/log/containers, no Docker: nothing
	// is found, and asking costs no listing.
	l, clock := newLookup(Config{Root: t.TempDir()})
	for i := 0; i < 100; i++ {
		clock.add(time.Second)
		if _, ok := l.Name(hexID(i % 3)); ok {
			t.Fatal("found")
		}
	}
	if s := l.Stats(); s.Listings != 0 || s.DockerReads != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestLookupConcurrent(t *testing.T) {
	root := t.TempDir()
	for i := 1; i <= 20; i++ {
		kubelet(t, root, "ns", fmt.Sprintf("pod-%d", i), uid, "c", hexID(i), 0)
	}
	l := New(Config{Root: root, Refresh: -1})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				l.Name(hexID(i % 30))
				l.Pod(uid)
				if i%100 == 0 {
					l.Tick()
				}
			}
		}()
	}
	wg.Wait()
	if n, ok := l.Name(hexID(7)); !ok || n.Kubernetes.PodName != "pod-7" {
		t.Errorf("%+v %v", n, ok)
	}
}

func BenchmarkNameHit(b *testing.B) {
	root := b.TempDir()
	for i := 1; i <= 200; i++ {
		kubelet(&testing.T{}, root, "ns", fmt.Sprintf("pod-%d", i), uid, "c", hexID(i), 0)
	}
	l := New(Config{Root: root})
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = hexID(i + 1)
		if _, ok := l.Name(ids[i]); !ok {
			b.Fatal("not found")
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Name(ids[i%len(ids)])
	}
}

func BenchmarkNameNegative(b *testing.B) {
	l := New(Config{Root: b.TempDir(), Refresh: time.Hour})
	id := hexID(1)
	l.Name(id)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Name(id)
	}
}

func BenchmarkParseLogName(b *testing.B) {
	name := "coredns-5d78c9869d-x7k2p_kube-system_coredns-" + id1 + ".log"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ParseLogName(name)
	}
}

func BenchmarkParseCgroup(b *testing.B) {
	file := []byte("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidu + ".slice/cri-containerd-" + id1 + ".scope\n")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ParseCgroup(file)
	}
}
