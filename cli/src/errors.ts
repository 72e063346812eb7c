// Exit codes (API.md, "The sluice command line"): 0 success; 1 the thing checked or watched
// failed (an ERROR advice, a FAILED or CANCELED issue, drift); 2 bad usage, an API error or an
// unreachable server. Every failure is one CliError, printed as one line on stderr by main.
export const EXIT = { OK: 0, FAILED: 1, ERROR: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
  ) {
    super(message);
  }
}

/** Bad usage: a missing or contradictory option the parser cannot catch by itself. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.ERROR);
  }
}

/** The API answered with an error: its status and message, as the API wrote them. */
export class ApiError extends CliError {
  override readonly name: string = 'ApiError';
  constructor(
    readonly httpStatus: number,
    readonly status: string,
    readonly apiMessage: string,
    readonly request: string,
    readonly body: unknown,
  ) {
    super(`${request}: ${httpStatus} ${status}: ${apiMessage}${httpStatus === 401 ? ' (sign in again: sluice login)' : ''}`, EXIT.ERROR);
  }
}

/** Nothing answered at the server's address (or not in time). */
export class UnreachableError extends CliError {
  override readonly name: string = 'UnreachableError';
}
