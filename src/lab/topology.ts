// Network-namespace building blocks for the lab and the integration tests: named namespaces, veth links,
// routes, nft rulesets and sysctls inside them. Every namespace name carries its caller's prefix (`kalab-`,
// `kat-…`), so cleanup can find what it made by name and never touches anything else. Veths are created
// directly inside the namespaces, so the host's namespace is never modified and deleting the namespaces
// removes them.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { run, start, type RunResult } from '../sources/exec.js';

/** A namespace name: `<prefix>-<rest>`, short and shell-safe (it becomes a file under /run/netns). */
const NAME_RE = /^[a-z][a-z0-9]*-[A-Za-z0-9_.-]{1,48}$/;
/** Kernel interface name limit is 15 characters. */
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export class TopologyError extends Error {}

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new TopologyError(`netns name '${name}' lacks a '<prefix>-' prefix or is malformed`);
}

function checkIf(name: string): void {
  if (!IFNAME_RE.test(name)) throw new TopologyError(`interface name '${name}' is invalid (max 15 chars)`);
}

/** IPv4 inside 198.18.0.0/15 only (benchmark range), as `a.b.c.d/len`. */
export function checkAddr4(cidr: string): void {
  const m = /^198\.(18|19)\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 255 || Number(m[3]) > 255 || Number(m[4]) < 15 || Number(m[4]) > 32) {
    throw new TopologyError(`address '${cidr}' is not inside 198.18.0.0/15 (CIDR form required)`);
  }
}

/** IPv6 inside fd6b:6174::/32 only, as `addr/len`. */
export function checkAddr6(cidr: string): void {
  if (!/^fd6b:6174:[0-9a-f:]*\/(\d{2,3})$/i.test(cidr)) {
    throw new TopologyError(`address '${cidr}' is not inside fd6b:6174::/32 (CIDR form required)`);
  }
}

async function must(cmd: string, args: string[], input?: string): Promise<RunResult> {
  const r = await run(cmd, args, input === undefined ? {} : { input });
  if (r.code !== 0) {
    throw new TopologyError(`${cmd} ${args.join(' ')} failed (${r.code ?? r.signal}): ${r.stderr.trim()}`);
  }
  return r;
}

/** Names of namespaces under /run/netns that start with `prefix`. */
export async function listNetns(prefix: string): Promise<string[]> {
  if (!prefix) throw new TopologyError('listNetns needs a non-empty prefix');
  const r = await must('ip', ['netns', 'list']);
  // Lines look like `name` or `name (id: 3)`.
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

export async function netnsExists(name: string): Promise<boolean> {
  checkName(name);
  return (await listNetns(name)).includes(name);
}

/** Creates the namespace (no-op when it exists) and brings its loopback up. */
export async function addNetns(name: string): Promise<void> {
  checkName(name);
  if (!(await netnsExists(name))) await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  // No duplicate address detection on interfaces made later: link-local addresses usable at once too.
  await sysctlIn(name, 'net.ipv6.conf.default.accept_dad', 0);
}

/** Pids of every process inside the namespace. */
export async function netnsPids(name: string): Promise<number[]> {
  checkName(name);
  const r = await run('ip', ['netns', 'pids', name]);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter(Boolean).map(Number).filter((p) => Number.isInteger(p) && p > 0);
}

/** Kills every process in the namespace, then deletes it (no-op when it does not exist). */
export async function delNetns(name: string): Promise<void> {
  checkName(name);
  if (!(await netnsExists(name))) return;
  // A namespace lives on while a process is in it; kill them so deleting the name frees the namespace.
  for (let i = 0; i < 20; i++) {
    const pids = await netnsPids(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await must('ip', ['netns', 'del', name]);
}

/** Deletes every namespace whose name starts with `prefix` (and so its veths, nft tables and processes). */
export async function delNetnsPrefix(prefix: string): Promise<string[]> {
  const names = await listNetns(prefix);
  for (const n of names) await delNetns(n);
  return names;
}

export interface LinkSpec {
  ifA: string;
  ifB: string;
  /** IPv4 with prefix length, inside 198.18.0.0/15, e.g. `198.18.1.1/24`. */
  addrA: string;
  addrB: string;
  /** Optional IPv6 inside fd6b:6174::/32, e.g. `fd6b:6174:1::1/64`. */
  addr6A?: string;
  addr6B?: string;
}

/** Connects two namespaces with a veth pair and addresses both ends; replaces the pair if it exists. */
export async function linkNetns(a: string, b: string, spec: LinkSpec): Promise<void> {
  checkName(a);
  checkName(b);
  checkIf(spec.ifA);
  checkIf(spec.ifB);
  checkAddr4(spec.addrA);
  checkAddr4(spec.addrB);
  if (spec.addr6A) checkAddr6(spec.addr6A);
  if (spec.addr6B) checkAddr6(spec.addr6B);
  // Deleting one end of a veth deletes both: recreating keeps this idempotent without half-configured pairs.
  if ((await run('ip', ['-n', a, 'link', 'show', spec.ifA])).code === 0) {
    await must('ip', ['-n', a, 'link', 'del', spec.ifA]);
  }
  if ((await run('ip', ['-n', b, 'link', 'show', spec.ifB])).code === 0) {
    await must('ip', ['-n', b, 'link', 'del', spec.ifB]);
  }
  await must('ip', ['-n', a, 'link', 'add', spec.ifA, 'type', 'veth', 'peer', 'name', spec.ifB, 'netns', b]);
  for (const [ns, ifn, v4, v6] of [
    [a, spec.ifA, spec.addrA, spec.addr6A],
    [b, spec.ifB, spec.addrB, spec.addr6B],
  ] as const) {
    await must('ip', ['-n', ns, 'addr', 'add', v4, 'dev', ifn]);
    // nodad: usable at once instead of after duplicate address detection (~1-2 s of "tentative").
    if (v6) await must('ip', ['-n', ns, 'addr', 'add', v6, 'dev', ifn, 'nodad']);
    await must('ip', ['-n', ns, 'link', 'set', ifn, 'up']);
  }
}

/** Sets (replaces) the default route of a namespace, IPv4 or IPv6 by the gateway's form. */
export async function defaultRoute(ns: string, via: string): Promise<void> {
  checkName(ns);
  const fam = via.includes(':') ? '-6' : '-4';
  await must('ip', [fam, '-n', ns, 'route', 'replace', 'default', 'via', via]);
}

/** `sysctl -w key=value` inside a namespace (per-netns keys only make sense here). */
export async function sysctlIn(ns: string, key: string, value: string | number): Promise<void> {
  checkName(ns);
  await must('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `${key}=${value}`]);
}

/** Reads a sysctl as seen from inside the namespace. */
export async function sysctlGet(ns: string, key: string): Promise<string> {
  checkName(ns);
  return (await must('ip', ['netns', 'exec', ns, 'sysctl', '-n', key])).stdout.trim();
}

/** Loads an nft ruleset (the text `nft -f` reads) inside the namespace. */
export async function nft(ns: string, ruleset: string): Promise<void> {
  checkName(ns);
  await must('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], ruleset);
}

/** Runs `nft` with arguments inside the namespace and returns its stdout (e.g. `list ruleset`). */
export async function nftCmd(ns: string, args: string[]): Promise<string> {
  checkName(ns);
  return (await must('ip', ['netns', 'exec', ns, 'nft', ...args])).stdout;
}

/** A ruleset that puts `inet <name>` in place with these chain lines, whether or not the table exists (declared,
 *  deleted, then defined anew): building a scenario twice leaves one copy of its rules. */
export function tableRuleset(name: string, chainLines: readonly string[]): string {
  return [`table inet ${name}`, `delete table inet ${name}`, `table inet ${name} {`, ...chainLines.map((l) => `  ${l}`), '}', ''].join('\n');
}

/** A ruleset that drops every packet entering or leaving the namespace (it "goes silent"), in `inet <table>`. */
export function dropAllRuleset(table: string): string {
  return [
    `table inet ${table} {`,
    '  chain drop_in { type filter hook input priority -10; policy accept; counter drop; }',
    '  chain drop_out { type filter hook output priority -10; policy accept; counter drop; }',
    '}',
    '',
  ].join('\n');
}

/** Makes the namespace silent (drop all traffic both ways) or reachable again. Idempotent in both directions. */
export async function setSilent(ns: string, silent: boolean, table = 'kasilent'): Promise<void> {
  checkName(ns);
  // `add` then `delete` a table is idempotent: deleting an absent table is an error, adding an existing one is not.
  await nft(ns, `add table inet ${table}\ndelete table inet ${table}\n${silent ? dropAllRuleset(table) : ''}`);
}

/** argv that runs `cmd args` inside the namespace. */
export function nsExec(ns: string, cmd: string, args: readonly string[]): string[] {
  checkName(ns);
  return ['ip', 'netns', 'exec', ns, cmd, ...args];
}

/** Starts a long-running process inside the namespace; the caller owns its lifetime. */
export function startIn(ns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const [c, ...rest] = nsExec(ns, cmd, args);
  return start(c!, rest, opts);
}

/** Runs a command inside the namespace to completion. */
export function runIn(ns: string, cmd: string, args: readonly string[], input?: string): Promise<RunResult> {
  const [c, ...rest] = nsExec(ns, cmd, args);
  return run(c!, rest, input === undefined ? {} : { input });
}

export interface Pair {
  client: string;
  server: string;
  /** Addresses (without length) the client dials to reach the server, and the client's own. */
  serverAddr: string;
  clientAddr: string;
  serverAddr6: string;
  clientAddr6: string;
}

export interface Chain extends Pair {
  middle: string;
}

/** Host `host` of subnet `n`: 198.18.n.host/24 and fd6b:6174:n::host/64. */
const v4 = (n: number, host: number): string => `198.18.${n}.${host}`;
const v6 = (n: number, host: number): string => `fd6b:6174:${n.toString(16)}::${host}`;

/** The veth addresses of hosts a and b on subnet n. */
function subnetLink(n: number, a: number, b: number): Pick<LinkSpec, 'addrA' | 'addrB' | 'addr6A' | 'addr6B'> {
  return { addrA: `${v4(n, a)}/24`, addrB: `${v4(n, b)}/24`, addr6A: `${v6(n, a)}/64`, addr6B: `${v6(n, b)}/64` };
}

function checkNet(net: number, what: string): void {
  if (!Number.isInteger(net) || net < 0 || net > 127) throw new TopologyError(`${what} net ${net} out of 0..127`);
}

/**
 * client — middle — server: two veth links, default routes through the middlebox, forwarding on in it.
 * `net` picks the third octet pair (0..127) so several chains can coexist: client side 198.18.(2n).0/24,
 * server side 198.18.(2n+1).0/24; IPv6 fd6b:6174:(2n)::/64 and fd6b:6174:(2n+1)::/64.
 */
export async function makeChain(prefix: string, net: number): Promise<Chain> {
  checkNet(net, 'chain');
  const client = `${prefix}cli`;
  const middle = `${prefix}mid`;
  const server = `${prefix}srv`;
  for (const ns of [client, middle, server]) await addNetns(ns);
  // Forwarding on before the links exist: toggling it later resets IPv6 neighbour state (~2 s without a path).
  await sysctlIn(middle, 'net.ipv4.ip_forward', 1);
  await sysctlIn(middle, 'net.ipv6.conf.all.forwarding', 1);
  const c = 2 * net;
  const s = 2 * net + 1;
  await linkNetns(client, middle, { ifA: 'eth0', ifB: 'to-cli', ...subnetLink(c, 2, 1) });
  await linkNetns(server, middle, { ifA: 'eth0', ifB: 'to-srv', ...subnetLink(s, 2, 1) });
  await defaultRoute(client, v4(c, 1));
  await defaultRoute(server, v4(s, 1));
  await defaultRoute(client, v6(c, 1));
  await defaultRoute(server, v6(s, 1));
  return {
    client, middle, server,
    serverAddr: v4(s, 2), clientAddr: v4(c, 2), serverAddr6: v6(s, 2), clientAddr6: v6(c, 2),
  };
}

/** client — server over one veth link on 198.18.(2n).0/24 and fd6b:6174:(2n)::/64. */
export async function makePair(prefix: string, net: number): Promise<Pair> {
  checkNet(net, 'pair');
  const client = `${prefix}cli`;
  const server = `${prefix}srv`;
  await addNetns(client);
  await addNetns(server);
  const c = 2 * net;
  await linkNetns(client, server, { ifA: 'eth0', ifB: 'eth0', ...subnetLink(c, 1, 2) });
  return { client, server, clientAddr: v4(c, 1), serverAddr: v4(c, 2), clientAddr6: v6(c, 1), serverAddr6: v6(c, 2) };
}
