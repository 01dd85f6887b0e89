// The readable form of a snapshot diff: one section per kind of change, each with its count and a bounded list.
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import type { ConnRef, NsRef, ResetCounts, Scalar, SideInfo, SnapshotDiff } from '../model/snapshot-diff.js';
import { resetCausesText } from './event-text.js';
import { formatEndpoint } from './format.js';

const nsText = (n: NsRef): string => n.name ?? `netns ${n.inode}`;

function keepaliveText(k: ConnRef['keepalive']): string {
  if (k.enabled === null) return 'keepalive ?';
  if (!k.enabled) return 'keepalive off';
  return `keepalive ${k.idleSec ?? '?'}s/${k.intervalSec ?? '?'}s/${k.probes ?? '?'}`;
}

export function connText(c: ConnRef): string {
  const owner = c.owner ? `${c.owner.pid}/${c.owner.comm}` : '-';
  return `${c.state} ${formatEndpoint(c.local)} -> ${formatEndpoint(c.peer)}  ${owner}  ${keepaliveText(c.keepalive)}  [${nsText(c.netns)}]`;
}

const val = (v: Scalar): string => (v === null ? '-' : String(v));

function sideText(label: string, s: SideInfo): string {
  const events = s.events === null ? 'no events' : `${s.events} events`;
  return `${label}: ${s.file ?? '(document)'} · taken ${s.takenAt} · ${s.host.hostname} · ${s.connections} connections · ${events}`;
}

function resetsText(r: ResetCounts | null): string {
  if (!r) return 'unknown (no events recorded: take the snapshot with --capture, as root)';
  const counts = (m: Record<string, number>) => Object.entries(m).sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`);
  const buckets = Object.entries(r.byCause).sort((x, y) => y[1] - x[1]).map(([key, count]) => ({ key, count, rate: 0 }));
  const causes = resetCausesText(buckets, (b) => String(b.count));
  const parts = [`${r.total}${causes ? ` — ${causes}` : ''}`];
  if (r.exact) parts.push(`tracer totals: sent ${counts(r.exact.sentByReason).join(', ') || '0'}; received ${r.exact.received}`);
  const missing = [r.lostEvents ? `${r.lostEvents} events lost` : '', r.eventsDropped ? `${r.eventsDropped} events not kept` : ''].filter(Boolean);
  if (missing.length) parts.push(`causes are a lower bound: ${missing.join(', ')}`);
  return parts.join(' · ');
}

function closesText(c: SnapshotDiff['closes']['a']): string {
  if (!c) return 'unknown (take the snapshot with --capture, as root; a filter other than --netns leaves them out)';
  const parts = Object.entries(c).filter(([, n]) => n > 0).map(([how, n]) => `${how} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

/** `limit` bounds every list (0 = no bound); the rest is counted as "… N more". */
export function renderDiffText(d: SnapshotDiff, limit = 20): string {
  const out: string[] = [];
  const list = <T>(items: readonly T[], line: (t: T) => string[]) => {
    const shown = limit > 0 ? items.slice(0, limit) : items;
    for (const t of shown) out.push(...line(t));
    if (shown.length < items.length) out.push(`  … ${items.length - shown.length} more`);
  };
  const c = d.connections;
  out.push(sideText('A', d.a), sideText('B', d.b));
  if (d.filters) out.push(`filters: ${JSON.stringify(d.filters)}`);
  out.push(d.differ ? 'Snapshots differ.' : 'No differences in connections, settings, probes, namespaces or capabilities.');

  out.push('', `Connections: ${c.new.length} new, ${c.gone.length} gone, ${c.changed.length} changed, ${c.matched - c.changed.length} unchanged`
    + (c.matchedByTuple ? ` (${c.matchedByTuple} matched by netns + 4-tuple, ids differ)` : ''));
  if (c.new.length) {
    out.push(`New (${c.new.length}):`);
    list(c.new, (x) => [`  + ${connText(x)}`]);
  }
  if (c.gone.length) {
    out.push(`Gone (${c.gone.length}):`);
    list(c.gone, (x) => [`  - ${connText(x)}`]);
  }
  if (c.changed.length) {
    out.push(`Settings changed (${c.changed.length}):`);
    list(c.changed, (x) => [`  ~ ${connText(x.after)}`, ...x.changes.map((f) => `      ${f.field}: ${val(f.before)} -> ${val(f.after)}`)]);
  }

  out.push('', `Keepalive probes: ${d.probes.length} connection(s) with probes outstanding or sent`);
  list(d.probes, (p) => [
    `  ${connText(p.connection)}`,
    `      outstanding ${val(p.outstanding.before)} -> ${val(p.outstanding.after)} · sent during capture ${val(p.probesSent.before)} -> ${val(p.probesSent.after)}`,
  ]);

  out.push('', 'Resets seen during each capture:', `  A: ${resetsText(d.resets.a)}`, `  B: ${resetsText(d.resets.b)}`);
  out.push('', 'How connections ended during each capture (the kernel\'s counts):', `  A: ${closesText(d.closes.a)}`, `  B: ${closesText(d.closes.b)}`);

  const n = d.namespaces;
  out.push('', `Namespaces: ${n.new.length} new, ${n.gone.length} gone, ${n.sysctl.length} sysctl change(s)`);
  list(n.new, (x) => [`  + ${nsText(x)}`]);
  list(n.gone, (x) => [`  - ${nsText(x)}`]);
  list(n.sysctl, (x) => [`  ~ ${nsText(x.netns)} ${x.field}: ${val(x.before)} -> ${val(x.after)}`]);

  out.push('', `Capabilities: ${d.capabilities.length ? `${d.capabilities.length} change(s)` : 'no changes'}`);
  const label = (k: string) => CAPABILITY_LABELS[k as keyof Capabilities] ?? k;
  const yes = (v: boolean | null) => (v === null ? '-' : v ? 'yes' : 'no');
  list(d.capabilities, (x) => [`  ~ ${label(x.name)}: ${yes(x.before)} -> ${yes(x.after)} (${x.detail})`]);
  return out.join('\n') + '\n';
}
