#!/usr/bin/env node
// Captures a real sequence of `ka-sockinfo serve` `changes` answers (test/fixtures/native/changes.json) for the
// parser's unit test: the first answer (complete), one after nothing happened (not dumped: ` still`), one after a
// new connection, a close and a keepalive change on a live socket, and one after the server was killed (its sockets
// gone). Two scratch namespaces joined by a veth; root, after `make build`.
// Pids, ports and cookies differ on every capture: update test/unit/native-changes-parse.test.ts if re-captured.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { capturePair, root, sh, sleep } from './lib/capture-pair.mjs';

const { CLI, SRV, run } = capturePair('kat-capc', 92);
await run(SRV, ['server', '--listen', '198.18.92.2:7000', '--mode', 'hold']);
await run(CLI, ['client', '--connect', '198.18.92.2:7000', '--keepidle', '41']);

const helper = spawn(`${root}dist/bin/${process.arch}/ka-sockinfo`, ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = '';
helper.stdout.on('data', (b) => (buf += b));
async function changes() {
  buf = '';
  helper.stdin.write(`changes\t/run/netns/${CLI}\t/run/netns/${SRV}\n`);
  while (!/^\. \d+ /m.test(buf)) await sleep(10);
  return buf;
}
const answers = [await changes()];
await sleep(1000);
answers.push(await changes());
await run(CLI, ['client', '--connect', '198.18.92.2:7000', '--close-after', '200'], /^CLOSED/m);
await run(CLI, ['client', '--connect', '198.18.92.2:7000', '--sockopts-after', '100', '--keepidle', '91'], /^SOCKOPTS/m);
answers.push(await changes());
for (const pid of sh('ip', 'netns', 'pids', SRV).split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL'); // the server: its sockets go
await sleep(300);
answers.push(await changes());
helper.stdin.end();
writeFileSync(`${root}test/fixtures/native/changes.json`, JSON.stringify({
  captured: `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} kernel ${sh('uname', '-r').trim()}`,
  namespaces: [CLI, SRV],
  answers,
}, null, 1) + '\n');
console.log(`captured ${answers.length} answers: ${answers.map((a) => a.split('\n').filter((l) => l.startsWith('T ')).length).join(', ')} socket lines`);
process.exit(0);
