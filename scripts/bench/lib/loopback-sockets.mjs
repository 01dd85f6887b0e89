// N real TCP sockets held by ka-peer in a scratch network namespace (name starting with `kat-`), for the
// benchmarks that need a host with many connections: over loopback, or between two namespaces joined by a veth
// pair (connections that cross an interface, as a gateway's do). Root; after `make build`.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { atExit } from './stop.mjs';

const peer = fileURLToPath(new URL(`../../../dist/bin/${process.arch}/ka-peer`, import.meta.url));
const PER_PROCESS = 8000; // the fd hard limit is 20000 per process on the project's machines

export function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Closers of the namespaces still open: run at exit (also a stopped one), by one handler registered with the first. */
const openNamespaces = new Set();
let registered = false;
function closeAtExit(close) {
  if (!registered) {
    registered = true;
    atExit(() => openNamespaces.forEach((c) => c()));
  }
  openNamespaces.add(close);
}

/**
 * A namespace with `lo` up; `close()` kills its peers and deletes it (also run at exit, and when the benchmark is stopped). With
 * `crossing`, a second one (`<name>-c`) joined to it by a veth pair, 198.18.0.1 here and 198.18.0.2 there: `hold`
 * then listens here and connects from there, and every connection crosses the link.
 */
export function scratchNamespace(name, { crossing = false } = {}) {
  if (!name.startsWith('kat-')) throw new Error(`scratch namespaces are named kat-…, not ${name}`);
  const clientNs = crossing ? `${name}-c` : name;
  const names = crossing ? [name, clientNs] : [name];
  const children = [];
  const close = () => {
    openNamespaces.delete(close);
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const n of names) spawnSync('ip', ['netns', 'del', n]);
  };
  closeAtExit(close);
  for (const n of names) {
    sh('ip', ['netns', 'add', n]);
    sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
  }
  const serverAddress = crossing ? '198.18.0.1' : '127.0.0.1';
  if (crossing) {
    sh('ip', ['-n', name, 'link', 'add', 'kat0', 'type', 'veth', 'peer', 'name', 'kat1', 'netns', clientNs]);
    for (const [n, dev, addr] of [[name, 'kat0', '198.18.0.1/30'], [clientNs, 'kat1', '198.18.0.2/30']]) {
      sh('ip', ['-n', n, 'addr', 'add', addr, 'dev', dev]);
      sh('ip', ['-n', n, 'link', 'set', dev, 'up']);
    }
  }

  function startPeer(ns, args) {
    const c = spawn('ip', ['netns', 'exec', ns, peer, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    let buf = '';
    const waiters = [];
    c.stdout.on('data', (b) => {
      buf += b;
      for (const w of [...waiters]) w();
    });
    const count = (re) => (buf.match(re) ?? []).length;
    const waitCount = (re, n) =>
      new Promise((resolve) => {
        const check = () => count(re) >= n && (waiters.splice(waiters.indexOf(check), 1), resolve());
        waiters.push(check);
        check();
      });
    return { text: () => buf, waitCount };
  }

  return {
    name,
    path: `/run/netns/${name}`,
    /** Every namespace it made (the client one too with `crossing`). */
    names,
    /** Adds `sockets` sockets (both ends of sockets/2 idle connections, keepalive on the client side). The idle is
     *  an hour: tens of thousands of keepalive timers firing together overflow loopback's backlog, the probes are
     *  lost, and the connections would die in the middle of a run. */
    async hold(sockets) {
      const conns = Math.ceil(sockets / 2);
      for (let made = 0; made < conns; ) {
        const n = Math.min(PER_PROCESS, conns - made);
        const server = startPeer(name, ['server', '--listen', `${serverAddress}:0`, '--mode', 'hold']);
        await server.waitCount(/^LISTEN/gm, 1);
        const port = /^LISTEN \S+ (\d+)/m.exec(server.text())[1];
        const client = startPeer(clientNs, ['client', '--connect', `${serverAddress}:${port}`, '--conns', String(n), '--keepidle', '3600']);
        await client.waitCount(/^CONN/gm, n);
        made += n;
      }
    },
    /** Adds one connection whose client writes a line every `everyMs` (the server reads it): the namespace's TCP
     *  counters move all the time, as on a host that serves. */
    async stream(everyMs) {
      const server = startPeer(name, ['server', '--listen', `${serverAddress}:0`, '--mode', 'sink']);
      await server.waitCount(/^LISTEN/gm, 1);
      const port = /^LISTEN \S+ (\d+)/m.exec(server.text())[1];
      const client = startPeer(clientNs, ['client', '--connect', `${serverAddress}:${port}`, '--mode', 'stream', '--every', String(everyMs)]);
      await client.waitCount(/^CONN/gm, 1);
    },
    /** Ends the peers, keeps the namespace. */
    release() {
      for (const c of children.splice(0)) c.kill('SIGKILL');
    },
    close,
  };
}
