// The top lines: host, what ka-top can and cannot see (with why), keepalive sysctl defaults, totals, findings.
// Compact (short terminals): one line for what ka-top can and cannot see, the warnings counted, not quoted.
import { Box } from 'ink';
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import { SYSCTL_NAMES, type NetnsInfo, type NetnsSysctl } from '../domain/connection.js';
import { netnsLabel } from '../domain/netns.js';
import type { Finding } from '../domain/finding.js';
import type { SnapshotSummary } from '../domain/snapshot.js';
import { findingsHeadline } from './findings-lines.js';
import { resetCausesText } from '../output/event-text.js';
import { counted, formatDuration } from '../output/format.js';
import { Line, type LineColor } from './Line.js';
import { countedResetsText, lossText, type TracerStatus } from './tracer-view.js';

export interface HeaderLine {
  text: string;
  color?: LineColor | undefined;
  bold?: boolean;
}

export interface HeaderInput {
  version: string;
  host: { hostname: string; kernel: string };
  capabilities: Capabilities | null;
  sysctl: ShownSysctl;
  summary: SnapshotSummary | null;
  namespaces: number;
  refresh: { intervalMs: number; lastCostMs: number; error: string | null };
  tracer: TracerStatus;
  warnings: readonly string[];
  /** Most lines listing missing capabilities. */
  maxMissing?: number;
  /** Set when showing a recorded snapshot (`ka-top view`) instead of live data. */
  recorded?: RecordedInfo;
  findings: readonly Finding[];
  /** Sockets with no keepalive to speak of (TIME-WAIT): counted as n/a, not unknown. */
  keepaliveNa: number;
  /** Fewer lines, for terminals of ~24 rows. */
  compact?: boolean;
}

export interface RecordedInfo {
  /** The file as the user named it. */
  file: string;
  takenAt: string;
  /** The document's own warnings (what the recording could not see). */
  warnings: readonly string[];
}

/** The sysctl line's values and whose they are: null scope = ka-top's own namespace. */
export interface ShownSysctl {
  values: NetnsSysctl | null;
  scope: string | null;
  /** The shown namespaces disagree: no one set of values speaks for them. */
  differ: boolean;
}

/** ka-top's own namespace's sysctls when it is inventoried; else (`--netns`) those of the namespaces shown, when
 *  they agree. */
export function shownSysctl(namespaces: readonly NetnsInfo[]): ShownSysctl {
  const own = namespaces.find((n) => n.self);
  if (own) return { values: own.sysctl, scope: null, differ: false };
  const read = namespaces.filter((n) => n.sysctl);
  const first = read[0]?.sysctl ?? null;
  const differ = read.some((n) => SYSCTL_NAMES.some((k) => n.sysctl![k] !== first![k]));
  const scope = read.length === 1 ? netnsLabel(read[0]!) : `${read.length} netns`;
  return { values: differ ? null : first, scope: read.length ? scope : null, differ };
}

const clip = (s: string, width: number): string => (s.length > width ? s.slice(0, Math.max(0, width - 1)) + '…' : s);

export function headerLines(h: HeaderInput, width: number): HeaderLine[] {
  const lines: HeaderLine[] = [];
  if (h.recorded) {
    lines.push({ text: `RECORDED SNAPSHOT (read-only, not live) ${h.recorded.file} · taken ${h.recorded.takenAt} · ${h.host.hostname} · Linux ${h.host.kernel}`, bold: true, color: 'cyan' });
  } else {
    const refresh = `refresh ${formatDuration(h.refresh.intervalMs)} (took ${formatDuration(h.refresh.lastCostMs)})`;
    lines.push({ text: `ka-top ${h.version} · ${h.host.hostname} · Linux ${h.host.kernel} · ${refresh}`, bold: true });
  }
  const caps = h.capabilities;
  if (!caps) {
    lines.push({ text: 'checking what this host lets ka-top see…', color: 'gray' });
  } else {
    const keys = Object.keys(CAPABILITY_LABELS).filter((k) => k !== 'kernel') as (keyof Capabilities)[];
    const ok = keys.filter((k) => caps[k].available).map((k) => CAPABILITY_LABELS[k]);
    const missing = keys.filter((k) => !caps[k].available);
    if (h.compact) {
      const cannot = missing.filter((k) => k !== 'kprobes');
      const warn = h.warnings.length ? ` · ${h.warnings.length} warning(s) (?)` : '';
      lines.push({
        text: `sees: ${ok.join(', ') || 'nothing privileged'}${cannot.length ? ` · cannot: ${cannot.map((k) => CAPABILITY_LABELS[k]).join(', ')} (? why)` : ''}${warn}`,
        color: cannot.length || warn ? 'yellow' : undefined,
      });
    } else lines.push({ text: `sees: ${ok.join(', ') || 'nothing privileged'}` });
    if (!h.compact) for (const k of missing.slice(0, h.maxMissing ?? 3)) {
      // kprobes are optional here: tracepoints cover everything ka-top needs.
      lines.push({ text: `cannot: ${CAPABILITY_LABELS[k]} — ${caps[k].detail}`, color: k === 'kprobes' ? 'gray' : 'yellow' });
    }
    if (!h.compact && missing.length > (h.maxMissing ?? 3)) lines.push({ text: `cannot: … ${missing.length - (h.maxMissing ?? 3)} more (see ? help)`, color: 'yellow' });
  }
  const s = h.sysctl.values;
  const scope = h.sysctl.scope ? ` (${h.sysctl.scope})` : '';
  const sum = h.summary; // null until the first inventory: nothing below is known yet, nor known to be missing
  lines.push({
    text: s
      ? `sysctl${scope}: keepalive time ${s.tcp_keepalive_time}s intvl ${s.tcp_keepalive_intvl}s probes ${s.tcp_keepalive_probes} · tcp_retries2 ${s.tcp_retries2} · tcp_fin_timeout ${s.tcp_fin_timeout}s`
      : h.sysctl.differ ? `sysctl${scope}: they differ between these namespaces (a connection's detail shows its effective keepalive)`
      : sum ? 'sysctl: unreadable' : 'sysctl: reading…',
    color: s || sum ? undefined : 'gray',
  });
  const k = sum?.keepalive;
  const totals = sum && k
    ? `${counted(sum.connections, 'connection')} in ${h.namespaces} netns · keepalive on ${k.on} off ${k.off} unknown ${k.unknown - h.keepaliveNa} n/a ${h.keepaliveNa} · probing now ${k.probing}`
    : 'collecting connections…';
  let events: string;
  if (!h.tracer.on) events = h.recorded ? h.tracer.reason : `tracer ${h.tracer.starting ? 'starting' : 'off'}: ${h.tracer.reason}`;
  else if (h.recorded) {
    // A recording has totals, not a current rate.
    const r = h.tracer.view.resets;
    const top = resetCausesText(r.byCause.slice(0, 3), (b) => String(b.count));
    events = `recorded resets ${r.total}${top ? ` (${top})` : ''} · ${lossText(h.tracer.view)}`;
  } else {
    const r = h.tracer.view.resets;
    const top = resetCausesText(r.byCause.filter((b) => b.rate > 0).slice(0, 3), (b) => b.rate.toFixed(1));
    // In a flood the records are a sample: the kernel's count comes first.
    const inKernel = countedResetsText(h.tracer.view);
    const recorded = `${r.rate.toFixed(1)}${top ? ` (${top})` : ''}`;
    events = `${inKernel ? `resets ${inKernel} · recorded/s ${recorded}` : `resets/s ${recorded}`} · ${lossText(h.tracer.view)}`;
  }
  lines.push({ text: totals, color: sum && sum.keepalive.probing > 0 ? 'yellow' : undefined });
  lines.push({ text: events, color: h.tracer.on ? undefined : 'gray' });
  const f = findingsHeadline(h.findings);
  lines.push(f ? { text: f.text, color: f.color, bold: h.findings[0]!.severity === 'critical' }
    : { text: sum ? 'findings: none' : 'findings: once the connections are read…', color: 'gray' });
  if (h.refresh.error) lines.push({ text: `refresh failed: ${h.refresh.error}`, color: 'red' });
  if (!h.compact && h.warnings.length) lines.push({ text: `warning: ${h.warnings[0]}${h.warnings.length > 1 ? ` (+${h.warnings.length - 1} more)` : ''}`, color: 'yellow' });
  return lines.map((l) => ({ ...l, text: clip(l.text, width) }));
}

export function Header({ lines }: { lines: readonly HeaderLine[] }) {
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Line key={i} color={l.color} bold={l.bold}>
          {l.text}
        </Line>
      ))}
    </Box>
  );
}
