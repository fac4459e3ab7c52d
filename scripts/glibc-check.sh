#!/bin/sh
# The oldest glibc an ELF object loads on: the highest GLIBC_x.y symbol
# version among its dynamic symbols (objdump -T), per file. Fails (exit 1)
# when one is above the maximum, or when a file cannot be read.
#
#   scripts/glibc-check.sh [-max 2.34] FILE...
#
# GLIBC_MAX (or -max) defaults to 2.34: what Go 1.26 -buildmode=c-shared
# objects (and cgo executables) need on amd64 and on arm64 when built
# against glibc >= 2.34 (Debian 12 has 2.36): pthread_create,
# pthread_key_create, pthread_setspecific, pthread_attr_getstack(size) and
# res_search moved into libc in 2.34 and carry GLIBC_2.34 versions there.
# Building against an older glibc (e.g. Debian 11, 2.31) would lower the
# requirement; building against a newer one does not raise it unless new
# symbols are used. OBJDUMP selects the objdump (Debian's reads both
# x86-64 and aarch64 objects).
set -eu
max=${GLIBC_MAX:-2.34}
if [ "${1:-}" = -max ]; then
	max=$2
	shift 2
fi
if [ $# = 0 ]; then
	echo "usage: $0 [-max X.Y] FILE..." >&2
	exit 2
fi
objdump=${OBJDUMP:-objdump}
status=0
for f in "$@"; do
	if ! syms=$("$objdump" -T "$f" 2>&1); then
		echo "$f: $objdump -T failed: $syms" >&2
		status=1
		continue
	fi
	need=$(printf '%s\n' "$syms" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -u -V | tail -n 1)
	if [ -z "$need" ]; then
		echo "$f: no GLIBC symbol versions (static or not glibc-linked)"
		continue
	fi
	worst=$(printf '%s\n' "$syms" | grep "(GLIBC_$need)" | awk '{print $NF}' | sort -u | paste -sd ' ' -)
	top=$(printf '%s\n%s\n' "$need" "$max" | sort -V | tail -n 1)
	if [ "$top" != "$max" ]; then
		echo "$f: needs glibc >= $need, above the maximum $max (GLIBC_$need: $worst)" >&2
		status=1
	else
		echo "$f: needs glibc >= $need (maximum $max; GLIBC_$need: $worst)"
	fi
done
exit $status
