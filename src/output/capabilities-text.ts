// `doctor`'s table: one line per capability, ok/no, with the reason in words; then how the tracer attaches here.
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';
import type { AttachedProbe } from '../model/bpf-program.js';

export function renderCapabilities(caps: Capabilities): string {
  const keys = Object.keys(CAPABILITY_LABELS) as (keyof Capabilities)[];
  const width = Math.max(...keys.map((k) => CAPABILITY_LABELS[k].length));
  return keys
    .map((k) => `${caps[k].available ? 'ok  ' : 'no  '}${CAPABILITY_LABELS[k].padEnd(width)}  ${caps[k].detail}`)
    .join('\n');
}

/** Each probe of the program for this host (what it watches, where it attaches, why there), then what is not traced. */
export function renderTracing(attached: readonly AttachedProbe[], missing: readonly string[]): string {
  const width = Math.max(0, ...attached.map((p) => p.watches.length));
  return [
    ...attached.map((p) => `  ${p.watches.padEnd(width)}  ${p.attach}\n  ${' '.repeat(width)}  ${p.why}`),
    ...missing.map((m) => `  not traced: ${m}`),
  ].join('\n');
}
