import { describe, expect, it } from 'vitest';
import { numberedIn, snapshotDir, timestampedName } from '../../src/cli/snapshot-files.js';

describe('unnamed snapshot files', () => {
  it('are named by their time, numbered before the first dot when the name is taken', () => {
    const name = timestampedName('2026-12-02T19:37:52.510Z', 'json.gz');
    expect(name).toBe('ka-top-snapshot-2026-12-02T19-37-52-510Z.json.gz');
    const names = numberedIn('/var/tmp', name);
    expect([0, 1, 2].map(names)).toEqual([
      '/var/tmp/ka-top-snapshot-2026-12-02T19-37-52-510Z.json.gz',
      '/var/tmp/ka-top-snapshot-2026-12-02T19-37-52-510Z-2.json.gz',
      '/var/tmp/ka-top-snapshot-2026-12-02T19-37-52-510Z-3.json.gz',
    ]);
    expect(numberedIn('/dev/shm', 'capture.json')(1)).toBe('/dev/shm/capture-2.json');
  });

  it('go to $XDG_STATE_HOME/ka-top, else /var/tmp (never the working directory)', () => {
    expect(snapshotDir({ XDG_STATE_HOME: '/home/sre/.local/state' })).toBe('/home/sre/.local/state/ka-top');
    expect(snapshotDir({})).toBe('/var/tmp');
  });
});
