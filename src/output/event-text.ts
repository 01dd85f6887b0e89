// The human-readable form of an event, shared by `watch` and the TUI's timelines.
import type { KaEvent } from '../domain/event.js';
import { formatEndpoint } from './format.js';

/** One human-readable line per event; `netnsName` names the namespace (`ip netns` name) where it is known. */
export function formatEventLine(e: KaEvent, netnsName: (inode: number) => string | undefined = () => undefined): string {
  const time = e.ts.slice(11, 23);
  if (e.type === 'lost') return `${time} lost              ${e.events} events dropped by the tracer (counts stay exact)`;
  const who = e.pid !== null ? `${e.comm}[${e.pid}]` : 'owner unknown';
  const conn = e.type === 'sockopt_changed' ? `fd ${e.fd}` : `${(e.local ? formatEndpoint(e.local) : '?')} -> ${(e.peer ? formatEndpoint(e.peer) : '?')}`;
  let detail = '';
  switch (e.type) {
    case 'keepalive_probe':
      detail = `probe ${e.probesOutstanding}/${e.maxProbes} (total ${e.probesSent})` + (e.giveUpInMs !== null ? `, gives up in ${(e.giveUpInMs / 1000).toFixed(1)}s` : '');
      break;
    case 'keepalive_timeout':
      detail = `peer declared dead after ${e.maxProbes} unanswered probes`;
      break;
    case 'rst_sent':
      detail = `cause=${e.cause}${e.causeInferred ? ' (inferred)' : ''} reason=${e.reason ?? 'n/a'}`;
      break;
    case 'rst_received':
      detail = `inferred cause=${e.inferredCause}`;
      break;
    case 'close':
      detail = `how=${e.how}` + (e.lifetimeMs !== null ? ` after ${(e.lifetimeMs / 1000).toFixed(3)}s` : '');
      break;
    case 'sockopt_changed':
      detail = e.option;
      break;
  }
  const ns = e.netns === null ? '?' : netnsName(e.netns) ?? String(e.netns);
  return `${time} ${e.type.padEnd(17)} ${conn}  ${detail}  ${who} netns=${ns}`;
}
