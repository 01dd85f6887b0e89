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

/** `table` = connection list; `filter` = typing after `/`; `findings` = the findings panel (`f`). */
export type Mode = 'table' | 'filter' | 'detail' | 'resets' | 'help' | 'findings';

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
  | { type: 'findings' }
  | { type: 'findingApply' }
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
  ['Esc', 'clear the filter (text or finding); leave detail, resets, findings or help'],
  ['< > s', 'sort by the previous / next column'],
  ['I', 'invert the sort order'],
  ['Enter', 'detail of the selected connection, with its event timeline'],
  ['r', 'resets view: by cause, kernel reason, process and peer, with rates'],
  ['f', 'findings: what is wrong and how to fix it; Enter shows the finding\'s connections'],
  ['Space  p', 'pause / resume updates'],
  ['e', 'write a snapshot (JSON) of the rows on screen to a file (its path is shown)'],
  ['?', 'this help (↑/↓ PgUp/PgDn scroll; Esc or Enter to leave)'],
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

  if (mode === 'findings' && key.return) return { type: 'findingApply' };
  if (mode === 'help' && key.return) return { type: 'back' };

  if (mode !== 'table') {
    if (key.escape || (mode === 'resets' && input === 'r') || (mode === 'findings' && input === 'f')) return { type: 'back' };
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
  if (input === 'f') return { type: 'findings' };
  return null;
}

/** One key of an input chunk. */
export interface KeyPress {
  input: string;
  key: KeyInfo;
}

const NAMED: readonly (keyof KeyInfo)[] = [
  'upArrow', 'downArrow', 'leftArrow', 'rightArrow', 'pageUp', 'pageDown', 'home', 'end', 'return', 'escape', 'backspace', 'delete', 'tab',
];

/** One character typed as a key, as ink would report it had it arrived alone. */
function charKey(ch: string): KeyPress {
  if (ch === '\r' || ch === '\n') return { input: '', key: { return: true } };
  if (ch === '\x7f' || ch === '\b') return { input: '', key: { backspace: true } };
  if (ch === '\t') return { input: '', key: { tab: true } };
  if (ch === '\x1b') return { input: '', key: { escape: true } };
  const code = ch.codePointAt(0)!;
  if (code >= 1 && code <= 26) return { input: String.fromCharCode(code + 96), key: { ctrl: true } };
  return { input: ch, key: {} };
}

/**
 * The keys of one input chunk, in order. ink splits escape sequences (arrows, PgDn) but hands a run of plain
 * characters over as one string: `jjj` from key repeat, `/7004⏎` from a paste or `tmux send-keys`. Each
 * character is a key of its own, handled in the mode the previous one left.
 */
export function splitKeys(input: string, key: KeyInfo): KeyPress[] {
  if (key.ctrl || NAMED.some((k) => key[k])) return [{ input, key }];
  // ka-top binds no Alt keys: ESC then a character read together (a busy event loop, a fast typist) is Esc, then
  // that key, not Alt+key.
  if (key.meta && input) return [{ input: '', key: { escape: true } }, ...Array.from(input, charKey)];
  if (input.length <= 1) return [{ input, key }];
  return Array.from(input, charKey);
}
