// Version numbers of the kernel and of tools, and the one comparison everything uses.

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export function versionAtLeast(v: SemVer, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Kernel release `6.18.44-foo` -> 6.18.0 (0.0.0 when unreadable). */
export function kernelVersion(release: string): SemVer {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: 0 } : { major: 0, minor: 0, patch: 0 };
}
