// Reads bytes at virtual addresses out of an ELF64 executable through its PT_LOAD program
// headers, so the emulator runs exactly the machine code the native run executed.

import { readFileSync } from 'node:fs';

export class ElfImage {
  private readonly file: Buffer;
  private readonly segments: { vaddr: bigint; offset: number; filesz: number }[] = [];

  constructor(path: string) {
    this.file = readFileSync(path);
    const f = this.file;
    if (f.readUInt32BE(0) !== 0x7f454c46 || f[4] !== 2 || f[5] !== 1) throw new Error(`${path}: not a little-endian ELF64 file`);
    const phoff = Number(f.readBigUInt64LE(0x20));
    const phentsize = f.readUInt16LE(0x36);
    const phnum = f.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) {
      const p = phoff + i * phentsize;
      if (f.readUInt32LE(p) !== 1) continue; // PT_LOAD
      this.segments.push({ offset: Number(f.readBigUInt64LE(p + 8)), vaddr: f.readBigUInt64LE(p + 16), filesz: Number(f.readBigUInt64LE(p + 32)) });
    }
  }

  /** `length` bytes at `address`, which must lie in a loaded segment; zeros past its file image. */
  read(address: bigint, length: number): Uint8Array {
    for (const s of this.segments) {
      const rel = address - s.vaddr;
      if (rel >= 0n && rel < BigInt(s.filesz)) {
        const start = s.offset + Number(rel);
        const out = new Uint8Array(length);
        out.set(this.file.subarray(start, Math.min(start + length, s.offset + s.filesz)));
        return out;
      }
    }
    throw new Error(`no loaded segment holds 0x${address.toString(16)}`);
  }
}
