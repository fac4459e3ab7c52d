// Package encode writes documents, ordered trees of keys and values, as JSON
// lines or as Fluent Bit msgpack entries. It knows nothing of audit.
package encode

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Document is one output record: an ordered tree of keys and values,
// encoded as JSON (CLI) or msgpack (Fluent Bit). It is
// reused from event to event, so building and encoding one does not
// allocate in steady state.
//
// Every string stored through Str/StrBytes is made safe on the way in:
// valid UTF-8 is kept, while control bytes (newline, ESC...), invalid
// UTF-8, C1 controls and bidirectional overrides are written as visible
// escapes (\x1b, \xff, \u202e) and a backslash as \\, so no value can
// break a JSON line, forge a field or paint a terminal, and the escaping
// is reversible.
type Document struct {
	// Sec and Nsec are the event time; encoders put it in the record
	// envelope (Fluent Bit EventTime) and in the @timestamp field.
	Sec  int64
	Nsec int64

	buf   []byte
	nodes []node
	stack []int32
	cur   int32 // index of the innermost open object or array
}

type nodeKind uint8

const (
	kObject nodeKind = iota
	kArray
	kString
	kInt
	kUint
	kFloat
	kBool
	kNull
)

type node struct {
	key   string // constant keys only (string literals or long-lived strings)
	num   uint64
	n     int32 // children (object/array); value length for strings
	off   int32 // string value offset in buf
	close int32 // index after the last descendant (object/array)
	kind  nodeKind
	plain bool // string without '"' or '\\': JSON needs no escaping
}

// Reset empties the document for reuse and opens the root object.
func (d *Document) Reset() {
	d.buf = d.buf[:0]
	d.nodes = d.nodes[:0]
	d.stack = d.stack[:0]
	d.Sec, d.Nsec = 0, 0
	d.push("", kObject)
}

func (d *Document) push(key string, k nodeKind) {
	if len(d.stack) > 0 {
		d.nodes[d.cur].n++
	}
	d.nodes = append(d.nodes, node{key: key, kind: k})
	d.cur = int32(len(d.nodes) - 1)
	d.stack = append(d.stack, d.cur)
}

func (d *Document) leaf(key string, k nodeKind) *node {
	d.nodes[d.cur].n++
	if len(d.nodes) == cap(d.nodes) {
		d.nodes = append(d.nodes, node{})
	} else {
		d.nodes = d.nodes[:len(d.nodes)+1]
	}
	n := &d.nodes[len(d.nodes)-1]
	*n = node{key: key, kind: k}
	return n
}

// Size is the memory the document holds for reuse, in bytes.
func (d *Document) Size() int {
	return cap(d.buf) + cap(d.nodes)*int(unsafe.Sizeof(node{})) + cap(d.stack)*4
}

// Object opens a nested object under key (key is ignored inside arrays).
func (d *Document) Object(key string) { d.push(key, kObject) }

// Array opens a nested array under key.
func (d *Document) Array(key string) { d.push(key, kArray) }

// End closes the innermost open object or array. An object that ended up
// empty is removed, so optional sections cost nothing in the output.
func (d *Document) End() {
	if len(d.stack) <= 1 {
		return
	}
	i := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	d.cur = d.stack[len(d.stack)-1]
	if d.nodes[i].n == 0 && d.nodes[i].kind == kObject {
		d.nodes = d.nodes[:i]
		d.nodes[d.cur].n--
		return
	}
	d.nodes[i].close = int32(len(d.nodes))
}

// Str adds a string, escaped as described on Document.
func (d *Document) Str(key, v string) {
	off := len(d.buf)
	var plain bool
	d.buf, plain = appendSafe(d.buf, v)
	d.strLeaf(key, off, plain)
}

// StrBytes adds a byte string, escaped as described on Document.
func (d *Document) StrBytes(key string, v []byte) {
	off := len(d.buf)
	var plain bool
	d.buf, plain = appendSafe(d.buf, v)
	d.strLeaf(key, off, plain)
}

// Trusted adds a string known to be safe (the caller's own constants and
// numbers: printable ASCII without '"' or '\\'), without escaping.
func (d *Document) Trusted(key string, v []byte) {
	off := len(d.buf)
	d.buf = append(d.buf, v...)
	d.strLeaf(key, off, true)
}

// strLeaf adds the string node for d.buf[off:].
func (d *Document) strLeaf(key string, off int, plain bool) {
	n := d.leaf(key, kString)
	n.off, n.n, n.plain = int32(off), int32(len(d.buf)-off), plain
}

// Int adds a signed number.
func (d *Document) Int(key string, v int64) { d.leaf(key, kInt).num = uint64(v) }

// Uint adds an unsigned number.
func (d *Document) Uint(key string, v uint64) { d.leaf(key, kUint).num = v }

// Float adds a floating point number.
func (d *Document) Float(key string, v float64) { d.leaf(key, kFloat).num = math.Float64bits(v) }

// Bool adds a boolean.
func (d *Document) Bool(key string, v bool) {
	var x uint64
	if v {
		x = 1
	}
	d.leaf(key, kBool).num = x
}

// Null adds a null.
func (d *Document) Null(key string) { d.leaf(key, kNull) }

func (d *Document) finish() {
	for len(d.stack) > 1 {
		d.End()
	}
	d.nodes[0].close = int32(len(d.nodes))
}

// DuplicateKeys returns the keys that appear twice in one object of the
// document (Elasticsearch rejects such a document), as dotted paths; nil
// when there are none. For tests and checks, not the hot path.
func (d *Document) DuplicateKeys() []string {
	d.finish()
	var dups []string
	var walk func(i int, path string) int
	walk = func(i int, path string) int {
		n := &d.nodes[i]
		j := i + 1
		if n.kind != kObject && n.kind != kArray {
			return j
		}
		var keys []string
		for c := int32(0); c < n.n; c++ {
			k := d.nodes[j].key
			if n.kind == kObject {
				for _, seen := range keys {
					if seen == k {
						dups = append(dups, path+k)
					}
				}
				keys = append(keys, k)
			}
			j = walk(j, path+k+".")
		}
		return j
	}
	walk(0, "")
	return dups
}

// Fields calls fn for every value of the document with its dotted path
// and its JSON type as Elasticsearch maps it: "object", "string",
// "integer", "float", "boolean" or "null". Arrays are transparent, as in
// Elasticsearch (the elements of tags are at "tags", those of an array of
// objects at "a.b"). For tests and checks, not the hot path.
func (d *Document) Fields(fn func(path, kind string)) {
	d.finish()
	var walk func(i int, path string) int
	walk = func(i int, path string) int {
		n := &d.nodes[i]
		switch n.kind {
		case kObject:
			if i > 0 {
				fn(path, "object")
			}
		case kArray:
		case kString:
			fn(path, "string")
		case kInt, kUint:
			fn(path, "integer")
		case kFloat:
			fn(path, "float")
		case kBool:
			fn(path, "boolean")
		case kNull:
			fn(path, "null")
		}
		j := i + 1
		if n.kind != kObject && n.kind != kArray {
			return j
		}
		for c := int32(0); c < n.n; c++ {
			p := path
			if n.kind == kObject {
				if p != "" {
					p += "."
				}
				p += d.nodes[j].key
			}
			j = walk(j, p)
		}
		return j
	}
	walk(0, "")
}

// AppendJSON appends the document as one line of JSON (no newline).
func (d *Document) AppendJSON(dst []byte) []byte {
	d.finish()
	dst, _ = d.appendJSON(dst, 0)
	return dst
}

func (d *Document) appendJSON(dst []byte, i int) ([]byte, int) {
	n := &d.nodes[i]
	switch n.kind {
	case kObject, kArray:
		open, close := byte('{'), byte('}')
		if n.kind == kArray {
			open, close = '[', ']'
		}
		dst = append(dst, open)
		obj := n.kind == kObject
		j := i + 1
		for c := int32(0); c < n.n; c++ {
			if c > 0 {
				dst = append(dst, ',')
			}
			if obj {
				dst = appendKey(dst, d.nodes[j].key)
			}
			dst, j = d.appendJSON(dst, j)
		}
		return append(dst, close), j
	case kString:
		if n.plain {
			dst = append(dst, '"')
			dst = append(dst, d.buf[n.off:n.off+n.n]...)
			return append(dst, '"'), i + 1
		}
		return appendJSONString(dst, d.buf[n.off:n.off+n.n]), i + 1
	case kInt:
		return strconv.AppendInt(dst, int64(n.num), 10), i + 1
	case kUint:
		return strconv.AppendUint(dst, n.num, 10), i + 1
	case kFloat:
		f := math.Float64frombits(n.num)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return append(dst, "null"...), i + 1
		}
		return strconv.AppendFloat(dst, f, 'f', -1, 64), i + 1
	case kBool:
		if n.num == 1 {
			return append(dst, "true"...), i + 1
		}
		return append(dst, "false"...), i + 1
	}
	return append(dst, "null"...), i + 1
}

// appendJSONString writes an already safe string (see appendSafe) as a
// JSON string; only '"' and '\\' need escaping, but it stays correct for
// any input.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendKey writes "key":. Keys are the caller's constants or names made
// safe with SafeKey, so they are copied as they are.
func appendKey(dst []byte, k string) []byte {
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"', ':')
}

// SafeKey appends key to dst with every byte that is not printable ASCII,
// '"' or '\\' replaced by '_': a name from the input, made fit to be a key.
func SafeKey(dst, key []byte) []byte {
	for _, c := range key {
		if safeByte[c] && c != '"' {
			dst = append(dst, c)
		} else {
			dst = append(dst, '_')
		}
	}
	return dst
}

// safeByte marks the bytes appendSafe copies as they are.
var safeByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\'
	}
	return
}()

const lsb = 0x0101010101010101
const msb = 0x8080808080808080

// hasZero reports whether a byte of x is 0; hasLess whether one is < n;
// hasMore whether one is > n (n < 128).
func hasZero(x uint64) bool           { return (x-lsb)&^x&msb != 0 }
func hasLess(x uint64, n uint64) bool { return (x-lsb*n)&^x&msb != 0 }
func hasMore(x uint64, n uint64) bool { return ((x+lsb*(127-n))|x)&msb != 0 }

// needsEscape reports whether the rune r (decoded from valid UTF-8) must be
// shown as an escape: C0/C1 controls, DEL, bidi overrides and isolates, and
// the line/paragraph separators that break some JSON consumers.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// AppendSafe appends s to dst with the escaping Document applies to every
// string (see Document): for text outside a document, such as the CLI's
// one-line output, so that it is exactly the string the JSON carries.
func AppendSafe[S string | []byte](dst []byte, s S) []byte {
	dst, _ = appendSafe(dst, s)
	return dst
}

// Lookup returns the string stored under key at the top level of the
// document (already made safe), or false when there is none.
func (d *Document) Lookup(key string) ([]byte, bool) {
	if len(d.nodes) == 0 {
		return nil, false
	}
	for j, c := 1, int32(0); c < d.nodes[0].n && j < len(d.nodes); c++ {
		n := &d.nodes[j]
		if n.key == key && n.kind == kString {
			return d.buf[n.off : n.off+n.n], true
		}
		if n.kind == kObject || n.kind == kArray {
			if n.close == 0 {
				return nil, false // still open: nothing after it yet
			}
			j = int(n.close)
			continue
		}
		j++
	}
	return nil, false
}

// appendSafe appends s with the escaping described on Document. plain
// reports that the result holds no '"' or '\\' (JSON can copy it as is).
func appendSafe[S string | []byte](dst []byte, s S) ([]byte, bool) {
	plain := true
	start := 0
	for i := 0; i < len(s); {
		// Fast path: 8 bytes of printable ASCII without '\\' or '"'.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if hasLess(x, 0x20) || hasMore(x, 0x7e) || hasZero(x^(0x5c*lsb)) || hasZero(x^(0x22*lsb)) {
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if safeByte[c] {
			if c == '"' {
				plain = false
			}
			i++
			continue
		}
		if c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', '\\')
			plain = false
			i++
			start = i
			continue
		}
		if c < 0x80 { // C0 control or DEL
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			plain = false
			i++
			start = i
			continue
		}
		var r rune
		var size int
		switch v := any(s).(type) {
		case string:
			r, size = utf8.DecodeRuneInString(v[i:])
		case []byte:
			r, size = utf8.DecodeRune(v[i:])
		}
		if r == utf8.RuneError && size <= 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			plain = false
			i++
			start = i
			continue
		}
		if needsEscape(r) {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
			plain = false
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...), plain
}

// AppendMsgpack appends the document's record map as msgpack.
func (d *Document) AppendMsgpack(dst []byte) []byte {
	d.finish()
	dst, _ = d.appendMsgpack(dst, 0)
	return dst
}

// AppendFluentBit appends one Fluent Bit log entry, [[EventTime, {}],
// record], with the time as msgpack ext type 0 (big-endian seconds and
// nanoseconds), the form every Fluent Bit since 2.1 accepts.
func (d *Document) AppendFluentBit(dst []byte) []byte {
	dst = append(dst, 0x92, 0x92, 0xd7, 0x00)
	dst = binary.BigEndian.AppendUint32(dst, uint32(d.Sec))
	dst = binary.BigEndian.AppendUint32(dst, uint32(d.Nsec))
	dst = append(dst, 0x80)
	return d.AppendMsgpack(dst)
}

func (d *Document) appendMsgpack(dst []byte, i int) ([]byte, int) {
	n := &d.nodes[i]
	switch n.kind {
	case kObject, kArray:
		obj := n.kind == kObject
		dst = mpLen(dst, int(n.n), obj)
		j := i + 1
		for c := int32(0); c < n.n; c++ {
			if obj {
				dst = mpStr(dst, d.nodes[j].key)
			}
			dst, j = d.appendMsgpack(dst, j)
		}
		return dst, j
	case kString:
		return mpStr(dst, d.buf[n.off:n.off+n.n]), i + 1
	case kInt:
		v := int64(n.num)
		if v >= 0 {
			return mpUint(dst, uint64(v)), i + 1
		}
		switch {
		case v >= -32:
			return append(dst, byte(v)), i + 1
		case v >= math.MinInt8:
			return append(dst, 0xd0, byte(v)), i + 1
		case v >= math.MinInt16:
			return binary.BigEndian.AppendUint16(append(dst, 0xd1), uint16(v)), i + 1
		case v >= math.MinInt32:
			return binary.BigEndian.AppendUint32(append(dst, 0xd2), uint32(v)), i + 1
		}
		return binary.BigEndian.AppendUint64(append(dst, 0xd3), uint64(v)), i + 1
	case kUint:
		return mpUint(dst, n.num), i + 1
	case kFloat:
		return binary.BigEndian.AppendUint64(append(dst, 0xcb), n.num), i + 1
	case kBool:
		if n.num == 1 {
			return append(dst, 0xc3), i + 1
		}
		return append(dst, 0xc2), i + 1
	}
	return append(dst, 0xc0), i + 1
}

func mpUint(dst []byte, v uint64) []byte {
	switch {
	case v < 128:
		return append(dst, byte(v))
	case v <= math.MaxUint8:
		return append(dst, 0xcc, byte(v))
	case v <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xcd), uint16(v))
	case v <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0xce), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0xcf), v)
}

func mpLen(dst []byte, n int, obj bool) []byte {
	if obj {
		switch {
		case n < 16:
			return append(dst, 0x80|byte(n))
		case n <= math.MaxUint16:
			return binary.BigEndian.AppendUint16(append(dst, 0xde), uint16(n))
		}
		return binary.BigEndian.AppendUint32(append(dst, 0xdf), uint32(n))
	}
	switch {
	case n < 16:
		return append(dst, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(dst, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(dst, 0xdd), uint32(n))
}

func mpStr[S string | []byte](dst []byte, s S) []byte {
	n := len(s)
	switch {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		dst = append(dst, 0xd9, byte(n))
	case n <= math.MaxUint16:
		dst = binary.BigEndian.AppendUint16(append(dst, 0xda), uint16(n))
	default:
		dst = binary.BigEndian.AppendUint32(append(dst, 0xdb), uint32(n))
	}
	return append(dst, s...)
}
