package enrich

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/internal/audittest"
	"github.com/whokilledit/linuxaudit/parser"
	"github.com/whokilledit/linuxaudit/source"
	"github.com/whokilledit/linuxaudit/source/kernel"
)

// TestFileWatchLive watches a temporary directory on the real kernel,
// changes files in it the ways people do (relative paths from a deeper
// directory, sed -i, chmod, chown, symlink replacement, an unprivileged
// user's write and failed write, hostile names), and checks the documents
// name the absolute paths, operations, actors and users; then compares
// every decoded value of the captured log with ausearch -i.
func TestFileWatchLive(t *testing.T) {
	audittest.Require(t)
	dir, err := os.MkdirTemp("/tmp", "la-watch-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // the unprivileged user must reach the files
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "shared.txt"), nil, 0o666)
	os.Chmod(filepath.Join(dir, "shared.txt"), 0o666)
	os.WriteFile(filepath.Join(dir, "locked.txt"), nil, 0o644)
	key := fmt.Sprintf("la_watch_%d", os.Getpid())

	n, err := kernel.Open(kernel.Config{
		Rules: []string{"-w " + dir + " -p wa -k " + key},
	})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			m, err := n.Next(context.Background())
			if errors.Is(err, source.ErrIdle) {
				continue
			}
			if err != nil {
				return
			}
			mu.Lock()
			// Write the record as auditd would (RAW), for ausearch.
			fmt.Fprintf(&log, "type=%s msg=%s\n", parser.TypeName(m.Type, nil), m.Data)
			mu.Unlock()
		}
	}()
	sh := func(script string) {
		cmd := exec.Command("sh", "-c", script)
		// Hostile names come in the environment, so the logged command
		// line holds no backslash sequences (ausearch's \NNN escaping of
		// control bytes is ambiguous with them).
		cmd.Env = append(os.Environ(), "D="+dir, "N1=with space", "N2=new\nline", "N3=\x1b[31mred")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("%s: %v %s", script, err, out)
		}
	}
	nobody := func(script string) {
		cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script)
		cmd.Env = append(os.Environ(), "D="+dir)
		cmd.Run()
	}
	sh(`echo a=1 > "$D/app.conf"`)
	sh(`cd "$D/sub" && echo b=2 >> ../app.conf`)
	sh(`sed -i s/a=1/a=3/ "$D/app.conf"`)
	sh(`chmod 600 "$D/app.conf"`)
	sh(`chown nobody "$D/app.conf"`)
	sh(`ln -s app.conf "$D/current" && ln -sfn shared.txt "$D/current"`)
	nobody(`echo hi >> "$D/shared.txt"`)
	nobody(`echo hi >> "$D/locked.txt"`)
	sh(`echo x > "$D/$N1"; echo x > "$D/$N2"; echo x > "$D/$N3"`)
	time.Sleep(500 * time.Millisecond)
	n.Close()
	<-done

	mu.Lock()
	data := append([]byte(nil), log.Bytes()...)
	mu.Unlock()
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte{'\n'}) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	docs := runDocs(t, lines, Config{})
	var mine []map[string]any
	for _, d := range docs {
		if str(d, "key.0") == key {
			mine = append(mine, d)
		}
	}
	if len(mine) < 10 {
		t.Fatalf("only %d watch events captured:\n%s", len(mine), data)
	}
	find := func(what string, ok func(d map[string]any) bool) map[string]any {
		for _, d := range mine {
			if ok(d) {
				return d
			}
		}
		var sums []string
		for _, d := range mine {
			sums = append(sums, str(d, "summary"))
		}
		t.Errorf("no document for %s; got:\n%s", what, strings.Join(sums, "\n"))
		return nil
	}
	app := dir + "/app.conf"
	if d := find("relative append", func(d map[string]any) bool {
		return str(d, "file.operation") == "append" && str(d, "file.name") == "../app.conf"
	}); d != nil && str(d, "file.path") != app {
		t.Errorf("../app.conf from sub/ resolved to %s", str(d, "file.path"))
	}
	find("sed -i replace", func(d map[string]any) bool {
		return str(d, "file.operation") == "rename" && str(d, "file.path") == app &&
			strings.HasPrefix(str(d, "file.from"), dir+"/sed") && str(d, "process.comm") == "sed" &&
			strings.Contains(str(d, "summary"), "replaced "+app+" (renamed from "+dir+"/sed")
	})
	find("chmod", func(d map[string]any) bool {
		return str(d, "event.action") == "changed-file-permissions-of" && str(d, "file.new_mode") == "0600" && str(d, "file.path") == app
	})
	find("chown", func(d map[string]any) bool {
		return str(d, "event.action") == "changed-file-ownership-of" && str(d, "file.new_user") == "nobody"
	})
	find("symlink replaced", func(d map[string]any) bool {
		return str(d, "file.operation") == "rename" && str(d, "file.path") == dir+"/current"
	})
	find("nobody's append", func(d map[string]any) bool {
		return str(d, "file.path") == dir+"/shared.txt" && str(d, "process.user") == "nobody" && str(d, "event.outcome") == "success"
	})
	find("nobody's failed write", func(d map[string]any) bool {
		return str(d, "file.path") == dir+"/locked.txt" && str(d, "syscall.errno") == "EACCES" &&
			strings.Contains(str(d, "summary"), "failed to open "+dir+"/locked.txt for append: EACCES")
	})
	for _, name := range []string{"with space", `new\x0aline`, `\x1b[31mred`} {
		find("hostile name "+name, func(d map[string]any) bool {
			return str(d, "file.operation") == "create" && str(d, "file.path") == dir+"/"+name
		})
	}
	if _, err := exec.LookPath("ausearch"); err == nil {
		n := goldenBytes(t, data)
		t.Logf("%d values of the live file-watch log compared with ausearch -i", n)
	}
}
