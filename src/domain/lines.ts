// Splits a text stream (a child's stdout) into complete lines, whatever the chunk boundaries.

export class LineSplitter {
  private tail = '';

  /** The complete lines of this chunk; an unfinished last line waits for the next chunk. */
  push(chunk: string): string[] {
    const text = this.tail + chunk;
    const lines = text.split('\n');
    this.tail = lines.pop()!;
    return lines;
  }

  /** The unterminated last line at end of stream (bpftrace's final map often has no newline). */
  end(): string[] {
    const t = this.tail;
    this.tail = '';
    return t.trim() ? [t] : [];
  }
}
