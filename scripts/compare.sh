#!/bin/sh
# Whole-process speed, CPU, peak memory and output size of linuxaudit
# against ausearch -i, laurel and go-libaudit on the same inputs, run back
# to back (the machine is shared: read the ratios, taken in the same run).
# Inputs: the real corpus repeated COPIES times (default 8), and the kill
# log repeated to the same number of lines (kills carry the richest
# documents). Usage: scripts/compare.sh [COPIES]
set -eu
cd "$(dirname "$0")/.."
N=${1:-8}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
go build -o "$T/linuxaudit" ./cmd/linuxaudit
# go-libaudit's own log reader (reassembler + aucoalesce, JSON out).
go build -o "$T/gla" github.com/elastic/go-libaudit/v2/cmd/auparse 2>/dev/null || true
go run ./internal/corpus/repeat -n "$N" real-enriched.log > "$T/corpus.log"
go run ./internal/corpus/repeat -n "$N" -raw real-enriched.log > "$T/corpus.raw.log"
lines=$(wc -l < "$T/corpus.log")
kn=$((lines / $(wc -l < internal/corpus/kills.log) + 1))
go run ./internal/corpus/repeat -n "$kn" kills.log | head -n "$lines" > "$T/kills.log"
go run ./internal/corpus/repeat -n "$kn" -raw kills.log | head -n "$lines" > "$T/kills.raw.log"

cat > "$T/laurel.toml" <<EOT
directory = "$T/laurel"
statusreport-period = 0
[auditlog]
file = "audit.log"
size = 100000000000
generations = 2
[translate]
universal = true
user-db = true
[enrich]
pid = true
container = true
script = true
EOT

# run NAME OUT CMD...: best of 5 by wall time; prints wall, CPU
# (user+sys), lines/s, peak RSS, and (OUT, a file the command wrote, "-"
# for its stdout, "none") bytes per output line, one event a line.
run() {
	name=$1 out=$2; shift 2
	best="" cpu="" mem=""
	for i in 1 2 3 4 5; do
		/usr/bin/time -f "%e %U %S %M" -o "$T/time" "$@" > "$T/stdout" 2>"$T/err" || true
		read -r e u s m < "$T/time"
		if [ -z "$best" ] || [ "$(echo "$e < $best" | bc)" = 1 ]; then
			best=$e cpu=$(echo "$u + $s" | bc) mem=$m
		fi
	done
	size=""
	if [ "$out" != none ]; then
		[ "$out" = - ] && out="$T/stdout"
		docs=$(wc -l < "$out") bytes=$(wc -c < "$out")
		size=$(printf '%5d B/event (%d events)' "$((bytes / (docs > 0 ? docs : 1)))" "$docs")
	fi
	printf '  %-30s %6.2f s wall  %6.2f s CPU  %9.0f lines/s  peak RSS %7d KB  %s\n' \
		"$name" "$best" "$cpu" "$(echo "$lines / $best" | bc)" "$mem" "$size"
	wall=$best
}

for input in corpus kills; do
	echo "input $input: $lines lines ($T/$input.log)"
	run "linuxaudit (default schema)" - "$T/linuxaudit" "$T/$input.log"
	ours_wall=$wall ours_cpu=$cpu
	run "linuxaudit (ecs schema)" - "$T/linuxaudit" --schema=ecs "$T/$input.log"
	if command -v ausearch > /dev/null; then
		run "ausearch -i" none ausearch -i -if "$T/$input.log" # (text, several lines an event)
		echo "  ratio ausearch/linuxaudit: wall $(echo "scale=2; $wall / $ours_wall" | bc)x, CPU $(echo "scale=2; $cpu / $ours_cpu" | bc)x"
	fi
	if command -v laurel > /dev/null; then
		rm -rf "$T/laurel"; mkdir -p "$T/laurel"
		run "laurel (RAW input)" "$T/laurel/audit.log" sh -c "rm -f $T/laurel/audit.log*; laurel -c $T/laurel.toml < $T/$input.raw.log"
		echo "  ratio laurel/linuxaudit: wall $(echo "scale=2; $wall / $ours_wall" | bc)x, CPU $(echo "scale=2; $cpu / $ours_cpu" | bc)x"
	fi
	if [ -x "$T/gla" ]; then
		run "go-libaudit auparse -i (json)" - "$T/gla" -i -format=json -in "$T/$input.log"
	fi
done
