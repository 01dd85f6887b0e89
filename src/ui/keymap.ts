// Keypress -> action, per screen mode (htop/btop conventions). Pure: the App only executes actions.

/** The key facts the map reads (a subset of ink's `Key`). */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  backspace?: boolean;
  delete?: boolean;
  tab?: boolean;
  meta?: boolean;
}

/** `table` = connection list; `filter` = typing after `/`. */
export type Mode = 'table' | 'filter' | 'detail' | 'resets' | 'help';

export type Move = 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end';

export type Action =
  | { type: 'move'; move: Move }
  | { type: 'filterStart' }
  | { type: 'filterInput'; text: string }
  | { type: 'filterBackspace' }
  | { type: 'filterAccept' }
  | { type: 'filterClear' }
  | { type: 'sortNext' }
  | { type: 'sortPrev' }
  | { type: 'invert' }
  | { type: 'detail' }
  | { type: 'resets' }
  | { type: 'help' }
  | { type: 'back' }
  | { type: 'pause' }
  | { type: 'snapshot' }
  | { type: 'quit' };

/** Every key, for the help screen (the single list both help and tests read). */
export const KEY_HELP: ReadonlyArray<readonly [keys: string, what: string]> = [
  ['↑/↓  k/j', 'move the selection'],
  ['PgUp/PgDn', 'move one page'],
  ['Home/End  g/G', 'first / last row'],
  ['/', 'filter by text (address, port, process, container, state); Enter keeps it'],
  ['Esc', 'clear the filter; leave detail, resets or help'],
  ['< > s', 'sort by the previous / next column'],
  ['I', 'invert the sort order'],
  ['Enter', 'detail of the selected connection, with its event timeline'],
  ['r', 'resets view: by cause, process and peer, with rates'],
  ['Space  p', 'pause / resume updates'],
  ['e', 'write a snapshot (JSON) of the rows on screen to a file'],
  ['?', 'this help (Esc or Enter to leave)'],
  ['q  Ctrl-C', 'quit'],
];

function moveFor(input: string, key: KeyInfo): Move | null {
  if (key.upArrow || input === 'k') return 'up';
  if (key.downArrow || input === 'j') return 'down';
  if (key.pageUp) return 'pageUp';
  if (key.pageDown) return 'pageDown';
  if (key.home || input === 'g') return 'home';
  if (key.end || input === 'G') return 'end';
  return null;
}

export function keyToAction(mode: Mode, input: string, key: KeyInfo): Action | null {
  if (key.ctrl && input === 'c') return { type: 'quit' };

  if (mode === 'filter') {
    if (key.escape) return { type: 'filterClear' };
    if (key.return) return { type: 'filterAccept' };
    if (key.backspace || key.delete) return { type: 'filterBackspace' };
    if (key.upArrow || key.downArrow || key.pageUp || key.pageDown) return { type: 'move', move: moveFor('', key)! };
    // Printable text only (a paste arrives as one string).
    if (input && !key.ctrl && !key.meta && !key.tab && !/[\x00-\x1f\x7f]/.test(input)) return { type: 'filterInput', text: input };
    return null;
  }

  if (input === 'q') return { type: 'quit' };
  if (input === '?') return { type: 'help' };
  if (input === ' ' || input === 'p') return { type: 'pause' };
  if (input === 'e') return { type: 'snapshot' };

  if (mode === 'help') return key.escape || key.return ? { type: 'back' } : null;

  if (mode === 'detail' || mode === 'resets') {
    if (key.escape || (mode === 'resets' && input === 'r')) return { type: 'back' };
    const move = moveFor(input, key);
    return move ? { type: 'move', move } : null;
  }

  // table
  const move = moveFor(input, key);
  if (move) return { type: 'move', move };
  if (key.return) return { type: 'detail' };
  if (key.escape) return { type: 'filterClear' };
  if (input === '/') return { type: 'filterStart' };
  if (input === '>' || input === '.' || input === 's' || key.rightArrow) return { type: 'sortNext' };
  if (input === '<' || input === ',' || key.leftArrow) return { type: 'sortPrev' };
  if (input === 'I') return { type: 'invert' };
  if (input === 'r') return { type: 'resets' };
  return null;
}

/**
 * All actions of one input chunk. Typed text followed by Enter can arrive as one chunk (a paste, a busy machine):
 * in filter mode that is the text, then accept.
 */
export function keyToActions(mode: Mode, input: string, key: KeyInfo): Action[] {
  const nl = input.search(/[\r\n]/);
  if (mode === 'filter' && input.length > 1 && nl >= 0 && !key.ctrl && !key.meta) {
    const text = input.slice(0, nl).replace(/[\x00-\x1f\x7f]/g, '');
    return [...(text ? [{ type: 'filterInput', text } as const] : []), { type: 'filterAccept' }];
  }
  const a = keyToAction(mode, input, key);
  return a ? [a] : [];
}
