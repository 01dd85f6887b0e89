// The one duration syntax of every option: `250ms`, `10s`, `2m`, `1h` (also `sec`, `min`), or a plain number
// in the option's default unit.

export const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000,
};

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string, defaultUnit: 'ms' | 's' = 's'): number | null {
  const m = /^(\d+(?:\.\d+)?)([a-z]+)?$/.exec(text.trim());
  const unit = DURATION_UNITS_MS[m?.[2] ?? defaultUnit];
  return m && unit !== undefined ? Number(m[1]) * unit : null;
}
