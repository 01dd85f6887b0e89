// Keys that identify endpoints, flows and connections across inventories, events and snapshots.
import type { Endpoint } from './connection.js';

/** `a.b.c.d:port` or `[v6]:port`. */
export function endpointKey(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

// Keys are held by the hundred thousand (connection ids, index maps), so they are joined from an array: one flat
// string, where a template literal leaves a chain of concatenation cells (up to five objects per key, 30 MB at 100k
// connections).

/** One direction of a flow inside a network namespace. */
export function tupleKey(netns: number, local: Endpoint, peer: Endpoint): string {
  return [netns, endpointKey(local), endpointKey(peer)].join('/');
}

/** A socket in a network namespace: `<netns>:<cookie>`. */
export function cookieKey(netns: number, cookie: string): string {
  return [netns, cookie].join(':');
}

/** Stable across refreshes: `<netns>:<cookie>`, or the 4-tuple when the kernel gives no cookie. */
export function connectionId(netns: number, s: { cookie: string | null; local: Endpoint; peer: Endpoint }): string {
  return s.cookie ? cookieKey(netns, s.cookie) : [netns, [endpointKey(s.local), endpointKey(s.peer)].join('-')].join(':');
}
