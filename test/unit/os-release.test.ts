import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOsRelease } from '../../src/parse/os-release.js';

describe('parseOsRelease', () => {
  it('names the host as its os-release does (this machine\'s file)', () => {
    const text = readFileSync('/etc/os-release', 'utf8');
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? null;
    expect(parseOsRelease(text)).toBe(pretty);
  });
  it('falls back to NAME VERSION_ID (VERSION_CODENAME), with quotes and escapes undone', () => {
    expect(parseOsRelease('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')).toBe('Debian GNU/Linux 12 (bookworm)');
    expect(parseOsRelease("NAME='Alpine Linux'\nVERSION_ID=3.20.1\n")).toBe('Alpine Linux 3.20.1');
    expect(parseOsRelease('PRETTY_NAME="Say \\"hi\\" \\$HOME"\n')).toBe('Say "hi" $HOME');
    expect(parseOsRelease('# nothing here\n\n')).toBeNull();
  });
});
