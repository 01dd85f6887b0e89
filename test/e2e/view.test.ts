// `ka-top view FILE` in a real pty (120x40) on a snapshot just taken of a real ka-peer pair: the header says it is
// a recording, the known row is there, filter, detail, read-only keys, quit; bad files fail in one line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';
import { spawnCli, filterTo, type Term } from '../helpers/pty.js';

const dir = mkdtempSync(join(tmpdir(), 'kat-view-'));
const snap = join(dir, 'before-deploy.json');
let term: Term | null = null;
let lport = 0;
let sport = 0;

beforeAll(async () => {
  const server = await startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
  sport = Number((await server.waitFor(/^LISTEN \S+ (\d+) /))[1]);
  const client = await startPeer(['client', '--connect', `127.0.0.1:${sport}`, '--keepidle', '43', '--keepintvl', '9',
    '--keepcnt', '5', '--mode', 'hold']);
  lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
  const r = await runCli(['snapshot', '--format', 'json', '--output', snap, '--port', String(sport)]);
  expect(r.code, r.stderr).toBe(0);
  // The recording outlives what it recorded.
  await stopAllPeers();
});

afterEach(() => {
  term?.kill();
  term = null;
});

afterAll(async () => {
  await stopAllPeers();
  rmSync(dir, { recursive: true, force: true });
});

describe('ka-top view in a pty', () => {
  it('says it is a recording, shows the recorded row, filters, opens detail, stays read-only and quits 0', async () => {
    const t = (term = spawnCli(['view', snap]));
    const head = await t.waitFor(/RECORDED SNAPSHOT \(read-only, not live\) before-deploy\.json · taken \S+ · [^\n]+/);
    const takenAt = (JSON.parse(readFileSync(snap, 'utf8')) as { takenAt: string }).takenAt;
    expect(head).toContain(`taken ${takenAt}`);
    await t.waitFor(new RegExp(`ESTAB +127\\.0\\.0\\.1:${lport} +127\\.0\\.0\\.1:${sport} +\\d+/ka-peer +43s\\*/9s\\*/5\\*`));
    await t.waitFor(/no events in this snapshot/);
    // the file's findings: a line in the header, the panel on f
    await t.waitFor(/findings: /);
    t.mark();
    t.p.write('f');
    await t.waitFor(/Findings \(\d+, recorded in before-deploy\.json\)/);
    t.p.write('f');

    await filterTo(t, `:${lport} 127.0.0.1:${sport}`, 1);

    t.mark();
    t.p.write('\r');
    await t.waitFor(/idle \(TCP_KEEPIDLE\) +43s  set on the socket/);
    await t.waitFor(/probes \(TCP_KEEPCNT\) +5  set on the socket/);
    t.mark();
    t.p.write('\x1b');
    await t.waitFor(/KEEPALIVE/);

    t.mark();
    t.p.write('p');
    await t.waitFor(/read-only: a recorded snapshot does not change/);
    t.mark();
    t.p.write('e');
    await t.waitFor(/read-only: this is already a snapshot \(before-deploy\.json\)/);

    t.p.write('q');
    expect(await t.exited).toBe(0);
  });

  it('opens a gzipped snapshot whatever its name', async () => {
    const gz = join(dir, 'snap.data');
    writeFileSync(gz, gzipSync(readFileSync(snap)));
    const t = (term = spawnCli(['view', gz]));
    await t.waitFor(/RECORDED SNAPSHOT \(read-only, not live\) snap\.data/);
    await t.waitFor(new RegExp(`127\\.0\\.0\\.1:${lport} +127\\.0\\.0\\.1:${sport} +\\d+/ka-peer +43s\\*`));
    t.p.write('\x03');
    expect(await t.exited).toBe(0);
  });

  it.each([
    ['missing', () => join(dir, 'nope.json'), /nope\.json: no such file/],
    ['not JSON', () => (writeFileSync(join(dir, 'x.json'), 'not json'), join(dir, 'x.json')), /x\.json: not JSON/],
    ['another schema', () => (writeFileSync(join(dir, 'y.json'), '{"schema":"ka-top/snapshot/v9"}'), join(dir, 'y.json')), /unsupported snapshot version ka-top\/snapshot\/v9/],
    ['truncated gzip', () => (writeFileSync(join(dir, 'z.gz'), gzipSync(readFileSync(snap)).subarray(0, 200)), join(dir, 'z.gz')), /z\.gz: not a complete gzip file/],
  ])('bad file (%s): one line on stderr, exit 1', async (_what, path, re) => {
    const r = await runCli(['view', path()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(re);
  });

  it('usage: no file is exit 2; --help describes the command', async () => {
    expect((await runCli(['view'])).code).toBe(2);
    const h = await runCli(['view', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: ka-top view FILE/);
  });
});
