// Real namespaces, veths and nft: a client/server pair and a routed chain carry TCP, an nft drop silences the
// server, and cleanup by prefix leaves nothing.
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { addNetns, delNetnsPrefix, linkNetns, listNetns, makeChain, makePair, netnsPids, nft, nftCmd, runIn, setSilent, startIn, sysctlGet, TopologyError } from '../../src/lab/topology.js';

const PREFIX = 'kat-topo-';
const children: ChildProcess[] = [];

/** A node TCP server inside `ns` that answers each connection with "hi\n". Resolves once it listens. */
function serveIn(ns: string, host: string, port: number): Promise<ChildProcess> {
  const code = `require('net').createServer(s=>s.end('hi\\n')).listen(${port},${JSON.stringify(host)},()=>console.log('LISTEN'))`;
  const child = startIn(ns, process.execPath, ['-e', code]);
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('LISTEN')) resolve(child);
    });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

/** Connects from `ns`; prints what it received or the error code. The first IPv6 neighbour lookup on a fresh
 * link takes ~1 s here, hence the generous timeout. */
async function connectFrom(ns: string, host: string, port: number, timeoutMs = 3000): Promise<string> {
  const code = `const s=require('net').connect(${port},${JSON.stringify(host)});let d='';s.setTimeout(${timeoutMs},()=>{console.log('TIMEOUT');process.exit(0)});s.on('data',b=>d+=b);s.on('end',()=>{console.log(d.trim());process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
  return (await runIn(ns, process.execPath, ['-e', code])).stdout.trim();
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await delNetnsPrefix(PREFIX);
});

describe('topology', () => {
  it('refuses names without a prefix and addresses outside the benchmark ranges', async () => {
    await expect(addNetns('plain')).rejects.toBeInstanceOf(TopologyError);
    await expect(
      linkNetns(`${PREFIX}a`, `${PREFIX}b`, { ifA: 'x', ifB: 'y', addrA: '10.0.0.1/24', addrB: '10.0.0.2/24' }),
    ).rejects.toThrow(/198\.18/);
    await expect(
      linkNetns(`${PREFIX}a`, `${PREFIX}b`, {
        ifA: 'x', ifB: 'y', addrA: '198.18.0.1/24', addrB: '198.18.0.2/24', addr6A: 'fd00::1/64',
      }),
    ).rejects.toThrow(/fd6b/);
    expect(await listNetns(PREFIX)).toEqual([]);
  });

  it('carries TCP over a pair (v4 and v6), goes silent under an nft drop, and is idempotent', async () => {
    const p = await makePair(`${PREFIX}p-`, 100);
    await makePair(`${PREFIX}p-`, 100); // second call replaces the link, does not fail
    await addNetns(p.client);
    await serveIn(p.server, '::', 7000);
    expect(await connectFrom(p.client, p.serverAddr, 7000)).toBe('hi');
    expect(await connectFrom(p.client, p.serverAddr6, 7000)).toBe('hi');

    await setSilent(p.server, true);
    await setSilent(p.server, true);
    expect(await connectFrom(p.client, p.serverAddr, 7000)).toBe('TIMEOUT');
    expect(await nftCmd(p.server, ['list', 'ruleset'])).toMatch(/counter packets [1-9]\d* bytes \d+ drop/);

    await setSilent(p.server, false);
    expect(await connectFrom(p.client, p.serverAddr, 7000)).toBe('hi');
  });

  it('routes through a middlebox chain with forwarding on only there', async () => {
    const ch = await makeChain(`${PREFIX}c-`, 101);
    expect(await sysctlGet(ch.middle, 'net.ipv4.ip_forward')).toBe('1');
    expect(await sysctlGet(ch.client, 'net.ipv4.ip_forward')).toBe('0');
    await serveIn(ch.server, '::', 7001);
    expect(await connectFrom(ch.client, ch.serverAddr, 7001)).toBe('hi');
    expect(await connectFrom(ch.client, ch.serverAddr6, 7001)).toBe('hi');
    // A forward-chain drop in the middlebox cuts the path.
    await nft(ch.middle, 'table inet katfwd {\n chain fwd_drop { type filter hook forward priority 0; policy drop; }\n}\n');
    expect(await connectFrom(ch.client, ch.serverAddr, 7001)).toBe('TIMEOUT');
  });

  it('deleting by prefix kills the processes inside and leaves no namespace', async () => {
    const names = await listNetns(PREFIX);
    expect(names.length).toBeGreaterThanOrEqual(5);
    const srv = names.find((n) => n.endsWith('c-srv'))!;
    expect((await netnsPids(srv)).length).toBeGreaterThan(0);
    await delNetnsPrefix(PREFIX);
    expect(await listNetns(PREFIX)).toEqual([]);
    const gone = (c: ChildProcess) =>
      c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
    await Promise.all(children.map(gone)); // times out (fails) if a server survived
    expect(children.every((c) => c.signalCode === 'SIGKILL')).toBe(true);
  });
});
