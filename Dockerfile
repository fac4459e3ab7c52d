# syntax=docker/dockerfile:1
#
# Fluent Bit (official glibc image) with the linux_audit input plugin.
#
#   make image        # or: docker build --build-arg VERSION=$(git describe --always) -t linux-audit-fluent-bit .
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
# an Alpine base). The .so links against the builder's glibc (Debian 12
# bookworm: 2.36) and needs a runtime glibc >= that. fluent/fluent-bit
# 4.2.0 is the last release on gcr.io/distroless/cc-debian12 (bookworm,
# glibc 2.36, an exact match); 4.2.1 and later, 5.x included, are built on
# distroless cc-debian13 (trixie, glibc 2.41), which also works:
# `--build-arg FLUENT_BIT_VERSION=5.1.1` (the plugin is tested with 4.2.8
# and 5.1.1). Do not use the -debug images' shells for production.

ARG GO_VERSION=1.26.8
ARG FLUENT_BIT_VERSION=4.2.0

FROM golang:${GO_VERSION}-bookworm AS builder
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN mkdir -p /out /out/state \
 && CGO_ENABLED=1 go build -buildmode=c-shared -trimpath \
        -ldflags "-X main.version=${VERSION}" \
        -o /out/linux_audit.so ./plugin \
 && rm -f /out/linux_audit.h \
 && nm -D --defined-only /out/linux_audit.so | grep -q FLBPluginRegister

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
