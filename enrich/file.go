package enrich

import (
	"strconv"

	"github.com/whokilledit/linuxaudit/parser"
)

// File is what a file syscall did.
type File struct {
	Op    FileOp
	Flags []byte // decoded open flags (O_WRONLY|O_CREAT...), nil if none
	Items []FileItem
	// Primary is the item the event is about; From the old name of a
	// rename; Replaced the file a rename replaced; LinkTarget the item
	// holding a symlink's content. -1: none.
	Primary, From, Replaced, LinkTarget int
	NewMode                             uint64 // chmod
	HasMode                             bool
	NewUID, NewGID                      int64 // chown (-1: unchanged)
	NewUser, NewGroup                   []byte
	HasOwner                            bool
	FD                                  int64 // fd-based syscalls (fchmod...) without a PATH
	HasFD                               bool
}

// FileItem is one PATH record resolved against the event's CWD.
type FileItem struct {
	Item     int64
	Nametype string
	Name     []byte // decoded name as logged; nil when none
	Path     []byte // cleaned absolute path; nil when not resolved
	// DirFD is the directory fd a relative name was relative to (not
	// AT_FDCWD), when the path could not be resolved.
	DirFD       int64
	LinkContent bool // symlink: this item is the link's content, not a path
	Inode       int64
	HasInode    bool
	InodeRaw    []byte
	Dev         []byte
	Mode        uint64 // file type and permission bits
	ModeRaw     []byte
	HasMode     bool
	OUID, OGID  ID
	Obj         []byte
}

const atFDCWD = -100

// open flags (asm-generic; x86, arm, arm64, s390, riscv, ppc share them).
var openFlagNames = []struct {
	bit  uint64
	name string
}{
	{0o100, "O_CREAT"}, {0o200, "O_EXCL"}, {0o400, "O_NOCTTY"}, {0o1000, "O_TRUNC"},
	{0o2000, "O_APPEND"}, {0o4000, "O_NONBLOCK"}, {0o10000, "O_DSYNC"}, {0o20000, "O_ASYNC"},
	{0o40000, "O_DIRECT"}, {0o200000, "O_DIRECTORY"}, {0o400000, "O_NOFOLLOW"},
	{0o1000000, "O_NOATIME"}, {0o2000000, "O_CLOEXEC"}, {0o10000000, "O_PATH"}, {0o20000000, "O_TMPFILE"},
}

// fileEvent fills m.File for a file syscall (or any event with PATH
// records) and reports whether it is one.
func (e *Enricher) fileEvent(m *Model) bool {
	f, s := &m.File, &m.Syscall
	f.Primary, f.From, f.Replaced, f.LinkTarget = -1, -1, -1, -1
	fs, known := fileSyscalls[s.Name]
	op := fs.op
	if !known {
		fs.flagsArg, fs.dirfd = -1, -1
		if len(e.paths) == 0 {
			return false
		}
		op = OpAccess
	}
	// Resolve every PATH item.
	for _, r := range e.paths {
		f.Items = append(f.Items, e.fileItem(m, r, op, fs.dirfd))
		if f.Items[len(f.Items)-1].LinkContent {
			f.LinkTarget = len(f.Items) - 1
		}
	}
	f.pick(op)
	// Operation details.
	switch op {
	case opOpen, opCreat:
		var flags uint64
		if op == opCreat {
			flags = 0o1 | 0o100 | 0o1000
		} else if fs.flagsArg >= 0 && s.HasA[fs.flagsArg] {
			flags = s.A[fs.flagsArg]
		}
		created := f.Primary >= 0 && f.Items[f.Primary].Nametype == "CREATE"
		switch {
		case created:
			op = OpCreate
		case flags&0o1000 != 0 && flags&3 != 0:
			op = OpTruncateOpen
		case flags&0o2000 != 0:
			op = OpAppend
		case flags&3 != 0:
			op = OpWrite
		default:
			op = OpRead
		}
		if fs.flagsArg >= 0 || s.Name == "creat" {
			f.Flags = m.arena.keep(appendOpenFlags(m.arena.room(256), flags))
		}
	case OpChmod:
		arg := 1
		if s.Name == "fchmodat" || s.Name == "fchmodat2" {
			arg = 2
		}
		if s.HasA[arg] {
			f.NewMode, f.HasMode = s.A[arg]&0o7777, true
		}
	case OpChown:
		u, g := 1, 2
		if s.Name == "fchownat" {
			u, g = 2, 3
		}
		if s.HasA[u] && s.HasA[g] {
			f.NewUID, f.NewGID, f.HasOwner = int64(int32(uint32(s.A[u]))), int64(int32(uint32(s.A[g]))), true
			if f.NewUID >= 0 {
				if n := e.names.User(uint64(f.NewUID)); n != "" {
					f.NewUser = m.arena.str(n)
				}
			}
			if f.NewGID >= 0 {
				if n := e.names.Group(uint64(f.NewGID)); n != "" {
					f.NewGroup = m.arena.str(n)
				}
			}
		}
	}
	switch s.Name {
	case "fchmod", "fchown", "fchown32", "fsetxattr", "fremovexattr", "ftruncate", "ftruncate64":
		if s.HasA[0] {
			f.FD, f.HasFD = int64(int32(uint32(s.A[0]))), true
		}
	}
	if op == OpDelete && s.Name == "unlinkat" && s.HasA[2] && s.A[2]&0x200 != 0 {
		op = OpRmdir
	}
	f.Op = op
	return true
}

// fileItem resolves one PATH record.
func (e *Enricher) fileItem(m *Model, r *parser.Record, op FileOp, dirfdArg int) FileItem {
	s := &m.Syscall
	it := FileItem{DirFD: atFDCWD}
	it.Item, _ = fieldInt(r, "item")
	if nt, ok := r.Value("nametype"); ok {
		it.Nametype = nametypeName(nt)
	}
	if fl, ok := r.Field("name"); ok && !(fl.Kind == parser.Plain && string(r.Bytes(fl.Val)) == "(null)") {
		it.Name = m.arena.untrusted(r, fl)
		name := it.Name
		switch {
		case op == OpSymlink && it.Nametype == "UNKNOWN":
			it.LinkContent = true
		case len(name) > 0 && name[0] == '/':
			it.Path = m.arena.keep(cleanPath(m.arena.room(len(name)+1), name))
		default:
			dfd := int64(atFDCWD)
			if dirfdArg >= 0 && s.HasA[dirfdArg] {
				dfd = int64(int32(uint32(s.A[dirfdArg])))
				// renameat/linkat: the new name is relative to a2.
				if (op == OpRename || op == OpLink) && it.Nametype == "CREATE" && s.HasA[2] {
					dfd = int64(int32(uint32(s.A[2])))
				}
			}
			if dfd == atFDCWD && m.Process.Cwd != nil {
				e.tmp = append(append(append(e.tmp[:0], m.Process.Cwd...), '/'), name...)
				it.Path = m.arena.keep(cleanPath(m.arena.room(len(e.tmp)+1), e.tmp))
			} else {
				it.DirFD = dfd
			}
		}
	}
	if v, ok := r.Value("inode"); ok {
		it.InodeRaw = v
		it.Inode, it.HasInode = parseInt(v)
	}
	it.Dev, _ = r.Value("dev")
	if v, ok := r.Value("mode"); ok {
		if mv, err := strconv.ParseUint(string(v), 8, 32); err == nil {
			it.Mode, it.ModeRaw, it.HasMode = mv, v, true
		}
	}
	it.OUID = e.id(m, r, idFields["ouid"])
	it.OGID = e.id(m, r, idFields["ogid"])
	it.Obj, _ = r.Value("obj")
	return it
}

// pick chooses the primary item (and a rename's old and replaced names).
func (f *File) pick(op FileOp) {
	for i := range f.Items {
		switch f.Items[i].Nametype {
		case "CREATE":
			if f.Primary < 0 || f.Items[f.Primary].Nametype != "CREATE" {
				f.Primary = i
			}
		case "DELETE":
			if op == OpRename {
				if f.From < 0 {
					f.From = i
				} else {
					f.Replaced = i
				}
			} else if f.Primary < 0 || f.Items[f.Primary].Nametype == "NORMAL" {
				f.Primary = i
			}
		case "NORMAL", "UNKNOWN":
			if f.Primary < 0 && !f.Items[i].LinkContent {
				f.Primary = i
			}
		}
	}
	if op == OpRename && f.Replaced >= 0 && f.From >= 0 && f.Primary >= 0 {
		// The kernel logs the old name before the replaced target: the
		// replaced one has the created name.
		a, b, p := f.Items[f.From].Name, f.Items[f.Replaced].Name, f.Items[f.Primary].Name
		if !(a != nil && b != nil && string(b) == string(p)) && string(a) == string(p) {
			f.From, f.Replaced = f.Replaced, f.From
		}
	}
	if f.Primary < 0 {
		for i := range f.Items {
			if f.Items[i].Nametype != "PARENT" && !f.Items[i].LinkContent {
				f.Primary = i
				break
			}
		}
	}
	if f.Primary < 0 {
		// Only a PARENT left (a failed create): the directory it was in.
		for i := range f.Items {
			if f.Items[i].Nametype == "PARENT" {
				f.Primary = i
				break
			}
		}
	}
}

// appendOpenFlags names open(2) flags: O_RDONLY|O_CREAT...
func appendOpenFlags(b []byte, flags uint64) []byte {
	switch flags & 3 {
	case 0:
		b = append(b, "O_RDONLY"...)
	case 1:
		b = append(b, "O_WRONLY"...)
	default:
		b = append(b, "O_RDWR"...)
	}
	for _, fl := range openFlagNames {
		if flags&fl.bit != 0 && !(fl.bit == 0o200000 && flags&0o20000000 != 0) {
			b = append(append(b, '|'), fl.name...)
		}
	}
	return b
}

func nametypeName(b []byte) string {
	switch string(b) {
	case "NORMAL":
		return "NORMAL"
	case "PARENT":
		return "PARENT"
	case "CREATE":
		return "CREATE"
	case "DELETE":
		return "DELETE"
	case "UNKNOWN":
		return "UNKNOWN"
	}
	return "OTHER"
}

// cleanPath appends the lexically cleaned form of the absolute path p to
// dst (like path.Clean: no //, ., or ..; ".." at the root stays at root).
// The result is at most len(p)+1 bytes.
func cleanPath(dst, p []byte) []byte {
	start := len(dst)
	dst = append(dst, '/')
	for i := 0; i < len(p); {
		for i < len(p) && p[i] == '/' {
			i++
		}
		j := i
		for j < len(p) && p[j] != '/' {
			j++
		}
		seg := p[i:j]
		i = j
		switch {
		case len(seg) == 0 || (len(seg) == 1 && seg[0] == '.'):
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			// drop the last element
			k := len(dst) - 1
			for k > start && dst[k] != '/' {
				k--
			}
			dst = dst[:k]
			if len(dst) == start {
				dst = append(dst, '/')
			}
		default:
			if len(dst) > start+1 {
				dst = append(dst, '/')
			}
			dst = append(dst, seg...)
		}
	}
	return dst
}

// modeType names the file type bits of a mode.
func modeType(m uint64) string {
	switch m & 0o170000 {
	case 0o100000:
		return "file"
	case 0o040000:
		return "dir"
	case 0o120000:
		return "link"
	case 0o020000:
		return "character-device"
	case 0o060000:
		return "block-device"
	case 0o010000:
		return "fifo"
	case 0o140000:
		return "socket"
	}
	return ""
}
