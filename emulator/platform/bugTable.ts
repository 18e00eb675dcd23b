// WARN() and BUG() as the kernel handles them: both compile to `ud2` with an entry in the
// `__bug_table` section (arch/x86/include/asm/bug.h, with CONFIG_GENERIC_BUG_RELATIVE_POINTERS
// and CONFIG_DEBUG_BUGVERBOSE, x86_64 defconfig: 12 bytes — int bug_addr_disp, int file_disp,
// u16 line, u16 flags; include/asm-generic/bug.h for the flags). The #UD handler
// (arch/x86/kernel/traps.c handle_bug() → lib/bug.c report_bug()) prints the warning and resumes
// after the 2-byte `ud2` for a WARN; a BUG oopses. A WARN_ONCE marks its entry done (the kernel
// writes BUGFLAG_DONE into the entry) and is silent afterwards.

import { addrToBig } from '../cpu/cpu';
import type { ImageSection } from '../loader/image';
import type { FaultHandler, Machine } from '../machine';
import type { PlatformNote } from './events';

const ENTRY_SIZE = 12;
const UD_VECTOR = 6;
const UD2_LENGTH = 2;
export const BUGFLAG_WARNING = 1 << 0;
export const BUGFLAG_ONCE = 1 << 1;
export const BUGFLAG_DONE = 1 << 2;

interface BugEntry { entry: bigint; file: bigint; line: number }

function entries(sections: readonly ImageSection[]): Map<bigint, BugEntry> {
  const out = new Map<bigint, BugEntry>();
  for (const sec of sections) {
    if (sec.name !== '__bug_table' || !sec.alloc) continue;
    const v = new DataView(sec.bytes.buffer, sec.bytes.byteOffset, sec.bytes.byteLength);
    for (let off = 0; off + ENTRY_SIZE <= sec.bytes.length; off += ENTRY_SIZE) {
      const at = sec.address + BigInt(off);
      const bug = BigInt.asUintN(64, at + BigInt(v.getInt32(off, true)));
      const file = BigInt.asUintN(64, at + 4n + BigInt(v.getInt32(off + 4, true)));
      out.set(bug, { entry: at, file, line: v.getUint16(off + 8, true) });
    }
  }
  return out;
}

function cString(m: Machine, at: bigint): string {
  let s = '';
  try {
    for (let k = 0n; k < 256n; k++) {
      const b = m.readBytes(at + k, 1)[0];
      if (b === 0) break;
      s += String.fromCharCode(b);
    }
  } catch { return '(file name unreadable)'; }
  return s;
}

/**
 * Wraps the machine's fault handler: a #UD on a `ud2` the bug table names is a WARN (reported,
 * resumed after the `ud2`) or a BUG (reported, then unhandled: the kernel oopses). Anything else
 * goes to the previous handler (the exception table).
 */
export function installBugTable(m: Machine, sections: readonly ImageSection[], note: (n: PlatformNote) => void, describe: (a: bigint) => string): void {
  const bugs = entries(sections);
  if (bugs.size === 0) return;
  const next: FaultHandler | undefined = m.faultHandler;
  m.faultHandler = (fault, insn) => {
    const at = insn ? addrToBig(insn.addr) : undefined;
    const bug = fault.vector === UD_VECTOR && at !== undefined ? bugs.get(at) : undefined;
    if (!bug || at === undefined) return next?.(fault, insn) ?? false;
    const flagsAt = bug.entry + 10n;
    const flags = m.readBytes(flagsAt, 2)[0] | (m.readBytes(flagsAt + 1n, 1)[0] << 8);
    const where = `${cString(m, bug.file)}:${bug.line}`;
    if (!(flags & BUGFLAG_WARNING)) {
      note({ kind: 'log', level: 'error', text: `kernel BUG at ${where}! (${describe(at)})`, address: at });
      return next?.(fault, insn) ?? false;
    }
    if (!(flags & BUGFLAG_DONE)) {
      note({ kind: 'log', level: 'warning', text: `WARNING: at ${where} ${describe(at)}`, address: at });
      if (flags & BUGFLAG_ONCE) m.writeBytes(flagsAt, new Uint8Array([(flags | BUGFLAG_DONE) & 0xff, (flags | BUGFLAG_DONE) >> 8]));
    }
    m.setReg('rip', at + BigInt(UD2_LENGTH));
    return true;
  };
}
