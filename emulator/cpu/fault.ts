// Processor exceptions raised by instruction semantics. One type is thrown deep inside an
// instruction and caught once by the machine, which rewinds RIP to the faulting instruction.

/** Exception vectors the emulator raises. */
export const enum Vector { DE = 0, DB = 1, BP = 3, UD = 6, NM = 7, DF = 8, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17 }

export { VECTOR_NAMES } from '../x86/registers';

export class CpuFault {
  constructor(
    readonly vector: number,
    /** Error code pushed by the exception, when it has one (#GP, #SS, #PF). */
    readonly errorCode: number | undefined,
    readonly message: string,
    /** Faulting linear address for #PF (CR2). */
    readonly address?: number,
  ) {}
}

export function gp(message: string, code = 0): CpuFault {
  return new CpuFault(Vector.GP, code, message);
}

export function ud(message: string): CpuFault {
  return new CpuFault(Vector.UD, undefined, message);
}
