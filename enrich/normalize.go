package enrich

//go:generate go run ../internal/gen/normalizations -o normalize_gen.go

// normalization is one row of go-libaudit's normalization data (see
// normalize_gen.go): for the syscalls or record types it names, what
// Auditbeat calls the action, where it finds the actor, the object and
// how, what kind of object it is, and the ECS categorisation and user and
// group mappings.
type normalization struct {
	action           string
	objectWhat       string
	objectPathIndex  int
	subjectPrimary   []string
	subjectSecondary []string
	objectPrimary    []string
	objectSecondary  []string
	how              []string
	sourceIP         []string
	hasFields        []string
	syscalls         []string
	recordTypes      []string
	ecs              ecsNorm
}

type ecsNorm struct {
	kind     string
	category []string
	typ      []string
	mappings []ecsMapping
}

// ecsMapping copies a value (subject.primary, object.primary, data.KEY,
// uid.KEY...) to an ECS entity (user, user.effective, user.target,
// user.changes, group).
type ecsMapping struct{ from, to string }

// syscallNorms and recordNorms index the normalizations by syscall name
// ("*" is the default for syscalls without one) and by record type name
// (several with has_fields conditions for one type).
var syscallNorms, recordNorms = func() (map[string]*normalization, map[string][]*normalization) {
	sys, rec := map[string]*normalization{}, map[string][]*normalization{}
	for i := range normalizations {
		n := &normalizations[i]
		for _, s := range n.syscalls {
			sys[s] = n
		}
		for _, t := range n.recordTypes {
			rec[t] = append(rec[t], n)
		}
	}
	return sys, rec
}()
