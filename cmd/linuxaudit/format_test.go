package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// seedLine is the seed event (pid 7885 sent SIGKILL to pid 7677) as
// --format=text prints it in UTC: the bundled sample has no node= and the
// CLI no host name by default, hence "-".
const seedLine = `2023-09-26 06:37:31.567 - pid 7885 "sh xdkill.sh" (/usr/bin/bash, parent 5533, user root) sent SIGKILL to pid 7677 (sh)` + "\n"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the CLI once per test run (as make cli does) and returns
// its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "linuxaudit-cli-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "linuxaudit")
		out, err := exec.Command(goCmd, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// TestSeedTextLine runs the built CLI as a person would, in UTC: who
// killed pid 7677 in the bundled sample? Nobody killed 7678.
func TestSeedTextLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--target-pid", "7677", "--format=text", "--sample"}, seedLine},
		{[]string{"--format=text", "--sample"}, seedLine},
		{[]string{"--target-pid", "7678", "--format=text", "--sample"}, ""},
	} {
		cmd := exec.Command(binary(t), c.args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || string(out) != c.want || stderr.Len() != 0 {
			t.Errorf("linuxaudit %s: %v: %q (stderr %q), want %q", strings.Join(c.args, " "), err, out, stderr.String(), c.want)
		}
	}
}

// openPty returns a pseudo-terminal's master and its terminal.
func openPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("SKIP: no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestFormatDefault: text on a terminal, JSON lines into a pipe, a file
// or /dev/null (a character device, not a terminal); --format overrides.
func TestFormatDefault(t *testing.T) {
	m, tty := openPty(t)
	if !isTerminal(tty) {
		t.Fatal("a pseudo-terminal not taken for a terminal")
	}
	code := run([]string{"--sample"}, strings.NewReader(""), tty, io.Discard)
	tty.Close()
	b, err := io.ReadAll(m)
	if err != nil && !errors.Is(err, syscall.EIO) { // EIO: the terminal side is closed
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(b), "\r\n", "\n")
	if code != 0 || !strings.HasSuffix(got, seedLine[len("2023-09-26 06:37:31.567"):]) || strings.Contains(got, "{") {
		t.Errorf("on a terminal: exit %d, %q", code, got)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if isTerminal(devnull) {
		t.Errorf("/dev/null taken for a terminal")
	}
	for _, args := range [][]string{{"--sample"}, {"--format=json", "--sample"}, {"--format", "auto", "--sample"}} {
		code, out, _ := runCLI(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, `{"@timestamp":"2023-09-26T06:37:31.567Z","summary":`) {
			t.Errorf("%v into a buffer: exit %d, %q", args, code, out)
		}
	}
	code, _, stderr := runCLI(t, "", "--format=xml", "--sample")
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `"format"`) || !strings.Contains(stderr, "auto, json, text") {
		t.Errorf("--format=xml: exit %d, %q", code, stderr)
	}
}
