/** An error meant for the user: the command prints its message alone, with no stack trace, and exits non-zero. */
export class AppError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'AppError';
  }
}
