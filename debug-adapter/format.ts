// Presentation helpers shared by the request modules: hex text, memory references and the
// parsing of numbers that come back from the client (memory references, instruction addresses).

/** `0x…` of the unsigned 64-bit value, minimal digits. */
export function hex(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** `0x` + 16 digits: register values line up in the Variables view. */
export function hex16(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

/** Zero-padded to the width of `bytes`. */
export function hexWidth(v: bigint, bytes: number): string {
  return '0x' + BigInt.asUintN(bytes * 8, v).toString(16).padStart(bytes * 2, '0');
}

/** Parses a memory reference or address from the client: `0x…`, decimal, or a signed canonical number. */
export function parseAddress(text: string | number | undefined): bigint | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) ? BigInt.asUintN(64, BigInt(text)) : undefined;
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (/^0x[0-9a-f]{1,16}$/i.test(t) || /^\d{1,20}$/.test(t)) {
    const v = BigInt(t);
    return v < 1n << 64n ? v : undefined;
  }
  return undefined;
}

/** The address as the signed canonical number the machine's decoder uses (exact for canonical addresses). */
export function toNumberAddress(v: bigint): number {
  return Number(BigInt.asIntN(64, v));
}

export function fromNumberAddress(n: number): bigint {
  return BigInt.asUintN(64, BigInt(n));
}

/** Base64 of bytes (readMemory). */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}
