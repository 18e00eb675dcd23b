// The TDX catalogue's front door: lookups by name (case-insensitive, `.` or `_` spelling) and by
// number over the leaf, sub-function and status tables, RAX leaf/version splitting, and "did you
// mean" suggestions. The adapter, hovers, the fault menu, the CLI and the models all read this.

import { SEAMCALL_LEAVES, SEAMLDR_LEAVES, TDCALL_LEAVES, type TdxInstruction, type TdxLeaf } from './leaves';
import { TDVMCALL_STATUS_CODES, TDX_OPERAND_IDS, TDX_STATUS_CODES, type TdvmcallStatusCode, type TdxStatusCode } from './statusCatalog';
import { TDVMCALL_SUBFUNCTIONS, type TdvmcallSubfunction } from './vmcalls';
import { parseTdxNumber, u64 } from './types';

export { parseTdxNumber } from './types';

export * from './leaves';
export * from './statusCatalog';
export * from './vmcalls';

/**
 * Folds a name for comparison: upper case, and `.`, `-`, blanks folded into `_`, so
 * `tdg.vp.vmcall`, `TDG_VP_VMCALL` and `TDG-VP-VMCALL` are one key.
 */
export function normalizeTdxName(name: string): string {
  return name.trim().toUpperCase().replace(/[.\-\s]+/g, '_');
}

function index<T>(items: readonly T[], keys: (t: T) => string[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const it of items) for (const k of keys(it)) if (!m.has(normalizeTdxName(k))) m.set(normalizeTdxName(k), it);
  return m;
}

const tdcallByName = index(TDCALL_LEAVES, (l) => [l.name, ...(l.kernelNames ?? [])]);
const seamcallByName = index([...SEAMCALL_LEAVES, ...SEAMLDR_LEAVES], (l) => [l.name, ...(l.kernelNames ?? [])]);
const subfnByName = index(TDVMCALL_SUBFUNCTIONS, (f) => [f.name, f.ghciName, ...f.shortNames]);
const statusByName = index(TDX_STATUS_CODES, (c) => [c.name, ...(c.aliases ?? [])]);
const tdvmStatusByName = index(TDVMCALL_STATUS_CODES, (c) => [c.name]);

/** The parts of a TDCALL/SEAMCALL RAX input (Linux asm/tdx.h: RAX leaf and version; TDX module tdx_td_dispatcher.c). */
export interface RaxLeafFields {
  /** RAX[15:0]. */
  leaf: number;
  /** RAX[23:16], the leaf ABI version (`TDX_VERSION_SHIFT` = 16). */
  version: number;
  /** RAX bit 63 (SEAMCALL only): the call goes to the P-SEAMLDR. */
  seamldr: boolean;
  /** True when RAX[31:24] or RAX[62:32] is set (bit 63 is reported separately). */
  reservedSet: boolean;
}

/** Splits a TDCALL/SEAMCALL RAX into leaf, version and the reserved/loader bits. */
export function splitRax(rax: bigint): RaxLeafFields {
  const v = u64(rax);
  return {
    leaf: Number(v & 0xffffn),
    version: Number((v >> 16n) & 0xffn),
    seamldr: (v >> 63n) === 1n,
    reservedSet: ((v >> 24n) & 0xffn) !== 0n || ((v >> 32n) & 0x7fff_ffffn) !== 0n,
  };
}

function asNumber(key: string | number | bigint): bigint | undefined {
  if (typeof key === 'bigint') return u64(key);
  if (typeof key === 'number') return Number.isInteger(key) && key >= 0 ? BigInt(key) : undefined;
  return parseTdxNumber(key);
}

/**
 * Finds a leaf by name (`TDH.SYS.INIT`, `tdh_sys_init`, a kernel alias such as `TDX_GET_INFO`) or
 * by number. For TDCALL a number is the leaf (RAX[15:0]); for SEAMCALL a number with bit 63 set
 * selects a P-SEAMLDR leaf, otherwise RAX[15:0] is the leaf. Version bits are ignored.
 */
export function findLeaf(instruction: TdxInstruction, key: string | number | bigint): TdxLeaf | undefined {
  const n = asNumber(key);
  if (n === undefined) return (instruction === 'tdcall' ? tdcallByName : seamcallByName).get(normalizeTdxName(String(key)));
  const f = splitRax(n);
  if (instruction === 'tdcall') return TDCALL_LEAVES.find((l) => l.leaf === f.leaf);
  return (f.seamldr ? SEAMLDR_LEAVES : SEAMCALL_LEAVES).find((l) => l.leaf === f.leaf);
}

/**
 * The number a kernel spelling names, as the catalogue knows it whatever a generation's headers
 * define: a sub-function's R11 (`TDVMCALL_MAP_GPA`, `EXIT_REASON_HLT`), a leaf's RAX
 * (`TDG_VP_INFO`, `TDX_GET_INFO`, `TDH_SYS_INIT`), a status (`TDX_OPERAND_INVALID`,
 * `TDVMCALL_STATUS_RETRY`). Exact upper-case spellings only; undefined otherwise.
 */
export function catalogueConstant(name: string): bigint | undefined {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) return undefined;
  const sf = TDVMCALL_SUBFUNCTIONS.find((f) => f.name === name);
  if (sf) return sf.value;
  const leaf = [...TDCALL_LEAVES, ...SEAMCALL_LEAVES, ...SEAMLDR_LEAVES].find((l) => l.symbol === name || l.kernelNames?.includes(name));
  if (leaf) return leaf.rax;
  return TDX_STATUS_CODES.find((c) => c.name === name)?.value ?? TDVMCALL_STATUS_CODES.find((c) => c.name === name)?.value;
}

/** Finds a leaf by name on either instruction (TDG.* and TDH.* names never collide). */
export function findLeafByName(name: string): TdxLeaf | undefined {
  const k = normalizeTdxName(name);
  return tdcallByName.get(k) ?? seamcallByName.get(k);
}

/** Finds a TDG.VP.VMCALL sub-function by kernel, GHCI or short name, or by its R11 number. */
export function findSubfunction(key: string | number | bigint): TdvmcallSubfunction | undefined {
  const n = asNumber(key);
  if (n !== undefined) return TDVMCALL_SUBFUNCTIONS.find((f) => f.value === n);
  return subfnByName.get(normalizeTdxName(String(key)));
}

/**
 * Finds a catalogued status by name (or alias, e.g. `TDX_SYSCONFIG_NOT_DONE`) or by exact value
 * (its catalogued value or a documented alternative). Use `decodeTdxStatus` for arbitrary values.
 */
export function findStatus(key: string | bigint): TdxStatusCode | undefined {
  if (typeof key === 'bigint') {
    const v = u64(key);
    return TDX_STATUS_CODES.find((c) => c.value === v && !c.seamldr) ?? TDX_STATUS_CODES.find((c) => c.alternativeValues?.includes(v))
      ?? TDX_STATUS_CODES.find((c) => c.value === v);
  }
  const n = parseTdxNumber(key);
  return n !== undefined ? findStatus(n) : statusByName.get(normalizeTdxName(key));
}

/** Finds a TDVMCALL (R10) status by name or value. */
export function findTdvmcallStatus(key: string | bigint): TdvmcallStatusCode | undefined {
  if (typeof key === 'bigint') return TDVMCALL_STATUS_CODES.find((c) => c.value === u64(key));
  const n = parseTdxNumber(key);
  return n !== undefined ? findTdvmcallStatus(n) : tdvmStatusByName.get(normalizeTdxName(key));
}

/**
 * The catalogued values of `names`, looked up once with `find` (findStatus, findTdvmcallStatus): a
 * typo fails at load time, naming `who`, rather than giving a wrong number at run time.
 */
export function catalogValues<N extends string>(
  who: string, names: readonly N[], find: (name: string) => { readonly value: bigint } | undefined,
): Readonly<Record<N, bigint>> {
  return Object.freeze(Object.fromEntries(names.map((n) => {
    const c = find(n);
    if (!c) throw new Error(`${who}: ${n} is not in the catalogue`);
    return [n, c.value];
  })) as Record<N, bigint>);
}

const operandByName = new Map([...TDX_OPERAND_IDS].map(([id, name]) => [name, id]));

/** Operand id by name (`rcx` → 1, `TDR` → 128; TDX module tdx_error_codes_defs.h, tdx_api_defs.h) or number. */
export function findOperandId(key: string): number | undefined {
  const n = parseTdxNumber(key);
  if (n !== undefined) return n <= 0xffff_ffffn ? Number(n) : undefined;
  return operandByName.get(normalizeTdxName(key).replace(/^%/, ''));
}

/** Every name a lookup of `kind` accepts, for completion lists and suggestions. */
export function catalogNames(kind: 'tdcall' | 'seamcall' | 'tdvmcall' | 'status' | 'tdvmcall-status'): string[] {
  switch (kind) {
    case 'tdcall': return TDCALL_LEAVES.map((l) => l.name);
    case 'seamcall': return [...SEAMCALL_LEAVES, ...SEAMLDR_LEAVES].map((l) => l.name);
    case 'tdvmcall': return TDVMCALL_SUBFUNCTIONS.flatMap((f) => [f.name, ...f.shortNames]);
    case 'status': return TDX_STATUS_CODES.map((c) => c.name);
    case 'tdvmcall-status': return TDVMCALL_STATUS_CODES.map((c) => c.name);
  }
}

/** Optimal-string-alignment distance: edits plus adjacent transpositions (typos like `INTI`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The candidate closest to `input` (edit distance on folded names, ties broken by list order),
 * or undefined when nothing is within about a third of the input's length.
 */
export function closestName(input: string, candidates: readonly string[]): string | undefined {
  const k = normalizeTdxName(input);
  const limit = Math.max(2, Math.ceil(k.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const n = normalizeTdxName(c);
    // The distance is at least the difference in length: no need to fill the table (and a
    // huge input must not cost its length times every candidate's).
    if (Math.abs(n.length - k.length) > limit) continue;
    const d = editDistance(k, n);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= limit ? best : undefined;
}
