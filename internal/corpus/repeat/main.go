// Command repeat writes N copies of a corpus file with shifted timestamps
// (a large realistic input for speed comparisons):
//
//	go run ./internal/corpus/repeat -n 8 real-enriched.log > big.log
//
// With -raw the enriched suffixes are removed (laurel reads RAW).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/whokilledit/linuxaudit/internal/corpus"
)

func main() {
	n := flag.Int("n", 4, "copies")
	raw := flag.Bool("raw", false, "strip the enriched suffixes")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: repeat [-n N] [-raw] real-enriched.log|real-node-raw.log|kills.log|files.log")
		os.Exit(2)
	}
	b := corpus.Repeat(flag.Arg(0), *n)
	if *raw {
		b = corpus.StripEnriched(b)
	}
	os.Stdout.Write(b)
}
