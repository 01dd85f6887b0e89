// The lab's scenarios: each one is a small real client/server pair (ka-peer) in its own namespaces, built so that
// one keepalive/reset behaviour shows within ~30 s and keeps showing. The README (Scenario lab) explains what to look for.
import { makeChain, makePair, nft, sysctlIn, tableRuleset, type Chain, type Pair } from './topology.js';

/** Every lab namespace starts with this; `lab down` deletes by it. */
export const LAB_PREFIX = 'kalab-';
/** The namespace that holds the loop supervisor, so that it too is found (and killed) by prefix. */
export const CONTROL_NS = `${LAB_PREFIX}ctl`;

/** A ka-peer process of a scenario: where it runs and with which arguments. */
export interface PeerSpec {
  role: string;
  ns: string;
  args: string[];
}

/** The scenario's peer goes silent for `silentMs`, then is reachable for `reachableMs`, forever. */
export interface LoopSpec {
  /** Namespace whose traffic is dropped in both directions during the silent phase. */
  ns: string;
  reachableMs: number;
  silentMs: number;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Namespace names, all with LAB_PREFIX. */
  namespaces: string[];
  /** Builds namespaces, links, nft and sysctls (idempotent); returns the peers to start. */
  build: () => Promise<PeerSpec[]>;
  loop?: LoopSpec;
}

const ns3 = (short: string) => [`${LAB_PREFIX}${short}-cli`, `${LAB_PREFIX}${short}-mid`, `${LAB_PREFIX}${short}-srv`];
const ns2 = (short: string) => [`${LAB_PREFIX}${short}-cli`, `${LAB_PREFIX}${short}-srv`];

/** Reconnect attempts during a silent phase retry every second instead of backing off, so they catch the next
 *  reachable phase at once. The sysctl exists from Linux 6.6 on; older kernels just back off. */
async function fastSynRetries(ns: string): Promise<void> {
  await sysctlIn(ns, 'net.ipv4.tcp_syn_retries', 10);
  await sysctlIn(ns, 'net.ipv4.tcp_syn_linear_timeouts', 10).catch(() => {});
}

const v4 = (addr: string, port: number) => `${addr}:${port}`;
const v6 = (addr: string, port: number) => `[${addr}]:${port}`;

const deadPeer: Scenario = {
  name: 'dead-peer',
  summary: 'server goes silent; aggressive client keepalive (2/1/3) probes, then the kernel kills it (ETIMEDOUT)',
  namespaces: ns2('dead'),
  async build() {
    const p: Pair = await makePair(`${LAB_PREFIX}dead-`, 1);
    await fastSynRetries(p.client);
    return [
      // The client's reset is lost in the silence, so the server end would stay forever; its own slow
      // keepalive (60 s) clears it once the client side answers with a reset again.
      {
        role: 'server', ns: p.server,
        args: ['server', '--listen', v4('0.0.0.0', 7001), '--mode', 'hold',
          '--keepalive', '--keepidle', '60', '--keepintvl', '5', '--keepcnt', '3'],
      },
      {
        role: 'client', ns: p.client,
        args: ['client', '--connect', v4(p.serverAddr, 7001), '--mode', 'hold', '--reconnect', '--every', '1000',
          '--keepalive', '--keepidle', '2', '--keepintvl', '1', '--keepcnt', '3'],
      },
    ];
  },
  // Reachable long enough to connect and answer a few probes; silent long enough for idle 2 s + 3 probes.
  loop: { ns: `${LAB_PREFIX}dead-srv`, reachableMs: 8000, silentMs: 9000 },
};

const healthChecker: Scenario = {
  name: 'health-checker',
  summary: 'a checker connects every 500 ms and closes with SO_LINGER {1,0}: an RST storm at the backend',
  namespaces: ns2('hc'),
  async build() {
    const p = await makePair(`${LAB_PREFIX}hc-`, 2);
    return [
      { role: 'server', ns: p.server, args: ['server', '--listen', v4('0.0.0.0', 7002), '--mode', 'hold'] },
      { role: 'checker', ns: p.client, args: ['checker', '--connect', v4(p.serverAddr, 7002), '--every', '500'] },
    ];
  },
};

/** Conntrack in the middlebox forgets established flows idle for this long (a cloud LB/NAT idle timeout). */
export const IDLE_RECLAIM_TIMEOUT_S = 8;

const idleReclaim: Scenario = {
  name: 'idle-reclaim',
  summary: `middlebox forgets flows idle > ${IDLE_RECLAIM_TIMEOUT_S} s: keepalive 3 s survives, no keepalive gets reset on next send`,
  namespaces: ns3('idle'),
  async build() {
    const ch: Chain = await makeChain(`${LAB_PREFIX}idle-`, 3);
    // The ruleset comes first: the conntrack sysctls of a namespace appear once conntrack is in use there.
    // Packets of a flow conntrack no longer knows are "invalid" (with loose=0 a mid-stream packet never starts a
    // new entry) and are answered with a reset, as many NATs and load balancers do.
    await nft(ch.middle, tableRuleset('kalab_idle', [
      'chain forward {',
      '  type filter hook forward priority 0; policy accept;',
      '  ct state invalid tcp flags & (syn | ack) != syn counter reject with tcp reset',
      '  ct state established counter accept',
      '}',
    ]));
    await sysctlIn(ch.middle, 'net.netfilter.nf_conntrack_tcp_loose', 0);
    await sysctlIn(ch.middle, 'net.netfilter.nf_conntrack_tcp_timeout_established', IDLE_RECLAIM_TIMEOUT_S);
    await fastSynRetries(ch.client);
    const server = v4(ch.serverAddr, 7003);
    return [
      // Server-side keepalive (30 s) cleans up the server ends the middlebox broke: its probe gets a reset.
      {
        role: 'server', ns: ch.server,
        args: ['server', '--listen', v4('0.0.0.0', 7003), '--mode', 'sink',
          '--keepalive', '--keepidle', '30', '--keepintvl', '5', '--keepcnt', '3'],
      },
      {
        role: 'client-keepalive', ns: ch.client,
        args: ['client', '--connect', server, '--mode', 'hold', '--reconnect', '--every', '1000',
          '--keepalive', '--keepidle', '3', '--keepintvl', '1', '--keepcnt', '3'],
      },
      // Sends a line every 12 s (longer than the 8 s conntrack timeout) and no keepalive: each send after the
      // first meets a middlebox that forgot the flow and answers with a reset.
      {
        role: 'client-idle', ns: ch.client,
        args: ['client', '--connect', server, '--mode', 'stream', '--every', '12000', '--reconnect'],
      },
    ];
  },
};

const userTimeout: Scenario = {
  name: 'user-timeout',
  summary: 'gRPC style: reading client with keepalive 2/2/5 and TCP_USER_TIMEOUT 5 s; server goes silent',
  namespaces: ns2('uto'),
  async build() {
    const p = await makePair(`${LAB_PREFIX}uto-`, 4);
    await fastSynRetries(p.client);
    return [
      // The server's user timeout ends its unacked stream during the silence too (retransmit side).
      {
        role: 'server', ns: p.server,
        args: ['server', '--listen', v4('0.0.0.0', 7004), '--mode', 'stream', '--every', '200',
          '--user-timeout', '8000'],
      },
      // probes × interval = 10 s, but USER_TIMEOUT 5 s decides: killed ~6 s after the last byte arrived.
      {
        role: 'client', ns: p.client,
        args: ['client', '--connect', v4(p.serverAddr, 7004), '--mode', 'sink', '--reconnect', '--every', '1000',
          '--keepalive', '--keepidle', '2', '--keepintvl', '2', '--keepcnt', '5', '--user-timeout', '5000'],
      },
    ];
  },
  loop: { ns: `${LAB_PREFIX}uto-srv`, reachableMs: 8000, silentMs: 10000 },
};

const unreadClose: Scenario = {
  name: 'unread-close',
  summary: 'server closes with unread data in its receive queue: abort reset (TCP_ABORT_ON_CLOSE)',
  namespaces: ns2('unread'),
  async build() {
    const p = await makePair(`${LAB_PREFIX}unread-`, 5);
    return [
      {
        role: 'server', ns: p.server,
        args: ['server', '--listen', v4('0.0.0.0', 7005), '--mode', 'unread', '--close-after', '3000'],
      },
      {
        role: 'client', ns: p.client,
        args: ['client', '--connect', v4(p.serverAddr, 7005), '--mode', 'unread', '--reconnect', '--every', '1000'],
      },
    ];
  },
};

const blackhole: Scenario = {
  name: 'blackhole',
  summary: 'a firewall drops SYNs to the backend: connects time out in the kernel (TCP_USER_TIMEOUT 2 s) or the checker',
  namespaces: ns2('bh'),
  async build() {
    const p = await makePair(`${LAB_PREFIX}bh-`, 7);
    // The backend's host firewall drops new connections to its port without a word (no reset, no ICMP), as a
    // security group or a full SYN backlog does; segments of established flows would pass.
    await nft(p.server, tableRuleset('kalab_bh', [
      'chain in {',
      '  type filter hook input priority 0; policy accept;',
      '  tcp dport 7007 tcp flags & (syn | ack) == syn counter drop',
      '}',
    ]));
    return [
      { role: 'server', ns: p.server, args: ['server', '--listen', v4('0.0.0.0', 7007), '--mode', 'hold'] },
      // The kernel gives up on the SYN at its user timeout (ETIMEDOUT), then the client tries again.
      {
        role: 'client', ns: p.client,
        args: ['client', '--connect', v4(p.serverAddr, 7007), '--mode', 'hold', '--reconnect', '--every', '2000',
          '--user-timeout', '2000'],
      },
      // A checker's own connect timeout (5 s) gives up first: it closes the socket while it is still connecting.
      { role: 'checker', ns: p.client, args: ['checker', '--connect', v4(p.serverAddr, 7007), '--every', '5000'] },
    ];
  },
};

const healthy: Scenario = {
  name: 'healthy',
  summary: 'contrast case over IPv6: long-lived connection with keepalive 5/2/4 on the socket, peer alive',
  namespaces: ns2('ok'),
  async build() {
    const p = await makePair(`${LAB_PREFIX}ok-`, 6);
    return [
      { role: 'server', ns: p.server, args: ['server', '--listen', v6('::', 7006), '--mode', 'hold'] },
      {
        role: 'client', ns: p.client,
        args: ['client', '--connect', v6(p.serverAddr6, 7006), '--mode', 'hold', '--reconnect', '--every', '1000',
          '--keepalive', '--keepidle', '5', '--keepintvl', '2', '--keepcnt', '4'],
      },
    ];
  },
};

export const SCENARIOS: readonly Scenario[] = [deadPeer, healthChecker, idleReclaim, userTimeout, unreadClose, blackhole, healthy];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

