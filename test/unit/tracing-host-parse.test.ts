import { describe, expect, it } from 'vitest';
import { kallsymsAddress, kernelConfig, parseBpftraceVersion } from '../../src/parse/kernel-text.js';
import { versionAtLeast } from '../../src/domain/version.js';
import { parseTraceFormat, printSymbolic } from '../../src/parse/tracefs-format.js';
import { describeSendReset } from '../../src/sources/tracing-host.js';
import { fixture } from '../helpers/tracing-host-fixture.js';

describe('tracefs format files', () => {
  it('reads the 6.18 tcp_send_reset layout and its reason table', () => {
    const f = parseTraceFormat(fixture('format-6.18-tcp_send_reset.txt'));
    expect(f.fields.map((x) => x.name)).toEqual(['skbaddr', 'skaddr', 'state', 'reason', 'saddr', 'daddr']);
    expect(f.fields.find((x) => x.name === 'saddr')).toMatchObject({ arrayLen: 28, offset: 32, size: 28 });
    const sr = describeSendReset(f);
    expect(sr.layout).toBe('sockaddr');
    expect(sr.hasReason).toBe(true);
    expect(sr.reasons[14]).toBe('TCP_STATE');
    expect(sr.reasons[15]).toBe('TCP_KEEPALIVE_TIMEOUT');
    expect(sr.reasons[1]).toBe('NO_SOCKET');
    // the state table uses symbols, not numbers: nothing to resolve there
    expect(printSymbolic(f.printFmt, 'state').size).toBe(0);
  });
  it('reads the pre-6.10 layout without reason', () => {
    const sr = describeSendReset(parseTraceFormat(fixture('format-6.1-tcp_send_reset.txt')));
    expect(sr).toEqual({ layout: 'legacy', hasReason: false, reasons: {} });
  });
  it('resolves state numbers from inet_sock_set_state', () => {
    const f = parseTraceFormat(fixture('format-6.18-inet_sock_set_state.txt'));
    const states = printSymbolic(f.printFmt, 'newstate');
    expect(states.get(7)).toBe('TCP_CLOSE');
    expect(states.get(10)).toBe('TCP_LISTEN');
  });
  it('rejects a file that is not a format file', () => {
    expect(() => parseTraceFormat('hello')).toThrow();
  });
});

describe('kallsyms, config, version', () => {
  it('finds the exact symbol, not .cold or __pfx_', () => {
    expect(kallsymsAddress(fixture('kallsyms-excerpt.txt'), 'tcp_keepalive_timer')).toBe('ffffffff8208b530');
    expect(kallsymsAddress('0000000000000000 t tcp_keepalive_timer\n', 'tcp_keepalive_timer')).toBeNull();
  });
  it('reads kernel config values', () => {
    const cfg = '# CONFIG_KPROBES is not set\nCONFIG_HZ=250\nCONFIG_HAVE_KPROBES=y\n';
    expect(kernelConfig(cfg, 'CONFIG_KPROBES')).toBe('n');
    expect(kernelConfig(cfg, 'CONFIG_HZ')).toBe('250');
    expect(kernelConfig(cfg, 'CONFIG_NOPE')).toBeNull();
  });
  it('parses bpftrace versions', () => {
    expect(parseBpftraceVersion(fixture('bpftrace-version-0.17.txt'))).toEqual({ major: 0, minor: 17, patch: 0 });
    const v = parseBpftraceVersion('bpftrace v0.21.2-1ubuntu1\n')!;
    expect(versionAtLeast(v, 0, 20)).toBe(true);
    expect(versionAtLeast(v, 0, 22)).toBe(false);
    expect(parseBpftraceVersion('nope')).toBeNull();
  });
});
