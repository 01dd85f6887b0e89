// A finding: what looks wrong, in words, with the connections concerned, the fix and the evidence.

export type Severity = 'info' | 'warning' | 'critical';
/** Most severe first. */
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export interface Finding {
  rule: string;
  severity: Severity;
  summary: string;
  /** Connection ids (bounded; `evidence.connectionCount` has the total). */
  connections: string[];
  processes: { pid: number; comm: string }[];
  fix: string;
  evidence: Record<string, unknown>;
}

/** A middlebox (load balancer, NAT) idle timeout the keepalive settings are checked against. */
export interface IdleTimeout {
  name: string;
  seconds: number;
}
