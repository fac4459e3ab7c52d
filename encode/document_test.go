package encode

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func sample(d *Document) {
	d.Reset()
	d.Sec, d.Nsec = 1695710251, 567000000
	d.Str("a", "back\\slash \"q\" \x00\x7f\u0085\u202e ok é \xff")
	d.Object("empty")
	d.End()
	d.Array("arr")
	d.Int("", -5)
	d.Int("", -40000)
	d.Uint("", 1<<63)
	d.Bool("", true)
	d.Null("")
	d.End()
	d.Object("o")
	d.Trusted("t", []byte("2023-09-26T06:37:31.567Z"))
	d.Float("f", 1.5)
	d.End()
}

func TestDocumentEscaping(t *testing.T) {
	var d Document
	sample(&d)
	got := string(d.AppendJSON(nil))
	want := `{"a":"back\\\\slash \"q\" \\x00\\x7f\\u0085\\u202e ok é \\xff","arr":[-5,-40000,9223372036854775808,true,null],"o":{"t":"2023-09-26T06:37:31.567Z","f":1.5}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatal(err)
	}
}

// TestMsgpackMatchesJSON decodes our msgpack with msgpack/v5 (the reference
// decoder) and compares it with the JSON form of the same document.
func TestMsgpackMatchesJSON(t *testing.T) {
	var d Document
	sample(&d)
	var fromMP, fromJSON any
	if err := msgpack.Unmarshal(d.AppendMsgpack(nil), &fromMP); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(d.AppendJSON(nil)))
	dec.UseNumber()
	if err := dec.Decode(&fromJSON); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromMP)
	b, _ := json.Marshal(fromJSON)
	if !bytes.Equal(a, b) {
		t.Errorf("msgpack %s\n   json %s", a, b)
	}
	// The Fluent Bit entry: [[ext 0 time, {}], record].
	e := d.AppendFluentBit(nil)
	if !bytes.HasPrefix(e, []byte{0x92, 0x92, 0xd7, 0x00, 0x65, 0x12, 0x7c, 0x2b, 0x21, 0xcb, 0xbb, 0xc0, 0x80}) {
		t.Errorf("entry header % x", e[:13])
	}
}

func TestSafeKey(t *testing.T) {
	if got := string(SafeKey(nil, []byte("a\"b\\c\x01d é"))); got != "a_b_c_d __" {
		t.Errorf("SafeKey = %q", got)
	}
}

// BenchmarkEncode compares our append-style msgpack writer with msgpack/v5
// encoding the same record as a map: why the hot path has its own.
func BenchmarkEncode(b *testing.B) {
	var d Document
	sample(&d)
	var m map[string]any
	json.Unmarshal(d.AppendJSON(nil), &m)
	b.Run("document", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sample(&d)
			buf = d.AppendFluentBit(buf[:0])
		}
	})
	b.Run("msgpack-v5", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := msgpack.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestDuplicateKeys(t *testing.T) {
	var d Document
	d.Reset()
	d.Int("a", 1)
	d.Object("o")
	d.Int("x", 1)
	d.Int("x", 2)
	d.End()
	d.Array("l")
	d.Object("")
	d.Int("y", 1)
	d.End()
	d.Object("")
	d.Int("y", 1)
	d.End()
	d.End()
	d.Int("a", 2)
	if got := d.DuplicateKeys(); len(got) != 2 || got[0] != "o.x" || got[1] != "a" {
		t.Errorf("%q", got)
	}
	sample(&d)
	if got := d.DuplicateKeys(); got != nil {
		t.Errorf("%q", got)
	}
}

func TestFields(t *testing.T) {
	var d Document
	d.Reset()
	d.Int("a", 1)
	d.Object("o")
	d.Str("s", "x")
	d.Float("f", 1.5)
	d.End()
	d.Array("tags")
	d.Str("", "k")
	d.Str("", "l")
	d.End()
	d.Array("l")
	d.Object("")
	d.Bool("b", true)
	d.End()
	d.End()
	d.Null("n")
	var got []string
	d.Fields(func(path, kind string) { got = append(got, path+":"+kind) })
	want := "a:integer o:object o.s:string o.f:float tags:string tags:string l:object l.b:boolean n:null"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestAppendSafeAndLookup: text outside a document is escaped exactly as
// a document stores it, and Lookup finds top-level strings past nested
// objects and arrays.
func TestAppendSafeAndLookup(t *testing.T) {
	in := "back\\slash \"q\" \x1b[31m\n\u202e é \xff"
	got := string(AppendSafe([]byte("> "), []byte(in)))
	if want := `> back\\slash "q" \x1b[31m\x0a\u202e é \xff`; got != want {
		t.Errorf("AppendSafe: %s, want %s", got, want)
	}
	var d Document
	sample(&d)
	d.Str("summary", in)
	if v, ok := d.Lookup("summary"); !ok || string(v) != got[2:] {
		t.Errorf("Lookup(summary) = %q %v, want %q", v, ok, got[2:])
	}
	if v, ok := d.Lookup("a"); !ok || !strings.HasPrefix(string(v), `back\\slash`) {
		t.Errorf("Lookup(a) = %q %v", v, ok)
	}
	for _, k := range []string{"t", "arr", "o", "nope"} {
		if v, ok := d.Lookup(k); ok {
			t.Errorf("Lookup(%s) = %q, want none (nested or not a string)", k, v)
		}
	}
}
