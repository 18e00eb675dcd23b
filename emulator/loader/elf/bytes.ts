// Bounds-checked little-endian reading over one section (or the whole file) for the ELF and
// DWARF readers. Every read past the end fails with the section and offset, so a truncated or
// hostile object is rejected where it goes wrong instead of reading garbage or throwing a
// RangeError from a DataView.

import { ElfPlace, fail } from './errors';

/** A cursor over `bytes`, which are the contents of section `section` of file `file`. */
export class ByteReader {
  private readonly view: DataView;
  /** Current offset from the start of `bytes`. */
  pos = 0;

  constructor(readonly bytes: Uint8Array, readonly file: string, readonly section: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** The place at `offset` (default: the cursor), for error messages. */
  at(offset = this.pos): ElfPlace {
    return { file: this.file, section: this.section, offset };
  }

  fail(message: string, offset = this.pos): never {
    return fail(this.at(offset), message);
  }

  /** Fails unless `n` bytes can be read at `offset`. */
  need(n: number, offset = this.pos, what = 'data'): void {
    if (!(n >= 0 && offset >= 0 && offset <= this.bytes.length && n <= this.bytes.length - offset)) {
      this.fail(`${what} (${n} bytes) runs past the end (${this.bytes.length} bytes)`, offset);
    }
  }

  seek(offset: number): void {
    if (!(offset >= 0 && offset <= this.bytes.length)) this.fail(`offset 0x${offset.toString(16)} is outside the section (${this.bytes.length} bytes)`, this.pos);
    this.pos = offset;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A 64-bit size or offset that must index this file: fails beyond 2^53 instead of losing bits. */
  u64n(what: string): number {
    const at = this.pos;
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} 0x${v.toString(16)} is absurd`, at);
    return Number(v);
  }

  /** An unsigned integer of `size` bytes (1, 2, 4 or 8). */
  uN(size: number): bigint {
    switch (size) {
      case 1: return BigInt(this.u8());
      case 2: return BigInt(this.u16());
      case 4: return BigInt(this.u32());
      case 8: return this.u64();
      default: return this.fail(`unsupported field size ${size}`);
    }
  }

  /** ULEB128 as a bigint; more than 10 bytes (a 64-bit value) is rejected as corrupt. */
  uleb(): bigint {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('LEB128 number runs past the end', start);
      const b = this.bytes[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return BigInt.asUintN(64, v);
      shift += 7n;
      if (shift >= 70n) this.fail('LEB128 number longer than 10 bytes', start);
    }
  }

  sleb(): bigint {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('LEB128 number runs past the end', start);
      const b = this.bytes[this.pos++];
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return BigInt.asIntN(64, b & 0x40 ? v - (1n << shift) : v);
      if (shift >= 70n) this.fail('LEB128 number longer than 10 bytes', start);
    }
  }

  /** ULEB128 that must be a count or index no larger than `max` (a bound taken from the input's size). */
  ulebNum(what: string, max: number): number {
    const at = this.pos;
    const v = this.uleb();
    if (v > BigInt(max)) this.fail(`${what} ${v} is too large`, at);
    return Number(v);
  }

  /** A NUL-terminated string starting at the cursor. */
  cstr(): string {
    const s = cstrAt(this.bytes, this.pos);
    if (s === undefined) this.fail('unterminated string');
    this.pos += s.length + 1;
    return s.text;
  }

  bytesN(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

const utf8 = new TextDecoder('utf-8');

/** The NUL-terminated string at `offset` (its text and byte length), or undefined if unterminated. */
export function cstrAt(bytes: Uint8Array, offset: number): { text: string; length: number } | undefined {
  if (!(offset >= 0 && offset < bytes.length)) return undefined;
  const end = bytes.indexOf(0, offset);
  if (end < 0) return undefined;
  return { text: utf8.decode(bytes.subarray(offset, end)), length: end - offset };
}

/** `0x1c` */
export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}
