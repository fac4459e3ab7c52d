package containers

import (
	"cmp"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config sets up a Lookup. The zero value looks at the host's files.
type Config struct {
	// Root is prefixed to every path (default "/"): a test tree, or the
	// host's root mounted in a container.
	Root string
	// MaxEntries bounds the containers and, separately, the pods
	// remembered (default 8192). It should exceed the containers a node
	// has: past it the least recently asked, those gone from disk first,
	// are forgotten.
	MaxEntries int
	// MaxMisses bounds the unknown ids and pod uids remembered, each
	// (default 4096); when full, the remembered misses are forgotten.
	MaxMisses int
	// Refresh is the least time between two looks at the directories
	// (default 2 s). A look stats each directory and lists again only one
	// that changed (mtime or inode) since it was last listed, or whose
	// last listing cannot be trusted. An unknown id is answered from the
	// negative cache until a look finds a change. Negative: look at every
	// miss.
	Refresh time.Duration
	// MaxConfigBytes is how much of a config.v2.json is read at most
	// (default 1 MiB).
	MaxConfigBytes int64
	// NoDocker leaves /var/lib/docker alone.
	NoDocker bool
}

// Stats counts what a Lookup did.
type Stats struct {
	Containers, Pods int    // entries held
	Hits             uint64 // answers from the cache
	Misses           uint64 // not found
	NegativeHits     uint64 // misses answered by the negative cache (part of Misses)
	Looks            uint64 // looks at the directories (a stat of each watched one)
	Listings         uint64 // directory listings read
	DockerReads      uint64 // config.v2.json files opened
	BadNames         uint64 // entries of /var/log/containers or /var/log/pods that do not parse
	Evicted          uint64 // entries forgotten to stay within MaxEntries
	Overflow         uint64 // directory entries not learnt for want of room
}

// settle is how recent a directory's mtime may be and its listing still
// be trusted: an entry added within the timestamp granularity of the
// listing could leave the mtime unchanged.
const settle = time.Second

// Lookup names container ids and pod uids. It is safe for concurrent use.
//
// A hit (an id already known) neither allocates nor touches the file
// system. Names of an id never change (an id is never reused), so entries
// do not expire: a container that exited, whose /var/log/containers link
// the kubelet removes when it garbage-collects the container, stays named
// as long as it stays in the cache, that is until MaxEntries forces it
// out (containers gone from disk first, least recently asked first). A
// container that came and went between two looks, never asked about and
// never listed, is not known. Call Tick regularly so that every container
// is listed while its link exists.
type Lookup struct {
	mu        sync.Mutex
	cfg       Config
	now       func() time.Time
	settle    time.Duration
	byID      map[string]*entry // container id → names
	pods      map[string]*entry // pod uid → pod names
	missID    map[string]uint64 // id → generation at which it was not found
	missPod   map[string]uint64
	gen       uint64 // bumped when a look finds a change
	clock     uint64 // counts answers, for least recently used
	looked    bool
	last      time.Time
	logs      dirWatch // /var/log/containers
	docker    dirWatch // /var/lib/docker/containers
	podsDir   dirWatch // /var/log/pods, watched once a pod is asked for
	watchPods bool
	stats     Stats
}

type entry struct {
	names  Names
	used   uint64 // clock of the last answer or learning
	listed uint64 // the listing of its directory that last saw it, 0 if none
	log    bool   // Kubernetes names from a log link (else from Docker labels)
}

type dirWatch struct {
	path      string
	exists    bool
	ino       uint64
	mtime     time.Time
	untrusted bool   // list again at the next look
	listing   uint64 // listings made
	complete  uint64 // the last listing that read every name
}

// New returns a Lookup over cfg's files. It touches nothing until asked.
func New(cfg Config) *Lookup {
	if cfg.Root == "" {
		cfg.Root = "/"
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 8192
	}
	if cfg.MaxMisses <= 0 {
		cfg.MaxMisses = 4096
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = 2 * time.Second
	}
	if cfg.MaxConfigBytes <= 0 {
		cfg.MaxConfigBytes = 1 << 20
	}
	return &Lookup{
		cfg:     cfg,
		now:     time.Now,
		settle:  settle,
		byID:    make(map[string]*entry),
		pods:    make(map[string]*entry),
		missID:  make(map[string]uint64),
		missPod: make(map[string]uint64),
		logs:    dirWatch{path: filepath.Join(cfg.Root, "var/log/containers")},
		podsDir: dirWatch{path: filepath.Join(cfg.Root, "var/log/pods")},
		docker:  dirWatch{path: filepath.Join(cfg.Root, "var/lib/docker/containers")},
	}
}

// Name returns what is known of the container id (64 lowercase hex
// digits, as in cgroup paths).
func (l *Lookup) Name(id string) (Names, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.byID[id]; e != nil {
		return l.hit(e).names, true
	}
	return l.missName(id)
}

// Pod returns the pod whose uid is uid (as in /var/log/pods, with dashes):
// PodName, Namespace and PodID; ContainerName is empty.
func (l *Lookup) Pod(uid string) (Kubernetes, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.pods[uid]; e != nil {
		return l.hit(e).names.Kubernetes, true
	}
	return l.missPodUID(uid)
}

// Cgroup names the container of a parsed cgroup path: by its container id
// first, then, when the id is unknown (the pod's pause container, a link
// already removed, or a name cut by the kubelet's 255-byte limit), by its
// pod uid, which gives the pod but no container name. A pod uid from the
// path fills a missing PodID; the path's runtime fills a missing Runtime.
// When nothing is found, the result still carries the path's runtime.
func (l *Lookup) Cgroup(c Cgroup) (Names, bool) {
	if c.ContainerID != "" {
		if n, ok := l.Name(c.ContainerID); ok {
			if n.Runtime == "" {
				n.Runtime = c.Runtime
			}
			if n.Kubernetes.PodID == "" && n.Kubernetes.PodName != "" {
				n.Kubernetes.PodID = c.PodUID
			}
			return n, true
		}
	}
	if c.PodUID != "" {
		if k, ok := l.Pod(c.PodUID); ok {
			return Names{Runtime: c.Runtime, Kubernetes: k}, true
		}
	}
	return Names{Runtime: c.Runtime}, false
}

// Tick looks at the directories if Refresh has passed since the last look,
// so that containers are learnt while their links exist. Call it from an
// idle loop.
func (l *Lookup) Tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.look(l.now(), "")
}

// Stats returns the counters.
func (l *Lookup) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Containers, s.Pods = len(l.byID), len(l.pods)
	return s
}

func (l *Lookup) hit(e *entry) *entry {
	l.clock++
	e.used = l.clock
	l.stats.Hits++
	return e
}

// fresh reports whether the last look is recent enough to trust a miss.
func (l *Lookup) fresh(now time.Time) bool {
	return l.looked && l.cfg.Refresh > 0 && now.Sub(l.last) < l.cfg.Refresh
}

func (l *Lookup) missName(id string) (Names, bool) {
	g, known := l.missID[id] // only valid ids are remembered
	if !known && !ValidID(id) {
		l.stats.Misses++
		return Names{}, false
	}
	now := l.now()
	if known && g == l.gen && l.fresh(now) {
		l.stats.Misses++
		l.stats.NegativeHits++
		return Names{}, false
	}
	l.look(now, id)
	if e := l.byID[id]; e != nil {
		return l.hit(e).names, true
	}
	if g, known := l.missID[id]; known && g == l.gen {
		// Nothing changed since this id was last tried.
		l.stats.Misses++
		l.stats.NegativeHits++
		return Names{}, false
	}
	if l.docker.exists {
		if c, ok := l.readDocker(id); ok {
			l.room(false, true)
			e := l.put(l.byID, strings.Clone(id))
			e.names = Names{Runtime: "docker", Docker: c.docker, Kubernetes: c.kube}
			return e.names, true
		}
	}
	l.stats.Misses++
	remember(l.missID, id, l.gen, l.cfg.MaxMisses)
	return Names{}, false
}

func (l *Lookup) missPodUID(uid string) (Kubernetes, bool) {
	if !validUID(uid) {
		l.stats.Misses++
		return Kubernetes{}, false
	}
	if !l.watchPods {
		// The first pod asked for: watch /var/log/pods from now on, and
		// list it now.
		l.watchPods, l.podsDir.untrusted, l.looked = true, true, false
	}
	now := l.now()
	g, known := l.missPod[uid]
	if !known || g != l.gen || !l.fresh(now) {
		l.look(now, "")
		if e := l.pods[uid]; e != nil {
			return l.hit(e).names.Kubernetes, true
		}
	}
	l.stats.Misses++
	if known && g == l.gen {
		l.stats.NegativeHits++
	}
	remember(l.missPod, uid, l.gen, l.cfg.MaxMisses)
	return Kubernetes{}, false
}

func remember(m map[string]uint64, k string, gen uint64, max int) {
	if _, ok := m[k]; !ok {
		if len(m) >= max {
			clear(m)
		}
		k = strings.Clone(k)
	}
	m[k] = gen
}

// look stats the directories, at most once per Refresh, and lists those
// that changed. want is an id the caller is about to ask for: it is
// learnt even when a listing is larger than the bounds.
func (l *Lookup) look(now time.Time, want string) {
	if l.fresh(now) {
		return
	}
	l.looked, l.last = true, now
	l.stats.Looks++
	changed := false
	if l.check(&l.docker, !l.cfg.NoDocker) {
		changed = true
	}
	if l.check(&l.logs, true) {
		l.listLogs(want)
		changed = true
	}
	if l.watchPods && l.check(&l.podsDir, true) {
		l.listPods()
		changed = true
	}
	if changed {
		l.gen++
	}
}

// check stats d and reports whether it must be listed again.
func (l *Lookup) check(d *dirWatch, on bool) bool {
	if !on {
		return false
	}
	var exists bool
	var ino uint64
	var mtime time.Time
	if fi, err := os.Stat(d.path); err == nil && fi.IsDir() {
		exists, mtime = true, fi.ModTime()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
	}
	if exists == d.exists && ino == d.ino && mtime.Equal(d.mtime) && !d.untrusted {
		return false
	}
	d.exists, d.ino, d.mtime = exists, ino, mtime
	// An mtime this recent may not show an entry added right after it.
	d.untrusted = exists && time.Since(mtime) < l.settle
	return true
}

// listLogs reads /var/log/containers and learns the containers whose link
// name parses and that are not known yet, as long as there is room (see
// room); the id asked for (want) always gets in. Those left out are
// counted (Overflow) and the directory is listed again at the next look.
func (l *Lookup) listLogs(want string) {
	d := &l.logs
	l.each(d, func(name string) {
		ln, ok := ParseLogName(name)
		if !ok || !ValidID(ln.ContainerID) {
			l.stats.BadNames++
			return
		}
		e := l.byID[ln.ContainerID]
		if e == nil {
			if !l.room(false, ln.ContainerID == want) {
				l.stats.Overflow++
				d.untrusted = true
				return
			}
			e = l.put(l.byID, ln.ContainerID)
			if l.docker.exists {
				if c, ok := l.readDocker(ln.ContainerID); ok {
					e.names.Runtime, e.names.Docker = "docker", c.docker
				}
			}
		}
		e.listed = d.listing
		if !e.log {
			l.learnLog(e, name, ln)
		}
	})
}

// learnLog sets the Kubernetes names of e from its link, and learns the
// pod.
func (l *Lookup) learnLog(e *entry, name string, ln LogName) {
	target, _ := os.Readlink(filepath.Join(l.logs.path, name))
	e.log = true
	e.names.Kubernetes = Kubernetes{
		PodName:       ln.PodName,
		Namespace:     ln.Namespace,
		ContainerName: ln.ContainerName,
		PodID:         parseLogTarget(target, ln),
	}
	if uid := e.names.Kubernetes.PodID; uid != "" && l.pods[uid] == nil && l.room(true, false) {
		p := l.put(l.pods, uid)
		p.names.Kubernetes = Kubernetes{PodName: ln.PodName, Namespace: ln.Namespace, PodID: uid}
	}
}

// listPods reads /var/log/pods and learns the pods not known yet, as long
// as there is room.
func (l *Lookup) listPods() {
	d := &l.podsDir
	l.each(d, func(name string) {
		pd, ok := ParsePodDir(name)
		if !ok {
			l.stats.BadNames++
			return
		}
		e := l.pods[pd.PodUID]
		if e == nil {
			if !l.room(true, false) {
				l.stats.Overflow++
				d.untrusted = true
				return
			}
			e = l.put(l.pods, pd.PodUID)
			e.names.Kubernetes = Kubernetes{PodName: pd.PodName, Namespace: pd.Namespace, PodID: pd.PodUID}
		}
		e.listed = d.listing
	})
}

// each calls fn with every name in d, reading 256 names at a time, and
// counts the listing: d.listing is its number, d.complete that of the
// last listing that read every name.
func (l *Lookup) each(d *dirWatch, fn func(name string)) {
	d.listing++
	if !d.exists {
		d.complete = d.listing
		return
	}
	f, err := os.Open(d.path)
	if err != nil {
		d.untrusted = true
		return
	}
	defer f.Close()
	l.stats.Listings++
	for {
		names, err := f.Readdirnames(256)
		for _, name := range names {
			fn(name)
		}
		if err == io.EOF {
			d.complete = d.listing
			return
		}
		if err != nil {
			d.untrusted = true
			return
		}
	}
}

func (l *Lookup) readDocker(id string) (dockerConfig, bool) {
	l.stats.DockerReads++
	return readDockerConfig(filepath.Join(l.docker.path, id, "config.v2.json"), id, l.cfg.MaxConfigBytes)
}

func (l *Lookup) put(m map[string]*entry, key string) *entry {
	l.clock++
	e := &entry{used: l.clock}
	m[key] = e
	return e
}

// room reports whether the containers (or the pods) have room for one
// more entry, making it if it can. They are full at MaxEntries; then a
// tenth of them is forgotten: those gone from disk (not seen by the last
// complete listing of their directory) first, least recently used first.
// Entries still on disk are forgotten only when force is set (the entry
// asked for); their directory is then listed again at the next look, so
// that they are learnt back as room allows.
func (l *Lookup) room(pods, force bool) bool {
	m, d := l.byID, &l.logs
	if pods {
		m, d = l.pods, &l.podsDir
	}
	if len(m) < l.cfg.MaxEntries {
		return true
	}
	type victim struct {
		key    string
		onDisk bool
		used   uint64
	}
	vs := make([]victim, 0, len(m))
	for k, e := range m {
		vs = append(vs, victim{k, e.listed != 0 && e.listed >= d.complete, e.used})
	}
	slices.SortFunc(vs, func(a, b victim) int {
		if a.onDisk != b.onDisk {
			if a.onDisk {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.used, b.used)
	})
	n := 0
	for _, v := range vs[:max(len(m)-l.cfg.MaxEntries*9/10, 1)] {
		if v.onDisk {
			if !force {
				break
			}
			d.untrusted = true
		}
		delete(m, v.key)
		l.stats.Evicted++
		n++
	}
	return n > 0
}
