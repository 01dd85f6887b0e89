// ka-top watch against the real kernel: keepalive probes and timeout, resets with causes, attributed to owners.
// Needs root, bpftrace and dist/ (make build). Two namespaces on one veth link, short keepalive timers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delNetnsPrefix, makePair, nft, setSilent, type Pair } from '../../src/lab/topology.js';
import { nativeBinary, run } from '../../src/sources/exec.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';
import { schemaValidator } from '../helpers/schema.js';
import { refusedConnectionsFlood } from '../helpers/flood.js';
import { alive, startWatch, type Watch } from '../helpers/watch.js';
import type { KaEvent } from '../../src/domain/event.js';
import { formatEventLine } from '../../src/output/event-text.js';

const PREFIX = 'kat-prb-';
let pair: Pair;
let watch: Watch;
let serverNs = 0;
let clientNs = 0;

async function nsInode(ns: string): Promise<number> {
  const r = await run('stat', ['-L', '-c', '%i', `/run/netns/${ns}`]);
  return Number(r.stdout.trim());
}

/** An event of the connection from `local` to `peer` (ports): both, since an earlier test's connection in these
 *  namespaces may have had one of them, and `waitEvent` searches every event since the watch started. */
const ends = (e: Record<string, any>, local: number, peer: number) => e.local?.port === local && e.peer?.port === peer;

async function server(addr: string, args: string[] = []): Promise<{ peer: Peer; port: number }> {
  const peer = await startPeer(['server', '--listen', addr, ...args], { netns: pair.server });
  const m = await peer.waitFor(/^LISTEN \S+ (\d+) /);
  return { peer, port: Number(m[1]) };
}

/** A client streaming a line every 200 ms with TCP_USER_TIMEOUT 2 s and no keepalive: only the retransmission
 *  timer can end its connection, at the user timeout, without sending a reset. */
async function streamingClient(port: number): Promise<{ client: Peer; lport: number }> {
  const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--mode', 'stream', '--every', '200',
    '--user-timeout', '2000'], { netns: pair.client });
  return { client, lport: Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]) };
}

/** Runs `body` while the server's namespace answers segments to `port` with ICMP host unreachable, as a router
 *  does for a host that is gone (`rules`: the nft rules, `reject` by default). */
async function whileUnreachable(port: number, body: () => Promise<void>, rules = `tcp dport ${port} reject with icmpx type host-unreachable`): Promise<void> {
  await nft(pair.server, `table inet kaunreach {\n  chain in { type filter hook input priority -10; policy accept;\n    ${rules.replace(/\n/g, '\n    ')}\n  }\n}\n`);
  try {
    await body();
  } finally {
    await nft(pair.server, 'delete table inet kaunreach\n');
  }
}

beforeAll(async () => {
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 60);
  serverNs = await nsInode(pair.server);
  clientNs = await nsInode(pair.client);
  // Other tests on this host make noise: only our namespaces, only the events asserted on.
  watch = await startWatch(['--json', '--netns', `${pair.client},${pair.server}`,
    '--events', 'keepalive_probe,keepalive_timeout,rst_sent,rst_received,close']);
}, 60_000);

afterAll(async () => {
  await stopAllPeers();
  if (watch && watch.child.exitCode === null) {
    watch.child.kill('SIGINT');
    await watch.exited;
  }
  await delNetnsPrefix(PREFIX);
  if (watch) expect(alive(watch.tracerPid)).toBe(false);
});

describe('ka-top watch (real bpftrace, tracepoints only)', () => {
  it('silent peer: keepalive_probe 1..3 then keepalive_timeout, owned by the client process', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'hold']);
    const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--mode', 'hold',
      // idle 3 s: the first probe must go out after the server went silent, even on a loaded machine
      '--keepalive', '--keepidle', '3', '--keepintvl', '1', '--keepcnt', '3'], { netns: pair.client });
    const m = await client.waitFor(/^CONN \S+ (\d+) /);
    const lport = Number(m[1]);
    await setSilent(pair.server, true);
    try {
      const mine = (e: Record<string, any>) => ends(e, lport, port);
      // ~6 s after the silence, unless the host is congested: a probe the local stack drops (a reset flood of
      // another test filling the backlog) is retried every 500 ms without counting (tcp_write_wakeup > 0).
      const timeout = await watch.waitEvent((e) => e.type === 'keepalive_timeout' && mine(e), 40_000, 'keepalive_timeout');
      const probes = watch.events.filter((e: Record<string, any>) => e.type === 'keepalive_probe' && mine(e)) as Array<Record<string, any>>;
      expect(probes.map((p) => p.probesOutstanding)).toEqual([1, 2, 3]);
      expect(probes.map((p) => p.probesSent)).toEqual([1, 2, 3]);
      for (const p of probes) {
        expect(p).toMatchObject({ pid: client.pid, comm: 'ka-peer', netns: clientNs, maxProbes: 3, intervalMs: 1000 });
      }
      expect(probes[0]!.giveUpInMs).toBe(3000);
      expect(timeout).toMatchObject({ pid: client.pid, comm: 'ka-peer', netns: clientNs, maxProbes: 3, probesSent: 3, probesOutstanding: 3, userTimeoutMs: 0 });
      const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && mine(e), 3000, 'rst_sent keepalive');
      expect(rst).toMatchObject({ cause: 'keepalive_timeout', reason: 'TCP_KEEPALIVE_TIMEOUT', pid: client.pid });
      const close = await watch.waitEvent((e) => e.type === 'close' && mine(e), 3000, 'close');
      expect(close.how).toBe('timeout');
    } finally {
      await setSilent(pair.server, false);
    }
  }, 60_000);

  it('silent peer with TCP_USER_TIMEOUT: the keepalive timer gives up before the probe count, and says so', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'hold']);
    const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--mode', 'hold',
      '--keepalive', '--keepidle', '2', '--keepintvl', '1', '--keepcnt', '9', '--user-timeout', '2500'], { netns: pair.client });
    const lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
    await setSilent(pair.server, true);
    try {
      const mine = (e: Record<string, any>) => ends(e, lport, port);
      // ~6 s after the silence, unless the host is congested: a probe the local stack drops (a reset flood of
      // another test filling the backlog) is retried every 500 ms without counting (tcp_write_wakeup > 0).
      const timeout = await watch.waitEvent((e) => e.type === 'keepalive_timeout' && mine(e), 40_000, 'keepalive_timeout');
      expect(timeout).toMatchObject({ maxProbes: 9, userTimeoutMs: 2500, pid: client.pid });
      expect(timeout.probesOutstanding).toBeGreaterThan(0);
      expect(timeout.probesOutstanding).toBeLessThan(9);
      expect(formatEventLine(timeout as KaEvent)).toMatch(/peer declared dead by TCP_USER_TIMEOUT 2500 ms, \d of 9 probes unanswered/);
    } finally {
      await setSilent(pair.server, false);
    }
  }, 30_000);

  it('data nobody acknowledges: the retransmission timer gives up (TCP_USER_TIMEOUT 2 s), close how=retransmit_timeout', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'sink']);
    const { client, lport } = await streamingClient(port);
    await setSilent(pair.server, true);
    try {
      const mine = (e: Record<string, any>) => ends(e, lport, port);
      const close = await watch.waitEvent((e) => e.type === 'close' && mine(e), 15_000, 'close');
      expect(close).toMatchObject({ how: 'retransmit_timeout', netns: clientNs });
      expect(watch.events.filter((e: Record<string, any>) => (e.type === 'rst_sent' || e.type === 'keepalive_timeout') && mine(e))).toEqual([]);
      await client.waitFor(/^CLOSED \S+ \S+ ETIMEDOUT/);
    } finally {
      await setSilent(pair.server, false);
    }
  }, 30_000);

  it('data answered by ICMP host unreachable: the retransmission timer gives up with EHOSTUNREACH, not ETIMEDOUT', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'sink']);
    const { client, lport } = await streamingClient(port);
    // Each segment answered with an ICMP error: a soft error for an established connection, which the kernel hands
    // to the application when it gives up (tcp_write_err).
    await whileUnreachable(port, async () => {
      const close = await watch.waitEvent((e) => e.type === 'close' && ends(e, lport, port), 15_000, 'close');
      expect(close).toMatchObject({ how: 'retransmit_timeout', error: 'EHOSTUNREACH', netns: clientNs });
      await client.waitFor(/^CLOSED \S+ \S+ EHOSTUNREACH/);
    });
  }, 30_000);

  it('connects to a silent peer: the kernel gives up (ETIMEDOUT), or the application closes first; both connect_failed', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'hold']);
    await setSilent(pair.server, true);
    try {
      // TCP_USER_TIMEOUT 1 s also bounds a connect: the kernel gives up on the SYN after ~1 s.
      const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--user-timeout', '1000'], { netns: pair.client });
      // The checker's own connect timeout (3 s): it closes the socket while it is still connecting.
      const checker = await startPeer(['checker', '--connect', `${pair.serverAddr}:${port}`, '--every', '300', '--count', '1'], { netns: pair.client });
      await client.waitFor(/^FAILED \S+ \d+ ETIMEDOUT/, 10_000);
      await checker.waitFor(/^FAILED \S+ \d+ ETIMEDOUT/, 10_000);
      const failed = (pid: number) => watch.waitEvent((e) => e.type === 'close' && e.how === 'connect_failed' && e.pid === pid, 10_000, `connect_failed of ${pid}`);
      expect(await failed(client.pid)).toMatchObject({ error: 'ETIMEDOUT', netns: clientNs, peer: { address: pair.serverAddr, port } });
      expect(await failed(checker.pid)).toMatchObject({ error: null, netns: clientNs, peer: { address: pair.serverAddr, port } });
      expect(watch.events.filter((e: Record<string, any>) => e.type === 'close' && e.peer?.port === port && e.how === 'retransmit_timeout')).toEqual([]);
    } finally {
      await setSilent(pair.server, false);
    }
  }, 30_000);

  it('an orphaned FIN-WAIT-2 socket ended by its timer (tcp_fin_timeout > 60 s uses the keepalive slot) is no keepalive timeout', async () => {
    const { peer: srv, port } = await server(`${pair.serverAddr}:0`, ['--mode', 'hold']);
    const fin = '/proc/sys/net/ipv4/tcp_fin_timeout';
    const before = (await run('ip', ['netns', 'exec', pair.client, 'cat', fin])).stdout.trim();
    // 62 s: the kernel arms the keepalive timer for the 2 s beyond TIME-WAIT's 60, then moves the socket to TIME-WAIT.
    await run('ip', ['netns', 'exec', pair.client, 'sysctl', '-qw', 'net.ipv4.tcp_fin_timeout=62']);
    try {
      const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--mode', 'hold', '--close-after', '800'], { netns: pair.client });
      const lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
      process.kill(srv.pid, 'SIGSTOP'); // its kernel still acknowledges the client's FIN; it never closes its end
      try {
        await client.waitFor(/^CLOSED /);
        // FIN-WAIT-2 now, its keepalive slot armed; 2 s later tcp_keepalive_timer ends the socket and a TIME-WAIT
        // entry takes its place (ss lists it as FIN-WAIT-2 still, with the timewait timer).
        const timeWait = async () => /timer:\(timewait/.test((await run('ip', ['netns', 'exec', pair.client, 'ss', '-Htano', `sport = :${lport}`])).stdout);
        const until = Date.now() + 10_000;
        while (!(await timeWait()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
        expect(await timeWait()).toBe(true);
        await new Promise((r) => setTimeout(r, 500)); // the tracer's records of that moment reach the watch
        expect(watch.events.filter((e: Record<string, any>) => e.type === 'keepalive_timeout' && ends(e, lport, port))).toEqual([]);
      } finally {
        process.kill(srv.pid, 'SIGCONT');
      }
    } finally {
      await run('ip', ['netns', 'exec', pair.client, 'sysctl', '-qw', `net.ipv4.tcp_fin_timeout=${before}`]);
    }
  }, 30_000);

  it('a connect answered by ICMP host unreachable fails: connect_failed with EHOSTUNREACH', async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'hold']);
    // The first SYN is dropped and its retransmission rejected: the ICMP error then reaches the socket from the
    // network, as a router's does, not while connect() still holds it (that would be a soft error the application
    // reads with SO_ERROR before it closes the socket itself).
    const rules = `tcp dport ${port} quota over 100 bytes reject with icmpx type host-unreachable\ntcp dport ${port} drop`;
    await whileUnreachable(port, async () => {
      const client = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`], { netns: pair.client });
      await client.waitFor(/^FAILED \S+ \d+ EHOSTUNREACH/, 10_000);
      const close = await watch.waitEvent((e) => e.type === 'close' && e.how === 'connect_failed' && e.pid === client.pid, 10_000, 'connect_failed');
      expect(close).toMatchObject({ error: 'EHOSTUNREACH', netns: clientNs, peer: { address: pair.serverAddr, port } });
    }, rules);
  }, 30_000);

  it('zero-linger close (checker): rst_sent cause linger by the checker, rst_received on the server', async () => {
    const { peer: srv, port } = await server(`${pair.serverAddr}:0`, ['--mode', 'sink']);
    const ck = await startPeer(['checker', '--connect', `${pair.serverAddr}:${port}`, '--every', '300', '--count', '1'], { netns: pair.client });
    const m = await ck.waitFor(/^CONN \S+ (\d+) /);
    const lport = Number(m[1]);
    const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && ends(e, lport, port), 8000, 'linger rst');
    expect(rst).toMatchObject({ cause: 'linger', reason: 'TCP_STATE', causeInferred: false, pid: ck.pid, comm: 'ka-peer', netns: clientNs });
    const rr = await watch.waitEvent((e) => e.type === 'rst_received' && ends(e, port, lport), 5000, 'rst_received');
    expect(rr).toMatchObject({ inferredCause: 'linger', netns: serverNs, local: { address: pair.serverAddr, port } });
    if (rr.pid !== null) expect(rr.pid).toBe(srv.pid);
    const close = await watch.waitEvent((e) => e.type === 'close' && ends(e, lport, port), 5000, 'checker close');
    expect(close, JSON.stringify(close)).toMatchObject({ how: 'rst_sent', pid: ck.pid });
  });

  it('close with unread data: rst_sent cause unread_data by the server', async () => {
    const { peer: srv, port } = await server(`${pair.serverAddr}:0`, ['--mode', 'unread', '--close-after', '300']);
    const c = await startPeer(['client', '--connect', `${pair.serverAddr}:${port}`, '--mode', 'send-once'], { netns: pair.client });
    const m = await c.waitFor(/^CONN \S+ (\d+) /);
    const lport = Number(m[1]);
    const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && ends(e, port, lport), 8000, 'unread rst');
    expect(rst).toMatchObject({ cause: 'unread_data', reason: 'TCP_ABORT_ON_CLOSE', pid: srv.pid, netns: serverNs });
    // The client receives it in softirq, its connection 300 ms old: no inventory (every 30 s here) listed it, yet
    // the owner is known: the process that connected it, named when /proc still has it as the record arrives (this
    // client exits at once on the reset: it often wins that race), by its pid alone otherwise.
    const rr = await watch.waitEvent((e) => e.type === 'rst_received' && ends(e, lport, port), 8000, 'the client\'s rst_received');
    expect(rr, JSON.stringify(rr)).toMatchObject({ pid: c.pid, netns: clientNs, inferredCause: 'unread_data' });
    expect([rr.comm, rr.ownerVia]).toEqual(rr.ownerVia === 'inventory' ? ['ka-peer', 'inventory'] : [expect.toBeOneOf(['ka-peer', null]), 'connect']);
    const close = await watch.waitEvent((e) => e.type === 'close' && ends(e, lport, port), 8000, 'the client\'s close');
    expect(close, JSON.stringify(close)).toMatchObject({ how: 'rst_received', pid: c.pid });
  });

  it('SYN to a closed port: rst_sent cause no_socket in the server namespace', async () => {
    const ck = await startPeer(['checker', '--connect', `${pair.serverAddr}:7999`, '--every', '100', '--count', '1'], { netns: pair.client });
    await ck.waitFor(/^FAILED /);
    const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && e.local?.port === 7999 && e.local?.address === pair.serverAddr, 5000, 'no_socket rst');
    expect(rst).toMatchObject({ cause: 'no_socket', reason: 'NO_SOCKET', netns: serverNs, pid: null, sk: null });
  });

  it('a listener resets segments of a connection it no longer has: the reset names the segment\'s ends, not the wildcard (IPv4 and IPv6)', async () => {
    // The server resets its end (SO_LINGER {1,0}) while its resets are dropped: the client never learns, and its
    // next lines reach the listener (bound to 0.0.0.0 / ::), which resets them. For those the tracepoint has the
    // listener's wildcard address; the record reads the segment's 4-tuple from the skb.
    for (const [wild, serverAddr, clientAddr] of [['0.0.0.0', pair.serverAddr, pair.clientAddr], ['[::]', `[${pair.serverAddr6}]`, pair.clientAddr6]] as const) {
      const { peer: srv, port } = await server(`${wild}:0`, ['--mode', 'sink', '--close-after', '300', '--linger', '0']);
      await nft(pair.server, `table inet karst {\n  chain out {\n    type filter hook output priority -10; policy accept;\n    tcp sport ${port} tcp flags & rst == rst drop\n  }\n}\n`);
      try {
        await startPeer(['client', '--connect', `${serverAddr}:${port}`, '--mode', 'stream', '--every', '200', '--duration', '2000'], { netns: pair.client });
        const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && e.local?.port === port && e.state === 'TCP_LISTEN', 8000, `listener rst ${wild}`);
        expect(rst).toMatchObject({ netns: serverNs, local: { address: serverAddr.replace(/^\[|\]$/g, ''), port }, peer: { address: clientAddr } });
        expect(rst.sk).not.toBeNull();
        expect(rst.peer.port).toBeGreaterThan(0);
        // the server's process, when an inventory listed it: by the flow's 4-tuple (the connection the segment
        // belonged to), or as the listener of the reset's real local address and port
        if (rst.pid !== null) {
          expect(rst.pid).toBe(srv.pid);
          expect(['inventory', 'listener']).toContain(rst.ownerVia);
        }
      } finally {
        await nft(pair.server, 'delete table inet karst\n');
      }
    }
  });

  it('IPv6: zero-linger close over fd6b:6174::/32', async () => {
    const { port } = await server(`[${pair.serverAddr6}]:0`, ['--mode', 'sink']);
    const ck = await startPeer(['checker', '--connect', `[${pair.serverAddr6}]:${port}`, '--every', '300', '--count', '1'], { netns: pair.client });
    const m = await ck.waitFor(/^CONN \S+ (\d+) /);
    const rst = await watch.waitEvent((e) => e.type === 'rst_sent' && ends(e, Number(m[1]), port), 8000, 'v6 linger rst');
    expect(rst).toMatchObject({ cause: 'linger', pid: ck.pid, local: { address: pair.clientAddr6 }, peer: { address: pair.serverAddr6, port } });
  });

  it('the tracer\'s tracepoints run without perf sampling: every one of them switched off once it attached', async () => {
    const off = Number(/perf sampling off on (\d+) tracepoints/.exec(watch.stderr())?.[1]);
    const listed = await run(nativeBinary('ka-sockinfo'), ['tracepoint-events', String(watch.tracerPid)]);
    expect(off).toBeGreaterThanOrEqual(3); // at least the resets and the keepalive timer's tracepoints
    expect(off).toBe(Number(/^\. events=(\d+)$/m.exec(listed.stdout)?.[1]));
  });

  it('every event printed validates against schema/events.schema.json', async () => {
    const validate = await schemaValidator('events.schema.json');
    expect(watch.events.length).toBeGreaterThan(10);
    for (const e of watch.events) expect(validate(e), JSON.stringify(e)).toEqual([]);
  });
});

describe('watch stop conditions and thresholds', () => {
  const ns = () => ['--netns', `${pair.client},${pair.server}`];
  const linger = async () => {
    const { port } = await server(`${pair.serverAddr}:0`, ['--mode', 'sink']);
    await startPeer(['checker', '--connect', `${pair.serverAddr}:${port}`, '--every', '200', '--count', '3'], { netns: pair.client });
  };

  it('--fail-on rst_sent:linger>1/min exits 3 after the second linger reset', async () => {
    const w = await startWatch(['--json', ...ns(), '--fail-on', 'rst_sent:linger>1/min']);
    await linger();
    const { code } = await w.exited;
    expect(code).toBe(3);
    expect(w.stderr()).toMatch(/threshold exceeded: rst_sent:linger>1\/min/);
    expect(w.events.filter((e) => e.type === 'rst_sent' && e.cause === 'linger').length).toBe(2);
    expect(alive(w.tracerPid)).toBe(false);
    // The kernel's count of the checker's namespace, by the same cause as the events (the tracer counts on a little
    // after the second one).
    const counts = w.events.at(-1) as Record<string, any>;
    expect(counts.type).toBe('counts');
    expect(counts.rstSentByNetnsCause[String(clientNs)].linger).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('in a reset flood --event-rate holds the rest back: stderr tells it as it happens, the counts record has them', async () => {
    const w = await startWatch(['--json', ...ns(), '--event-rate', '5', '--events', 'rst_sent']);
    // Nothing listens on 7999: refused for longer than two counts intervals (5 s each) and a notice take.
    const flood = refusedConnectionsFlood(pair.client, pair.serverAddr, 7999, 16_000);
    try {
      for (let i = 0; i < 200 && !/held back \d+ events beyond --event-rate/.test(w.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(w.stderr()).toMatch(/held back \d+ events beyond --event-rate \(so far rst_sent \d+\); the totals stay exact/);
      // Once two interval ends were sampled: the kernel's reset rate in these namespaces, and what they were.
      for (let i = 0; i < 250 && !/in the kernel/.test(w.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(w.stderr()).toMatch(/the totals stay exact; resets \d+\/s in the kernel \(--netns\): sent no_socket \d+ · received \d+\n/);
    } finally {
      flood.kill();
    }
    w.child.kill('SIGINT');
    await w.exited;
    const counts = w.events.at(-1) as Record<string, any>;
    expect(counts.type).toBe('counts');
    expect(counts.cappedEvents.rst_sent).toBeGreaterThan(0);
    // Every reset the server's namespace sent: delivered, lost or held back.
    expect(counts.rstSentByNetns[String(serverNs)]).toBe(counts.cappedEvents.rst_sent + w.events.filter((e) => e.type === 'rst_sent').length + counts.lostEvents);
    // …and each one received in the client's, counted there. All of them sent for no socket (a closed port).
    expect(counts.rstReceivedByNetns[String(clientNs)]).toBe(counts.rstSentByNetns[String(serverNs)]);
    expect(counts.rstSentByNetnsCause[String(serverNs)]).toEqual({ no_socket: counts.rstSentByNetns[String(serverNs)] });
  }, 60_000);

  it('--until rst_received stops with 0; human lines by default; --interval samples', async () => {
    const w = await startWatch([...ns(), '--until', 'rst_received', '--events', 'rst_sent,rst_received']);
    const out: string[] = [];
    w.child.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
    await linger();
    expect((await w.exited).code).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/rst_sent\s+198\.18\.120\.1:\d+ -> 198\.18\.120\.2:\d+\s+cause=linger reason=TCP_STATE\s+ka-peer\[\d+\]/);
    expect(text).toMatch(/rst_received .* inferred cause=linger/);
    // The last line: the kernel's counts, the checker's namespace by name with its linger resets.
    expect(w.stderr()).toMatch(new RegExp(`counts \\(whole host\\): resets sent \\{.*\\} \\(by namespace .*${pair.client}: linger \\d+`));

    const s = await startWatch(['--json', ...ns(), '--interval', '1', '--events', 'close', '--duration', '2.5']);
    expect((await s.exited).code).toBe(0);
    const samples = s.events.filter((e) => e.type === 'sample') as Array<Record<string, any>>;
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(Array.isArray(samples[0]!.connections)).toBe(true);
    expect(s.events.at(-1)).toMatchObject({ type: 'counts', lostEvents: expect.any(Number), rstSentByReason: expect.any(Object) });
  }, 40_000);
});
