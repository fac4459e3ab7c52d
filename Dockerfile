# syntax=docker/dockerfile:1
#
# Fluent Bit (official glibc image) with the linux_audit input plugin, for
# linux/amd64 and linux/arm64 from one build (the builder stage runs on the
# build machine's platform and cross-compiles with cgo):
#
#   make image        # one platform, the build machine's: docker build --build-arg VERSION=... -t linux-audit-fluent-bit .
#   docker buildx build --platform linux/amd64,linux/arm64 \
#       --build-arg VERSION=$(git describe --always) -t REGISTRY/linux-audit-fluent-bit:TAG --push .
#
# (A multi-platform result must be pushed, or exported with --output; the
# classic image store keeps one platform.) This file has not been built
# here: the project's machine has no Docker daemon. The same cross build is
# what `make dist` runs, and it is tested (see README, Release artifacts).
#
# Run, file source (auditd keeps writing /var/log/audit/audit.log on the
# host; the container only reads it):
#
#   docker run --rm --cap-drop ALL \
#       -v /var/log/audit:/var/log/audit:ro \
#       -v linux-audit-state:/fluent-bit/state \
#       --pid host linux-audit-fluent-bit
#
# Capabilities. File source: none, as uid 0: /var/log/audit is root-owned
# (0700/0600 on Debian/RHEL) and uid 0 is its owner, so no DAC override is
# needed (add CAP_DAC_READ_SEARCH only if the files belong to another
# user). A non-root uid works only if the host lets a group read the log:
# auditd.conf `log_group = adm` (files 0640) plus `chmod 0750
# /var/log/audit` and `chgrp adm /var/log/audit`, then
# `docker run --user 65532:4 ...` (4 = adm on Debian). `--pid host` lets the
# plugin read /proc for the callers' and targets' command lines, units and
# containers (optional: without it those fields are just missing).
# Kernel source (`source kernel`, no auditd needed): `--pid host --net host`
# (the audit socket lives in the initial namespaces) and CAP_AUDIT_READ for
# `kernel_mode multicast` (beside auditd), or CAP_AUDIT_CONTROL for
# `kernel_mode unicast` (the plugin becomes the audit daemon and installs
# its rules).
#
# glibc. Go c-shared objects need glibc (they do not load under musl: never
# an Alpine base). Built on Debian 12 (bookworm, glibc 2.36), the .so needs
# glibc >= 2.34 (GLIBC_2.34 pthread_* and res_search; the builder checks it
# with scripts/glibc-check.sh). fluent/fluent-bit 3.0.7 to 4.2.0 are built on
# gcr.io/distroless/cc-debian12 (glibc 2.36); 4.2.1 and later, 5.x
# included, on distroless cc-debian13 (trixie, glibc 2.41): both work
# (`--build-arg FLUENT_BIT_VERSION=5.1.1`; the plugin is tested with 3.2.10,
# 4.2.8 and 5.1.1; several linux_audit inputs need 4.1 or later). 3.0.6 and
# older are on cc-debian11 (glibc 2.31): the plugin does not load there. Do
# not use the -debug images' shells for production.

ARG GO_VERSION=1.26.8
ARG FLUENT_BIT_VERSION=4.2.0

# The builder runs natively on the build machine ($BUILDPLATFORM) and
# cross-compiles for $TARGETARCH (set by buildx from --platform; plain
# `docker build` sets it to the build machine's architecture).
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS builder
ARG TARGETARCH
ARG BUILDARCH
# Debian's cross compiler for the target when it differs from the build
# machine (gcc-aarch64-linux-gnu / gcc-x86-64-linux-gnu bring the target's
# glibc under /usr/<triple>); the chosen CC and OBJDUMP go to /tmp/cross.env.
RUN set -eu; \
    if [ "$TARGETARCH" = "$BUILDARCH" ]; then \
        echo "CC=gcc OBJDUMP=objdump" > /tmp/cross.env; \
    else \
        case "$TARGETARCH" in \
        arm64) triple=aarch64-linux-gnu; pkg=gcc-aarch64-linux-gnu ;; \
        amd64) triple=x86_64-linux-gnu; pkg=gcc-x86-64-linux-gnu ;; \
        *) echo "unsupported TARGETARCH=$TARGETARCH (amd64, arm64)" >&2; exit 1 ;; \
        esac; \
        apt-get update; \
        apt-get install -y --no-install-recommends "$pkg"; \
        rm -rf /var/lib/apt/lists/*; \
        echo "CC=$triple-gcc OBJDUMP=$triple-objdump" > /tmp/cross.env; \
    fi; \
    cat /tmp/cross.env
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN set -eu; \
    export $(cat /tmp/cross.env); \
    mkdir -p /out /out/state; \
    CGO_ENABLED=1 GOOS=linux GOARCH="$TARGETARCH" CC="$CC" \
        go build -buildmode=c-shared -trimpath \
        -ldflags "-X main.version=${VERSION}" \
        -o /out/linux_audit.so ./plugin; \
    rm -f /out/linux_audit.h; \
    readelf --dyn-syms -W /out/linux_audit.so | grep -q ' FLBPluginRegister$'; \
    OBJDUMP="$OBJDUMP" ./scripts/glibc-check.sh /out/linux_audit.so

FROM fluent/fluent-bit:${FLUENT_BIT_VERSION}
ARG VERSION=dev
LABEL org.opencontainers.image.title="fluent-bit linux_audit" \
      org.opencontainers.image.description="Fluent Bit with the linux_audit input: Linux audit events, correlated and enriched, one record per event" \
      org.opencontainers.image.version="${VERSION}"
# The name must not start with flb- (Fluent Bit would load it as a C plugin).
COPY --from=builder /out/linux_audit.so /fluent-bit/plugins/linux_audit.so
COPY examples/docker/fluent-bit.yaml /fluent-bit/etc/linux-audit.yaml
# Offsets db (mount a volume here). Distroless has no shell: the directory
# is copied from the builder.
COPY --from=builder /out/state /fluent-bit/state
# uid 0 without capabilities is the smallest identity that reads a default
# /var/log/audit (see above); run with --cap-drop ALL.
USER 0:0
ENTRYPOINT ["/fluent-bit/bin/fluent-bit"]
CMD ["-c", "/fluent-bit/etc/linux-audit.yaml"]
