// Which application owns a connection (from what the kernel tells: LD_PRELOAD, comm, exe, cmdline, listening
// ports), where the keepalive values on its socket come from, and the fix written in the owner's own terms.
import type { ApplicationView, Connection, SocketOwner } from '../../domain/connection.js';
import type { AppEntry, FixValues, KeepaliveFacts } from './entry.js';
import { APPS, NO_SETTING_FALLBACK } from './table.js';
import { keepaliveKey } from '../keepalive.js';

const byId = new Map(APPS.map((a) => [a.id, a]));
export const appEntry = (id: string | null): AppEntry | undefined => (id === null ? undefined : byId.get(id));

const baseName = (path: string): string => path.replace(/ \(deleted\)$/, '').split('/').pop() ?? '';

type Owner = Pick<SocketOwner, 'comm' | 'cmdline' | 'exe' | 'preload'>;

/** The table entry an owner matches and how, trying the strongest evidence first; null when none. */
export function recogniseOwner(p: Owner, listenPorts: readonly number[] = []): { entry: AppEntry; by: string } | null {
  const tries: [keyof AppEntry['recognise'], (e: AppEntry) => string | null][] = [
    ['preload', (e) => p.preload?.find((l) => e.recognise.preload!.test(l)) ?? null],
    ['comm', (e) => (e.recognise.comm!.test(p.comm) ? p.comm : null)],
    ['exe', (e) => (p.exe && e.recognise.exe!.test(baseName(p.exe)) ? baseName(p.exe) : null)],
    ['cmdline', (e) => e.recognise.cmdline!.exec(p.cmdline)?.[0].trim() ?? null],
    ['listenPorts', (e) => { const port = e.recognise.listenPorts!.find((x) => listenPorts.includes(x)); return port === undefined ? null : String(port); }],
  ];
  for (const [kind, hit] of tries) {
    for (const e of APPS) {
      if (!e.recognise[kind]) continue;
      const what = hit(e);
      if (what !== null) return { entry: e, by: kind === 'listenPorts' ? `listening port ${what}` : kind === 'preload' ? `LD_PRELOAD ${what}` : `${kind} ${what}` };
    }
  }
  return null;
}

export function keepaliveFacts(c: Connection): KeepaliveFacts | null {
  const k = c.keepalive;
  if (k.enabled === null) return null;
  return { enabled: k.enabled, idleSec: k.idleSec, intervalSec: k.intervalSec, probes: k.probes, sources: k.sources, userTimeoutMs: c.userTimeoutMs ?? 0 };
}

/** Where the keepalive values come from: a pattern of the recognised application, else a runtime default any
 *  program may carry (Go, gRPC), else "set by the application" or the namespace sysctl. */
export function keepaliveOrigin(entry: AppEntry | null, k: KeepaliveFacts | null): { text: string | null; rule: string | null } {
  if (!k || (!k.enabled && !k.userTimeoutMs)) return { text: null, rule: null };
  const candidates = entry ? [entry, ...APPS.filter((a) => a.matchesUnrecognised && a !== entry)] : APPS.filter((a) => a.matchesUnrecognised);
  for (const a of candidates) {
    const p = a.patterns.find((x) => x.when(k));
    if (p) return { text: p.says(k), rule: a.id };
  }
  if (!k.enabled) return { text: null, rule: null };
  const fromSocket = k.sources.idle === 'socket' || k.sources.interval === 'socket' || k.sources.probes === 'socket';
  return { text: fromSocket ? 'set by the application' : 'namespace sysctl (the application only turned SO_KEEPALIVE on)', rule: null };
}

/** Listening ports per pid, from the LISTEN sockets of an inventory. */
export function listenPortsByPid(conns: readonly Connection[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  // Indexed, as in joinConnections (model/join.ts).
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.state !== 'LISTEN') continue;
    for (const p of c.processes) {
      const l = m.get(p.pid);
      if (!l) m.set(p.pid, [c.local.port]);
      else if (!l.includes(c.local.port)) l.push(c.local.port);
    }
  }
  return m;
}

export function applicationView(c: Connection, listenPorts: readonly number[] = []): ApplicationView | undefined {
  if (!c.process) return undefined;
  const r = recogniseOwner(c.process, listenPorts);
  const origin = keepaliveOrigin(r?.entry ?? null, keepaliveFacts(c));
  return { id: r?.entry.id ?? null, name: r?.entry.name ?? null, recognisedBy: r?.by ?? null, keepalive: origin.text, keepaliveRule: origin.rule };
}

/** Sets `application` on every owned connection of one inventory (freshly joined, so set in place); `ports`: the
 *  inventory's listening ports by pid when `conns` is only part of it. */
export function withApplications(conns: Connection[], ports = listenPortsByPid(conns)): Connection[] {
  // Per process: what it was recognised as, one frozen view per keepalive origin its connections share, and the view
  // each set of keepalive facts got (by keepaliveKey, then TCP_USER_TIMEOUT): the origin's patterns run once a set,
  // not once a connection (at 100k connections they had allocated 33 MB).
  const byPid = new Map<number, ProcessApps>();
  // Indexed, as in joinConnections (model/join.ts).
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (!c.process) continue;
    const pid = c.process.pid;
    let p = byPid.get(pid);
    if (!p) byPid.set(pid, (p = { r: recogniseOwner(c.process, ports.get(pid)), views: new Map(), byFacts: new Map() }));
    const k = c.keepalive;
    const factsKey = k.enabled === null ? -1 : keepaliveKey(k.enabled, k.idleSec, k.intervalSec, k.probes, k.sources);
    const userTimeoutMs = c.userTimeoutMs ?? 0;
    let view = factsKey === null ? undefined : p.byFacts.get(factsKey)?.get(userTimeoutMs);
    if (!view) {
      view = applicationFor(p, keepaliveFacts(c));
      if (factsKey !== null) {
        let byTimeout = p.byFacts.get(factsKey);
        if (!byTimeout) p.byFacts.set(factsKey, (byTimeout = new Map()));
        byTimeout.set(userTimeoutMs, view);
      }
    }
    c.application = view;
  }
  return conns;
}

interface ProcessApps {
  r: ReturnType<typeof recogniseOwner>;
  /** By keepalive origin (rule and text). */
  views: Map<string, ApplicationView>;
  /** By keepaliveKey, then TCP_USER_TIMEOUT. */
  byFacts: Map<number, Map<number, ApplicationView>>;
}

function applicationFor(p: ProcessApps, facts: KeepaliveFacts | null): ApplicationView {
  const { r } = p;
  const origin = keepaliveOrigin(r?.entry ?? null, facts);
  const key = origin.text === null ? '' : `${origin.rule ?? ''}\n${origin.text}`; // no text, no rule
  let view = p.views.get(key);
  if (!view) {
    view = Object.freeze({ id: r?.entry.id ?? null, name: r?.entry.name ?? null, recognisedBy: r?.by ?? null, keepalive: origin.text, keepaliveRule: origin.rule });
    p.views.set(key, view);
  }
  return view;
}

/** The connection's application view: the one the inventory attached, or recognised now from the owner alone
 *  (snapshots written before ka-top knew applications). */
export const applicationOf = (c: Connection): ApplicationView | undefined => c.application ?? applicationView(c);

/** Interval and probes that go with a suggested idle: the first probe before the timeout, death soon after. */
export function fixValues(idleSec: number): FixValues {
  return { idleSec, intervalSec: Math.max(1, Math.min(30, Math.floor(idleSec / 4))), probes: 5 };
}

export interface OwnerAdvice {
  /** "Redis (redis-server[12]): `tcp-keepalive 192` …" lines, most specific first; empty when nothing is known. */
  settings: string[];
  /** Per owner: which application rule matched (for the finding's evidence). */
  evidence: { pid: number; comm: string; application: string | null; recognisedBy: string | null; keepalive: string | null; keepaliveRule: string | null }[];
  /** True when some owner is an unrecognised program (it gets the generic fixes, libkeepalive among them). */
  unrecognised: boolean;
}

/** The owners' own keepalive settings with the values to use, one line per application, for a finding's fix. */
export function ownerAdvice(conns: readonly Connection[], v: FixValues): OwnerAdvice {
  const seen = new Map<number, { c: Connection; a: ApplicationView }>();
  for (const c of conns) {
    const a = c.process && !seen.has(c.process.pid) ? applicationOf(c) : undefined;
    if (a) seen.set(c.process!.pid, { c, a });
  }
  // One line per application (its owners listed), then runtimes an unrecognised program's values match.
  const perApp = new Map<string, { entry: AppEntry; who: string[]; by: string }>();
  const runtimes = new Map<string, string>();
  let unrecognised = false;
  for (const { c, a } of seen.values()) {
    const who = `${c.process!.comm}[${c.process!.pid}]`;
    const entry = appEntry(a.id);
    if (entry) {
      const g = perApp.get(entry.id);
      if (g) g.who.push(who);
      else perApp.set(entry.id, { entry, who: [who], by: a.recognisedBy ?? '?' });
      continue;
    }
    unrecognised = true;
    const runtime = appEntry(a.keepaliveRule);
    if (runtime && !runtimes.has(runtime.id)) runtimes.set(runtime.id, `${who}, whose socket ${a.keepalive}: ${runtime.keepaliveFix(v)}`);
  }
  const settings = [
    ...[...perApp.values()].map((g) => `${g.entry.name} (${g.who.slice(0, 3).join(', ')}${g.who.length > 3 ? ', …' : ''}; recognised by ${g.by}): ${g.entry.keepaliveFix(v)}`),
    ...runtimes.values(),
  ];
  const evidence = [...seen.entries()].slice(0, 10).map(([pid, { c, a }]) => ({ pid, comm: c.process!.comm, application: a.id, recognisedBy: a.recognisedBy, keepalive: a.keepalive, keepaliveRule: a.keepaliveRule }));
  return { settings, evidence, unrecognised };
}

/** For a program with no setting of its own. */
export const noSettingFix = (v: FixValues): string => `for a program with no keepalive setting: ${appEntry(NO_SETTING_FALLBACK)!.keepaliveFix(v)} (Debian package libkeepalive0; it sets SO_KEEPALIVE on every socket the program opens)`;

/** The checker that closes with SO_LINGER {1,0}, when the process is one ka-top knows. */
export function checkerOf(p: Owner): { entry: AppEntry; by: string } | null {
  const r = recogniseOwner(p);
  return r?.entry.checker ? r : null;
}
