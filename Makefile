# ka-top. `make run` and `make test` install whatever is missing first (apt packages, npm deps, tracefs).
SHELL := /bin/bash
NATIVE_SRC := $(wildcard src/native/*.c)
NATIVE_BIN := $(patsubst src/native/%.c,dist/bin/%,$(NATIVE_SRC))
TS_SRC := $(shell find src -name '*.ts' -o -name '*.tsx')
CFLAGS ?= -O2 -g -Wall -Wextra -Werror -std=gnu11

.PHONY: all setup build run test unit bench lint boundaries clean

all: build

setup:
	@scripts/setup.sh all

node_modules/.package-lock.json: package-lock.json
	@scripts/setup.sh node

dist/.built: $(TS_SRC) tsconfig.json node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	@chmod +x dist/cli/main.js
	@touch $@

dist/bin/%: src/native/%.c
	@mkdir -p dist/bin
	$(CC) $(CFLAGS) -o $@ $<

build: dist/.built $(NATIVE_BIN)

# The interactive view on the scenario lab (torn down on exit) and the host.
run: setup build
	dist/cli/main.js --lab $(ARGS)

test: setup build boundaries
	@rm -f dist/test-results.json; rc=0; npx vitest run --reporter=default --reporter=json --outputFile.json=dist/test-results.json $(TESTS) || rc=$$?; \
	  [ -f dist/test-results.json ] && node scripts/test-summary.mjs dist/test-results.json; exit $$rc

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
