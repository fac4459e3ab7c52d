//go:build linux

package kernel

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/source"
)

// nlRec is one received message, copied.
type nlRec struct {
	typ     uint16
	payload string
}

// nlSerial returns the serial of "audit(SECONDS.MILLIS:SERIAL): ...".
func nlSerial(p string) string {
	i := strings.IndexByte(p, ':')
	j := strings.IndexByte(p, ')')
	if !strings.HasPrefix(p, "audit(") || i < 0 || j < i {
		return ""
	}
	return p[i+1 : j]
}

// recordHasKey reports whether a SYSCALL payload has the audit key: quoted,
// or hex with others (our rules add their marker key).
func recordHasKey(payload, key string) bool {
	i := strings.Index(payload, " key=")
	if i < 0 {
		return false
	}
	v := payload[i+5:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	if strings.HasPrefix(v, `"`) {
		return v == `"`+key+`"`
	}
	b, err := hex.DecodeString(v)
	if err != nil {
		return false
	}
	for _, k := range strings.Split(string(b), "\x01") {
		if k == key {
			return true
		}
	}
	return false
}

// receive calls Next until it returns an error other than ErrIdle (nil
// for a Close), calling fn for every message.
func receive(n *Source, fn func(typ uint16, p []byte)) error {
	for {
		m, err := n.Next(context.Background())
		switch {
		case err == nil:
			fn(m.Type, m.Data)
		case errors.Is(err, source.ErrIdle):
		case errors.Is(err, os.ErrClosed):
			return nil
		default:
			return err
		}
	}
}

// nlCollect reads in a goroutine and sends copies on the returned channel;
// done is closed when reading ends, with its error in *rerr.
func nlCollect(n *Source) (<-chan nlRec, <-chan struct{}, *error) {
	ch := make(chan nlRec, 1<<16)
	done := make(chan struct{})
	var rerr error
	go func() {
		defer close(done)
		rerr = receive(n, func(typ uint16, p []byte) {
			select {
			case ch <- nlRec{typ, string(p)}:
			default:
			}
		})
	}()
	return ch, done, &rerr
}

func nlLog(t *testing.T) *slog.Logger { return audittest.Logger(t) }

// nlRequireNoDaemon skips when an audit daemon we did not start is running.
func nlRequireNoDaemon(t *testing.T) {
	t.Helper()
	if p := audittest.Status(t)["pid"]; p != 0 && (syscall.Kill(int(p), 0) == nil) {
		t.Skipf("SKIP unicast test: an audit daemon (pid %d) is running and was not started by the tests; stop it to run this test", p)
	}
}

// nlSpawnVictim starts `sleep 30` and returns it (killed at cleanup).
func nlSpawnVictim(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command("sleep", "30")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c
}

// nlKillFromShell kills pid with SIGTERM from a helper shell: the
// collector's own pid is excluded from auditing.
func nlKillFromShell(t *testing.T, pid int) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", fmt.Sprintf("kill -TERM %d", pid)).CombinedOutput(); err != nil {
		t.Fatalf("kill from shell: %v %s", err, out)
	}
}

// nlWaitKillEvent waits until the event that signalled opid is complete
// (SYSCALL with key, OBJ_PID opid=, PROCTITLE, EOE, all one serial).
func nlWaitKillEvent(t *testing.T, ch <-chan nlRec, opid int, key string, within time.Duration) map[uint16]string {
	t.Helper()
	bySerial := map[string]map[uint16]string{}
	target := ""
	timeout := time.After(within)
	for {
		select {
		case r := <-ch:
			s := nlSerial(r.payload)
			if s == "" {
				continue
			}
			if bySerial[s] == nil {
				bySerial[s] = map[uint16]string{}
			}
			if _, ok := bySerial[s][r.typ]; !ok {
				bySerial[s][r.typ] = r.payload
			}
			if r.typ == 1318 && strings.Contains(r.payload, " opid="+strconv.Itoa(opid)+" ") {
				target = s
			}
			if target == "" {
				continue
			}
			ev := bySerial[target]
			if ev[1300] != "" && ev[1318] != "" && ev[1327] != "" && ev[1320] != "" {
				if !recordHasKey(ev[1300], key) {
					t.Fatalf("SYSCALL without key %q: %s", key, ev[1300])
				}
				return ev
			}
		case <-timeout:
			t.Fatalf("no complete kill event for opid %d within %v (target serial %q, records %v)", opid, within, target, bySerial[target])
		}
	}
}

func TestNetlinkUnicast(t *testing.T) {
	audittest.Require(t)
	nlRequireNoDaemon(t)
	before := audittest.Auditctl(t, "-l")
	st0 := audittest.Status(t)
	// Start from enabled 0 to check it is set and restored.
	audittest.Auditctl(t, "-e", "0")
	t.Cleanup(func() { exec.Command("auditctl", "-e", strconv.FormatInt(st0["enabled"], 10)).Run() })

	n, err := Open(Config{Mode: "unicast", KillRules: true, Log: nlLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Mode() != "unicast" || n.Stats().Mode != "unicast" {
		t.Errorf("mode %q", n.Mode())
	}
	st := audittest.Status(t)
	if st["pid"] != int64(os.Getpid()) || st["enabled"] != 1 {
		t.Errorf("during: auditctl -s pid %d enabled %d, want pid %d enabled 1", st["pid"], st["enabled"], os.Getpid())
	}
	during := audittest.Auditctl(t, "-l")
	if c := strings.Count(during, "key=kill"); c != 8 {
		t.Errorf("want 8 kill rules, auditctl -l:\n%s", during)
	}
	self := fmt.Sprintf("-a never,exit -S all -F pid=%d", os.Getpid())
	if first := strings.SplitN(during, "\n", 2)[0]; !strings.HasPrefix(first, self+" -F key=linuxaudit:") {
		t.Errorf("first rule %q, want %q", first, self)
	}
	if got := n.Stats().RulesAdded; got != 9 {
		t.Errorf("RulesAdded %d, want 9", got)
	}

	ch, done, rerr := nlCollect(n)
	victim := nlSpawnVictim(t)
	nlKillFromShell(t, victim.Process.Pid)
	ev := nlWaitKillEvent(t, ch, victim.Process.Pid, "kill", 2*time.Second)
	t.Logf("event: %s", ev[1300])

	if err := n.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-done:
		if *rerr != nil {
			t.Errorf("Receive: %v", *rerr)
		}
	case <-time.After(time.Second):
		t.Error("Receive did not return after Close")
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	st = audittest.Status(t)
	if st["pid"] != 0 || st["enabled"] != 0 {
		t.Errorf("after Close: auditctl -s pid %d enabled %d, want 0 0", st["pid"], st["enabled"])
	}
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestNetlinkUnicastSkipsExistingRule(t *testing.T) {
	audittest.Require(t)
	nlRequireNoDaemon(t)
	r := "-a always,exit -F arch=b64 -S tkill -k nl_existing"
	audittest.Rule(t, strings.Fields(r)...)
	before := audittest.Auditctl(t, "-l")
	log, notes := audittest.Capture()
	n, err := Open(Config{Mode: "unicast", Rules: []string{r}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Stats().RulesAdded; got != 1 {
		t.Errorf("RulesAdded %d, want 1 (the self-exclusion rule only)", got)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(notes(), "\n")
	if !strings.Contains(all, "already present") || !strings.Contains(all, "nl_existing") {
		t.Errorf("no notice about the rule already present:\n%s", all)
	}
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("pre-existing rule removed or rules changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestNetlinkCloseWhileReceiveBlocked(t *testing.T) {
	audittest.Require(t)
	st0 := audittest.Status(t)
	n, err := Open(Config{Mode: "auto", Log: nlLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, done, rerr := nlCollect(n)
	time.Sleep(300 * time.Millisecond)
	t0 := time.Now()
	cerr := n.Close()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Receive still blocked 1 s after Close")
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Close + Receive return took %v", d)
	}
	if cerr != nil || *rerr != nil {
		t.Errorf("Close: %v, Receive: %v", cerr, *rerr)
	}
	if st := audittest.Status(t); st["pid"] != st0["pid"] {
		t.Errorf("audit pid %d after Close, was %d", st["pid"], st0["pid"])
	}
}

func TestNetlinkUnicastRefusedBesideDaemon(t *testing.T) {
	audittest.Require(t)
	audittest.Auditd(t)
	pid := audittest.Status(t)["pid"]
	before := audittest.Auditctl(t, "-l")
	_, err := Open(Config{Mode: "unicast", KillRules: true})
	if err == nil {
		t.Fatal("unicast beside a running auditd: no error")
	}
	if !strings.Contains(err.Error(), strconv.FormatInt(pid, 10)) {
		t.Errorf("error does not name the daemon pid %d: %v", pid, err)
	}
	t.Logf("refused: %v", err)
	if st := audittest.Status(t); st["pid"] != pid {
		t.Errorf("audit pid changed to %d", st["pid"])
	}
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules changed:\n%s\n%s", before, after)
	}
}

func TestNetlinkMulticastKill(t *testing.T) {
	audittest.Require(t)
	audittest.Auditd(t)
	pid := audittest.Status(t)["pid"]
	before := audittest.Auditctl(t, "-l")
	n, err := Open(Config{Mode: "auto", Rules: []string{"-a always,exit -F arch=b64 -S kill -k nl_test"}, Log: nlLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Mode() != "multicast" {
		t.Errorf("auto beside auditd chose %q", n.Mode())
	}
	ch, done, rerr := nlCollect(n)
	victim := nlSpawnVictim(t)
	nlKillFromShell(t, victim.Process.Pid)
	ev := nlWaitKillEvent(t, ch, victim.Process.Pid, "nl_test", 2*time.Second)
	for _, typ := range []uint16{1300, 1318, 1327, 1320} {
		t.Logf("%d %s", typ, ev[typ])
	}
	if !strings.Contains(ev[1300], " a1=f ") {
		t.Errorf("SYSCALL a1 is not SIGTERM: %s", ev[1300])
	}
	if err := n.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	<-done
	if *rerr != nil {
		t.Errorf("Receive: %v", *rerr)
	}
	if st := audittest.Status(t); st["pid"] != pid {
		t.Errorf("audit pid %d after multicast Close, want auditd %d", st["pid"], pid)
	}
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules changed:\n%s\n%s", before, after)
	}
}

// NetlinkKillLoad runs procs helper processes (this test binary re-executed)
// that each call kill(target, 0) in a tight loop until ctx ends, against a
// sleeping child, and returns the number of kill calls made. It only works
// inside this package's test binary.
func NetlinkKillLoad(ctx context.Context, procs int) (kills uint64, err error) {
	victim := exec.Command("sleep", "3600")
	if err := victim.Start(); err != nil {
		return 0, err
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	var wg sync.WaitGroup
	var total atomic.Uint64
	errs := make(chan error, procs)
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.Command(os.Args[0], "-test.run=^TestNetlinkHelperKiller$", "-test.count=1")
			c.Env = append(os.Environ(), "NETLINK_KILLER_TARGET="+strconv.Itoa(victim.Process.Pid))
			var out bytes.Buffer
			c.Stdout = &out
			stdin, _ := c.StdinPipe()
			if err := c.Start(); err != nil {
				errs <- err
				return
			}
			<-ctx.Done()
			stdin.Close() // tells the helper to stop
			c.Wait()
			for _, l := range strings.Split(out.String(), "\n") {
				if v, ok := strings.CutPrefix(l, "kills="); ok {
					k, _ := strconv.ParseUint(v, 10, 64)
					total.Add(k)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return total.Load(), <-errs
}

// TestNetlinkHelperKiller is the body of a NetlinkKillLoad helper process.
func TestNetlinkHelperKiller(t *testing.T) {
	target, _ := strconv.Atoi(os.Getenv("NETLINK_KILLER_TARGET"))
	if target == 0 {
		t.Skip("helper process for NetlinkKillLoad")
	}
	var stop atomic.Bool
	go func() {
		b := make([]byte, 1)
		os.Stdin.Read(b)
		stop.Store(true)
	}()
	var n uint64
	for !stop.Load() {
		for i := 0; i < 256; i++ {
			syscall.Kill(target, 0)
		}
		n += 256
	}
	fmt.Printf("kills=%d\n", n)
}

// TestNetlinkKillLoad measures the kernel source under a 5 s kill(pid, 0)
// storm (LINUXAUDIT_LOAD=1; LINUXAUDIT_LOAD_PROCS helpers, default 4;
// LINUXAUDIT_LOAD_MODE; LINUXAUDIT_LOAD_BACKLOG, default 8192).
func TestNetlinkKillLoad(t *testing.T) {
	if os.Getenv("LINUXAUDIT_LOAD") != "1" {
		t.Skip("load test: set LINUXAUDIT_LOAD=1")
	}
	audittest.Require(t)
	procs := 4
	if v, err := strconv.Atoi(os.Getenv("LINUXAUDIT_LOAD_PROCS")); err == nil && v > 0 {
		procs = v
	}
	mode := os.Getenv("LINUXAUDIT_LOAD_MODE") // "" (auto), unicast, multicast (beside auditd)
	if mode == "multicast" {
		audittest.Auditd(t)
	}
	st0 := audittest.Status(t)
	t.Cleanup(func() { exec.Command("auditctl", "-b", strconv.FormatInt(st0["backlog_limit"], 10)).Run() })
	backlog := uint32(8192)
	if v, err := strconv.Atoi(os.Getenv("LINUXAUDIT_LOAD_BACKLOG")); err == nil && v > 0 {
		backlog = uint32(v)
	}
	n, err := Open(Config{Mode: mode, KillRules: true, BacklogLimit: &backlog, Log: nlLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var syscalls, eoes atomic.Uint64
	done := make(chan error, 1)
	go func() {
		done <- receive(n, func(typ uint16, p []byte) {
			switch typ {
			case 1300:
				if bytes.Contains(p, []byte(` key="kill"`)) {
					syscalls.Add(1)
				}
			case 1320:
				eoes.Add(1)
			}
		})
	}()
	const dur = 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	t0 := time.Now()
	kills, err := NetlinkKillLoad(ctx, procs)
	el := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	atLoadEnd := syscalls.Load()
	time.Sleep(1500 * time.Millisecond) // drain the backlog, let the lost poll run
	st := n.Stats()
	kst := audittest.Status(t)
	t.Logf("mode %s, %d helper procs, %v: %d kill calls (%.0f/s); SYSCALL key=kill events %d at load end (%.0f/s), %d after drain; EOE %d; messages %d (%.1f MB); ENOBUFS %d; kernel lost +%d (lost now %d, backlog_limit %d)",
		st.Mode, procs, el.Round(time.Millisecond), kills, float64(kills)/el.Seconds(), atLoadEnd, float64(atLoadEnd)/el.Seconds(),
		syscalls.Load(), eoes.Load(), st.Messages, float64(st.Bytes)/1e6, st.ENOBUFS, st.KernelLost, kst["lost"], kst["backlog_limit"])
	if err := n.Close(); err != nil {
		t.Error(err)
	}
	if err := <-done; err != nil {
		t.Error(err)
	}
}

// TestNetlinkLostCounter forces kernel losses (backlog limit 2, no backlog
// wait, a kill storm nobody reads) and checks OnLost and Stats see them.
func TestNetlinkLostCounter(t *testing.T) {
	audittest.Require(t)
	nlRequireNoDaemon(t)
	st0 := audittest.Status(t)
	t.Cleanup(func() {
		exec.Command("auditctl", "-b", strconv.FormatInt(st0["backlog_limit"], 10)).Run()
		exec.Command("auditctl", "--backlog_wait_time", strconv.FormatInt(st0["backlog_wait_time"], 10)).Run()
	})
	limit, wait := uint32(2), uint32(0)
	var calls, last atomic.Uint64
	n, err := Open(Config{Mode: "unicast", KillRules: true, BacklogLimit: &limit, BacklogWaitTime: &wait,
		RcvBuf: 4096, LostPoll: 100 * time.Millisecond,
		OnLost: func(d, total uint64) { calls.Add(1); last.Store(total) }})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := NetlinkKillLoad(ctx, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	st := n.Stats()
	t.Logf("OnLost calls %d, total %d, Stats.KernelLost %d", calls.Load(), last.Load(), st.KernelLost)
	if calls.Load() == 0 || st.KernelLost == 0 || last.Load() != st.KernelLost {
		t.Errorf("lost not reported: calls %d total %d stats %d", calls.Load(), last.Load(), st.KernelLost)
	}
	if err := n.Close(); err != nil {
		t.Error(err)
	}
}

// TestLeftoverRulesHelper is the body of the collector TestLeftoverRules
// kills: it opens the kernel source with the kill rules, says so, and waits.
func TestLeftoverRulesHelper(t *testing.T) {
	if os.Getenv("LINUXAUDIT_LEFTOVER_HELPER") != "1" {
		t.Skip("helper process for TestLeftoverRules")
	}
	n, err := Open(Config{Mode: ModeUnicast, KillRules: true})
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		if _, err := n.Next(context.Background()); err != nil && !errors.Is(err, source.ErrIdle) {
			os.Exit(1)
		}
	}
}

// TestLeftoverRules: a collector killed with SIGKILL leaves its rules in
// the kernel, its own exclusion rule among them; the next one finds them by
// their marker, removes them and says so, and once it is stopped the
// kernel's rules are what they were before the first one started.
func TestLeftoverRules(t *testing.T) {
	audittest.Require(t)
	nlRequireNoDaemon(t)
	before := audittest.Auditctl(t, "-l")
	helper := exec.Command(os.Args[0], "-test.run=^TestLeftoverRulesHelper$", "-test.count=1")
	helper.Env = append(os.Environ(), "LINUXAUDIT_LEFTOVER_HELPER=1")
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { helper.Process.Kill(); helper.Wait() })
	line := make([]byte, 64)
	if n, _ := out.Read(line); !strings.Contains(string(line[:n]), "ready") {
		t.Fatalf("helper: %q", line[:n])
	}
	hpid := helper.Process.Pid
	helper.Process.Signal(syscall.SIGKILL)
	helper.Wait()
	left := audittest.Auditctl(t, "-l")
	if !strings.Contains(left, "pid="+strconv.Itoa(hpid)) || !strings.Contains(left, "linuxaudit:") {
		t.Fatalf("no rules left by the killed collector (pid %d):\n%s", hpid, left)
	}
	t.Logf("left by the killed collector:\n%s", left)

	log, notes := audittest.Capture()
	n, err := Open(Config{Mode: ModeUnicast, KillRules: true, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(notes(), "\n")
	if !strings.Contains(all, fmt.Sprintf("removed 9 audit rules left by collector pid %d", hpid)) {
		t.Errorf("no notice of the removal:\n%s", all)
	}
	if during := audittest.Auditctl(t, "-l"); strings.Contains(during, "pid="+strconv.Itoa(hpid)) {
		t.Errorf("the dead collector's exclusion rule is still there:\n%s", during)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if after := audittest.Auditctl(t, "-l"); after != before {
		t.Errorf("rules after stop:\n%s\nbefore the first start:\n%s", after, before)
	}
	if pid := audittest.Status(t)["pid"]; pid != 0 {
		t.Errorf("audit pid %d after stop", pid)
	}
}
