// The tracer's exact totals, kept in kernel maps: they stay right when event records are lost.

export interface TracerCounts {
  /** Resets sent by kernel reason name. */
  rstSentByReason: Record<string, number>;
  rstReceived: number;
  keepaliveTimeouts: number;
  lostEvents: number;
}
