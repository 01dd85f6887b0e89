// The tracer's exact totals, kept in kernel maps: they stay right when event records are lost. Host-wide: the
// kernel counts every socket, whatever a run selected for its event records.
import type { CloseHow, EventType, RstCause } from './event.js';

export interface TracerCounts {
  /** Resets sent by kernel reason name ('unknown' without a reason field). */
  rstSentByReason: Record<string, number>;
  /** Resets sent per network namespace inode (0: not known). */
  rstSentByNetns: Record<string, number>;
  /** The same by cause, classified as a record's is (classifyRst) from the facts the kernel's count is keyed by. */
  rstSentByNetnsCause: Record<string, Partial<Record<RstCause, number>>>;
  rstReceived: number;
  /** Resets received per network namespace inode (0: not known); empty from a program before 2026-12-02. */
  rstReceivedByNetns: Record<string, number>;
  keepaliveTimeouts: number;
  /** Closed connections by how they ended, per network namespace inode. */
  closesByNetns: Record<string, Record<CloseHow, number>>;
  /** Records the kernel printed that never reached ka-top: dropped by bpftrace (its perf buffer was full) and, once
   *  the tracer stopped, those still unread. */
  lostEvents: number;
  /** Records the program held back by event type, beyond the records a second each kind may print (a flood):
   *  never printed, so not among the lost; the counts above stay exact. */
  cappedEvents: Partial<Record<EventType, number>>;
  /** Per-connection state the kernel could not keep (a full map), by map: those connections' close outcome,
   *  lifetime or probe total are incomplete. */
  mapFull: Record<string, number>;
}

/** The totals a capture document keeps (schema/snapshot.schema.json, capture.counts); records held back only when
 *  there were any; the per-namespace resets not in documents before 2026-12-02, the closes not before 2026-12-03. */
export type CaptureTotals = Pick<TracerCounts, 'rstSentByReason' | 'rstReceived' | 'keepaliveTimeouts' | 'lostEvents'> &
  Partial<Pick<TracerCounts, 'cappedEvents' | 'rstSentByNetnsCause' | 'rstReceivedByNetns' | 'closesByNetns'>>;

/** All the records held back, whatever their kind. */
export const heldBackTotal = (capped: TracerCounts['cappedEvents'] | undefined): number => Object.values(capped ?? {}).reduce((a, b) => a + b, 0);

/** The records held back by type, in words (`rst_sent 343532, close 2`); '' when none. */
export const heldBackByType = (capped: TracerCounts['cappedEvents'] | undefined): string => Object.entries(capped ?? {}).map(([t, n]) => `${t} ${n}`).join(', ');
