// `ka-top view`'s pieces on the committed real snapshot: the static source, the event view rebuilt from a
// document's events, and the App in recorded (read-only) mode.
import { readFileSync } from 'node:fs';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { SnapshotFeed, captureWindow } from '../../src/engine/snapshot-feed.js';
import type { KaEvent } from '../../src/domain/event.js';
import type { CaptureInfo, SnapshotDocument } from '../../src/domain/snapshot.js';
import { App } from '../../src/ui/App.js';
import { recordedTracer } from '../../src/ui/tracer-view.js';
import { keepaliveClient, loadSnapshot } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const labCapture = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;
const client = keepaliveClient(doc);
const t0 = Date.parse(doc.takenAt);

function withEvents(): SnapshotDocument {
  const base = { local: client.local, peer: client.peer, netns: client.netns.inode, pid: client.process!.pid, comm: 'ka-peer', process: null, connection: client.id, sk: null };
  const events: KaEvent[] = [
    { ...base, ts: new Date(t0 - 9000).toISOString(), type: 'keepalive_probe', probesSent: 1, probesOutstanding: 1, maxProbes: 4, intervalMs: 7000, userTimeoutMs: 0, giveUpInMs: 28000 },
    { ...base, ts: new Date(t0 - 2000).toISOString(), type: 'keepalive_probe', probesSent: 2, probesOutstanding: 2, maxProbes: 4, intervalMs: 7000, userTimeoutMs: 0, giveUpInMs: 21000 },
    { ...base, ts: new Date(t0 - 1000).toISOString(), type: 'rst_sent', reason: 'TCP_STATE', cause: 'linger', causeInferred: false, state: 'TCP_CLOSE' },
    { type: 'lost', ts: new Date(t0 - 500).toISOString(), events: 3 },
  ];
  return { ...doc, events };
}

function capture(tracing: boolean): CaptureInfo {
  const summary = { connections: 0, byState: {}, keepalive: { on: 0, off: 0, unknown: 0, probing: 0 } };
  return {
    startedAt: new Date(t0 - 60_000).toISOString(), endedAt: doc.takenAt, durationMs: 60_000, requestedMs: 60_000, interrupted: false,
    inventories: { start: { takenAt: doc.takenAt, summary }, end: { takenAt: doc.takenAt, summary } },
    tracing: tracing ? { on: true, reason: null, missing: [] } : { on: false, reason: 'needs root', missing: [] },
    lostEvents: 0, eventsDropped: 0, eventsByType: {}, counts: null,
  };
}

const tick = () => new Promise((r) => setTimeout(r, 30));

async function mount(d: SnapshotDocument) {
  const tracer = recordedTracer(d);
  const r = render(
    <App feed={new SnapshotFeed(d)} version="0.1.0" host={d.host} tracer={() => tracer}
      recorded={{ file: 'snap.json.gz', takenAt: d.takenAt, warnings: ['owners of some sockets are missing'] }} />,
  );
  await tick();
  const type = async (s: string) => {
    const before = r.lastFrame();
    r.stdin.write(s);
    for (let i = 0; i < 100 && r.lastFrame() === before; i++) await tick();
  };
  return { ...r, type, frame: () => r.lastFrame() ?? '' };
}

describe('recorded snapshot view', () => {
  it('the static source holds the document as a MonitorState and never changes', () => {
    const s = new SnapshotFeed(doc);
    expect(s.state.inventory?.connections).toBe(doc.connections);
    expect(s.state.inventory?.takenAt).toBe(doc.takenAt);
    expect(s.state.capabilities).toBe(doc.capabilities);
    expect(s.subscribe()).toBeTypeOf('function');
    // A capture's connections closed during the window are kept as closed rows.
    const gone = new SnapshotFeed({ ...doc, capture: capture(true), closedConnections: [client] });
    expect(gone.state.closed).toEqual([{ connection: client, closedAt: t0 }]);
  });

  it('events: per-connection activity, complete timelines, reset totals, lost events, capture window', () => {
    const d = withEvents();
    expect(captureWindow(d)).toEqual({ start: t0 - 9000, end: t0 - 500 });
    expect(captureWindow({ ...d, capture: capture(true) })).toEqual({ start: t0 - 60_000, end: t0 });
    const t = recordedTracer(d);
    if (!t.on) throw new Error('tracer should be on');
    expect(t.view.activity(client.id)).toMatchObject({ probesSent: 2, resets: 1 });
    expect(t.view.timeline(client.id)).toHaveLength(3);
    expect(t.view.resets.total).toBe(1);
    expect(t.view.lostEvents).toBe(3);
    expect(recordedTracer(doc)).toEqual({ on: false, reason: expect.stringContaining('no events in this snapshot') });
    expect(recordedTracer({ ...doc, events: [], capture: capture(false) })).toEqual({ on: false, reason: 'no events: the capture ran without tracing (needs root)' });
  });

  it('header says recorded (file, time, host), shows the document warnings; pause and e are read-only', async () => {
    const { frame, type, unmount } = await mount(withEvents());
    expect(frame()).toContain(`RECORDED SNAPSHOT (read-only, not live) snap.json.gz · taken ${doc.takenAt} · vm · Linux`);
    expect(frame()).toContain('recorded resets 1 (sent linger 1) · lost events 3');
    // compact header (24 rows): warnings are counted there, listed in the help
    expect(frame()).toMatch(/\d+ warning\(s\) \(\?\)/);
    await type('p');
    expect(frame()).toContain('read-only: a recorded snapshot does not change');
    expect(frame()).not.toContain('PAUSED');
    await type('e');
    expect(frame()).toContain('read-only: this is already a snapshot (snap.json.gz)');
    unmount();
  });

  it('detail shows the recorded timeline; resets view counts from the events', async () => {
    const { frame, type, unmount } = await mount(withEvents());
    await type('/');
    await type(`:${client.local.port} 127.0.0.1:${client.peer.port}`);
    await type('\r');
    await type('\r');
    // The timeline follows the connection's own lines, newest first: time, event, what happened.
    const timeline = frame().split('\n').filter((l) => /^ +\d\d:\d\d:\d\d\.\d{3} /.test(l)).map((l) => l.trim().split(/ +/).slice(1, 3).join(' '));
    expect(timeline).toEqual(['rst_sent cause=linger', 'keepalive_probe probe', 'keepalive_probe probe']);
    await type('\x1b');
    await type('r');
    expect(frame()).toMatch(/linger +1 /);
    unmount();
  });

  it('without events the detail and header say the snapshot has none', async () => {
    const { frame, type, unmount } = await mount(doc);
    expect(frame()).toContain('no events in this snapshot');
    await type('\r');
    expect(frame()).toContain('none: the snapshot was taken without --capture');
    unmount();
  });

  it('real lab capture: the dead peer\'s connection, closed during the window, keeps its probes and timeout', () => {
    const source = new SnapshotFeed(labCapture);
    const dead = source.state.closed.find((c) => c.connection.netns.name === 'kalab-dead-cli')!;
    expect(dead.closedAt).toBe(Date.parse(labCapture.capture!.endedAt));
    const t = recordedTracer(labCapture);
    if (!t.on) throw new Error('tracer should be on');
    expect(t.view.activity(dead.connection.id)).toMatchObject({ probesSent: 6, resets: 1 });
    expect(t.view.timeline(dead.connection.id).map((e) => e.type)).toContain('keepalive_timeout');
    expect(t.view.resets.total).toBe(labCapture.events!.filter((e) => e.type === 'rst_sent' || e.type === 'rst_received').length);
  });
});
