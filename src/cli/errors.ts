// Expected failures of a command: main prints their message as one line (no stack) and exits with their code.
import { dirname } from 'node:path';

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Bad arguments: exit code 2, and a pointer to the command's --help. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** What a failed write means to the person who asked for it; `path` is the file, or null for standard output. */
export function writeErrorText(e: NodeJS.ErrnoException, path: string | null): string {
  const dir = path === null ? null : dirname(path);
  switch (e.code) {
    case 'ENOSPC': return path === null ? 'no space left on the device' : 'no space left on the device (nothing was written there)';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EFBIG': return 'file too large';
    case 'EROFS': return 'read-only file system';
    case 'EIO': return 'input/output error';
  }
  if (dir !== null) {
    switch (e.code) {
      case 'ENOENT': return `the directory ${dir} does not exist`;
      case 'ENOTDIR': return `a part of ${dir} is not a directory`;
      case 'EACCES': case 'EPERM': return `permission denied in ${dir}`;
      case 'EISDIR': return 'it is a directory';
    }
  }
  return e.code ?? e.message;
}
