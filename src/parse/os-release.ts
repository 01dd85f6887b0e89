// os-release(5): newline-separated KEY=VALUE assignments, values optionally in single or double quotes with shell
// escapes (\" \\ \$ \`). The host's name for humans: PRETTY_NAME, else NAME VERSION_ID (VERSION_CODENAME).

export function parseOsRelease(text: string): string | null {
  const vars = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*?)\s*$/.exec(line);
    if (m) vars.set(m[1]!, unquote(m[2]!));
  }
  const pretty = vars.get('PRETTY_NAME');
  if (pretty) return pretty;
  const codename = vars.get('VERSION_CODENAME');
  const name = [vars.get('NAME'), vars.get('VERSION_ID'), codename && `(${codename})`].filter(Boolean).join(' ');
  return name || null;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\([\\"$`])/g, '$1');
  return v;
}
