package containers

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"
)

const id1 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseLogName(t *testing.T) {
	for _, c := range []struct {
		name string
		want *LogName // nil: not matched
	}{
		{"web-0_default_nginx-" + id1 + ".log", &LogName{"web-0", "default", "nginx", id1}},
		{"coredns-5d78c9869d-x7k2p_kube-system_coredns-" + id1 + ".log", &LogName{"coredns-5d78c9869d-x7k2p", "kube-system", "coredns", id1}},
		// Dots and dashes in pod and namespace; "_" and "-" in the container.
		{"my.app.v2_team.prod_side-car_2-" + id1 + ".log", &LogName{"my.app.v2", "team.prod", "side-car_2", id1}},
		{"web_ns_c_x-y-" + id1 + ".log", &LogName{"web", "ns", "c_x-y", id1}},
		// The container is greedy: the id is the last 64 before ".log".
		{"web_ns_c-" + id1 + "-" + strings.Repeat("a", 64) + ".log", &LogName{"web", "ns", "c-" + id1, strings.Repeat("a", 64)}},
		// Fluent Bit's id class is [a-z0-9], not hex.
		{"web_ns_c-" + strings.Repeat("z", 64) + ".log", &LogName{"web", "ns", "c", strings.Repeat("z", 64)}},
		// Unanchored like onig_search: the leftmost valid pod name.
		{"Xweb_ns_c-" + id1 + ".log", &LogName{"web", "ns", "c", id1}},
		{"a..b_ns_c-" + id1 + ".log", &LogName{"b", "ns", "c", id1}},
		{"WEB_web_ns_c-" + id1 + ".log", &LogName{"web", "ns", "c", id1}},
		{"_x_y_z-" + id1 + ".log", &LogName{"x", "y", "z", id1}},
		{"web__c-" + id1 + ".log", nil},    // empty namespace
		{"web_ns_-" + id1 + ".log", nil},   // empty container
		{"web_ns-" + id1 + ".log", nil},    // no container part
		{"_ns_c-" + id1 + ".log", nil},     // no pod
		{"web-_ns_c-" + id1 + ".log", nil}, // pod ends with "-"
		{"web_ns_c_" + id1 + ".log", nil},
		{"web_ns_c-" + id1[:63] + ".log", nil},
		{"web_ns_c-" + strings.ToUpper(id1) + ".log", nil},
		{"web_ns_c-" + id1 + ".log.1", nil},
		{"web_ns_c-" + id1 + ".LOG", nil},
		{"-" + id1 + ".log", nil},
		{"", nil},
		// Non-ASCII but valid UTF-8 namespace and container.
		{"web_nés_cé-" + id1 + ".log", &LogName{"web", "nés", "cé", id1}},
		// Hostile: not UTF-8, control bytes, newline (Fluent Bit's "$"
		// would match before it).
		{"web_ns_c\xff-" + id1 + ".log", nil},
		{"web_ns\xc3_c-" + id1 + ".log", nil},
		{"web\x00_ns_c-" + id1 + ".log", nil},
		{"web_ns_c-" + id1 + ".log\n", nil},
		{"web_n\ns_c-" + id1 + ".log", nil},
		// The kubelet cuts names at 255 bytes: the id is cut too.
		{("web_ns_" + strings.Repeat("c", 200) + "-" + id1 + ".log")[:255], nil},
		// Long but whole.
		{strings.Repeat("p", 200) + "_ns_c-" + id1 + ".log", &LogName{strings.Repeat("p", 200), "ns", "c", id1}},
	} {
		got, ok := ParseLogName(c.name)
		if c.want == nil {
			if ok {
				t.Errorf("%q: matched %+v, want no match", c.name, got)
			}
			continue
		}
		if !ok || got != *c.want {
			t.Errorf("%q: %+v %v, want %+v", c.name, got, ok, *c.want)
		}
	}
}

// TestParseLogNameFluentBit checks every case of the testdata file, whose
// answers are those of Fluent Bit's own regex run by Onigmo: the same
// split for every name without control bytes that is valid UTF-8, and no
// match for the others (the documented difference).
func TestParseLogNameFluentBit(t *testing.T) {
	f, err := os.Open("testdata/fluentbit-kube-tag.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var same, refused, matched int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		name := unhex(t, fields[0])
		got, ok := ParseLogName(name)
		if !clean(name) {
			if ok {
				t.Errorf("%q: matched %+v, want no match outside valid UTF-8 without control bytes", name, got)
			}
			refused++
			continue
		}
		if fields[1] == "no" {
			if ok {
				t.Errorf("%q: matched %+v, Fluent Bit does not", name, got)
			}
			same++
			continue
		}
		want := LogName{unhex(t, fields[2]), unhex(t, fields[3]), unhex(t, fields[4]), unhex(t, fields[5])}
		if !ok || got != want {
			t.Errorf("%q: %+v %v, Fluent Bit %+v", name, got, ok, want)
		}
		same++
		matched++
	}
	if same < 400 || matched < 100 {
		t.Fatalf("only %d cases (%d matched) in the testdata", same, matched)
	}
	t.Logf("%d names split as Fluent Bit does (%d matched), %d outside the domain refused", same, matched, refused)
}

func unhex(t *testing.T, s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseLogNameLong(t *testing.T) {
	// Very long names, with and without many underscores, are answered in
	// linear time.
	for _, name := range []string{
		strings.Repeat("a_", 1<<19) + "-" + id1 + ".log",
		strings.Repeat("_", 1<<20) + "-" + id1 + ".log",
		strings.Repeat("a.", 1<<19) + "_",
		strings.Repeat("a", 1<<20) + "_b_c-" + id1 + ".log",
	} {
		start := time.Now()
		ParseLogName(name)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%d-byte name took %v", len(name), d)
		}
	}
	if _, ok := ParseLogName(strings.Repeat("a", 1<<20) + "_b_c-" + id1 + ".log"); !ok {
		t.Error("long valid name not matched")
	}
}

func TestParseLogNameAllocs(t *testing.T) {
	name := "web-0_default_nginx-" + id1 + ".log"
	if n := testing.AllocsPerRun(100, func() { ParseLogName(name) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestParsePodDir(t *testing.T) {
	const uid = "7f7c1b2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	for _, c := range []struct {
		name string
		want *PodDir
	}{
		{"default_web-0_" + uid, &PodDir{"default", "web-0", uid}},
		{"kube-system_kube-apiserver-node1_6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7", &PodDir{"kube-system", "kube-apiserver-node1", "6f1fe5b2c6ba4c7d8b3e0a6f2cf8f2f7"}},
		{"ns_my.pod_" + uid, &PodDir{"ns", "my.pod", uid}},
		{"ns_pod", nil},
		{"ns_pod_" + uid + "_x", nil},
		{"NS_pod_" + uid, nil},
		{"ns_pod_" + strings.ToUpper(uid), nil},
		{"ns__" + uid, nil},
		{"_pod_" + uid, nil},
		{"ns_pod_", nil},
		{"ns.x_pod_" + uid, nil}, // a namespace is a DNS label
		{strings.Repeat("n", 64) + "_pod_" + uid, nil},
		{"ns_pod_" + uid + "\xff", nil},
	} {
		got, ok := ParsePodDir(c.name)
		if c.want == nil {
			if ok {
				t.Errorf("%q: %+v, want no match", c.name, got)
			}
			continue
		}
		if !ok || got != *c.want {
			t.Errorf("%q: %+v %v, want %+v", c.name, got, ok, *c.want)
		}
	}
}

func TestParseLogTarget(t *testing.T) {
	const uid = "7f7c1b2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	ln := LogName{"web-0", "default", "nginx", id1}
	for target, want := range map[string]string{
		"/var/log/pods/default_web-0_" + uid + "/nginx/0.log":         uid,
		"/var/log/pods/default_web-0_" + uid + "/nginx/12.log":        uid,
		"../pods/default_web-0_" + uid + "/nginx/0.log":               uid,
		"default_web-0_" + uid + "/nginx/0.log":                       uid,
		"/var/log/pods/default_web-1_" + uid + "/nginx/0.log":         "", // another pod
		"/var/log/pods/other_web-0_" + uid + "/nginx/0.log":           "",
		"/var/log/pods/default_web-0_" + uid + "/sidecar/0.log":       "",
		"/var/log/pods/default_web-0_" + uid + "/nginx/0.txt":         "",
		"/var/lib/docker/containers/" + id1 + "/" + id1 + "-json.log": "",
		"": "", "/": "", "0.log": "", "nginx/0.log": "",
	} {
		if got := parseLogTarget(target, ln); got != want {
			t.Errorf("%q: %q, want %q", target, got, want)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		id1: true, id1[:63]: false, id1 + "0": false, strings.ToUpper(id1): false,
		strings.Repeat("g", 64): false, "": false, "../" + id1[3:]: false,
	} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}
