// `ka-top exporter` arguments (and the tracer's, shared with watch): the listen address forms, defaults, and one
// clear line for bad input.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, parseExporterArgs, parseListen } from '../../src/cli/exporter.js';
import { UsageError } from '../../src/cli/errors.js';
import { parseWatchArgs } from '../../src/cli/watch.js';

describe('exporter arguments', () => {
  it('listens on loopback at the default port unless told otherwise', () => {
    const a = parseExporterArgs([]);
    expect(a).toMatchObject({ host: '127.0.0.1', port: DEFAULT_PORT, processLabels: false, maxOwners: 100, eventsLog: null, intervalMs: 15_000 });
    expect(parseListen('0.0.0.0:9977')).toEqual({ host: '0.0.0.0', port: 9977 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('node-1.example:9977')).toEqual({ host: 'node-1.example', port: 9977 });
  });

  it('takes the opt-ins, the cap, the idle timeouts and the filters', () => {
    const a = parseExporterArgs(['--process-labels', '--max-owners', '7', '--idle-timeouts', 'lb=60', '--netns', 'x', '--events-log', '/tmp/e']);
    expect(a).toMatchObject({ processLabels: true, maxOwners: 7, idleTimeouts: [{ name: 'lb', seconds: 60 }], filter: { netns: ['x'] }, eventsLog: '/tmp/e' });
  });

  it('takes the tracer\'s events a second (--event-rate, shared with watch, top and snapshot --capture)', () => {
    expect(parseExporterArgs([])).toMatchObject({ eventRate: undefined }); // the program's default
    expect(parseExporterArgs(['--event-rate', '0'])).toMatchObject({ eventRate: 0 }); // no limit
    expect(parseWatchArgs(['--event-rate', '250'])).toMatchObject({ eventRate: 250 });
    // A --fail-on rate the tracer cannot hand over would never trip: refused, with the way out.
    expect(() => parseWatchArgs(['--fail-on', 'rst_sent>1000/s'])).toThrow("--fail-on 'rst_sent>1000/s' cannot be reached: the tracer hands over at most 1000 rst_sent events a second (raise --event-rate)");
    expect(parseWatchArgs(['--fail-on', 'rst_sent>1000/s', '--event-rate', '5000'])).toMatchObject({ failOn: [{ limit: 1000 }] });
    expect(parseWatchArgs(['--fail-on', 'rst_sent>1000/s', '--event-rate', '0'])).toMatchObject({ failOn: [{ limit: 1000 }] });
    expect(parseWatchArgs(['--fail-on', 'rst_sent>50000/min', '--fail-on', 'close>999999'])).toMatchObject({ failOn: [{ limit: 50000 }, { limit: 999999 }] });
    for (const bad of ['-5', '1.5', 'many', '2000000']) {
      expect(() => parseWatchArgs(['--event-rate', bad])).toThrow(/^invalid --event-rate '.*': expected events a second from 0 \(no limit\) to 1000000$/);
    }
  });

  it.each([['--listen', '9977'], ['--listen', '[::1]'], ['--listen', 'h:70000'], ['--max-owners', '0'], ['--interval', '1ms'], ['--bogus']])('rejects %s %s', (...argv) => {
    expect(() => parseExporterArgs(argv.filter(Boolean))).toThrow(UsageError);
  });
});
