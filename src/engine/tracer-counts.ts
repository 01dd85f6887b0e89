// The tracer's exact counts, read from the maps the program prints every interval and at exit: they stay exact
// when single records are lost. Closes are counted per namespace in the kernel; no record per close.
import { cappedEventType } from '../model/bpf-program.js';
import { CLOSE_HOW } from '../parse/ka-records.js';
import type { TracerCounts } from '../domain/counts.js';
import { CLOSE_HOWS, type CloseHow } from '../domain/event.js';
import { classifyRst } from '../model/events.js';
import { reasonName } from './event-decode.js';

/** What the event stream keeps besides the published counts: records printed in the kernel (@records). */
export interface RecordTally {
  recordsPrinted: number;
}

export const emptyCounts = (): TracerCounts & RecordTally => ({
  recordsPrinted: 0,
  rstSentByReason: {}, rstSentByNetns: {}, rstSentByNetnsCause: {}, rstReceived: 0, rstReceivedByNetns: {}, keepaliveTimeouts: 0, closesByNetns: {}, lostEvents: 0, cappedEvents: {}, mapFull: {},
});

const HOW_BY_CODE = new Map<number, string>(Object.entries(CLOSE_HOW).map(([k, n]) => [n, k]));

/** The kernel's names for the numbers in map keys (the program's, as detected on this host). */
export interface KernelNames {
  reasons: Record<number, string>;
  tcpStates: Record<number, string>;
}

/** Applies one printed map to the counts. Tuple keys are comma-joined strings. */
export function applyCountsMap(counts: TracerCounts & RecordTally, name: string, data: Record<string, number> | number, names: KernelNames): void {
  if (name === '@ka_timeouts' && typeof data === 'number') counts.keepaliveTimeouts = data;
  else if (name === '@rst_received' && typeof data === 'number') counts.rstReceived = data; // a recording's older program
  else if (name === '@rst_received' && typeof data === 'object') {
    counts.rstReceivedByNetns = { ...data };
    counts.rstReceived = Object.values(data).reduce((a, b) => a + b, 0);
  }
  else if (name === '@map_full' && typeof data === 'object') counts.mapFull = { ...data };
  else if (name === '@records' && typeof data === 'number') counts.recordsPrinted = data;
  else if (name === '@capped' && typeof data === 'object') {
    const by: TracerCounts['cappedEvents'] = {};
    for (const [k, v] of Object.entries(data)) {
      const type = cappedEventType(Number(k));
      if (type) by[type] = (by[type] ?? 0) + v;
    }
    counts.cappedEvents = by;
  }
  else if (name === '@rst_sent' && typeof data === 'object') {
    const byReason: Record<string, number> = {};
    const byNetns: Record<string, number> = {};
    const byNetnsCause: TracerCounts['rstSentByNetnsCause'] = {};
    for (const [k, v] of Object.entries(data)) {
      // A recording's older program keyed only the first four: read as a reset with a socket, so that one without
      // the kernel's reason (before 6.10) and without a socket counts as `other` there, not as no_socket.
      const [ns = '0', rs, ka, l0, hasSk = '1', st = '0'] = k.split(',');
      const reason = reasonName(names.reasons, Number(rs));
      byReason[reason ?? 'unknown'] = (byReason[reason ?? 'unknown'] ?? 0) + v;
      byNetns[ns] = (byNetns[ns] ?? 0) + v;
      const { cause } = classifyRst({
        reason, state: names.tcpStates[Number(st)] ?? null, hasSocket: hasSk === '1', inKeepaliveTimer: ka === '1', lingerZero: l0 === '1',
      });
      const row = (byNetnsCause[ns] ??= {});
      row[cause] = (row[cause] ?? 0) + v;
    }
    counts.rstSentByReason = byReason;
    counts.rstSentByNetns = byNetns;
    counts.rstSentByNetnsCause = byNetnsCause;
  } else if (name === '@closes' && typeof data === 'object') {
    const by: TracerCounts['closesByNetns'] = {};
    for (const [k, v] of Object.entries(data)) {
      const [ns, code] = k.split(',');
      const how = HOW_BY_CODE.get(Number(code));
      if (ns === undefined || !how) continue;
      const row = (by[ns] ??= Object.fromEntries(CLOSE_HOWS.map((h) => [h, 0])) as Record<CloseHow, number>);
      // A close() that reset after TCP_CLOSE was counted as a FIN close first.
      if (how === 'reset_after_close') {
        row.fin -= v;
        row.rst_sent += v;
      } else row[how as CloseHow] += v;
    }
    counts.closesByNetns = by;
  }
}
