// The scenario lab has fixed namespace names: test files that bring it up take turns (vitest runs files in
// parallel). A directory is the lock; it names its holder's pid so a crashed holder's lock is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const LOCK = '/tmp/ka-top-lab-test.lock';

function holderAlive(): boolean {
  try {
    process.kill(Number(readFileSync(`${LOCK}/pid`, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

export async function acquireLabLock(timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(`${LOCK}/pid`, String(process.pid));
      return;
    } catch {
      // a holder that has not written its pid yet is alive: only a lock with a dead pid is stale
      let stale = false;
      try {
        stale = !holderAlive() && readFileSync(`${LOCK}/pid`, 'utf8') !== '';
      } catch {
        stale = false;
      }
      if (stale) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`the lab is held by another test file (${LOCK})`);
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export function releaseLabLock(): void {
  rmSync(LOCK, { recursive: true, force: true });
}
