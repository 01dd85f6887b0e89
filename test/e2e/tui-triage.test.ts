// The TUI at the moments that matter, in a real pty against the real kernel: a peer goes silent and the detail
// follows its connection through the keepalive probes to CLOSED (with the kernel's timeout, reset and close); keys
// arriving in one chunk each count; a reset flood reads at its real rate; 80x24 is usable (compact header, the row
// with its port, scrollable help).
// Needs root, bpftrace and dist/ (make build). Two namespaces of its own on one veth link.
import { existsSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { delNetnsPrefix, makePair, setSilent, type Pair } from '../../src/lab/topology.js';
import { CLI } from '../helpers/cli.js';
import { refusedConnectionsFlood } from '../helpers/flood.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';
import { spawnCli, type Term } from '../helpers/pty.js';

const PREFIX = `kat-tui${process.pid}-`;
const PORT = 7004;
let pair: Pair;
let term: Term | null = null;

beforeAll(async () => {
  expect(existsSync(CLI), 'run make build first').toBe(true);
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 71);
  const server = await startPeer(['server', '--listen', `${pair.serverAddr}:${PORT}`, '--mode', 'hold'], { netns: pair.server });
  await server.waitFor(/^LISTEN /);
}, 60_000);

afterEach(async () => {
  term?.kill();
  term = null;
  await setSilent(pair.server, false);
});

afterAll(async () => {
  await stopAllPeers();
  if (pair) await setSilent(pair.server, false).catch(() => {});
  await delNetnsPrefix(PREFIX);
});

/** A client in the client namespace with a short keepalive; returns its local port. */
async function client(args: string[]): Promise<number> {
  const c = await startPeer(['client', '--connect', `${pair.serverAddr}:${PORT}`, '--mode', 'hold', ...args], { netns: pair.client });
  return Number((await c.waitFor(/^CONN \S+ (\d+) /))[1]);
}

describe('ka-top TUI at the moments that matter', () => {
  it('follows a dying connection in the detail to CLOSED: probes, the kernel giving up, the reset, the close', { timeout: 180_000 }, async () => {
    const lport = await client(['--keepalive', '--keepidle', '3', '--keepintvl', '1', '--keepcnt', '3']);
    const t = (term = spawnCli(['--netns', `${pair.client},${pair.server}`, '--interval', '1'], { cols: 120, rows: 40 }));
    // the tracer is attached (the header shows reset rates, not "tracer off"); a busy machine takes a while
    await t.waitFor(new RegExp(`ESTAB +${pair.clientAddr.replace(/\./g, '\\.')}:${lport} `), 60_000);
    await t.waitFor(/resets\/s \d/, 60_000);
    // the client's end only (the server's end has the same port as its peer)
    const text = `${pair.clientAddr}:${lport} ${pair.serverAddr}`;
    t.mark();
    t.p.write(`/${text}\r`);
    await t.waitFor(new RegExp(`1/1 · filter "${text.replace(/\./g, '\\.')}"`), 30_000);
    t.mark();
    t.p.write('\r');
    await t.waitFor(/idle \(TCP_KEEPIDLE\) +3s/);

    await setSilent(pair.server, true);
    t.mark();
    await t.waitFor(/keepalive_probe +probe 1\/3/, 20_000);
    await t.waitFor(/CLOSED [\d.]+s ago/, 60_000);
    // The kernel's last words, unless the tracer dropped events (another workload's storm on a busy host): then
    // the header counts them and the detail can only show what arrived.
    t.mark();
    const lost = Number(/lost events (\d+)/.exec(await t.waitFor(/lost events \d+/))![1]);
    if (lost === 0) {
      await t.waitFor(/CLOSED [\d.]+s ago \(keepalive timeout\)/);
      await t.waitFor(/keepalive_timeout +peer declared dead after 3 unanswered probes/);
      await t.waitFor(/rst_sent +cause=keepalive_timeout/);
      await t.waitFor(/close +how=timeout/);
    }
    // Well past the old ~4 s switch: still the same connection, still CLOSED, its age growing.
    await new Promise((r) => setTimeout(r, 6000));
    t.mark();
    const later = await t.waitFor(new RegExp(`CLOSED (\\d+)s ago[^\\n]* ${pair.clientAddr.replace(/\./g, '\\.')}:${lport} `));
    expect(Number(/CLOSED (\d+)s/.exec(later)![1])).toBeGreaterThanOrEqual(6);
    // Back in the table the port filter still shows it, as CLOSED.
    t.mark();
    t.p.write('\x1b');
    await t.waitFor(new RegExp(`CLOSED +${pair.clientAddr.replace(/\./g, '\\.')}:${lport} `));
    await t.waitFor(/1\/1 · filter/);
    t.p.write('q');
    expect(await t.exited).toBe(0);
  });

  it('a reset flood beyond --event-rate: the header leads with the kernel\'s rate, the resets view has both', async () => {
    const t = (term = spawnCli(['--netns', `${pair.client},${pair.server}`, '--event-rate', '5'], { cols: 120, rows: 40 }));
    await t.waitFor(/resets\/s \d/, 60_000);
    // Nothing listens on 7999: each connection refused is a reset sent and one received, both in these namespaces.
    const flood = refusedConnectionsFlood(pair.client, pair.serverAddr, 7999, 20_000);
    try {
      // The program's counts end every 5 s: the rate of an interval whose reset records were held back.
      t.mark();
      const line = await t.waitFor(/resets (\d+)\/s in the kernel \(--netns\) · recorded\/s [\d.]+/, 20_000);
      expect(Number(/resets (\d+)\/s/.exec(line)![1])).toBeGreaterThan(50);
      t.mark();
      t.p.write('r');
      await t.waitFor(/Resets · \d+\/s in the kernel \(--netns\) · recorded \d+ seen \(sent \d+, received \d+\) · [\d.]+\/s/);
      // What they were, as the kernel counted them: resets for no socket, each sent and received here.
      await t.waitFor(/In the kernel, a second: sent no_socket \d+ · received \d+/);
    } finally {
      flood.kill();
    }
    t.p.write('q');
    expect(await t.exited).toBe(0);
  }, 90_000);

  it('keys arriving in one chunk each count, in order (tmux send-keys, a paste)', async () => {
    for (let i = 0; i < 3; i++) await client([]);
    const t = (term = spawnCli(['--netns', `${pair.client},${pair.server}`], { cols: 120, rows: 40 }));
    await t.waitFor(/ESTAB +198\.18\.\d+\.\d+:\d+ /, 60_000);
    await t.waitFor(/1\/\d+ · sort ATTENTION first/);
    t.mark();
    t.p.write('jjj');
    await t.waitFor(/4\/\d+ · sort ATTENTION/);
    t.mark();
    t.p.write(`/${PORT}`);
    await t.waitFor(new RegExp(`/${PORT}▏`));
    t.p.write('\r');
    await t.waitFor(new RegExp(`\\d+/\\d+ · filter "${PORT}"`));
    t.mark();
    t.p.write('kkkkk');
    await t.waitFor(new RegExp(`1/\\d+ · filter "${PORT}"`));
    t.p.write('q');
    expect(await t.exited).toBe(0);
  }, 120_000);

  it('80x24: compact header, rows keep their ports, frames fit, help scrolls to the end', async () => {
    const lport = await client(['--keepalive', '--keepidle', '45', '--keepintvl', '5', '--keepcnt', '4']);
    const t = (term = spawnCli(['--netns', `${pair.client},${pair.server}`], { cols: 80, rows: 24 }));
    const row = await t.waitFor(new RegExp(`ESTAB +${pair.clientAddr.replace(/\./g, '\\.')}:${lport} +${pair.serverAddr.replace(/\./g, '\\.')}:${PORT} [^\\n]*`), 60_000);
    expect(row).toMatch(/45s\*\/5s\*\/4\*/);
    await t.waitFor(/findings: /);
    await t.waitFor(/\d+ cols hidden/);
    t.mark();
    t.p.write('?');
    await t.waitFor(/Help — lines 1-\d+ of \d+/);
    t.mark();
    t.p.write('G');
    await t.waitFor(/What ka-top can see here/);
    t.mark();
    t.p.write('\x1b');
    await t.waitFor(/KEEPALIVE/);
    // e says where it wrote: a timestamped file under $XDG_STATE_HOME/ka-top or /var/tmp, never the cwd
    t.mark();
    t.p.write('e');
    const wrote = await t.waitFor(/wrote \d+ connections to \S+\.json/, 30_000);
    const path = wrote.replace(/^wrote \d+ connections to /, '');
    expect(path).toMatch(process.env.XDG_STATE_HOME ? /\/ka-top\/ka-top-snapshot-[\dT-]+Z\.json$/ : /^\/var\/tmp\/ka-top-snapshot-[\dT-]+Z\.json$/);
    expect(existsSync(path)).toBe(true);
    rmSync(path);
    t.p.write('q');
    expect(await t.exited).toBe(0);
  }, 120_000);
});
