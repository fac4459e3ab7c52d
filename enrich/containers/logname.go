package containers

import (
	"strings"
	"unicode/utf8"
)

// LogName is what the name of a file in /var/log/containers says about a
// container. The kubelet names the file
// <pod_name>_<namespace>_<container_name>-<container_id>.log.
type LogName struct {
	PodName       string
	Namespace     string
	ContainerName string
	ContainerID   string
}

// logTail is the fixed end of a log file name: "-", 64 id characters and
// ".log".
const logTail = 1 + 64 + len(".log")

// ParseLogName splits the name of a file of /var/log/containers (the base
// name, without directory) the way Fluent Bit's kubernetes filter splits
// its tag (KUBE_TAG_TO_REGEX in plugins/filter_kubernetes/kube_regex.h,
// matched by Onigmo with onig_search, so unanchored at the start):
//
//   - the container id is the 64 characters of [a-z0-9] between the last
//     "-" and the final ".log";
//   - the pod name is a DNS subdomain (labels of [a-z0-9-] that start and
//     end with a letter or digit, joined by dots), followed by "_";
//   - the namespace is everything up to the next "_" (at least one byte);
//   - the container name is everything between that "_" and the "-" before
//     the id (at least one byte; it may hold "_" and "-").
//
// As in Fluent Bit, the match starts at the leftmost position where it can:
// bytes before a valid pod name are skipped ("Xweb_ns_c-<id>.log" gives
// pod "web"), and a name with no valid split is not matched. The kubelet
// never writes such names.
//
// One deliberate difference: a name that is not valid UTF-8 or holds a
// control byte (below 0x20, or 0x7f) is never matched. The kubelet cannot
// write one (every part is a Kubernetes name or a hex id); Fluent Bit's
// answer for them depends on how Onigmo steps over invalid UTF-8 and on
// "$" matching before a newline, and they are not names worth reporting.
//
// The returned strings are substrings of name. ParseLogName does not
// allocate.
func ParseLogName(name string) (LogName, bool) {
	n := len(name)
	// Shortest match: "a_b_c-<id>.log".
	if n < 5+logTail || name[n-4:] != ".log" || name[n-logTail] != '-' {
		return LogName{}, false
	}
	id := name[n-logTail+1 : n-4]
	for i := 0; i < len(id); i++ {
		if !alnum(id[i]) {
			return LogName{}, false
		}
	}
	if !clean(name) {
		return LogName{}, false
	}
	end := n - logTail // the container name ends here
	for seg := 0; seg < end; {
		u1 := strings.IndexByte(name[seg:end], '_')
		if u1 < 0 {
			break
		}
		u1 += seg
		if s := podStart(name[seg:u1]); s >= 0 {
			u2 := strings.IndexByte(name[u1+1:end], '_')
			if u2 < 0 {
				break // no later start has two underscores either
			}
			u2 += u1 + 1
			if u2 > u1+1 && u2+1 < end {
				return LogName{
					PodName:       name[seg+s : u1],
					Namespace:     name[u1+1 : u2],
					ContainerName: name[u2+1 : end],
					ContainerID:   id,
				}, true
			}
		}
		seg = u1 + 1
	}
	return LogName{}, false
}

// podStart returns the smallest s such that seg[s:] is a DNS subdomain as
// Fluent Bit's pod_name group accepts it, or -1. Walking from the end, a
// byte that cannot be in a pod name, or a "." or "-" next to a "." ends
// every longer candidate.
func podStart(seg string) int {
	last := len(seg) - 1
	if last < 0 || !alnum(seg[last]) {
		return -1
	}
	best := -1
	for k := last; k >= 0; k-- {
		switch c := seg[k]; {
		case alnum(c):
			best = k
		case c == '-':
			if seg[k+1] == '.' {
				return best
			}
		case c == '.':
			if !alnum(seg[k+1]) {
				return best
			}
		default:
			return best
		}
	}
	return best
}

// validPodName reports whether s is a whole pod name as Fluent Bit's
// pod_name group accepts it (a DNS subdomain, without length limit).
func validPodName(s string) bool { return s != "" && podStart(s) == 0 }

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// clean reports whether s is valid UTF-8 without control bytes.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// PodDir is what the name of a directory of /var/log/pods says about a
// pod. The kubelet names it <namespace>_<pod_name>_<pod_uid>.
type PodDir struct {
	Namespace string
	PodName   string
	PodUID    string
}

// ParsePodDir splits the name of a directory of /var/log/pods. Namespace
// and pod names cannot hold "_", so the name has exactly three parts: the
// namespace (a DNS label), the pod name (a DNS subdomain) and the pod uid
// (a UUID, or the 32 hex digits the kubelet gives static pods; accepted as
// 1 to 64 of [0-9a-f-]). The strings are substrings of name.
func ParsePodDir(name string) (PodDir, bool) {
	i := strings.IndexByte(name, '_')
	if i < 0 {
		return PodDir{}, false
	}
	j := strings.IndexByte(name[i+1:], '_')
	if j < 0 {
		return PodDir{}, false
	}
	j += i + 1
	d := PodDir{Namespace: name[:i], PodName: name[i+1 : j], PodUID: name[j+1:]}
	if !validLabel(d.Namespace) || !validPodName(d.PodName) || !validUID(d.PodUID) {
		return PodDir{}, false
	}
	return d, true
}

// validLabel reports whether s is a DNS label (RFC 1123): 1 to 63 of
// [a-z0-9-], starting and ending with a letter or digit.
func validLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !alnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// validUID reports whether s looks like a pod uid: 1 to 64 of [0-9a-f-].
func validUID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// ValidID reports whether id is a container id as the runtimes write it in
// cgroup paths and file names: 64 lowercase hex digits.
func ValidID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for i := 0; i < 64; i++ {
		if !isHex(id[i]) {
			return false
		}
	}
	return true
}

// parseLogTarget reads the pod uid from the target of a
// /var/log/containers symlink, .../<namespace>_<pod>_<uid>/<container>/<n>.log,
// when the directories agree with the link's own name.
func parseLogTarget(target string, ln LogName) string {
	i := strings.LastIndexByte(target, '/')
	if i < 0 {
		return ""
	}
	file := target[i+1:]
	target = target[:i]
	i = strings.LastIndexByte(target, '/')
	if i < 0 || target[i+1:] != ln.ContainerName || !strings.HasSuffix(file, ".log") {
		return ""
	}
	target = target[:i]
	pd, ok := ParsePodDir(target[strings.LastIndexByte(target, '/')+1:])
	if !ok || pd.Namespace != ln.Namespace || pd.PodName != ln.PodName {
		return ""
	}
	return pd.PodUID
}
