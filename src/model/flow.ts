// What a middlebox sees of a connection: how long the flow has been idle, and whether it leaves the host at all.
import type { Connection } from '../domain/connection.js';

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Idle time of the flow as a middlebox sees it: nothing sent, received or acknowledged. */
export function flowIdleMs(c: Connection): number | null {
  // No array: the findings ask this of every connection without keepalive, 50k of them on a busy host.
  const { send, recv, ack } = c.idleMs;
  let idle: number | null = send;
  if (recv !== null && (idle === null || recv < idle)) idle = recv;
  if (ack !== null && (idle === null || ack < idle)) idle = ack;
  return idle;
}
