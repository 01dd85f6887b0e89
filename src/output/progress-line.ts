// A one-line countdown on a terminal's stderr while a capture runs; nothing when stderr is not a terminal.

export interface ProgressLine {
  update(remainingMs: number, events: number): void;
  /** Erases the line (before any other message, and at the end). */
  clear(): void;
}

export function progressLine(out: NodeJS.WriteStream): ProgressLine {
  if (!out.isTTY) return { update: () => {}, clear: () => {} };
  let shown = false;
  return {
    update: (ms, n) => {
      shown = true;
      out.write(`\rka-top: capturing, ${Math.ceil(ms / 1000)}s left, ${n} events (Ctrl-C ends early)\x1b[K`);
    },
    clear: () => {
      if (shown) out.write('\r\x1b[K');
      shown = false;
    },
  };
}
