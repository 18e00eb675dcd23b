// A minimal `TdxCpuAccess`: 16 registers and sparse byte memory with optional mapped ranges.
// For unit tests and plain scripts that drive the TDX module without the CPU emulator; the
// emulator's own adapter over Machine replaces it in real runs.

import { u64, type GprIndex, type TdxCpuAccess } from './types';

export class SimpleTdxCpu implements TdxCpuAccess {
  /** GPRs in encoding order. */
  readonly regs: bigint[] = new Array<bigint>(16).fill(0n);
  private readonly bytes = new Map<bigint, number>();

  /** `mapped`: ranges that `isMapped` reports as present; omitted = everything is mapped. */
  constructor(private readonly mapped?: { gpa: bigint; size: bigint }[]) {}

  getReg(i: GprIndex): bigint {
    return this.regs[i];
  }

  setReg(i: GprIndex, v: bigint): void {
    this.regs[i] = u64(v);
  }

  readMemory(gpa: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.bytes.get(gpa + BigInt(i)) ?? 0;
    return out;
  }

  writeMemory(gpa: bigint, data: Uint8Array): void {
    // Zero-filling large ranges (page accept) must not bloat the map.
    data.forEach((b, i) => (b === 0 ? this.bytes.delete(gpa + BigInt(i)) : this.bytes.set(gpa + BigInt(i), b)));
  }

  isMapped(gpa: bigint, len: number): boolean {
    if (!this.mapped) return true;
    return this.mapped.some((r) => gpa >= r.gpa && gpa + BigInt(len) <= r.gpa + r.size);
  }

  /** Little-endian u64 helpers for test set-up. */
  writeU64(gpa: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, u64(v), true);
    this.writeMemory(gpa, b);
  }

  readU64(gpa: bigint): bigint {
    return new DataView(this.readMemory(gpa, 8).buffer).getBigUint64(0, true);
  }
}
