// The assembler's table-driven legacy encoder (emulator/decode/fastEncode.ts) against iced-x86's
// encoder, which it stands in for: for every form it covers, with registers of every kind (REX,
// high bytes, rsp/rbp/r12/r13 as bases), memory operands of every addressing shape, immediates
// at their field's edges, branches and RIP-relative targets near and out of range, its bytes
// equal iced's, and where iced refuses a request it declines it (the assembler then asks iced,
// which reports the error). The bytes that reach an object are checked against GNU as by the
// assembler fixtures and the kernel corpus.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EncMem, EncOperand, EncRequest, encodeWithIced } from '../../emulator/decode/encoder';
import { fastCodes, fastEncode } from '../../emulator/decode/fastEncode';

const REGS: Record<number, string[]> = {
  8: ['al', 'cl', 'ah', 'bh', 'spl', 'sil', 'r8b', 'r15b'],
  16: ['ax', 'dx', 'sp', 'bp', 'r9w', 'r15w'],
  32: ['eax', 'ebx', 'esp', 'edi', 'r8d', 'r13d'],
  64: ['rax', 'rcx', 'rsp', 'rbp', 'rdi', 'r8', 'r12', 'r13', 'r15'],
};

const IP = 0xffffffff81000100n;
const mem = (m: Partial<EncMem>): EncMem => ({ kind: 'mem', scale: 1, disp: 0n, dispSize: 0, ...m });
const MEMS: EncMem[] = [
  mem({ base: 'rax' }),
  mem({ base: 'rsp' }),
  mem({ base: 'rbp' }),
  mem({ base: 'r12', disp: 8n }),
  mem({ base: 'r13' }),
  mem({ base: 'rdi', disp: -8n }),
  mem({ base: 'rsi', disp: 0x80n }),
  mem({ base: 'rdx', disp: -0x81n }),
  mem({ base: 'rbx', dispSize: 1 }),
  mem({ base: 'rcx', disp: 4n, dispSize: 4 }),
  mem({ base: 'r9', disp: 0x7fffffffn }),
  mem({ base: 'r9', disp: 0x80000000n }),
  mem({ base: 'rbx', index: 'rcx', scale: 4, disp: 8n }),
  mem({ base: 'r14', index: 'r11', scale: 8, disp: -0x1000n }),
  mem({ base: 'rbp', index: 'rax', scale: 2 }),
  mem({ base: 'r13', index: 'r12', scale: 1 }),
  mem({ base: 'rsp', index: 'rbp', scale: 8, disp: 1n }),
  mem({ index: 'rdx', scale: 2, disp: 0x100n }),
  mem({ index: 'r10', scale: 8 }),
  mem({ disp: 0x1000n }),
  mem({ disp: BigInt.asUintN(64, -0x1000n) }),
  mem({ base: 'rip', disp: IP + 0x1234n }),
  mem({ base: 'rip', disp: IP - 0x10n }),
  mem({ base: 'rip', disp: IP + 0x100000000n }),
  mem({ base: 'rax', seg: 'gs', disp: 0x28n }),
  mem({ seg: 'fs', disp: 0x10n }),
  mem({ base: 'eax' }),
  mem({ base: 'rax', index: 'rsp' }),
];

const IMMS: Record<number, bigint[]> = {
  8: [0n, 1n, -1n, 0x7fn, -0x80n, 0xffn],
  16: [0n, 2n, -2n, 0x1234n, 0x7fffn, -0x8000n],
  32: [0n, 5n, -1n, 0x12345678n, 0x7fffffffn, -0x80000000n, 0xffffffffn],
  64: [0n, -1n, 0x123456789abcdef0n, -0x8000000000000000n, 0x7fffffffn],
};

const BRANCHES = [IP + 2n, IP + 0x7fn, IP - 0x80n, IP + 0x90n, IP - 0x7ffffff0n, IP + 0x100000000n];

/** The operand kinds of an iced Code name, in Intel order. */
function operandKinds(code: string): string[] {
  const parts = code.split('_').slice(1);
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (/^rel(8|32)$/.test(parts[i])) { out.push('rel'); i++; continue; }
    out.push(parts[i]);
  }
  return out;
}

function candidates(kind: string): EncOperand[] {
  let m: RegExpExecArray | null;
  if ((m = /^r(8|16|32|64)$/.exec(kind))) return REGS[+m[1]].map((reg) => ({ kind: 'reg', reg }));
  if ((m = /^rm(8|16|32|64)$/.exec(kind))) return [...REGS[+m[1]].map((reg): EncOperand => ({ kind: 'reg', reg })), ...MEMS];
  if (kind === 'm') return MEMS;
  if ((m = /^imm(8|16|32|64)$/.exec(kind))) return IMMS[+m[1]].map((value) => ({ kind: 'imm', value }));
  if ((m = /^r(32|64)m16$/.exec(kind))) return [...REGS[+m[1]].map((reg): EncOperand => ({ kind: 'reg', reg })), ...MEMS];
  if (kind === 'm1664') return MEMS;
  if (kind === 'cr') return ['cr0', 'cr2', 'cr3', 'cr4', 'cr8', 'cr15'].map((reg) => ({ kind: 'reg', reg }));
  if (kind === 'Sreg') return ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].map((reg) => ({ kind: 'reg', reg }));
  if (kind === '1') return [{ kind: 'imm', value: 1n }];
  if (kind === 'CL') return [{ kind: 'reg', reg: 'cl' }, { kind: 'reg', reg: 'dl' }];
  if (['AL', 'AX', 'EAX', 'RAX'].includes(kind)) return [{ kind: 'reg', reg: kind.toLowerCase() }];
  if (kind === 'rel') return BRANCHES.map((target) => ({ kind: 'branch', target }));
  throw new Error(`no candidates for operand kind ${kind}`);
}

function* requests(code: string): Generator<EncRequest> {
  const kinds = operandKinds(code);
  const lists = kinds.map(candidates);
  const idx = lists.map(() => 0);
  for (;;) {
    yield { code, ops: lists.map((l, i) => l[idx[i]]), ip: IP };
    let k = lists.length - 1;
    while (k >= 0 && ++idx[k] === lists[k].length) idx[k--] = 0;
    if (k < 0) return;
  }
}

const show = (r: EncRequest) => `${r.code} ${r.ops.map((o) => JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))).join(', ')}`;
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'declined');

test('the fast legacy encoder gives iced-x86 bytes for every request it takes, and declines what iced refuses', () => {
  let taken = 0;
  let total = 0;
  const mismatches: string[] = [];
  const takenOf = new Map<string, number>();
  for (const code of fastCodes()) {
    for (const req of requests(code)) {
      total++;
      let want: Uint8Array | undefined;
      try {
        want = encodeWithIced(req);
      } catch {
        want = undefined;
      }
      const got = fastEncode(req);
      if (got) taken++;
      if (got) takenOf.set(code, (takenOf.get(code) ?? 0) + 1);
      if (got && (!want || hex(got) !== hex(want))) mismatches.push(`${show(req)}: fast ${hex(got)}, iced ${want ? hex(want) : 'refuses'}`);
    }
  }
  assert.deepEqual(mismatches.slice(0, 20), [], `${mismatches.length} of ${total} requests differ`);
  // The table must actually carry the common forms: most requests that iced encodes are taken.
  assert.ok(taken > total * 0.7, `the fast encoder took only ${taken} of ${total} requests`);
  // Every form is taken for some request: a form it always declined would be tested by nothing.
  assert.deepEqual(fastCodes().filter((c) => !takenOf.get(c)), []);
});

test('the fast encoder declines EVEX decorations, 32-bit code and prefixes it does not model', () => {
  const ops: EncOperand[] = [{ kind: 'reg', reg: 'rax' }, { kind: 'reg', reg: 'rbx' }];
  assert.ok(fastEncode({ code: 'Mov_rm64_r64', ops, ip: 0n }));
  assert.equal(fastEncode({ code: 'Mov_rm64_r64', ops, ip: 0n, bitness: 32 }), undefined);
  assert.equal(fastEncode({ code: 'Mov_rm64_r64', ops, ip: 0n, prefix: 'lock' }), undefined);
  assert.equal(fastEncode({ code: 'Mov_rm64_r64', ops, ip: 0n, evex: { zeroing: true } }), undefined);
  assert.equal(fastEncode({ code: 'VEX_Vzeroupper', ops: [], ip: 0n }), undefined);
});
