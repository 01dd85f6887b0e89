// ka-peer against the real loopback stack: options take effect, resets happen, lines are machine-readable.
import { afterAll, describe, expect, it } from 'vitest';
import { nativeBinary, run } from '../../src/sources/exec.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';

afterAll(stopAllPeers);

async function server(args: string[]) {
  const p = await startPeer(['server', '--listen', '127.0.0.1:0', ...args]);
  const m = await p.waitFor(/^LISTEN (\S+) (\d+) pid=(\d+)$/);
  expect(Number(m[3])).toBe(p.pid);
  return { peer: p, port: Number(m[2]) };
}

/** The ss line of the socket whose local port is `lport`. */
async function ssLine(lport: number): Promise<string> {
  const r = await run('ss', ['-HtinaeO', 'state', 'established', `sport = :${lport}`]);
  return r.stdout.trim();
}

describe('ka-peer', () => {
  it('client sockets carry the keepalive options (ss shows the keepalive timer)', async () => {
    const { port } = await server(['--mode', 'echo']);
    const c = await startPeer(['client', '--connect', `127.0.0.1:${port}`, '--keepidle', '7', '--keepintvl', '3',
      '--keepcnt', '4', '--mode', 'hold']);
    const m = await c.waitFor(/^CONN 127\.0\.0\.1 (\d+) 127\.0\.0\.1 (\d+) fd=\d+ pid=(\d+)$/);
    expect(Number(m[2])).toBe(port);
    const line = await ssLine(Number(m[1]));
    // keepidle 7 s: the timer is armed for at most 7 s (ss 6.1 prints seconds with a misleading `ms` suffix).
    const t = line.match(/timer:\(keepalive,([\d.]+)ms,0\)/);
    expect(t, line).not.toBeNull();
    expect(Number(t![1])).toBeGreaterThan(5);
    expect(Number(t![1])).toBeLessThanOrEqual(7);
    expect(await c.stop()).toBe(0);
  });

  it('a socket without --keepalive has no keepalive timer', async () => {
    const { port } = await server(['--mode', 'hold']);
    const c = await startPeer(['client', '--connect', `127.0.0.1:${port}`]);
    const m = await c.waitFor(/^CONN \S+ (\d+) /);
    expect(await ssLine(Number(m[1]))).not.toMatch(/timer:\(keepalive/);
    await c.stop();
  });

  it('checker resets its connections (server sees ECONNRESET)', async () => {
    const { peer, port } = await server(['--mode', 'sink']);
    const ck = await startPeer(['checker', '--connect', `127.0.0.1:${port}`, '--every', '50', '--count', '2',
      '--send', 'GET /health']);
    const m = await ck.waitFor(/^CONN \S+ (\d+) /);
    await ck.waitFor(new RegExp(`^CLOSED ${m[1]} ${port} rst$`));
    await peer.waitFor(new RegExp(`^CLOSED ${port} ${m[1]} ECONNRESET$`));
    expect(await ck.exited).toBe(0);

    // Reset while still in the accept queue (server stopped): CONN/CLOSED still name the peer port.
    process.kill(peer.pid, 'SIGSTOP');
    const ck2 = await startPeer(['checker', '--connect', `127.0.0.1:${port}`, '--every', '50', '--count', '1']);
    const m2 = await ck2.waitFor(/^CLOSED (\d+) \d+ rst$/);
    process.kill(peer.pid, 'SIGCONT');
    await peer.waitFor(new RegExp(`^CONN \\S+ ${port} \\S+ ${m2[1]} `));
    await peer.waitFor(new RegExp(`^CLOSED ${port} ${m2[1]} ECONNRESET$`));
  });

  it('--close-after with --linger 0 resets; unread data on close resets too', async () => {
    const { peer, port } = await server(['--mode', 'hold', '--linger', '0', '--close-after', '100']);
    const c = await startPeer(['client', '--connect', `127.0.0.1:${port}`, '--mode', 'sink']);
    const m = await c.waitFor(/^CONN \S+ (\d+) /);
    await peer.waitFor(new RegExp(`^CLOSED ${port} ${m[1]} rst$`));
    await c.waitFor(new RegExp(`^CLOSED ${m[1]} ${port} ECONNRESET$`));

    const u = await server(['--mode', 'unread', '--close-after', '300']);
    const c2 = await startPeer(['client', '--connect', `127.0.0.1:${u.port}`, '--mode', 'unread', '--every', '50']);
    const m2 = await c2.waitFor(/^CONN \S+ (\d+) /);
    await c2.waitFor(new RegExp(`^CLOSED ${m2[1]} ${u.port} (ECONNRESET|EPIPE)$`));
  });

  it('IPv6, --fork-share and a clean exit on SIGTERM', async () => {
    const s = await startPeer(['server', '--listen', '[::1]:0', '--mode', 'hold']);
    const port = Number((await s.waitFor(/^LISTEN ::1 (\d+) /))[1]);
    const c = await startPeer(['client', '--connect', `[::1]:${port}`, '--fork-share', '--conns', '2']);
    const m = await c.waitFor(/^CONN ::1 (\d+) ::1 \d+ fd=(\d+) /);
    const child = Number((await c.waitFor(/^SHARED pid=(\d+)$/))[1]);
    const ss = await run('ss', ['-HtnpO', 'state', 'established', `sport = :${m[1]}`]);
    expect(ss.stdout).toContain(`pid=${c.pid},fd=${m[2]}`);
    expect(ss.stdout).toContain(`pid=${child},`);
    expect(await c.stop()).toBe(0);
    // The sharing child dies with its parent (PR_SET_PDEATHSIG).
    await s.waitFor(new RegExp(`^CLOSED ${port} ${m[1]} eof$`));
    expect(await s.stop()).toBe(0);
  });

  it('rejects bad flags with exit code 2 and one stderr line', async () => {
    const r = await run(nativeBinary('ka-peer'), ['client', '--connect', '127.0.0.1:1', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await run(nativeBinary('ka-peer'), ['--help'])).stdout).toMatch(/^Usage:/);
  });
});
