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

  /** The unterminated last line at end of stream (bpftrace's final map often has no newline); one of only spaces,
   *  tabs or a carriage return is no line. Other whitespace (\v, NBSP, a BOM) is content: a parser reports it like
   *  any line it cannot read (found by the ss property test). */
  end(): string[] {
    const t = this.tail;
    this.tail = '';
    return /^[ \t\r]*$/.test(t) ? [] : [t];
  }
}
