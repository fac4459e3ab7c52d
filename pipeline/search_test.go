package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

// fakeProc writes a /proc entry: stat (comm, ppid, start time), cmdline
// and cgroup.
func fakeProc(t *testing.T, root string, pid, ppid int, comm, cmdline, cgroup string) {
	t.Helper()
	dir := filepath.Join(root, fmt.Sprint(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 12345 1000 100\n", pid, comm, ppid, pid, pid)
	for name, b := range map[string]string{"stat": stat, "cmdline": strings.ReplaceAll(cmdline, " ", "\x00") + "\x00", "cgroup": cgroup, "status": "Uid:\t0\t0\t0\t0\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serials returns the event serials of JSON lines.
func serials(t *testing.T, out string) []int64 {
	t.Helper()
	var s []int64
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		var d struct{ Event struct{ Serial int64 } }
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		s = append(s, d.Event.Serial)
	}
	return s
}

// TestSearchUnit: unit matches the systemd unit of the caller or of a
// target, as the process table knows it. The kill log's systemd-like
// cgroup step (the target, pid 24855, in system.slice/gen-demo.service,
// its /proc/24855/cgroup as the generator read it before the kill) and
// the "my killer" caller (pid 24805) are given /proc entries; every
// other process of the log is gone.
func TestSearchUnit(t *testing.T) {
	root := t.TempDir()
	fakeProc(t, root, 24855, 24854, "sleep", "sleep 30",
		"9:name=systemd:/system.slice/gen-demo.service\n8:pids:/system.slice/gen-demo.service\n0::/system.slice/gen-demo.service\n")
	fakeProc(t, root, 24805, 24784, "my killer", "/tmp/gen-kills-1701321934/t0/my killer kill 24785 15", "0::/system.slice/killer.service\n")
	for _, c := range []struct {
		units []string
		want  []int64
	}{
		{[]string{"gen-demo.service"}, []int64{527212}}, // a target's
		{[]string{"gen-demo"}, []int64{527212}},         // NAME is NAME.service
		{[]string{"killer.service"}, []int64{527195}},   // a caller's
		{[]string{"killer", "gen-demo.service"}, []int64{527195, 527212}},
		{[]string{"system.slice"}, nil}, // the innermost unit only
		{[]string{"nginx"}, nil},
	} {
		cfg := Default()
		cfg.Proc, cfg.Enrich.ProcRoot, cfg.JSON = "true", root, true
		cfg.Enrich.Full = true // event.serial
		cfg.Enrich.Search.Units = c.units
		out, st := batchOut(t, cfg, corpus.Bytes(corpus.Kills))
		if got := serials(t, out); !slices.Equal(got, c.want) {
			t.Errorf("unit %v: serials %v, want %v", c.units, got, c.want)
		}
		if c.units[0] == "gen-demo" && !strings.Contains(out, `"unit":"gen-demo.service"`) {
			t.Errorf("the target's unit is not in the document: %s", out)
		}
		if n := uint64(len(c.want)); st.Enrich.Emitted != n || st.Enrich.BySearch != st.Enrich.Events-n-st.Enrich.SIGURG {
			t.Errorf("unit %v: stats %+v", c.units, st.Enrich)
		}
	}
}
