import { describe, expect, it } from 'vitest';
import { KEY_HELP, keyToAction, splitKeys, type Action, type KeyInfo, type Mode } from '../../src/ui/keymap.js';

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

  it('leaves detail, resets and help with Esc', () => {
    expect(keyToAction('detail', '', { escape: true })).toEqual({ type: 'back' });
    expect(keyToAction('resets', 'r', {})).toEqual({ type: 'back' });
    expect(keyToAction('help', '', { escape: true })).toEqual({ type: 'back' });
    expect(keyToAction('detail', 'j', {})).toEqual({ type: 'move', move: 'down' });
  });

  it('help lists every key the table reacts to', () => {
    const text = KEY_HELP.map(([k]) => k).join(' ');
    for (const k of ['/', 'Esc', '<', '>', 's', 'I', 'Enter', 'r', 'f', 'Space', 'p', 'e', '?', 'q', 'Ctrl-C', 'PgUp', 'Home', 'g/G', 'k/j']) {
      expect(text).toContain(k);
    }
  });
});

/** The actions of one chunk as the App runs them: key by key, each in the mode the previous action left. */
function chunk(mode: Mode, input: string, key: KeyInfo = {}): Action[] {
  const out: Action[] = [];
  let m = mode;
  for (const k of splitKeys(input, key)) {
    const a = keyToAction(m, k.input, k.key);
    if (!a) continue;
    out.push(a);
    if (a.type === 'filterStart') m = 'filter';
    if (a.type === 'filterAccept' || a.type === 'filterClear') m = 'table';
  }
  return out;
}

describe('keys arriving in one chunk', () => {
  it('splits a run of characters into keys, leaves escape sequences and single keys alone', () => {
    expect(splitKeys('jjj', {})).toEqual([{ input: 'j', key: {} }, { input: 'j', key: {} }, { input: 'j', key: {} }]);
    expect(splitKeys('j', {})).toEqual([{ input: 'j', key: {} }]);
    expect(splitKeys('', { downArrow: true })).toEqual([{ input: '', key: { downArrow: true } }]);
    expect(splitKeys('a\r\x7f\t\x03', {})).toEqual([
      { input: 'a', key: {} }, { input: '', key: { return: true } }, { input: '', key: { backspace: true } },
      { input: '', key: { tab: true } }, { input: 'c', key: { ctrl: true } },
    ]);
    // ESC read together with the next key (ink reports Alt+key): Esc, then the key
    expect(splitKeys('k', { meta: true })).toEqual([{ input: '', key: { escape: true } }, { input: 'k', key: {} }]);
    expect(splitKeys('', { escape: true, meta: true })).toEqual([{ input: '', key: { escape: true, meta: true } }]);
    // a character outside the BMP is one key
    expect(splitKeys('é😀', {})).toHaveLength(2);
  });

  it('jjj moves three rows; /7004 filters; text and Enter filter then accept', () => {
    expect(chunk('table', 'jjj')).toEqual(Array(3).fill({ type: 'move', move: 'down' }));
    expect(chunk('table', '/7004')).toEqual([
      { type: 'filterStart' }, ...'7004'.split('').map((text) => ({ type: 'filterInput', text })),
    ]);
    expect(chunk('table', '/7004\rj')).toEqual([
      { type: 'filterStart' }, ...'7004'.split('').map((text) => ({ type: 'filterInput', text })), { type: 'filterAccept' },
      { type: 'move', move: 'down' },
    ]);
    expect(chunk('filter', ':8080 \r')).toEqual([...':8080 '.split('').map((text) => ({ type: 'filterInput', text })), { type: 'filterAccept' }]);
    expect(chunk('filter', 'ab\x7f')).toEqual([{ type: 'filterInput', text: 'a' }, { type: 'filterInput', text: 'b' }, { type: 'filterBackspace' }]);
    expect(chunk('filter', '\r', { return: true })).toEqual([{ type: 'filterAccept' }]);
    expect(chunk('table', 'x')).toEqual([]);
  });

  it('f opens the findings; Enter there filters to the finding, f or Esc goes back', () => {
    expect(keyToAction('table', 'f', {})).toEqual({ type: 'findings' });
    expect(keyToAction('findings', '', { return: true })).toEqual({ type: 'findingApply' });
    expect(keyToAction('findings', 'j', {})).toEqual({ type: 'move', move: 'down' });
    expect(keyToAction('findings', 'f', {})).toEqual({ type: 'back' });
    expect(keyToAction('help', 'j', {})).toEqual({ type: 'move', move: 'down' });
    expect(keyToAction('help', '', { pageDown: true })).toEqual({ type: 'move', move: 'pageDown' });
  });
});
