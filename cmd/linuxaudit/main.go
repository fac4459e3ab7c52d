// Command linuxaudit runs the plugin's pipeline over audit log files (or
// stdin) and writes one JSON document per event:
//
//	linuxaudit [--key=value ...] [FILE ...]
//
// Every configuration key the CLI has is a flag of its type (--schema=ecs,
// --raw, --include_keys=kill or --include-keys=kill ...). With no FILE it
// reads standard input; with --sample it reads the bundled sample (the seed
// kill event). --format=text prints one line per event instead (the
// default when standard output is a terminal). --follow tails the live log
// and --kernel reads the kernel's audit socket with the built-in kill
// rules, printing events as they happen, until Ctrl-C. Exit status: 0 ok,
// 1 input error, 2 bad option.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/whokilledit/linuxaudit/internal/sample"
	"github.com/whokilledit/linuxaudit/pipeline"
)

var version = "dev"

// now is the clock of relative times (--since=today); tests replace it.
var now = time.Now

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCtx(context.Background(), args, stdin, stdout, stderr)
}

// runCtx is run; ctx ending stops --follow and --kernel as a signal does.
func runCtx(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("linuxaudit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keys := keyFlags(fs)
	useSample := fs.Bool("sample", false, "read the bundled sample log: the seed kill event (kill -9 from a script)")
	follow := fs.Bool("follow", false, "follow the live log (FILE, default "+pipeline.Default().Path+") from its end, rotations included, printing events as they happen, until Ctrl-C")
	kernel := fs.Bool("kernel", false, "read the kernel's audit socket with the built-in kill rules (root), printing events as they happen; Ctrl-C removes the rules")
	stats := fs.Bool("stats", false, "print pipeline statistics as JSON on stderr at the end")
	progress := fs.Bool("progress", isTerminal(stderr) && !isTerminal(stdout), "show progress on stderr (default: when stderr is a terminal and stdout is not)")
	showVersion := fs.Bool("version", false, "print the version")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: linuxaudit [flags] [FILE ...]   (FILE may be - for stdin, or .gz)\n")
		fmt.Fprintf(stderr, "       linuxaudit --follow [flags] [FILE]   |   linuxaudit --kernel [flags]\n")
		printDefaults(fs, stderr)
	}
	if err := fs.Parse(joinDateTime(gnuSpellings(fs, args))); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "linuxaudit", version)
		return 0
	}
	cfg, err := pipeline.ParseAt(keys, now())
	if err != nil {
		fmt.Fprintf(stderr, "linuxaudit: %v\n", err)
		return 2
	}
	if cfg.Format == "auto" {
		cfg.Format = "json"
		if isTerminal(stdout) {
			cfg.Format = "text"
		}
	}
	cfg.JSON = cfg.Format == "json"
	if cfg.Format == "text" {
		cfg.Enrich.Schema = "default" // same summary, without ECS's coalescing
	}
	if *follow || *kernel {
		files := fs.Args()
		switch {
		case *follow && *kernel:
			return usageError(stderr, "--follow and --kernel exclude each other")
		case *useSample:
			return usageError(stderr, "--sample is a finished log: without --follow or --kernel")
		case *kernel && len(files) > 0:
			return usageError(stderr, "--kernel reads no file")
		case len(files) > 1:
			return usageError(stderr, "--follow follows one log (or a quoted glob)")
		case len(files) == 1 && files[0] == "-":
			return usageError(stderr, "--follow follows a file, not standard input")
		}
		if *kernel {
			cfg.Source, cfg.KernelKillRules = "kernel", true
		} else {
			cfg.Source, cfg.ReadFromHead, cfg.DB = "file", false, ""
			if len(files) == 1 {
				cfg.Path = files[0]
			}
		}
		return runLive(ctx, cfg, stdout, stderr, *stats)
	}
	if cfg.Proc == "auto" {
		cfg.Proc = "false" // old logs: /proc describes other processes now
	}
	if len(cfg.Enrich.Search.Units) > 0 && cfg.Proc != "true" {
		fmt.Fprintf(stderr, "linuxaudit: warning: --unit needs process context, which old logs do not have: it matches with --follow or --kernel\n")
	}
	b, err := pipeline.NewBatch(cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "linuxaudit: %v\n", err)
		return 2
	}
	files := fs.Args()
	if *useSample {
		files = append([]string{"@sample"}, files...)
	} else if len(files) == 0 {
		files = []string{"-"}
	}
	status := 0
	for _, name := range files {
		if err := readOne(b, name, stdin, stderr, *progress); err != nil {
			fmt.Fprintf(stderr, "linuxaudit: %s: %v\n", name, err)
			status = 1
			if errors.Is(err, errOutput) {
				return 1
			}
		}
	}
	if err := b.Close(); err != nil {
		fmt.Fprintf(stderr, "linuxaudit: writing output: %v\n", err)
		return 1
	}
	st := b.Stats()
	if *stats {
		j, _ := json.Marshal(st)
		fmt.Fprintf(stderr, "%s\n", j)
	}
	if st.ParseErrs > 0 {
		fmt.Fprintf(stderr, "linuxaudit: %d lines could not be parsed (not audit records)\n", st.ParseErrs)
		if st.ParseErrs == st.Lines {
			status = 1
		}
	}
	return status
}

// usageError reports a bad combination of flags: exit status 2.
func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "linuxaudit: %s\n", msg)
	return 2
}

var errOutput = errors.New("output error")

func readOne(b *pipeline.Batch, name string, stdin io.Reader, stderr io.Writer, progress bool) error {
	var r io.Reader
	var size int64
	switch name {
	case "-":
		r = stdin
	case "@sample":
		r = bytes.NewReader(sample.Seed)
	default:
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			if st.IsDir() {
				return errors.New("is a directory")
			}
			size = st.Size()
		}
		r = f
		if strings.HasSuffix(name, ".gz") {
			z, err := gzip.NewReader(bufio.NewReader(f))
			if err != nil {
				return err
			}
			r = z
			size = 0
		}
	}
	if progress {
		r = &progressReader{r: r, size: size, w: stderr, name: name, start: time.Now()}
		defer fmt.Fprintf(stderr, "\r\033[K")
	}
	_, err := b.ReadFrom(r)
	return err
}

type progressReader struct {
	r     io.Reader
	n     int64
	size  int64
	w     io.Writer
	name  string
	start time.Time
	last  time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if now := time.Now(); now.Sub(p.last) > 200*time.Millisecond {
		p.last = now
		mb := float64(p.n) / 1e6
		rate := mb / now.Sub(p.start).Seconds()
		if p.size > 0 {
			fmt.Fprintf(p.w, "\r%s: %.1f/%.1f MB (%.0f%%) %.1f MB/s", p.name, mb, float64(p.size)/1e6, 100*float64(p.n)/float64(p.size), rate)
		} else {
			fmt.Fprintf(p.w, "\r%s: %.1f MB %.1f MB/s", p.name, mb, rate)
		}
	}
	return n, err
}

// isTerminal reports whether w is a terminal (a tty: TCGETS works; not
// merely a character device, which /dev/null is too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	c, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var errno syscall.Errno
	c.Control(func(fd uintptr) {
		var t syscall.Termios
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	})
	return errno == 0
}
