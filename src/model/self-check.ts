// `ka-top doctor`'s checks of ka-top's own parts (Node, the native helpers), each with the fix when it fails.
// The host's capabilities (root, bpftrace, tracefs…) are in capabilities.ts; these are about the installation.

export interface PartCheck {
  label: string;
  ok: boolean;
  detail: string;
  /** What to do about it (null when ok). */
  fix: string | null;
}

/** The native helpers and what is lost without each. */
export const HELPERS = [
  { name: 'ka-sockinfo', without: 'no socket owners or socket options, sockets come from ss alone' },
  { name: 'ka-peer', without: 'no scenario lab (`ka-top lab`, `--lab`)' },
] as const;

export interface NodeFacts {
  version: string;
  execPath: string;
  /** From package.json `engines.node` (">=20"). */
  minMajor: number;
}

export function checkNode(f: NodeFacts): PartCheck {
  const ok = Number(f.version.split('.')[0]) >= f.minMajor;
  return {
    label: 'node',
    ok,
    detail: `Node ${f.version} at ${f.execPath}${ok ? '' : `: ka-top needs Node ${f.minMajor} or newer`}`,
    fix: ok ? null : `install Node ${f.minMajor}, 22 or 24 (distribution package, NodeSource or nvm) and run ka-top with it`,
  };
}

/** How one helper answered `--help` on this host: its path, or why there is none or it did not run. */
export type HelperProbe = { name: string } & ({ path: string; runs: true } | { path: string | null; runs: false; why: string });

/**
 * @param arch Node's name of this machine's architecture
 * @param shipped whether the package carries helpers for it (else only building them here helps)
 */
export function checkHelpers(arch: string, shipped: boolean, probes: readonly HelperProbe[]): PartCheck {
  const label = 'native helpers';
  const broken = probes.filter((p): p is Extract<HelperProbe, { runs: false }> => !p.runs);
  if (broken.length === 0) return { label, ok: true, detail: `${probes.map((p) => p.name).join(', ')} run (${arch})`, fix: null };
  const without = (name: string) => HELPERS.find((h) => h.name === name)?.without ?? 'less to see';
  const detail = broken.map((p) => `${p.why} — without it: ${without(p.name)}`).join('; ');
  const fix = !shipped
    ? `build them here: \`make build\` in a clone of ka-top (needs a C compiler), then copy dist/bin/${arch}/ into the installed package's dist/bin/`
    : broken.some((p) => p.path !== null)
      ? 'reinstall ka-top (npm i -g ka-top); if it sits on a noexec mount, install it elsewhere'
      : 'reinstall ka-top (npm i -g ka-top), or run `make build` in the repository';
  return { label, ok: false, detail, fix };
}
