// Gathers the facts behind `doctor`'s checks of ka-top's own parts: the Node running it and whether each native
// helper for this architecture is there and runs (`--help` answers with its usage).
import { readFileSync } from 'node:fs';
import { HELPERS, checkHelpers, checkNode, type HelperProbe, type PartCheck } from '../model/self-check.js';
import { HELPER_ARCHES, nativeBinary, packagePath, run } from '../sources/exec.js';

async function probeHelper(name: string): Promise<HelperProbe> {
  let path: string;
  try {
    path = nativeBinary(name);
  } catch (e) {
    return { name, path: null, runs: false, why: (e as Error).message };
  }
  const r = await run(path, ['--help'], { timeoutMs: 5000 }).catch((e: NodeJS.ErrnoException) => e);
  if (r instanceof Error) return { name, path, runs: false, why: `${path} does not run (${r.code ?? r.message})` };
  if (r.code !== 0 || !r.stdout.startsWith('Usage:')) {
    return { name, path, runs: false, why: `${path} failed (${r.stderr.trim().split('\n')[0] || `exit ${r.code ?? r.signal}`})` };
  }
  return { name, path, runs: true };
}

export async function checkOwnParts(): Promise<PartCheck[]> {
  const engines = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { engines: { node: string } }).engines;
  const minMajor = Number(/\d+/.exec(engines.node)![0]);
  return [
    checkNode({ version: process.versions.node, execPath: process.execPath, minMajor }),
    checkHelpers(process.arch, (HELPER_ARCHES as readonly string[]).includes(process.arch), await Promise.all(HELPERS.map((h) => probeHelper(h.name)))),
  ];
}
