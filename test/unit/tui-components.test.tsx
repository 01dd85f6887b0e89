// The TUI's components on real-shaped state: a MonitorState built from a snapshot captured on this machine.
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { MonitorState } from '../../src/engine/monitor.js';
import type { KaEvent } from '../../src/domain/event.js';
import { summarizeResets, resetRecordOf } from '../../src/model/reset-stats.js';
import { App, type StateSource } from '../../src/ui/App.js';
import type { TracerStatus } from '../../src/ui/tracer-view.js';
import { keepaliveClient, loadSnapshot } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const client = keepaliveClient(doc);

function stateFrom(connections = doc.connections): MonitorState {
  return {
    inventory: {
      takenAt: doc.takenAt, namespaces: doc.namespaces, connections, ownersMissing: null,
      sockoptReads: { ok: 5, errors: [] }, parseErrors: [], timings: { totalMs: 40, dumpMs: 20, scanMs: 20, joinMs: 1 },
    },
    capabilities: doc.capabilities,
    fresh: new Map(),
    closed: [],
    refresh: { intervalMs: 2000, lastCostMs: 40, count: 1, error: null },
  };
}

class Source implements StateSource {
  private fns = new Set<(s: MonitorState) => void>();
  constructor(public state: MonitorState) {}
  subscribe(fn: (s: MonitorState) => void) {
    this.fns.add(fn);
    return () => void this.fns.delete(fn);
  }
  push(s: MonitorState) {
    this.state = s;
    for (const f of this.fns) f(s);
  }
}

const tick = () => new Promise((r) => setTimeout(r, 30));
const host = { hostname: 'testhost', kernel: '6.18.44' };

async function mount(props: Partial<Parameters<typeof App>[0]> = {}) {
  const source = new Source(stateFrom());
  const r = render(<App source={source} version="0.1.0" host={host} {...props} />);
  await tick();
  // Waits for the frame to change (not a fixed delay: the machine may be busy).
  const type = async (s: string) => {
    const before = r.lastFrame();
    r.stdin.write(s);
    for (let i = 0; i < 100 && r.lastFrame() === before; i++) await tick();
  };
  return { ...r, source, type, frame: () => r.lastFrame() ?? '' };
}

describe('TUI components', () => {
  it('header shows host, capabilities with reasons, sysctl defaults and totals', async () => {
    const { frame, unmount } = await mount();
    const f = frame();
    expect(f).toContain('ka-top 0.1.0 · testhost · Linux 6.18.44');
    expect(f).toMatch(/sees: root, bpftrace, tracefs/);
    expect(f).toMatch(/cannot: kprobes — /);
    expect(f).toContain('sysctl: keepalive time 7200s intvl 75s probes 9');
    expect(f).toContain(`${doc.connections.length} connections`);
    expect(f).toContain('tracer off: not started');
    unmount();
  });

  it('rows show the keepalive marks, timer and probes; frame fits the terminal', async () => {
    const { frame, unmount } = await mount();
    const line = frame().split('\n').find((l) => l.startsWith(`ESTAB      127.0.0.1:${client.local.port} `))!;
    expect(line).toMatch(/ESTAB +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +\d+\/ka-peer +37s\*\/7s\*\/4\* +36s +0\/4/);
    const lines = frame().split('\n');
    expect(lines.length).toBeLessThanOrEqual(23); // rows (24 default) - 1
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    unmount();
  });

  it('filters by text and clears with Esc', async () => {
    const { frame, type, unmount } = await mount();
    await type('/');
    expect(frame()).toContain('Enter keep · Esc clear');
    await type(`:${client.local.port} `);
    await type('\r');
    // the client socket and the server's end of it
    expect(frame()).toContain(`1/2 · filter ":${client.local.port} "`);
    expect(frame()).not.toContain('LISTEN');
    await type('\x1b');
    expect(frame()).toContain(`1/${doc.connections.length} ·`);
    unmount();
  });

  it('detail view shows every field with where each keepalive value comes from', async () => {
    const { frame, type, unmount } = await mount();
    await type('/');
    await type(`127.0.0.1:${client.local.port} 127`);
    await type('\r');
    await type('\r');
    const f = frame();
    expect(f).toContain('idle (TCP_KEEPIDLE)');
    expect(f).toMatch(/37s {2}set on the socket/);
    expect(f).toContain(`${client.process!.pid}/ka-peer`);
    await type('j'); // scroll: the rest of the keepalive fields, then the timeline at the end
    await type('j');
    expect(frame()).toMatch(/probes \(TCP_KEEPCNT\) +4 {2}set on the socket/);
    await type('G');
    expect(frame()).toMatch(/dead in \(peer silent\) +1m04s {2}by probe count/);
    expect(frame()).toContain('none: the tracer is off');
    await type('\x1b');
    expect(frame()).toContain('KEEPALIVE');
    unmount();
  });

  it('sorts with > and inverts with I', async () => {
    const { frame, type, unmount } = await mount();
    await type('>');
    expect(frame()).toContain('LOCAL▼');
    await type('I');
    expect(frame()).toContain('LOCAL▲');
    unmount();
  });

  it('help lists every key', async () => {
    const { frame, type, unmount } = await mount();
    await type('?');
    const f = frame();
    for (const s of ['PgUp/PgDn', 'filter by text', 'invert the sort', 'resets view', 'pause', 'write a snapshot', 'quit']) expect(f).toContain(s);
    unmount();
  });

  it('pause shows PAUSED and freezes the rows until resumed', async () => {
    const { frame, type, source, unmount } = await mount();
    await type('p');
    expect(frame()).toContain('PAUSED');
    source.push(stateFrom(doc.connections.filter((c) => c.id !== client.id)));
    await tick();
    const clientRow = new RegExp(`ESTAB +127\\.0\\.0\\.1:${client.local.port} `);
    expect(frame()).toMatch(clientRow);
    await type(' ');
    expect(frame()).not.toContain('PAUSED');
    expect(frame()).not.toMatch(clientRow);
    unmount();
  });

  it('resets view: tracer off says why; with events shows causes, processes and peers', async () => {
    const off = await mount();
    await off.type('r');
    expect(off.frame()).toContain('tracer off: not started');
    off.unmount();

    const now = Date.now();
    const rst = (i: number): KaEvent => ({
      type: 'rst_sent', ts: new Date(now - i * 100).toISOString(), local: client.local, peer: { address: '198.18.0.9', port: 40000 + i },
      netns: client.netns.inode, pid: 4242, comm: 'checker', process: null, connection: null, sk: null,
      reason: 'TCP_STATE', cause: 'linger', causeInferred: false, state: 'TCP_CLOSE',
    });
    const events = Array.from({ length: 30 }, (_, i) => rst(29 - i));
    const resets = summarizeResets(events.map((e) => resetRecordOf(e)!), now);
    const tracer = (): TracerStatus => ({
      on: true,
      view: { activity: (id) => (id === client.id ? { probesSent: 0, resets: 30 } : undefined), timeline: () => events.slice(0, 2), resets, lostEvents: 0 },
    });
    const on = await mount({ tracer });
    expect(on.frame()).toMatch(/resets\/s 3\.0 \(linger 3\.0\)/);
    await on.type('r');
    const f = on.frame();
    expect(f).toMatch(/linger +30 +3\.0/);
    expect(f).toMatch(/4242\/checker +30 +3\.0/);
    expect(f).toMatch(/198\.18\.0\.9 +30 +3\.0/);
    on.unmount();
  });

  it('e writes the rows on screen through onSnapshot and prints the path', async () => {
    let got: number | null = null;
    const { frame, type, unmount } = await mount({
      onSnapshot: (rows) => {
        got = rows.length;
        return '/tmp/ka-top-snapshot-x.json';
      },
    });
    await type('/');
    await type('ka-peer');
    await type('\r');
    await type('e');
    expect(got).toBe(doc.connections.filter((c) => c.processes.some((p) => p.comm === 'ka-peer')).length);
    expect(frame()).toContain(`wrote ${got} connections to /tmp/ka-top-snapshot-x.json`);
    unmount();
  });
});
