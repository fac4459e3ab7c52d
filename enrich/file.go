package enrich

import (
	"github.com/whokilledit/linuxaudit/parser"
)

// fileItem is one PATH record resolved against the event's CWD.
type fileItem struct {
	rec      *parser.Record
	item     int64
	nametype string
	name     [2]int // decoded name as logged, in fileOp.buf
	path     [2]int // cleaned absolute path, in fileOp.buf; empty when unknown
	resolved bool
	dirfd    int64 // the directory fd a relative name was relative to (not AT_FDCWD)
	target   bool  // symlink: this item is the link's content, not a path
}

// fileOp is what a file syscall did.
type fileOp struct {
	op       string // create, write, append, truncate, read, delete, rename, link, symlink, chmod, chown, xattr, times, mkdir, rmdir, mknod
	flags    [2]int // decoded open flags in buf
	items    []fileItem
	buf      []byte
	primary  int // index of the item the event is about, -1 if none
	from     int // rename: the old name's item, -1
	replaced int // rename over an existing file: the replaced item, -1
	newMode  uint64
	hasMode  bool
	newUID   int64
	newGID   int64
	hasOwner bool
	fd       int64 // fd-based syscalls (fchmod...) without a PATH
	hasFD    bool
	target   int // symlink: the item holding the link's content, -1
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

// fileSyscall returns the file operation of a syscall, the argument
// holding open flags (-1 none) and the dirfd argument (-1 none).
func fileSyscall(name string) (op string, flagsArg, dirfdArg int) {
	switch name {
	case "open":
		return "open", 1, -1
	case "openat":
		return "open", 2, 0
	case "openat2":
		return "open", -1, 0
	case "creat":
		return "creat", -1, -1
	case "unlink":
		return "delete", -1, -1
	case "unlinkat":
		return "delete", -1, 0
	case "rmdir":
		return "rmdir", -1, -1
	case "rename":
		return "rename", -1, -1
	case "renameat", "renameat2":
		return "rename", -1, 0
	case "link":
		return "link", -1, -1
	case "linkat":
		return "link", -1, 0
	case "symlink":
		return "symlink", -1, -1
	case "symlinkat":
		return "symlink", -1, 1
	case "chmod":
		return "chmod", -1, -1
	case "fchmod":
		return "chmod", -1, -1
	case "fchmodat", "fchmodat2":
		return "chmod", -1, 0
	case "chown", "lchown", "fchown", "chown32", "lchown32", "fchown32":
		return "chown", -1, -1
	case "fchownat":
		return "chown", -1, 0
	case "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat":
		return "xattr", -1, -1
	case "utime", "utimes", "futimesat", "utimensat", "utimensat_time64":
		if name == "futimesat" || name == "utimensat" || name == "utimensat_time64" {
			return "times", -1, 0
		}
		return "times", -1, -1
	case "truncate", "ftruncate", "truncate64", "ftruncate64":
		return "truncate", -1, -1
	case "mkdir":
		return "mkdir", -1, -1
	case "mkdirat":
		return "mkdir", -1, 0
	case "mknod":
		return "mknod", -1, -1
	case "mknodat":
		return "mknod", -1, 0
	}
	return "", -1, -1
}

// fileAction is the event.action (Elastic auditd naming) of an operation.
func fileAction(op string) string {
	switch op {
	case "create", "write", "append", "truncate-open", "read":
		return "opened-file"
	case "delete", "rmdir":
		return "deleted"
	case "rename":
		return "renamed"
	case "link", "symlink":
		return "linked"
	case "chmod":
		return "changed-file-permissions-of"
	case "chown":
		return "changed-file-ownership-of"
	case "xattr":
		return "changed-file-attributes-of"
	case "times":
		return "changed-timestamp-of"
	case "truncate":
		return "wrote-to-file"
	case "mkdir":
		return "created-directory"
	case "mknod":
		return "made-device"
	}
	return "opened-file"
}

// fileEvent fills v.file for a file syscall (or any event with PATH
// records) and reports whether it is one.
func (e *Enricher) fileEvent(v *view) bool {
	f := &v.file
	f.primary, f.from, f.replaced, f.target = -1, -1, -1, -1
	op, flagsArg, dirfdArg := fileSyscall(v.syscall)
	if op == "" && len(v.paths) == 0 {
		return false
	}
	if op == "" {
		op = "access"
	}
	// Resolve every PATH item.
	for _, r := range v.paths {
		it := fileItem{rec: r, dirfd: atFDCWD}
		it.item, _ = fieldInt(r, "item")
		if nt, ok := r.Value("nametype"); ok {
			it.nametype = nametypeName(nt)
		}
		if fl, ok := r.Field("name"); ok && !(fl.Kind == parser.Plain && string(r.Bytes(fl.Val)) == "(null)") {
			s := len(f.buf)
			f.buf, _ = r.Untrusted(f.buf, fl)
			it.name = [2]int{s, len(f.buf)}
			name := f.buf[s:len(f.buf)]
			ps := len(f.buf)
			switch {
			case op == "symlink" && it.nametype == "UNKNOWN":
				it.target = true
				f.target = len(f.items)
			case len(name) > 0 && name[0] == '/':
				f.buf = cleanPath(f.buf, name)
				it.resolved = true
			default:
				dfd := int64(atFDCWD)
				if dirfdArg >= 0 && v.hasA[dirfdArg] {
					dfd = int64(int32(uint32(v.a[dirfdArg])))
					// renameat/linkat: the new name is relative to a2.
					if (op == "rename" || op == "link") && it.nametype == "CREATE" && v.hasA[2] {
						dfd = int64(int32(uint32(v.a[2])))
					}
				}
				if dfd == atFDCWD && v.cwd != nil {
					f.buf = append(f.buf, v.cwd...)
					f.buf = append(f.buf, '/')
					f.buf = append(f.buf, name...)
					joined := f.buf[ps:]
					f.buf = cleanPath(f.buf, joined)
					// cleanPath appended after joined: move the result down.
					n := copy(f.buf[ps:], f.buf[ps+len(joined):])
					f.buf = f.buf[:ps+n]
					it.resolved = true
				} else {
					it.dirfd = dfd
				}
			}
			if it.resolved {
				it.path = [2]int{ps, len(f.buf)}
			}
		}
		f.items = append(f.items, it)
	}
	// Pick the item the event is about.
	for i := range f.items {
		switch f.items[i].nametype {
		case "CREATE":
			if f.primary < 0 || f.items[f.primary].nametype != "CREATE" {
				f.primary = i
			}
		case "DELETE":
			if op == "rename" {
				if f.from < 0 {
					f.from = i
				} else {
					f.replaced = i
				}
			} else if f.primary < 0 || f.items[f.primary].nametype == "NORMAL" {
				f.primary = i
			}
		case "NORMAL", "UNKNOWN":
			if f.primary < 0 && !f.items[i].target {
				f.primary = i
			}
		}
	}
	if op == "rename" && f.replaced >= 0 && f.from >= 0 {
		// The kernel logs the old name before the replaced target.
		a, b := f.items[f.from], f.items[f.replaced]
		if a.name != [2]int{} && b.name != [2]int{} && f.primary >= 0 &&
			string(f.buf[b.name[0]:b.name[1]]) == string(f.buf[f.items[f.primary].name[0]:f.items[f.primary].name[1]]) {
			// b is the replaced file (same name as the created one)
		} else if f.primary >= 0 && string(f.buf[a.name[0]:a.name[1]]) == string(f.buf[f.items[f.primary].name[0]:f.items[f.primary].name[1]]) {
			f.from, f.replaced = f.replaced, f.from
		}
	}
	if f.primary < 0 {
		for i := range f.items {
			if f.items[i].nametype != "PARENT" && !f.items[i].target {
				f.primary = i
				break
			}
		}
	}
	if f.primary < 0 {
		// Only a PARENT left (a failed create): the directory it was in.
		for i := range f.items {
			if f.items[i].nametype == "PARENT" {
				f.primary = i
				break
			}
		}
	}
	// Operation details.
	switch op {
	case "open", "creat":
		var flags uint64
		if op == "creat" {
			flags = 0o1 | 0o100 | 0o1000
		} else if flagsArg >= 0 && v.hasA[flagsArg] {
			flags = v.a[flagsArg]
		}
		created := f.primary >= 0 && f.items[f.primary].nametype == "CREATE"
		switch {
		case created:
			op = "create"
		case flags&0o1000 != 0 && flags&3 != 0:
			op = "truncate-open"
		case flags&0o2000 != 0:
			op = "append"
		case flags&3 != 0:
			op = "write"
		default:
			op = "read"
		}
		if flagsArg >= 0 || v.syscall == "creat" {
			s := len(f.buf)
			switch flags & 3 {
			case 0:
				f.buf = append(f.buf, "O_RDONLY"...)
			case 1:
				f.buf = append(f.buf, "O_WRONLY"...)
			default:
				f.buf = append(f.buf, "O_RDWR"...)
			}
			for _, fl := range openFlagNames {
				if flags&fl.bit != 0 && !(fl.bit == 0o200000 && flags&0o20000000 != 0) {
					f.buf = append(f.buf, '|')
					f.buf = append(f.buf, fl.name...)
				}
			}
			f.flags = [2]int{s, len(f.buf)}
		}
	case "chmod":
		arg := 1
		if v.syscall == "fchmodat" || v.syscall == "fchmodat2" {
			arg = 2
		}
		if v.hasA[arg] {
			f.newMode, f.hasMode = v.a[arg]&0o7777, true
		}
	case "chown":
		u, g := 1, 2
		if v.syscall == "fchownat" {
			u, g = 2, 3
		}
		if v.hasA[u] && v.hasA[g] {
			f.newUID, f.newGID, f.hasOwner = int64(int32(uint32(v.a[u]))), int64(int32(uint32(v.a[g]))), true
		}
	}
	switch v.syscall {
	case "fchmod", "fchown", "fchown32", "fsetxattr", "fremovexattr", "ftruncate", "ftruncate64":
		if v.hasA[0] {
			f.fd, f.hasFD = int64(int32(uint32(v.a[0]))), true
		}
	}
	if op == "delete" && v.syscall == "unlinkat" && v.hasA[2] && v.a[2]&0x200 != 0 {
		op = "rmdir"
	}
	f.op = op
	return true
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
