// The assembler's in-memory object model: sections made of fragments (a run of fixed-size
// items, then at most one variable-size tail — a relaxable branch or an alignment), and
// symbols. This mirrors gas's frags on purpose: "is `b - a` known at parse time" is decided
// exactly as gas does it, by whether both ends sit in one fragment.

import { Expr, Loc, Value } from './expr';
import { Selected } from './select';
import { Stmt } from './macros';
import { intern } from './lexer';

/** Limits that keep bad input from hanging the assembler (or allocating without bound). */
export const LIMITS = { macroDepth: 100, statements: 500_000, errors: 100, sectionBytes: 64 * 1024 * 1024, fillBytes: 2 ** 28 };

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

/**
 * Every tail is one class with every field present: the layout's loops read `kind` and `size` of
 * tails of all three kinds, and three shapes deoptimised them when a file brought a kind they
 * had not met (`.skip` sized by labels ahead, in the kernel's ALTERNATIVE).
 */
class TailObj {
  relaxable: boolean | undefined = undefined;
  size: number;
  addr = 0;
  constructor(
    readonly kind: Tail['kind'],
    readonly at: Stmt,
    readonly dot: Loc | undefined,
    size: number,
    readonly sel: Selected | undefined,
    readonly prefix: number[] | undefined,
    readonly target: Expr | undefined,
    public near: boolean,
    readonly expr: Expr | undefined,
    readonly fill: number | undefined,
    readonly org: boolean,
    readonly align: number,
    readonly max: number | undefined,
    readonly nops: boolean,
  ) {
    this.size = size;
  }
}
type TailOf<K extends Tail['kind']> = Extract<Tail, { kind: K }>;
/** A relaxable branch: short first (`size` counts the prefixes and the 2-byte short form). */
export const branchTail = (sel: Selected, prefix: number[], target: Expr, dot: Loc, at: Stmt): TailOf<'branch'> =>
  new TailObj('branch', at, dot, prefix.length + 2, sel, prefix, target, false, undefined, undefined, false, 0, undefined, false) as TailOf<'branch'>;
export const spaceTail = (expr: Expr, dot: Loc, fill: number, at: Stmt, org: boolean): TailOf<'space'> =>
  new TailObj('space', at, dot, 0, undefined, undefined, undefined, false, expr, fill, org, 0, undefined, false) as TailOf<'space'>;
export const alignTail = (align: number, fill: number | undefined, max: number | undefined, nops: boolean, at: Stmt): TailOf<'align'> =>
  new TailObj('align', at, undefined, 0, undefined, undefined, undefined, false, undefined, fill, false, align, max, nops) as TailOf<'align'>;

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

/**
 * Both kinds of definition are one class with every field present: `kind` is read at sites that
 * see labels and `.set` values alike, and `text`/`alias`, added on first need, changed the
 * object's shape under code optimised for the old one.
 */
class Def {
  text: string | undefined = undefined;
  alias: string | undefined = undefined;
  constructor(
    readonly kind: SymDef['kind'],
    readonly loc: Loc | undefined,
    readonly value: Value | undefined,
    readonly expr: Expr | undefined,
    readonly dot: Loc | undefined,
  ) {}
}
export const labelDef = (loc: Loc): SymDef => new Def('label', loc, undefined, undefined, undefined) as SymDef;
export const equDef = (value: Value | undefined, expr: Expr, dot: Loc): SymDef => new Def('equ', undefined, value, expr, dot) as SymDef;

/** The uses list of a symbol with none recorded: a new one, or one defined (only undefined symbols report their uses). Never written to. */
export const NO_USES: Sym['uses'] = [];

/**
 * How a statement uses a symbol: a direct call/jmp/jcc target; an address (`sym(%rip)`, an
 * absolute memory operand, `.quad sym`); or a value (an immediate, a displacement added to a
 * register such as an asm-offsets name, a `.set` or a size). Only the first two may stay undefined.
 */
export type SymUse = 'branch' | 'address' | 'value';

/** A symbol the source mentions or defines. */
export interface Sym {
  name: string;
  def?: SymDef;
  binding: 'local' | 'global' | 'weak';
  type?: 'func' | 'object';
  size?: { expr: Expr; dot: Loc };
  definedAt?: Stmt;
  /** Places that use it while it is undefined (kept short), and how each used it: what an
   *  undefined symbol's diagnostics point at. Shared `NO_USES` until the first. */
  uses: { at: Stmt; column: number; kind: SymUse }[];
  /** gas numeric-label instances are internal names. */
  internal?: boolean;
}

/** A new symbol with every field present from the start, so all symbols share one hidden class
 *  (fields added later made several shapes and megamorphic loads in the hot label/expr paths). */
export function newSym(name: string, def?: SymDef, internal = false): Sym {
  return { name, def, binding: 'local', type: undefined, size: undefined, definedAt: undefined, uses: NO_USES, internal };
}

/** An empty fragment; `tail` present from the start for one shape. */
export function newFrag(): Frag {
  return { items: [], size: 0, tail: undefined, start: 0 };
}

export function newSection(name: string, flags: { alloc: boolean; write: boolean; exec: boolean; nobits: boolean }): Section {
  // Interned: locations and value terms carry this name, and the link compares them by identity.
  return { name: intern(name), ...flags, frags: [newFrag()], align: 1, address: 0n, size: 0 };
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
