// Gathers the facts behind `capabilities` (tracing host probe + what the owner scan saw).
import { deriveCapabilities, type CapabilityFacts } from '../model/capabilities.js';
import type { Capabilities } from '../domain/capabilities.js';
import { hostFacts } from '../sources/procfs.js';
import type { TracingHost } from '../sources/tracing-host.js';

export function capabilitiesFrom(host: TracingHost, sockoptReads: CapabilityFacts['sockoptReads']): Capabilities {
  const v = host.bpftrace.version;
  const missingTracepoints: Record<string, string> = {};
  for (const [name, a] of Object.entries(host.tracepoints)) if (!a.ok) missingTracepoints[name] = a.reason ?? 'missing';
  return deriveCapabilities({
    root: host.root,
    kernelRelease: hostFacts().kernel,
    bpftrace: { ...host.bpftrace, version: v ? `${v.major}.${v.minor}.${v.patch}` : null },
    tracefs: host.tracefs,
    kprobes: host.kprobes,
    btf: host.btf,
    missingTracepoints,
    sockoptReads,
  });
}

