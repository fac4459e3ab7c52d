// Package corpus gives tests and benchmarks the real audit logs of
// shared/corpus (written by Linux 6.18 and auditd 3.0.9), embedded so the
// tests run from a clean checkout.
package corpus

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/whokilledit/linuxaudit/internal/sample"
)

//go:embed real-enriched.log.gz real-node-raw.log.gz kills.log files.log
var files embed.FS

// Names of the corpus files.
const (
	Enriched = "real-enriched.log" // log_format=ENRICHED, ~31,700 lines
	NodeRaw  = "real-node-raw.log" // log_format=RAW, name_format=HOSTNAME (node=vm)
	Seed     = "seed-kill.log"     // the article's kill -9 event (package sample)
	// Kills and Files are small ENRICHED logs made on a real kernel by
	// the generator in ./gen; README.md in this directory lists their
	// scenarios and expected answers. Kills: every signal-sending syscall,
	// group kills, failed kills, a 32-bit caller, hostile process names.
	// Files: file-watch events.
	Kills = "kills.log"
	Files = "files.log"
	// Raw is Enriched with every enriched suffix removed, as
	// sed 's/\x1d.*$//' would.
	Raw = "real-raw.log"
)

var (
	mu    sync.Mutex
	cache = map[string][]byte{}
)

// Bytes returns the content of a corpus file. Callers must not modify it.
func Bytes(name string) []byte {
	mu.Lock()
	defer mu.Unlock()
	return load(name)
}

func load(name string) []byte {
	if b, ok := cache[name]; ok {
		return b
	}
	var b []byte
	switch name {
	case Raw:
		b = StripEnriched(load(Enriched))
	case Seed:
		b = sample.Seed
	case Kills, Files:
		b, _ = files.ReadFile(name)
	default:
		f, err := files.Open(name + ".gz")
		if err != nil {
			panic(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			panic(err)
		}
		if b, err = io.ReadAll(z); err != nil {
			panic(err)
		}
	}
	cache[name] = b
	return b
}

// Lines returns the lines of a corpus file, without newlines.
func Lines(name string) [][]byte {
	return bytes.Split(bytes.TrimSuffix(Bytes(name), []byte("\n")), []byte("\n"))
}

// StripEnriched removes the enriched suffix (0x1d to end of line) of every
// line.
func StripEnriched(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		line := b
		if nl >= 0 {
			line, b = b[:nl], b[nl+1:]
		} else {
			b = nil
		}
		if i := bytes.IndexByte(line, 0x1d); i >= 0 {
			line = line[:i]
		}
		out = append(out, line...)
		out = append(out, '\n')
	}
	return out
}

// WriteFile writes a corpus file into dir and returns its path, for tests
// that run external tools (ausearch) or the CLI on it.
func WriteFile(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, Bytes(name), 0o644)
}

// Repeat returns n copies of a corpus file, each copy's timestamps shifted
// by a further 10^6 seconds so that every event stays distinct: a large,
// realistic input for benchmarks.
func Repeat(name string, n int) []byte {
	src := Bytes(name)
	out := make([]byte, 0, len(src)*n+n*64)
	marker := []byte("audit(")
	for c := 0; c < n; c++ {
		shift := int64(c) * 1000000
		b := src
		for {
			i := bytes.Index(b, marker)
			if i < 0 {
				out = append(out, b...)
				break
			}
			i += len(marker)
			out = append(out, b[:i]...)
			b = b[i:]
			j := 0
			var sec int64
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				sec = sec*10 + int64(b[j]-'0')
				j++
			}
			if j == 0 {
				continue
			}
			out = strconv.AppendInt(out, sec+shift, 10)
			b = b[j:]
		}
	}
	return out
}
