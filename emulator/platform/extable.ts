// Exception delivery through the Image's kernel exception table (Linux arch/x86/mm/extable.c);
// the entries' format and the EX_TYPE_*/EX_FLAG_* values live in loader/elf/exTable.ts. A DEFAULT
// entry resumes at the fixup (clearing AX/DX when its flags say so); a FAULT entry first puts
// the trap number in RAX — how the kernel turns #GP/#UD on SEAMCALL into TDX_SEAMCALL_GP/UD.
// With no entry the fault stays unhandled and the run stops (the kernel would oops).

import { addrToBig } from '../cpu/cpu';
import { CpuFault, VECTOR_NAMES } from '../cpu/fault';
import { EX_FLAG_CLEAR_AX, EX_FLAG_CLEAR_DX, EX_TYPE_DEFAULT, EX_TYPE_FAULT, exTypeAndFlags } from '../loader/elf/exTable';
import type { ExTableEntry } from '../loader/image';
import type { Machine } from '../machine';
import type { PlatformNote } from './events';

/** What the last fixup did, or why a fault stayed unhandled. */
export interface FixupRecord {
  vector: number;
  from: bigint;
  to?: bigint;
  type?: number;
}

export class ExceptionTable {
  private readonly byInsn = new Map<bigint, ExTableEntry>();
  /** The last fault delivered (fixed up or not), for exceptionInfo. */
  last: FixupRecord | undefined;

  constructor(entries: readonly ExTableEntry[], private readonly note: (n: PlatformNote) => void) {
    for (const e of entries) this.byInsn.set(e.insn, e);
  }

  has(address: bigint): boolean {
    return this.byInsn.has(address);
  }

  /** Installs the delivery hook on a machine. */
  attach(m: Machine): void {
    m.faultHandler = (fault, insn) => (insn ? this.deliver(m, fault, addrToBig(insn.addr)) : false);
  }

  private deliver(m: Machine, fault: CpuFault, at: bigint): boolean {
    const e = this.byInsn.get(at);
    this.last = { vector: fault.vector, from: at };
    if (!e) return false;
    const { type, flags } = exTypeAndFlags(e.type);
    if (type !== EX_TYPE_DEFAULT && type !== EX_TYPE_FAULT) return false;
    const c = m.cpu;
    if (type === EX_TYPE_FAULT) c.setGpr(0, BigInt(fault.vector));
    if (flags & EX_FLAG_CLEAR_AX) c.setGpr(0, 0n);
    if (flags & EX_FLAG_CLEAR_DX) c.setGpr(2, 0n);
    m.setReg('rip', e.fixup);
    this.last = { vector: fault.vector, from: at, to: e.fixup, type };
    const name = VECTOR_NAMES[fault.vector] ?? `vector ${fault.vector}`;
    this.note({
      kind: 'fixup', vector: fault.vector, from: at, to: e.fixup, type,
      message: `${name} at 0x${at.toString(16)} fixed up by the exception table (${type === EX_TYPE_FAULT ? `EX_TYPE_FAULT: RAX = ${fault.vector}` : 'EX_TYPE_DEFAULT'}), resuming at 0x${e.fixup.toString(16)}`,
    });
    return true;
  }
}
