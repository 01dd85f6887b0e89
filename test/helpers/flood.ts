// A reset flood between two test namespaces: connections from `fromNetns` refused by a closed port at `addr` (its
// namespace sends a reset for each, the client's receives it), one after the other, for `ms`. Kill it when done.
import { spawn, type ChildProcess } from 'node:child_process';

export function refusedConnectionsFlood(fromNetns: string, addr: string, port: number, ms: number): ChildProcess {
  const script = `const net = require('net'); const end = Date.now() + ${ms};
    const next = () => { if (Date.now() < end) net.connect(${port}, '${addr}').on('error', next).on('connect', function () { this.destroy(); next(); }); };
    next();`;
  return spawn('nsenter', [`--net=/run/netns/${fromNetns}`, process.execPath, '-e', script], { stdio: 'ignore' });
}
