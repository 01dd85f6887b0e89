import { describe, expect, it } from 'vitest';
import type { NetnsInfo } from '../../src/domain/connection.js';
import { headerLines, shownSysctl, type HeaderInput } from '../../src/ui/Header.js';
import { loadSnapshot } from '../helpers/tui-fixture.js';

const doc = loadSnapshot();
const own = doc.namespaces.find((n) => n.self)!;
const lab = (name: string, inode: number, time = 7200): NetnsInfo => ({ ...own, name, inode, self: false, sysctl: { ...own.sysctl!, tcp_keepalive_time: time } });

function sysctlLine(namespaces: readonly NetnsInfo[]): string {
  const h: HeaderInput = {
    version: '0.1.0', host: { hostname: 'h', kernel: '6.1' }, capabilities: null, sysctl: shownSysctl(namespaces), summary: doc.summary,
    namespaces: namespaces.length, refresh: { intervalMs: 2000, lastCostMs: 10, error: null }, tracer: { on: false, reason: 'off', starting: false },
    warnings: [], findings: [], keepaliveNa: 0,
  };
  return headerLines(h, 200).find((l) => l.text.startsWith('sysctl'))!.text;
}

describe('the header\'s sysctl line', () => {
  it('ka-top\'s own namespace when it is inventoried; with --netns, the namespaces shown, named, when they agree', () => {
    expect(sysctlLine([own, lab('kalab-a', 1)])).toMatch(/^sysctl: keepalive time 7200s /);
    expect(sysctlLine([lab('kalab-a', 1, 60)])).toMatch(/^sysctl \(kalab-a\): keepalive time 60s /);
    expect(sysctlLine([lab('kalab-a', 1), lab('kalab-b', 2)])).toMatch(/^sysctl \(2 netns\): keepalive time 7200s /);
    expect(sysctlLine([lab('kalab-a', 1, 60), lab('kalab-b', 2)])).toBe('sysctl (2 netns): they differ between these namespaces (a connection\'s detail shows its effective keepalive)');
    expect(sysctlLine([{ ...lab('kalab-a', 1), sysctl: null }])).toBe('sysctl: unreadable');
  });

  it('counts with the right noun: 1 connection, 2 connections', () => {
    const line = (n: number) => headerLines({
      version: '0.1.0', host: { hostname: 'h', kernel: '6.1' }, capabilities: null, sysctl: shownSysctl([own]), summary: { ...doc.summary, connections: n },
      namespaces: 1, refresh: { intervalMs: 2000, lastCostMs: 10, error: null }, tracer: { on: false, reason: 'off', starting: false },
      warnings: [], findings: [], keepaliveNa: 0,
    }, 200).find((l) => l.text.includes(' netns · '))!.text;
    expect(line(1)).toMatch(/^1 connection in 1 netns/);
    expect(line(2)).toMatch(/^2 connections in 1 netns/);
  });
});
