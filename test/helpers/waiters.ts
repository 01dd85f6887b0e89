// Waiting on output of a child process: probes are re-checked whenever new output arrives (wake()).
export class Waiters {
  private readonly pending = new Set<() => void>();

  wake(): void {
    for (const w of [...this.pending]) w();
  }

  /**
   * Resolves with the first non-undefined result of `probe` (checked now and on every wake); rejects when the
   * probe throws, or with `timeoutMessage()` after `timeoutMs`.
   */
  until<T>(probe: () => T | undefined, timeoutMs: number, timeoutMessage: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(check);
      };
      const check = () => {
        let v: T | undefined;
        try {
          v = probe();
        } catch (e) {
          done();
          reject(e as Error);
          return;
        }
        if (v !== undefined) {
          done();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(timeoutMessage()));
      }, timeoutMs);
      this.pending.add(check);
      check();
    });
  }
}
