// The shape of one entry of the applications table (table.ts): how to recognise a program from what the kernel
// tells, which keepalive values its settings put on a socket, and how to write its own setting in a fix.

/** The keepalive facts read from one socket, as the patterns see them. */
export interface KeepaliveFacts {
  enabled: boolean;
  idleSec: number | null;
  intervalSec: number | null;
  probes: number | null;
  /** Per field: set on the socket, or the namespace sysctl. */
  sources: { idle: string; interval: string; probes: string };
  /** TCP_USER_TIMEOUT (ms), 0 when unset. */
  userTimeoutMs: number;
}

/** The values a fix asks for (computed by the findings rules from the middlebox idle timeouts). */
export interface FixValues {
  idleSec: number;
  intervalSec: number;
  probes: number;
}

export interface KeepalivePattern {
  /** Does this socket carry what the setting produces? */
  when: (k: KeepaliveFacts) => boolean;
  /** What to say then, e.g. "Redis default tcp-keepalive 300". */
  says: (k: KeepaliveFacts) => string;
}

export interface AppEntry {
  id: string;
  name: string;
  /** Matched in this order: LD_PRELOAD, comm, exe base name, cmdline, then listening ports (weakest). */
  recognise: {
    preload?: RegExp;
    comm?: RegExp;
    exe?: RegExp;
    cmdline?: RegExp;
    listenPorts?: readonly number[];
  };
  /** The settings, their defaults and the socket options they map to (shown in the README table and `--help`). */
  settings: readonly { setting: string; default: string; maps: string }[];
  /** Keepalive values this application's settings produce, most specific first. */
  patterns: readonly KeepalivePattern[];
  /** Patterns that also explain an unrecognised program (a runtime or library default: Go, gRPC, Node). */
  matchesUnrecognised?: boolean;
  /** The owner's own setting with the values to use (keepalive idle, interval, probes). */
  keepaliveFix: (v: FixValues) => string;
  /** Its own setting for TCP_USER_TIMEOUT, when it has one. */
  userTimeoutFix?: string;
  /** When it closes connections with SO_LINGER {1,0} on purpose (a health checker): what it is and the remedy. */
  checker?: { what: string; remedy: string };
  /** Vendor sources the defaults above were checked against. */
  sources: readonly string[];
}
