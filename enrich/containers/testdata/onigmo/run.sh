#!/bin/sh
# Regenerates ../fluentbit-kube-tag.txt: builds the Onigmo bundled with
# Fluent Bit and runs Fluent Bit's own regex over the cases already in the
# file. Needs a Fluent Bit git directory (GIT_DIR, default
# /work/.mirror/fluent+fluent-bit/repo), a tag (TAG, default v5.1.1), cmake
# and a C compiler. Nothing of Fluent Bit is kept in this repository.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
git_dir=${GIT_DIR:-/work/.mirror/fluent+fluent-bit/repo}
tag=${TAG:-v5.1.1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git --git-dir="$git_dir" archive "$tag" lib/onigmo | tar -x -C "$work"
git --git-dir="$git_dir" show "$tag:plugins/filter_kubernetes/kube_regex.h" |
	grep '^#define KUBE_TAG_TO_REGEX ' >"$work/regex.h"
cmake -S "$work/lib/onigmo" -B "$work/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" --target onigmo-static >/dev/null 2>&1 ||
	cmake --build "$work/build" >/dev/null
lib=$(find "$work/build" -name 'libonigmo*.a' | head -n 1)
cc -O2 -I"$work/lib/onigmo" -I"$work/build" -I"$work" "$here/harness.c" "$lib" -o "$work/harness"
out="$here/../fluentbit-kube-tag.txt"
{
	grep '^#' "$out"
	grep -v '^#' "$out" | "$work/harness"
} >"$work/new"
mv "$work/new" "$out"
