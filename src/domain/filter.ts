// The connection filter every command takes (--port, --pid, --comm, --state, --keepalive, --netns).
import type { TcpState } from './connection.js';

export interface ConnectionFilter {
  ports?: number[];
  pids?: number[];
  comms?: string[];
  states?: TcpState[];
  keepalive?: 'on' | 'off';
  /** Namespace inodes or names. */
  netns?: string[];
}
