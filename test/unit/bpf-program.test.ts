import { describe, expect, it } from 'vitest';
import { generateBpfProgram } from '../../src/model/bpf-program.js';
import { fixtureHost } from '../helpers/tracing-host-fixture.js';

describe('generateBpfProgram', () => {
  it('bpftrace 0.17, no kprobes, 6.10+ reset layout (this host)', () => {
    const p = generateBpfProgram(fixtureHost());
    expect(p.keepalive).toBe('tracepoint');
    expect(p.missing).toEqual([]);
    expect(p.text).toContain('tracepoint:timer:timer_expire_entry /(uint64)args->function == 0xffffffff8202b5f0/');
    expect(p.text).toContain('$sk = (uint64)args->timer - 448;');
    expect(p.text).toContain('*(uint8*)($sk + 1253)'); // icsk_probes_out
    expect(p.text).toContain('buf(args->saddr, 28)');
    expect(p.text).toContain('@rst_sent[args->reason, $ka, $l0] = count();');
    expect(p.text).toContain('args->newstate == 7 && args->oldstate != 10');
    expect(p.text).not.toMatch(/args\.|kprobe:|offsetof/);
    expect(p.text).toMatch(/^BEGIN \{ printf\("KA ready\\n"\); \}/);
    expect(p.text).toContain('interval:s:5 { print(@ka_probes); print(@rst_sent); print(@ka_timeouts); print(@rst_received); }');
  });
  it('bpftrace 0.21 with kprobes uses args. and kprobe:tcp_keepalive_timer', () => {
    const p = generateBpfProgram(fixtureHost({ version: [0, 21], kprobes: true }));
    expect(p.keepalive).toBe('kprobe');
    expect(p.text).toContain('kprobe:tcp_keepalive_timer {');
    expect(p.text).toContain('kretprobe:tcp_keepalive_timer /@ka_sk[cpu] != 0/');
    expect(p.text).not.toContain('timer_expire_entry');
    expect(p.text).toContain('args.skaddr');
    expect(p.text).not.toContain('args->');
  });
  it('fentry naming follows the version', () => {
    expect(generateBpfProgram(fixtureHost({ version: [0, 21], fentry: true })).text).toContain('fentry:tcp_keepalive_timer');
    expect(generateBpfProgram(fixtureHost({ version: [0, 18], fentry: true })).text).toContain('kfunc:tcp_keepalive_timer');
  });
  it('old reset layout: tuple fields, no reason, says so', () => {
    const p = generateBpfProgram(fixtureHost({ oldReset: true }));
    expect(p.text).toContain('@rst_sent[-1, $ka, $l0]');
    expect(p.text).toMatch(/KA rst .* f=%d sp=%d dp=%d/);
    expect(p.text).not.toContain('args->reason');
    expect(p.missing.join('\n')).toMatch(/no reason field/);
  });
  it('without offsets: no keepalive probe, reason given, maps still consistent', () => {
    const h = fixtureHost();
    h.offsets = { ok: false, reason: 'pahole is not installed', value: null };
    const p = generateBpfProgram(h);
    expect(p.keepalive).toBeNull();
    expect(p.missing[0]).toMatch(/pahole is not installed/);
    expect(p.text).not.toContain('print(@ka_timeouts)');
  });
});
