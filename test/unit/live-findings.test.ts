// Live findings on the real lab capture (test/fixtures/capture): its events replayed into the sliding window give
// the event-driven findings the capture gave; they age out of the window; evaluation is memoised.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FreshIds, type MonitorState } from '../../src/engine/monitor.js';
import { inventoryFromDocument } from '../../src/engine/snapshot-feed.js';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { findingsHeadline, findingsLines, wrap } from '../../src/ui/findings-lines.js';
import { LiveFindings } from '../../src/ui/live-findings.js';
import { RULES_SINCE_CAPTURE } from '../helpers/findings-fixture.js';

const lab = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
const end = Date.parse(lab.capture!.endedAt);

function state(): MonitorState {
  return {
    inventory: inventoryFromDocument(lab), capabilities: lab.capabilities, fresh: new FreshIds(),
    closed: (lab.closedConnections ?? []).map((connection) => ({ connection, closedAt: end })), changes: null,
    refresh: { intervalMs: 2000, lastCostMs: 0, count: 1, error: null },
  };
}

describe('live findings', () => {
  it('the lab capture replayed: the timeout, the silent peer and the linger storm are found, most severe first', () => {
    let now = Date.parse(lab.capture!.startedAt);
    const live = new LiveFindings({ now: () => now });
    now = end;
    for (const e of lab.events!) live.push(e);
    const s = state();
    const rules = live.findings(s).map((f) => f.rule);
    for (const r of ['keepalive-timeouts', 'peers-not-answering-probes', 'zero-linger-resets']) expect(rules).toContain(r);
    expect(live.findings(s)[0]!.severity).toBe('critical');
    // the same answer for the same data as the capture
    const recorded = new Set(lab.findings!.map((f) => f.rule));
    for (const r of rules) expect(recorded.has(r) || RULES_SINCE_CAPTURE.has(r), r).toBe(true);
  });

  it("with the capture's idle timeouts, the live view finds what the capture found, the reclaimed idle flow included", () => {
    // The reclaimed flow is looked up where it was last seen (a closed row): the live view indexes only the
    // connections its events name, and this one must be among them.
    let now = Date.parse(lab.capture!.startedAt);
    const live = new LiveFindings({ now: () => now, idleTimeouts: lab.idleTimeouts! });
    now = end;
    for (const e of lab.events!) live.push(e);
    const f = live.findings(state());
    expect(f.map((x) => x.rule).filter((r) => !RULES_SINCE_CAPTURE.has(r))).toEqual(lab.findings!.map((x) => x.rule));
    const reclaimed = f.find((x) => x.rule === 'idle-flow-reset-by-middlebox')!;
    expect(reclaimed.connections).toEqual(lab.findings!.find((x) => x.rule === 'idle-flow-reset-by-middlebox')!.connections);
  });

  it('events age out of the window; new events or a new inventory re-evaluate, at most every minIntervalMs', () => {
    let now = Date.parse(lab.capture!.startedAt);
    const live = new LiveFindings({ now: () => now, windowMs: 60_000, minIntervalMs: 2000 });
    now = end;
    const s = state();
    const before = live.findings(s);
    expect(before.map((f) => f.rule)).not.toContain('keepalive-timeouts');
    for (const e of lab.events!) live.push(e);
    expect(live.findings(s)).toBe(before); // same inventory, within minIntervalMs
    now += 2500;
    expect(live.findings(s).map((f) => f.rule)).toContain('keepalive-timeouts');
    now += 120_000;
    expect(live.findings({ ...s, inventory: { ...s.inventory! } }).map((f) => f.rule)).not.toContain('keepalive-timeouts');
  });

  it('an inventory whose connections are the last ones (only aged) and no new event: evaluated again after agingIntervalMs', () => {
    let now = end;
    const live = new LiveFindings({ now: () => now, minIntervalMs: 2000, agingIntervalMs: 15_000 });
    const s = state();
    const first = live.findings(s);
    now += 5_000;
    const aged = { ...s, inventory: { ...s.inventory! } }; // a new inventory, the same connections array
    expect(live.findings(aged)).toBe(first);
    const changed = { ...s, inventory: { ...s.inventory!, connections: [...s.inventory!.connections] } };
    expect(live.findings(changed)).not.toBe(first); // a new array: minIntervalMs applies
    const second = live.findings(changed);
    now += 14_000;
    expect(live.findings({ ...changed, inventory: { ...changed.inventory! } })).toBe(second);
    now += 1_500;
    expect(live.findings({ ...changed, inventory: { ...changed.inventory! } })).not.toBe(second);
  });

  it('waits 50 times what an evaluation took when that is longer than minIntervalMs', () => {
    let now = end;
    let tick = 0; // the clock moves by this much on each reading: an evaluation "takes" it
    const live = new LiveFindings({ now: () => (now += tick), minIntervalMs: 2000 });
    tick = 200;
    const first = live.findings(state()); // took 200 ms: the next one waits 10 s
    tick = 0;
    for (const e of lab.events!) live.push(e);
    now += 9_000;
    expect(live.findings(state())).toBe(first);
    now += 1_500;
    expect(live.findings(state())).not.toBe(first);
  });

  it('keeps the newest maxEvents events of a storm: the oldest leave, the findings are those of the newest', () => {
    let now = Date.parse(lab.capture!.startedAt);
    const live = new LiveFindings({ now: () => now, maxEvents: 10 });
    now = end;
    const timeout = lab.events!.find((e) => e.type === 'keepalive_timeout')!;
    const reset = lab.events!.find((e) => e.type === 'rst_sent' && e.cause === 'linger')!;
    live.push(timeout);
    for (let i = 0; i < 10_000; i++) live.push(reset);
    const rules = live.findings(state()).map((f) => f.rule);
    expect(rules).not.toContain('keepalive-timeouts'); // pushed out by the storm
    const storm = live.findings({ ...state(), inventory: { ...state().inventory! } }).find((f) => f.rule === 'zero-linger-resets')!;
    expect(storm.evidence.resets).toBe(10);
  });

  it('findings are about what the view shows: the command-line filter applies', () => {
    let now = Date.parse(lab.capture!.startedAt);
    const live = new LiveFindings({ now: () => now, filter: { netns: ['kalab-hc-cli'] } });
    now = end;
    for (const e of lab.events!) live.push(e);
    const rules = live.findings(state()).map((f) => f.rule);
    expect(rules).toContain('zero-linger-resets');
    expect(rules).not.toContain('keepalive-timeouts');
  });

  it('header line and panel lines: counts by severity, the most severe named, each fix', () => {
    const f = lab.findings!;
    const head = findingsHeadline(f)!;
    expect(head.text).toMatch(/^findings: 2 critical, 5 warning, 1 info — keepalive-timeouts: /);
    expect(head.color).toBe('red');
    expect(findingsHeadline([])).toBeNull();
    const lines = findingsLines(f, 80);
    expect(lines.every((l) => l.text.length <= 80)).toBe(true);
    expect(lines.filter((l) => /^ {2}fix: /.test(l.text))).toHaveLength(f.length);
    expect(wrap('aaa bbb ccc', 7, '  ')).toEqual(['aaa bbb', '  ccc']);
  });
});
