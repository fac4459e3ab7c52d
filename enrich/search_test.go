package enrich

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whokilledit/linuxaudit/encode"
	"github.com/whokilledit/linuxaudit/internal/corpus"
	"github.com/whokilledit/linuxaudit/parser"
)

// searchStats runs the kill log through an enricher with search s and
// returns the serials emitted and the counters.
func searchStats(t *testing.T, s Search) ([]string, Stats) {
	t.Helper()
	e, err := New(Config{DropSIGURG: true, Search: s})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var doc encode.Document
	c := parser.NewCorrelator(parser.Config{}, func(ev *parser.Event) {
		if e.Enrich(ev, &doc) {
			got = append(got, strconv.FormatUint(uint64(ev.Serial), 10))
		}
	})
	var r parser.Record
	for _, l := range corpus.Lines(corpus.Kills) {
		if err := parser.Parse(l, &r); err != nil {
			t.Fatal(err)
		}
		c.Add(&r)
	}
	c.Flush()
	return got, e.Stats()
}

// TestSearchCounts: each stage of the search drops what it must and counts
// it once under filtered_search (and filtered); bad criteria fail New.
func TestSearchCounts(t *testing.T) {
	for _, c := range []struct {
		s    Search
		want string
	}{
		{Search{TargetPIDs: []string{"24643"}}, "527177"},                                                         // the records: ESRCH's pid argument
		{Search{Since: time.Unix(1795742652, 0), Until: time.Unix(1795742652, 0)}, "527205 527207 527209 527210"}, // the records: time
		{Search{Kinds: []string{"kill"}, Success: "no"}, "527175 527177"},                                         // the classification
		{Search{Syscalls: []string{"kill"}, Keys: []string{"gen_kill32"}}, "527179"},
	} {
		got, st := searchStats(t, c.s)
		if strings.Join(got, " ") != c.want {
			t.Errorf("%+v: %v, want %s", c.s, got, c.want)
		}
		if st.Events != 24 || st.SIGURG != 2 || st.BySearch != 22-uint64(len(got)) || st.Filtered != st.SIGURG+st.BySearch || st.Emitted != uint64(len(got)) {
			t.Errorf("%+v: stats %+v", c.s, st)
		}
	}
	for _, bad := range []Search{{PIDs: []string{"0"}}, {TargetPIDs: []string{"x"}}, {Units: []string{"a b"}}, {Keys: []string{"a\nb"}},
		{Kinds: []string{"loss"}}, {Syscalls: []string{"kil"}}, {Success: "maybe"}} {
		if _, err := New(Config{Search: bad}); err == nil {
			t.Errorf("search %+v accepted", bad)
		}
	}
}

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{"nginx": "nginx.service", "nginx.service": "nginx.service", "session-3.scope": "session-3.scope",
		"user.slice": "user.slice", "a.b": "a.b.service", ".service": ".service.service"} {
		if got := UnitName(in); got != want {
			t.Errorf("UnitName(%q) = %q, want %q", in, got, want)
		}
	}
}
