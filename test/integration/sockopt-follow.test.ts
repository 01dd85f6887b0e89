// An application that changes its keepalive options on a live connection: ka-top's incremental scanner must
// show the new values at once (a traced setsockopt re-reads that socket), not keep what it read at first sight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delNetnsPrefix, makePair, type Pair } from '../../src/lab/topology.js';
import type { Connection } from '../../src/domain/connection.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';
import { startWatch, type Watch } from '../helpers/watch.js';

const PREFIX = 'kat-sof-';
let pair: Pair;
let watch: Watch;

beforeAll(async () => {
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 70);
  watch = await startWatch(['--json', '--interval', '1', '--netns', pair.client, '--events', 'sockopt_changed']);
}, 60_000);

afterAll(async () => {
  watch?.child.kill('SIGINT');
  await watch?.exited;
  await stopAllPeers();
  await delNetnsPrefix(PREFIX);
});

describe('options changed on a live connection', () => {
  it('show up in the next sample, read from the socket', async () => {
    const server = await startPeer(['server', '--listen', `${pair.serverAddr}:0`], { netns: pair.server });
    const port = Number((await server.waitFor(/^LISTEN \S+ (\d+) /))[1]);
    const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--sockopts-after', '2500',
      '--keepidle', '77', '--keepintvl', '11', '--keepcnt', '5'], { netns: pair.client });
    const lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
    const mine = (s: Record<string, any>) => (s.connections as Connection[] | undefined)?.find((c) => c.local.port === lport);
    // First seen with keepalive off: the scanner has read (and cached) that socket.
    const before = await watch.waitEvent((s) => s.type === 'sample' && mine(s)?.keepalive.enabled === false, 10_000, 'a sample before');
    expect(mine(before)!.process?.pid).toBe(client.pid);
    await client.waitFor(/^SOCKOPTS /, 10_000);
    const set = await watch.waitEvent((e) => e.type === 'sockopt_changed' && e.pid === client.pid && e.option === 'TCP_KEEPCNT', 10_000, 'the traced setsockopt');
    const after = await watch.waitEvent(
      (s) => s.type === 'sample' && Date.parse(s.ts) > Date.parse(set.ts) && mine(s)?.keepalive.idleSec === 77, 5000, 'a sample with the new options');
    expect(mine(after)!.keepalive).toMatchObject({ enabled: true, idleSec: 77, intervalSec: 11, probes: 5, source: 'socket' });
  }, 40_000);
});
