// `doctor`'s table: one line per capability, ok/no, with the reason in words.
import { CAPABILITY_LABELS, type Capabilities } from '../domain/capabilities.js';

export function renderCapabilities(caps: Capabilities): string {
  const keys = Object.keys(CAPABILITY_LABELS) as (keyof Capabilities)[];
  const width = Math.max(...keys.map((k) => CAPABILITY_LABELS[k].length));
  return keys
    .map((k) => `${caps[k].available ? 'ok  ' : 'no  '}${CAPABILITY_LABELS[k].padEnd(width)}  ${caps[k].detail}`)
    .join('\n');
}
