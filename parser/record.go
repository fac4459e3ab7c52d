// Package parser turns Linux audit records into structured records and joins
// the records of one audit event into an Event.
//
// Parse and ParseNetlink read one record (a log line, or the payload of one
// netlink message) into a caller-owned Record without copying the line: the
// record's fields are spans into it. The Correlator copies what it keeps, so
// the caller may reuse its line buffer as soon as Add returns.
package parser

import (
	"errors"
	"time"
)

// Errors returned for lines that are not audit records. They are values, so
// a caller can count them by kind without allocating.
var (
	ErrEmpty          = errors.New("empty line")
	ErrTooLong        = errors.New("line longer than MaxLineLen")
	ErrNoType         = errors.New("missing type= header")
	ErrBadType        = errors.New("malformed record type")
	ErrNoMsg          = errors.New("missing msg=audit( header")
	ErrBadTimestamp   = errors.New("malformed audit(SECONDS.MILLIS:SERIAL) header")
	ErrTooManyFields  = errors.New("more than MaxFields fields")
	ErrBinary         = errors.New("NUL byte in record")
	ErrNetlinkPayload = errors.New("netlink payload without audit( header")
)

const (
	// MaxLineLen bounds one record. The kernel never emits a record longer
	// than about 8970 bytes (MAX_AUDIT_MESSAGE_LENGTH) and auditd's enriched
	// suffix adds a few hundred; 64 KiB leaves room for any real record.
	MaxLineLen = 64 << 10
	// MaxFields bounds the fields of one record (an 8970-byte EXECVE record
	// of one-character arguments has about 1300).
	MaxFields = 4096
)

// Span is a byte range [Off, Off+Len) of a record's line.
type Span struct {
	Off, Len int32
}

// Empty reports whether the span has no bytes.
func (s Span) Empty() bool { return s.Len == 0 }

// Kind says how a value was written.
type Kind uint8

const (
	// Plain is an unquoted value: a number, a word, a hex string, or
	// several words where auditd writes them unquoted (op=adding user).
	Plain Kind = iota
	// Quoted was written in double quotes; the span excludes the quotes.
	Quoted
	// Nested is the single-quoted msg='...' of user-space records; its
	// inner key/values follow it as fields with Depth 1.
	Nested
	// Braced is a {...} value of the enriched suffix (SADDR={ ... }).
	Braced
	// Text is a token without a key (the "avc:  denied  { read } for"
	// prefix of AVC records); its Key span is empty.
	Text
)

// Field is one key=value of a record, as spans into the record's line.
type Field struct {
	Key, Val Span
	Kind     Kind
	Depth    uint8 // 0 top level, 1 inside msg='...'
}

// Record is one audit record. Line is the caller's buffer; every Span is an
// offset into it. A Record is reused: Parse overwrites it.
type Record struct {
	Line     []byte
	Type     uint16 // numeric record type (1300 SYSCALL); 0 when the name is not known
	TypeName Span   // the type as written (empty for netlink records)
	Node     Span   // node=NAME, empty when absent
	Sec      int64  // seconds since the epoch
	Msec     uint16 // milliseconds, 0-999
	Serial   uint32
	Body     Span    // the key/values after "): ", without the enriched suffix
	Fields   []Field // raw fields in order, then nested ones after their msg field
	Enriched []Field // the fields after the 0x1d separator (origin host's interpretation)
}

// Bytes returns the bytes of a span of the record's line.
func (r *Record) Bytes(s Span) []byte { return r.Line[s.Off : s.Off+s.Len] }

// Time returns the record's timestamp.
func (r *Record) Time() time.Time {
	return time.Unix(r.Sec, int64(r.Msec)*int64(time.Millisecond))
}

// NodeName returns the node= name, or nil.
func (r *Record) NodeName() []byte { return r.Bytes(r.Node) }

// Name returns the record type's name: the canonical name for known types,
// otherwise the name as written, or UNKNOWN[n] for netlink records.
func (r *Record) Name() string { return TypeName(r.Type, r.Bytes(r.TypeName)) }

// Field returns the first field with the given key, top level first, then
// inside msg='...'.
func (r *Record) Field(key string) (Field, bool) {
	return lookup(r.Line, r.Fields, key)
}

// Value returns the value bytes of the first field with key, or nil, false.
func (r *Record) Value(key string) ([]byte, bool) {
	f, ok := lookup(r.Line, r.Fields, key)
	if !ok {
		return nil, false
	}
	return r.Bytes(f.Val), true
}

// EnrichedValue returns the value of an upper-case field of the enriched
// suffix (UID, AUID, ARCH, SYSCALL, SADDR ...), without quotes.
func (r *Record) EnrichedValue(key string) ([]byte, bool) {
	f, ok := lookup(r.Line, r.Enriched, key)
	if !ok {
		return nil, false
	}
	return r.Bytes(f.Val), true
}

func lookup(line []byte, fields []Field, key string) (Field, bool) {
	var nested Field
	found := false
	for _, f := range fields {
		if int(f.Key.Len) != len(key) || string(line[f.Key.Off:f.Key.Off+f.Key.Len]) != key {
			continue
		}
		if f.Depth == 0 {
			return f, true
		}
		if !found {
			nested, found = f, true
		}
	}
	return nested, found
}
