// The live view's resets on the real lab capture: a filter keeps the resets of what the view shows, as its findings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { LiveResets } from '../../src/ui/live-resets.js';

const lab = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
const end = Date.parse(lab.capture!.endedAt);
const resets = lab.events!.filter((e) => e.type === 'rst_sent' || e.type === 'rst_received');
const inode = (name: string) => lab.namespaces.find((n) => n.name === name)!.inode;

function replay(live: LiveResets) {
  for (const e of lab.events!) live.push(e);
  return live.summary(end);
}

describe('live resets', () => {
  it('without a filter: every reset the tracer saw', () => {
    expect(resets.length).toBeGreaterThan(10);
    expect(replay(new LiveResets({}, () => lab.namespaces)).total).toBe(resets.length);
  });

  it("--netns NAME: that namespace's resets only (the checker's storm is not another namespace's)", () => {
    const hc = inode('kalab-hc-cli');
    const own = resets.filter((e) => e.netns === hc);
    expect(own.length).toBeGreaterThan(0);
    expect(own.length).toBeLessThan(resets.length);
    const s = replay(new LiveResets({ netns: ['kalab-hc-cli'] }, () => lab.namespaces));
    expect(s.total).toBe(own.length);
    expect(replay(new LiveResets({ netns: [String(hc)] }, () => [])).total).toBe(own.length); // an inode needs no names
    expect(replay(new LiveResets({ netns: ['kalab-ok-cli'] }, () => lab.namespaces)).total).toBe(0); // the healthy client: none
  });

  it('--port: resets of connections with that local or peer port', () => {
    const port = resets.find((e) => e.peer)!.peer!.port;
    const own = resets.filter((e) => e.local?.port === port || e.peer?.port === port);
    expect(replay(new LiveResets({ ports: [port] }, () => lab.namespaces)).total).toBe(own.length);
  });
});
