// The Session's vocabulary: where things live in the emulated address space, why a run stops,
// struct arguments, options, the run recorder reverse execution plugs in, and the context guess.

import type { StructLayout } from '../loader/image';
import type { StopReason } from '../machine';
import type { ExecContext } from '../platform/config';
import type { TdxCallEvent } from '../platform/events';

/** Where things live in the emulated address space. */
export const LAYOUT = {
  /** .text of the program (kernel text, the top 2 GiB, as -mcmodel=kernel objects need). */
  text: 0xffffffff81000000n,
  /** The kernel stack (THREAD_SIZE 16 KiB) with an unmapped guard page below it. */
  stackTop: 0xffffc90000008000n,
  stackSize: 0x4000,
  /** Struct arguments (direct-map-like addresses). */
  structs: 0xffff888000100000n,
  structsSize: 0x10000,
  /** Per-CPU area (GS base): kernel C code reads per-CPU data and the stack canary through %gs. */
  percpu: 0xffff888000200000n,
  percpuSize: 0x10000,
  /** The emulated kernel heap (kmalloc, page allocations): direct-map addresses above the per-CPU areas. */
  heap: 0xffff888004000000n,
  heapSize: 0x10000000,
  /** Where the entry function returns to: executing there ends the run as "returned". */
  returnTrap: 0xffffffffff600000n,
} as const;

/** Why a run stopped, in the CLI's and adapter's words. */
export type SessionStopReason =
  | 'returned' | 'exception' | 'panic' | 'breakpoint' | 'limit' | 'not-emulated' | 'undefined-symbol'
  | 'fatal-error' | 'td-exit' | 'halt' | 'watch' | 'budget' | 'stub-stop';

export interface SessionStop {
  reason: SessionStopReason;
  message: string;
  address: bigint;
  vector?: number;
  errorCode?: number;
  faultAddress?: bigint;
  /** The call that ended the run (fatal error, TD exit). */
  call?: TdxCallEvent;
  /** The machine's own stop, for details (watch hits). */
  machine: StopReason;
}

/**
 * Told about every forward run so that reverse execution can keep checkpoints (emulator/timetravel).
 * Runs are cut when `room()` reaches 0; the stops are the same as an uncut run's.
 */
export interface RunRecorder {
  /** Instructions that may run before the next checkpoint is due. */
  room(): number;
  /** Takes the checkpoint that is due (called with the machine between instructions). */
  checkpoint(): void;
  /** After each run or step, with its stop (null: a step that completed). */
  ran(stop: SessionStop | null): void;
}

/** A struct argument laid out in memory. */
export interface StructArg {
  /** Argument position (0 = RDI). */
  index: number;
  /** Display name: `args` for the first struct, then `args1`, … unless the configuration names it. */
  name: string;
  layout: StructLayout;
  address: bigint;
}

export interface SessionOptions {
  /** Folder relative paths are resolved against (the workspace). */
  cwd?: string;
  /** Unsaved editor text of the program. */
  text?: string;
  /**
   * False in an untrusted workspace (the adapter and extension pass it): the user's toolchain
   * and kernel builds run programs the workspace names, so they are refused. Default true.
   */
  trusted?: boolean;
  /** Lines the compiler or the kernel's make print while the Image is built (progress). */
  onProgress?: (line: string) => void;
}

/** Guesses the context from what the file executes. */
export function guessContext(source: string): ExecContext {
  const s = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)(#|\/\/).*$/gm, '');
  if (/\bseamcall\b|0xcf\b|__seamcall|TDX_MODULE_CALL\s+host/i.test(s)) return 'host';
  if (/\btdcall\b|0xcc\b|__tdcall|__tdx_hypercall|TDX_MODULE_CALL/i.test(s)) return 'guest';
  return 'none';
}
