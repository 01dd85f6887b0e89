#!/usr/bin/env node
// Captures real `ka-sockinfo inventory` output and, right after it, ss output, the owner scan, sysctls and process
// facts of the same sockets, as one recording (test/fixtures/native/recording.json): the unit tests parse the
// native text, compare it with ss's, and replay the inventory through both paths. Sockets in two scratch
// namespaces joined by a veth: IPv4, IPv6, v4-mapped, LISTEN, ESTAB, TIME-WAIT, SYN-SENT to a dropped port,
// keepalive probes outstanding to a peer gone silent. Root; run after `make build`. Pids, ports, cookies and
// timers differ on every capture: update test/unit/native-inventory-parse.test.ts if re-captured.
import { mkdirSync, writeFileSync } from 'node:fs';
import { collectInventory } from '../dist/engine/inventory.js';
import { recordInventory } from '../dist/sources/recorded.js';
import { liveInventory } from '../dist/sources/live.js';
import { capturePair, keepScratchOnly, root, sh, sleep } from './lib/capture-pair.mjs';

const { CLI, SRV, run } = capturePair('kat-capn', 91);
sh('ip', 'netns', 'exec', SRV, 'nft', 'add table inet katcapn; add chain inet katcapn in { type filter hook input priority 0; policy accept; }; add rule inet katcapn in tcp dport 7109 drop');

await run(SRV, ['server', '--listen', '198.18.91.2:7000', '--mode', 'hold']);
await run(SRV, ['server', '--listen', '[fd6b:6174:91::2]:7006', '--mode', 'hold']);
await run(SRV, ['server', '--listen', '198.18.91.2:7100', '--mode', 'hold']);
await run(CLI, ['server', '--listen', '127.0.0.1:7200', '--mode', 'hold']);
const c = (args, port = '198.18.91.2:7000') => run(CLI, ['client', '--connect', port, ...args]);
await c(['--keepidle', '41', '--keepintvl', '7', '--keepcnt', '4']);
await c(['--keepalive', '--user-timeout', '12345']);
await c(['--linger', '0', '--fork-share']);
await c(['--keepidle', '55', '--mode', 'send-once'], '[fd6b:6174:91::2]:7006');
await c(['--keepidle', '66'], '[::ffff:127.0.0.1]:7200'); // IPv6 socket, IPv4 peer: v4-mapped
await c(['--close-after', '100'], '198.18.91.2:7000'); // closes first: TIME-WAIT on the client side
run(CLI, ['client', '--connect', '198.18.91.2:7109'], /$^/); // SYN-SENT: the server namespace drops it
// a peer that stops answering: probes at 1 s, 4 s, 7 s… stay unanswered; both captures fall between 4 s and 7 s
await c(['--keepidle', '1', '--keepintvl', '3', '--keepcnt', '60'], '198.18.91.2:7100');
await sleep(300);
sh('ip', 'netns', 'exec', SRV, 'nft', 'add rule inet katcapn in tcp dport 7100 drop');
await sleep(4500);

const only = { netns: (n) => n.name === CLI || n.name === SRV };
const native = recordInventory(liveInventory());
const inv = await collectInventory(native.sources, only);
if (inv.socketSource?.via !== 'sock_diag' || inv.socketSource.fallback) throw new Error(`native path not taken: ${JSON.stringify(inv.socketSource)}`);
const viaSs = recordInventory(liveInventory({ native: false }));
await collectInventory(viaSs.sources, only);
const recording = { ...native.recording, dumps: viaSs.recording.dumps, scan: viaSs.recording.scan, processes: { ...viaSs.recording.processes, ...native.recording.processes } };
keepScratchOnly(recording, inv, [CLI, SRV]);
const dir = `${root}test/fixtures/native`;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/recording.json`, JSON.stringify(recording, null, 1) + '\n');
writeFileSync(`${dir}/VERSION`, [
  '# Captured by scripts/capture-native-inventory.mjs',
  `ss: ${sh('ss', '-V').trim()}`,
  `kernel: ${sh('uname', '-r').trim()}`,
  `date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
  '',
].join('\n'));
console.log(`captured ${inv.connections.length} connections in 2 namespaces`);
process.exit(0);
