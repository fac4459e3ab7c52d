package enrich

import (
	"math"
	"strconv"
	"testing"
)

// parseInt takes what fits an int64 and nothing else: a value past it
// (an inode or a hostile field) must not wrap to a negative number.
func TestParseInt(t *testing.T) {
	for _, s := range []string{"0", "-1", "42", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999",
		"-9223372036854775809", "", "-", "1x", "00012"} {
		want, err := strconv.ParseInt(s, 10, 64)
		got, ok := parseInt([]byte(s))
		if ok != (err == nil) || ok && got != want {
			t.Errorf("parseInt(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
		}
	}
	if n, ok := parseInt([]byte("-9223372036854775808")); !ok || n != math.MinInt64 {
		t.Errorf("min int64: %d %v", n, ok)
	}
}
