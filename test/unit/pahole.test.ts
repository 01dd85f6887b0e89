import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelOffsets, offsetOf, parsePahole } from '../../src/parse/pahole.js';

const text = readFileSync(new URL('../fixtures/tracing/pahole-6.18.txt', import.meta.url), 'utf8');

describe('parsePahole', () => {
  const l = parsePahole(text);
  it('reads every requested struct, including the typedef', () => {
    for (const s of ['sock', 'sock_common', 'inet_connection_sock', 'tcp_sock', 'net', 'ns_common', 'netns_ipv4',
      'possible_net_t', 'sk_buff', 'net_device']) expect(l[s], s).toBeDefined();
  });
  it('flattens anonymous unions and prefixes named inline structs', () => {
    expect(l.sock_common!.skc_daddr!.offset).toBe(0);
    expect(l.sock_common!.skc_dport!.offset).toBe(12);
    expect(l.sock!['sk_backlog.len']!.offset).toBe(196);
    expect(l.sk_buff!.dev!.offset).toBe(16);
  });
  it('resolves nested paths through embedded structs', () => {
    expect(offsetOf(l, 'sock', 'sk_timer')).toBe(448);
    expect(offsetOf(l, 'net', 'ns.inum')).toBe(152 + 24);
    expect(() => offsetOf(l, 'sock', 'no_such_field')).toThrow(/no member/);
    expect(() => offsetOf(l, 'sock', 'sk_socket.x')).toThrow(/not an embedded struct/);
  });
  it('gives the offsets the program reads (kernel 6.18 values)', () => {
    expect(kernelOffsets(l)).toMatchObject({
      sock_sk_timer: 448, sock_skc_flags: 96, sock_skc_net: 48, sock_skc_cookie: 88, sock_skc_state: 18,
      sock_sk_lingertime: 576, sock_sk_err: 284, icsk_probes_out: 1253, icsk_user_timeout: 1292, tp_keepalive_probes: 1917,
      tp_keepalive_intvl: 2224, net_ns_inum: 176, net_ka_probes: 768 + 572, netdev_nd_net: 264,
    });
  });
});
