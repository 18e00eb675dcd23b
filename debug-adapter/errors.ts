// The adapter's error vocabulary: every failure a handler can report is an AdapterError with a
// numbered code and a destination (shown to the user, or silent: the client asked for something
// it may legitimately ask for at a bad moment). The session's one wrapper turns these into
// error responses; anything else thrown is an internal error, answered and logged.

/** Error codes of error responses (`body.error.id`). Stable: clients may match on them. */
export const enum ErrorCode {
  /** The launch configuration names a bad attribute (the message names it). */
  BadLaunchAttribute = 1001,
  /** The program does not assemble (the message carries file:line:col diagnostics). */
  BuildFailed = 1002,
  /** A request arrived before `launch` created the debuggee. */
  NotLaunched = 1003,
  /** The request needs a stopped debuggee and it is running. */
  NotStopped = 1004,
  /** The request needs a running debuggee (or one that has not ended). */
  NotRunning = 1005,
  /** Malformed or missing request arguments. */
  BadArguments = 1006,
  /** An expression does not parse or evaluate. */
  BadExpression = 1007,
  /** A variables/frame/target reference that is not (or no longer) valid. */
  StaleReference = 1008,
  /** Memory that is not mapped in the emulated address space. */
  BadMemory = 1009,
  /** A fault rule for `tdx/injectFault` that does not parse. */
  BadFaultRule = 1010,
  /** A request this adapter does not implement. */
  Unsupported = 1011,
  /** The request was cancelled by the client. */
  Cancelled = 1012,
  /** Server mode: the session has not presented the server's token. */
  Unauthorized = 1013,
  /** A request argument beyond a limit (its size, its depth): the message names the limit. */
  TooLarge = 1014,
  /** A bug in the adapter: answered, logged, never a crash. */
  Internal = 1999,
}

/** A failure with its code and where the client should show it. */
export class AdapterError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly showUser: boolean) {
    super(message);
    this.name = 'AdapterError';
  }
}

/** An error the user must see (a notification in VS Code). */
export function userError(code: ErrorCode, message: string): AdapterError {
  return new AdapterError(code, message, true);
}

/** An error the client handles quietly (hover over a bad expression, a stale reference). */
export function silentError(code: ErrorCode, message: string): AdapterError {
  return new AdapterError(code, message, false);
}

// ---- the recurring kinds, named (their messages are part of what clients see: keep them) ----

/** A request without what it needs: `COMMAND needs WHAT` (`setVariable needs "name" and "value"`). */
export function needs(command: string, what: string): AdapterError {
  return silentError(ErrorCode.BadArguments, `${command} needs ${what}`);
}

/** A `memoryReference` that does not parse as an address. */
export function notAnAddress(reference: unknown): AdapterError {
  return silentError(ErrorCode.BadArguments, `memoryReference "${reference}" is not an address`);
}

/** A reference handed out at an earlier stop (`frame 3`, `variablesReference 12`). */
export function staleReference(what: string): AdapterError {
  return silentError(ErrorCode.StaleReference, `${what} is not valid (any more)`);
}

/** The debuggee has ended: only restart runs it again. */
export function programEnded(): AdapterError {
  return silentError(ErrorCode.NotRunning, 'the program has ended (restart to run it again)');
}

/** Launched, but the client has not sent configurationDone yet. */
export function notConfigured(): AdapterError {
  return silentError(ErrorCode.NotStopped, 'configuration is not done yet');
}

/** Shorthand for argument checks: `need(args.source, 'source')`. */
export function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw silentError(ErrorCode.BadArguments, `missing argument "${what}"`);
  return value;
}

/** An optional array argument: absent is empty, anything but an array is a bad request. */
export function asList<T>(value: T[] | undefined, what: string): T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw silentError(ErrorCode.BadArguments, `"${what}" must be an array`);
  return value;
}
