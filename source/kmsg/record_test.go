package kmsg

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	boot := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in                 string
		ok                 bool
		seq                uint64
		level, fac         uint8
		flags              byte
		mono               time.Duration
		text, caller, dict string
	}{
		{in: "6,909,2834187856,-;memory: usage 32768kB, limit 32768kB, failcnt 19\n", ok: true, seq: 909, level: 6, flags: '-',
			mono: 2834187856 * time.Microsecond, text: "memory: usage 32768kB, limit 32768kB, failcnt 19"},
		{in: "3,959,5,-;Memory cgroup out of memory: Killed process 5776 (hog) total-vm:35372kB\n", ok: true, seq: 959, level: 3, flags: '-',
			mono: 5 * time.Microsecond, text: "Memory cgroup out of memory: Killed process 5776 (hog) total-vm:35372kB"},
		// a record written by a process: user facility
		{in: "14,1208,7,-;linuxaudit marker\n", ok: true, seq: 1208, level: 6, fac: 1, flags: '-', mono: 7 * time.Microsecond, text: "linuxaudit marker"},
		// escapes (a backslash is escaped too), continuation lines, caller
		{in: "7,160,424069,-,caller=T1;pci_root PNP0A03:00: \\x5c n\\x0anext \\xZZ\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n", ok: true,
			seq: 160, level: 7, flags: '-', mono: 424069 * time.Microsecond, caller: "T1",
			text: "pci_root PNP0A03:00: \\ n\nnext \\xZZ", dict: "SUBSYSTEM=acpi|DEVICE=+acpi:PNP0A03:00"},
		{in: "4,5,6,c;frag", ok: true, seq: 5, level: 4, flags: 'c', mono: 6 * time.Microsecond, text: "frag"},
		{in: "no semicolon\n"},
		{in: "6,1;short\n"},
		{in: "x,1,2,-;bad priority\n"},
		{in: "6,1,2,--;bad flags\n"},
		{in: "99999,1,2,-;priority too big\n"},
	} {
		var r Record
		ok := parseRecord([]byte(c.in), boot, &r, nil)
		if ok != c.ok {
			t.Errorf("%q: ok %v", c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		var dict []string
		for _, d := range r.Dict {
			dict = append(dict, string(d))
		}
		if r.Seq != c.seq || r.Level != c.level || r.Facility != c.fac || r.Flags != c.flags || r.Mono != c.mono ||
			string(r.Text) != c.text || string(r.Caller) != c.caller || strings.Join(dict, "|") != c.dict {
			t.Errorf("%q:\n got %d %d/%d %c %v %q caller %q dict %q", c.in, r.Seq, r.Facility, r.Level, r.Flags, r.Mono, r.Text, r.Caller, dict)
		}
		if !r.Time.Equal(boot.Add(c.mono)) {
			t.Errorf("%q: time %v", c.in, r.Time)
		}
		if c.dict != "" && string(r.Value("DEVICE")) != "+acpi:PNP0A03:00" {
			t.Errorf("Value(DEVICE) = %q", r.Value("DEVICE"))
		}
		if r.Kernel() != (c.fac == 0) {
			t.Errorf("%q: Kernel() %v", c.in, r.Kernel())
		}
	}
	b := []byte("6,909,2834187856,-;a \\x41 b\n K=V\n")
	var r Record
	dict := make([][]byte, 0, 4)
	if n := testing.AllocsPerRun(100, func() { parseRecord(bytes.Clone(b)[:len(b):len(b)], boot, &r, dict) }); n > 1 { // the clone
		t.Errorf("parseRecord allocates %v times", n-1)
	}
}

func TestParseLogLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	boot := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	opt := &LogOptions{Now: now, Location: time.UTC, Boot: boot}
	msg := "Memory cgroup out of memory: Killed process 5776 (hog) total-vm:35372kB"
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	mono := 12345*time.Second + 678901*time.Microsecond
	for _, c := range []struct {
		in   string
		ok   bool
		msg  string
		t    time.Time
		mono time.Duration
		host string
	}{
		{in: "[12345.678901] " + msg, ok: true, msg: msg, t: boot.Add(mono), mono: mono},
		{in: "[    1.000001] " + msg, ok: true, msg: msg, t: boot.Add(time.Second + time.Microsecond), mono: time.Second + time.Microsecond},
		{in: "<3>[12345.678901] " + msg, ok: true, msg: msg, t: boot.Add(mono), mono: mono},
		{in: "[12345.678901] [ T5776] " + msg, ok: true, msg: msg, t: boot.Add(mono), mono: mono},
		{in: "kern  :err   : [12345.678901] " + msg, ok: true, msg: msg, t: boot.Add(mono), mono: mono},
		{in: "user  :notice: [12345.678901] " + msg},
		{in: "[Wed Dec  2 05:00:00 2026] " + msg, ok: true, msg: msg, t: at},
		{in: "[Wed Dec  2 05:00:00 2026] pci 0000:00:01.0: [8086:7000] type 00 class 0x060100", ok: true, msg: "pci 0000:00:01.0: [8086:7000] type 00 class 0x060100", t: at},
		{in: "2026-12-02T05:00:00,123456+00:00 " + msg, ok: true, msg: msg, t: at.Add(123456 * time.Microsecond)},
		{in: "Dec 02 05:00:00 host kernel: " + msg, ok: true, msg: msg, t: at, host: "host"},
		{in: "Dec  2 05:00:00 host kernel: " + msg, ok: true, msg: msg, t: at, host: "host"},
		{in: "Dec 02 05:00:00.500000 host kernel: " + msg, ok: true, msg: msg, t: at.Add(500 * time.Millisecond), host: "host"},
		{in: "Dec  2 05:00:00 host kernel: [12345.678901] " + msg, ok: true, msg: msg, t: at, mono: mono, host: "host"},
		{in: "2026-12-02T05:00:00+0000 host kernel: " + msg, ok: true, msg: msg, t: at, host: "host"},
		{in: "2026-12-02T07:00:00.25+02:00 host kernel: " + msg, ok: true, msg: msg, t: at.Add(250 * time.Millisecond), host: "host"},
		{in: "[12345.678901] host kernel: " + msg, ok: true, msg: msg, t: boot.Add(mono), mono: mono, host: "host"},
		// the year: a December stamp read in January is last year's
		{in: "Dec 31 23:00:00 host kernel: x", ok: true, msg: "x", t: time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), host: "host"},
		// other programs, journal notes, nothing
		{in: "Dec 02 05:00:00 host systemd[1]: " + msg},
		{in: "2026-12-02T05:00:00+0000 host logger: " + msg},
		{in: "-- Boot 0123456789abcdef --"},
		{in: ""},
		{in: "   "},
		// dmesg -t: the whole line, no time
		{in: msg, ok: true, msg: msg},
		{in: "[broken " + msg, ok: true, msg: "[broken " + msg},
	} {
		o := opt
		if strings.HasPrefix(c.in, "Dec 31") {
			o = &LogOptions{Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Location: time.UTC}
		}
		l, ok := ParseLogLine([]byte(c.in), o)
		if ok != c.ok {
			t.Errorf("%q: ok %v", c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		if string(l.Msg) != c.msg || !l.Time.Equal(c.t) || l.Mono != c.mono || l.HasMono != (c.mono != 0) || string(l.Host) != c.host {
			t.Errorf("%q:\n got msg %q time %v mono %v/%v host %q\nwant msg %q time %v mono %v host %q", c.in, l.Msg, l.Time, l.Mono, l.HasMono, l.Host, c.msg, c.t, c.mono, c.host)
		}
	}
	if l, _ := ParseLogLine([]byte("[12345.678901] [ T5776] x"), nil); string(l.Caller) != "T5776" || string(l.Msg) != "x" {
		t.Errorf("caller: %q msg %q", l.Caller, l.Msg)
	}
	// Without Boot, dmesg's stamp gives Mono only.
	if l, _ := ParseLogLine([]byte("[12345.678901] x"), nil); !l.Time.IsZero() || !l.HasMono || l.Mono != mono {
		t.Errorf("no boot: %+v", l)
	}
}
