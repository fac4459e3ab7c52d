package main

// TestFluentBitBenchmark measures the plugin inside the real Fluent Bit on
// PATH, beside Fluent Bit's own tail input on the same file, with the null
// and the file outputs, threaded on and off:
//
//	LINUXAUDIT_FB_BENCH=1 go test ./plugin -run FluentBitBenchmark -v
//
// Input: about 1,000,000 corpus lines (bigCorpus), in the page cache,
// read_from_head. A run ends when Fluent Bit's outputs have processed every
// record (its HTTP server's /api/v1/metrics); wall time counts from the
// start of the process, CPU (user+sys) and peak RSS (VmHWM) are read from
// /proc at that moment. Max callback is the plugin's own measure of its
// longest collect callback (final stats, handover.max_callback_ms).
// LINUXAUDIT_FB_BENCH_PROPS adds plugin properties (key=value,...), to
// compare buffer sizes; LINUXAUDIT_FB_BENCH_OUTPUTS=null (or file) runs one
// output only; LINUXAUDIT_FB_BENCH_LINES sets the input's size (a longer
// run shows the sustained rate beyond the first second and the last
// flush); LINUXAUDIT_FB_BENCH_SO runs another build of the
// plugin (a before/after in the same run). Without LINUXAUDIT_FB_BENCH it skips (a run takes
// about a minute); without a fluent-bit on PATH it skips too, and
// TestThroughput measures the plugin under the C host.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

type fbBenchRun struct {
	name     string
	input    []string // fluent-bit arguments of the input
	output   string   // null or file
	threaded string   // "" (the default), "on" or "off"
	want     int
}

type fbBenchResult struct {
	records     int
	wall, cpu   float64
	rssMB       int
	maxCallback float64
	lost        bool // fewer records than want at the end
	ringDrops   bool // Fluent Bit's "could not enqueue records into the ring buffer"
}

func TestFluentBitBenchmark(t *testing.T) {
	if os.Getenv("LINUXAUDIT_FB_BENCH") == "" {
		t.Skip("set LINUXAUDIT_FB_BENCH=1 to run the plugin in the real Fluent Bit on PATH beside its tail input (about a minute)")
	}
	fbPath, err := exec.LookPath("fluent-bit")
	if err != nil {
		t.Skip("no fluent-bit on PATH (../shared/tools/build-fluent-bit.sh builds one); TestThroughput measures the plugin under the C host")
	}
	so, _ := build(t)
	if alt := os.Getenv("LINUXAUDIT_FB_BENCH_SO"); alt != "" {
		so = alt // another build, for a before/after in the same run
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("LINUXAUDIT_FB_BENCH_LINES")); err == nil && v > 0 {
		n = v
	}
	big, lines := bigCorpus(t, n)
	want := batchCount(t, big, "read_from_head=true")
	plugin := []string{"-e", so, "-i", "linux_audit", "-p", "path=" + big, "-p", "read_from_head=true"}
	if props := os.Getenv("LINUXAUDIT_FB_BENCH_PROPS"); props != "" {
		for _, kv := range strings.Split(props, ",") {
			plugin = append(plugin, "-p", kv)
		}
	}
	tailIn := []string{"-i", "tail", "-p", "path=" + big, "-p", "read_from_head=true"}
	out, _ := exec.Command(fbPath, "--version").Output()
	fi, _ := os.Stat(big)
	t.Logf("%s; %d lines (%d MB), %d events; plugin properties %q", strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0]), lines, fi.Size()>>20, want, os.Getenv("LINUXAUDIT_FB_BENCH_PROPS"))

	outputs := []string{"null", "file"}
	if o := os.Getenv("LINUXAUDIT_FB_BENCH_OUTPUTS"); o != "" {
		outputs = strings.Split(o, ",")
	}
	var runs []fbBenchRun
	for _, o := range outputs {
		// tail first: the plugin's CPU is given relative to it. The first
		// plugin run after tail used 10-50% more CPU than the next ones
		// whatever its threaded setting (in the order tail, on, off,
		// default the extra fell on "on"), so a warm-up run comes first
		// and is shown as such.
		runs = append(runs,
			fbBenchRun{"tail (raw lines)", tailIn, o, "", lines},
			fbBenchRun{"linux_audit (warm-up)", plugin, o, "", want},
			fbBenchRun{"linux_audit", plugin, o, "", want},
			fbBenchRun{"linux_audit", plugin, o, "on", want},
			fbBenchRun{"linux_audit", plugin, o, "off", want},
			// the default for a file is one worker: two, for the
			// trade-off (README, Numbers)
			fbBenchRun{"linux_audit workers=2", slices.Concat(plugin, []string{"-p", "workers=2"}), o, "", want},
		)
	}
	t.Logf("| run | output | threaded | events/s | wall s | CPU s | CPU / tail's | peak RSS MB | max callback ms | records |")
	t.Logf("|---|---|---|---|---|---|---|---|---|---|")
	tailCPU := map[string]float64{}
	for _, run := range runs {
		r := runFBBench(t, fbPath, run)
		isPlugin := run.name != "tail (raw lines)"
		if !isPlugin {
			tailCPU[run.output] = r.cpu
		}
		th := run.threaded
		if th == "" {
			th = "default"
		}
		cb := "-"
		if isPlugin {
			cb = fmt.Sprintf("%.2f", r.maxCallback)
		}
		t.Logf("| %s | %s | %s | %.0f | %.2f | %.2f | %.2fx | %d | %s | %d/%d |",
			run.name, run.output, th, float64(r.records)/r.wall, r.wall, r.cpu, r.cpu/tailCPU[run.output], r.rssMB, cb, r.records, run.want)
		if r.lost {
			t.Errorf("%s %s threaded=%s: %d records of %d", run.name, run.output, th, r.records, run.want)
		}
		if r.ringDrops {
			t.Errorf("%s %s threaded=%s: Fluent Bit dropped records (ring buffer full)", run.name, run.output, th)
		}
		if isPlugin && r.maxCallback >= 50 {
			t.Errorf("%s %s threaded=%s: max callback %.2f ms, want < 50", run.name, run.output, th, r.maxCallback)
		}
	}
}

// runFBBench runs one fluent-bit until its outputs processed run.want
// records (or stalled for 10 s), then stops it.
func runFBBench(t *testing.T, fbPath string, run fbBenchRun) fbBenchResult {
	t.Helper()
	port := freePort(t)
	args := append([]string{"-f", "1", "-H", "-P", strconv.Itoa(port)}, run.input...)
	if run.threaded != "" {
		args = append(args, "-p", "threaded="+run.threaded)
	}
	args = append(args, "-o", run.output, "-m", "*")
	if run.output == "file" {
		dir := t.TempDir()
		args = append(args, "-p", "path="+dir, "-p", "file=out.json", "-p", "format=plain")
	}
	cmd := exec.Command(fbPath, args...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v1/metrics", port)
	var r fbBenchResult
	last, lastChange := -1, time.Now()
	for {
		n := outputRecords(url)
		now := time.Now()
		if n >= run.want {
			r.records = n
			r.wall = now.Sub(start).Seconds()
			r.cpu, r.rssMB = procUsage(cmd.Process.Pid)
			break
		}
		if n != last {
			last, lastChange = n, now
		}
		if now.Sub(lastChange) > 10*time.Second {
			r.records, r.lost = max(n, 0), true
			r.wall = now.Sub(start).Seconds()
			r.cpu, r.rssMB = procUsage(cmd.Process.Pid)
			break
		}
		select {
		case err := <-done:
			t.Fatalf("fluent-bit exited early (%v)\n%s", err, tail(log.String()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGTERM) // the process this test started
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("fluent-bit did not exit within 30 s of SIGTERM")
	}
	out := log.String()
	r.ringDrops = strings.Contains(out, "could not enqueue records into the ring buffer")
	if i := strings.LastIndex(out, "final stats "); i >= 0 {
		line := out[i+len("final stats "):]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			line = line[:j]
		}
		var st struct {
			Handover handoverStats `json:"handover"`
		}
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			t.Errorf("final stats: %v: %s", err, line)
		}
		r.maxCallback = st.Handover.MaxCallbackMs
	} else if strings.Contains(strings.Join(run.input, " "), "linux_audit") {
		t.Errorf("no final stats line\n%s", tail(out))
	}
	return r
}

// outputRecords sums proc_records over Fluent Bit's outputs; -1 while its
// HTTP server does not answer.
func outputRecords(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var m struct {
		Output map[string]struct {
			ProcRecords int `json:"proc_records"`
		} `json:"output"`
	}
	if json.NewDecoder(resp.Body).Decode(&m) != nil {
		return -1
	}
	n := 0
	for _, o := range m.Output {
		n += o.ProcRecords
	}
	return n
}

// procUsage returns a process's CPU seconds (user+sys) and peak RSS in MB.
func procUsage(pid int) (cpu float64, rssMB int) {
	if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
		// Fields after the command (which may hold spaces): utime is the
		// 14th field of the line, stime the 15th, in clock ticks (100/s).
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				u, _ := strconv.ParseFloat(f[11], 64)
				s, _ := strconv.ParseFloat(f[12], 64)
				cpu = (u + s) / 100
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") {
				kb, _ := strconv.Atoi(strings.Fields(l)[1])
				rssMB = kb >> 10
			}
		}
	}
	return cpu, rssMB
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
