// Parses `pahole -C a,b,c <btf>` output into member offsets, so the bpftrace program can reach kernel fields by
// offset on bpftrace versions without offsetof() and without relying on its own BTF struct support.
import { ParseError } from './parse-error.js';

export interface BtfMember {
  /** Byte offset from the start of the outermost struct (pahole prints absolute offsets for anonymous members). */
  offset: number;
  size: number;
  /** Declared type, e.g. `struct sock_common`, `u8`, `struct net *`. */
  type: string;
}

/** struct name -> member name -> member. Members of inline anonymous unions/structs are flattened; members of an
 *  inline named struct (`struct { … } sk_backlog;`) appear as `sk_backlog.len`. */
export type StructLayouts = Record<string, Record<string, BtfMember>>;

const MEMBER = /^(.+?)\s*\b([A-Za-z_][A-Za-z0-9_]*)(\[\d*\])*(?::\d+)?;\s*\/\*\s*(\d+)(?::\s*\d+)?\s+(\d+)\s*\*\//;
const CLOSE_NAMED = /^\}\s*([A-Za-z_][A-Za-z0-9_]*)?(\[\d*\])*;\s*\/\*\s*(\d+)\s+(\d+)\s*\*\//;

/** Null-prototype records: a C member may be named `__proto__` or `constructor`. */
const record = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

export function parsePahole(text: string): StructLayouts {
  const out: StructLayouts = record();
  let current: Record<string, BtfMember> | null = null;
  // Stack of inline nested aggregates; their member names are collected so a named one can prefix them at `}`.
  let nested: Array<Record<string, BtfMember>> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const top = /^(?:struct ([A-Za-z_][A-Za-z0-9_]*)|typedef struct) \{$/.exec(raw);
    if (top) {
      current = record();
      out[top[1] ?? ''] = current;
      nested = [];
      continue;
    }
    if (!current) continue;
    if (raw.startsWith('}')) {
      // `typedef struct { … } possible_net_t;` is named at its end.
      const td = /^\}\s*([A-Za-z_][A-Za-z0-9_]*);/.exec(raw);
      if (td && out['']) {
        out[td[1]!] = out['']!;
        delete out[''];
      }
      current = null;
      continue;
    }
    if (/^(struct|union)\s*\{$/.test(line)) {
      nested.push(record());
      continue;
    }
    const close = CLOSE_NAMED.exec(line);
    if (close && nested.length > 0) {
      const members = nested.pop()!;
      const prefix = close[1] ? `${close[1]}.` : '';
      const target = nested.length > 0 ? nested[nested.length - 1]! : current;
      for (const [name, m] of Object.entries(members)) target[prefix + name] = m;
      continue;
    }
    if (line.startsWith('/*') || line === '') continue;
    const m = MEMBER.exec(line);
    if (!m || m[1]!.includes('(')) continue; // function pointers are never read
    const member: BtfMember = { type: m[1]!.trim(), offset: Number(m[4]), size: Number(m[5]) };
    (nested.length > 0 ? nested[nested.length - 1]! : current)[m[2]!] = member;
  }
  return out;
}

/** Offset of a member path, following embedded (non-pointer) structs: `offsetOf(l, 'sock', '__sk_common.skc_net')`. */
export function offsetOf(layouts: StructLayouts, struct: string, path: string): number {
  let type = struct;
  let total = 0;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    const fields = Object.hasOwn(layouts, type) ? layouts[type] : undefined;
    if (!fields) throw new ParseError(`BTF: struct ${type} not in the pahole output`);
    // An inline named aggregate was flattened as `a.b`: try the longest dotted name first.
    let j = parts.length;
    let member: BtfMember | undefined;
    for (; j > i; j--) {
      const name = parts.slice(i, j).join('.');
      member = Object.hasOwn(fields, name) ? fields[name] : undefined;
      if (member) break;
    }
    if (!member) throw new ParseError(`BTF: struct ${type} has no member ${parts[i]}`);
    total += member.offset;
    i = j - 1;
    if (i < parts.length - 1) {
      const t = /^(?:struct|union)\s+([A-Za-z_][A-Za-z0-9_]*)$/.exec(member.type) ?? /^([A-Za-z_][A-Za-z0-9_]*_t)$/.exec(member.type);
      if (!t) throw new ParseError(`BTF: ${type}.${parts[i]} (${member.type}) is not an embedded struct`);
      type = t[1]!;
    }
  }
  return total;
}

/** Every kernel offset the generated bpftrace program reads. Names say struct and field. */
export interface KernelOffsets {
  sock_sk_timer: number;
  sock_skc_family: number;
  sock_skc_state: number;
  sock_skc_daddr: number;
  sock_skc_rcv_saddr: number;
  sock_skc_dport: number;
  sock_skc_num: number;
  sock_skc_v6_daddr: number;
  sock_skc_v6_rcv_saddr: number;
  sock_skc_cookie: number;
  sock_skc_flags: number;
  sock_skc_net: number;
  sock_sk_lingertime: number;
  /** sock -> sk_err: ETIMEDOUT at a close when a timer gave up on the peer (tcp_write_err). */
  sock_sk_err: number;
  /** sock -> sk_protocol (a u16 since Linux 5.6, a bitfield before), inet_sock -> inet_sport (the local port in
   *  network order, kept after the bound port is released at TCP_CLOSE). */
  sock_sk_protocol: number;
  inet_sock_inet_sport: number;
  icsk_probes_out: number;
  icsk_user_timeout: number;
  tp_keepalive_time: number;
  tp_keepalive_intvl: number;
  tp_keepalive_probes: number;
  /** net -> ns.inum (the netns inode), net -> ipv4.sysctl_tcp_keepalive_* (namespace defaults). */
  net_ns_inum: number;
  net_ka_time: number;
  net_ka_intvl: number;
  net_ka_probes: number;
  skb_dev: number;
  netdev_nd_net: number;
  /** sk_buff -> head, and the network and transport headers' offsets from it (a reset's segment: its 4-tuple). */
  skb_head: number;
  skb_network_header: number;
  skb_transport_header: number;
  iphdr_saddr: number;
  iphdr_daddr: number;
  ipv6hdr_saddr: number;
  ipv6hdr_daddr: number;
  tcphdr_source: number;
  tcphdr_dest: number;
}

export const PAHOLE_STRUCTS = [
  'sock', 'sock_common', 'inet_sock', 'inet_connection_sock', 'tcp_sock', 'net', 'ns_common', 'netns_ipv4', 'possible_net_t',
  'sk_buff', 'net_device', 'iphdr', 'ipv6hdr', 'tcphdr',
] as const;

export function kernelOffsets(l: StructLayouts): KernelOffsets {
  const sk = (p: string) => offsetOf(l, 'sock', p);
  return {
    sock_sk_timer: sk('sk_timer'),
    sock_skc_family: sk('__sk_common.skc_family'),
    sock_skc_state: sk('__sk_common.skc_state'),
    sock_skc_daddr: sk('__sk_common.skc_daddr'),
    sock_skc_rcv_saddr: sk('__sk_common.skc_rcv_saddr'),
    sock_skc_dport: sk('__sk_common.skc_dport'),
    sock_skc_num: sk('__sk_common.skc_num'),
    sock_skc_v6_daddr: sk('__sk_common.skc_v6_daddr'),
    sock_skc_v6_rcv_saddr: sk('__sk_common.skc_v6_rcv_saddr'),
    sock_skc_cookie: sk('__sk_common.skc_cookie'),
    sock_skc_flags: sk('__sk_common.skc_flags'),
    sock_skc_net: sk('__sk_common.skc_net') + offsetOf(l, 'possible_net_t', 'net'),
    sock_sk_lingertime: sk('sk_lingertime'),
    sock_sk_err: sk('sk_err'),
    sock_sk_protocol: sk('sk_protocol'),
    inet_sock_inet_sport: offsetOf(l, 'inet_sock', 'inet_sport'),
    icsk_probes_out: offsetOf(l, 'inet_connection_sock', 'icsk_probes_out'),
    icsk_user_timeout: offsetOf(l, 'inet_connection_sock', 'icsk_user_timeout'),
    tp_keepalive_time: offsetOf(l, 'tcp_sock', 'keepalive_time'),
    tp_keepalive_intvl: offsetOf(l, 'tcp_sock', 'keepalive_intvl'),
    tp_keepalive_probes: offsetOf(l, 'tcp_sock', 'keepalive_probes'),
    net_ns_inum: offsetOf(l, 'net', 'ns.inum'),
    net_ka_time: offsetOf(l, 'net', 'ipv4.sysctl_tcp_keepalive_time'),
    net_ka_intvl: offsetOf(l, 'net', 'ipv4.sysctl_tcp_keepalive_intvl'),
    net_ka_probes: offsetOf(l, 'net', 'ipv4.sysctl_tcp_keepalive_probes'),
    skb_dev: offsetOf(l, 'sk_buff', 'dev'),
    netdev_nd_net: offsetOf(l, 'net_device', 'nd_net') + offsetOf(l, 'possible_net_t', 'net'),
    skb_head: offsetOf(l, 'sk_buff', 'head'),
    skb_network_header: offsetOf(l, 'sk_buff', 'network_header'),
    skb_transport_header: offsetOf(l, 'sk_buff', 'transport_header'),
    iphdr_saddr: offsetOf(l, 'iphdr', 'saddr'),
    iphdr_daddr: offsetOf(l, 'iphdr', 'daddr'),
    ipv6hdr_saddr: offsetOf(l, 'ipv6hdr', 'saddr'),
    ipv6hdr_daddr: offsetOf(l, 'ipv6hdr', 'daddr'),
    tcphdr_source: offsetOf(l, 'tcphdr', 'source'),
    tcphdr_dest: offsetOf(l, 'tcphdr', 'dest'),
  };
}
