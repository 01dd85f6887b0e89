// Every way ka-top watch can end leaves no bpftrace behind: normal end, SIGINT, SIGTERM, SIGHUP, a crash, and
// SIGKILL of ka-top itself (bpftrace runs under PR_SET_PDEATHSIG via setpriv); and a broken install (no bpf/) says
// so in one line and leaves no helper either.
import { closeSync, cpSync, mkdtempSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packagePath, run, start } from '../../src/sources/exec.js';
import { CLI, runCli } from '../helpers/cli.js';
import { withFullDisk } from '../helpers/full-disk.js';
import { alive, startWatch } from '../helpers/watch.js';

async function gone(pid: number, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function bpftracePids(): Promise<number[]> {
  const r = await run('pgrep', ['-x', 'bpftrace']);
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

async function expectNoTracer(pid: number): Promise<void> {
  expect(await gone(pid)).toBe(true);
  expect(await bpftracePids()).not.toContain(pid);
}

// Nothing to print: one event type on a port nothing uses (a --netns that names no namespace is an error now).
const QUIET = ['--json', '--events', 'keepalive_timeout', '--port', '1'];

describe('ka-top watch exit paths', () => {
  it('normal end (--duration): exit 0, tracer gone', async () => {
    const w = await startWatch([...QUIET, '--duration', '1']);
    expect(alive(w.tracerPid)).toBe(true);
    expect((await w.exited).code).toBe(0);
    await expectNoTracer(w.tracerPid);
  }, 30_000);

  for (const [sig, code] of [['SIGINT', 0], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    it(`${sig}: exit ${code}, tracer gone`, async () => {
      const w = await startWatch(QUIET);
      w.child.kill(sig);
      expect((await w.exited).code).toBe(code);
      await expectNoTracer(w.tracerPid);
    }, 30_000);
  }

  it('uncaught exception: exit 1, tracer gone', async () => {
    const w = await startWatch(QUIET, {}, ['--import', new URL('../helpers/crash-after-ready.mjs', import.meta.url).href]);
    expect((await w.exited).code).toBe(1);
    expect(w.stderr()).toMatch(/test crash/);
    await expectNoTracer(w.tracerPid);
  }, 30_000);

  it('SIGKILL of ka-top: the kernel kills bpftrace too', async () => {
    const w = await startWatch(QUIET);
    w.child.kill('SIGKILL');
    expect((await w.exited).signal).toBe('SIGKILL');
    await expectNoTracer(w.tracerPid);
  }, 30_000);

  it('SIGKILL of a process running a silent tracer: bpftrace dies with it (no SIGPIPE needed)', async () => {
    // A program that never writes after BEGIN: without PR_SET_PDEATHSIG it would outlive its parent forever.
    const script = [
      `import { Tracer } from ${JSON.stringify(packagePath('dist/sources/tracer.js'))};`,
      `const t = new Tracer({ bpftrace: 'bpftrace', program: 'BEGIN { printf("KA ready\\\\n"); }', onRecord: () => {} });`,
      'await t.start();',
      'console.log(`tracer ${t.pid}`);',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const child = start(process.execPath, ['--input-type=module', '-e', script]);
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        const m = /tracer (\d+)/.exec(b.toString());
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', () => reject(new Error('child exited early')));
    });
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await gone(pid, 3000)).toBe(true);
  }, 30_000);

  it('a broken install (its bpf/ folder missing) cannot trace, as a host without bpftrace: one line naming the folder; watch and doctor --bpf exit 1, the exporter and a capture go on without events; no helper left', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kat-nobpf-'));
    try {
      cpSync(packagePath('dist'), join(root, 'dist'), { recursive: true });
      cpSync(packagePath('package.json'), join(root, 'package.json'));
      symlinkSync(packagePath('node_modules'), join(root, 'node_modules'));
      const main = join(root, 'dist/cli/main.js');
      const why = `the probe programs cannot be read: ${join(root, 'bpf')} (ENOENT); reinstall ka-top`;
      const leftOf = async (what: string) => expect((await run('pgrep', ['-f', root])).stdout, what).toBe('');

      const watch = await run(process.execPath, [main, 'watch', '--json'], { timeoutMs: 20_000 });
      expect(watch.code).toBe(1);
      expect(watch.stderr.trim().split('\n')).toEqual([`ka-top: cannot trace: ${why}`]);
      await leftOf('watch');
      const bpf = await run(process.execPath, [main, 'doctor', '--bpf'], { timeoutMs: 20_000 });
      expect(bpf.code).toBe(1);
      expect(bpf.stderr.trim().split('\n')).toEqual([`ka-top: ${why}`]);

      const capture = await run(process.execPath, [main, 'snapshot', '--capture', '1s', '--format', 'json'], { timeoutMs: 30_000 });
      expect(capture.code).toBe(0);
      expect((JSON.parse(capture.stdout) as { capture: { tracing: unknown } }).capture.tracing).toEqual({ on: false, reason: why, missing: [] });
      await leftOf('snapshot --capture');

      const exporter = start(process.execPath, [main, 'exporter', '--listen', '127.0.0.1:0']);
      let stderr = '';
      exporter.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((r) => exporter.once('exit', (code) => r(code)));
      const end = Date.now() + 20_000;
      while (!stderr.includes('serving inventory metrics only') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toContain(`ka-top: cannot trace (${why}); serving inventory metrics only`);
      const url = /exporter on (http:\S+)/.exec(stderr)![1]!;
      expect(await (await fetch(url)).text()).toMatch(/^katop_tracer_up 0$/m);
      exporter.kill('SIGTERM');
      expect(await exited).toBe(143); // stopped by the signal, as any run of it
      await leftOf('exporter');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 90_000);

  it('standard output on a full disk (`> file`): one line on stderr, exit 1, tracer gone', async () => {
    await withFullDisk(0, async (dir) => {
      const fd = openSync(join(dir, 'events.ndjson'), 'w');
      // The counts record at the end is written whatever the filter printed before it.
      const child = start(process.execPath, [CLI, 'watch', ...QUIET, '--duration', '2'], { stdio: ['ignore', fd, 'pipe'] });
      closeSync(fd);
      let stderr = '';
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const lines = stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^ka-top: watching \(bpftrace pid \d+/);
      expect(lines.slice(1)).toEqual(['ka-top: cannot write to standard output: no space left on the device']);
      expect(code).toBe(1);
      await expectNoTracer(Number(/bpftrace pid (\d+)/.exec(lines[0]!)![1]));
    });
  }, 30_000);

  it('without bpftrace: one line on stderr, exit 1', async () => {
    const r = await runCli(['watch'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['ka-top: cannot trace: bpftrace is not installed (Debian/Ubuntu: apt install bpftrace)']);
  });

  it('without root: one line on stderr, exit 1', async () => {
    const r = await runCli(['watch'], { asUser: 65534 });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['ka-top: cannot trace: tracing needs root']);
  });

  it('bad arguments: exit 2 with one line', async () => {
    for (const args of [['--fail-on', 'nope>1'], ['--events', 'bogus'], ['--duration', '-1'], ['--what']]) {
      const r = await runCli(['watch', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
