// Derives what ka-top can see on this host from the probed facts, each item with the reason in words.
import type { Capabilities, Capability } from '../domain/capabilities.js';
import { kernelVersion, versionAtLeast } from '../domain/version.js';

/** The facts capabilities are derived from (tracing host probe + what the owner scan saw). */
export interface CapabilityFacts {
  root: boolean;
  kernelRelease: string;
  bpftrace: { ok: boolean; reason: string | null; path: string | null; version: string | null };
  tracefs: { ok: boolean; reason: string | null };
  kprobes: { ok: boolean; reason: string | null };
  btf: { ok: boolean; reason: string | null };
  /** Tracepoint name -> why it is missing (absent when present). */
  missingTracepoints: Record<string, string>;
  /** Errors the option reads returned (errno names), and how many reads succeeded. */
  sockoptReads: { ok: number; errors: string[] };
}

const cap = (available: boolean, detail: string): Capability => ({ available, detail });

export function deriveCapabilities(f: CapabilityFacts): Capabilities {
  const missing = Object.keys(f.missingTracepoints);
  let pidfd: Capability;
  if (!versionAtLeast(kernelVersion(f.kernelRelease), 5, 6)) pidfd = cap(false, 'kernel older than 5.6 has no pidfd_getfd');
  else if (!f.root) pidfd = cap(false, 'reading another process\'s socket options needs root');
  else if (f.sockoptReads.ok > 0) pidfd = cap(true, `socket options read from ${f.sockoptReads.ok} socket(s)`);
  else if (f.sockoptReads.errors.includes('ENOSYS')) pidfd = cap(false, 'pidfd_getfd is not implemented by this kernel');
  else if (f.sockoptReads.errors.includes('EPERM')) pidfd = cap(false, 'pidfd_getfd refused (EPERM): a security module or ptrace restriction');
  else pidfd = cap(true, 'available (no owned TCP socket to read yet)');
  return {
    root: cap(f.root, f.root ? 'running as root' : 'running as an unprivileged user: no tracing, other users\' sockets have no owner or options, other namespaces are not listed'),
    bpftrace: { ...cap(f.bpftrace.ok, f.bpftrace.ok ? `bpftrace ${f.bpftrace.version} at ${f.bpftrace.path}` : f.bpftrace.reason ?? 'not available'), path: f.bpftrace.path, version: f.bpftrace.version },
    tracefs: cap(f.tracefs.ok, f.tracefs.ok ? 'mounted' : f.tracefs.reason ?? 'not mounted'),
    kprobes: cap(f.kprobes.ok, f.kprobes.ok ? 'available (optional extras)' : `${f.kprobes.reason ?? 'not available'} — not needed: ka-top uses tracepoints`),
    tracepoints: {
      ...cap(missing.length === 0, missing.length === 0 ? 'all needed tracepoints present' : missing.map((m) => `${m}: ${f.missingTracepoints[m]}`).join('; ')),
      missing,
    },
    btf: cap(f.btf.ok, f.btf.ok ? '/sys/kernel/btf/vmlinux present' : f.btf.reason ?? 'no kernel BTF'),
    pidfdGetfd: pidfd,
    allNamespaces: cap(f.root, f.root ? 'every network namespace is entered with nsenter' : 'only ka-top\'s own network namespace (entering others needs root)'),
    kernel: { ...cap(true, `Linux ${f.kernelRelease}`), release: f.kernelRelease },
  };
}
