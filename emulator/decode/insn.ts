// The decoded instruction record: a plain JS object with a fixed shape, built once per
// address from iced-x86's output and then executed many times. No iced object survives decoding.

import { WIDE, type Cpu } from '../cpu/cpu';

/** Executes one decoded instruction. RIP already points at the next instruction when it runs. */
export type Handler = (c: Cpu, i: Insn) => void;

/** A straight-line run of decoded instructions executed without the per-instruction checks. */
export interface Block {
  insns: Insn[];
  n: number;
  /** Set when code, permissions or breakpoints of a page it spans change: it is rebuilt. */
  dead: boolean;
  /**
   * Runs the block (see exec/jit.ts compileBlock): returns how many instructions of its last
   * pass completed (fewer than `n` when one raised attention); a loop block adds its earlier
   * passes to `c.icount` itself and stops before a pass would take `c.icount` past `end`.
   */
  run: (c: Cpu, end: number) => number;
  /** The blocks last run after this one (followed while alive, headed at RIP and without a breakpoint). */
  next1: Block | null;
  next2: Block | null;
}

/** Operand kinds. */
export const enum K {
  NONE = 0,
  /** General-purpose register: `r` = number 0..15, or 16..19 for AH CH DH BH. */
  REG = 1,
  MEM = 2,
  IMM = 3,
  /** Control register: `r` = CR number. */
  CR = 4,
  /** Segment register (ES CS SS DS FS GS = 0..5). */
  SEG = 5,
  /** Anything else (MMX, YMM, debug registers, ...): only instructions we do not emulate have these. */
  OTHER = 6,
  /** XMM register: `r` = 0..15, size 16. */
  XMM = 7,
}

export class Insn {
  /** Address (signed canonical), length, and the address of the next instruction. */
  addr = WIDE;
  len = 0;
  next = WIDE;
  bytes: Uint8Array = EMPTY;
  /** Lowercase iced-x86 mnemonic name, the key of the dispatch table (e.g. `add`, `cmove`, `movsq`). */
  mnemonic = '';
  /** iced-x86 `Code` value and its name (e.g. `Pushw_imm16`): distinguish forms of one mnemonic. */
  code = 0;
  codeName = '';
  exec: Handler = unset;
  /** The specialised form (exec/table.ts) chosen for it, which blocks inline; null: its record's handler. */
  form: import('../exec/table').Form | null = null;
  /** Operand size in bytes of the instruction (the destination's size for most). */
  os = 8;
  k0: K = K.NONE; k1: K = K.NONE; k2: K = K.NONE;
  r0 = 0; r1 = 0; r2 = 0;
  s0 = 0; s1 = 0; s2 = 0;
  nops = 0;
  /** Immediate operand sign-extended to the operand size (halves), and a second immediate (ENTER). */
  immLo = WIDE;
  immHi = WIDE;
  imm2 = WIDE;
  /** Memory operand: base/index register numbers or -1, scale, 64-bit displacement halves. */
  mBase = -1;
  mIndex = -1;
  mScale = 1;
  mDispLo = WIDE;
  mDispHi = WIDE;
  /** Segment override: 0 none, 1 FS, 2 GS. */
  mSeg = 0;
  /** 32-bit address size (0x67 prefix). */
  mA32 = false;
  /** Branch target for direct branches (signed canonical). */
  target = WIDE;
  /** Condition code 0..15 (o no b ae e ne be a s ns p np l ge le g) or -1. */
  cc = -1;
  /** 0 none, 1 REP/REPE, 2 REPNE. */
  rep = 0;
  lock = false;
  /** A breakpoint is set at this address. */
  bp = false;
  /** Cached successors (the fall-through and the other path), followed while they are not dead. */
  succ: Insn | null = null;
  succ2: Insn | null = null;
  /** Its code was rewritten, unmapped or re-permissioned: links to it must not be followed. */
  dead = false;
  /** The block that starts here (see Machine), how often this ran as a block head, and its block role. */
  block: Block | null = null;
  heat = WIDE;
  endsBlock = false;
  /** A transfer a block may continue through (its record's `trace`), else ''. */
  trace: '' | 'jump' | 'call' | 'return' = '';
  solo = false;
  /** No block starts here (the straight-line run from here is a single instruction). */
  noBlock = false;
  /** Which memory operand index (0/1/2) is the memory one, -1 if none. */
  memOp = -1;
  /** Lazily formatted text (GAS/AT&T). */
  private textCache: string | undefined;
  formatter: ((i: Insn) => string) | undefined;

  constructor() {
    this.addr = this.next = this.immLo = this.immHi = this.imm2 = this.mDispLo = this.mDispHi = this.target = this.heat = 0;
  }

  /** GAS/AT&T text of the instruction. */
  text(): string {
    if (this.textCache === undefined) this.textCache = this.formatter ? this.formatter(this) : this.mnemonic;
    return this.textCache;
  }
}

const EMPTY = new Uint8Array(0);
const unset: Handler = () => { throw new Error('instruction handler not resolved'); };
