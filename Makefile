# linux_audit: Fluent Bit input plugin and CLI for Linux audit events.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s

# Release targets and the highest glibc symbol version the binaries may need
# (see scripts/glibc-check.sh).
DIST_ARCHES ?= amd64 arm64
GLIBC_MAX ?= 2.34

.PHONY: all build plugin cli run test test-short bench fuzz lint image compare dist glibc-check clean

all: build

build: plugin cli

## plugin: the Fluent Bit input plugin, bin/linux_audit.so
plugin:
	CGO_ENABLED=1 $(GO) build -buildmode=c-shared -trimpath -ldflags "$(LDFLAGS)" -o bin/linux_audit.so ./plugin
	@rm -f bin/linux_audit.h

## cli: the command-line tool, bin/linuxaudit
cli:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/linuxaudit ./cmd/linuxaudit

## dist: dist/linux_audit-$(VERSION)-linux-{amd64,arm64}.tar.gz (plugin, CLI, README, examples, SHA256SUMS) and dist/SHA256SUMS
dist:
	GO="$(GO)" VERSION="$(VERSION)" DIST_ARCHES="$(DIST_ARCHES)" GLIBC_MAX="$(GLIBC_MAX)" ./scripts/dist.sh

## glibc-check: the oldest glibc bin/linux_audit.so and bin/linuxaudit load on; fails above GLIBC_MAX
glibc-check: build
	GLIBC_MAX="$(GLIBC_MAX)" ./scripts/glibc-check.sh bin/linux_audit.so bin/linuxaudit

## run: the CLI on the bundled sample (the seed kill event), as a line and as JSON
run: cli
	./bin/linuxaudit --sample --format=text
	./bin/linuxaudit --sample --format=json

## test: every test; the real-kernel ones need root and skip (saying so) otherwise
test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting"; exit 1)
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

test-short:
	$(GO) test -short -count=1 ./...

## bench: hot-path benchmarks (parse, correlate, enrich, encode)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./parser ./pipeline ./enrich/containers

## fuzz: the parser, correlator, enricher, kernel-log (OOM, /dev/kmsg record) and container-name fuzz targets, FUZZTIME each
fuzz:
	GO=$(GO) ./scripts/fuzz.sh FuzzParse ./parser $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzCorrelate ./parser $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzEnrich ./enrich $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzOOMParser ./source/kmsg $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzRecord ./source/kmsg $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzParseLogName ./enrich/containers $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzParseCgroup ./enrich/containers $(FUZZTIME)
	GO=$(GO) ./scripts/fuzz.sh FuzzDockerConfig ./enrich/containers $(FUZZTIME)

## compare: whole-process speed against ausearch -i and laurel on the same input
compare: cli
	./scripts/compare.sh

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)"

## image: Fluent Bit (official, glibc) with the plugin
image:
	docker build --build-arg VERSION=$(VERSION) -t linux-audit-fluent-bit:$(VERSION) .

clean:
	rm -rf bin dist
