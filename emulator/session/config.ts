// The launch configuration: one TypeScript type that the debug adapter, the CLI and the
// extension's package.json schema all follow, and its validation. Every error names the
// attribute that is wrong and says what is accepted.

import type { Generation } from '../loader/preprocess';
import { GENERATIONS } from '../loader/headers/generation';
import type { VmmConfig } from '../tdx/vmm';
import type { TdxModuleConfig } from '../tdx/moduleConfig';
import { parseFaultPlan, FaultRuleError, type FaultRule, type FaultRuleObject } from '../tdx/faultPlan';
import { EXEC_CONTEXTS, SEAMLDR_KNOBS, type ExecContext, type PlatformKnobs } from '../platform/config';
import type { StubSpec } from '../platform/stubs';
import type { DataSpec } from './kernelData';
import type { ToolchainConfig } from '../loader/toolchain';

/** One SysV argument: a number, a constant name, or a struct laid out in memory (its address is passed). */
export type ArgSpec =
  | number
  | string
  | { struct: string; init?: Record<string, number | string>; name?: string }
  | { buffer: number; align?: number; init?: number[] };

/** The launch configuration (`type: "tdx"`, `request: "launch"`). */
export interface LaunchConfig {
  /** The `.S`/`.s` file to debug. */
  program: string;
  /** Entry function symbol; default: the first global function. */
  entry?: string;
  /** Functions called (no arguments) before the entry function, each expected to return 0 (e.g. `tdx_cpu_enable` before `tdx_enable`). */
  before?: string[];
  /** `guest` (TD guest: TDCALL), `host` (VMX root: SEAMCALL) or `none`. Default: from what the file executes. */
  context?: ExecContext;
  /** Kernel generation of the built-in TDX headers and struct presets. Default G5. */
  generation?: Generation;
  /** Arguments of the entry function, in SysV order (RDI, RSI, RDX, RCX, R8, R9). */
  args?: ArgSpec[];
  /** Include directories (`-I`), searched before the built-in kernel headers. */
  includePaths?: string[];
  /** C headers whose structs become overlays. */
  headers?: string[];
  /** An asm-offsets source (`OFFSET()`/`DEFINE()`), replacing the generation's preset. */
  asmOffsets?: string;
  /** Preprocessor definitions (`-D`), `CONFIG_*` values included. */
  defines?: Record<string, string | number | boolean>;
  /** Stop at the entry function's first instruction. */
  stopOnEntry?: boolean;
  /** Stop before the first TDCALL/SEAMCALL the run reaches (after `stopOnEntry`'s stop, when both are set). */
  stopOnCall?: boolean;
  /** Platform knobs: `vmxe`, `vmxon`, `tdxBios`, `module`, `cpl`, `featureControl`, `noRbpMod`. */
  platform?: PlatformKnobs;
  /** The VMM model's answers (TDG.VP.VMCALL). */
  vmm?: VmmConfig;
  /** The TDX module model's configuration. */
  tdxModule?: TdxModuleConfig;
  /** Fault-injection rules, as `WHERE=ACTION` strings or objects. */
  faults?: (string | FaultRuleObject)[];
  /**
   * Stubs for undefined functions: name → return value or expression of arg0..arg5, or
   * `{ "return", "write": [{ "arg", "offset", "size", "value" }], "call", "stop", "log", "sequence": [...] }`.
   */
  stubs?: Record<string, StubSpec>;
  /** Values of data symbols (undefined ones have zero-filled storage): a number, bytes, or `{ field: value }` by the DWARF type. */
  data?: Record<string, DataSpec>;
  /** CPUs (per-CPU areas, online mask); the entry function runs on CPU 0. Default 1. */
  cpus?: number;
  /** Instruction limit of the whole run (default 10,000,000): runaway code ends in a stop. */
  maxInstructions?: number;
  /** Memory for reverse-execution history, in MiB (default 256); beyond it the oldest history goes ("history begins here"). */
  historyBudgetMb?: number;
  /**
   * TDX calls (and platform notes) kept in full for the TDX Calls view and time travel (default
   * 10,000): older ones are dropped and counted by title, so a guest looping TDCALL stays bounded.
   */
  callHistory?: number;
  /** Disassembly syntax. Default `att` (GAS). */
  disassemblyFlavor?: 'att' | 'intel';
  /** Seed of the hostile VMM's values. Default 0. */
  seed?: number;
  /** The user's gcc/clang for a `.S`/`.c` program (`-c -g` + args): the object then loads as ELF. Off in untrusted workspaces. */
  toolchain?: ToolchainConfig;
  /** Further objects linked with the program: `.o` files, or `.S`/`.c` files built with `toolchain`. */
  objects?: string[];
  /** Kernel source tree: with `kernelBuild`, `program` names a file of the tree and the kernel's own make builds its object. */
  kernelSource?: string;
  /** The kernel's build folder (`O=`; the source tree itself for in-tree builds). */
  kernelBuild?: string;
  /** With `kernelBuild`: link the tree's objects (same folders) that define what the run can reach and the program leaves undefined. Default true. */
  linkTree?: boolean;
}

/** Every attribute the launch configuration accepts (the package.json schema test compares with this). */
export const LAUNCH_ATTRIBUTES = [
  'program', 'entry', 'before', 'context', 'generation', 'args', 'includePaths', 'headers', 'asmOffsets', 'defines',
  'stopOnEntry', 'stopOnCall', 'platform', 'vmm', 'tdxModule', 'faults', 'stubs', 'data', 'cpus', 'maxInstructions', 'historyBudgetMb', 'callHistory', 'disassemblyFlavor', 'seed',
  'toolchain', 'objects', 'kernelSource', 'kernelBuild', 'linkTree',
] as const satisfies readonly (keyof LaunchConfig)[];

export const DEFAULT_MAX_INSTRUCTIONS = 10_000_000;
/** Reverse-execution history kept by the debug adapter, in MiB (issue 8). */
export const DEFAULT_HISTORY_BUDGET_MB = 256;

/** A bad launch attribute. */
export class ConfigError extends Error {
  constructor(readonly attribute: string, message: string) {
    super(`launch configuration: "${attribute}" ${message}`);
    this.name = 'ConfigError';
  }
}

/** The validated configuration with parsed fault rules. */
export interface ValidConfig extends LaunchConfig {
  faultRules: FaultRule[];
}

const PLATFORM_FIELDS: Record<string, 'bool' | 'cpl' | 'u64' | 'seamldr'> = {
  vmxe: 'bool', vmxon: 'bool', tdxBios: 'bool', module: 'bool', cpl: 'cpl', featureControl: 'u64', noRbpMod: 'bool', seamldr: 'seamldr',
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a launch configuration (from JSON: anything may be wrong) and parses its fault rules. */
export function validateConfig(raw: unknown): ValidConfig {
  if (!isObj(raw)) throw new ConfigError('(root)', 'must be an object');
  const c = raw as Record<string, unknown>;
  checkKnownAttributes(c);
  const str = (k: string, optional = true): void => {
    if (c[k] === undefined && optional) return;
    if (typeof c[k] !== 'string' || (c[k] as string).length === 0) throw new ConfigError(k, 'must be a non-empty string');
  };
  const strArray = (k: string): void => {
    if (c[k] === undefined) return;
    if (!Array.isArray(c[k]) || !(c[k] as unknown[]).every((x) => typeof x === 'string')) throw new ConfigError(k, 'must be an array of strings');
  };
  str('program', false);
  str('entry');
  strArray('before');
  if (c.context !== undefined && !EXEC_CONTEXTS.includes(c.context as ExecContext)) {
    throw new ConfigError('context', `must be one of ${EXEC_CONTEXTS.map((x) => `"${x}"`).join(', ')} (got ${JSON.stringify(c.context)})`);
  }
  if (c.generation !== undefined && !GENERATIONS.includes(c.generation as Generation)) {
    throw new ConfigError('generation', `must be one of ${GENERATIONS.join(', ')} (got ${JSON.stringify(c.generation)})`);
  }
  strArray('includePaths');
  strArray('headers');
  str('asmOffsets');
  validateDefines(c.defines);
  if (c.stopOnEntry !== undefined && typeof c.stopOnEntry !== 'boolean') throw new ConfigError('stopOnEntry', 'must be true or false');
  if (c.stopOnCall !== undefined && typeof c.stopOnCall !== 'boolean') throw new ConfigError('stopOnCall', 'must be true or false');
  validatePlatform(c.platform);
  if (c.vmm !== undefined && !isObj(c.vmm)) throw new ConfigError('vmm', 'must be an object (the VMM model configuration)');
  if (c.tdxModule !== undefined && !isObj(c.tdxModule)) throw new ConfigError('tdxModule', 'must be an object (the TDX module model configuration)');
  validateStubs(c.stubs);
  validateData(c.data);
  validateLimits(c);
  validateRealObjects(c, str, strArray);
  validateArgs(c.args);
  return { ...(c as unknown as LaunchConfig), faultRules: parseFaultsAttribute(c.faults) };
}

/** Every key is a launch attribute or one VS Code adds itself. */
function checkKnownAttributes(c: Record<string, unknown>): void {
  const known = new Set<string>([...LAUNCH_ATTRIBUTES, 'type', 'request', 'name', 'cwd', '__sessionId', '__configurationTarget', '__workspaceTrusted',
    'noDebug', 'internalConsoleOptions', 'preLaunchTask', 'postDebugTask', 'presentation', 'debugServer', '__restart']);
  for (const k of Object.keys(c)) {
    if (!known.has(k)) throw new ConfigError(k, `is not a launch attribute (known: ${LAUNCH_ATTRIBUTES.join(', ')})`);
  }
}

function validateDefines(defines: unknown): void {
  if (defines === undefined) return;
  if (!isObj(defines)) throw new ConfigError('defines', 'must be an object of NAME: value');
  for (const [k, v] of Object.entries(defines)) {
    if (!/^[A-Za-z_]\w*$/.test(k)) throw new ConfigError(`defines.${k}`, 'is not a valid macro name');
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ConfigError(`defines.${k}`, 'must be a string, number or boolean');
  }
}

function validatePlatform(platform: unknown): void {
  if (platform === undefined) return;
  if (!isObj(platform)) throw new ConfigError('platform', `must be an object with keys ${Object.keys(PLATFORM_FIELDS).join(', ')}`);
  for (const [k, v] of Object.entries(platform)) {
    const kind = PLATFORM_FIELDS[k];
    if (!kind) throw new ConfigError(`platform.${k}`, `is not a platform key (known: ${Object.keys(PLATFORM_FIELDS).join(', ')})`);
    if (kind === 'bool' && typeof v !== 'boolean' && v !== 0 && v !== 1) throw new ConfigError(`platform.${k}`, 'must be true/false (or 1/0)');
    if (kind === 'seamldr' && !(SEAMLDR_KNOBS as readonly unknown[]).includes(v)) throw new ConfigError('platform.seamldr', `must be one of ${SEAMLDR_KNOBS.map((x) => `"${x}"`).join(', ')}`);
    if (kind === 'cpl' && !(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 3)) throw new ConfigError('platform.cpl', 'must be 0, 1, 2 or 3');
    if (kind === 'u64' && !(typeof v === 'bigint' || typeof v === 'number' || (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)))) throw new ConfigError(`platform.${k}`, 'must be a number or a numeric string');
  }
}

function validateStubs(stubs: unknown): void {
  if (stubs === undefined) return;
  if (!isObj(stubs)) throw new ConfigError('stubs', 'must be an object of symbol: return value');
  for (const [k, v] of Object.entries(stubs)) {
    const ok = typeof v === 'number' || (typeof v === 'string' && v.trim().length > 0) || isObj(v);
    if (!ok) throw new ConfigError(`stubs.${k}`, 'must be a number, an expression of arg0..arg5 ("arg1 * 2"), or { "return": …, "write": [...], "call": …, "sequence": [...], "log": …, "stop": … }');
    if (isObj(v) && v.sequence !== undefined && !(Array.isArray(v.sequence) && v.sequence.every(isObj))) throw new ConfigError(`stubs.${k}.sequence`, 'must be an array of { "return": …, "write": [...], "call": …, "stop": … } for successive calls');
  }
}

function validateData(data: unknown): void {
  if (data === undefined) return;
  if (!isObj(data)) throw new ConfigError('data', 'must be an object of symbol: value (a number, an array of bytes, or { field: value })');
  for (const [k, v] of Object.entries(data)) {
    const ok = typeof v === 'number' || (typeof v === 'string' && v.trim().length > 0)
      || (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))
      || (isObj(v) && Object.values(v).every((x) => typeof x === 'number' || typeof x === 'string'));
    if (!ok) throw new ConfigError(`data.${k}`, 'must be a number, a numeric string or constant name, an array of bytes (0-255), or { "field": value }');
  }
}

/** `cpus`, `maxInstructions`, `historyBudgetMb`, `callHistory`, `disassemblyFlavor`, `seed`. */
function validateLimits(c: Record<string, unknown>): void {
  if (c.cpus !== undefined && !(Number.isInteger(c.cpus) && (c.cpus as number) >= 1 && (c.cpus as number) <= 64)) {
    throw new ConfigError('cpus', 'must be an integer from 1 to 64');
  }
  if (c.maxInstructions !== undefined && !(Number.isInteger(c.maxInstructions) && (c.maxInstructions as number) > 0)) {
    throw new ConfigError('maxInstructions', 'must be a positive integer');
  }
  if (c.historyBudgetMb !== undefined && !(typeof c.historyBudgetMb === 'number' && Number.isFinite(c.historyBudgetMb) && c.historyBudgetMb > 0)) {
    throw new ConfigError('historyBudgetMb', 'must be a positive number of MiB (default 256; e.g. 0.5 for a tiny history)');
  }
  if (c.callHistory !== undefined && !(Number.isInteger(c.callHistory) && (c.callHistory as number) >= 1 && (c.callHistory as number) <= 10_000_000)) {
    throw new ConfigError('callHistory', 'must be an integer from 1 to 10,000,000 (TDX calls kept in full; default 10,000)');
  }
  if (c.disassemblyFlavor !== undefined && c.disassemblyFlavor !== 'att' && c.disassemblyFlavor !== 'intel') {
    throw new ConfigError('disassemblyFlavor', 'must be "att" or "intel"');
  }
  if (c.seed !== undefined && !Number.isInteger(c.seed)) throw new ConfigError('seed', 'must be an integer');
}

/** `args`: up to six SysV arguments (numbers, constant names, buffers, structs). */
function validateArgs(args: unknown): void {
  if (args === undefined) return;
  if (!Array.isArray(args)) throw new ConfigError('args', 'must be an array (one entry per SysV argument)');
  if ((args as unknown[]).length > 6) throw new ConfigError('args', 'takes at most 6 entries (RDI, RSI, RDX, RCX, R8, R9)');
  (args as unknown[]).forEach((a, k) => {
    if (typeof a === 'number' || typeof a === 'string') return;
    if (isObj(a) && a.buffer !== undefined) {
      if (!(Number.isInteger(a.buffer) && (a.buffer as number) > 0 && (a.buffer as number) <= 1 << 24)) throw new ConfigError(`args[${k}].buffer`, 'must be the buffer size in bytes (1 to 16 MiB)');
      if (a.align !== undefined && !(Number.isInteger(a.align) && (a.align as number) > 0 && ((a.align as number) & ((a.align as number) - 1)) === 0)) throw new ConfigError(`args[${k}].align`, 'must be a power of two');
      if (a.init !== undefined && !(Array.isArray(a.init) && a.init.every((b) => Number.isInteger(b) && b >= 0 && b <= 255))) throw new ConfigError(`args[${k}].init`, 'must be an array of bytes (0-255)');
      return;
    }
    if (!isObj(a) || typeof a.struct !== 'string') throw new ConfigError(`args[${k}]`, 'must be a number, a constant name, or { "struct": NAME, "init": { field: value } }');
    if (a.init !== undefined && !isObj(a.init)) throw new ConfigError(`args[${k}].init`, 'must be an object of field: value');
  });
}

/** `faults` → parsed fault rules (none when absent). */
function parseFaultsAttribute(faults: unknown): FaultRule[] {
  if (faults === undefined) return [];
  if (!Array.isArray(faults)) throw new ConfigError('faults', 'must be an array of rules ("WHERE=ACTION" strings or objects)');
  try {
    return parseFaultPlan(faults as (string | FaultRuleObject)[]);
  } catch (e) {
    if (e instanceof FaultRuleError) throw new ConfigError('faults', e.message);
    throw e;
  }
}

/** `toolchain`, `objects`, `kernelSource`, `kernelBuild` (issue 7: real objects). */
function validateRealObjects(c: Record<string, unknown>, str: (k: string) => void, strArray: (k: string) => void): void {
  if (c.toolchain !== undefined) {
    const t = c.toolchain;
    if (!isObj(t)) throw new ConfigError('toolchain', 'must be an object { "compiler": "gcc", "args": [...], "includePaths": [...] }');
    for (const k of Object.keys(t)) {
      if (!['compiler', 'args', 'includePaths'].includes(k)) throw new ConfigError(`toolchain.${k}`, 'is not a toolchain key (known: compiler, args, includePaths)');
    }
    if (t.compiler !== undefined && (typeof t.compiler !== 'string' || t.compiler.length === 0)) throw new ConfigError('toolchain.compiler', 'must be a non-empty string (e.g. "gcc", "clang", "/usr/bin/gcc-12")');
    for (const k of ['args', 'includePaths'] as const) {
      if (t[k] !== undefined && !(Array.isArray(t[k]) && (t[k] as unknown[]).every((x) => typeof x === 'string'))) throw new ConfigError(`toolchain.${k}`, 'must be an array of strings');
    }
  }
  strArray('objects');
  str('kernelSource');
  str('kernelBuild');
  if (c.linkTree !== undefined && typeof c.linkTree !== 'boolean') throw new ConfigError('linkTree', 'must be true or false');
  if ((c.kernelSource === undefined) !== (c.kernelBuild === undefined)) {
    const missing = c.kernelSource === undefined ? 'kernelSource' : 'kernelBuild';
    throw new ConfigError(missing, `is needed too: "kernelSource" and "kernelBuild" go together (use the source folder as "kernelBuild" for an in-tree build)`);
  }
}
