// Application knowledge against real servers from Debian packages (scripts/setup.sh installs them): each is started
// here in a kat-app-<pid>-srv namespace with a temporary config and data dir (never as a system service) and
// stopped after; clients run in kat-app-<pid>-cli. `ka-top snapshot --format json --pid N` must show the values
// read from their sockets, the application recognised and a fix naming the application's own setting.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/domain/connection.js';
import type { Finding } from '../../src/domain/finding.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { delNetnsPrefix, makePair, runIn, startIn, type Pair } from '../../src/lab/topology.js';
import { run } from '../../src/sources/exec.js';
import { runCli } from '../helpers/cli.js';
import { schemaValidator } from '../helpers/schema.js';

const PREFIX = `kat-app-${process.pid}-`;
// Debian's postgresql package installs its server under a versioned directory (15 on Debian 12).
const PG_BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort((x, y) => Number(y) - Number(x))[0]}/bin`;
const PORTS = { redis: 16379, redisCustom: 16380, nginx: 18080, haproxy: 18443, pg: 15432, ssh: 10022 };

let pair: Pair;
let dir: string;
let validate: (doc: unknown) => string[];
const started: ChildProcess[] = [];
const pids: Record<string, number> = {};

/** A long-running process inside a namespace, stopped in afterAll; its stderr is kept for failure messages. */
function startServer(ns: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const p = startIn(ns, cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  p.on('exit', (code) => { if (code) console.error(`${cmd} exited ${code}: ${err}`); });
  started.push(p);
  return p;
}

async function until<T>(what: string, f: () => Promise<T | null> | T | null, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const listening = (port: number) => until(`a listener on ${port}`, async () => ((await runIn(pair.server, 'ss', ['-Hltn', `sport = :${port}`])).stdout.trim() ? true : null));

/** All descendants of a pid (servers fork workers and per-connection children). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** A client in the client namespace that connects, says CONN and holds the connection. */
async function client(name: string, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const p = startServer(pair.client, cmd, args, env);
  pids[name] = p.pid!;
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(`${name} connected`, () => (out.includes('CONN') ? true : null));
}

const pyClient = (port: number, opts = '') => ['-c', `import socket,time\ns=socket.create_connection(("${pair.serverAddr}",${port}))\n${opts}\nprint("CONN",flush=True)\ntime.sleep(600)`];

async function snapshot(args: string[]): Promise<SnapshotDocument> {
  const r = await runCli(['snapshot', '--format', 'json', ...args], { timeoutMs: 120_000 });
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as SnapshotDocument;
  expect(validate(doc)).toEqual([]);
  return doc;
}

let doc: SnapshotDocument;
/** The server-side connection accepted on `port` from the client namespace (HAProxy's checks and proxied
 *  connections to nginx stay inside the server namespace). */
const accepted = (port: number): Connection => {
  const c = doc.connections.find((x) => x.state === 'ESTAB' && x.local.port === port && x.peer.address === pair.clientAddr);
  if (!c) throw new Error(`no accepted connection on port ${port}: ${doc.connections.map((x) => `${x.state} ${x.local.port}`).join(', ')}`);
  return c;
};
const ownedBy = (pid: number): Connection => {
  const c = doc.connections.find((x) => x.state === 'ESTAB' && x.process?.pid === pid);
  if (!c) throw new Error(`no ESTAB connection of pid ${pid}`);
  return c;
};
const findingOf = (c: Connection, rule: string): Finding => {
  const f = doc.findings!.find((x) => x.rule === rule && x.connections.includes(c.id));
  if (!f) throw new Error(`no ${rule} finding for ${c.id}: ${doc.findings!.map((x) => `${x.rule} [${x.connections.join(' ')}]`).join('; ')}`);
  return f;
};
const values = (c: Connection) => [c.keepalive.enabled, c.keepalive.idleSec, c.keepalive.intervalSec, c.keepalive.probes];

beforeAll(async () => {
  validate = await schemaValidator('snapshot.schema.json');
  await delNetnsPrefix(PREFIX);
  pair = await makePair(PREFIX, 84);
  dir = mkdtempSync(join(tmpdir(), 'kat-app-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as its own user and needs to reach its data dir
  const a = pair.serverAddr;

  // PostgreSQL: initdb is the slowest step; the other servers start while it runs.
  const pgDir = join(dir, 'pg');
  mkdirSync(pgDir);
  const pgUid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  chownSync(pgDir, pgUid, pgUid);
  const asPg = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
  const initdb = run('setpriv', [...asPg, `${PG_BIN}/initdb`, '-D', join(pgDir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions'], { timeoutMs: 60_000 });

  startServer(pair.server, 'redis-server', ['--port', String(PORTS.redis), '--bind', a, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  startServer(pair.server, 'redis-server', ['--port', String(PORTS.redisCustom), '--bind', a, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--tcp-keepalive', '280']);

  const ng = join(dir, 'nginx');
  mkdirSync(ng);
  writeFileSync(join(ng, 'nginx.conf'), [
    'daemon off; worker_processes 1; pid nginx.pid; error_log error.log;',
    'events { worker_connections 64; }',
    // a client that sends nothing is kept for the whole test, however slow the machine
    'http { access_log off; client_header_timeout 600s; client_body_temp_path tmp; proxy_temp_path tmp; fastcgi_temp_path tmp; uwsgi_temp_path tmp; scgi_temp_path tmp;',
    `  server { listen ${a}:${PORTS.nginx} so_keepalive=30m::10; return 204; } }`,
  ].join('\n'));
  const nginx = startServer(pair.server, 'nginx', ['-p', ng, '-c', join(ng, 'nginx.conf'), '-e', join(ng, 'error.log')]);
  pids.nginx = nginx.pid!;

  const hc = join(dir, 'haproxy.cfg');
  writeFileSync(hc, [
    'global', '  maxconn 64',
    'defaults', '  mode tcp', '  timeout connect 2s', '  timeout client 600s', '  timeout server 600s',
    'frontend fe', `  bind ${a}:${PORTS.haproxy}`, '  option clitcpka', '  clitcpka-idle 1000s', '  clitcpka-intvl 20s', '  clitcpka-cnt 4', '  default_backend be',
    // health checks every 200 ms: each closes with a reset (SO_LINGER {1,0})
    'backend be', '  option srvtcpka', '  srvtcpka-idle 1100s', `  server web ${a}:${PORTS.nginx} check inter 200ms`, '',
  ].join('\n'));
  const haproxy = startServer(pair.server, 'haproxy', ['-db', '-f', hc]);
  pids.haproxy = haproxy.pid!;

  const sd = join(dir, 'ssh');
  mkdirSync(sd);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sd, 'hostkey')]);
  writeFileSync(join(sd, 'sshd_config'), `Port ${PORTS.ssh}\nListenAddress ${a}\nHostKey ${join(sd, 'hostkey')}\nPidFile ${join(sd, 'sshd.pid')}\nUsePAM no\nLoginGraceTime 600\n`);
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory (empty; the package ships it via tmpfiles)
  const sshd = startServer(pair.server, '/usr/sbin/sshd', ['-D', '-e', '-f', join(sd, 'sshd_config')]);
  pids.sshd = sshd.pid!;

  const init = await initdb;
  expect(init.code, init.stderr).toBe(0);
  const pg = startServer(pair.server, 'setpriv', [...asPg, `${PG_BIN}/postgres`, '-D', join(pgDir, 'data'), '-c', `listen_addresses=${a}`, '-c', `port=${PORTS.pg}`,
    '-c', `unix_socket_directories=${pgDir}`, '-c', 'tcp_keepalives_idle=600', '-c', 'tcp_user_timeout=30000', '-c', 'max_connections=10', '-c', 'shared_buffers=16MB', '-c', 'authentication_timeout=600']);
  pids.postgres = pg.pid!;

  for (const port of Object.values(PORTS)) await listening(port);

  // Clients, all at once: plain connections to each server (the server side is what is checked), a Node client
  // with setKeepAlive, a plain bash client under libkeepalive, and an unknown program that sets its own options
  // (values no table entry produces).
  const py = '/usr/bin/python3';
  await Promise.all([
    ...Object.entries(PORTS).map(([name, port]) => client(`to-${name}`, py, pyClient(port))),
    client('node', process.execPath, ['-e', `const s=require('net').connect(${PORTS.redis},'${a}',()=>{s.setKeepAlive(true,600000);console.log('CONN')});setTimeout(()=>{},600000)`]),
    client('libkeepalive', 'bash', ['-c', `exec 3<>/dev/tcp/${a}/${PORTS.redis}; echo CONN; read -t 600 <&3`], { LD_PRELOAD: 'libkeepalive.so', KEEPIDLE: '900', KEEPINTVL: '60', KEEPCNT: '4' }),
    client('unknown', py, pyClient(PORTS.redis, 's.setsockopt(socket.SOL_SOCKET,socket.SO_KEEPALIVE,1);s.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPIDLE,700);s.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPINTVL,20);s.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPCNT,4)')),
  ]);

  // One capture (the HAProxy checks' resets need the tracer) of every server with its workers and
  // per-connection children, and the clients of interest; findings rest on both inventories of the window.
  const serverPids = started.slice(0, 6).flatMap((p) => [p.pid!, ...descendants(p.pid!)]);
  const clients = ['node', 'libkeepalive', 'unknown', 'to-redis'].map((n) => pids[n]!);
  // Only the test's namespaces are listed: other work on the host (thousands of sockets) does not slow it down.
  doc = await snapshot(['--capture', '3s', '--netns', pair.server, '--netns', pair.client, '--pid', [...serverPids, ...clients].join(',')]);
  // scripts/capture-apps.sh sets this to refresh the unit tests' fixture from a real run
  if (process.env.KAT_APPS_CAPTURE) writeFileSync(process.env.KAT_APPS_CAPTURE, `${JSON.stringify(doc, null, 1)}\n`);
}, 150_000);

afterAll(async () => {
  for (const p of started) p.kill('SIGTERM');
  await Promise.all(started.map((p) => (p.exitCode !== null || p.signalCode !== null ? null : new Promise((r) => p.once('exit', r)))));
  await delNetnsPrefix(PREFIX);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('applications recognised on real servers', () => {
  it('Redis default tcp-keepalive 300: idle 300 / interval 100 / probes 3, fix `tcp-keepalive 192`', () => {
    const c = accepted(PORTS.redis);
    expect(values(c)).toEqual([true, 300, 100, 3]);
    expect(c.application).toMatchObject({ id: 'redis', recognisedBy: 'comm redis-server', keepalive: 'Redis default tcp-keepalive 300', keepaliveRule: 'redis' });
    const f = findingOf(c, 'keepalive-idle-over-middlebox-timeout');
    expect(f.fix).toMatch(/^the idle is set on the socket: lower it, most specific first: Redis \(redis-server\[\d+\]; recognised by comm redis-server\): `tcp-keepalive 192`/);
    // most specific first: the owner's setting, then the socket option (no sysctl for a value set on the socket)
    expect(f.fix.indexOf('tcp-keepalive 192')).toBeLessThan(f.fix.indexOf('TCP_KEEPIDLE=192'));
    expect(f.evidence.applications).toContainEqual(expect.objectContaining({ application: 'redis', recognisedBy: 'comm redis-server', keepaliveRule: 'redis' }));
  });

  it('Redis tcp-keepalive 280: idle 280 / interval 93 / probes 3', () => {
    const c = accepted(PORTS.redisCustom);
    expect(values(c)).toEqual([true, 280, 93, 3]);
    expect(c.application).toMatchObject({ id: 'redis', keepalive: 'Redis tcp-keepalive 280' });
    expect(findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/`tcp-keepalive 192` in redis.conf/);
  });

  it('nginx listen so_keepalive=30m::10: idle 1800 and 10 probes on the socket, interval from the sysctl', () => {
    const c = accepted(PORTS.nginx);
    expect(values(c)).toEqual([true, 1800, 75, 10]);
    expect(c.keepalive.sources).toEqual({ idle: 'socket', interval: 'sysctl', probes: 'socket' });
    expect(c.application).toMatchObject({ id: 'nginx', recognisedBy: 'comm nginx', keepalive: 'nginx listen … so_keepalive=1800s::10' });
    expect(findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/nginx \(nginx\[\d+\]; recognised by comm nginx\): `listen … so_keepalive=192s:30s:5`/);
  });

  it('PostgreSQL tcp_keepalives_idle 600 and tcp_user_timeout 30000', () => {
    const c = accepted(PORTS.pg);
    expect(values(c)).toEqual([true, 600, 75, 9]);
    expect(c.userTimeoutMs).toBe(30_000);
    expect(c.application).toMatchObject({ id: 'postgresql', recognisedBy: 'comm postgres', keepalive: 'PostgreSQL tcp_keepalives_idle = 600, tcp_user_timeout = 30000' });
    expect(findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/PostgreSQL \(postgres\[\d+\]; recognised by comm postgres\): `tcp_keepalives_idle = 192`, `tcp_keepalives_interval = 30`, `tcp_keepalives_count = 5` in postgresql.conf/);
    const ut = findingOf(c, 'user-timeout-overrides-keepalive');
    expect(ut.fix).toMatch(/most specific first: `tcp_user_timeout` \(ms\) in postgresql.conf.*\(PostgreSQL, recognised by comm postgres\); or setsockopt\(TCP_USER_TIMEOUT\)/);
  });

  it('HAProxy option clitcpka with clitcpka-idle/intvl/cnt on the client side, srvtcpka-idle on the server side', () => {
    const front = accepted(PORTS.haproxy);
    expect(values(front)).toEqual([true, 1000, 20, 4]);
    expect(front.application).toMatchObject({ id: 'haproxy', recognisedBy: 'comm haproxy', keepalive: 'HAProxy option tcpka with *tcpka-idle 1000s, *tcpka-intvl 20s, *tcpka-cnt 4' });
    const back = doc.connections.find((x) => x.state === 'ESTAB' && x.process?.pid === pids.haproxy && x.peer.port === PORTS.nginx && x.keepalive.idleSec === 1100);
    expect(back, 'the proxied connection to the backend').toBeTruthy();
    expect(findingOf(front, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/HAProxy \(haproxy\[\d+\]; recognised by comm haproxy\): `option tcpka` with `clitcpka-idle 192s`, `clitcpka-intvl 30s`, `clitcpka-cnt 5`/);
  });

  it('OpenSSH server: TCPKeepAlive yes (default) with the namespace sysctl timing, fix ClientAliveInterval', () => {
    const c = accepted(PORTS.ssh);
    expect(values(c)).toEqual([true, 7200, 75, 9]);
    expect(c.keepalive.sources.idle).toBe('sysctl');
    expect(c.application).toMatchObject({ id: 'openssh', recognisedBy: 'comm sshd', keepalive: 'OpenSSH default TCPKeepAlive yes (SO_KEEPALIVE, timing from the namespace sysctl)' });
    const fix = findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix;
    expect(fix).toMatch(/^most specific first: OpenSSH \(sshd\[\d+\]; recognised by comm sshd\): `ClientAliveInterval 192` in sshd_config/);
    expect(fix.indexOf('ClientAliveInterval')).toBeLessThan(fix.indexOf('TCP_KEEPIDLE=192'));
    expect(fix.indexOf('TCP_KEEPIDLE=192')).toBeLessThan(fix.indexOf(`net.ipv4.tcp_keepalive_time=192\` in network namespace ${pair.server}`));
  });

  it('Node client with socket.setKeepAlive(true, 600000): libuv adds interval 1 s and 10 probes', () => {
    const c = ownedBy(pids.node!);
    expect(values(c)).toEqual([true, 600, 1, 10]);
    expect(c.application).toMatchObject({ id: 'node', recognisedBy: 'comm node', keepalive: 'Node socket.setKeepAlive(true, 600000)' });
    expect(findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/Node\.js \(node\[\d+\]; recognised by comm node\): `socket\.setKeepAlive\(true, 192000\)`/);
  });

  it('a plain bash client under libkeepalive (LD_PRELOAD, KEEPIDLE=900 KEEPINTVL=60 KEEPCNT=4)', () => {
    const c = ownedBy(pids.libkeepalive!);
    expect(values(c)).toEqual([true, 900, 60, 4]);
    expect(c.process?.preload).toEqual(['libkeepalive.so']);
    expect(c.application).toMatchObject({ id: 'libkeepalive', recognisedBy: 'LD_PRELOAD libkeepalive.so', keepalive: 'libkeepalive (LD_PRELOAD) KEEPIDLE/KEEPINTVL/KEEPCNT 900s:60s:4' });
    expect(findingOf(c, 'keepalive-idle-over-middlebox-timeout').fix).toMatch(/libkeepalive \(LD_PRELOAD\) \(bash\[\d+\]; recognised by LD_PRELOAD libkeepalive\.so\): `KEEPIDLE=192 KEEPINTVL=30 KEEPCNT=5`/);
  });

  it('an unknown program: generic fixes only, no false recognition', () => {
    const c = ownedBy(pids.unknown!);
    expect(values(c)).toEqual([true, 700, 20, 4]);
    expect(c.application).toEqual({ id: null, name: null, recognisedBy: null, keepalive: 'set by the application', keepaliveRule: null });
    const f = findingOf(c, 'keepalive-idle-over-middlebox-timeout');
    expect(f.fix).toBe('the idle is set on the socket: lower it, most specific first: the socket options (SO_KEEPALIVE=1, TCP_KEEPIDLE=192, TCP_KEEPINTVL=30, TCP_KEEPCNT=5); for a program with no keepalive setting: `KEEPIDLE=192 KEEPINTVL=30 KEEPCNT=5` in the environment next to its `LD_PRELOAD=libkeepalive.so` (Debian package libkeepalive0; it sets SO_KEEPALIVE on every socket the program opens).');
    expect(f.evidence.applications).toEqual([{ pid: pids.unknown, comm: 'python3', application: null, recognisedBy: null, keepalive: 'set by the application', keepaliveRule: null }]);
  });

  it('a plain client of Redis is not taken for Redis (it does not listen on 6379-like ports, its name is its own)', () => {
    const c = ownedBy(pids['to-redis']!);
    expect(c.keepalive.enabled).toBe(false);
    expect(c.application).toEqual({ id: null, name: null, recognisedBy: null, keepalive: null, keepaliveRule: null });
  });

  it('HAProxy health checks: zero-linger-resets names the checker and puts the remedy on the backend\'s logging', () => {
    expect(doc.capture!.tracing, 'the capture needs tracing (root, tracefs)').toMatchObject({ on: true });
    const f = doc.findings!.find((x) => x.rule === 'zero-linger-resets' && x.processes.some((p) => p.pid === pids.haproxy));
    expect(f, JSON.stringify(doc.capture!.eventsByType)).toBeTruthy();
    expect(f!.summary).toMatch(/These are HAProxy `check` health checks \(recognised by comm haproxy\)/);
    expect(f!.fix).toMatch(/^HAProxy closes its health checks with a reset on purpose .*on the backend, do not log or alert on resets from the HAProxy host's address/);
    expect(f!.evidence.checker).toEqual({ application: 'haproxy', recognisedBy: 'comm haproxy' });
  });
});
