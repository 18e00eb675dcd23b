// What system instructions reach outside the register file: CPUID answers, the MSR file,
// control-register side effects, and the platform (VMX, TDX) hook. The machine provides one
// implementation; the platform layer replaces the TDX/VMX part.

import type { Cpu } from './cpu';
import type { Insn } from '../decode/insn';

/** The VMX/TDX instructions that leave the CPU model for the platform. */
export type PlatformInsn = 'tdcall' | 'seamcall' | 'vmcall' | 'vmxon' | 'vmxoff';

export interface SystemHooks {
  /** CPUID answer for leaf/subleaf as [eax, ebx, ecx, edx] (uint32 each). */
  cpuid(leaf: number, subleaf: number): [number, number, number, number];
  /** Value of an MSR, or undefined when the machine does not model it (#GP). */
  rdmsr(c: Cpu, msr: number): bigint | undefined;
  /** Writes an MSR; false when not modelled or the value is invalid (#GP). */
  wrmsr(c: Cpu, msr: number, value: bigint): boolean;
  /** Runs a platform instruction; RIP already points past it. May throw a CpuFault or a MachineStop. */
  platform(c: Cpu, i: Insn, kind: PlatformInsn): void;
}

/** Thrown by an instruction to end the run with a reason other than a processor exception. */
export class MachineStop {
  constructor(
    readonly kind: 'halt' | 'int3' | 'not-emulated' | 'platform' | 'returned',
    readonly message: string,
    /** True when RIP must point back at the instruction (nothing was executed). */
    readonly rewind: boolean,
    /** Extra data for the platform's stops. */
    readonly detail?: unknown,
  ) {}
}

/**
 * The one shape of a "not emulated" stop: `not emulated: <what>`, RIP rewound to the instruction.
 * With an instruction, <what> is its text and address, then `: <why>` when a reason is given.
 */
export function notEmulated(what: string): MachineStop;
export function notEmulated(i: Insn, why?: string): MachineStop;
export function notEmulated(what: string | Insn, why?: string): MachineStop {
  const text = typeof what === 'string' ? what
    : `${what.text()} at 0x${BigInt.asUintN(64, BigInt(what.addr)).toString(16)}${why === undefined ? '' : `: ${why}`}`;
  return new MachineStop('not-emulated', `not emulated: ${text}`, true);
}
