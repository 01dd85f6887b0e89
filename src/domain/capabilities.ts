// What ka-top can see on this host, each item with the reason in words (shown by `doctor`, snapshots, the TUI).

export interface Capability {
  available: boolean;
  detail: string;
}

export interface Capabilities {
  root: Capability;
  bpftrace: Capability & { path: string | null; version: string | null };
  tracefs: Capability;
  kprobes: Capability;
  tracepoints: Capability & { missing: string[] };
  btf: Capability;
  pidfdGetfd: Capability;
  allNamespaces: Capability;
  kernel: Capability & { release: string };
}

export const CAPABILITY_LABELS: Record<keyof Capabilities, string> = {
  root: 'root',
  bpftrace: 'bpftrace',
  tracefs: 'tracefs',
  kprobes: 'kprobes',
  tracepoints: 'tracepoints',
  btf: 'BTF',
  pidfdGetfd: 'pidfd_getfd',
  allNamespaces: 'all namespaces',
  kernel: 'kernel',
};
