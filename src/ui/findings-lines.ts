// Findings on screen: the header's one-line count and the lines of the findings panel (`f`). Pure.
import { SEVERITIES, type Finding, type Severity } from '../domain/finding.js';
import type { LineColor } from './Line.js';
import { findingConnectionCount } from '../model/findings/rule-kit.js';

export const SEVERITY_COLOR: Record<Severity, LineColor> = { critical: 'red', warning: 'yellow', info: 'cyan' };

/** `findings: 1 critical, 2 warning — keepalive-timeouts: …` (null when there is none). */
export function findingsHeadline(findings: readonly Finding[]): { text: string; color: LineColor } | null {
  if (!findings.length) return null;
  const counts = SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length] as const).filter(([, n]) => n > 0);
  const top = findings[0]!; // most severe first
  return {
    text: `findings: ${counts.map(([s, n]) => `${n} ${s}`).join(', ')} — ${top.rule}: ${top.summary} (f: all, with fixes)`,
    color: SEVERITY_COLOR[top.severity],
  };
}

/** Word-wraps `text` to `width` columns, `indent` before continuation lines. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && candidate.length > width) {
      out.push(line);
      line = indent + word;
    } else line = candidate;
  }
  if (line) out.push(line);
  return out.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

export interface FindingLine {
  text: string;
  /** Index of the finding the line belongs to. */
  finding: number;
  color?: LineColor;
  bold?: boolean;
}

/** Every finding: severity and rule, how many connections it concerns (if any), the summary and the fix, wrapped. */
export function findingsLines(findings: readonly Finding[], width: number): FindingLine[] {
  const out: FindingLine[] = [];
  findings.forEach((f, i) => {
    const count = findingConnectionCount(f);
    out.push({ text: `${f.severity.toUpperCase()} ${f.rule}${count ? ` · ${count} connection(s)` : ''}`, finding: i, color: SEVERITY_COLOR[f.severity], bold: true });
    for (const l of wrap(f.summary, width - 2)) out.push({ text: `  ${l}`, finding: i });
    for (const l of wrap(`fix: ${f.fix}`, width - 2, '     ')) out.push({ text: `  ${l}`, finding: i, color: 'green' });
  });
  return out;
}
