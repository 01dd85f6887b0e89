// ka-sockinfo against real sockets made by ka-peer: options read back exactly through pidfd_getfd, owners in
// other namespaces, shared sockets, processes exiting mid-scan, the incremental daemon and per-netns sysctls.
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ScannedSocket, SockScan } from '../../src/domain/connection.js';
import { nativeBinary, run, start } from '../../src/sources/exec.js';
import { readNetnsSysctls, scanSockets, SockinfoDaemon } from '../../src/sources/sockinfo.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';

const NS = `kat-sockinfo-${process.pid}`;
const NS_SYSCTL = `kat-sockinfo-sc-${process.pid}`;

async function ip(...args: string[]) {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(async () => {
  for (const ns of [NS, NS_SYSCTL]) {
    await ip('netns', 'add', ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
});

afterAll(async () => {
  await stopAllPeers();
  for (const ns of [NS, NS_SYSCTL]) await run('ip', ['netns', 'del', ns]);
});

async function server(extra: string[] = [], netns?: string) {
  const peer = await startPeer(['server', '--listen', '127.0.0.1:0', ...extra], { netns });
  return { peer, port: Number((await peer.waitFor(/^LISTEN \S+ (\d+) /))[1]) };
}

/** Starts a client and returns it with the fd and local port of its (first) connection. */
async function client(port: number, extra: string[] = [], netns?: string) {
  const peer = await startPeer(['client', '--connect', `127.0.0.1:${port}`, ...extra], { netns });
  const m = await peer.waitFor(/^CONN \S+ (\d+) \S+ \d+ fd=(\d+) pid=(\d+)$/);
  return { peer, lport: Number(m[1]), fd: Number(m[2]) };
}

function find(scan: SockScan, pid: number, fd: number): ScannedSocket {
  const s = scan.sockets.find((x) => x.pid === pid && x.fd === fd);
  if (!s) throw new Error(`no socket for pid ${pid} fd ${fd} among ${scan.sockets.length}`);
  return s;
}

const hostSysctl = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8'));

describe('ka-sockinfo scan', () => {
  it('reads keepalive, idle/intvl/cnt, user timeout and linger exactly as the owner set them', async () => {
    const { port } = await server(['--mode', 'sink']);
    const plain = await client(port);
    const ka = await client(port, ['--keepidle', '17', '--keepintvl', '4', '--keepcnt', '6']);
    const ut = await client(port, ['--keepalive', '--user-timeout', '4321']);
    const rst = await client(port, ['--linger', '0']);
    const l5 = await client(port, ['--linger', '5']);
    const scan = await scanSockets();
    expect(scan.elapsedUs).toBeGreaterThan(0);

    const p = find(scan, plain.peer.pid, plain.fd);
    expect(p.error).toBeNull();
    expect(p.opts).toEqual({
      keepalive: false, keepIdleSec: hostSysctl('tcp_keepalive_time'), keepIntvlSec: hostSysctl('tcp_keepalive_intvl'),
      keepCnt: hostSysctl('tcp_keepalive_probes'), userTimeoutMs: 0, lingerOn: false, lingerSec: 0,
    });
    expect(find(scan, ka.peer.pid, ka.fd).opts).toMatchObject({ keepalive: true, keepIdleSec: 17, keepIntvlSec: 4, keepCnt: 6 });
    expect(find(scan, ut.peer.pid, ut.fd).opts).toMatchObject({ keepalive: true, userTimeoutMs: 4321 });
    expect(find(scan, rst.peer.pid, rst.fd).opts).toMatchObject({ lingerOn: true, lingerSec: 0 });
    expect(find(scan, l5.peer.pid, l5.fd).opts).toMatchObject({ lingerOn: true, lingerSec: 5 });
    // The copy closed by the scan did not close the owner's connection.
    expect((await run('ss', ['-Htn', 'state', 'established', `sport = :${ka.lport}`])).stdout).toContain(`${ka.lport}`);
  });

  it('reports TCP sockets only: UDP and unix sockets of the same process are left out', async () => {
    const inodeOf = (fd: number) => Number(/socket:\[(\d+)\]/.exec(readlinkSync(`/proc/self/fd/${fd}`))![1]);
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const unix = createServer();
    const path = join(mkdtempSync(join(tmpdir(), 'kat-sockinfo-')), 's');
    await new Promise<void>((r) => unix.listen(path, r));
    const tcp = createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    // node keeps the fds in its handles; the inode behind each is what ka-sockinfo would report
    const fds = { udp: (udp as any)._handle.fd, unix: (unix as any)._handle.fd, tcp: (tcp as any)._handle.fd };
    try {
      const mine = (await scanSockets()).sockets.filter((x) => x.pid === process.pid).map((x) => x.inode);
      expect(mine).toContain(inodeOf(fds.tcp));
      expect(mine).not.toContain(inodeOf(fds.udp));
      expect(mine).not.toContain(inodeOf(fds.unix));
    } finally {
      udp.close();
      unix.close();
      tcp.close();
    }
  });

  it('reports a socket shared by two processes for both pids', async () => {
    const { port } = await server();
    const c = await client(port, ['--fork-share', '--keepidle', '23']);
    const child = Number((await c.peer.waitFor(/^SHARED pid=(\d+)$/))[1]);
    const scan = await scanSockets();
    const a = find(scan, c.peer.pid, c.fd);
    const b = find(scan, child, c.fd);
    expect(b.inode).toBe(a.inode);
    expect(b.opts?.keepIdleSec).toBe(23);
  });

  it('attributes a socket owned by a process in another network namespace', async () => {
    const { port } = await server([], NS);
    const c = await client(port, ['--keepidle', '77'], NS);
    const ss = await run('ip', ['netns', 'exec', NS, 'ss', '-HtneO', 'state', 'established', `sport = :${c.lport}`]);
    const ino = Number(/ino:(\d+)/.exec(ss.stdout)?.[1]);
    expect(ino).toBeGreaterThan(0);
    const s = find(await scanSockets(), c.peer.pid, c.fd);
    expect(s.inode).toBe(ino);
    expect(s.opts?.keepIdleSec).toBe(77);
  });

  it('succeeds while processes with sockets come and go', async () => {
    const { port } = await server();
    let running = true;
    let spawned = 0;
    const churn = (async () => {
      // Short-lived clients, 8 at a time, each exiting on its own after a few ms, until the scans are done.
      while (running) {
        const batch = Array.from({ length: 8 }, () => {
          spawned++;
          return run(nativeBinary('ka-peer'), ['client', '--connect', `127.0.0.1:${port}`, '--conns', '3', '--duration', '15']);
        });
        await Promise.all(batch);
      }
    })();
    // At least 200 clients and 3 scans: on a loaded machine a scan takes longer, and fewer fit into 200 clients.
    let scans = 0;
    while (spawned < 200 || scans < 3) {
      const r = await run(nativeBinary('ka-sockinfo'), ['scan']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^# pids=\d+ denied=0 sockets=\d+ elapsed_us=\d+$/m);
      scans++;
    }
    running = false;
    await churn;
  });
});

describe('ka-sockinfo serve (SockinfoDaemon)', () => {
  it('reports diffs, gone sockets, rereads and full rescans, and leaves no child behind', async () => {
    const d = new SockinfoDaemon();
    d.start();
    try {
      const { peer: srv, port } = await server();
      const stay = await client(port, ['--keepidle', '31']);
      const first = await d.scan();
      expect(find(first, stay.peer.pid, stay.fd).opts?.keepIdleSec).toBe(31);

      const ours = (pids: number[]) => (s: { pid: number }) => pids.includes(s.pid);
      // Long enough for the scan to see it on a loaded machine (400 ms was not, under the whole suite on 2 cores).
      const brief: Peer = (await client(port, ['--close-after', '2500'])).peer;
      const second = await d.scan();
      // Only the new connection (client side + accepted side) is reported; the unchanged one is not.
      const changed = d.lastDiff.changed.filter(ours([stay.peer.pid, brief.pid, srv.pid]));
      expect(changed.map((s) => s.pid).sort()).toEqual([brief.pid, srv.pid].sort());
      expect(second.sockets.filter(ours([stay.peer.pid])).length).toBe(1);

      await brief.waitFor(/^CLOSED /);
      await brief.exited; // the client exits once its only connection ended
      await new Promise((r) => setTimeout(r, 100)); // let the server see the FIN and close its side
      const third = await d.scan();
      expect(d.lastDiff.gone.filter(ours([brief.pid]))).toHaveLength(1);
      expect(third.sockets.filter(ours([brief.pid]))).toHaveLength(0);

      const ino = find(third, stay.peer.pid, stay.fd).inode;
      await d.scan();
      expect(d.lastDiff.changed.filter((s) => s.inode === ino)).toHaveLength(0);
      await d.reread([ino]);
      await d.scan();
      expect(d.lastDiff.changed.filter((s) => s.inode === ino)).toHaveLength(1);

      await d.full();
      const all = await d.scan();
      expect(d.lastDiff.changed.length).toBe(all.sockets.length);
      expect(find(all, stay.peer.pid, stay.fd).opts?.keepIdleSec).toBe(31);
    } finally {
      await d.close();
    }
    const left = await run('pgrep', ['-x', 'ka-sockinfo', '-P', String(process.pid)]);
    expect(left.stdout.trim()).toBe('');
    await expect(d.scan()).rejects.toThrow(/not running/);
  });

  it('starts the helper again when it died, and rescans from nothing', async () => {
    const d = new SockinfoDaemon(30_000, 0);
    d.start();
    try {
      const { port } = await server();
      const stay = await client(port, ['--keepidle', '33']);
      expect(find(await d.scan(), stay.peer.pid, stay.fd).opts?.keepIdleSec).toBe(33);
      const first = d.pid!;
      process.kill(first, 'SIGKILL');
      await expect(d.scan()).rejects.toThrow(/exited|not running/);
      const again = await d.scan();
      expect(d.pid).not.toBe(first);
      expect(find(again, stay.peer.pid, stay.fd).opts?.keepIdleSec).toBe(33);
    } finally {
      await d.close();
    }
  });

  it('re-reads every socket rarely while every setsockopt is traced, and soon again after a loss', async () => {
    const d = new SockinfoDaemon(300, 5000, 60_000);
    d.start();
    const fulls = vi.spyOn(d, 'full');
    const scanAfter = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      await d.scan();
      return fulls.mock.calls.length;
    };
    try {
      await d.scan();
      expect(await scanAfter(400)).toBe(1); // untraced: every 300 ms
      expect(await scanAfter(400)).toBe(2);
      d.setsockoptsTraced(true);
      expect(await scanAfter(400)).toBe(3); // traced only from now: the re-read before it still counts as untraced
      expect(await scanAfter(400)).toBe(3); // traced since the last re-read: every 60 s
      expect(await scanAfter(400)).toBe(3);
      d.setsockoptsMissed(); // lost records
      expect(await scanAfter(400)).toBe(4);
      expect(await scanAfter(400)).toBe(4);
      d.setsockoptsTraced(false); // the tracer stopped
      expect(await scanAfter(400)).toBe(5);
    } finally {
      await d.close();
    }
  });

  it('answers an unknown command without dying', async () => {
    const child = start(nativeBinary('ka-sockinfo'), ['serve']);
    const out: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    const code = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    child.stdin!.end('bogus\nscan\n');
    expect(await code).toBe(0);
    expect(Buffer.concat(out).toString()).toMatch(/^error unknown command\n[\s\S]*^\. 1 pids=/m);
  });
});

describe('ka-sockinfo sysctl', () => {
  it('reads the keepalive sysctls inside a namespace, not the host ones', async () => {
    const set = await run('ip', ['netns', 'exec', NS_SYSCTL, 'sysctl', '-w', 'net.ipv4.tcp_keepalive_time=123']);
    expect(set.code, set.stderr).toBe(0);
    const nsPath = `/run/netns/${NS_SYSCTL}`;
    const m = await readNetnsSysctls([nsPath, '/proc/self/ns/net', '/nonexistent/ns']);
    expect(m.get(nsPath)).toMatchObject({ inode: statSync(nsPath).ino, sysctl: { tcp_keepalive_time: 123 } });
    expect(m.get('/proc/self/ns/net')).toEqual({
      inode: statSync('/proc/self/ns/net').ino,
      sysctl: {
        tcp_keepalive_time: hostSysctl('tcp_keepalive_time'), tcp_keepalive_intvl: hostSysctl('tcp_keepalive_intvl'),
        tcp_keepalive_probes: hostSysctl('tcp_keepalive_probes'), tcp_retries2: hostSysctl('tcp_retries2'),
        tcp_fin_timeout: hostSysctl('tcp_fin_timeout'),
      },
    });
    expect(hostSysctl('tcp_keepalive_time')).not.toBe(123);
    expect(m.get('/nonexistent/ns')).toEqual({ error: 'ENOENT' });

    // The refresh loop asks its serve helper instead of starting a process: the same answer, and the helper
    // is back in its own namespace after it (its next inventory dumps the host's sockets).
    const daemon = new SockinfoDaemon();
    daemon.start();
    try {
      expect(await daemon.sysctls([nsPath, '/proc/self/ns/net', '/nonexistent/ns'])).toEqual(m);
      let text = '';
      await daemon.changes(['/proc/self/ns/net'], (line) => (text += `${line}\n`));
      expect(text).toMatch(new RegExp(`^N 0 ${statSync('/proc/self/ns/net').ino} `, 'm'));
      expect(await daemon.sysctls([nsPath])).toEqual(new Map([[nsPath, m.get(nsPath)]]));
    } finally {
      await daemon.close();
    }
  });
});
