package audittest

import (
	"reflect"
	"testing"
)

func TestDuplicateKeys(t *testing.T) {
	for in, want := range map[string][]string{
		`{"a":1,"b":{"c":1,"c":2},"d":[{"e":1,"e":1}],"a":3}`: {"b.c", "d.e", "a"},
		`{"a":{"x":1},"b":{"x":1},"c":[1,{"y":[{"z":1}]}]}`:   nil,
	} {
		got, err := DuplicateKeys([]byte(in))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := DuplicateKeys([]byte(`{"a":`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}
