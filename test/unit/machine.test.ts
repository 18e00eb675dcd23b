// Machine mechanics against the SDM's rules: precise faults, breakpoints, budgets, stops,
// snapshots, the access log, watches, REP re-execution and page-crossing accesses.
// Programs are assembled by GNU as; expected values are written from the architecture rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, CODE, DATA, TRAP } from '../support/program';

test('returns from the entry function through the return trap', () => {
  const { m } = load('mov $42, %eax\n ret');
  const r = m.run(100);
  assert.equal(r.kind, 'returned');
  assert.equal(r.address, TRAP);
  assert.equal(m.getReg('rax'), 42n);
});

test('#PF on an unmapped read is precise: RIP at the instruction, destination untouched', () => {
  const { m, sym } = load('mov $7, %rbx\n mov $0x12345000, %rcx\n f: mov (%rcx), %rbx\n ret');
  const r = m.run(100);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 14);
  assert.equal(r.errorCode, 0, 'not-present, read, supervisor');
  assert.equal(r.faultAddress, 0x12345000n);
  assert.equal(m.getReg('rip'), sym('f'));
  assert.equal(m.getReg('rbx'), 7n);
  assert.equal(m.getReg('cr2'), 0x12345000n);
});

test('#PF on a write to a read-only page has P and W set and leaves memory and flags alone', () => {
  const { m } = load(`mov $${DATA}, %rcx\n cmp %rcx, %rcx\n addq $1, (%rcx)\n ret`, { dataPerms: 'r' });
  m.writeBytes(DATA, new Uint8Array([5]));
  const r = m.run(100);
  assert.equal(r.kind, 'fault');
  assert.equal(r.errorCode, 3);
  assert.equal(m.readBytes(DATA, 1)[0], 5);
  assert.equal(m.getReg('rflags') & 0x40n, 0x40n, 'ZF from the cmp survives the faulting add');
});

test('#PF on an instruction fetch from a non-executable page sets the I/D bit', () => {
  const { m } = load(`mov $${DATA}, %rax\n jmp *%rax`);
  const r = m.run(100);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 14);
  assert.equal(r.errorCode, 0x11);
  assert.equal(m.getReg('rip'), DATA);
});

test('#DE on division by zero leaves RAX and RDX unchanged', () => {
  const { m } = load('mov $100, %eax\n mov $3, %edx\n xor %ecx, %ecx\n div %rcx\n ret');
  const r = m.run(100);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 0);
  assert.equal(m.getReg('rax'), 100n);
  assert.equal(m.getReg('rdx'), 3n);
});

test('an instruction outside the emulated set stops as not emulated with its GAS text', () => {
  // RDPID is outside the table (SSE such as ADDPS is emulated now).
  const { m } = load('nop\n rdpid %rax\n ret');
  const r = m.run(100);
  assert.equal(r.kind, 'not-emulated');
  assert.match(r.message, /^not emulated: rdpid %rax at 0x401001$/);
  assert.equal(m.getReg('rip'), CODE + 1n);
});

test('breakpoints stop before the instruction, and a run resumes past the one it starts on', () => {
  const { m, sym } = load('mov $1, %eax\n b: add $1, %eax\n jmp b');
  m.addBreakpoint(sym('b'));
  let r = m.run(1000);
  assert.equal(r.kind, 'breakpoint');
  assert.equal(r.address, sym('b'));
  assert.equal(m.getReg('rax'), 1n);
  r = m.run(1000);
  assert.equal(r.kind, 'breakpoint');
  assert.equal(m.getReg('rax'), 2n);
  m.removeBreakpoint(sym('b'));
  r = m.run(1000);
  assert.equal(r.kind, 'budget');
  assert.equal(m.instructionCount, 1 + 2 + 1000, 'mov; add, jmp; then the budget');
});

test('int3 stops after the instruction; hlt stops as halt; ud2 raises #UD', () => {
  let p = load('int3\n ret');
  let r = p.m.run(10);
  assert.equal(r.kind, 'int3');
  assert.equal(p.m.getReg('rip'), CODE + 1n);
  p = load('hlt\n ret');
  r = p.m.run(10);
  assert.equal(r.kind, 'halt');
  p = load('ud2');
  r = p.m.run(10);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 6);
  assert.equal(p.m.getReg('rip'), CODE);
});

test('snapshot and restore bring back registers, flags and memory exactly', () => {
  const { m } = load(`mov $${DATA}, %rdi\n1: incq (%rdi)\n add $3, %rax\n cmp $30, %rax\n jne 1b\n ret`);
  m.run(7);
  const s = m.snapshot();
  const regs = ['rax', 'rdi', 'rip', 'rflags', 'rsp'].map((r) => m.getReg(r));
  const mem = m.readBytes(DATA, 8);
  const r1 = m.run(1000);
  const after = ['rax', 'rip'].map((r) => m.getReg(r));
  m.restore(s);
  assert.deepEqual(['rax', 'rdi', 'rip', 'rflags', 'rsp'].map((r) => m.getReg(r)), regs);
  assert.deepEqual(m.readBytes(DATA, 8), mem);
  const r2 = m.run(1000);
  assert.equal(r2.kind, r1.kind);
  assert.deepEqual(['rax', 'rip'].map((r) => m.getReg(r)), after);
  assert.equal(m.readBytes(DATA, 1)[0], 10);
});

test('a step logs its memory accesses with addresses, sizes and values', () => {
  const { m } = load(`mov $${DATA}, %rdi\n mov $0x1122334455667788, %rax\n xchg %rax, 8(%rdi)\n ret`);
  m.step(); m.step();
  assert.equal(m.step(), null);
  const acc = m.lastAccesses();
  assert.deepEqual(acc.map((a) => [a.address, a.size, a.write, a.value]), [
    [Number(DATA) + 8, 8, false, 0n],
    [Number(DATA) + 8, 8, true, 0x1122334455667788n],
  ]);
});

test('watches stop after the accessing instruction and name the access', () => {
  const { m, sym } = load(`mov $${DATA}, %rdi\n movl $5, 4(%rdi)\n n: movb 6(%rdi), %al\n ret`);
  const id = m.addWatch(DATA + 4n, 4, 'write');
  let r = m.run(100);
  assert.equal(r.kind, 'watch');
  assert.equal(r.watches?.[0].id, id);
  assert.equal(r.watches?.[0].access.value, 5n);
  assert.equal(m.getReg('rip'), sym('n'));
  m.removeWatch(id);
  m.addWatch(DATA + 6n, 1, 'read');
  r = m.run(100);
  assert.equal(r.kind, 'watch');
  assert.equal(r.watches?.[0].access.write, false);
});

test('REP MOVSB with a count larger than one chunk completes in one step and a breakpoint on it fires once', () => {
  const { m, sym } = load(`mov $${DATA}, %rsi\n lea 0x1000(%rsi), %rdi\n mov $0x1000, %ecx\n r: rep movsb\n ret`);
  m.writeBytes(DATA, new Uint8Array(0x1000).fill(0xab));
  m.addBreakpoint(sym('r'));
  let r = m.run(100);
  assert.equal(r.kind, 'breakpoint');
  assert.equal(m.step(), null, 'the whole rep movsb is one step');
  assert.equal(m.getReg('rcx'), 0n);
  assert.equal(m.getReg('rip'), sym('r') + 2n);
  assert.equal(m.readBytes(DATA + 0x1fffn, 1)[0], 0xab);
  m.restore(m.snapshot());
  m.setReg('rip', sym('r')); m.setReg('rcx', 0x1800n); m.setReg('rsi', DATA); m.setReg('rdi', DATA);
  r = m.run(100);
  assert.equal(r.kind, 'returned', 'no breakpoint stop in the middle of the REP');
});

test('accesses that cross a page boundary read and write both pages, and fault if either is missing', () => {
  const { m } = load(`mov $${DATA + 0xffcn}, %rdi\n mov (%rdi), %rax\n mov %rax, 0x1000(%rdi)\n ret`);
  m.writeBytes(DATA + 0xffcn, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  m.unmap(DATA + 0x2000n, 0x1000);
  m.map(DATA + 0x1000n, 0x1000, 'rw');
  const r = m.run(100);
  assert.equal(r.kind, 'fault', 'second store spans into the unmapped page at DATA+0x2000');
  assert.equal(r.faultAddress, DATA + 0x2000n);
  assert.equal(m.getReg('rax'), 0x0807060504030201n);
  assert.deepEqual([...m.readBytes(DATA + 0x1ffcn, 4)], [0, 0, 0, 0], 'nothing of the faulting store was written');
});

test('self-modifying code is re-decoded after a write to it', () => {
  const { m, sym } = load(`lea p(%rip), %rdi\n movb $9, 1(%rdi)\n p: mov $1, %al\n ret`, { codePerms: 'rwx' });
  m.run(1); m.step(); // decode the page first so the cache must be invalidated
  const r = m.run(100);
  assert.equal(r.kind, 'returned');
  assert.equal(m.getReg('al'), 9n);
  void sym;
});

test('STI opens a one-instruction interrupt shadow; CLI/STI/HLT/RDMSR fault with #GP at CPL 3', () => {
  const p = load('cli\n sti\n nop\n ret');
  p.m.step(); p.m.step();
  assert.equal(p.m.cpu.stiShadowUntil, p.m.instructionCount, 'the shadow covers the next instruction');
  assert.equal(p.m.getReg('rflags') & 0x200n, 0x200n);
  const q = load('cli\n ret');
  q.m.setReg('cpl', 3n);
  const r = q.m.run(10);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 13);
  void DATA;
});

test('compiled blocks: a write to the block\'s own code takes effect on the next instruction', () => {
  const { m } = load(`lea p(%rip), %rdi\n movb $9, 1(%rdi)\n p: mov $1, %al\n ret`, { codePerms: 'rwx', machine: { blockThreshold: 0 } });
  const r = m.run(100);
  assert.equal(r.kind, 'returned');
  assert.equal(m.getReg('al'), 9n, 'the SDM: a store to code is seen by the instructions after it');
});

test('compiled blocks: a watch inside a block stops right after the accessing instruction, a fault mid-block is precise', () => {
  let p = load(`mov $${DATA}, %rdi\n mov $1, %eax\n movl $5, 4(%rdi)\n n: add $1, %eax\n add $1, %eax\n ret`, { machine: { blockThreshold: 0 } });
  p.m.addWatch(DATA + 4n, 4, 'write');
  let r = p.m.run(100);
  assert.equal(r.kind, 'watch');
  assert.equal(p.m.getReg('rip'), p.sym('n'));
  assert.equal(p.m.getReg('eax'), 1n);
  assert.equal(p.m.instructionCount, 3);
  p = load(`mov $1, %eax\n mov $0x12345000, %rcx\n add $1, %eax\n f: mov (%rcx), %rbx\n add $1, %eax\n ret`, { machine: { blockThreshold: 0 } });
  r = p.m.run(100);
  assert.equal(r.kind, 'fault');
  assert.equal(p.m.getReg('rip'), p.sym('f'));
  assert.equal(p.m.getReg('eax'), 2n);
  assert.equal(p.m.instructionCount, 3);
});

test('compiled blocks: a breakpoint set after a block was built still stops there', () => {
  const { m, sym } = load(`mov $0, %eax\n1: add $1, %eax\n b: add $2, %eax\n cmp $30, %eax\n jb 1b\n ret`, { machine: { blockThreshold: 0 } });
  m.run(20);
  m.addBreakpoint(sym('b'));
  const r = m.run(1000);
  assert.equal(r.kind, 'breakpoint');
  assert.equal(r.address, sym('b'));
  assert.equal(Number(m.getReg('eax')) % 3, 1, 'stopped between the two adds');
});

test('RET to a non-canonical address raises #GP(0) at the RET with RSP unchanged (interpreted and compiled)', () => {
  for (const blockThreshold of [Infinity, 0]) {
    const { m, sym } = load('movabs $0x0000800000000000, %rax\n push %rax\n r: ret', { machine: { blockThreshold } });
    const r = m.run(10);
    assert.equal(r.kind, 'fault');
    assert.equal(r.vector, 13, 'SDM RET: #GP(0) if the return address is non-canonical');
    assert.equal(m.getReg('rip'), sym('r'));
    assert.equal(m.readBytes(m.getReg('rsp'), 8).reduce((v, b, k) => v + BigInt(b) * (1n << BigInt(8 * k)), 0n), 0x0000800000000000n);
  }
});

test('a write beside decoded code keeps it; a write onto it drops it, and only its page', () => {
  const { m, sym } = load(`lea d(%rip), %rdi\n movb $9, (%rdi)\n p: mov $1, %al\n ret\n d: .byte 0`, { codePerms: 'rwx' });
  const p = Number(sym('p'));
  const before = m.insnAt(p);
  const r = m.run(100);
  assert.equal(r.kind, 'returned');
  assert.equal(m.insnAt(p), before, 'the data byte is not an instruction: the decoded code stays');
  m.writeBytes(BigInt(p) + 1n, new Uint8Array([7]));
  assert.notEqual(m.insnAt(p), before, 'a write onto an instruction drops it');
  assert.equal(m.insnAt(p).text(), 'mov $7,%al');
});

test('compiled blocks: a loop run inside its own block function keeps the budget exact, meets a later breakpoint at its head and stops after a watched write', () => {
  const src = `mov $0, %eax\n mov $1000, %ecx\n mov $${DATA}, %rdi\n h: add $3, %eax\n mov %eax, (%rdi)\n s: sub $1, %ecx\n jne h\n ret`;
  for (const blockThreshold of [Infinity, 0]) {
    const what = blockThreshold === 0 ? 'compiled' : 'interpreted';
    // Budget: 3 set-up instructions, 10 whole passes, then ADD and MOV of the 11th.
    let p = load(src, { machine: { blockThreshold } });
    let r = p.m.run(3 + 4 * 10 + 2);
    assert.equal(r.kind, 'budget', what);
    assert.equal(p.m.instructionCount, 45, what);
    assert.equal(p.m.getReg('rip'), p.sym('s'), what);
    assert.equal(p.m.getReg('eax'), 33n, what);
    assert.equal(p.m.getReg('ecx'), 990n, what);
    if (blockThreshold === 0) {
      // Compiled from the first visit: the run's start and the loop's head begin blocks.
      assert.notEqual(p.m.insnAt(Number(CODE)).block, null, 'a block at the starting RIP');
      assert.notEqual(p.m.insnAt(Number(p.sym('h'))).block, null, 'a block at the loop head');
    }
    r = p.m.run(1e6);
    assert.equal(r.kind, 'returned', what);
    assert.equal(p.m.getReg('eax'), 3000n, what);
    assert.equal(p.m.instructionCount, 3 + 4000 + 1, what);
    // A breakpoint at the loop's head set while the loop runs as one block.
    p = load(src, { machine: { blockThreshold } });
    p.m.run(100);
    p.m.addBreakpoint(p.sym('h'));
    r = p.m.run(1e6);
    assert.equal(r.kind, 'breakpoint', what);
    assert.equal(r.address, p.sym('h'), what);
    assert.equal(p.m.getReg('eax') / 3n + p.m.getReg('ecx'), 1000n, what);
    p.m.removeBreakpoint(p.sym('h'));
    // A watch on the word the loop writes: the stop is right after the MOV.
    p.m.addWatch(BigInt(DATA), 4, 'write');
    const before = p.m.instructionCount;
    r = p.m.run(1e6);
    assert.equal(r.kind, 'watch', what);
    assert.equal(p.m.getReg('rip'), p.sym('s'), what);
    assert.equal(p.m.instructionCount, before + 2, what);
    assert.equal(p.m.readBytes(BigInt(DATA), 4)[0], Number(p.m.getReg('eax') & 0xffn), what);
  }
});

test('an instruction whose CPUID feature a user-given CPUID clears: #UD where the SDM lists it, LZCNT executes as BSR', () => {
  // SDM Vol. 2B POPCNT, "Protected Mode Exceptions": #UD If CPUID.01H:ECX.POPCNT [Bit 23] = 0.
  let p = load('mov $0xf0, %eax\n p: popcnt %eax, %ecx\n ret', { machine: { cpuid: { '1': [0, 0, 0, 0] } } });
  let r = p.m.run(10);
  assert.equal(r.kind, 'fault');
  assert.equal(r.vector, 6);
  assert.equal(p.m.getReg('rip'), p.sym('p'));
  assert.match(r.message, /POPCNT.*bit 23\] = 0/);
  // Announced (the default CPUID): it runs.
  p = load('mov $0xf0, %eax\n popcnt %eax, %ecx\n ret');
  assert.equal(p.m.run(10).kind, 'returned');
  assert.equal(p.m.getReg('ecx'), 4n);
  // SDM Vol. 2A LZCNT: "On processors that do not support LZCNT, the instruction byte encoding
  // is executed as BSR" — the index of the highest set bit instead of the leading-zero count.
  for (const [cpuid, want] of [[undefined, 27n], [{ '80000001': [0, 0, 0, 0] as [number, number, number, number] }, 4n]] as const) {
    p = load('mov $0x10, %eax\n lzcnt %eax, %ecx\n ret', { machine: cpuid ? { cpuid } : {} });
    assert.equal(p.m.run(10).kind, 'returned');
    assert.equal(p.m.getReg('ecx'), want);
  }
});
