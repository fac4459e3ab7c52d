#!/bin/sh
# Release artifacts (run by `make dist VERSION=x.y.z`): for each of
# DIST_ARCHES (default: amd64 arm64), the plugin linux_audit.so and the CLI
# linuxaudit built with cgo for linux/ARCH, checked (ELF machine, exported
# FLBPlugin symbols, glibc requirement at most GLIBC_MAX), packed with
# README.md, examples/ (without its Go test) and a SHA256SUMS of the two
# binaries into
#
#   dist/linux_audit-VERSION-linux-ARCH.tar.gz   (top folder linux_audit-VERSION-linux-ARCH/)
#
# plus dist/SHA256SUMS of the tarballs. dist/ is replaced on every run.
#
# C compilers: CC_amd64 / CC_arm64 if set; otherwise gcc for the build
# machine's own architecture and Debian's cross compilers for the other
# (x86_64-linux-gnu-gcc, aarch64-linux-gnu-gcc from gcc-aarch64-linux-gnu).
# Tarballs are reproducible for a given tree and toolchain: sorted names,
# owner 0, mtime SOURCE_DATE_EPOCH (default: the last commit's time).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:?set VERSION, e.g. make dist VERSION=1.2.3}
ARCHES=${DIST_ARCHES:-amd64 arm64}
GLIBC_MAX=${GLIBC_MAX:-2.34}
export GLIBC_MAX
case $VERSION in
*[!A-Za-z0-9._+-]* | "" | -*)
	echo "dist: VERSION '$VERSION': use letters, digits and . _ + - only" >&2
	exit 2
	;;
esac
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
hostarch=$($GO env GOHOSTARCH)
start=$(date +%s)

rm -rf dist
mkdir -p dist/.stage
for arch in $ARCHES; do
	eval "cc=\${CC_$arch:-}"
	if [ -z "$cc" ]; then
		case $arch in
		"$hostarch") cc=gcc ;;
		amd64) cc=x86_64-linux-gnu-gcc ;;
		arm64) cc=aarch64-linux-gnu-gcc ;;
		*)
			echo "dist: no C compiler known for $arch: set CC_$arch" >&2
			exit 2
			;;
		esac
	fi
	case $arch in
	amd64) machine=X86-64 ;;
	arm64) machine=AArch64 ;;
	*) machine=$arch ;;
	esac
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "dist: $cc not found (linux/$arch needs it; Debian: apt-get install gcc-aarch64-linux-gnu)" >&2
		exit 1
	fi
	name=linux_audit-$VERSION-linux-$arch
	stage=dist/.stage/$name
	mkdir -p "$stage"
	echo "dist: linux/$arch with CC=$cc"
	env CGO_ENABLED=1 GOOS=linux GOARCH="$arch" CC="$cc" \
		$GO build -buildmode=c-shared -trimpath -ldflags "-X main.version=$VERSION" -o "$stage/linux_audit.so" ./plugin
	rm -f "$stage/linux_audit.h"
	env CGO_ENABLED=1 GOOS=linux GOARCH="$arch" CC="$cc" \
		$GO build -trimpath -ldflags "-X main.version=$VERSION" -o "$stage/linuxaudit" ./cmd/linuxaudit
	for f in "$stage/linux_audit.so" "$stage/linuxaudit"; do
		if ! readelf -h "$f" | grep -q "Machine:.*$machine"; then
			echo "dist: $f is not a linux/$arch object:" >&2
			readelf -h "$f" | grep Machine >&2
			exit 1
		fi
	done
	if ! readelf --dyn-syms -W "$stage/linux_audit.so" | grep -q ' FLBPluginRegister$'; then
		echo "dist: $stage/linux_audit.so does not export FLBPluginRegister" >&2
		exit 1
	fi
	scripts/glibc-check.sh "$stage/linux_audit.so" "$stage/linuxaudit"
	cp README.md "$stage/"
	# examples/ as tracked by git (the working tree's content), without
	# its Go test (it checks the examples against the source tree).
	if git ls-files --error-unmatch examples >/dev/null 2>&1; then
		git ls-files -z examples ':!:examples/*_test.go' | tar --null -T - -cf - | tar -xf - -C "$stage"
	else
		cp -Rp examples "$stage/"
		find "$stage/examples" -name '*_test.go' -delete
	fi
	(cd "$stage" && sha256sum linux_audit.so linuxaudit > SHA256SUMS)
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
		--mode='u+rw,go+r,go-w' -C dist/.stage -cf - "$name" | gzip -n -9 > "dist/$name.tar.gz"
done
rm -rf dist/.stage
(cd dist && sha256sum -- *.tar.gz > SHA256SUMS)
echo "dist: $(ls dist | wc -l) files in dist/ after $(($(date +%s) - start)) s:"
cat dist/SHA256SUMS
