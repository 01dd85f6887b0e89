// The applications table and recognition, replayed on the snapshot of real servers (scripts/capture-apps.sh) and
// on real connections with the values a runtime default would leave (Go, gRPC).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import type { KaEvent } from '../../src/domain/event.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { fixValues, recogniseOwner, withApplications } from '../../src/model/apps/recognise.js';
import { APPS } from '../../src/model/apps/table.js';
import { ruleDefaultSysctlBehindMiddlebox } from '../../src/model/findings/default-sysctl-behind-middlebox.js';
import { ruleIdleWithoutKeepalive } from '../../src/model/findings/idle-without-keepalive.js';
import { ruleKeepaliveOverMiddlebox } from '../../src/model/findings/keepalive-over-middlebox.js';
import { rulePeersNotAnswering } from '../../src/model/findings/peers-not-answering.js';
import { ruleUserTimeout } from '../../src/model/findings/user-timeout.js';
import { ruleZeroLingerResets } from '../../src/model/findings/zero-linger-resets.js';
import { conn, input, kaOn } from '../helpers/findings-fixture.js';

const REAL = JSON.parse(readFileSync(new URL('../fixtures/apps/servers-capture.json', import.meta.url), 'utf8')) as SnapshotDocument;
/** The real connections as ka-top read them, without what recognition added. */
const fresh = (): Connection[] => REAL.connections.map((c) => {
  const { application: _, ...rest } = structuredClone(c);
  return rest as Connection;
});

describe('recognition on the real servers', () => {
  const conns = withApplications(fresh());
  const est = (comm: string) => conns.filter((c) => c.state === 'ESTAB' && c.process?.comm === comm);

  it('recognises each server by its comm and reads its keepalive pattern', () => {
    const seen = Object.fromEntries(['redis-server', 'nginx', 'postgres', 'haproxy', 'sshd', 'node', 'bash', 'python3']
      .map((comm) => [comm, [...new Set(est(comm).map((c) => `${c.application?.id}|${c.application?.recognisedBy}`))]]));
    expect(seen).toEqual({
      'redis-server': ['redis|comm redis-server'], nginx: ['nginx|comm nginx'], postgres: ['postgresql|comm postgres'],
      haproxy: ['haproxy|comm haproxy'], sshd: ['openssh|comm sshd'], node: ['node|comm node'],
      bash: ['libkeepalive|LD_PRELOAD libkeepalive.so'], python3: ['null|null'],
    });
    const says = new Set(conns.filter((c) => c.state === 'ESTAB').map((c) => c.application?.keepalive));
    for (const s of ['Redis default tcp-keepalive 300', 'Redis tcp-keepalive 280', 'nginx listen … so_keepalive=1800s::10',
      'PostgreSQL tcp_keepalives_idle = 600, tcp_user_timeout = 30000', 'OpenSSH default TCPKeepAlive yes (SO_KEEPALIVE, timing from the namespace sysctl)',
      'Node socket.setKeepAlive(true, 600000)', 'libkeepalive (LD_PRELOAD) KEEPIDLE/KEEPINTVL/KEEPCNT 900s:60s:4', 'set by the application']) {
      expect(says).toContain(s);
    }
  });

  it('gives the same answer as the inventory did when the snapshot was taken', () => {
    expect(conns.map((c) => c.application)).toEqual(REAL.connections.map((c) => c.application));
  });

  it('falls back to exe, cmdline, then listening ports; a bare name matches nothing', () => {
    const p = { comm: 'MainThread', cmdline: 'x', exe: '/usr/local/bin/node' };
    expect(recogniseOwner(p)).toMatchObject({ entry: { id: 'node' }, by: 'exe node' });
    expect(recogniseOwner({ comm: 'postgres: walwriter', cmdline: 'postgres: walwriter ' })).toMatchObject({ entry: { id: 'postgresql' }, by: 'cmdline postgres:' });
    expect(recogniseOwner({ comm: 'python3', cmdline: 'python3 srv.py' }, [6379])).toMatchObject({ entry: { id: 'redis' }, by: 'listening port 6379' });
    expect(recogniseOwner({ comm: 'python3', cmdline: 'python3 redis_client.py', exe: '/usr/bin/python3.11' })).toBeNull();
  });
});

describe('fixes for the real owners in the other rules', () => {
  const owner = (comm: string) => REAL.connections.find((c) => c.state === 'ESTAB' && c.process?.comm === comm)!.process!;

  it('keepalive off (Redis with tcp-keepalive 0): Redis\'s setting, then SO_KEEPALIVE, then the sysctl', () => {
    const c = conn({ process: owner('redis-server'), processes: [owner('redis-server')], keepalive: { enabled: false }, idleMs: { send: 300_000, recv: 300_000, ack: 300_000 } });
    const f = ruleIdleWithoutKeepalive(input({ connections: [c] }));
    expect(f[0]!.fix).toMatch(/^enable keepalive on these sockets with an idle below 193 s, most specific first: Redis \(redis-server\[\d+\]; recognised by comm redis-server\): `tcp-keepalive 192`.*; or the socket options \(SO_KEEPALIVE=1, TCP_KEEPIDLE=192.*\); with keepalive on, `sysctl -w net\.ipv4\.tcp_keepalive_time=192`/);
    expect(f[0]!.evidence.applications).toEqual([expect.objectContaining({ application: 'redis', keepalive: null })]);
  });

  it('peers not answering probes: the owner\'s settings for interval and count come before the socket option', () => {
    const pg = conn({ process: owner('postgres'), processes: [owner('postgres')], keepalive: { ...kaOn(600), timer: { remainingMs: 1000, probesOutstanding: 2 } } });
    const f = rulePeersNotAnswering(input({ connections: [pg] }));
    expect(f[0]!.fix).toMatch(/most specific first: PostgreSQL `tcp_keepalives_idle \/ tcp_keepalives_interval \/ tcp_keepalives_count`; or TCP_KEEPINTVL\/TCP_KEEPCNT on the socket; or net\.ipv4\.tcp_keepalive_intvl/);
  });

  it('namespace on the Linux defaults: the owners\' settings first, then the sysctl for every socket', () => {
    const sshd = conn({ process: owner('sshd'), processes: [owner('sshd')], keepalive: kaOn(7200, 'sysctl') });
    const f = ruleDefaultSysctlBehindMiddlebox(input({ connections: [sshd] }));
    expect(f[0]!.fix).toMatch(/^per application: OpenSSH \(sshd\[\d+\]; recognised by comm sshd\): `ClientAliveInterval 192`.*; for every socket in netns kat-app: `sysctl -w net\.ipv4\.tcp_keepalive_time=192/);
  });
});

describe('runtime defaults on an unrecognised program', () => {
  it('Go: idle 15 / interval 15 names net.Dialer.KeepAlive first, then the socket options and libkeepalive', () => {
    const go = conn({ keepalive: { ...kaOn(15), intervalSec: 15, probes: 9, sources: { idle: 'socket', interval: 'socket', probes: 'sysctl' } } });
    const [c] = withApplications([go]);
    expect(c!.application).toMatchObject({ id: null, keepalive: 'matches Go\'s net default KeepAlive 15 s (idle 15 s, interval 15 s)', keepaliveRule: 'go' });
    // a middlebox with a 10 s idle timeout makes the finding fire
    const f = ruleKeepaliveOverMiddlebox(input({ connections: [c!], idleTimeouts: [{ name: 'tight', seconds: 10 }] }));
    expect(f[0]!.fix).toMatch(/^the idle is set on the socket: lower it, most specific first: ka-peer\[\d+\], whose socket matches Go's net default KeepAlive 15 s .*: if it is a Go program: `net\.Dialer\{KeepAlive: 8 \* time\.Second\}`.*; or the socket options \(SO_KEEPALIVE=1, TCP_KEEPIDLE=8, TCP_KEEPINTVL=2, TCP_KEEPCNT=5\); for a program with no keepalive setting: `KEEPIDLE=8/);
  });

  it('gRPC: a 20 s TCP_USER_TIMEOUT names the gRPC keepalive_timeout first', () => {
    const [c] = withApplications([conn({ userTimeoutMs: 20_000, keepalive: { ...kaOn(10), intervalSec: 10, probes: 9 } })]);
    expect(c!.application?.keepaliveRule).toBe('grpc');
    expect(ruleUserTimeout(input({ connections: [c!] }))[0]!.fix).toMatch(/most specific first: gRPC `GRPC_ARG_KEEPALIVE_TIMEOUT_MS` \/ `keepalive_timeout` \(it sets TCP_USER_TIMEOUT\) \(matches gRPC's default keepalive_timeout 20 s/);
  });
});

describe('one process, several sets of keepalive facts', () => {
  it('each connection gets the view of its own facts, and equal facts share one view', () => {
    const ka = { ...kaOn(10), intervalSec: 10, probes: 9 };
    const [a, b, plain, other] = withApplications([
      conn({ userTimeoutMs: 20_000, keepalive: ka }), conn({ userTimeoutMs: 20_000, keepalive: { ...ka } }),
      conn({ keepalive: ka }), conn({ keepalive: { ...ka, idleSec: 15, intervalSec: 15, sources: { idle: 'socket', interval: 'socket', probes: 'sysctl' } } }),
    ]);
    expect(new Set([a, b, plain, other].map((c) => c!.process!.pid)).size).toBe(1);
    expect(a!.application).toBe(b!.application);
    expect(a!.application?.keepaliveRule).toBe('grpc');
    expect(plain!.application?.keepaliveRule).not.toBe('grpc');
    expect(other!.application?.keepaliveRule).toBe('go');
  });
});

describe('checkers closing with SO_LINGER {1,0}', () => {
  const linger = REAL.events!.filter((e) => e.type === 'rst_sent' && e.cause === 'linger');
  const window = { startMs: 0, durationMs: 3_000, startInventoryMs: 0 };

  it('HAProxy `check` in the real capture: named, with the remedy on the backend side', () => {
    expect(linger.length).toBeGreaterThan(0);
    const f = ruleZeroLingerResets(input({ events: linger, connections: REAL.connections, window }));
    expect(f.map((x) => x.evidence.checker)).toEqual([{ application: 'haproxy', recognisedBy: 'comm haproxy' }]);
  });

  it('keepalived TCP_CHECK by its comm; an unknown checker keeps the generic advice', () => {
    const as = (comm: string) => linger.map((e) => ({ ...e, pid: 999_999, comm }) as KaEvent);
    const [k] = ruleZeroLingerResets(input({ events: as('keepalived'), window }));
    expect(k!.summary).toMatch(/These are keepalived `TCP_CHECK` \(recognised by comm keepalived\)/);
    expect(k!.fix).toMatch(/^keepalived's TCP_CHECK closes every check with SO_LINGER \{1,0\}/);
    const [u] = ruleZeroLingerResets(input({ events: as('my-checker'), window }));
    expect(u!.evidence.checker).toBeNull();
    expect(u!.fix).toMatch(/^if it is a health checker, exclude its source from reset alerts/);
  });
});

describe('the table', () => {
  it('every entry cites a source and writes its fix with the values asked for', () => {
    for (const a of APPS) {
      expect(a.sources.length, a.id).toBeGreaterThan(0);
      if (a.id !== 'keepalived') expect(a.keepaliveFix(fixValues(123)), a.id).toMatch(/123/);
    }
    expect(new Set(APPS.map((a) => a.id)).size).toBe(APPS.length);
  });
});
