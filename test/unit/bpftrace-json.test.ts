import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/domain/lines.js';
import { decodeHexBuf, isBenignStderr, parseBpftraceLine } from '../../src/parse/bpftrace-json.js';
import { fixture } from '../helpers/tracing-host-fixture.js';

describe('bpftrace -f json', () => {
  it('splits partial chunks into lines and returns the unterminated tail at end', () => {
    const s = new LineSplitter();
    expect(s.push('{"type": "printf", "da')).toEqual([]);
    expect(s.push('ta": "KA ready\\n"}\n\n\n{"type": "map"')).toEqual(['{"type": "printf", "data": "KA ready\\n"}', '', '']);
    expect(s.push(', "data": {"@x": 1}}')).toEqual([]);
    expect(s.end()).toEqual(['{"type": "map", "data": {"@x": 1}}']);
    expect(s.end()).toEqual([]);
  });
  it('parses every record kind of a real 0.17 run, skipping the blank lines before the exit dump', () => {
    const recs = fixture('bpftrace-0.17-run.ndjson').split('\n').map(parseBpftraceLine);
    expect(recs.filter((r) => r === null).length).toBeGreaterThanOrEqual(2);
    expect(recs[0]).toEqual({ type: 'attached_probes', probes: 9 });
    const maps = recs.filter((r) => r?.type === 'map');
    // host-wide maps: the capture's namespace exactly (another workload's may be there too)
    expect(maps).toContainEqual({ type: 'map', name: '@rst_sent', data: expect.objectContaining({ '4026531833,1,0,0,0,0': 2, '4026531833,14,0,1,1,7': 1 }) });
    expect(maps).toContainEqual({ type: 'map', name: '@rst_received', data: expect.objectContaining({ 4026531833: 3 }) });
    // ka-top's records come out decoded, by the field table
    expect(recs[1]).toEqual({ type: 'ka', rec: { kind: 'ready' } });
    expect(recs).toContainEqual({ type: 'ka', rec: { kind: 'sockopt', pid: 12454, fd: 3, level: 1, optname: 13, comm: 'ka-peer' } });
    expect(recs.filter((r) => r?.type === 'ka').length).toBe(recs.filter((r, i) => r && fixture('bpftrace-0.17-run.ndjson').split('\n')[i]!.includes('"printf"')).length);
  });
  it('parses lost_events and tolerates garbage', () => {
    expect(parseBpftraceLine('{"type": "lost_events", "data": {"events": 12}}')).toEqual({ type: 'lost_events', events: 12 });
    expect(parseBpftraceLine('{"type": "printf", "data": "KA re')).toBeNull();
    expect(parseBpftraceLine('{"type": "printf", "data": "not ours\\n"}')).toBeNull();
    expect(parseBpftraceLine('Attaching 9 probes...')).toBeNull();
    expect(parseBpftraceLine('')).toBeNull();
  });
  it('treats the RLIMIT_MEMLOCK error and warnings on stderr as benign, real errors not', () => {
    for (const l of fixture('bpftrace-0.17-run.stderr.txt').split('\n')) expect(isBenignStderr(l), l).toBe(true);
    expect(isBenignStderr('ERROR: Could not resolve symbol: /proc/self/exe:BEGIN_trigger')).toBe(false);
    expect(isBenignStderr("stdin:1:1-10: ERROR: tracepoint not found: tcp:nope")).toBe(false);
  });
  it('decodes %rx buffers', () => {
    expect([...decodeHexBuf('\\x02\\x00\\x8b\\x80')]).toEqual([2, 0, 0x8b, 0x80]);
  });
});
