// Real-shaped TUI input: the JSON snapshot captured on the dev machine with a ka-peer pair (test/fixtures/tui).
import { readFileSync } from 'node:fs';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import type { Connection } from '../../src/domain/connection.js';

export const FIXTURE = new URL('../fixtures/tui/snapshot-ka-peer.json', import.meta.url);

export function loadSnapshot(): SnapshotDocument {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as SnapshotDocument;
}

/** The captured client connection set up with --keepidle 37 --keepintvl 7 --keepcnt 4 (lowest local port). */
export function keepaliveClient(doc = loadSnapshot()): Connection {
  return doc.connections.filter((c) => c.keepalive.idleSec === 37 && c.state === 'ESTAB').sort((a, b) => a.local.port - b.local.port)[0]!;
}

/** `n` connections cloned from the capture, each with its own id and local port (for scale tests). */
export function manyConnections(n: number, doc = loadSnapshot()): Connection[] {
  const base = doc.connections;
  return Array.from({ length: n }, (_, i) => {
    const c = base[i % base.length]!;
    return { ...c, id: `${c.id}#${i}`, local: { ...c.local, port: 1024 + (i % 64000) }, idleMs: { ...c.idleMs, recv: (i * 7919) % 100000 } };
  });
}
