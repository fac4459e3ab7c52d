#!/bin/sh
# Whole-process speed and peak memory of linuxaudit against ausearch -i and
# laurel on the same input, run back to back (the machine is shared: read
# the ratios). Usage: scripts/compare.sh [COPIES]   (default 8 copies of the
# 31,674-line corpus)
set -eu
cd "$(dirname "$0")/.."
N=${1:-8}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
go build -o "$T/linuxaudit" ./cmd/linuxaudit
go run ./internal/corpus/repeat -n "$N" real-enriched.log > "$T/enriched.log"
go run ./internal/corpus/repeat -n "$N" -raw real-enriched.log > "$T/raw.log"
lines=$(wc -l < "$T/enriched.log")
echo "input: $lines lines ($N copies of the corpus)"
run() { # name, command...
	name=$1; shift
	best=""
	for i in 1 2 3 4 5; do
		/usr/bin/time -f "%e %M" -o "$T/time" "$@" > /dev/null 2>"$T/err" || true
		set -- "$@"
		t=$(cut -d' ' -f1 "$T/time"); m=$(cut -d' ' -f2 "$T/time")
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; mem=$m; fi
	done
	printf '%-28s %6.2f s  %8.0f lines/s  peak RSS %6d KB\n' "$name" "$best" "$(echo "$lines / $best" | bc)" "$mem"
	eval "t_$(echo "$name" | tr -c 'a-z0-9\n' '_')=$best"
}
run "linuxaudit (default schema)" "$T/linuxaudit" "$T/enriched.log"
ours=$best
run "linuxaudit (ecs schema)" "$T/linuxaudit" --schema=ecs "$T/enriched.log"
if command -v ausearch >/dev/null; then
	run "ausearch -i" ausearch -i -if "$T/enriched.log"
	echo "ratio ausearch/linuxaudit: $(echo "scale=2; $best / $ours" | bc)x"
fi
if command -v laurel >/dev/null; then
	mkdir -p "$T/laurel"
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
	run "laurel (RAW input)" sh -c "laurel -c $T/laurel.toml < $T/raw.log"
	echo "ratio laurel/linuxaudit: $(echo "scale=2; $best / $ours" | bc)x"
fi
