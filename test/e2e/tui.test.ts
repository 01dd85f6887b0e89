// The TUI in a real pty (120x40) against a real ka-peer pair: the row with the socket's keepalive options,
// filter, sort, detail, pause, quit, and no helper process left behind.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pty from 'node-pty';
import { startPeer, stopAllPeers } from '../helpers/peer.js';

const MAIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[=>78]/g, '');

interface Term {
  p: pty.IPty;
  /** Resolves when text matching `re` appears in output received after `mark()`. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<string>;
  mark: () => void;
  exited: Promise<number>;
}

let term: Term | null = null;

function spawnTui(args: string[] = []): Term {
  const p = pty.spawn(process.execPath, [MAIN, ...args], {
    cols: 120, rows: 40, cwd: process.cwd(), env: { ...process.env, CI: 'false' } as Record<string, string>,
  });
  let out = '';
  let from = 0;
  let exitCode: number | undefined;
  const wakers = new Set<() => void>();
  p.onData((d) => {
    out += d;
    for (const w of [...wakers]) w();
  });
  const exited = new Promise<number>((resolve) => p.onExit((e) => {
    exitCode = e.exitCode;
    resolve(e.exitCode);
    for (const w of [...wakers]) w();
  }));
  const waitFor = (re: RegExp, timeoutMs = 20_000) => new Promise<string>((resolve, reject) => {
    const check = () => {
      const text = strip(out.slice(from));
      const m = text.match(re);
      if (m) {
        done();
        resolve(m[0]);
      } else if (exitCode !== undefined) {
        done();
        reject(new Error(`TUI exited (${exitCode}) before ${re}; screen:\n${text.slice(-3000)}`));
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timeout waiting for ${re}; output since mark:\n${strip(out.slice(from)).slice(-3000)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      wakers.delete(check);
    };
    wakers.add(check);
    check();
  });
  return { p, waitFor, mark: () => (from = out.length), exited };
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

let lport = 0;
let sport = 0;

beforeAll(async () => {
  expect(existsSync(MAIN), 'run make build first').toBe(true);
  const server = await startPeer(['server', '--listen', '127.0.0.1:0', '--mode', 'hold']);
  sport = Number((await server.waitFor(/^LISTEN \S+ (\d+) /))[1]);
  const client = await startPeer(['client', '--connect', `127.0.0.1:${sport}`, '--keepidle', '37', '--keepintvl', '7',
    '--keepcnt', '4', '--mode', 'hold']);
  lport = Number((await client.waitFor(/^CONN \S+ (\d+) /))[1]);
});

afterEach(() => {
  if (term) {
    try {
      term.p.kill('SIGKILL');
    } catch {
      // already gone
    }
    term = null;
  }
});

afterAll(stopAllPeers);

describe('ka-top TUI in a pty', () => {
  it('shows the connection, filters, sorts, opens detail, pauses and quits cleanly', async () => {
    const t = (term = spawnTui());
    await t.waitFor(/ka-top \d+\.\d+\.\d+ ·/);
    // The row of the client socket with its per-socket keepalive options.
    const row = await t.waitFor(new RegExp(`ESTAB +127\\.0\\.0\\.1:${lport} +127\\.0\\.0\\.1:${sport} +\\d+/ka-peer +37s\\*/7s\\*/4\\*[^\\n]*`));
    expect(row).toMatch(/ 0\/4 /);
    await t.waitFor(/sysctl: keepalive time \d+s/);

    t.mark();
    t.p.write('/');
    await t.waitFor(/Enter keep · Esc clear/);
    t.p.write(`:${lport} 127.0.0.1:${sport}`);
    await t.waitFor(new RegExp(`/:${lport} 127\\.0\\.0\\.1:${sport}▏`));
    t.p.write('\r');
    await t.waitFor(new RegExp(`1/1 · filter ":${lport} 127\\.0\\.0\\.1:${sport}"`));

    t.mark();
    t.p.write('>');
    await t.waitFor(/LOCAL▼/);
    t.mark();
    t.p.write('I');
    await t.waitFor(/LOCAL▲/);

    t.mark();
    t.p.write('\r');
    await t.waitFor(/idle \(TCP_KEEPIDLE\) +37s  set on the socket/);
    await t.waitFor(/probes \(TCP_KEEPCNT\) +4  set on the socket/);
    await t.waitFor(new RegExp(`peer +127\\.0\\.0\\.1:${sport}`));
    t.mark();
    t.p.write('\x1b');
    await t.waitFor(/KEEPALIVE/);

    t.mark();
    t.p.write('p');
    await t.waitFor(/PAUSED/);

    const helpers = childrenOf(t.p.pid);
    expect(helpers.length).toBeGreaterThan(0); // ka-sockinfo serve
    t.p.write('q');
    expect(await t.exited).toBe(0);
    for (const pid of helpers) expect(existsSync(`/proc/${pid}`), `helper ${pid} still running`).toBe(false);
  });

  it('help lists the keys; Ctrl-C quits', async () => {
    const t = (term = spawnTui(['--interval', '1']));
    await t.waitFor(/ka-top \d+\.\d+\.\d+ ·/);
    t.p.write('?');
    await t.waitFor(/write a snapshot \(JSON\)/);
    t.p.write('\x03');
    expect(await t.exited).toBe(0);
  });
});
