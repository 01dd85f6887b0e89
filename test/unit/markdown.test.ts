import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { renderMarkdown } from '../../src/output/markdown.js';

const lab = JSON.parse(readFileSync(new URL('../fixtures/capture/lab-capture-12s.json', import.meta.url), 'utf8')) as SnapshotDocument;

describe('the Markdown report of a real lab capture', () => {
  it('lists resets by cause, sent ones apart from received ones (the cause inferred for their sender)', () => {
    const md = renderMarkdown(lab);
    const table = md.slice(md.indexOf('### By cause'), md.indexOf('### By process'));
    const rows = table.split('\n').filter((l) => /^\| (sent|received) \|/.test(l)).map((l) => l.split('|').slice(1, 3).map((x) => x.trim()));
    expect(table).toContain('| direction | cause | count | per second |');
    expect(rows).toContainEqual(['sent', 'linger']);
    expect(rows).toContainEqual(['received', 'linger']);
    const directions = rows.map(([d]) => d);
    expect(directions).toEqual([...directions].sort((a, b) => (a === b ? 0 : a === 'sent' ? -1 : 1)));
    expect(table).not.toContain('received: ');
  });

  it('has no table of how connections ended when the document has no such counts (taken before they were kept)', () => {
    expect(lab.capture!.counts!.closesByNetns).toBeUndefined();
    expect(renderMarkdown(lab)).not.toContain('## How connections ended');
  });
});
