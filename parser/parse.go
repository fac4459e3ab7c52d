package parser

import "bytes"

// EnrichedSeparator is the byte auditd writes between a record's raw fields
// and its own interpretation of them (log_format = ENRICHED).
const EnrichedSeparator = 0x1d

// Parse reads one audit log line: RAW or ENRICHED, with or without a
// "node=NAME " prefix, with or without the trailing newline. It never
// panics; on error the record's contents are unspecified.
func Parse(line []byte, r *Record) error {
	line = trimEOL(line)
	if err := precheck(line); err != nil {
		return err
	}
	r.reset(line)
	pos := 0
	// node=NAME (auditd's name_format), or host=NAME as some forwarders
	// (and RHEL5's audit2allow test logs) write it.
	if bytes.HasPrefix(line, []byte("node=")) || bytes.HasPrefix(line, []byte("host=")) {
		end := indexSpace(line, 5)
		if end < 0 || end == 5 {
			return ErrNoType
		}
		r.Node = Span{5, int32(end - 5)}
		pos = end + 1
	}
	if !bytes.HasPrefix(line[pos:], []byte("type=")) {
		return ErrNoType
	}
	pos += 5
	end := indexSpace(line, pos)
	if end < 0 || end == pos {
		return ErrBadType
	}
	r.TypeName = Span{int32(pos), int32(end - pos)}
	typ, ok := TypeNumber(line[pos:end])
	if !ok && !plausibleTypeName(line[pos:end]) {
		return ErrBadType
	}
	r.Type = typ
	pos = end + 1
	if !bytes.HasPrefix(line[pos:], []byte("msg=")) {
		return ErrNoMsg
	}
	return r.parseAfterHeader(pos + 4)
}

// ParseNetlink reads the payload of one audit netlink message of the given
// type, "audit(SECONDS.MILLIS:SERIAL): fields...", as the kernel sends it to
// the audit daemon or the multicast group. Trailing NUL bytes are ignored.
func ParseNetlink(typ uint16, payload []byte, r *Record) error {
	for len(payload) > 0 && payload[len(payload)-1] == 0 {
		payload = payload[:len(payload)-1]
	}
	payload = trimEOL(payload)
	if err := precheck(payload); err != nil {
		return err
	}
	r.reset(payload)
	r.Type = typ
	if !bytes.HasPrefix(payload, []byte("audit(")) {
		return ErrNetlinkPayload
	}
	return r.parseAfterHeader(0)
}

func (r *Record) reset(line []byte) {
	r.Line = line
	r.Type = 0
	r.TypeName = Span{}
	r.Node = Span{}
	r.Sec, r.Msec, r.Serial = 0, 0, 0
	r.Body = Span{}
	r.Fields = r.Fields[:0]
	r.Enriched = r.Enriched[:0]
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func precheck(line []byte) error {
	if len(line) == 0 {
		return ErrEmpty
	}
	if len(line) > MaxLineLen {
		return ErrTooLong
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return ErrBinary
	}
	return nil
}

// plausibleTypeName accepts names a newer auditd may write that our table
// does not know yet: upper-case letters, digits and underscores.
func plausibleTypeName(b []byte) bool {
	if len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseAfterHeader parses "audit(S.MMM:N): body[\x1d enriched]" at pos.
func (r *Record) parseAfterHeader(pos int) error {
	line := r.Line
	if !bytes.HasPrefix(line[pos:], []byte("audit(")) {
		return ErrNoMsg
	}
	pos += 6
	// seconds
	start := pos
	for pos < len(line) && line[pos] >= '0' && line[pos] <= '9' {
		pos++
	}
	sec, ok := atou(line[start:pos], 1<<62)
	if !ok || pos >= len(line) || line[pos] != '.' {
		return ErrBadTimestamp
	}
	pos++
	// exactly three digits of milliseconds, as the kernel prints them
	if pos+4 > len(line) || !isDigit(line[pos]) || !isDigit(line[pos+1]) || !isDigit(line[pos+2]) || line[pos+3] != ':' {
		return ErrBadTimestamp
	}
	msec := uint16(line[pos]-'0')*100 + uint16(line[pos+1]-'0')*10 + uint16(line[pos+2]-'0')
	pos += 4
	start = pos
	for pos < len(line) && line[pos] >= '0' && line[pos] <= '9' {
		pos++
	}
	serial, ok := atou(line[start:pos], 1<<32-1)
	if !ok || pos >= len(line) || line[pos] != ')' {
		return ErrBadTimestamp
	}
	pos++
	// "): " as the kernel writes it; auditd 2.x wrote DAEMON_CONFIG as
	// "audit(...) config changed, ...", without the colon.
	if pos < len(line) && line[pos] == ':' {
		pos++
	} else if pos < len(line) && line[pos] != ' ' {
		return ErrBadTimestamp
	}
	if pos < len(line) && line[pos] == ' ' {
		pos++
	}
	r.Sec, r.Msec, r.Serial = int64(sec), msec, uint32(serial)

	end := len(line)
	if i := bytes.IndexByte(line[pos:], EnrichedSeparator); i >= 0 {
		end = pos + i
		var err error
		r.Enriched, err = parseFields(line, end+1, len(line), 0, r.Enriched, false)
		if err != nil {
			return err
		}
	}
	// auditd writes a space before the separator on some record types
	bodyEnd := end
	for bodyEnd > pos && line[bodyEnd-1] == ' ' {
		bodyEnd--
	}
	r.Body = Span{int32(pos), int32(bodyEnd - pos)}
	var err error
	r.Fields, err = parseFields(line, pos, bodyEnd, 0, r.Fields, true)
	return err
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func indexSpace(b []byte, from int) int {
	if i := bytes.IndexByte(b[from:], ' '); i >= 0 {
		return from + i
	}
	return -1
}

// parseFields appends the key=value fields of line[pos:end] to dst.
// nested enables msg='...' parsing (top level only).
func parseFields(line []byte, pos, end int, depth uint8, dst []Field, nested bool) ([]Field, error) {
	for {
		for pos < end && line[pos] == ' ' {
			pos++
		}
		if pos >= end {
			return dst, nil
		}
		if len(dst) >= MaxFields {
			return dst, ErrTooManyFields
		}
		// find '=' or the end of the token
		tok := pos
		eq := -1
		for i := pos; i < end; i++ {
			c := line[i]
			if c == '=' {
				eq = i
				break
			}
			if c == ' ' || c == '"' || c == '\'' {
				break
			}
		}
		if eq <= tok {
			// keyless text: absorb every following token without '='
			textEnd := tokenEnd(line, pos, end)
			for {
				next := textEnd
				for next < end && line[next] == ' ' {
					next++
				}
				if next >= end || hasKey(line, next, end) {
					break
				}
				textEnd = tokenEnd(line, next, end)
			}
			dst = append(dst, Field{Val: Span{int32(tok), int32(textEnd - tok)}, Kind: Text, Depth: depth})
			pos = textEnd
			continue
		}
		key := Span{int32(tok), int32(eq - tok)}
		pos = eq + 1
		if pos >= end {
			dst = append(dst, Field{Key: key, Val: Span{int32(pos), 0}, Depth: depth})
			return dst, nil
		}
		switch line[pos] {
		case '"':
			q := bytes.IndexByte(line[pos+1:end], '"')
			if q < 0 {
				// A line cut short (or a stray quote): the value runs to
				// the end, as ausearch reads it.
				q = end - pos - 1
			}
			vend := pos + 1 + q
			dst = append(dst, Field{Key: key, Val: Span{int32(pos + 1), int32(q)}, Kind: Quoted, Depth: depth})
			pos = vend + 1
			if pos < end && line[pos] != ' ' {
				// Stray bytes after the closing quote (a0="x"'): dropped.
				pos = tokenEnd(line, pos, end)
			}
		case '\'':
			if !nested {
				// a quote inside user text at depth 1: keep it as a plain word
				vend := tokenEnd(line, pos, end)
				dst = append(dst, Field{Key: key, Val: Span{int32(pos), int32(vend - pos)}, Depth: depth})
				pos = vend
				continue
			}
			q := bytes.LastIndexByte(line[pos+1:end], '\'')
			if q < 0 {
				// Unclosed (a line cut short): the rest of the line, less a
				// last word without '=' (a key cut before its '=' must not
				// be read as part of the value before it).
				q = end - pos - 1
				if sp := bytes.LastIndexByte(line[pos+1:end], ' '); sp >= 0 && bytes.IndexByte(line[pos+1+sp:end], '=') < 0 {
					q = sp
				}
			}
			vstart, vend := pos+1, pos+1+q
			dst = append(dst, Field{Key: key, Val: Span{int32(vstart), int32(vend - vstart)}, Kind: Nested, Depth: depth})
			mark := len(dst)
			var err error
			dst, err = parseFields(line, vstart, vend, depth+1, dst, false)
			if err != nil {
				// free-form user text: the msg value stays, its parts do not
				dst = dst[:mark]
				if err == ErrTooManyFields {
					return dst, err
				}
			}
			pos = vend + 1
		case '{':
			c := bytes.IndexByte(line[pos:end], '}')
			if c < 0 {
				c = end - pos // unclosed: the rest of the line
			}
			vstart, vend := pos+1, pos+c
			for vstart < vend && line[vstart] == ' ' {
				vstart++
			}
			for vend > vstart && line[vend-1] == ' ' {
				vend--
			}
			dst = append(dst, Field{Key: key, Val: Span{int32(vstart), int32(vend - vstart)}, Kind: Braced, Depth: depth})
			pos = pos + c + 1
		default:
			vend := tokenEnd(line, pos, end)
			// unquoted multi-word values (op=adding user acct=...), which
			// user-space tools write inside msg='...'; the kernel never does
			for depth > 0 {
				next := vend
				for next < end && line[next] == ' ' {
					next++
				}
				if next >= end || hasKey(line, next, end) || line[next] == '"' || line[next] == '\'' {
					break
				}
				vend = tokenEnd(line, next, end)
			}
			dst = append(dst, Field{Key: key, Val: Span{int32(pos), int32(vend - pos)}, Depth: depth})
			pos = vend
		}
	}
}

// tokenEnd returns the index of the first space at or after pos, or end.
func tokenEnd(line []byte, pos, end int) int {
	if i := bytes.IndexByte(line[pos:end], ' '); i >= 0 {
		return pos + i
	}
	return end
}

// hasKey reports whether the token at pos starts with "key=".
func hasKey(line []byte, pos, end int) bool {
	for i := pos; i < end; i++ {
		switch line[i] {
		case '=':
			return i > pos
		case ' ', '"', '\'':
			return false
		}
	}
	return false
}
