# ka-top. `make run` and `make test` install whatever is missing first (apt packages, npm deps, tracefs).
SHELL := /bin/bash
HELPERS := $(patsubst src/native/%.c,%,$(wildcard src/native/*.c))
# The helpers are shipped for these architectures (Node's process.arch names), statically linked so that they run
# on any libc (old glibc, musl); dist/bin/<arch>/ is where src/sources/exec.ts looks for them.
NATIVE_BIN := $(foreach arch,x64 arm64,$(HELPERS:%=dist/bin/$(arch)/%))
CC_x64 ?= x86_64-linux-gnu-gcc
CC_arm64 ?= aarch64-linux-gnu-gcc
TS_SRC := $(shell find src -name '*.ts' -o -name '*.tsx')
CFLAGS ?= -O2 -Wall -Wextra -Werror -std=gnu11
LDFLAGS ?= -static -s -pthread

.PHONY: newer-bpftrace all setup build run test unit bench lint boundaries clean package

all: build

setup:
	@scripts/setup.sh all

node_modules/.package-lock.json: package-lock.json
	@scripts/setup.sh node

dist/.built: $(TS_SRC) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@chmod +x dist/cli/main.js
	@touch $@

dist/bin/x64/%: src/native/%.c
	@mkdir -p $(@D)
	$(CC_x64) $(CFLAGS) $(LDFLAGS) -o $@ $<

dist/bin/arm64/%: src/native/%.c
	@mkdir -p $(@D)
	$(CC_arm64) $(CFLAGS) $(LDFLAGS) -o $@ $<

# Man page and shell completions, generated from the --help texts of the built CLI.
dist/man/ka-top.1: dist/.built scripts/build-docs.mjs
	node scripts/build-docs.mjs

build: dist/.built $(NATIVE_BIN) dist/man/ka-top.1

# What `npm pack` runs (prepack): a build from scratch, so that nothing stale or test-only is packed.
package: clean
	@$(MAKE) --no-print-directory build

# The interactive view on the scenario lab (torn down on exit) and the host.
run: setup build
	dist/cli/main.js --lab $(ARGS)

test: setup newer-bpftrace build boundaries
	@rm -f dist/test-results*.json; rc=0; reports="tests=dist/test-results.json"; \
	  npx vitest run --reporter=default --reporter=json --outputFile.json=dist/test-results.json \
	    $(if $(TESTS),$(TESTS),$(addprefix --exclude ,$(ALONE_TESTS))) || rc=$$?; \
	  [ -n "$(TESTS)" ] || { echo 'The probe tests alone on the host:'; reports="$$reports tests-alone=dist/test-results-alone.json"; \
	    npx vitest run --reporter=default --reporter=json --outputFile.json=dist/test-results-alone.json $(ALONE_TESTS) || rc=$$?; }; \
	  [ -n "$(TESTS)" ] || { echo 'The generated program and its probes again, under bpftrace 0.23 (scripts/newer-bpftrace):'; \
	    reports="$$reports tests-under-bpftrace-0.23=dist/test-results-newer-bpftrace.json"; \
	    PATH="$(CURDIR)/scripts/newer-bpftrace:$$PATH" KA_TOP_TEST_NEWER_BPFTRACE=1 npx vitest run --reporter=default \
	      --reporter=json --outputFile.json=dist/test-results-newer-bpftrace.json $(NEWER_BPFTRACE_TESTS) || rc=$$?; }; \
	  node scripts/test-summary.mjs $$reports; exit $$rc

# Tests that check the kernel's keepalive and retransmission timers to the probe: run alone, after the others. Their
# first (a silent peer's probes 1..3, then its keepalive timeout) failed on 2 of 5 full runs in one day next to the
# rest of the suite (a probe record missing; the timeout not seen), and on 1 of ~20 runs alone; the cause is not
# found yet.
ALONE_TESTS = test/integration/probes.test.ts

# Tests that load ka-top's program with bpftrace: run once more under a newer bpftrace than the host's.
NEWER_BPFTRACE_TESTS = test/integration/bpf-program.test.ts test/integration/probes.test.ts

newer-bpftrace:
	@scripts/setup.sh newer-bpftrace

unit: build
	npx vitest run test/unit $(TESTS)

bench: setup build
	node scripts/bench/run.mjs $(ARGS)

lint: node_modules/.package-lock.json boundaries
	npx tsc -p tsconfig.test.json --noEmit

# Layers import downward only, no cycles (.dependency-cruiser.cjs; README, How it works).
boundaries: node_modules/.package-lock.json
	@npx depcruise src --config .dependency-cruiser.cjs --output-type err

clean:
	rm -rf dist
