#!/usr/bin/env node
// Captures a real inventory recording (ss output, owner scan, sysctls, process facts) from connections set up in
// scratch namespaces, for tests that replay the whole pipeline: test/fixtures/inventory/keepalive-mix.json.
// Root; run after `make build`. Pids, ports and timers differ on every capture: update the test if re-captured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { collectInventory } from '../dist/engine/inventory.js';
import { recordInventory } from '../dist/sources/recorded.js';
import { liveInventory } from '../dist/sources/live.js';
import { capturePair, keepScratchOnly, root, sh, sleep } from './lib/capture-pair.mjs';

const { CLI, SRV, run } = capturePair('kat-cap', 90);
sh('ip', 'netns', 'exec', CLI, 'sysctl', '-qw', 'net.ipv4.tcp_keepalive_time=321');

await run(SRV, ['server', '--listen', '198.18.90.2:7000', '--mode', 'hold']);
await run(SRV, ['server', '--listen', '[fd6b:6174:90::2]:7006', '--mode', 'hold']);
await run(SRV, ['server', '--listen', '198.18.90.2:7100', '--mode', 'hold']);
const c = (args, port = '198.18.90.2:7000') => run(CLI, ['client', '--connect', port, ...args]);
await c([]);
await c(['--keepidle', '41', '--keepintvl', '7', '--keepcnt', '4']);
await c(['--keepalive']);
await c(['--keepalive', '--user-timeout', '12345']);
await c(['--linger', '0']);
await c(['--keepidle', '99', '--fork-share']);
await c(['--keepidle', '55'], '[fd6b:6174:90::2]:7006');
await c(['--close-after', '100']);
// a peer that stopped answering: probes go out every second and stay unanswered
await c(['--keepidle', '1', '--keepintvl', '1', '--keepcnt', '60'], '198.18.90.2:7100');
await sleep(300);
sh('ip', 'netns', 'exec', SRV, 'nft', 'add table inet katcap; add chain inet katcap in { type filter hook input priority 0; policy accept; }; add rule inet katcap in tcp dport 7100 drop');
await sleep(3500);

// ss, not the native inventory: this fixture covers the ss path (test/fixtures/native/ covers the other)
const { sources, recording } = recordInventory(liveInventory({ native: false }));
const inv = await collectInventory(sources, { netns: (n) => n.name === CLI || n.name === SRV });
keepScratchOnly(recording, inv, [CLI, SRV]);
mkdirSync(`${root}test/fixtures/inventory`, { recursive: true });
writeFileSync(`${root}test/fixtures/inventory/keepalive-mix.json`, JSON.stringify(recording, null, 1) + '\n');
console.log(`captured ${inv.connections.length} connections in 2 namespaces`);
process.exit(0);
