package enrich

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/whokilledit/linuxaudit/parser"
)

// normalize_gen.go is what the generator makes from the go-libaudit module
// this project builds with: bumping go-libaudit without go generate fails
// here.
func TestNormalizationsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator (go run): not in -short")
	}
	out := filepath.Join(t.TempDir(), "normalize_gen.go")
	cmd := exec.Command("go", "run", "../internal/gen/normalizations", "-o", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("normalize_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("normalize_gen.go differs from go-libaudit's normalizations.yaml: run go generate ./enrich")
	}
}

// Every normalization that names an action reaches the documents: the
// default schema's action for its record types, Auditbeat's in ECS.
func TestRecordActionsFromNormalizations(t *testing.T) {
	n := 0
	for name, norms := range recordNorms {
		if len(norms) != 1 || norms[0].action == "" {
			continue // chosen by has_fields: TestRealWorld... covers them on real records
		}
		line := []byte("type=" + name + " msg=audit(1700000000.000:1): pid=1 uid=0 auid=0 ses=1 msg='op=x res=success'")
		var r parser.Record
		if parser.Parse(line, &r) != nil {
			t.Errorf("%s: %q does not parse", name, line)
			continue
		}
		if _, known := parser.TypeNumber([]byte(name)); !known {
			continue // a type name without a number: no log can carry it as its own
		}
		if a, _ := recordAction(&r); a != norms[0].action {
			t.Errorf("%s: action %q, go-libaudit's is %q", name, a, norms[0].action)
		}
		n++
	}
	if n < 80 {
		t.Errorf("only %d record types checked", n)
	}
	t.Logf("%d record types take go-libaudit's action", n)
}
