package main

// TestARM64 cross-compiles the plugin and the C host (testdata/flbhost.c)
// for linux/arm64 and runs them under QEMU user-mode emulation, so the
// arm64 release artifact is exercised, not only built.
//
// Needs (Debian): gcc-aarch64-linux-gnu (its libc6-dev-arm64-cross puts
// an arm64 glibc under /usr/aarch64-linux-gnu) and qemu-user-static
// (/usr/bin/qemu-aarch64-static). Overrides: ARM64_CC, QEMU_AARCH64,
// ARM64_SYSROOT. Skips, saying what is missing, without them; fails instead
// under LINUXAUDIT_REQUIRE_ARM64=1 (set by .ci/run).
//
// QEMU notes. The host runs as `qemu-aarch64-static -L SYSROOT flbhost ...`:
// binfmt_misc is not needed (often absent in containers), and -L makes
// QEMU look for the arm64 dynamic loader and libc (also the plugin's
// libc.so.6 when the host dlopens it) under SYSROOT first. The Go runtime
// of a c-shared object starts when the host dlopens it: it reads the
// current handler of every signal and installs its own only for the
// synchronous signals, SIGPIPE and SIGURG (asynchronous preemption),
// keeping the host's handlers otherwise (runtime/signal_unix.go,
// sigInstallGoHandler). Under QEMU user mode some of those sigaction calls
// fail: QEMU's glibc refuses SIGCANCEL (32) and SIGSETXID (33) and QEMU
// refuses SIGRTMAX (64); the Go runtime ignores exactly those failures
// (sysSigaction in runtime/os_linux.go), otherwise it would throw
// "sigaction failed" inside dlopen. The rest is emulated by QEMU 7.2
// (Debian 12): clone with the flag set Go uses for QEMU's sake, SIGURG
// delivered to a chosen thread, sigaltstack, futexes. So no GODEBUG
// setting (asyncpreemptoff=1 is the usual advice) is needed and the
// runtime runs as on arm64 hardware; two instances (several goroutines and
// threads each) are run below to exercise preemption and signals.

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

var (
	arm64Once sync.Once
	arm64So   string
	arm64Host string
	arm64Err  error
)

type arm64Tools struct {
	cc, qemu, sysroot string
}

// requireARM64 finds the cross compiler, QEMU and the arm64 sysroot, or
// skips (fails under LINUXAUDIT_REQUIRE_ARM64=1).
func requireARM64(t *testing.T) arm64Tools {
	t.Helper()
	env := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	tools := arm64Tools{
		cc:      env("ARM64_CC", "aarch64-linux-gnu-gcc"),
		qemu:    env("QEMU_AARCH64", "qemu-aarch64-static"),
		sysroot: env("ARM64_SYSROOT", "/usr/aarch64-linux-gnu"),
	}
	var missing []string
	for _, p := range []*string{&tools.cc, &tools.qemu} {
		if lp, err := exec.LookPath(*p); err == nil {
			*p = lp
		} else {
			missing = append(missing, *p)
		}
	}
	if _, err := os.Stat(filepath.Join(tools.sysroot, "lib", "ld-linux-aarch64.so.1")); err != nil {
		missing = append(missing, filepath.Join(tools.sysroot, "lib", "ld-linux-aarch64.so.1"))
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("no arm64 cross toolchain or QEMU: missing %s (Debian: apt-get install gcc-aarch64-linux-gnu qemu-user-static)", strings.Join(missing, ", "))
		if os.Getenv("LINUXAUDIT_REQUIRE_ARM64") == "1" {
			t.Fatal("LINUXAUDIT_REQUIRE_ARM64=1: " + msg)
		}
		t.Skip("SKIP: " + msg)
	}
	return tools
}

// buildARM64 cross-compiles the plugin and the host once per test binary.
func buildARM64(t *testing.T, tools arm64Tools) (so, host string) {
	t.Helper()
	arm64Once.Do(func() {
		arm64So = filepath.Join(tmpRoot, "arm64", "linux_audit.so")
		arm64Host = filepath.Join(tmpRoot, "arm64", "flbhost")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags", "-X main.version=test-arm64", "-o", arm64So, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH=arm64", "CC="+tools.cc)
		if out, err := cmd.CombinedOutput(); err != nil {
			arm64Err = fmt.Errorf("GOARCH=arm64 go build -buildmode=c-shared: %v\n%s", err, out)
			return
		}
		cmd = exec.Command(tools.cc, "-O2", "-Wall", "-Werror", "-o", arm64Host, "testdata/flbhost.c", "-ldl", "-lpthread")
		if out, err := cmd.CombinedOutput(); err != nil {
			arm64Err = fmt.Errorf("%s flbhost.c: %v\n%s", tools.cc, err, out)
		}
	})
	if arm64Err != nil {
		t.Fatal(arm64Err)
	}
	return arm64So, arm64Host
}

// runARM64Host runs the arm64 host under QEMU; "SO" in args stands for the
// arm64 plugin.
func runARM64Host(t *testing.T, tools arm64Tools, args ...string) *hostResult {
	t.Helper()
	so, host := buildARM64(t, tools)
	out := filepath.Join(t.TempDir(), "records.jsonl")
	full := []string{"-L", tools.sysroot, host, "-o", out}
	for _, a := range args {
		if a == "SO" {
			a = so
		}
		full = append(full, a)
	}
	cmd := exec.Command(tools.qemu, full...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	return result(t, err, stderr.String(), out)
}

func TestARM64(t *testing.T) {
	tools := requireARM64(t)
	if testing.Short() {
		t.Skip("-short")
	}
	requireFileSource(t)
	so, host := buildARM64(t, tools)
	t.Logf("cc %s, qemu %s -L %s", tools.cc, tools.qemu, tools.sysroot)

	t.Run("elf", func(t *testing.T) {
		for _, f := range []string{so, host} {
			ef, err := elf.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			if ef.Machine != elf.EM_AARCH64 || ef.Class != elf.ELFCLASS64 {
				t.Errorf("%s: %v %v, want EM_AARCH64 ELFCLASS64", filepath.Base(f), ef.Machine, ef.Class)
			}
			ef.Close()
		}
		ef, err := elf.Open(so)
		if err != nil {
			t.Fatal(err)
		}
		defer ef.Close()
		syms, err := ef.DynamicSymbols()
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, s := range syms {
			if s.Section != elf.SHN_UNDEF {
				have[s.Name] = true
			}
		}
		for _, s := range []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginInputCallback", "FLBPluginInputCallbackCtx",
			"FLBPluginInputCleanupCallbackCtx", "FLBPluginExit", "FLBPluginUnregister"} {
			if !have[s] {
				t.Errorf("%s not exported by the arm64 plugin", s)
			}
		}
	})

	t.Run("glibc", func(t *testing.T) {
		out, err := exec.Command("../scripts/glibc-check.sh", so).CombinedOutput()
		if err != nil {
			t.Errorf("glibc-check: %v\n%s", err, out)
		}
		t.Logf("%s", strings.TrimSpace(string(out)))
	})

	// Registration, Init with the file source on the seed log, one batch
	// with the seed record, a clean exit.
	t.Run("seed", func(t *testing.T) {
		p, err := corpus.WriteFile(t.TempDir(), corpus.Seed)
		if err != nil {
			t.Fatal(err)
		}
		r := runARM64Host(t, tools, "-interval-ms", "100", "-idle", "4", "-t", "120",
			"SO", "-i", "linux_audit", "-p", "path="+p, "-p", "read_from_head=true")
		requireCleanQEMU(t, r)
		recs := r.records(t)
		if len(recs) != 1 || r.stats.Batches != 1 {
			t.Fatalf("%d records in %d batches, want 1 in 1\n%s", len(recs), r.stats.Batches, tail(r.stderr))
		}
		if got, _ := recs[0].R["summary"].(string); got != seedSummary {
			t.Errorf("summary %q\nwant    %q", got, seedSummary)
		}
		for _, want := range []string{"[linux_audit] version test-arm64", "[linux_audit] started: source=file"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("no %q in the log\n%s", want, tail(r.stderr))
			}
		}
	})

	// The per-instance context (offsets are LP64 on arm64 too) and the
	// refusal on the old layout.
	t.Run("two_instances", func(t *testing.T) {
		seeds := seedCopies(t, 2)
		r := runARM64Host(t, tools, "-fb", "5.1", "-interval-ms", "100", "-idle", "4", "-t", "120", "SO",
			"-i", "linux_audit", "-p", "path="+seeds[0], "-p", "read_from_head=true",
			"-i", "linux_audit", "-p", "path="+seeds[1], "-p", "read_from_head=true", "-p", "schema=ecs")
		requireCleanQEMU(t, r)
		n := map[int]int{}
		for _, rec := range r.records(t) {
			n[rec.I]++
		}
		if n[0] != 1 || n[1] != 1 || len(n) != 2 {
			t.Errorf("records per instance %v, want 0:1 1:1\n%s", n, tail(r.stderr))
		}
		r = runARM64Host(t, tools, "-fb", "3.2", "-interval-ms", "100", "-t", "30", "SO",
			"-i", "linux_audit", "-p", "path="+seeds[0], "-p", "read_from_head=true",
			"-i", "linux_audit", "-p", "path="+seeds[1], "-p", "read_from_head=true")
		if r.code != 3 || !strings.Contains(r.stderr, refusalLine) {
			t.Errorf("-fb 3.2: exit %d, want 3 with the refusal line\n%s", r.code, tail(r.stderr))
		}
	})
}

// requireCleanQEMU is requireClean with a callback bound for emulation
// (QEMU runs the code several times slower).
func requireCleanQEMU(t *testing.T, r *hostResult) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("host exit %d\n%s", r.code, tail(r.stderr))
	}
	if !strings.Contains(r.stderr, "FLBHOST_STATS") {
		t.Fatalf("no FLBHOST_STATS\n%s", tail(r.stderr))
	}
	if r.stats.MaxCallbackMs >= 500 {
		t.Errorf("max callback time %.1f ms under QEMU, want < 500", r.stats.MaxCallbackMs)
	}
	if !strings.Contains(r.stderr, "final stats {") {
		t.Errorf("no final stats line at exit\n%s", tail(r.stderr))
	}
}
