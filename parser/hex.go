package parser

// DecodeHex appends the bytes of the hex string src (upper or lower case,
// even length) to dst. On invalid input it returns dst unchanged and false.
func DecodeHex(dst, src []byte) ([]byte, bool) {
	if len(src)%2 != 0 {
		return dst, false
	}
	n := len(dst)
	for i := 0; i < len(src); i += 2 {
		hi, ok1 := unhex(src[i])
		lo, ok2 := unhex(src[i+1])
		if !ok1 || !ok2 {
			return dst[:n], false
		}
		dst = append(dst, hi<<4|lo)
	}
	return dst, true
}

// IsHex reports whether b is a non-empty, even-length hex string.
func IsHex(b []byte) bool {
	if len(b) == 0 || len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		if _, ok := unhex(c); !ok {
			return false
		}
	}
	return true
}

// Untrusted appends the bytes an untrusted string field stands for: a quoted
// value as written, an unquoted one hex-decoded (the kernel hex-encodes any
// string with a space, quote, control or non-ASCII byte). An unquoted value
// that is not valid hex ("(null)", "?") is appended as written; hex reports
// whether it was decoded.
func (r *Record) Untrusted(dst []byte, f Field) (out []byte, hex bool) {
	v := r.Bytes(f.Val)
	if f.Kind == Plain {
		if out, ok := DecodeHex(dst, v); ok && len(v) > 0 {
			return out, true
		}
		// hex with a stray quote after it (key=6578...74" in real logs)
		if n := len(v); n > 2 && v[n-1] == '"' {
			if out, ok := DecodeHex(dst, v[:n-1]); ok {
				return out, true
			}
		}
	}
	return append(dst, v...), false
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
