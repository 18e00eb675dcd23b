// The `disassemble` request: GAS/AT&T by default (Intel when the launch configuration or the
// request asks), with symbols and source lines. Inside the Image the instruction list comes
// from a linear sweep of the executable sections (so negative instruction offsets work);
// elsewhere mapped memory is decoded forward, and unreadable addresses become "invalid" rows
// so the client always gets exactly the count it asked for.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { disassemble, type Flavor } from '../emulator/decode/decoder';
import { notAnAddress, ErrorCode, silentError } from './errors';
import { fromNumberAddress, hex, parseAddress, toNumberAddress } from './format';
import type { ImageInsn, Target } from './target';

/** Largest |instructionOffset| served outside the Image (each step there is a decode). */
export const MAX_OUTSIDE_OFFSET = 100_000;

/** Custom field of the request: `"flavor": "intel"` overrides the launch configuration. */
type Args = DebugProtocol.DisassembleArguments & { flavor?: Flavor };

export function disassembleRequest(t: Target, args: Args): DebugProtocol.DisassembleResponse['body'] {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw notAnAddress(args.memoryReference);
  const count = args.instructionCount;
  if (!Number.isInteger(count) || count < 0 || count > 100_000) throw silentError(ErrorCode.BadArguments, 'instructionCount must be an integer from 0 to 100000');
  const flavor: Flavor = args.flavor === 'intel' || args.flavor === 'att' ? args.flavor : t.flavor;
  const start = BigInt.asUintN(64, base + BigInt(Number.isInteger(args.offset) ? args.offset! : 0));
  const list = t.instructions(flavor);
  const first = list.length ? list[0].address : 0n, end = list.length ? list[list.length - 1].address + BigInt(list[list.length - 1].length) : 0n;
  const rows: ImageInsn[] = [];
  const offset = Number.isInteger(args.instructionOffset) ? args.instructionOffset! : 0;
  if (start >= first && start < end) {
    // Index of the instruction containing `start`, then move by instructionOffset.
    let lo = 0, hi = list.length - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (list[mid].address <= start) lo = mid; else hi = mid - 1; }
    let i = lo + offset;
    for (let k = 0; k < count; k++, i++) rows.push(i >= 0 && i < list.length ? list[i] : placeholder(i < 0 ? first + BigInt(i) : end + BigInt(i - list.length)));
  } else {
    // Outside the Image instruction boundaries are found by decoding forward from the address,
    // one instruction at a time: the offset is bounded like the count.
    if (Math.abs(offset) > MAX_OUTSIDE_OFFSET) throw silentError(ErrorCode.BadArguments, `instructionOffset ${offset} is beyond ±${MAX_OUTSIDE_OFFSET} at ${hex(start)}, outside the program's code`);
    let a = start;
    if (offset < 0) { for (let k = offset; k < 0 && rows.length < count; k++) rows.push(placeholder(start + BigInt(k))); }
    else for (let k = 0; k < offset; k++) a += BigInt(decodeAt(t, a, flavor).length);
    while (rows.length < count) { const r = decodeAt(t, a, flavor); rows.push(r); a += BigInt(r.length); }
  }
  let lastKey = '';
  let lastSym = '';
  const instructions = rows.map((r): DebugProtocol.DisassembledInstruction => {
    const out: DebugProtocol.DisassembledInstruction = { address: hex(r.address), instruction: r.text, instructionBytes: [...r.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ') };
    if (!r.bytes.length) { out.presentationHint = 'invalid'; return out; }
    const sym = t.session.symbolize(r.address);
    if (sym && args.resolveSymbols !== false) {
      const s = sym.offset ? `${sym.name}+0x${sym.offset.toString(16)}` : sym.name;
      if (sym.name !== lastSym || sym.offset === 0n) out.symbol = s;
      lastSym = sym.name;
    }
    const p = t.positions(r.address);
    if (p.length) {
      const inner = p[p.length - 1];
      const k = `${inner.file}:${inner.line}`;
      if (k !== lastKey) { out.location = t.source(inner.file); out.line = inner.line; lastKey = k; }
    }
    return out;
  });
  return { instructions };
}

function placeholder(a: bigint): ImageInsn {
  return { address: BigInt.asUintN(64, a), length: 1, text: '??', bytes: new Uint8Array(0) };
}

/** One instruction from machine memory; unmapped → a one-byte invalid row. */
function decodeAt(t: Target, a: bigint, flavor: Flavor): ImageInsn {
  const n = toNumberAddress(a);
  const len = t.session.mappedLength(a, 15);
  if (len === 0) return placeholder(a);
  const bytes = t.machine.readBytes(a, len);
  const d = disassemble(bytes, n, flavor, 1)[0];
  if (!d) return { address: a, length: 1, text: '(bad)', bytes: bytes.slice(0, 1) };
  return { address: fromNumberAddress(d.address), length: d.length, text: d.text, bytes: d.bytes };
}
