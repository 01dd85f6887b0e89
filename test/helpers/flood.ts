// A reset flood between two test namespaces: connections from `fromNetns` refused by a closed port at `addr` (its
// namespace sends a reset for each, the client's receives it), one after the other, for `ms`. Kill it when done.
// At most FLOOD_PER_SECOND: far above the few records a second the flood tests allow, and below the budget of a
// tracer without a namespace filter in a test running alongside (the default --event-rate, 1000 a second of each
// kind, host-wide): a faster flood would hold back that test's own records too.
import { spawn, type ChildProcess } from 'node:child_process';

const FLOOD_PER_SECOND = 250;

export function refusedConnectionsFlood(fromNetns: string, addr: string, port: number, ms: number): ChildProcess {
  const script = `const net = require('net'); const end = Date.now() + ${ms}; const gap = ${1000 / FLOOD_PER_SECOND};
    let due = Date.now();
    const next = () => {
      if (Date.now() >= end) return;
      due += gap;
      setTimeout(() => net.connect(${port}, '${addr}').on('error', next).on('connect', function () { this.destroy(); next(); }), Math.max(0, due - Date.now()));
    };
    next();`;
  return spawn('nsenter', [`--net=/run/netns/${fromNetns}`, process.execPath, '-e', script], { stdio: 'ignore' });
}
