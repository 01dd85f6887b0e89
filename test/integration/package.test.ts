// The package as a user gets it: `npm pack` of a clean copy of the working tree (prepack builds everything),
// `npm i -g --prefix` into a scratch prefix, then the installed `ka-top` run from / — no repository in sight — as root
// and as nobody, on the machine's Node, on Node 22 (named by KA_TOP_NODE) and on Node 24 (npm's node@24 placed next to
// the command, as nvm does, which is also how the bin shim finds node under sudo): the CLI, and the TUI in a pty; the
// other architecture's helper under qemu-user; and an install whose helpers are gone. Needs root, the cross gcc and
// qemu-user-static (scripts/setup.sh).
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../src/sources/exec.js';
import { startPeer, stopAllPeers } from '../helpers/peer.js';
import { spawnCli } from '../helpers/pty.js';

const ROOT = packagePath('');
const NATIVE = process.arch;
const OTHER = NATIVE === 'arm64' ? 'x64' : 'arm64';
const QEMU = OTHER === 'arm64' ? 'qemu-aarch64-static' : 'qemu-x86_64-static';

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

// npm's own variables from the outer `npx vitest` must not steer the inner npm (prefix, global, …).
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Out> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd ?? '/', env: opts.env ?? cleanEnv, timeout: opts.timeoutMs ?? 150_000, maxBuffer: 256 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

let dir = '';
let prefix = '';
let installed = '';
let kaTop = '';
let files: string[] = [];
let node24 = '';
/** What hosts run besides 24: npm's node@22, named by KA_TOP_NODE (set once fetched). */
const node22Env: NodeJS.ProcessEnv = {};

/** The installed command, run from / as root or (through setpriv) as nobody. */
function kaTopAs(user: 'root' | 'nobody', args: string[], env: NodeJS.ProcessEnv = {}): Promise<Out> {
  const opts = { env: { ...cleanEnv, ...env } };
  return user === 'root' ? sh(kaTop, args, opts) : sh('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', kaTop, ...args], opts);
}

beforeAll(async () => {
  dir = mkdtempSync('/tmp/kat-pkg-');
  chmodSync(dir, 0o755); // nobody runs the installed package from here
  const src = join(dir, 'checkout');
  // the working tree as a fresh clone has it (tracked and new files, no dist), with the dependencies `npm ci`
  // installed: hard links, timestamps kept, so make sees them up to date and the repository's copy is never touched
  const listed = await sh('git', ['-C', ROOT, 'ls-files', '-z', '-co', '--exclude-standard']);
  expect(listed.code).toBe(0);
  for (const f of listed.stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    cpSync(join(ROOT, f), join(src, f), { preserveTimestamps: true });
  }
  expect((await sh('cp', ['-al', join(ROOT, 'node_modules'), join(src, 'node_modules')])).code).toBe(0);

  // npm's node@N packages bring real Node binaries (fetched while the package is built)
  const nodeOf = (major: number) => sh('npm', ['exec', '--yes', `--package=node@${major}`, '--', 'node', '-p', 'process.execPath'], { timeoutMs: 180_000 });
  const [pack, which24, which22] = await Promise.all([
    sh('npm', ['pack', '--json', '--pack-destination', dir, '--loglevel=error'], { cwd: src, timeoutMs: 180_000 }),
    nodeOf(24),
    nodeOf(22),
  ]);
  expect(pack.code, pack.stderr).toBe(0);
  expect(which24.code, which24.stderr).toBe(0);
  expect(which22.code, which22.stderr).toBe(0);
  node24 = which24.stdout.trim();
  // outside /root, which nobody cannot enter
  node22Env.KA_TOP_NODE = join(dir, 'node22');
  copyFileSync(which22.stdout.trim(), node22Env.KA_TOP_NODE);
  chmodSync(node22Env.KA_TOP_NODE, 0o755);
  const [report] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  files = report!.files.map((f) => f.path);
  rmSync(src, { recursive: true, force: true });

  prefix = join(dir, 'prefix');
  const install = await sh('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
    join(dir, report!.filename)], { timeoutMs: 180_000 });
  expect(install.code, install.stderr).toBe(0);
  installed = join(prefix, 'lib/node_modules/ka-top');
  kaTop = join(prefix, 'bin/ka-top');
  // Longer than its steps' own bounds (pack and the Nodes side by side, then the install): a slow step fails with what
  // npm said, not as a hook timeout (a whole-suite run beside two busy loops once took over 300 s here).
}, 400_000);

afterAll(async () => {
  await stopAllPeers();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('has the program, both architectures\' helpers, man page, completions and LICENSE, and nothing test-only', () => {
    for (const f of ['bin/ka-top', 'dist/cli/main.js', 'dist/man/ka-top.1', 'dist/completion/ka-top.bash', 'dist/completion/_ka-top',
      'LICENSE', 'README.md', 'schema/snapshot.schema.json']) expect(files).toContain(f);
    for (const arch of ['x64', 'arm64']) for (const h of ['ka-sockinfo', 'ka-peer']) expect(files).toContain(`dist/bin/${arch}/${h}`);
    expect(files.filter((f) => /^test\/|test-results|\.built$|\.map$|node_modules/.test(f))).toEqual([]);
    // every `files` entry that exists in the checkout is packed (`bpf/`, the tracing program, once it is there)
    const entries = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    for (const entry of entries.filter((e) => !e.startsWith('!') && existsSync(join(ROOT, e)))) {
      expect(files.some((f) => f === entry || f.startsWith(`${entry}/`)), entry).toBe(true);
    }
  });

  it('installs the command, its man page and links nothing to the repository', async () => {
    const man = await sh('man', ['-M', join(prefix, 'share/man'), '-P', 'cat', 'ka-top'], { env: { ...cleanEnv, MANWIDTH: '200' } });
    expect(man.code, man.stderr).toBe(0);
    // the man page is the --help texts: every option of a command's help is in it
    const help = await kaTopAs('root', ['snapshot', '--help']);
    for (const opt of new Set(help.stdout.match(/--[a-z][\w-]+/g))) expect(man.stdout).toContain(opt);
    expect(man.stdout).toMatch(/ka-top completion/);
    const links = await sh('find', [installed, '-type', 'l', '-lname', `${ROOT}*`]);
    expect(links.stdout).toBe('');
  });

  it('prints completion scripts that bash and zsh accept', async () => {
    for (const [shell, args] of [['bash', ['-n']], ['zsh', ['-n']]] as const) {
      const script = await kaTopAs('root', ['completion', shell]);
      expect(script.code).toBe(0);
      const path = join(dir, `completion.${shell}`);
      writeFileSync(path, script.stdout);
      const check = await sh(shell, [...args, path]);
      expect(check.code, check.stderr).toBe(0);
    }
  });
});

describe('installed ka-top, on this machine\'s Node, Node 22 and Node 24', () => {
  let clientPort = 0;
  /** Node 24 sits next to the command (where nvm and tarballs keep node); the machine's and 22 are named by KA_TOP_NODE. */
  const NODES = [
    { node: process.versions.node, env: { KA_TOP_NODE: process.execPath } },
    { node: '22.', env: node22Env },
    { node: '24.', env: {} },
  ];

  beforeAll(async () => {
    copyFileSync(node24, join(prefix, 'bin/node'));
    chmodSync(join(prefix, 'bin/node'), 0o755);
    const server = await startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
    const [, port] = await server.waitFor(/^LISTEN \S+ (\d+)/);
    const client = await startPeer(['client', '--connect', `127.0.0.1:${port}`, '--keepidle', '41', '--keepintvl', '7', '--keepcnt', '4', '--mode', 'hold']);
    clientPort = Number((await client.waitFor(/^CONN \S+ (\d+)/))[1]);
  });

  it('as root: snapshot reads the socket options, doctor passes, watch streams for 3 s', async () => {
    // one Node after the other, the tracer alone: on a busy 2-core machine bpftrace probes and attaches time out
    // when several ka-tops start at once
    for (const { node, env } of NODES) {
      const [snap, doctor] = await Promise.all([
        kaTopAs('root', ['snapshot', '--format', 'json', '--port', String(clientPort)], env),
        kaTopAs('root', ['doctor'], env),
      ]);
      const watch = await kaTopAs('root', ['watch', '--duration', '3', '--json'], env);
      expect(snap.code, snap.stderr).toBe(0);
      const doc = JSON.parse(snap.stdout) as { warnings: string[]; connections: { local: { port: number }; netns: { inode: number }; keepalive: object }[] };
      // (other tests' namespaces may vanish mid-read: only warnings about ka-top's own parts count here)
      expect(doc.warnings.filter((w) => /owner|ka-sockinfo|spawn/.test(w))).toEqual([]);
      // Ours is in this namespace: another test's namespace may hold a socket on the same port number.
      const ours = doc.connections.find((c) => c.local.port === clientPort && c.netns.inode === statSync('/proc/self/ns/net').ino);
      expect(ours?.keepalive, `keepalive of our socket (reason: ${(ours?.keepalive as { reason?: string } | undefined)?.reason})`).toMatchObject({ idleSec: 41, source: 'socket' });

      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(new RegExp(`^ok +node +Node ${node.replaceAll('.', '\\.')}`, 'm'));
      expect(doctor.stdout).toMatch(new RegExp(`^ok +native helpers +ka-sockinfo, ka-peer run \\(${NATIVE}\\)`, 'm'));
      // where the tracer attaches here, and why there
      expect(doctor.stdout).toMatch(/^ {2}state changes +(raw)?tracepoint:\S*inet_sock_set_state\n {4,}runs at each of a connection's ~10 state changes/m);

      expect(watch.code, watch.stderr).toBe(0);
      expect(JSON.parse(watch.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'counts' });
    }
  }, 180_000);

  it('as root: the TUI lists our socket with its keepalive options and quits on q', async () => {
    for (const { env } of NODES) {
      const t = spawnCli(['--port', String(clientPort)], { command: kaTop, env, cwd: '/' });
      try {
        await t.waitFor(new RegExp(`ESTAB +127\\.0\\.0\\.1:${clientPort} +\\S+ +\\d+/ka-peer +41s\\*/7s\\*/4\\*`), 60_000);
        // the shim exec'd the Node it was meant to find
        expect(readlinkSync(`/proc/${t.p.pid}/exe`)).toBe(realpathSync(env.KA_TOP_NODE ?? join(prefix, 'bin/node')));
        t.p.write('q');
        expect(await t.exited).toBe(0);
      } finally {
        t.kill();
      }
    }
  }, 180_000);

  it('as nobody: snapshot says what it cannot see, doctor fails on root only, watch refuses in one line', async () => {
    await Promise.all(NODES.map(async ({ node, env }) => {
      const [snap, doctor, watch] = await Promise.all([
        kaTopAs('nobody', ['snapshot', '--format', 'json'], env),
        kaTopAs('nobody', ['doctor'], env),
        kaTopAs('nobody', ['watch', '--duration', '3'], env),
      ]);
      expect(snap.code, snap.stderr).toBe(0);
      expect((JSON.parse(snap.stdout) as { warnings: string[] }).warnings[0]).toMatch(/^not root: /);
      expect(snap.stdout + snap.stderr).not.toMatch(/spawn .*ENOENT/);

      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(new RegExp(`^ok +node +Node ${node.replaceAll('.', '\\.')}`, 'm'));
      expect(doctor.stdout).toMatch(/^ok +native helpers /m);
      expect(doctor.stdout).toMatch(/^no +root +running as an unprivileged user/m);

      expect(watch.code).toBe(1);
      expect(watch.stderr.trim().split('\n')).toEqual(['ka-top: cannot trace: tracing needs root']);
    }));
  }, 180_000);
});

describe('helpers', () => {
  it(`the ${OTHER} ka-sockinfo reads a real socket's options under ${QEMU}`, async () => {
    const server = await startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
    const [, port] = await server.waitFor(/^LISTEN \S+ (\d+)/);
    const client = await startPeer(['client', '--connect', `127.0.0.1:${port}`, '--keepidle', '43', '--keepintvl', '9', '--keepcnt', '5']);
    const [, fd] = await client.waitFor(/^CONN .* fd=(\d+)/);
    const file = await sh('file', ['-b', join(installed, `dist/bin/${OTHER}/ka-sockinfo`)]);
    expect(file.stdout).toMatch(new RegExp(`${OTHER === 'arm64' ? 'ARM aarch64' : 'x86-64'}.*statically linked`));
    const scan = await sh(QEMU, [join(installed, `dist/bin/${OTHER}/ka-sockinfo`), 'scan']);
    await client.stop();
    await server.stop();
    expect(scan.code, scan.stderr).toBe(0);
    // S pid fd inode keepalive idle intvl cnt user_timeout_ms linger_on linger_sec
    expect(scan.stdout).toMatch(new RegExp(`^S ${client.pid} ${fd} \\d+ 1 43 9 5 0 0 0$`, 'm'));
  }, 60_000);

  it('without helpers for this machine: one line says so, ss still lists sockets, doctor fails with the fix', async () => {
    const bin = join(installed, `dist/bin/${NATIVE}`);
    const ns = `kat-pkg-${process.pid}`;
    expect((await sh('ip', ['netns', 'add', ns])).code).toBe(0);
    renameSync(bin, `${bin}.gone`);
    try {
      // a namespace default only that namespace has: read without the helper (nsenter)
      expect((await sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.tcp_keepalive_time=4321'])).code).toBe(0);
      const [snap, doctor] = await Promise.all([kaTopAs('root', ['snapshot', '--format', 'json']), kaTopAs('root', ['doctor'])]);
      expect(snap.code, snap.stderr).toBe(0);
      const doc = JSON.parse(snap.stdout) as {
        warnings: string[]; connections: unknown[]; namespaces: { name: string | null; sysctl: { tcp_keepalive_time: number } | null }[];
      };
      expect(doc.warnings.filter((w) => /owner|ka-sockinfo|spawn/.test(w))).toEqual([expect.stringMatching(/^owners of some sockets are missing: owner scan failed \(.*ka-sockinfo is missing/)]);
      expect(doc.connections.length).toBeGreaterThan(0);
      expect(doc.namespaces.find((n) => n.name === ns)?.sysctl?.tcp_keepalive_time).toBe(4321);
      expect(snap.stdout + snap.stderr).not.toMatch(/spawn .*ENOENT/);

      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/^FAIL native helpers +.*ka-sockinfo is missing.*without it: no socket owners/m);
      expect(doctor.stdout).toMatch(/^ +fix: reinstall ka-top/m);
    } finally {
      renameSync(`${bin}.gone`, bin);
      await sh('ip', ['netns', 'del', ns]);
    }
  }, 180_000);
});
