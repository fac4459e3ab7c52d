package enrich

import (
	"testing"
	"time"
)

// TestProcTableBounded fills the table far past its bound with processes
// seen over a long span (a collector running for weeks): it stays bounded,
// evicting the least recently seen quickly, and keeps recent processes.
func TestProcTableBounded(t *testing.T) {
	tb := NewProcTable("/nonexistent", false, 1000)
	now := time.Unix(1700000000, 0)
	tb.now = func() time.Time { return now }
	start := time.Now()
	for i := 0; i < 20000; i++ {
		now = now.Add(time.Minute) // 20,000 minutes: two weeks of span
		tb.sec = 0
		tb.Observe(int64(i+1), 1, []byte("c"), []byte("/bin/c"), 0)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("20,000 insertions with eviction took %v", d)
	}
	if len(tb.m) > 1000 {
		t.Fatalf("table holds %d processes, bound 1000", len(tb.m))
	}
	if tb.m[20000] == nil || tb.m[19999] == nil {
		t.Fatal("most recent processes evicted")
	}
	if tb.m[1] != nil {
		t.Fatal("oldest process kept")
	}
}

func TestCgroupContext(t *testing.T) {
	for in, want := range map[string][2]string{
		"0::/system.slice/nginx.service\n": {"nginx.service", ""},
		"12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n0::/\n":                                          {"cron.service", ""},
		"0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n":                               {"docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		"0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n": {"cri-containerd-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		"0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n":                                                       {"foo.service", ""},
		// a user's own cgroups name nothing: the id proves nothing
		"0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n": {"docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope", ""},
		// CRI-O's monitor is not the container
		"0::/kubepods.slice/crio-conmon-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n": {"crio-conmon-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope", ""},
	} {
		u, c := cgroupContext([]byte(in))
		if u != want[0] || c.ContainerID != want[1] {
			t.Errorf("%q: unit %q container %q, want %q %q", in, u, c.ContainerID, want[0], want[1])
		}
	}
}
