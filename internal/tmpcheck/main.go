package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/whokilledit/linuxaudit/parser"
)

func main() {
	for _, p := range os.Args[1:] {
		f, _ := os.Open(p)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var r parser.Record
		n := 0
		for sc.Scan() {
			n++
			l := sc.Bytes()
			if len(l) == 0 {
				continue
			}
			if err := parser.Parse(l, &r); err != nil {
				s := string(l)
				if len(s) > 220 {
					s = s[:220]
				}
				fmt.Printf("%s:%d: %v: %q\n", p, n, err, s)
			}
		}
		f.Close()
	}
}
