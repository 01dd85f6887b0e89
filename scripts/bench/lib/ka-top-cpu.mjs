// CPU time (seconds) of a process and every descendant: node, bpftrace, ka-sockinfo, and (through the parent's
// cutime/cstime) the short-lived ss/nsenter children it already reaped. Used by the probe-overhead benchmarks.
import { readFileSync, readdirSync } from 'node:fs';

const HZ = 100; // USER_HZ: /proc/<pid>/stat counts in clock ticks

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** A process and every descendant, with their /proc/<pid>/stat figures (ppid, CPU ticks). */
export function processTree(root) {
  const all = new Map();
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) {
    const s = stat(Number(d));
    if (s) all.set(Number(d), s);
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop();
    const s = all.get(pid);
    if (!s) continue;
    out.push({ pid, ...s });
    for (const [p, c] of all) if (c.ppid === pid) todo.push(p);
  }
  return out;
}

export function treeCpuSeconds(root) {
  return processTree(root).reduce((t, p) => t + p.ticks, 0) / HZ;
}
