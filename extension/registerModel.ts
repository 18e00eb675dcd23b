// The TDX Registers view's model, without VS Code: register values read from the adapter's
// Registers scope, the set changed since the previous stop (`tdx/registerDiff`, or our own
// comparison when an adapter lacks it), and RFLAGS / CR4 decoded bit by bit (Intel SDM vol. 1
// §3.4.3, vol. 3 §2.5). Changed marks live until the next stop replaces the snapshot.

import { CR4_BITS, RFLAGS_BITS, type BitTable } from '../emulator/x86/registers';

/** One register as the view shows it. */
export interface RegisterRow {
  name: string;
  value: bigint;
  changed: boolean;
  previous?: bigint;
  /** Named bits for RFLAGS and CR4 (and CR0/EFER), set or clear. */
  bits?: { name: string; bit: number; set: boolean; note?: string }[];
}

export { RFLAGS_BITS, CR4_BITS } from '../emulator/x86/registers';

const DECODED: Record<string, BitTable> = { rflags: RFLAGS_BITS, cr4: CR4_BITS };

/** The named bits of `value` for a register we decode (undefined for the others). */
export function decodeBits(reg: string, value: bigint): RegisterRow['bits'] {
  const table = DECODED[reg.toLowerCase()];
  if (!table) return undefined;
  return table.map(([name, bit, note]) => ({ name, bit, set: ((value >> BigInt(bit)) & 1n) === 1n, ...(note ? { note } : {}) }));
}

/** `0x…` at the start of a DAP variable's value text (the adapter appends "(was …)" and flags). */
export function parseRegisterValue(text: string): bigint | undefined {
  const m = /^\s*(0x[0-9a-f]+|\d+)\b/i.exec(text);
  return m ? BigInt(m[1]) : undefined;
}

/** Registers the view lists, in this order, when the adapter reports them. */
export const VIEW_REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip', 'rflags', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base'];

/** One `tdx/registerDiff` entry (body `{ changed: [...] }`). */
export interface RegisterDiffEntry {
  name: string;
  before: string;
  after: string;
}

/**
 * Builds the rows of one stop. `changed` comes from `tdx/registerDiff` when the adapter has it;
 * otherwise the previous snapshot (the view's own) decides.
 */
export function buildRegisterRows(
  values: ReadonlyMap<string, bigint>,
  previous: ReadonlyMap<string, bigint> | undefined,
  diff: readonly RegisterDiffEntry[] | undefined,
): RegisterRow[] {
  const diffBy = new Map((diff ?? []).map((d) => [d.name.toLowerCase(), d]));
  const names = [...VIEW_REGISTERS.filter((n) => values.has(n)), ...[...values.keys()].filter((n) => !VIEW_REGISTERS.includes(n))];
  return names.map((name) => {
    const value = values.get(name)!;
    let changed = false;
    let prev: bigint | undefined;
    if (diff) {
      const d = diffBy.get(name);
      if (d) {
        changed = true;
        prev = BigInt(d.before);
      }
    } else if (previous?.has(name)) {
      prev = previous.get(name)!;
      changed = prev !== value;
      if (!changed) prev = undefined;
    }
    return { name, value, changed, ...(prev !== undefined ? { previous: prev } : {}), ...(decodeBits(name, value) ? { bits: decodeBits(name, value) } : {}) };
  });
}

/** `0x` + 16 hex digits (the adapter's register format). */
export { hex16 } from '../debug-adapter/format';
