// The interactive view on the terminal: the alternate screen, ink's render loop, and every exit path restoring
// the terminal. Shared by `top` and `view`.
import type { AppProps } from './App.js';

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/** Runs the App full screen (alternate screen) until the user quits; every exit path restores the terminal.
 *  `started` runs once the App is mounted. Shared by `top` and `view`. */
export async function showTui(props: AppProps, started: () => void = () => {}): Promise<void> {
  // Loaded here so `snapshot` and `watch` never pay for React.
  const [{ render }, { createElement }, { App }] = await Promise.all([import('ink'), import('react'), import('./App.js')]);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdout.write(SHOW_CURSOR + ALT_SCREEN_OFF);
  };
  process.stdout.write(ALT_SCREEN_ON);
  process.once('exit', restore);
  const app = render(createElement(App, props), { exitOnCtrlC: false, maxFps: 20, patchConsole: true });
  const stop = () => app.unmount();
  process.once('SIGTERM', stop);
  process.once('SIGHUP', stop);
  try {
    started();
    await app.waitUntilExit();
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGHUP', stop);
    restore();
  }
}
