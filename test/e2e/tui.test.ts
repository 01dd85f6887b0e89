// The TUI in a real pty (120x40) against a real ka-peer pair: the row with the socket's keepalive options,
// filter, sort, detail, pause, quit, and no helper process left behind.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';
import { childrenOf, spawnCli, filterTo, type Term } from '../helpers/pty.js';

let term: Term | null = null;

let lport = 0;
let sport = 0;

beforeAll(async () => {
  expect(existsSync(CLI), 'run make build first').toBe(true);
  const server = await startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
  sport = Number((await server.waitFor(/^LISTEN \S+ (\d+) /))[1]);
  const client = await startPeer(['client', '--connect', `127.0.0.1:${sport}`, '--keepidle', '37', '--keepintvl', '7',
    '--keepcnt', '4', '--mode', 'hold']);
  lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
});

afterEach(() => {
  term?.kill();
  term = null;
});

afterAll(stopAllPeers);

describe('ka-top TUI in a pty', () => {
  it('shows the connection, filters, sorts, opens detail, pauses and quits cleanly', async () => {
    // --port: other sockets on a busy host (thousands) must not push the row off the screen
    const t = (term = spawnCli(['--port', String(sport)]));
    await t.waitFor(/ka-top \d+\.\d+\.\d+ ·/);
    // The row of the client socket with its per-socket keepalive options.
    const row = await t.waitFor(new RegExp(`ESTAB +127\\.0\\.0\\.1:${lport} +127\\.0\\.0\\.1:${sport} +\\d+/ka-peer +37s\\*/7s\\*/4\\*[^\\n]*`), 60_000);
    expect(row).toMatch(/ 0\/4 /);
    await t.waitFor(/sysctl: keepalive time \d+s/);

    await filterTo(t, `:${lport} 127.0.0.1:${sport}`, 1);

    t.mark();
    t.p.write('>');
    await t.waitFor(/STATE▲/);
    t.mark();
    t.p.write('>');
    await t.waitFor(/LOCAL▲/);
    t.mark();
    t.p.write('I');
    await t.waitFor(/LOCAL▼/);
    await t.waitFor(/sort LOCAL▼/);

    t.mark();
    t.p.write('\r');
    await t.waitFor(/idle \(TCP_KEEPIDLE\) +37s  set on the socket/);
    await t.waitFor(/probes \(TCP_KEEPCNT\) +4  set on the socket/);
    await t.waitFor(new RegExp(`peer +127\\.0\\.0\\.1:${sport}`));
    t.mark();
    t.p.write('\x1b');
    await t.waitFor(/KEEPALIVE/);

    t.mark();
    t.p.write('p');
    await t.waitFor(/PAUSED/);

    const helpers = childrenOf(t.p.pid);
    expect(helpers.length).toBeGreaterThan(0); // ka-sockinfo serve
    t.p.write('q');
    expect(await t.exited).toBe(0);
    for (const pid of helpers) expect(existsSync(`/proc/${pid}`), `helper ${pid} still running`).toBe(false);
  });

  it('without root: starts, says what it cannot see and why, lists what it can, quits cleanly', async () => {
    const t = (term = spawnCli([], { asUser: 65534, cwd: '/tmp' }));
    await t.waitFor(/cannot: [^\n]*root/);
    await t.waitFor(/tracer off: [^\n]*root/);
    // its own namespace's listeners are visible to anyone
    await t.waitFor(new RegExp(`LISTEN +127\\.0\\.0\\.1:${sport} `));
    t.p.write('q');
    expect(await t.exited).toBe(0);
  });

  it('help lists the keys; Ctrl-C quits', async () => {
    const t = (term = spawnCli(['--interval', '1']));
    await t.waitFor(/ka-top \d+\.\d+\.\d+ ·/);
    t.p.write('?');
    await t.waitFor(/write a snapshot \(JSON\)/);
    t.p.write('\x03');
    expect(await t.exited).toBe(0);
  });
});
