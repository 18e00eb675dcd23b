// Argument types of every request, checked once in the session's one wrapper before any handler
// runs: a wrong type, a string beyond its limit or a number that is not a safe integer is an
// error response naming the argument (`breakpoints[2].condition must be a string`), never a
// TypeError deep inside a handler. Fields may be absent; `null` counts as absent.

import { ErrorCode, AdapterError } from './errors';

/** Longest expression, condition, log message or name accepted (characters). */
export const MAX_TEXT = 8192;
/** Longest `writeMemory` data (base64 characters: 16 MiB of bytes). */
export const MAX_DATA = 22_369_624;
/** Longest array argument (breakpoints of one source, filters, …). */
export const MAX_ITEMS = 10_000;

type Leaf = 'string' | 'text' | 'data' | 'integer' | 'number' | 'boolean' | 'object' | 'any' | 'numOrString';
type Shape = Leaf | { [field: string]: Shape } | [Shape];

const SOURCE: Shape = { name: 'string', path: 'text', sourceReference: 'integer', origin: 'string', adapterData: 'any', checksums: 'any', presentationHint: 'string', sources: 'any' };
const COND = { condition: 'text', hitCondition: 'text' } as const;
const STEP: Shape = { threadId: 'integer', granularity: 'string', singleThread: 'boolean', targetId: 'integer' };

/** Known fields of each request's arguments (unknown fields pass: clients add their own). */
const SHAPES: Record<string, Shape> = {
  initialize: { clientID: 'string', clientName: 'string', adapterID: 'string', locale: 'string', linesStartAt1: 'boolean', columnsStartAt1: 'boolean', pathFormat: 'string' },
  setBreakpoints: { source: SOURCE, breakpoints: [{ line: 'integer', column: 'integer', ...COND, logMessage: 'text', mode: 'string' }], lines: ['integer'], sourceModified: 'boolean' },
  setFunctionBreakpoints: { breakpoints: [{ name: 'text', ...COND }] },
  setInstructionBreakpoints: { breakpoints: [{ instructionReference: 'string', offset: 'integer', ...COND, mode: 'string' }] },
  setExceptionBreakpoints: { filters: ['string'], filterOptions: [{ filterId: 'string', condition: 'text', mode: 'string' }], exceptionOptions: 'any' },
  dataBreakpointInfo: { variablesReference: 'integer', name: 'text', frameId: 'integer', bytes: 'integer', asAddress: 'boolean', mode: 'string' },
  setDataBreakpoints: { breakpoints: [{ dataId: 'string', accessType: 'string', ...COND }] },
  breakpointLocations: { source: SOURCE, line: 'integer', column: 'integer', endLine: 'integer', endColumn: 'integer' },
  stackTrace: { threadId: 'integer', startFrame: 'integer', levels: 'integer', format: 'object' },
  scopes: { frameId: 'integer' },
  variables: { variablesReference: 'integer', filter: 'string', start: 'integer', count: 'integer', format: 'object' },
  setVariable: { variablesReference: 'integer', name: 'text', value: 'text', format: 'object' },
  setExpression: { expression: 'text', value: 'text', frameId: 'integer', format: 'object' },
  evaluate: { expression: 'text', frameId: 'integer', context: 'string', format: 'object', line: 'integer', column: 'integer', source: SOURCE },
  completions: { text: 'text', column: 'integer', line: 'integer', frameId: 'integer' },
  source: { source: SOURCE, sourceReference: 'integer' },
  continue: STEP, next: STEP, stepIn: STEP, stepOut: STEP, stepBack: STEP, reverseContinue: STEP,
  pause: { threadId: 'integer' },
  restart: { arguments: 'object' },
  terminate: { restart: 'boolean' },
  disconnect: { restart: 'boolean', terminateDebuggee: 'boolean', suspendDebuggee: 'boolean' },
  gotoTargets: { source: SOURCE, line: 'integer', column: 'integer' },
  goto: { threadId: 'integer', targetId: 'integer' },
  exceptionInfo: { threadId: 'integer' },
  disassemble: { memoryReference: 'string', offset: 'integer', instructionOffset: 'integer', instructionCount: 'integer', resolveSymbols: 'boolean' },
  readMemory: { memoryReference: 'string', offset: 'integer', count: 'integer' },
  writeMemory: { memoryReference: 'string', offset: 'integer', allowPartial: 'boolean', data: 'data' },
  cancel: { requestId: 'integer', progressId: 'string' },
  'tdx/injectFault': { rule: 'any' },
  'tdx/decodeStatus': { value: 'numOrString' },
  'tdx/structLayout': { name: 'text' },
  'tdx/setDisassemblyFlavor': { flavor: 'text' },
  'tdx/reverseStepIn': STEP, 'tdx/reverseStepOut': STEP, 'tdx/reverseNext': STEP,
  'tdx/whatIf': { faults: 'any', registers: 'object', replaceFaults: 'boolean', label: 'text', run: 'boolean', atCall: 'integer' },
  'tdx/switchBranch': { id: 'integer', position: 'integer' },
  'tdx/goToCall': { seq: 'integer' },
};

function bad(path: string, what: string): never {
  throw new AdapterError(ErrorCode.BadArguments, `"${path}" ${what}`, false);
}

function check(v: unknown, shape: Shape, path: string): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(shape)) {
    if (!Array.isArray(v)) bad(path, 'must be an array');
    if (v.length > MAX_ITEMS) throw new AdapterError(ErrorCode.TooLarge, `"${path}" has ${v.length} items; at most ${MAX_ITEMS} are accepted`, true);
    for (let i = 0; i < v.length; i++) check(v[i], shape[0], `${path}[${i}]`);
    return;
  }
  if (typeof shape === 'object') {
    if (typeof v !== 'object' || Array.isArray(v)) bad(path, 'must be an object');
    for (const [k, s] of Object.entries(shape)) if (Object.prototype.hasOwnProperty.call(v, k)) check((v as Record<string, unknown>)[k], s, path ? `${path}.${k}` : k);
    return;
  }
  switch (shape) {
    case 'any': return;
    case 'string': case 'text': case 'data': {
      if (typeof v !== 'string') bad(path, 'must be a string');
      const max = shape === 'data' ? MAX_DATA : MAX_TEXT;
      if (v.length > max) throw new AdapterError(ErrorCode.TooLarge, `"${path}" is ${v.length} characters long; the limit is ${max}`, true);
      return;
    }
    case 'integer': if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(path, 'must be an integer'); return;
    case 'number': if (typeof v !== 'number' || !Number.isFinite(v)) bad(path, 'must be a number'); return;
    case 'boolean': if (typeof v !== 'boolean') bad(path, 'must be true or false'); return;
    case 'object': if (typeof v !== 'object' || Array.isArray(v)) bad(path, 'must be an object'); return;
    case 'numOrString':
      if (typeof v === 'string') { if (v.length > MAX_TEXT) bad(path, `is longer than ${MAX_TEXT} characters`); return; }
      if (typeof v !== 'number' || !Number.isFinite(v)) bad(path, 'must be a number or a string');
      return;
  }
}

/** Throws a BadArguments error naming the first argument of the wrong type or size. */
export function validateArguments(command: string, args: Record<string, unknown>): void {
  const shape = SHAPES[command];
  if (shape) check(args, shape, '');
}
