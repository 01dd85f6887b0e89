// CPU time (seconds) of a process and every descendant: node, bpftrace, ka-sockinfo, and (through the parent's
// cutime/cstime) the short-lived ss/nsenter children it already reaped; or of one process alone. Used by the
// probe-overhead, TUI and exporter benchmarks.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: /proc/<pid>/stat counts in clock ticks

function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    const own = Number(f[11]) + Number(f[12]);
    return { ppid: Number(f[1]), own, ticks: own + Number(f[13]) + Number(f[14]) };
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

/**
 * Run time and run count of every BPF program a process tree holds (its bpftrace), summed, from the fdinfo of the
 * program fds: the kernel counts them while kernel.bpf_stats_enabled is 1 (see withBpfStats). The work the probes
 * add to every traced kernel call, which no process's CPU time shows; the tracepoint's own dispatch is not in it.
 */
export function bpfRunStats(root) {
  const progs = [];
  for (const { pid } of processTree(root)) {
    let fds = [];
    try {
      fds = readdirSync(`/proc/${pid}/fdinfo`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let info = '';
      try {
        info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      } catch {
        continue;
      }
      const tag = /^prog_tag:\s+(\S+)/m.exec(info);
      if (!tag) continue;
      const num = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
      progs.push({ tag: tag[1], ns: num('run_time_ns'), runs: num('run_cnt') });
    }
  }
  return progs;
}

/** Runs `fn` with the kernel's BPF run-time statistics on (restored after). */
export async function withBpfStats(fn) {
  const path = '/proc/sys/kernel/bpf_stats_enabled';
  const was = readFileSync(path, 'utf8').trim();
  writeFileSync(path, '1');
  try {
    return await fn();
  } finally {
    writeFileSync(path, was);
  }
}

/** CPU time (seconds) of the process alone: all its threads, none of its children. */
export function ownCpuSeconds(pid) {
  return (stat(pid)?.own ?? 0) / HZ;
}

export function treeCpuSeconds(root) {
  return processTree(root).reduce((t, p) => t + p.ticks, 0) / HZ;
}
