// What a middlebox sees of a connection: how long the flow has been idle, and whether it leaves the host at all.
import type { Connection } from '../domain/connection.js';

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}

/** Idle time of the flow as a middlebox sees it: nothing sent, received or acknowledged. */
export function flowIdleMs(c: Connection): number | null {
  const vals = [c.idleMs.send, c.idleMs.recv, c.idleMs.ack].filter((v): v is number => v !== null);
  return vals.length ? Math.min(...vals) : null;
}
