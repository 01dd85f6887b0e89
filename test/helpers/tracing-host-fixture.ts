// A TracingHost built from captured tracefs/pahole/kallsyms files, for generator and event tests.
import { readFileSync } from 'node:fs';
import { kallsymsAddress } from '../../src/parse/kernel-text.js';
import { kernelOffsets, parsePahole } from '../../src/parse/pahole.js';
import { parseTraceFormat } from '../../src/parse/tracefs-format.js';
import { TRACEPOINTS, describeSendReset, type TracingHost } from '../../src/sources/tracing-host.js';

export const fixture = (name: string) => readFileSync(new URL(`../fixtures/tracing/${name}`, import.meta.url), 'utf8');

export function fixtureHost(o: { version?: [number, number]; kprobes?: boolean; fentry?: boolean; rawTracepoint?: boolean; oldReset?: boolean } = {}): TracingHost {
  const yes = { ok: true, reason: null };
  const tracepoints = {} as TracingHost['tracepoints'];
  for (const tp of TRACEPOINTS) {
    const name = tp.split(':')[1]!;
    const file = name === 'tcp_send_reset' && o.oldReset ? 'format-6.1-tcp_send_reset.txt' : `format-6.18-${name}.txt`;
    tracepoints[tp] = { ...yes, format: parseTraceFormat(fixture(file)) };
  }
  const [major, minor] = o.version ?? [0, 17];
  return {
    root: true,
    bpftrace: { ...yes, path: '/usr/bin/bpftrace', version: { major: major!, minor: minor!, patch: 0 } },
    tracefs: { ...yes, path: '/sys/kernel/tracing' },
    kprobes: o.kprobes ? yes : { ok: false, reason: 'the kernel is built without CONFIG_KPROBES' },
    fentry: o.fentry ? yes : { ok: false, reason: 'not probed' },
    rawTracepoint: o.rawTracepoint ? yes : { ok: false, reason: 'bpftrace 0.17 does not list rawtracepoint:inet_sock_set_state' },
    btf: yes,
    tracepoints,
    sendReset: describeSendReset(tracepoints['tcp:tcp_send_reset'].format),
    keepaliveTimer: { ...yes, address: kallsymsAddress(fixture('kallsyms-excerpt.txt'), 'tcp_keepalive_timer') },
    offsets: { ...yes, value: kernelOffsets(parsePahole(fixture('pahole-6.18.txt'))) },
    hz: 250,
    usable: yes,
  };
}
