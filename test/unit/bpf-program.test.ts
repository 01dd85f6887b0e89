import { describe, expect, it } from 'vitest';
import { CAPPED_EVENT_TYPES, DEFAULT_RECORDS_PER_SECOND, cappedEventType, gateWindow, generateBpfProgram } from '../../src/model/bpf-program.js';
import { KA_RECORDS, decodeKaRecord } from '../../src/parse/ka-records.js';
import { loadBpfFragments } from '../../src/sources/bpf-fragments.js';
import { fixtureHost } from '../helpers/tracing-host-fixture.js';

const fragments = loadBpfFragments();
const gen = (...a: Parameters<typeof fixtureHost>) => generateBpfProgram(fixtureHost(...a), fragments);
const defines = (text: string) => new Map([...text.matchAll(/^#define (\w+) (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
/** Arguments of a printf argument list (commas inside parentheses do not split). */
const topLevelArgs = (list: string) => {
  let depth = 0;
  let n = 1;
  for (const c of list) {
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) n++;
  }
  return n;
};

describe('bpf/ fragments', () => {
  it('use named constants only: no raw offsets in a probe, every constant defined by the preamble', () => {
    // Every variant's preamble together: each fragment is used by one of them.
    const defs = new Map([gen(), gen({ oldReset: true }), gen({ version: [0, 21], fentry: true, rawTracepoint: true }), gen({ kprobes: true })].flatMap((p) => [...defines(p.text)]));
    for (const [name, body] of Object.entries(fragments)) {
      if (name.endsWith('.bt')) expect(body, name).not.toMatch(/\$sk \+ \d/);
      for (const [, c] of body.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g)) {
        if (!/^KEEPALIVE_TIMER_(ENTRY|EXIT)$/.test(c!) && c !== 'STATE_CHANGE' && c !== 'RECORD_GATE' && !/^(SO|TCP)_(KEEPALIVE|LINGER|KEEPIDLE|USER_TIMEOUT|STATE)$/.test(c!) && c !== 'SYN_RECV' && c !== 'SYN_SENT')
          expect(defs.has(c!), `${name}: ${c}`).toBe(true);
      }
    }
  });
  it('every probe fragment starts with a header comment saying what it watches', () => {
    for (const [name, body] of Object.entries(fragments)) expect(body.split('\n')[0], name).toMatch(/^\/\/ \S/);
  });
  it('prints records only through the field table: format and arguments of each kind agree', () => {
    const defs = defines(gen().text);
    for (const [kind, fields] of Object.entries(KA_RECORDS)) {
      const key = kind.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
      if (kind === 'rstLegacy') continue; // the other layout's twin
      const fmt = defs.get(`KA_REC_${key}`)!;
      expect(fmt, kind).toBe(`"${['KA', kind, ...fields.map((f) => f.conv)].join(' ')}\\n"`);
      if (fields.length) expect(topLevelArgs(defs.get(`KA_ARGS_${key}`)!), kind).toBe(fields.length);
    }
    expect(Object.values(fragments).join('\n')).not.toMatch(/printf\("KA /);
  });
});

describe('generateBpfProgram', () => {
  it('bpftrace 0.17, no kprobes, 6.10+ reset layout (this kind of host)', () => {
    const p = gen();
    expect(p.keepalive).toBe('tracepoint');
    expect(p.missing).toEqual([]);
    const d = defines(p.text);
    expect(d.get('KEEPALIVE_TIMER_FN')).toMatch(/^0xffffffff[0-9a-f]{8}$/); // from the kallsyms fixture
    expect(d.get('SOCK_SK_TIMER')).toBe('448');
    expect(d.get('ICSK_PROBES_OUT')).toBe('1253');
    expect(d.get('TCP_CLOSE')).toBe('7'); // from the tracefs print fmt
    expect(p.tcpStates[10]).toBe('TCP_LISTEN');
    expect(d.get('SEND_RESET_REC')).toBe('KA_REC_RST');
    expect(p.text).toContain('tracepoint:timer:timer_expire_entry /(uint64)args->function == KEEPALIVE_TIMER_FN/ {');
    expect(p.text).toContain('@rst_sent[$ns, $reason, $ka, $l0, $has_sk, $st] = count();');
    expect(p.text).not.toMatch(/args\.|kprobe:|fentry:|offsetof|^KEEPALIVE_TIMER_ENTRY/m);
    expect(p.text).toContain('interval:s:5 { print(@rst_sent); print(@rst_received); print(@ka_timeouts); print(@closes); print(@map_full); print(@records); print(@capped); printf(KA_REC_COUNTS_END); }');
    expect(p.env.BPFTRACE_MAP_KEYS_MAX).toMatch(/^\d+$/);
    expect(gen({ version: [0, 23] }).env).toEqual({ BPFTRACE_MAX_MAP_KEYS: p.env.BPFTRACE_MAP_KEYS_MAX }); // its new name
    expect(p.state).toBe('tracepoint');
    expect(p.text).toContain('tracepoint:sock:inet_sock_set_state /args->protocol == IPPROTO_TCP/ {');
    expect(p.text).not.toMatch(/rawtracepoint|^STATE_CHANGE/m);
  });
  it('a bpftrace with raw tracepoints watches state changes as one: the same program, its STATE_* from the socket', () => {
    const p = gen({ version: [0, 23], rawTracepoint: true });
    expect(p.state).toBe('rawtracepoint');
    expect(p.text).toContain('rawtracepoint:inet_sock_set_state /(*(uint16*)(arg0 + SOCK_SK_PROTOCOL)) == IPPROTO_TCP/ {');
    expect(p.text).not.toMatch(/tracepoint:sock:inet_sock_set_state|^STATE_CHANGE/m);
    const d = defines(p.text);
    expect(d.get('STATE_SK')).toBe('((uint64)arg0)');
    expect(d.get('SOCK_SK_PROTOCOL')).toBe('532'); // from the pahole fixture
    expect(d.get('STATE_SPORT')).toContain('INET_SOCK_INET_SPORT'); // skc_num is 0 at TCP_CLOSE
    // The close record's fields are the same whichever way: one decoder.
    const t = defines(gen().text);
    expect(d.get('KA_REC_CLOSE')).toBe(t.get('KA_REC_CLOSE'));
    expect(d.get('KA_ARGS_CLOSE')).toBe(t.get('KA_ARGS_CLOSE'));
    // Without the kernel's offsets the socket cannot be read: the tracepoint.
    const noOffsets = fixtureHost({ version: [0, 23], rawTracepoint: true });
    expect(generateBpfProgram({ ...noOffsets, offsets: { ok: false, reason: 'no BTF', value: null } }, fragments).state).toBe('tracepoint');
  });
  it('says where each probe attaches and why there: the attach points are the program\'s own', () => {
    const watched = (p: ReturnType<typeof gen>) => Object.fromEntries(p.attached.map((a) => [a.watches, a]));
    const tp = watched(gen());
    expect(Object.keys(tp)).toEqual(['keepalive timer', 'resets sent', 'resets received', 'state changes', 'setsockopt']);
    expect(tp['keepalive timer']!.attach).toBe('tracepoint:timer:timer_expire_entry, tracepoint:timer:timer_expire_exit');
    expect(tp['keepalive timer']!.why).toMatch(/every timer expiry on the host .*no kprobes/);
    expect(tp['state changes']!.attach).toBe('tracepoint:sock:inet_sock_set_state');
    expect(tp['state changes']!.why).toMatch(/copies the socket's ports and addresses.*not here: bpftrace 0\.17 does not list rawtracepoint/);
    const raw = watched(gen({ version: [0, 23], rawTracepoint: true, kprobes: true }));
    expect(raw['state changes']!.attach).toBe('rawtracepoint:inet_sock_set_state');
    expect(raw['keepalive timer']!.attach).toBe('kprobe:tcp_keepalive_timer, kretprobe:tcp_keepalive_timer');
    // Each attach point named is one the program attaches; setsockopt only when its records are asked for.
    for (const p of [gen(), gen({ version: [0, 23], rawTracepoint: true, kprobes: true }), gen({ version: [0, 21], fentry: true })]) {
      const points = new Set([...p.text.matchAll(/^([a-z]+:\S+) .*\{$/gm)].map((m) => m[1]));
      for (const a of p.attached) for (const point of a.attach.split(', ')) expect(points, point).toContain(point);
    }
    const noSockopt = generateBpfProgram(fixtureHost(), fragments, { records: new Set(['rst', 'close']) });
    expect(noSockopt.attached.map((a) => a.watches)).not.toContain('setsockopt');
  });
  it('by default closes are counted in the kernel and printed only for connections that had a probe or reset', () => {
    const d = defines(gen().text);
    expect(d.get('KA_PRINT_CLOSE')).toBe('1');
    expect(d.get('KA_PRINT_CLOSE_ALL')).toBe('0');
    expect(fragments['state.bt']).toContain('@closes[$ns, $how] = count();');
    expect(fragments['state.bt']).toMatch(/KA_PRINT_CLOSE && \(\$how != 0 \|\| \$probes != 0 \|\| KA_PRINT_CLOSE_ALL\)/);
  });
  it('every printed record passes its kind\'s rate gate; beyond it the record is counted in @capped, not printed', () => {
    const p = gen();
    expect(p.text).not.toMatch(/RECORD_GATE/);
    const d = defines(p.text);
    // Each kind its own budget, numbered as @capped's keys are read back.
    for (const [record, type] of Object.entries(CAPPED_EVENT_TYPES)) expect(cappedEventType(Number(d.get(`RECORD_${record.toUpperCase()}`))), record).toBe(type);
    // Every printf of a record sits behind a gate: as many `if ($room)` as printing sites, and the gates' budget is
    // the default's share of a 2^26 ns window (~67 ms: a flood's records leave in bursts of 68, not of 1,074).
    const printSites = Object.values(fragments).join('\n').match(/^\s*RECORD_GATE$/gm)!.length;
    expect(p.text.match(/\$room = 1; @rate\[\$gate\] = \$rate \+ 1; \} else \{ @capped\[\$gate\] = count\(\); \}/g)).toHaveLength(printSites);
    expect(gateWindow(DEFAULT_RECORDS_PER_SECOND)).toEqual({ shift: 26, perWindow: 68 });
    expect(p.text.match(/\$rate_w = \(nsecs >> 26\) & 0xffffffff;/g)).toHaveLength(printSites);
    expect(p.text).toContain('< 68) {');
    expect(p.text).toMatch(/clear\(@rate\);/); // per-window state: not printed at exit
    // A record printed is counted where it is printed: one count, one gate, per site.
    expect(Object.values(fragments).join('\n').match(/@records = count\(\);/g)).toHaveLength(printSites);
    // No limit: every gate passes, nothing is held back or printed as such.
    const open = generateBpfProgram(fixtureHost(), fragments, { recordsPerSecond: 0 });
    expect(open.text).not.toMatch(/@capped|@rate/);
    expect(open.text.match(/^\s*\$room = 1;$/gm)).toHaveLength(printSites);
    // A low rate keeps the longest window (~1.07 s): a short one's budget, rounded up, would let through more.
    expect(generateBpfProgram(fixtureHost(), fragments, { recordsPerSecond: 50 }).text).toContain('$rate_w = (nsecs >> 30) & 0xffffffff;');
    expect(generateBpfProgram(fixtureHost(), fragments, { recordsPerSecond: 50 }).text).toContain('< 54) {');
    // Shortest window, 2^24 ns, from ~3,815 a second; each window's budget within 2% of the rate asked above 3,000.
    expect(gateWindow(100_000)).toEqual({ shift: 24, perWindow: 1678 });
    for (const rate of [1, 5, 50, 500, 1000, 3000, 10_000, 1e6]) {
      const { shift, perWindow } = gateWindow(rate);
      expect(perWindow).toBeGreaterThanOrEqual(Math.min(64, Math.ceil(rate * 2 ** 30 / 1e9)));
      if (rate >= 3000) expect(perWindow / (2 ** shift / 1e9) / rate).toBeLessThan(1.02);
    }
  });
  it('filters go into the kernel; a comm it cannot quote safely leaves the task filter to Node', () => {
    const h = fixtureHost();
    const d = defines(generateBpfProgram(h, fragments, {
      allCloses: true, records: new Set(['rst', 'close']), filter: { netns: [4026531833], ports: [80, 443], pids: [7], comms: ['nginx'] },
    }).text);
    expect(d.get('KA_WANT_NETNS')).toBe('($ns == 4026531833)');
    expect(d.get('KA_WANT_PORT')).toBe('($lport == 80 || $rport == 80 || $lport == 443 || $rport == 443)');
    expect(d.get('KA_WANT_TASK')).toBe('(pid == 7 || comm == "nginx")');
    expect(d.get('KA_PRINT_CLOSE_ALL')).toBe('1');
    expect(d.get('KA_PRINT_PROBE')).toBe('0');
    const odd = defines(generateBpfProgram(h, fragments, { filter: { comms: ['a"b'] } }).text);
    expect(odd.get('KA_WANT_TASK')).toBe('(1)');
  });
  it('newer bpftrace with fentry: args. and fentry/fexit on tcp_keepalive_timer', () => {
    const p = gen({ version: [0, 21], fentry: true });
    expect(p.keepalive).toBe('fentry');
    expect(p.text).toContain('fentry:tcp_keepalive_timer {');
    expect(p.text).toContain('fexit:tcp_keepalive_timer /@ka_sk[cpu] != 0/ {');
    expect(p.text).toContain('#define KEEPALIVE_TIMER_SOCK ((uint64)args.t - SOCK_SK_TIMER)');
    expect(p.text).not.toContain('timer_expire_entry');
    expect(p.text).toContain('args.skaddr');
    expect(p.text).not.toContain('args->');
    expect(gen({ version: [0, 18], fentry: true }).text).toContain('kfunc:tcp_keepalive_timer');
    expect(gen({ version: [0, 21], kprobes: true }).text).toContain('kretprobe:tcp_keepalive_timer /@ka_sk[cpu] != 0/ {');
  });
  it('old reset layout: tuple fields, no reason, says so', () => {
    const p = gen({ oldReset: true });
    const d = defines(p.text);
    expect(d.get('SEND_RESET_REASON')).toBe('((int64)-1)');
    expect(d.get('SEND_RESET_REC')).toBe('KA_REC_RST_LEGACY');
    expect(d.get('KA_ARGS_RST_LEGACY')).toContain('args->sport');
    expect(d.has('KA_REC_RST')).toBe(false);
    expect(p.missing.join('\n')).toMatch(/no reason field/);
  });
  it('without offsets: no keepalive probe, reason given, reads compiled out', () => {
    const h = fixtureHost();
    h.offsets = { ok: false, reason: 'pahole is not installed', value: null };
    const p = generateBpfProgram(h, fragments);
    expect(p.keepalive).toBeNull();
    expect(p.missing[0]).toMatch(/pahole is not installed/);
    expect(defines(p.text).get('KA_HAVE_OFFSETS')).toBe('0');
    expect(defines(p.text).get('IN_KEEPALIVE_TIMER')).toBe('(0)');
    expect(p.text).not.toContain('print(@ka_timeouts)');
  });
});

describe('the record table', () => {
  it('decodes by position, comm (spaces allowed) last; rejects what it does not know', () => {
    expect(decodeKaRecord('KA sockopt 5 3 1 13 my worker 1\n')).toEqual({ kind: 'sockopt', pid: 5, fd: 3, level: 1, optname: 13, comm: 'my worker 1' });
    expect(decodeKaRecord('KA ready\n')).toEqual({ kind: 'ready' });
    expect(decodeKaRecord('KA sockopt 5 3 1\n')).toBeNull();
    expect(decodeKaRecord('KA nope 1\n')).toBeNull();
    expect(decodeKaRecord('KA ready 1\n')).toBeNull();
    expect(decodeKaRecord('something else')).toBeNull();
  });
});
