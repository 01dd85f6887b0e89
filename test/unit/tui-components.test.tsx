// The TUI's components on real-shaped state: a MonitorState built from a snapshot captured on this machine.
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { FreshIds, type MonitorState } from '../../src/engine/monitor.js';
import type { KaEvent } from '../../src/domain/event.js';
import { finding } from '../../src/model/findings/rule-kit.js';
import { groupCauses, summarizeResets, resetRecordOf, type CountedResets, type ResetRecord } from '../../src/model/reset-stats.js';
import { App, type StateFeed } from '../../src/ui/App.js';
import { ResetsView, shareRows } from '../../src/ui/ResetsView.js';
import { Box } from 'ink';
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
    fresh: new FreshIds(),
    closed: [],
    changes: null,
    refresh: { intervalMs: 2000, lastCostMs: 40, count: 1, error: null },
  };
}

class Source implements StateFeed {
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
  const r = render(<App feed={source} version="0.1.0" host={host} {...props} />);
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
  it('header shows host, capabilities, sysctl defaults, totals and findings; compact on 24 rows', async () => {
    const { frame, unmount } = await mount();
    const f = frame();
    expect(f).toContain('ka-top 0.1.0 · testhost · Linux 6.18.44');
    expect(f).toMatch(/sees: root, bpftrace, tracefs/);
    // kprobes are optional (tracepoints cover everything): the compact header does not list them as missing
    expect(f).not.toMatch(/cannot: kprobes/);
    expect(f).toContain('sysctl: keepalive time 7200s intvl 75s probes 9');
    expect(f).toContain(`${doc.connections.length} connections`);
    expect(f).toContain('tracer off: not started');
    expect(f).toContain('findings: none');
    // the header is 6 lines on 24 rows
    expect(f.split('\n').findIndex((l) => l.startsWith('STATE '))).toBe(6);
    unmount();
  });

  it('before the first inventory the header says what is being read, not that sysctls are unreadable or nothing was found', async () => {
    const source = new Source({ ...stateFrom(), inventory: null, capabilities: null });
    const r = render(<App feed={source} version="0.1.0" host={host} tracer={() => ({ on: false, starting: true, reason: 'attaching the tracepoints…' })} />);
    await tick();
    const f = r.lastFrame() ?? '';
    for (const line of ['checking what this host lets ka-top see…', 'sysctl: reading…', 'collecting connections…', 'tracer starting: attaching the tracepoints…', 'findings: once the connections are read…']) expect(f).toContain(line);
    expect(f).not.toMatch(/sysctl: unreadable|findings: none/);
    source.push(stateFrom());
    await tick();
    expect(r.lastFrame()).toContain('sysctl: keepalive time 7200s');
    expect(r.lastFrame()).toContain('findings: none');
    r.unmount();
  });

  it('TIME-WAIT counts as keepalive n/a, not unknown', async () => {
    const tw = { ...client, id: 'tw', state: 'TIME-WAIT' as const, keepalive: { ...client.keepalive, enabled: null } };
    const source = new Source(stateFrom([...doc.connections, tw]));
    const r = render(<App feed={source} version="0.1.0" host={host} />);
    await tick();
    const tws = doc.connections.filter((c) => c.state === 'TIME-WAIT' && c.keepalive.enabled === null).length;
    const unknown = doc.connections.filter((c) => c.keepalive.enabled === null).length - tws;
    expect(tws).toBeGreaterThan(0);
    expect(r.lastFrame()).toMatch(new RegExp(`unknown ${unknown} n/a ${tws + 1} `));
    r.unmount();
  });

  it('rows show the keepalive marks, timer and probes; frame fits the terminal', async () => {
    const { frame, unmount } = await mount();
    const line = frame().split('\n').find((l) => new RegExp(`^ESTAB +127\\.0\\.0\\.1:${client.local.port} `).test(l))!;
    expect(line).toMatch(/ESTAB +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+ +\d+\/ka-peer +37s\*\/7s\*\/4\* +36s +0\/4/);
    // the status line says columns are hidden for lack of width
    expect(frame()).toMatch(/\d+ cols hidden/);
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
    expect(f).toMatch(/state +ESTAB/);
    // the timeline comes right after the connection: its end shows without scrolling
    expect(f).toContain('none: the tracer is off');
    expect(f).toContain(`${client.process!.pid}/ka-peer`);
    await type('jjjjj'); // one chunk: five lines down
    expect(frame()).toMatch(/idle \(TCP_KEEPIDLE\) +37s {2}set on the socket/);
    expect(frame()).toMatch(/probes \(TCP_KEEPCNT\) +4 {2}set on the socket/);
    await type('G');
    expect(frame()).toMatch(/dead in \(peer silent\) +1m04s {2}by probe count/);
    await type('\x1b');
    expect(frame()).toContain('KEEPALIVE');
    unmount();
  });

  it('names the namespace of the connection open in the detail (inventoried at every refresh), null once closed or left', async () => {
    const inView: (number | null)[] = [];
    const { type, source, unmount } = await mount({ onNetnsInView: (inode) => inView.push(inode) });
    // Effects run after the frame: waits for the one wanted (a busy machine runs them late), then checks it.
    const told = async (want: number | null) => {
      for (let i = 0; i < 100 && inView.at(-1) !== want; i++) await tick();
      expect(inView.at(-1)).toBe(want);
    };
    await type(`/:${client.local.port} 127`);
    await type('\r');
    await type('\r');
    await told(client.netns.inode);
    await type('\x1b');
    await told(null);
    await type('\r');
    await told(client.netns.inode);
    source.push({ ...stateFrom(doc.connections.filter((c) => c.id !== client.id)), closed: [{ connection: client, closedAt: Date.now() }] });
    await told(null); // a closed connection's namespace has nothing more of it to read
    unmount();
  });

  it('sorts by attention first, then > picks columns, I inverts; the footer names the column as its header', async () => {
    const { frame, type, unmount } = await mount();
    expect(frame()).toContain('sort ATTENTION first');
    // listeners last
    const states = frame().split('\n').filter((l) => /^(ESTAB|LISTEN) /.test(l)).map((l) => l.split(' ')[0]);
    expect(states.indexOf('LISTEN')).toBeGreaterThan(states.lastIndexOf('ESTAB'));
    await type('>');
    expect(frame()).toContain('STATE▲');
    await type('>');
    expect(frame()).toContain('LOCAL▲');
    expect(frame()).toContain('sort LOCAL▲');
    await type('I');
    expect(frame()).toContain('LOCAL▼');
    unmount();
  });

  it('a burst of keys in one chunk: every key counts, in order', async () => {
    const { frame, type, unmount } = await mount();
    await type('jjj');
    expect(frame()).toContain(`4/${doc.connections.length} ·`);
    await type(`/:${client.local.port} \r`);
    expect(frame()).toMatch(new RegExp(`[12]/2 · filter ":${client.local.port} "`));
    await type('kk');
    expect(frame()).toContain(`1/2 · filter ":${client.local.port} "`);
    unmount();
  });

  it('findings: a headline in the header, f lists them with fixes, Enter filters the table to the connections', async () => {
    const finding = {
      rule: 'keepalive-timeouts', severity: 'critical' as const, summary: '1 connection(s) were declared dead by keepalive', connections: [client.id],
      processes: [], fix: 'check the peers', evidence: { connectionCount: 1 },
    };
    const info = { ...finding, rule: 'zero-linger-resets', severity: 'info' as const, summary: 'lingering', connections: [], evidence: {} };
    const { frame, type, unmount } = await mount({ findings: () => [finding, info] });
    expect(frame()).toContain('findings: 1 critical, 1 info — keepalive-timeouts: 1 connection(s) were declared dead');
    await type('f');
    expect(frame()).toContain('CRITICAL keepalive-timeouts · 1 connection(s)');
    expect(frame()).toContain('fix: check the peers');
    // Found from events of connections already gone: no count, and Enter says so instead of an empty table.
    expect(frame()).toMatch(/INFO zero-linger-resets *\n/);
    await type('j');
    await type('\r');
    expect(frame()).toContain('zero-linger-resets names no connection to show');
    expect(frame()).toContain('CRITICAL keepalive-timeouts');
    await type('k');
    await type('\r');
    expect(frame()).toContain('1/1 · finding keepalive-timeouts');
    expect(frame()).toMatch(new RegExp(`ESTAB +127\\.0\\.0\\.1:${client.local.port} `));
    await type('\x1b');
    expect(frame()).toContain(`1/${doc.connections.length} ·`);
    unmount();
  });

  it('a finding over more connections than its list names: all of them when evaluated live, else the listed ones of how many', async () => {
    // Recorded (as read from a file): its list and its count.
    const recorded = {
      rule: 'idle-without-keepalive', severity: 'warning' as const, summary: 'idle', connections: [client.id],
      processes: [], fix: 'keepalive on', evidence: { connectionCount: 150_000 },
    };
    const rec = await mount({ findings: () => [recorded] });
    await rec.type('f');
    expect(rec.frame()).toContain('WARNING idle-without-keepalive · 150000 connection(s)');
    await rec.type('\r');
    expect(rec.frame()).toContain('1/1 · finding idle-without-keepalive: the 1 it lists of 150000 (Esc all)');
    rec.unmount();
    // Evaluated here over 60 connections (more than the 50 a finding lists): the table has all 60.
    const many = Array.from({ length: 60 }, (_, i) => ({ ...client, id: `${client.id}-${i}` }));
    const live = finding({ rule: 'idle-without-keepalive', severity: 'warning', summary: 'idle', fix: 'keepalive on', evidence: {} }, many);
    expect(live.connections).toHaveLength(50);
    const source = new Source(stateFrom([...doc.connections, ...many]));
    const r = render(<App feed={source} version="0.1.0" host={host} findings={() => [live]} />);
    await tick();
    r.stdin.write('f');
    await tick();
    r.stdin.write('\r');
    for (let i = 0; i < 100 && !r.lastFrame()?.includes('· finding'); i++) await tick();
    expect(r.lastFrame()).toContain('1/60 · finding idle-without-keepalive (Esc all)');
    r.unmount();
  });

  it('the detail stays on its connection through death: CLOSED, how long ago, the death events', async () => {
    const now = Date.now();
    const ev = (type: string, ago: number, extra: object): KaEvent => ({
      type, ts: new Date(now - ago).toISOString(), local: client.local, peer: client.peer, netns: client.netns.inode,
      pid: client.process!.pid, comm: 'ka-peer', process: null, connection: client.id, sk: 'ffff1', ...extra,
    } as KaEvent);
    const timeline: KaEvent[] = [
      ev('keepalive_probe', 6000, { probesSent: 3, probesOutstanding: 3, maxProbes: 4, intervalMs: 7000, userTimeoutMs: 0, giveUpInMs: 7000 }),
    ];
    const activity = { probesSent: 3, resets: 0, timeline };
    const tracer = (): TracerStatus => ({
      on: true,
      view: { activity: (id) => (id === client.id ? activity : undefined), timeline: () => timeline, resets: summarizeResets([], now), lostEvents: 0, heldBackEvents: 0, countedResets: null, eventsSeen: 0 },
    });
    const { frame, type, source, unmount } = await mount({ tracer });
    await type(`/:${client.local.port} 127`);
    await type('\r');
    await type('\r');
    expect(frame()).toMatch(/probe 3\/4/);
    // the kernel gives up, resets and closes; the next inventory no longer has the connection
    timeline.push(
      ev('keepalive_timeout', 3000, { probesSent: 4, maxProbes: 4 }),
      ev('rst_sent', 3000, { reason: 'TCP_KEEPALIVE_TIMEOUT', cause: 'keepalive_timeout', causeInferred: false, state: 'TCP_ESTABLISHED' }),
      ev('close', 3000, { how: 'timeout', lifetimeMs: 60_000, probesSent: 4 }),
    );
    const gone = doc.connections.filter((c) => c.id !== client.id);
    source.push({ ...stateFrom(gone), closed: [{ connection: client, closedAt: now - 2000 }] });
    await tick();
    let f = frame();
    expect(f).toMatch(/CLOSED [\d.]+s ago \(keepalive timeout\)/);
    // newest first: the close, the reset, the timeout, then the probes
    const types = f.split('\n').map((l) => /^ +\d\d:\d\d:\d\d\.\d{3} +(\w+)/.exec(l)?.[1]).filter(Boolean);
    expect(types).toEqual(['close', 'rst_sent', 'keepalive_timeout', 'keepalive_probe']);
    expect(f).toMatch(/keepalive_timeout +peer declared dead/);
    expect(f).toMatch(/rst_sent +cause=keepalive_timeout/);
    expect(f).toMatch(/close +how=timeout/);
    // long after, when the monitor no longer lists it, the detail still shows it
    source.push(stateFrom(gone));
    await tick();
    f = frame();
    expect(f).toMatch(/CLOSED [\d.]+s ago/);
    expect(f).toMatch(new RegExp(`peer +${client.peer.address.replace(/\./g, '\\.')}:${client.peer.port}`));
    expect(f).toMatch(/close +how=timeout/);
    await type('\x1b');
    unmount();
  });

  it('help lists every key', async () => {
    const { frame, type, unmount } = await mount();
    await type('?');
    const f = frame();
    for (const s of ['PgUp/PgDn', 'filter by text', 'invert the sort', 'resets view', 'pause', 'write a snapshot', 'quit']) expect(f).toContain(s);
    // scrollable: the notation further down
    await type('G');
    const end = frame();
    expect(end).toContain('What ka-top can see here');
    await type('g');
    await type('\x1b[6~');
    expect(frame()).toMatch(/TIMER rto: retransmit|-      does not apply|DEAD-IN/);
    unmount();
  });

  it('the table redraws between refreshes only when the tracer has news: events, a reset rate that moved', async () => {
    let eventsSeen = 0;
    let heldBack = 0;
    let countedResets: CountedResets | null = null;
    const records: ResetRecord[] = [];
    const resets = () => summarizeResets(records, Date.now(), 1500);
    const tracer = (): TracerStatus => ({ on: true, view: { activity: () => undefined, timeline: () => [], resets: resets(), lostEvents: 0, heldBackEvents: heldBack, countedResets, eventsSeen } });
    let renders = 0;
    const findings = () => {
      renders++; // called once per render
      return [];
    };
    const { frame, unmount } = await mount({ tracer, findings });
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const quiet = renders;
    await wait(2200); // two ticks of the 1 s clock, nothing new
    expect(renders).toBe(quiet);
    eventsSeen++;
    await wait(1100);
    expect(renders).toBe(quiet + 1);
    // A reset: an event, then its rate, which falls back to 0 when it leaves the window with no event at all.
    records.push({ at: Date.now(), direction: 'sent', cause: 'linger-zero', pid: null, comm: null, peer: null });
    eventsSeen++;
    await wait(1100);
    expect(renders).toBe(quiet + 2);
    expect(frame()).toMatch(/resets\/s 0\.7/);
    await wait(2000);
    expect(renders).toBe(quiet + 3);
    expect(frame()).toMatch(/resets\/s 0\.0/);
    expect(frame()).not.toMatch(/held back/);
    // Records held back in a flood: the header says so (its rates are of the events delivered), and redraws for it.
    heldBack = 345_000;
    await wait(1100);
    expect(renders).toBe(quiet + 4);
    expect(frame()).toMatch(/lost events 0 · held back 345000 \(flood\)/);
    // The kernel's count of the interval, while it held reset records back: the real rate comes first.
    countedResets = { perSecond: 69_812.4, heldBack: true, scope: 'host', sentByCause: [{ cause: 'no_socket', perSecond: 34_906.2 }], receivedPerSecond: 34_906.2 };
    await wait(1100);
    expect(renders).toBe(quiet + 5);
    expect(frame()).toMatch(/resets 69812\/s in the kernel \(whole host\) · recorded\/s 0\.0 · lost events 0 · held back 345000/);
    // Once nothing is held back, the recorded rate is the rate: no kernel count shown.
    countedResets = { perSecond: 3, heldBack: false, scope: 'host', sentByCause: [{ cause: 'linger', perSecond: 3 }], receivedPerSecond: 0 };
    await wait(1100);
    expect(frame()).toMatch(/resets\/s 0\.0 · lost/);
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
    const unexplained: KaEvent = {
      type: 'rst_received', ts: new Date(now).toISOString(), local: client.local, peer: { address: '198.18.0.9', port: 39999 },
      netns: client.netns.inode, pid: null, comm: null, process: null, connection: null, sk: null, inferredCause: 'peer_reset (sender not observed)',
    };
    const events = [...Array.from({ length: 30 }, (_, i) => rst(29 - i)), unexplained];
    const resets = summarizeResets(events.map((e) => resetRecordOf(e)!), now);
    const tracer = (): TracerStatus => ({
      on: true,
      view: { activity: (id) => (id === client.id ? { probesSent: 0, resets: 30 } : undefined), timeline: () => events.slice(0, 2), resets, lostEvents: 0, heldBackEvents: 0, countedResets: null, eventsSeen: 2 },
    });
    const on = await mount({ tracer });
    expect(on.frame()).toMatch(/resets\/s 3\.1 \(sent linger 3\.0 · received peer_reset \(sender not observed\) 0\.1\)/);
    await on.type('r');
    const f = on.frame();
    expect(f).toMatch(/Sent, by cause \(ka-top\) +total +per sec/);
    expect(f).toMatch(/ {2}linger +30 +3\.0/);
    // The longest label is shown whole where the terminal has room for it.
    expect(f).toMatch(/ {2}peer_reset \(sender not observed\) +1 +0\.1/);
    expect(f).toMatch(/4242\/checker +30 +3\.0/);
    expect(f).toMatch(/198\.18\.0\.9 +31 +3\.1/);
    on.unmount();

    // A flood beyond the records a second: the title leads with the kernel's rate, then what was recorded.
    const flood = await mount({ tracer: () => {
      const t = tracer();
      const countedResets = { perSecond: 70_000, heldBack: true, scope: 'netns' as const, sentByCause: [{ cause: 'linger' as const, perSecond: 69_000 }, { cause: 'no_socket' as const, perSecond: 1000 }], receivedPerSecond: 0 };
      return t.on ? { on: true, view: { ...t.view, heldBackEvents: 5000, countedResets } } : t;
    } });
    await flood.type('r');
    expect(flood.frame()).toMatch(/Resets · 70000\/s in the kernel \(--netns\) · recorded 31 seen \(sent 30, received 1\) · 3\.1\/s/);
    // …and what it was, as the kernel counted it.
    expect(flood.frame()).toMatch(/\nIn the kernel, a second: sent linger 69000, no_socket 1000 · received 0 *\n/);
    flood.unmount();
  });

  it('resets view: ka-top causes apart from kernel reasons; rows shared so the first lists are complete', () => {
    const b = (key: string) => ({ key, count: 1, rate: 0 });
    expect(groupCauses([b('linger'), b('TCP_FLAGS'), b('received: linger'), b('reason 42'), b('keepalive_timeout')])).toEqual({
      causes: [b('linger'), b('keepalive_timeout')], reasons: [b('TCP_FLAGS'), b('reason 42')], received: [b('linger')],
    });
    // title + rows (+ "… more" when cut) per section, within the lines available
    expect(shareRows([3, 1, 1, 7, 6], 16)).toEqual([3, 1, 1, 3, 1]);
    expect(shareRows([30, 0], 20)).toEqual([16, 0]);
  });

  it('resets view on a short terminal: titles are never squeezed away, the last sections are cut at the bottom', () => {
    const now = Date.now();
    const recs: ResetRecord[] = [];
    for (let i = 0; i < 8; i++) for (const cause of ['linger', 'unread_data', 'keepalive_timeout', 'no_socket']) {
      recs.push({ at: now, direction: 'sent', cause, pid: i, comm: 'a', peer: `198.18.1.${i}` });
      recs.push({ at: now, direction: 'received', cause, pid: 10 + i, comm: 'b', peer: `198.18.2.${i}` });
    }
    const tracer: TracerStatus = { on: true, view: { activity: () => undefined, timeline: () => [], resets: summarizeResets(recs, now), lostEvents: 0, heldBackEvents: 0, countedResets: null, eventsSeen: recs.length } };
    // As App lays it out: a body box of the height left, clipped.
    const r = render(<Box width={60} height={8} flexDirection="column" overflowY="hidden"><ResetsView tracer={tracer} height={8} width={60} /></Box>);
    const lines = r.lastFrame()!.split('\n');
    expect(lines[0]).toMatch(/^Resets · 64 seen/);
    expect(lines[1]).toMatch(/^Sent, by cause \(ka-top\) +total +per sec$/);
    expect(lines[4]).toMatch(/^Received, cause inferred +total +per sec$/);
    expect(lines[7]).toMatch(/^By process +total +per sec$/);
    r.unmount();
  });

  it('e writes the rows on screen through onSnapshot, the view live meanwhile, and prints the path', async () => {
    let got: number | null = null;
    let calls = 0;
    let done!: (path: string) => void;
    const { frame, type, unmount } = await mount({
      onSnapshot: (rows) => {
        got = rows.length;
        calls++;
        return new Promise<string>((r) => (done = r));
      },
    });
    await type('/');
    await type('ka-peer');
    await type('\r');
    await type('e');
    expect(got).toBe(doc.connections.filter((c) => c.processes.some((p) => p.comm === 'ka-peer')).length);
    expect(frame()).toContain(`writing ${got} connections…`);
    // Keys work while it writes; a second e does not start another write.
    await type('e');
    expect(frame()).toContain('still writing the last snapshot…');
    expect(calls).toBe(1);
    done('/tmp/ka-top-snapshot-x.json');
    await new Promise((r) => setTimeout(r, 50));
    expect(frame()).toContain(`wrote ${got} connections to /tmp/ka-top-snapshot-x.json`);
    await type('e');
    expect(calls).toBe(2); // once written, e writes again
    unmount();
  });
});
