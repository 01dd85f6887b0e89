// Expected failures of a command: main prints their message as one line (no stack) and exits with their code.

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
