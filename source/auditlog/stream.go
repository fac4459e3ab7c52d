package auditlog

// StreamOf returns the stream (one per followed path) that position p
// belongs to, or -1 for a position of no file this File opened.
func (f *Tail) StreamOf(p Pos) int {
	fo, ok := f.gens[p.Gen()]
	if !ok {
		return -1
	}
	for i, s := range f.streams {
		if s == fo.stream {
			return i
		}
	}
	return -1
}

// Before reports whether a comes before b in the same stream (an older
// file of the stream, or an earlier offset in the same file).
func (f *Tail) Before(a, b Pos) bool {
	fa, oka := f.gens[a.Gen()]
	fb, okb := f.gens[b.Gen()]
	if !oka || !okb || fa.stream != fb.stream {
		return false
	}
	if fa.seq != fb.seq {
		return fa.seq < fb.seq
	}
	return a.Offset() < b.Offset()
}
