// How a network namespace is named to a person: its `ip netns` name, else its container, else its inode.
import type { ContainerRef } from './connection.js';

export function netnsLabel(ns: { inode: number; name: string | null; container?: ContainerRef | null }): string {
  return ns.name ?? ns.container?.id ?? String(ns.inode);
}
