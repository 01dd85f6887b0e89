// `changes` answers of `ka-sockinfo serve` (parse/native-inventory.ts in changes mode) on a real capture
// (scripts/capture-changes.mjs): complete first, empty and not dumped when nothing moved, then only the sockets and
// owners that changed, and the cookies of the sockets gone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InventoryFormatError, NativeInventoryParser, parseNativeInventory } from '../../src/parse/native-inventory.js';

const capture = JSON.parse(readFileSync(new URL('../fixtures/native/changes.json', import.meta.url), 'utf8')) as { answers: string[] };
const parse = (text: string) => {
  const p = new NativeInventoryParser(true);
  p.push(text);
  return p.end();
};
const [first, quiet, moved, killed] = capture.answers.map(parse);

describe('ka-sockinfo changes answers', () => {
  it('the first answer is complete: every socket and owner, each section marked complete with its clock', () => {
    expect(first!.namespaces.map((n) => [n.index, n.error, n.errors, n.change?.complete, n.change?.gone])).toEqual([
      [0, null, [], true, []], [1, null, [], true, []],
    ]);
    expect(first!.namespaces.flatMap((n) => n.sockets)).toHaveLength(3);
    expect(first!.scan.sockets).toHaveLength(3);
    expect(first!.scan.sockets.find((o) => o.opts?.keepIdleSec === 41)).toBeDefined();
  });

  it('nothing moved: sections of changes with nothing in them, not dumped (their TCP counters stood), one second later on the helper clock', () => {
    expect(quiet!.namespaces.map((n) => [n.change?.complete, n.sockets.length, n.change?.gone.length, n.change?.still])).toEqual([[false, 0, 0, true], [false, 0, 0, true]]);
    expect(moved!.namespaces.map((n) => n.change?.still)).toEqual([false, false]);
    expect(quiet!.scan.sockets).toEqual([]);
    const dt = quiet!.namespaces[0]!.change!.atMs - first!.namespaces[0]!.change!.atMs;
    expect(dt).toBeGreaterThanOrEqual(1000);
    expect(dt).toBeLessThan(3000);
  });

  it('a new connection, a close (TIME-WAIT keeps its cookie) and new options: only those lines', () => {
    const socks = moved!.namespaces.flatMap((n) => n.sockets);
    expect(socks.map((s) => s.state).sort()).toEqual(['ESTAB', 'ESTAB', 'TIME-WAIT']);
    expect(moved!.scan.sockets.map((o) => o.opts?.keepIdleSec).sort()).toEqual([7200, 91]);
  });

  it('the server killed: its listener and the clients\' ends gone by cookie, its ends in TIME-WAIT', () => {
    const gone = killed!.namespaces.flatMap((n) => n.change!.gone);
    expect(gone).toHaveLength(3);
    for (const g of gone) expect(g).toMatch(/^[0-9a-f]+$/);
    expect(killed!.namespaces.flatMap((n) => n.sockets).map((s) => s.state)).toEqual(['TIME-WAIT', 'TIME-WAIT']);
    const known = new Set(capture.answers.slice(0, 3).map(parse).flatMap((a) => a.namespaces.flatMap((n) => n.sockets.map((s) => s.cookie))));
    for (const g of gone) expect(known).toContain(g);
  });

  it('a reader of one kind refuses the other, and a section line without clock', () => {
    expect(() => parseNativeInventory(capture.answers[0]!)).toThrow(InventoryFormatError);
    const bad = capture.answers[1]!.replace(/^N 0 (\d+) \d+ \+ still$/m, 'N 0 $1');
    expect(() => parse(bad)).toThrow(/bad section line/);
    expect(() => parse(capture.answers[1]!.replace(/ still$/m, ' stale'))).toThrow(/bad section line/);
    expect(() => parse(capture.answers[0]!.replace(/^(N 0 \d+ \d+ -)$/m, '$1 still'))).toThrow(/bad section line/); // complete yet not dumped
  });
});
