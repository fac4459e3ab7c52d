package enrich

import (
	"bufio"
	"bytes"
	"os"
	"os/user"
	"strconv"
	"time"
)

// unsetID is the kernel's "no id" (auid and ses before login).
const unsetID = 4294967295

// Names resolves user and group ids of this host to names ("" unknown,
// "unset" for 4294967295). HostNames is the real one; tests can give
// fixed answers.
type Names interface {
	User(id uint64) string
	Group(id uint64) string
	// UserID and GroupID find the id of a name.
	UserID(name string) (uint64, bool)
	GroupID(name string) (uint64, bool)
}

// HostNames resolves uids and gids to names on this host: /etc/passwd and
// /etc/group (re-read when they change, checked at most every 10 s), then
// the system's resolver (NSS: LDAP, sssd) for ids not in the files, with a
// bounded cache including misses. Names from a record's enriched suffix
// (the origin host's truth) are preferred by the caller.
type HostNames struct {
	root             string
	users, groups    map[uint32]string
	uids, gids       map[string]uint32
	extra            map[uint64]string // resolver results, key kind<<32|id
	extraUIDs        map[string]int64  // resolver results by user name, -1 unknown
	extraGIDs        map[string]int64  // by group name
	checked          time.Time
	pwMtime, grMtime time.Time
	noResolver       bool
	calls            uint32
}

const maxIDCache = 8192

// NewHostNames reads root+/etc/passwd and root+/etc/group ("" for this
// host's, with the system resolver behind them; any other root is a
// test's fixed world and has no resolver).
func NewHostNames(root string) *HostNames {
	return &HostNames{root: root, extra: map[uint64]string{}, extraUIDs: map[string]int64{}, extraGIDs: map[string]int64{}, noResolver: root != ""}
}

func (n *HostNames) refresh() {
	if n.calls++; n.calls&1023 != 0 && n.users != nil {
		return
	}
	now := time.Now()
	if now.Sub(n.checked) < 10*time.Second && n.users != nil {
		return
	}
	n.checked = now
	if st, err := os.Stat(n.root + "/etc/passwd"); err == nil && (n.users == nil || !st.ModTime().Equal(n.pwMtime)) {
		n.pwMtime = st.ModTime()
		n.users, n.uids = readIDFile(n.root + "/etc/passwd")
		clear(n.extra)
		clear(n.extraUIDs)
		clear(n.extraGIDs)
	} else if n.users == nil {
		n.users, n.uids = map[uint32]string{}, map[string]uint32{}
	}
	if st, err := os.Stat(n.root + "/etc/group"); err == nil && (n.groups == nil || !st.ModTime().Equal(n.grMtime)) {
		n.grMtime = st.ModTime()
		n.groups, n.gids = readIDFile(n.root + "/etc/group")
		clear(n.extra)
		clear(n.extraUIDs)
		clear(n.extraGIDs)
	} else if n.groups == nil {
		n.groups, n.gids = map[uint32]string{}, map[string]uint32{}
	}
}

func readIDFile(path string) (map[uint32]string, map[string]uint32) {
	m, ids := map[uint32]string{}, map[string]uint32{}
	f, err := os.Open(path)
	if err != nil {
		return m, ids
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(m) < 1<<16 {
		parts := bytes.SplitN(sc.Bytes(), []byte(":"), 4)
		if len(parts) < 3 || len(parts[0]) == 0 {
			continue
		}
		id, err := strconv.ParseUint(string(parts[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := m[uint32(id)]; !dup {
			m[uint32(id)] = string(parts[0])
		}
		if _, dup := ids[string(parts[0])]; !dup {
			ids[string(parts[0])] = uint32(id)
		}
	}
	return m, ids
}

// UserID returns the uid of a user name.
func (n *HostNames) UserID(name string) (uint64, bool) { return n.id(name, false) }

// GroupID returns the gid of a group name.
func (n *HostNames) GroupID(name string) (uint64, bool) { return n.id(name, true) }

func (n *HostNames) id(name string, group bool) (uint64, bool) {
	if name == "" {
		return 0, false
	}
	n.refresh()
	m := n.uids
	if group {
		m = n.gids
	}
	if id, ok := m[name]; ok {
		return uint64(id), true
	}
	if n.noResolver {
		return 0, false
	}
	cache := n.extraUIDs
	if group {
		cache = n.extraGIDs
	}
	if id, ok := cache[name]; ok {
		return uint64(id), id >= 0
	}
	id := int64(-1)
	if group {
		if g, err := user.LookupGroup(name); err == nil {
			if v, err := strconv.ParseUint(g.Gid, 10, 32); err == nil {
				id = int64(v)
			}
		}
	} else if u, err := user.Lookup(name); err == nil {
		if v, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
			id = int64(v)
		}
	}
	if len(cache) >= maxIDCache {
		clear(cache)
	}
	cache[name] = id
	return uint64(id), id >= 0
}

// User returns the name of uid ("unset" for 4294967295, "" if unknown).
func (n *HostNames) User(id uint64) string { return n.name(id, false) }

// Group returns the name of gid.
func (n *HostNames) Group(id uint64) string { return n.name(id, true) }

func (n *HostNames) name(id uint64, group bool) string {
	if id == unsetID || id == 1<<64-1 { // 4294967295, or -1 as OBJ_PID logs it
		return "unset"
	}
	if id > unsetID {
		return ""
	}
	n.refresh()
	m := n.users
	if group {
		m = n.groups
	}
	if s, ok := m[uint32(id)]; ok {
		return s
	}
	if n.noResolver {
		return ""
	}
	k := id
	if group {
		k |= 1 << 32
	}
	if s, ok := n.extra[k]; ok {
		return s
	}
	var s string
	if group {
		if g, err := user.LookupGroupId(strconv.FormatUint(id, 10)); err == nil {
			s = g.Name
		}
	} else if u, err := user.LookupId(strconv.FormatUint(id, 10)); err == nil {
		s = u.Username
	}
	if len(n.extra) >= maxIDCache {
		clear(n.extra)
	}
	n.extra[k] = s
	return s
}
