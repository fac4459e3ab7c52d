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
	"sync"
)

//go:embed real-enriched.log.gz real-node-raw.log.gz seed-kill.log
var files embed.FS

// Names of the corpus files.
const (
	Enriched = "real-enriched.log" // log_format=ENRICHED, ~31,700 lines
	NodeRaw  = "real-node-raw.log" // log_format=RAW, name_format=HOSTNAME (node=vm)
	Seed     = "seed-kill.log"     // the article's kill -9 event
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
