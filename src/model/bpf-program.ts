// Generates the one bpftrace program ka-top runs, from what probeTracingHost() found. Pure: text in, text out.
// Every record is a printf line `KA <kind> key=value … comm=<rest>` (comm last: it may contain spaces); pointers
// and cookies are printed as hex because bpftrace ≤ 0.23 prints u64 as raw JSON numbers. Counts that must not be
// lost with a dropped event (probes per socket, resets by reason) live in maps printed by an interval probe.
import { SOCK_LINGER_BIT, TCP_STATE_NUMBERS, WATCHED_SOCKOPTS } from '../domain/kernel.js';
import type { TracingHost } from '../sources/tracing-host.js';
import { printSymbolic } from '../parse/tracefs-format.js';
import { versionAtLeast } from '../domain/version.js';

export type KeepaliveProbeKind = 'tracepoint' | 'kprobe' | 'fentry';

export interface BpfProgram {
  text: string;
  /** How the keepalive timer is watched, or null when it cannot be (see `missing`). */
  keepalive: KeepaliveProbeKind | null;
  /** What this program cannot see on this host, in words. */
  missing: string[];
  /** enum sk_rst_reason of this kernel (number -> name). */
  reasons: Record<number, string>;
  /** Seconds between periodic map dumps. */
  countsIntervalSec: number;
}

export interface ProgramOptions {
  countsIntervalSec?: number;
}

/** TCP state numbers from the inet_sock_set_state print fmt; the fallback is include/net/tcp_states.h. */
function tcpStates(host: TracingHost): Record<string, number> {
  const fmt = host.tracepoints['sock:inet_sock_set_state'].format;
  const out: Record<string, number> = { ...TCP_STATE_NUMBERS };
  if (fmt) for (const [n, name] of printSymbolic(fmt.printFmt, 'newstate')) out[name] = n;
  return out;
}

export function generateBpfProgram(host: TracingHost, opts: ProgramOptions = {}): BpfProgram {
  const v = host.bpftrace.version ?? { major: 0, minor: 17, patch: 0 };
  const a = versionAtLeast(v, 0, 19) ? 'args.' : 'args->';
  const o = host.offsets.value;
  const tp = host.tracepoints;
  const st = tcpStates(host);
  const missing: string[] = [];
  const interval = opts.countsIntervalSec ?? 5;
  const out: string[] = [];
  const p = (s: string) => out.push(s);

  // Socket fields read from a `struct sock *` held in $sk; empty when offsets are unknown.
  const sockVars = o
    ? [
        `  $net = *(uint64*)($sk + ${o.sock_skc_net});`,
        // A read through a null pointer just yields 0 (probe_read fails); bpftrace 0.17 miscompiles a ternary
        // assignment inside an if block, so none is used for reads.
        `  $ns = *(uint32*)($net + ${o.net_ns_inum});`,
        `  $ck = *(uint64*)($sk + ${o.sock_skc_cookie});`,
        `  $lf = *(uint64*)($sk + ${o.sock_skc_flags});`,
        `  $lt = *(uint64*)($sk + ${o.sock_sk_lingertime});`,
      ].join('\n')
    : ['  $ns = (uint32)0;', '  $ck = (uint64)0;', '  $lf = (uint64)0;', '  $lt = (uint64)0;'].join('\n');
  const sockFmt = 'ns=%u ck=%llx lf=%llx lt=%llu';
  const sockArgs = '$ns, $ck, $lf, $lt';
  // The socket's own 4-tuple (IPv4 words + IPv6 as two little-endian u64 each), for the timer probe.
  const tupleFmt = 'f=%d la=%x ra=%x l6=%llx:%llx r6=%llx:%llx lp=%d rp=%d st=%d';
  const tupleArgs = o
    ? [
        `*(uint16*)($sk + ${o.sock_skc_family})`, `*(uint32*)($sk + ${o.sock_skc_rcv_saddr})`,
        `*(uint32*)($sk + ${o.sock_skc_daddr})`, `*(uint64*)($sk + ${o.sock_skc_v6_rcv_saddr})`,
        `*(uint64*)($sk + ${o.sock_skc_v6_rcv_saddr + 8})`, `*(uint64*)($sk + ${o.sock_skc_v6_daddr})`,
        `*(uint64*)($sk + ${o.sock_skc_v6_daddr + 8})`, `*(uint16*)($sk + ${o.sock_skc_num})`,
        `*(uint16*)($sk + ${o.sock_skc_dport})`, `*(uint8*)($sk + ${o.sock_skc_state})`,
      ].join(', ')
    : '';
  // Addresses as tracepoints with sport/dport/family/saddr/daddr/saddr_v6/daddr_v6 give them.
  const tpTupleFmt = 'f=%d sp=%d dp=%d s4=%s d4=%s s6=%s d6=%s';
  const tpTupleArgs = `${a}family, ${a}sport, ${a}dport, ntop(2, ${a}saddr), ntop(2, ${a}daddr), ntop(10, ${a}saddr_v6), ntop(10, ${a}daddr_v6)`;

  p('BEGIN { printf("KA ready\\n"); }');

  // Keepalive timer: the cheapest attach point the host has. The entry saves the socket and its outstanding
  // probe count per CPU (timer callbacks do not nest on a CPU); the exit compares: +1 = a probe went out,
  // a move to TCP_CLOSE = the peer was declared dead.
  let keepalive: KeepaliveProbeKind | null = null;
  if (!o) missing.push(`keepalive probes: ${host.offsets.reason ?? 'kernel struct offsets unknown'}`);
  else if (host.fentry.ok) keepalive = 'fentry';
  else if (host.kprobes.ok) keepalive = 'kprobe';
  else if (!host.keepaliveTimer.ok) missing.push(`keepalive probes: ${host.keepaliveTimer.reason}`);
  else if (!tp['timer:timer_expire_entry'].ok || !tp['timer:timer_expire_exit'].ok)
    missing.push(`keepalive probes: ${tp['timer:timer_expire_entry'].reason ?? tp['timer:timer_expire_exit'].reason}`);
  else keepalive = 'tracepoint';

  if (keepalive && o) {
    const save = [
      `  @ka_sk[cpu] = $sk;`,
      `  @ka_po[cpu] = *(uint8*)($sk + ${o.icsk_probes_out});`,
      `  @ka_st[cpu] = *(uint8*)($sk + ${o.sock_skc_state});`,
      // tcp_done() clears the local port before the exit probe can read it.
      `  @ka_lp[cpu] = *(uint16*)($sk + ${o.sock_skc_num});`,
      '}',
    ].join('\n');
    if (keepalive === 'tracepoint') {
      p(`tracepoint:timer:timer_expire_entry /(uint64)${a}function == 0x${host.keepaliveTimer.address}/ {`);
      p(`  $sk = (uint64)${a}timer - ${o.sock_sk_timer};`);
      p(save);
      p(`tracepoint:timer:timer_expire_exit /@ka_sk[cpu] != 0 && (uint64)${a}timer == @ka_sk[cpu] + ${o.sock_sk_timer}/ {`);
    } else {
      const entry = keepalive === 'fentry' ? (versionAtLeast(v, 0, 20) ? 'fentry' : 'kfunc') : 'kprobe';
      const exit = keepalive === 'fentry' ? (versionAtLeast(v, 0, 20) ? 'fexit' : 'kretfunc') : 'kretprobe';
      const arg = keepalive === 'fentry' ? `(uint64)${a}t` : 'arg0';
      p(`${entry}:tcp_keepalive_timer {`);
      p(`  $sk = ${arg} - ${o.sock_sk_timer};`);
      p(save);
      p(`${exit}:tcp_keepalive_timer /@ka_sk[cpu] != 0/ {`);
    }
    p('  $sk = @ka_sk[cpu];');
    p(sockVars);
    p(`  $po = *(uint8*)($sk + ${o.icsk_probes_out});`);
    p(`  $kp = (uint64)*(uint8*)($sk + ${o.tp_keepalive_probes});`);
    p(`  if ($kp == 0) { $kp = (uint64)*(uint8*)($net + ${o.net_ka_probes}); }`);
    p(`  $ki = (uint64)*(uint32*)($sk + ${o.tp_keepalive_intvl});`);
    p(`  if ($ki == 0) { $ki = (uint64)*(uint32*)($net + ${o.net_ka_intvl}); }`);
    p(`  $kt = (uint64)*(uint32*)($sk + ${o.tp_keepalive_time});`);
    p(`  if ($kt == 0) { $kt = (uint64)*(uint32*)($net + ${o.net_ka_time}); }`);
    p(`  $ut = (uint64)*(uint32*)($sk + ${o.icsk_user_timeout});`);
    p(`  $st = *(uint8*)($sk + ${o.sock_skc_state});`);
    const kaTuple = tupleArgs.replace(`*(uint16*)($sk + ${o.sock_skc_num})`, '@ka_lp[cpu]');
    p(`  if ($po > @ka_po[cpu]) {`);
    p(`    @ka_probes[$sk] = @ka_probes[$sk] + 1;`);
    p(`    printf("KA probe sk=%llx po=%d total=%d kp=%d ki=%d kt=%d ut=%d ${sockFmt} ${tupleFmt}\\n", $sk, $po, @ka_probes[$sk], $kp, $ki, $kt, $ut, ${sockArgs}, ${kaTuple});`);
    p('  }');
    p(`  if ($st == ${st.TCP_CLOSE} && @ka_st[cpu] != ${st.TCP_CLOSE}) {`);
    p('    @ka_timeouts = count();');
    p(`    printf("KA katimeout sk=%llx po=%d total=%d kp=%d ki=%d kt=%d ut=%d ${sockFmt} ${tupleFmt}\\n", $sk, @ka_po[cpu], @ka_probes[$sk], $kp, $ki, $kt, $ut, ${sockArgs}, ${kaTuple});`);
    p('    delete(@ka_probes[$sk]);');
    p('  }');
    p('  delete(@ka_sk[cpu]); delete(@ka_po[cpu]); delete(@ka_st[cpu]); delete(@ka_lp[cpu]);');
    p('}');
  }

  // Resets we send. `ka` says the reset came from inside the keepalive timer of that very socket.
  const sr = tp['tcp:tcp_send_reset'];
  if (!sr.ok) missing.push(`resets sent: ${sr.reason}`);
  else {
    const reason = host.sendReset.hasReason ? `${a}reason` : '-1';
    p('tracepoint:tcp:tcp_send_reset {');
    p(`  $sk = (uint64)${a}skaddr;`);
    // bpftrace rejects reading a map nothing writes: the keepalive maps exist only with the keepalive probe.
    p(keepalive ? '  $ka = $sk != 0 && @ka_sk[cpu] == $sk ? 1 : 0;' : '  $ka = 0;');
    p('  $ns = (uint32)0; $ck = (uint64)0; $lf = (uint64)0; $lt = (uint64)0;');
    if (o) {
      p('  if ($sk != 0) {');
      p(sockVars.replace(/^ {2}/gm, '    '));
      p('    @close_how[$sk] = 1;');
      p('  } else {');
      // No full socket: the netns is the one of the device the offending segment came in on.
      p(`    $dev = *(uint64*)((uint64)${a}skbaddr + ${o.skb_dev});`);
      p(`    $dnet = *(uint64*)($dev + ${o.netdev_nd_net});`);
      p(`    $ns = *(uint32*)($dnet + ${o.net_ns_inum});`);
      p('  }');
    } else {
      missing.push(`reset attribution by netns/cookie: ${host.offsets.reason ?? 'offsets unknown'}`);
    }
    p(`  $l0 = (($lf >> ${SOCK_LINGER_BIT}) & 1) == 1 && $lt == 0 ? 1 : 0;`);
    p(`  @rst_sent[${reason}, $ka, $l0] = count();`);
    const addr = host.sendReset.layout === 'sockaddr'
      ? { fmt: 'sa=%rx da=%rx', args: `buf(${a}saddr, 28), buf(${a}daddr, 28)` }
      : { fmt: tpTupleFmt, args: tpTupleArgs };
    if (!host.sendReset.hasReason) missing.push('reset reasons: this kernel\'s tcp_send_reset has no reason field (cause is inferred)');
    p(`  printf("KA rst sk=%llx rs=%d st=%d ka=%d ${sockFmt} ${addr.fmt} pid=%d comm=%s\\n", $sk, ${reason}, ${a}state, $ka, ${sockArgs}, ${addr.args}, pid, comm);`);
    p('}');
  }

  const rr = tp['tcp:tcp_receive_reset'];
  if (!rr.ok) missing.push(`resets received: ${rr.reason}`);
  else {
    const hasCookie = rr.format?.fields.some((f) => f.name === 'sock_cookie') ?? false;
    p('tracepoint:tcp:tcp_receive_reset {');
    p(`  $sk = (uint64)${a}skaddr;`);
    // The tracepoint's sock_cookie is generated on demand (the socket's own field may still be 0).
    p(hasCookie ? sockVars.replace(/^ {2}\$ck = .*$/m, `  $ck = ${a}sock_cookie;`) : sockVars);
    p('  @close_how[$sk] = 2;');
    p('  @rst_received = count();');
    p(`  printf("KA rrst sk=%llx ${sockFmt} ${tpTupleFmt} pid=%d comm=%s\\n", $sk, ${sockArgs}, ${tpTupleArgs}, pid, comm);`);
    p('}');
  }

  // Closes (any state -> TCP_CLOSE except a listener's), with how the connection ended and how long it lived.
  const ss = tp['sock:inet_sock_set_state'];
  if (!ss.ok) missing.push(`connection close and lifetime: ${ss.reason}`);
  else {
    const how = out.join('\n').includes('@close_how[$sk] =') ? '@close_how[$sk]' : '0';
    p(`tracepoint:sock:inet_sock_set_state /${a}protocol == 6/ {`);
    p(`  $sk = (uint64)${a}skaddr;`);
    p(`  if (${a}newstate == ${st.TCP_SYN_SENT} || (${a}newstate == ${st.TCP_ESTABLISHED} && @born[$sk] == 0)) { @born[$sk] = nsecs; }`);
    p(`  if (${a}newstate == ${st.TCP_CLOSE} && ${a}oldstate != ${st.TCP_LISTEN}) {`);
    p(sockVars.replace(/^ {2}/gm, '    '));
    p('    $life = @born[$sk] != 0 ? (nsecs - @born[$sk]) / 1000000 : (uint64)0;');
    p('    $known = @born[$sk] != 0 ? 1 : 0;');
    p(`    printf("KA close sk=%llx os=%d how=%d life=%llu known=%d probes=%d ${sockFmt} ${tpTupleFmt} pid=%d comm=%s\\n", $sk, ${a}oldstate, ${how}, $life, $known, ${keepalive ? '@ka_probes[$sk]' : '0'}, ${sockArgs}, ${tpTupleArgs}, pid, comm);`);
    p(how === '0' ? '    delete(@born[$sk]);' : '    delete(@born[$sk]); delete(@close_how[$sk]);');
    // A close inside this socket's keepalive timer: the timer's exit probe still reports the probe count.
    if (keepalive) p('    if (@ka_sk[cpu] != $sk) { delete(@ka_probes[$sk]); }');
    p('  }');
    p('}');
  }

  const so = tp['syscalls:sys_enter_setsockopt'];
  if (!so.ok) missing.push(`socket option changes: ${so.reason}`);
  else {
    const cond = Object.values(WATCHED_SOCKOPTS)
      .map((s) => `(${a}level == ${s.level} && ${a}optname == ${s.optname})`)
      .join(' || ');
    p(`tracepoint:syscalls:sys_enter_setsockopt /${cond}/ {`);
    p(`  printf("KA sockopt pid=%d fd=%d lv=%d on=%d comm=%s\\n", pid, ${a}fd, ${a}level, ${a}optname, comm);`);
    p('}');
  }

  // bpftrace rejects print()/clear() of a map no probe uses: only name the maps this program has.
  const body = out.join('\n');
  const has = (m: string) => body.includes(`${m}[`) || body.includes(`${m} =`);
  const counts = ['@ka_probes', '@rst_sent', '@ka_timeouts', '@rst_received'].filter(has);
  if (counts.length > 0) p(`interval:s:${interval} { ${counts.map((m) => `print(${m});`).join(' ')} }`);
  // Only the counting maps are dumped at exit.
  const scratch = ['@ka_sk', '@ka_po', '@ka_st', '@ka_lp', '@born', '@close_how'].filter(has);
  if (scratch.length > 0) p(`END { ${scratch.map((m) => `clear(${m});`).join(' ')} }`);

  return { text: out.join('\n') + '\n', keepalive, missing, reasons: host.sendReset.reasons, countsIntervalSec: interval };
}
