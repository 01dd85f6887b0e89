// doctor's checks of ka-top's own parts: what a broken part says and which fix it names.
import { describe, expect, it } from 'vitest';
import { checkHelpers, checkNode } from '../../src/model/self-check.js';

describe('checkNode', () => {
  it('passes from the minimum major up and fails below it with the fix', () => {
    expect(checkNode({ version: '20.20.2', execPath: '/usr/bin/node', minMajor: 20 })).toMatchObject({ ok: true, fix: null });
    expect(checkNode({ version: '24.11.1', execPath: '/opt/node/bin/node', minMajor: 20 }).detail).toBe('Node 24.11.1 at /opt/node/bin/node');
    const old = checkNode({ version: '18.19.1', execPath: '/usr/bin/node', minMajor: 20 });
    expect(old).toMatchObject({ ok: false, detail: 'Node 18.19.1 at /usr/bin/node: ka-top needs Node 20 or newer' });
    expect(old.fix).toMatch(/^install Node 20, 22 or 24/);
  });
});

describe('checkHelpers', () => {
  const runs = (name: string) => ({ name, path: `/p/dist/bin/x64/${name}`, runs: true as const });

  it('passes when every helper answers', () => {
    expect(checkHelpers('x64', true, [runs('ka-sockinfo'), runs('ka-peer')]))
      .toEqual({ label: 'native helpers', ok: true, detail: 'ka-sockinfo, ka-peer run (x64)', fix: null });
  });

  it('names what is lost and says to build them on an architecture the package has none for', () => {
    const why = (name: string) => `ka-top has no ${name} for linux-riscv64 (only x64, arm64)`;
    const c = checkHelpers('riscv64', false, ['ka-sockinfo', 'ka-peer'].map((name) => ({ name, path: null, runs: false as const, why: why(name) })));
    expect(c.ok).toBe(false);
    expect(c.detail).toBe(`${why('ka-sockinfo')} — without it: no socket owners or socket options, sockets come from ss alone; `
      + `${why('ka-peer')} — without it: no scenario lab (\`ka-top lab\`, \`--lab\`)`);
    expect(c.fix).toMatch(/^build them here: `make build` .* dist\/bin\/riscv64\//);
  });

  it('says to reinstall when a shipped helper is there but does not run', () => {
    const c = checkHelpers('x64', true, [
      { name: 'ka-sockinfo', path: '/p/dist/bin/x64/ka-sockinfo', runs: false, why: '/p/dist/bin/x64/ka-sockinfo does not run (EACCES)' },
      runs('ka-peer'),
    ]);
    expect(c).toMatchObject({ ok: false, detail: expect.stringMatching(/^\/p\/dist\/bin\/x64\/ka-sockinfo does not run \(EACCES\) — without it: no socket owners/) });
    expect(c.fix).toMatch(/^reinstall ka-top .*noexec/);
  });
});
