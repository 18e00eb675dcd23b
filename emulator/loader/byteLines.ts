// Source lines for TDCALL/SEAMCALL written as `.byte` data in assembly objects. GNU as emits no
// line row for `.byte`, so in an object built by gcc/as the kernel's `tdcall` macro
// (`.byte 0x66,0x0f,0x01,0xcc`, Linux 6.1 tdcall.S) is attributed to the line before it (often
// `sti`). Decision: fix the Image's line table once, at load time, so that every consumer
// (breakpoints, stepping, the stack, the timeline) sees the `tdcall` line own its 4 bytes.

import type { Image, LineEntry } from './image';
import { decodeOne } from '../decode/decoder';

/** TDCALL and SEAMCALL encodings (Linux asm/tdx.h: RAX leaf and version). */
const CALL_BYTES: Record<string, number[]> = { tdcall: [0x66, 0x0f, 0x01, 0xcc], seamcall: [0x66, 0x0f, 0x01, 0xcf] };

/** How far past a row's line a `.byte` call line may sit when the next row gives no bound. */
const MAX_GAP = 40;

/**
 * Splits the line entries of assembly files (`.S`/`.s`) whose range holds a TDCALL or SEAMCALL
 * after its first instruction: the call's bytes move to the first later source line (before the
 * next row's line) that writes that call with no row of its own — a `tdcall`/`seamcall` macro
 * statement, a `TDCALL`/`SEAMCALL` define, or the `.byte` sequence itself. Macro invocations
 * (whose rows already cover the expansion) and ranges with no such line are left alone.
 * Needs the source texts in `image.sources`; returns how many calls were re-attributed.
 */
export function attributeByteCallLines(image: Image): number {
  const sorted = [...image.lines].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const out: LineEntry[] = [];
  let moved = 0;
  const stripped = new Map<string, string[] | null>();
  const linesOf = (file: string): string[] | null => {
    if (!stripped.has(file)) {
      const text = image.sources.get(file);
      stripped.set(file, text === undefined ? null : stripComments(text).split('\n'));
    }
    return stripped.get(file) ?? null;
  };
  for (let k = 0; k < sorted.length; k++) {
    const e = sorted[k];
    const src = /\.(S|s|sx|asm)$/.test(e.file) && e.length > 1 ? linesOf(e.file) : null;
    if (!src || e.expansion?.length) { out.push(e); continue; }
    const bytes = bytesAt(image, e.address, e.length);
    if (!bytes) { out.push(e); continue; }
    // The next row of the same file bounds where the `.byte` line can be.
    const next = sorted.slice(k + 1).find((x) => x.file === e.file);
    const bound = next && next.line > e.line ? next.line : e.line + MAX_GAP;
    let searchFrom = e.line + 1;
    let start = 0;
    const pieces: LineEntry[] = [];
    for (let off = 0; off < bytes.length;) {
      const d = decodeOne(bytes.subarray(off, Math.min(bytes.length, off + 15)), 0);
      if (!('insn' in d)) break;
      const kind = off > 0 ? callKind(bytes, off) : undefined;
      if (kind) {
        const line = findCallLine(src, kind, searchFrom, bound);
        if (line !== undefined) {
          if (off > start) pieces.push({ ...e, address: e.address + BigInt(start), length: off - start });
          pieces.push({ ...e, address: e.address + BigInt(off), length: 4, line });
          start = off + 4;
          searchFrom = line + 1;
          moved++;
        }
      }
      off += d.insn.len;
    }
    if (pieces.length === 0) { out.push(e); continue; }
    if (start < e.length) pieces.push({ ...e, address: e.address + BigInt(start), length: e.length - start });
    out.push(...pieces);
  }
  if (moved) image.lines.splice(0, image.lines.length, ...out);
  return moved;
}

function callKind(b: Uint8Array, off: number): 'tdcall' | 'seamcall' | undefined {
  for (const [k, enc] of Object.entries(CALL_BYTES)) {
    if (enc.every((x, j) => b[off + j] === x)) return k as 'tdcall' | 'seamcall';
  }
  return undefined;
}

/** The first line in [from, to) that writes this call as a statement (1-based line numbers). */
function findCallLine(src: string[], kind: 'tdcall' | 'seamcall', from: number, to: number): number | undefined {
  const last = CALL_BYTES[kind][3].toString(16);
  const word = new RegExp(`^\\s*(?:[\\w.$]+:\\s*)*(?:${kind})\\s*(?:;.*)?$`, 'i');
  const bytes = new RegExp(`^\\s*(?:[\\w.$]+:\\s*)*\\.byte\\s+0x66\\s*,\\s*0x0?f\\s*,\\s*0x0?1\\s*,\\s*0x${last}\\b`, 'i');
  for (let n = from; n < to && n <= src.length; n++) {
    const t = src[n - 1];
    if (word.test(t) || bytes.test(t)) return n;
  }
  return undefined;
}

/** Block and line comments blanked out, line breaks kept (line numbers stay right). */
function stripComments(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/\/\/.*$/gm, '')
    .replace(/^[ \t]*#.*$/gm, '');
}

function bytesAt(image: Image, address: bigint, length: number): Uint8Array | undefined {
  for (const s of image.sections) {
    if (!s.exec || address < s.address || address + BigInt(length) > s.address + BigInt(s.bytes.length)) continue;
    const o = Number(address - s.address);
    return s.bytes.subarray(o, o + length);
  }
  return undefined;
}
