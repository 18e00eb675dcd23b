// Blocks that run on through direct calls, direct jumps and predicted returns (exec/table.ts
// InsnRecord.trace): the same stops, counts and call frames as instruction-by-instruction
// execution. Programs are assembled by GNU as; expected values follow from the programs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, DATA, STACK_TOP } from '../support/program';

const MODES = [['interpreted', Infinity], ['compiled', 0]] as const;

// A loop that calls a leaf 50 times: the block from the loop head runs through the call, the
// callee and its return (11 instructions a pass).
const CALLS = `mov $0, %eax\n mov $0, %ecx\n h: call f\n add $1, %ecx\n j: jmp k\n k: cmp $50, %ecx\n jb h\n ret
  f: add $2, %eax\n g: add $3, %eax\n ret`;

test('traced blocks: calls, jumps and returns inside a block keep the result, the instruction count and the budget exact', () => {
  for (const [what, blockThreshold] of MODES) {
    let p = load(CALLS, { machine: { blockThreshold } });
    let r = p.m.run(1e6);
    assert.equal(r.kind, 'returned', what);
    assert.equal(p.m.getReg('eax'), 250n, what);
    // 2 set-up, 8 a pass (call, add, add, ret, add, jmp, cmp, jb) × 50, the final ret.
    assert.equal(p.m.instructionCount, 2 + 8 * 50 + 1, what);
    if (blockThreshold === 0) assert.equal(p.m.insnAt(Number(p.sym('h'))).block?.n, 8, 'one block for the whole pass');
    // A budget that ends inside the callee of the 4th pass: 2 + 3 × 8 + call + add.
    p = load(CALLS, { machine: { blockThreshold } });
    r = p.m.run(2 + 3 * 8 + 2);
    assert.equal(r.kind, 'budget', what);
    assert.equal(p.m.getReg('rip'), p.sym('g'), what);
    assert.equal(p.m.getReg('eax'), 3n * 5n + 2n, what);
    assert.equal(p.m.cpu.ssN, 1, `${what}: one frame (the call to f)`);
  }
});

test('traced blocks: a breakpoint inside the callee, set after the block was built, stops there with the caller\'s frame', () => {
  for (const [what, blockThreshold] of MODES) {
    const p = load(CALLS, { machine: { blockThreshold } });
    assert.equal(p.m.run(2 + 8 * 10).kind, 'budget', what);
    p.m.addBreakpoint(p.sym('g'));
    const r = p.m.run(1e6);
    assert.equal(r.kind, 'breakpoint', what);
    assert.equal(r.address, p.sym('g'), what);
    assert.equal(p.m.instructionCount, 2 + 8 * 10 + 2, what);
    assert.equal(p.m.getReg('rsp'), STACK_TOP - 16n, `${what}: the return address is pushed`);
    assert.equal(p.m.cpu.ssN, 1, what);
    assert.equal(p.m.cpu.ssRet[0], Number(p.sym('h')) + 5, `${what}: the frame returns after the call`);
    // And after the return, the frame is gone; the breakpoint meets every later pass.
    p.m.removeBreakpoint(p.sym('g'));
    p.m.addBreakpoint(p.sym('j'));
    assert.equal(p.m.run(1e6).kind, 'breakpoint', what);
    assert.equal(p.m.cpu.ssN, 0, what);
    assert.equal(p.m.getReg('ecx'), 11n, what);
  }
});

test('traced blocks: a return to another address than the call\'s leaves the block there', () => {
  // f replaces its return address: execution continues at `o`, never after the call.
  const src = `mov $0, %ebx\n mov $0, %ecx\n h: call f\n mov $1, %ebx\n ret
    o: add $1, %ecx\n cmp $20, %ecx\n jb h\n ret
    f: lea o(%rip), %rdx\n mov %rdx, (%rsp)\n ret`;
  for (const [what, blockThreshold] of MODES) {
    const p = load(src, { machine: { blockThreshold } });
    const r = p.m.run(1e6);
    assert.equal(r.kind, 'returned', what);
    assert.equal(p.m.getReg('ebx'), 0n, `${what}: the instruction after the call never ran`);
    assert.equal(p.m.getReg('ecx'), 20n, what);
    // 2 set-up, 7 a pass (call, lea, mov, ret, add, cmp, jb) × 20, the final ret.
    assert.equal(p.m.instructionCount, 2 + 7 * 20 + 1, what);
  }
});

test('traced blocks: a fault inside the callee is precise, and a watched write there stops right after it', () => {
  const src = `mov $1, %eax\n mov $${DATA}, %rdi\n h: call f\n add $1, %eax\n cmp $9, %eax\n jb h\n ret
    f: add $1, %eax\n w: mov %eax, (%rdi)\n x: mov (%rsi), %rbx\n ret`;
  for (const [what, blockThreshold] of MODES) {
    let p = load(src, { machine: { blockThreshold } });
    p.m.setReg('rsi', BigInt(DATA));
    assert.equal(p.m.run(2 + 8 * 2).kind, 'budget', what);
    // 8 a pass (call, add, mov, mov, ret, add, cmp, jb); the third reads from an unmapped page.
    p.m.setReg('rsi', 0x12345000n);
    let r = p.m.run(1e6);
    assert.equal(r.kind, 'fault', what);
    assert.equal(r.vector, 14, what);
    assert.equal(p.m.getReg('rip'), p.sym('x'), what);
    assert.equal(p.m.instructionCount, 2 + 8 * 2 + 3, what);
    assert.equal(p.m.getReg('eax'), 6n, what);
    assert.equal(p.m.cpu.ssN, 1, what);
    // A watch on the word f writes.
    p = load(src, { machine: { blockThreshold } });
    p.m.setReg('rsi', BigInt(DATA));
    assert.equal(p.m.run(2 + 8 * 2).kind, 'budget', what);
    p.m.addWatch(BigInt(DATA), 4, 'write');
    r = p.m.run(1e6);
    assert.equal(r.kind, 'watch', what);
    assert.equal(p.m.getReg('rip'), p.sym('x'), what);
    assert.equal(p.m.instructionCount, 2 + 8 * 2 + 3, what);
  }
});

test('compiled blocks: an FS-relative or 32-bit-addressed operand uses the registers as the block left them', () => {
  // Each load's base register is changed by the instruction before it in the same block; the
  // qwords at DATA are 0, 1, 2, ...: the loads read the qword after the one the base first named.
  const src = `mov $${DATA + 8n}, %rax\n mov $8, %rcx\n
    h: add $8, %eax\n mov (%eax), %rbx\n add $8, %rcx\n mov %fs:(%rcx), %rsi\n add $1, %edi\n cmp $3, %edi\n jb h\n ret`;
  for (const [what, blockThreshold] of MODES) {
    const p = load(src, { machine: { blockThreshold } });
    p.m.writeBytes(DATA, new Uint8Array(new BigUint64Array(Array.from({ length: 16 }, (_, i) => BigInt(i))).buffer));
    p.m.setReg('rdi', 0n);
    p.m.setReg('fs_base', DATA);
    const r = p.m.run(1e6);
    assert.equal(r.kind, 'returned', `${what}: ${r.message}`);
    assert.equal(p.m.getReg('rbx'), 4n, what);
    assert.equal(p.m.getReg('rsi'), 4n, what);
    if (blockThreshold === 0) assert.ok(p.m.insnAt(Number(p.sym('h'))).block !== null, 'the loop is a block');
  }
});

test('compiled blocks: the status flags at a fault or a watch hit inside a block are those of the instructions before it', () => {
  // cmp 4 - 5: CF = 1 (borrow), SF = 1, ZF = 0, OF = 0 (SDM Vol. 1, 3.4.3.1); then a load that faults.
  // add 1 to 0x7fffffff (32 bits): OF = 1, SF = 1, CF = 0, ZF = 0; then a load that hits a watch.
  // (A load between two flag-setting instructions keeps both live: the block holds the flags in locals.)
  const CF = 1n, ZF = 1n << 6n, SF = 1n << 7n, OF = 1n << 11n, STATUS = CF | ZF | SF | OF;
  for (const [what, blockThreshold] of MODES) {
    let p = load(`mov $3, %rax\n add $1, %rax\n mov (%rdx), %rsi\n cmp $5, %rax\n mov (%rbx), %rcx\n ret`, { machine: { blockThreshold } });
    p.m.setReg('rbx', 0x100000n);
    p.m.setReg('rdx', DATA + 64n);
    let r = p.m.run(100);
    assert.equal(r.kind, 'fault', what);
    assert.equal(p.m.instructionCount, 4, what);
    assert.equal(p.m.getReg('rflags') & STATUS, CF | SF, what);
    p = load(`mov $0x7ffffffe, %eax\n add $1, %eax\n mov (%rdx), %rsi\n add $1, %eax\n mov (%rbx), %rcx\n sub %ecx, %ecx\n ret`, { machine: { blockThreshold } });
    p.m.setReg('rbx', DATA);
    p.m.setReg('rdx', DATA + 64n);
    p.m.addWatch(DATA, 8, 'read');
    r = p.m.run(100);
    assert.equal(r.kind, 'watch', what);
    assert.equal(p.m.instructionCount, 5, what);
    assert.equal(p.m.getReg('rflags') & STATUS, OF | SF, what);
  }
});
