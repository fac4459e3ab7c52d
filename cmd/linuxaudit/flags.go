package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/whokilledit/linuxaudit/pipeline"
)

// keyFlag is the --flag of a configuration key: the raw value, checked
// by pipeline.Parse with every other key.
type keyFlag struct {
	v   string
	set bool
}

func (f *keyFlag) String() string {
	if f == nil {
		return ""
	}
	return f.v
}

func (f *keyFlag) Set(s string) error { f.v, f.set = s, true; return nil }

// boolKeyFlag is a key of type bool: --raw alone means --raw=true.
type boolKeyFlag struct{ keyFlag }

func (f *boolKeyFlag) IsBoolFlag() bool { return true }

func (f *boolKeyFlag) String() string {
	if f == nil || f.v == "" {
		return "false"
	}
	return f.v
}

// types names the value type of each key's flag, for the usage text.
var types = map[string]string{}

// mentionsAll reports whether help names every one of values already.
func mentionsAll(help string, values []string) bool {
	if len(values) == 0 {
		return false
	}
	for _, v := range values {
		if !strings.Contains(help, v) {
			return false
		}
	}
	return true
}

// keyFlags defines a flag for every key the CLI has (pipeline.Keys, scope
// CLI) and returns the lookup pipeline.Parse takes.
func keyFlags(fs *flag.FlagSet) func(string) (string, bool) {
	vals := map[string]*keyFlag{}
	for i := range pipeline.Keys {
		k := &pipeline.Keys[i]
		if k.Scope&pipeline.CLI == 0 {
			continue
		}
		help := strings.ReplaceAll(k.Help, "`", "")
		if a := k.Accepted(); a != "" && !mentionsAll(help, k.Values) {
			help += " (" + a + ")"
		}
		if k.IsBool() {
			f := &boolKeyFlag{keyFlag{v: k.Default}}
			fs.Var(f, k.Name, help)
			vals[k.Name] = &f.keyFlag
			continue
		}
		f := &keyFlag{v: k.Default}
		fs.Var(f, k.Name, help)
		vals[k.Name] = f
		types[k.Name] = k.Type.String()
	}
	return func(name string) (string, bool) {
		if f, ok := vals[name]; ok && f.set {
			return f.v, true
		}
		return "", false
	}
}

// gnuSpellings rewrites --some-flag into --some_flag when that is a
// flag's name, so both spellings work (arguments after "--" are files).
func gnuSpellings(fs *flag.FlagSet, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || !strings.Contains(a, "-") {
			continue
		}
		dash := 1
		if strings.HasPrefix(a, "--") {
			dash = 2
		}
		name, rest, hasVal := strings.Cut(a[dash:], "=")
		alt := strings.ReplaceAll(name, "-", "_")
		if alt == name || fs.Lookup(name) != nil || fs.Lookup(alt) == nil {
			continue
		}
		out[i] = a[:dash] + alt
		if hasVal {
			out[i] += "=" + rest
		}
	}
	return out
}

// joinDateTime joins a date and a time given as two arguments, as
// ausearch takes them (--since 11/27/2026 01:24:00), into the one value
// of --since or --until.
func joinDateTime(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "since" && name != "until") {
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				continue
			}
			i++
			val = args[i]
			out = append(out, val)
		}
		if i+1 < len(args) && !isClock(val) && !strings.Contains(val, " ") && isClock(args[i+1]) {
			i++
			out[len(out)-1] += " " + args[i]
		}
	}
	return out
}

// isClock reports a time of day as ausearch takes it: HH:MM or HH:MM:SS.
func isClock(s string) bool {
	p := strings.Split(s, ":")
	if len(p) < 2 || len(p) > 3 {
		return false
	}
	for i, n := range p {
		if len(n) < 1 || len(n) > 2 || (i > 0 && len(n) != 2) {
			return false
		}
		for _, c := range n {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// printDefaults writes the flags in Go's usual form ("-name type", the
// usage, the default), with the type of every key's value.
func printDefaults(fs *flag.FlagSet, w io.Writer) {
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if t, ok := types[f.Name]; ok {
			name = t
		}
		fmt.Fprintf(w, "  -%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			if _, str := f.Value.(*keyFlag); str && name == "string" {
				d = strconv.Quote(d)
			}
			fmt.Fprintf(w, " (default %s)", d)
		}
		fmt.Fprintln(w)
	})
}
