#!/usr/bin/env bash
# Refreshes test/fixtures/apps/servers-capture.json: the snapshot document of test/integration/apps.test.ts's real
# servers (Redis, nginx, PostgreSQL, HAProxy, OpenSSH, Node, libkeepalive, an unknown program). Root; run after
# `make build`. The unit tests of model/apps replay it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test/fixtures/apps
KAT_APPS_CAPTURE="$PWD/test/fixtures/apps/servers-capture.json" npx vitest run test/integration/apps.test.ts
