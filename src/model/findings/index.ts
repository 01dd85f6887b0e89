// The findings rules engine: turns a snapshot (and the events of a capture window) into plain-language findings,
// each with a severity, the connections and processes concerned, a concrete fix at the right layer, and the
// evidence it rests on. Pure: one rule per file, each a small function of the data; the README (Findings) explains
// each one.
import { SEVERITIES, type Finding, type IdleTimeout } from '../../domain/finding.js';
import { ruleConnectFailures } from './connect-failures.js';
import { ruleDefaultSysctlBehindMiddlebox } from './default-sysctl-behind-middlebox.js';
import { ruleIdleReclaimed } from './idle-reclaimed.js';
import { ruleIdleWithoutKeepalive } from './idle-without-keepalive.js';
import { ruleKeepaliveOverMiddlebox } from './keepalive-over-middlebox.js';
import { ruleKeepaliveTimeouts } from './keepalive-timeouts.js';
import { rulePeersNotAnswering } from './peers-not-answering.js';
import { ruleRetransmitTimeouts } from './retransmit-timeouts.js';
import type { FindingsInput } from './rule-kit.js';
import { ruleUnreadDataResets } from './unread-data-resets.js';
import { ruleUserTimeout } from './user-timeout.js';
import { ruleZeroLingerResets } from './zero-linger-resets.js';

/**
 * Idle timeouts of common middleboxes (defaults; override with --idle-timeouts). Each checked against the vendor:
 * - aws-nlb 350 s: AWS Network Load Balancer, "The default idle timeout value for TCP flows is 350 seconds"
 *   (docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html; configurable 60–6000 s).
 * - aws-nat 350 s: AWS NAT gateway, a connection idle for 350 s or more times out
 *   (docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-troubleshooting.html, "Connection timeout").
 * - azure-lb 240 s: Azure Load Balancer rules, "The default setting is 4 minutes" (4–100 min)
 *   (learn.microsoft.com/azure/load-balancer/load-balancer-tcp-idle-timeout); Azure NAT Gateway also defaults to 4 min.
 * - gcp-nat 1200 s: Google Cloud NAT `tcpEstablishedIdleTimeoutSec`, "Defaults to 1200s if not set" (Compute API
 *   RouterNat). Its 30 s default is for transitory (SYN/FIN) TCP and for UDP, not for established flows.
 */
export const DEFAULT_IDLE_TIMEOUTS: readonly IdleTimeout[] = [
  { name: 'azure-lb', seconds: 240 },
  { name: 'aws-nlb', seconds: 350 },
  { name: 'aws-nat', seconds: 350 },
  { name: 'gcp-nat', seconds: 1200 },
];

export const RULES: readonly ((input: FindingsInput) => Finding[])[] = [
  ruleKeepaliveTimeouts, ruleRetransmitTimeouts, ruleIdleReclaimed, rulePeersNotAnswering, ruleKeepaliveOverMiddlebox, ruleIdleWithoutKeepalive,
  ruleDefaultSysctlBehindMiddlebox, ruleUserTimeout, ruleUnreadDataResets, ruleZeroLingerResets, ruleConnectFailures,
];

/** Every rule's findings, most severe first. */
export function evaluateFindings(input: FindingsInput): Finding[] {
  const all = RULES.flatMap((r) => r(input));
  return all
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITIES.indexOf(a.f.severity) - SEVERITIES.indexOf(b.f.severity) || a.i - b.i)
    .map((x) => x.f);
}
