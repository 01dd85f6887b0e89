// What the capture scripts share: a client and a server namespace joined by a veth (198.18.N.0/24 and
// fd6b:6174:N::/64), ka-peer processes started inside them, and cleanup on exit (processes and namespaces).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const peer = `${root}dist/bin/${process.arch}/ka-peer`;

/** Runs a command; throws with its stderr when it fails. Returns its stdout. */
export function sh(cmd, ...args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Namespaces `<prefix>-cli` and `<prefix>-srv` on subnet N, gone (with every peer) when the script exits. */
export function capturePair(prefix, subnet) {
  const CLI = `${prefix}-cli`, SRV = `${prefix}-srv`;
  const children = [];
  const cleanup = () => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [CLI, SRV]) spawnSync('ip', ['netns', 'del', ns]);
  };
  process.on('exit', cleanup);
  cleanup();
  const [dev0, dev1] = [`${prefix}0`, `${prefix}1`];
  for (const ns of [CLI, SRV]) { sh('ip', 'netns', 'add', ns); sh('ip', '-n', ns, 'link', 'set', 'lo', 'up'); }
  sh('ip', 'link', 'add', dev0, 'netns', CLI, 'type', 'veth', 'peer', 'name', dev1, 'netns', SRV);
  sh('ip', '-n', CLI, 'addr', 'add', `198.18.${subnet}.1/24`, 'dev', dev0);
  sh('ip', '-n', SRV, 'addr', 'add', `198.18.${subnet}.2/24`, 'dev', dev1);
  sh('ip', '-n', CLI, 'addr', 'add', `fd6b:6174:${subnet}::1/64`, 'dev', dev0, 'nodad');
  sh('ip', '-n', SRV, 'addr', 'add', `fd6b:6174:${subnet}::2/64`, 'dev', dev1, 'nodad');
  for (const [ns, dev] of [[CLI, dev0], [SRV, dev1]]) sh('ip', '-n', ns, 'link', 'set', dev, 'up');
  /** Starts ka-peer in `ns`; resolves with its output once a line matches `until` (LISTEN/CONN by default). */
  const run = (ns, args, until = /^(LISTEN|CONN)/m) => {
    const c = spawn('ip', ['netns', 'exec', ns, peer, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    return new Promise((resolve) => {
      let buf = '';
      c.stdout.on('data', (b) => {
        buf += b;
        if (until.test(buf)) resolve(buf);
      });
    });
  };
  return { CLI, SRV, run };
}

/** Cuts a recording down to the scratch namespaces and the sockets and processes of `inv` (the rest of the host is
 *  not fixture material). */
export function keepScratchOnly(recording, inv, names) {
  recording.netns = recording.netns.filter((n) => names.includes(n.name));
  const kept = new Set(recording.netns.map((n) => String(n.inode)));
  for (const k of Object.keys(recording.sysctls)) if (!kept.has(k)) delete recording.sysctls[k];
  const inodes = new Set(inv.connections.map((x) => x.inode).filter(Boolean));
  recording.scan.sockets = recording.scan.sockets.filter((s) => inodes.has(s.inode));
  const pids = new Set(recording.scan.sockets.map((s) => s.pid));
  for (const pid of Object.keys(recording.processes)) if (!pids.has(Number(pid))) delete recording.processes[pid];
}
