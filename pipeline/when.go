package pipeline

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// whenForms describes the values of since and until, for errors.
const whenForms = "expected recent, now, boot, today, yesterday, this-week, week-ago, this-month, this-year, " +
	"a date MM/DD/YYYY (or MM/DD/YY, YYYY-MM-DD) with an optional time HH:MM[:SS], a time alone, " +
	"or ISO 8601 2026-11-27T01:24:00[Z|+01:00]"

// parseWhen reads a time as ausearch's -ts (end false) or -te (end true)
// does, relative to now and in now's location:
//
//   - now, recent (10 minutes ago) and boot (now less /proc/uptime) are
//     instants; today, yesterday, this-week (the last Sunday), week-ago,
//     this-month and this-year are dates;
//   - a date is MM/DD/YYYY or MM/DD/YY (ausearch's %x in the C and
//     en_US locales; YY 69-99 is 19YY, else 20YY) or YYYY-MM-DD;
//   - a date or a date keyword may be followed by HH:MM or HH:MM:SS; a
//     time alone is today's;
//   - without a time, a start is at midnight, an end at the current time
//     of day, and the end "today" is now (ausearch's rules);
//   - or ISO 8601, 2026-11-27T01:24:00 or 2026-11-27T01:24, in now's
//     location unless it ends with Z or an offset (+01:00).
func parseWhen(v string, now time.Time, end bool) (time.Time, error) {
	loc := now.Location()
	if strings.Contains(v, "T") {
		for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05-0700", "2006-01-02T15:04-0700"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t, nil
			}
		}
		for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
			if t, err := time.ParseInLocation(layout, v, loc); err == nil {
				return t, nil
			}
		}
		return time.Time{}, why(whenForms)
	}
	words := strings.Fields(v)
	if len(words) == 0 || len(words) > 2 {
		return time.Time{}, why(whenForms)
	}
	date, clock := words[0], ""
	if len(words) == 2 {
		clock = words[1]
	} else if strings.Contains(date, ":") {
		date, clock = "", date
	}
	midnight := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	}
	var d time.Time
	switch date {
	case "":
		d = midnight(now)
	case "now", "recent", "boot":
		d = now
		switch date {
		case "recent":
			d = now.Add(-10 * time.Minute)
		case "boot":
			up, err := uptime()
			if err != nil {
				return time.Time{}, why("boot: cannot read the uptime: " + err.Error())
			}
			d = now.Add(-up)
		}
		if clock == "" || clock == "00:00:00" {
			return d.Truncate(time.Second), nil
		}
	case "today":
		if end && (clock == "" || clock == "00:00:00") {
			return now.Truncate(time.Second), nil
		}
		d = midnight(now)
	case "yesterday":
		d = midnight(now.Add(-24 * time.Hour))
	case "this-week":
		d = midnight(now.Add(-time.Duration(now.Weekday()) * 24 * time.Hour))
	case "week-ago":
		d = midnight(now.Add(-7 * 24 * time.Hour))
	case "this-month":
		d = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	case "this-year":
		d = time.Date(now.Year(), time.January, 1, 0, 0, 0, 0, loc)
	default:
		var ok bool
		if d, ok = parseDate(date, loc); !ok {
			return time.Time{}, why(whenForms)
		}
	}
	h, m, s := 0, 0, 0
	switch {
	case clock != "":
		var ok bool
		if h, m, s, ok = parseClock(clock); !ok {
			return time.Time{}, why(whenForms)
		}
	case end:
		h, m, s = now.Clock()
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, m, s, 0, loc), nil
}

// parseDate reads MM/DD/YYYY, MM/DD/YY or YYYY-MM-DD, refusing dates
// that do not exist (02/30).
func parseDate(s string, loc *time.Location) (time.Time, bool) {
	if p := strings.Split(s, "/"); len(p) == 3 && len(p[2]) != 3 {
		mo, ok1 := number(p[0], 1, 2)
		d, ok2 := number(p[1], 1, 2)
		y, ok3 := number(p[2], 2, 4)
		if !ok1 || !ok2 || !ok3 {
			return time.Time{}, false
		}
		if len(p[2]) == 2 {
			if y >= 69 {
				y += 1900
			} else {
				y += 2000
			}
		}
		return validDate(y, mo, d, loc)
	}
	if p := strings.Split(s, "-"); len(p) == 3 {
		y, ok1 := number(p[0], 4, 4)
		mo, ok2 := number(p[1], 1, 2)
		d, ok3 := number(p[2], 1, 2)
		if !ok1 || !ok2 || !ok3 {
			return time.Time{}, false
		}
		return validDate(y, mo, d, loc)
	}
	return time.Time{}, false
}

func validDate(y, mo, d int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, loc)
	return t, t.Year() == y && int(t.Month()) == mo && t.Day() == d
}

// parseClock reads HH:MM or HH:MM:SS (24-hour clock).
func parseClock(s string) (h, m, sec int, ok bool) {
	p := strings.Split(s, ":")
	if len(p) < 2 || len(p) > 3 {
		return 0, 0, 0, false
	}
	var ok1, ok2, ok3 bool
	h, ok1 = number(p[0], 1, 2)
	m, ok2 = number(p[1], 2, 2)
	ok3 = true
	if len(p) == 3 {
		sec, ok3 = number(p[2], 2, 2)
	}
	return h, m, sec, ok1 && ok2 && ok3 && h < 24 && m < 60 && sec < 60
}

// number reads a decimal number of minDigits to maxDigits digits.
func number(s string, minDigits, maxDigits int) (int, bool) {
	if len(s) < minDigits || len(s) > maxDigits {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// uptime is how long ago this machine booted (/proc/uptime).
func uptime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, why("empty /proc/uptime")
	}
	sec, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(sec*float64(time.Second) + 0.5e9).Truncate(time.Second), nil
}
