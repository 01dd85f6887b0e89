import { describe, expect, it } from 'vitest';
import { KEY_HELP, keyToAction, keyToActions } from '../../src/ui/keymap.js';

describe('keymap', () => {
  it('moves with arrows, pages, home/end and vi keys', () => {
    expect(keyToAction('table', '', { downArrow: true })).toEqual({ type: 'move', move: 'down' });
    expect(keyToAction('table', 'k', {})).toEqual({ type: 'move', move: 'up' });
    expect(keyToAction('table', '', { pageDown: true })).toEqual({ type: 'move', move: 'pageDown' });
    expect(keyToAction('table', 'g', {})).toEqual({ type: 'move', move: 'home' });
    expect(keyToAction('table', 'G', {})).toEqual({ type: 'move', move: 'end' });
    expect(keyToAction('table', '', { end: true })).toEqual({ type: 'move', move: 'end' });
  });

  it('maps the table keys', () => {
    expect(keyToAction('table', '/', {})).toEqual({ type: 'filterStart' });
    expect(keyToAction('table', '>', {})).toEqual({ type: 'sortNext' });
    expect(keyToAction('table', 's', {})).toEqual({ type: 'sortNext' });
    expect(keyToAction('table', '<', {})).toEqual({ type: 'sortPrev' });
    expect(keyToAction('table', 'I', {})).toEqual({ type: 'invert' });
    expect(keyToAction('table', '', { return: true })).toEqual({ type: 'detail' });
    expect(keyToAction('table', 'r', {})).toEqual({ type: 'resets' });
    expect(keyToAction('table', ' ', {})).toEqual({ type: 'pause' });
    expect(keyToAction('table', 'p', {})).toEqual({ type: 'pause' });
    expect(keyToAction('table', 'e', {})).toEqual({ type: 'snapshot' });
    expect(keyToAction('table', '?', {})).toEqual({ type: 'help' });
    expect(keyToAction('table', '', { escape: true })).toEqual({ type: 'filterClear' });
    expect(keyToAction('table', 'x', {})).toBeNull();
  });

  it('quits with q and Ctrl-C everywhere, but q is text while filtering', () => {
    for (const m of ['table', 'detail', 'resets', 'help'] as const) expect(keyToAction(m, 'q', {})).toEqual({ type: 'quit' });
    expect(keyToAction('filter', 'c', { ctrl: true })).toEqual({ type: 'quit' });
    expect(keyToAction('filter', 'q', {})).toEqual({ type: 'filterInput', text: 'q' });
  });

  it('edits the filter text', () => {
    expect(keyToAction('filter', '37019', {})).toEqual({ type: 'filterInput', text: '37019' });
    expect(keyToAction('filter', '', { backspace: true })).toEqual({ type: 'filterBackspace' });
    expect(keyToAction('filter', '', { return: true })).toEqual({ type: 'filterAccept' });
    expect(keyToAction('filter', '', { escape: true })).toEqual({ type: 'filterClear' });
    expect(keyToAction('filter', '\t', { tab: true })).toBeNull();
  });

  it('text and Enter in one chunk (paste, busy machine) filter then accept', () => {
    expect(keyToActions('filter', ':8080 \r', {})).toEqual([{ type: 'filterInput', text: ':8080 ' }, { type: 'filterAccept' }]);
    expect(keyToActions('filter', '\r', { return: true })).toEqual([{ type: 'filterAccept' }]);
    expect(keyToActions('table', 'j', {})).toEqual([{ type: 'move', move: 'down' }]);
    expect(keyToActions('table', 'x', {})).toEqual([]);
  });

  it('leaves detail, resets and help with Esc', () => {
    expect(keyToAction('detail', '', { escape: true })).toEqual({ type: 'back' });
    expect(keyToAction('resets', 'r', {})).toEqual({ type: 'back' });
    expect(keyToAction('help', '', { escape: true })).toEqual({ type: 'back' });
    expect(keyToAction('detail', 'j', {})).toEqual({ type: 'move', move: 'down' });
  });

  it('help lists every key the table reacts to', () => {
    const text = KEY_HELP.map(([k]) => k).join(' ');
    for (const k of ['/', 'Esc', '<', '>', 's', 'I', 'Enter', 'r', 'Space', 'p', 'e', '?', 'q', 'Ctrl-C', 'PgUp', 'Home', 'g/G', 'k/j']) {
      expect(text).toContain(k);
    }
  });
});
