// `doctor`'s lines for ka-top's own parts: ok/FAIL, what was found, and the fix under a failed one.
import type { PartCheck } from '../model/self-check.js';

export function renderPartChecks(parts: readonly PartCheck[]): string {
  const width = Math.max(...parts.map((p) => p.label.length));
  return parts.map((p) => `${p.ok ? 'ok   ' : 'FAIL '}${p.label.padEnd(width)}  ${p.detail}${p.fix ? `\n     fix: ${p.fix}` : ''}`).join('\n');
}
