// The assembler's in-memory object model: sections made of fragments (a run of fixed-size
// items, then at most one variable-size tail — a relaxable branch or an alignment), and
// symbols. This mirrors gas's frags on purpose: "is `b - a` known at parse time" is decided
// exactly as gas does it, by whether both ends sit in one fragment.

import { Expr, Loc, Value } from './expr';
import { Selected } from './select';
import { Stmt } from './macros';

/** A fixed-size piece of a fragment. `off` is its offset inside the fragment. */
export type Item =
  | { kind: 'bytes'; off: number; bytes: Uint8Array; at?: Stmt }
  /** `patch`: where in `bytes` the link writes a symbol's 4-byte displacement instead of encoding again (-1: encode). */
  | { kind: 'insn'; off: number; size: number; bytes: Uint8Array; sel: Selected; prefix: number[]; final: boolean; at: Stmt; patch: number }
  | { kind: 'data'; off: number; size: 1 | 2 | 4 | 8; expr: Expr; dot: Loc; at: Stmt };

/** The variable-size end of a fragment. */
export type Tail =
  | {
      kind: 'branch';
      sel: Selected;
      prefix: number[];
      target: Expr;
      /** Location of the branch itself (what `.` means in its target). */
      dot: Loc;
      /** Near (rel32) form chosen; starts false for relaxable branches. */
      near: boolean;
      /** Set during layout: can this branch be short at all (same section, not weak/undefined)? */
      relaxable?: boolean;
      size: number;
      addr: number;
      at: Stmt;
    }
  /** `.skip`/`.space` whose size is only known after layout (label differences ahead, across
   *  relaxable jumps or in other sections — the kernel's ALTERNATIVE padding). */
  | { kind: 'space'; expr: Expr; dot: Loc; fill: number; size: number; addr: number; at: Stmt; org?: boolean }
  | { kind: 'align'; align: number; fill?: number; max?: number; nops: boolean; size: number; addr: number; at: Stmt };

export interface Frag {
  items: Item[];
  size: number;
  tail?: Tail;
  /** Offset from the section start, set by layout. */
  start: number;
}

/** One output section. */
export interface Section {
  name: string;
  alloc: boolean;
  write: boolean;
  exec: boolean;
  nobits: boolean;
  frags: Frag[];
  /** Largest alignment requested inside the section. */
  align: number;
  /** Address after placement. */
  address: bigint;
  size: number;
}

/** What a symbol is bound to. */
export type SymDef =
  | { kind: 'label'; loc: Loc }
  | {
    kind: 'equ'; value?: Value; expr: Expr; dot: Loc;
    /** `value.c` as decimal text, made on first need (instruction cache keys). */
    text?: string;
    /**
     * An internal name bound to this definition, made when a statement uses it while it is not a
     * constant (a location, say): a later `=`/`.set` of the same name does not change what that
     * statement resolves to at link time, as in gas.
     */
    alias?: string;
  };

/** A symbol the source mentions or defines. */
/**
 * How a statement uses a symbol: a direct call/jmp/jcc target; an address (`sym(%rip)`, an
 * absolute memory operand, `.quad sym`); or a value (an immediate, a displacement added to a
 * register such as an asm-offsets name, a `.set` or a size). Only the first two may stay undefined.
 */
export type SymUse = 'branch' | 'address' | 'value';

export interface Sym {
  name: string;
  def?: SymDef;
  binding: 'local' | 'global' | 'weak';
  type?: 'func' | 'object';
  size?: { expr: Expr; dot: Loc };
  definedAt?: Stmt;
  /** Places that use it (kept short), and how each used it. */
  uses: { at: Stmt; column: number; kind: SymUse }[];
  /** gas numeric-label instances are internal names. */
  internal?: boolean;
}

/** A new symbol with every field present from the start, so all symbols share one hidden class
 *  (fields added later made several shapes and megamorphic loads in the hot label/expr paths). */
export function newSym(name: string, def?: SymDef, internal = false): Sym {
  return { name, def, binding: 'local', type: undefined, size: undefined, definedAt: undefined, uses: [], internal };
}

/** An empty fragment; `tail` present from the start for one shape. */
export function newFrag(): Frag {
  return { items: [], size: 0, tail: undefined, start: 0 };
}

export function newSection(name: string, flags: { alloc: boolean; write: boolean; exec: boolean; nobits: boolean }): Section {
  return { name, ...flags, frags: [newFrag()], align: 1, address: 0n, size: 0 };
}

/** Default flags gas gives a section by name when `.section` lists none. */
export function defaultFlags(name: string): { alloc: boolean; write: boolean; exec: boolean; nobits: boolean } {
  const is = (p: string) => name === p || name.startsWith(p + '.');
  if (is('.text') || name === '.init' || name === '.fini') return { alloc: true, write: false, exec: true, nobits: false };
  if (is('.bss') || is('.tbss')) return { alloc: true, write: true, exec: false, nobits: true };
  if (is('.data') || is('.tdata') || is('.init_array') || is('.fini_array')) return { alloc: true, write: true, exec: false, nobits: false };
  if (is('.rodata')) return { alloc: true, write: false, exec: false, nobits: false };
  return { alloc: false, write: false, exec: false, nobits: false };
}
