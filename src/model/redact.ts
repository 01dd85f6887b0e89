// --redact: a snapshot that can be handed around. Command lines keep only the program name (argv[0] basename),
// and anything that looks like a secret is masked in every string of the document.

export const REDACTED = '[REDACTED]';

const SECRET_WORDS = 'password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|private[_-]?key|auth|authorization|credentials?|session[_-]?id|client[_-]?secret';

const PATTERNS: readonly [RegExp, string][] = [
  // scheme://user:pass@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Authorization: Bearer X
  [/\b(bearer|basic)\s+[a-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // --token X, --password=X, -p X is too ambiguous to guess
  [new RegExp(`(--?(?:[a-z0-9]+[_-])*(?:${SECRET_WORDS})(?:[_-][a-z0-9]+)*)(=|\\s+)(?!--)\\S+`, 'gi'), `$1$2${REDACTED}`],
  // password=X, TOKEN: X, "api_key":"X"
  [new RegExp(`\\b((?:[a-z0-9]+[_-])*(?:${SECRET_WORDS})(?:[_-][a-z0-9]+)*)(["']?\\s*[=:]\\s*["']?)[^\\s"',;&]+`, 'gi'), `$1$2${REDACTED}`],
  // long hex or base64-like keys
  [/\b[0-9a-f]{32,}\b/gi, REDACTED],
  [/(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/_-]*[0-9])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*[a-z])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])/g, REDACTED],
];

/** Masks secret-looking parts of one string. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, by] of PATTERNS) out = out.replace(re, by);
  return out;
}

/** A command line reduced to its program's base name. */
export function redactCmdline(cmdline: string): string {
  const argv0 = cmdline.trim().split(/\s+/)[0] ?? '';
  return redactSecrets(argv0.slice(argv0.lastIndexOf('/') + 1));
}

/** Keys whose values are kernel identifiers (cookies, addresses, ids, cgroup paths with container ids): long hex
 *  there is not a secret, and masking it would break the links between events and connections. */
const IDENTIFIER_KEYS = new Set(['id', 'connection', 'connections', 'cookie', 'sk', 'cgroup', 'schema', 'probesBySocket']);

/** A deep copy of `doc` with command lines cut to argv[0] and secrets masked in every string. */
export function redactDocument<T>(doc: T): T {
  const walk = (v: unknown, key: string | null): unknown => {
    if (typeof v === 'string') {
      if (key === 'cmdline' || key === 'exe') return redactCmdline(v); // a program path can name a home dir
      return key !== null && IDENTIFIER_KEYS.has(key) ? v : redactSecrets(v);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      return out;
    }
    return v;
  };
  return walk(doc, null) as T;
}
