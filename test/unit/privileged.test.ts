// Privileged and system instructions, which fault in user mode and so cannot be checked against
// the host CPU: each expectation here is written from the Intel SDM (Vol. 2 instruction pages,
// Vol. 3 for CR/MSR rules), never from the emulator. Also: an instruction the emulator does not
// implement stops with "not emulated: <GAS text> at <address>", and TDCALL reaches the platform.

import assert from 'node:assert/strict';
import test from 'node:test';
import { Machine, MachineOptions, StopReason } from '../../emulator/machine';

const CODE = 0x401000n;
const STACK_TOP = 0x7000_0000n;

// Encodings from the SDM opcode tables (checked against GNU as).
const CLI = [0xfa];
const STI = [0xfb];
const HLT = [0xf4];
const NOP = [0x90];
const INT3 = [0xcc];
const UD2 = [0x0f, 0x0b];
const CPUID = [0x0f, 0xa2];
const RDTSC = [0x0f, 0x31];
const RDMSR = [0x0f, 0x32];
const WRMSR = [0x0f, 0x30];
const MOV_RAX_CR0 = [0x0f, 0x22, 0xc0]; // mov %rax,%cr0
const MOV_CR0_RBX = [0x0f, 0x20, 0xc3]; // mov %cr0,%rbx
const MOV_RAX_CR3 = [0x0f, 0x22, 0xd8]; // mov %rax,%cr3
const MOV_CR3_RBX = [0x0f, 0x20, 0xdb]; // mov %cr3,%rbx
const MOV_RAX_CR4 = [0x0f, 0x22, 0xe0]; // mov %rax,%cr4
const MOV_CR4_RBX = [0x0f, 0x20, 0xe3]; // mov %cr4,%rbx
const MOV_RAX_CR5 = [0x0f, 0x22, 0xe8]; // mov %rax,%cr5 (no such register)
const FLD1 = [0xd9, 0xe8]; // fld1 (x87 is not modelled)
const TDCALL = [0x66, 0x0f, 0x01, 0xcc];

const IF = 0x200n;
const GP = 13;
const UD = 6;
const JUNK = 0xa5a5a5a5_5a5a5a5an;

function machine(code: number[][], opts: MachineOptions = {}): Machine {
  const m = new Machine(opts);
  m.map(CODE, 0x1000, 'rx', 'code');
  m.writeBytes(CODE, Uint8Array.from(code.flat()));
  m.map(STACK_TOP - 0x1000n, 0x1000, 'rw', 'stack');
  m.setReg('rsp', STACK_TOP - 0x100n);
  m.setReg('rip', CODE);
  return m;
}

function at(code: number[][], index: number): bigint {
  return CODE + BigInt(code.slice(0, index).flat().length);
}

function stepOk(m: Machine): void {
  const r = m.step();
  assert.equal(r, null, r?.message);
}

/** Asserts a precise fault: the vector, the error code, and RIP left on the instruction. */
function assertFault(r: StopReason | null, vector: number, address: bigint, errorCode?: number): void {
  assert.ok(r, 'expected a fault, the instruction completed');
  assert.equal(r.kind, 'fault', r.message);
  assert.equal(r.vector, vector, r.message);
  assert.equal(r.address, address);
  if (errorCode !== undefined) assert.equal(r.errorCode, errorCode, r.message);
}

function userMode(m: Machine): void {
  m.setReg('cpl', 3n);
}

test('ud2 raises #UD with RIP on the ud2 and registers untouched', () => {
  const m = machine([UD2]);
  m.setReg('rax', JUNK);
  const r = m.step();
  assertFault(r, UD, CODE);
  assert.equal(m.getReg('rip'), CODE);
  assert.equal(m.getReg('rax'), JUNK);
});

test('int3 stops as a breakpoint trap with RIP after the instruction', () => {
  const code = [NOP, INT3, NOP];
  const m = machine(code);
  const r = m.run(10);
  assert.equal(r.kind, 'int3', r.message);
  // #BP is a trap: the saved RIP is that of the next instruction (SDM Vol. 3, 6.5).
  assert.equal(m.getReg('rip'), at(code, 2));
});

test('hlt stops the run with RIP after the hlt; at CPL 3 it is #GP(0)', () => {
  const code = [NOP, HLT, NOP];
  const m = machine(code);
  const r = m.run(10);
  assert.equal(r.kind, 'halt', r.message);
  // "If an interrupt ... is used to resume execution after a HLT instruction, the saved
  // instruction pointer points to the instruction following the HLT instruction."
  assert.equal(m.getReg('rip'), at(code, 2));

  const u = machine([HLT]);
  userMode(u);
  assertFault(u.step(), GP, CODE, 0);
});

test('cli clears and sti sets IF at CPL 0; at CPL 3 with IOPL 0 both are #GP(0)', () => {
  const m = machine([STI, CLI]);
  m.setReg('rflags', 0x2n);
  stepOk(m);
  assert.equal(m.getReg('rflags') & IF, IF);
  stepOk(m);
  assert.equal(m.getReg('rflags') & IF, 0n);

  for (const insn of [CLI, STI]) {
    const u = machine([insn]);
    u.setReg('rflags', 0x202n);
    userMode(u);
    assertFault(u.step(), GP, CODE, 0);
    assert.equal(u.getReg('rflags') & IF, IF);
  }
});

/** Interrupt shadow as the CPU keeps it: inhibited while the retired count has not passed it. */
function interruptsInhibited(m: Machine): boolean {
  return m.instructionCount <= m.cpu.stiShadowUntil;
}

test('sti with IF clear inhibits interrupts for exactly one more instruction', () => {
  // "If IF = 0, maskable hardware interrupts remain inhibited on the instruction boundary
  // following an execution of STI." (SDM Vol. 2, STI)
  const m = machine([STI, NOP, NOP]);
  m.setReg('rflags', 0x2n);
  stepOk(m);
  assert.equal(interruptsInhibited(m), true, 'shadow after sti');
  stepOk(m);
  assert.equal(interruptsInhibited(m), false, 'shadow gone after the next instruction');

  // With IF already set STI changes nothing, so it opens no shadow.
  const n = machine([STI, NOP]);
  n.setReg('rflags', 0x202n);
  stepOk(n);
  assert.equal(interruptsInhibited(n), false);
});

test('rdmsr reads EFER into EDX:EAX (LME and LMA set in long mode), clearing the upper halves', () => {
  const m = machine([RDMSR]);
  m.setReg('rcx', 0xffffffff_c0000080n); // only ECX selects the MSR
  m.setReg('rax', JUNK);
  m.setReg('rdx', JUNK);
  stepOk(m);
  const efer = (m.getReg('rdx') << 32n) | m.getReg('rax');
  assert.equal(efer, m.getReg('efer'));
  assert.equal(efer & 0x500n, 0x500n);
  assert.equal(m.getReg('rax') >> 32n, 0n);
  assert.equal(m.getReg('rdx') >> 32n, 0n);
});

test('rdmsr and wrmsr of an MSR the machine does not model raise #GP(0) at the instruction', () => {
  for (const insn of [RDMSR, WRMSR]) {
    const m = machine([NOP, insn]);
    m.setReg('rcx', 0xdeadbeefn);
    m.setReg('rax', 0x1234n);
    m.setReg('rdx', 0x5678n);
    stepOk(m);
    assertFault(m.step(), GP, CODE + 1n, 0);
    assert.equal(m.getReg('rip'), CODE + 1n);
    assert.equal(m.getReg('rax'), 0x1234n);
    assert.equal(m.getReg('rdx'), 0x5678n);
  }
});

test('wrmsr FS_BASE takes EDX:EAX; a non-canonical base is #GP(0); both MSR instructions are #GP(0) at CPL 3', () => {
  const m = machine([WRMSR, RDMSR]);
  m.setReg('rcx', 0xc0000100n);
  m.setReg('rax', 0xdead_00001000n); // the upper half of RAX is ignored
  m.setReg('rdx', 0x00007fffn);
  stepOk(m);
  assert.equal(m.getReg('fs_base'), 0x00007fff_00001000n);
  m.setReg('rax', 0n);
  m.setReg('rdx', 0n);
  stepOk(m);
  assert.equal((m.getReg('rdx') << 32n) | m.getReg('rax'), 0x00007fff_00001000n);

  const bad = machine([WRMSR]);
  bad.setReg('rcx', 0xc0000100n);
  bad.setReg('rax', 0n);
  bad.setReg('rdx', 0x00008000n); // bit 47 set, bits 63:48 clear: not canonical
  assertFault(bad.step(), GP, CODE, 0);

  for (const insn of [RDMSR, WRMSR]) {
    const u = machine([insn]);
    u.setReg('rcx', 0xc0000080n);
    userMode(u);
    assertFault(u.step(), GP, CODE, 0);
  }
});

test('mov to CR4 sets bits and reads back; reserved bits, OSXSAVE without XSAVE or clearing PAE in long mode is #GP(0)', () => {
  const m = machine([MOV_RAX_CR4, MOV_CR4_RBX]);
  const want = m.getReg('cr4') | (1n << 16n); // FSGSBASE
  m.setReg('rax', want);
  stepOk(m);
  assert.equal(m.getReg('cr4'), want);
  stepOk(m);
  assert.equal(m.getReg('rbx'), want);

  const before = 0x6a0n;
  // SDM Vol. 1, 13.2: with CPUID.01H:ECX.XSAVE = 0 "the processor will not allow software to set" CR4.OSXSAVE.
  for (const value of [before | (1n << 32n), before | (1n << 63n), before & ~0x20n, before | (1n << 18n)]) {
    const f = machine([MOV_RAX_CR4]);
    f.setReg('cr4', before);
    f.setReg('rax', value);
    assertFault(f.step(), GP, CODE, 0);
    assert.equal(f.getReg('cr4'), before);
  }
});

test('mov to CR0 rejects bits 63:32 and clearing PG in IA-32e mode; CR3 round-trips; CR5 is #UD', () => {
  const ok = machine([MOV_RAX_CR0, MOV_CR0_RBX, MOV_RAX_CR3, MOV_CR3_RBX]);
  const cr0 = ok.getReg('cr0');
  ok.setReg('rax', cr0);
  stepOk(ok);
  stepOk(ok);
  assert.equal(ok.getReg('rbx'), cr0);
  ok.setReg('rax', 0x1234000n);
  stepOk(ok);
  stepOk(ok);
  assert.equal(ok.getReg('rbx'), 0x1234000n);
  assert.equal(ok.getReg('cr3'), 0x1234000n);

  for (const value of [cr0 | (1n << 32n), cr0 & ~0x80000000n]) {
    const f = machine([MOV_RAX_CR0]);
    f.setReg('rax', value);
    assertFault(f.step(), GP, CODE, 0);
    assert.equal(f.getReg('cr0'), cr0);
  }
  assertFault(machine([MOV_RAX_CR5]).step(), UD, CODE);
});

test('mov to or from a control register at CPL 3 is #GP(0)', () => {
  for (const insn of [MOV_RAX_CR0, MOV_CR0_RBX, MOV_RAX_CR3, MOV_CR4_RBX]) {
    const u = machine([insn]);
    u.setReg('rax', u.getReg('cr0'));
    userMode(u);
    assertFault(u.step(), GP, CODE, 0);
  }
});

test('cpuid answers the configured leaves and subleaves, clearing the upper halves, at any CPL', () => {
  const m = machine([CPUID, CPUID, CPUID], {
    cpuid: { '0x1': [0x000806f8, 0x11223344, 0x55667788, 0x99aabbcc], '7:1': [1, 2, 3, 4] },
  });
  for (const r of ['rax', 'rbx', 'rcx', 'rdx']) m.setReg(r, JUNK);
  m.setReg('rax', 0xffffffff_00000001n); // only EAX selects the leaf
  stepOk(m);
  assert.deepEqual(['rax', 'rbx', 'rcx', 'rdx'].map((r) => m.getReg(r)), [0x000806f8n, 0x11223344n, 0x55667788n, 0x99aabbccn]);
  m.setReg('rax', 7n);
  m.setReg('rcx', 1n);
  stepOk(m);
  assert.deepEqual(['rax', 'rbx', 'rcx', 'rdx'].map((r) => m.getReg(r)), [1n, 2n, 3n, 4n]);
  userMode(m);
  m.setReg('rax', 1n);
  stepOk(m);
  assert.equal(m.getReg('rbx'), 0x11223344n);
});

test('rdtsc is monotonic and deterministic, fills EDX:EAX only, and is #GP(0) at CPL 3 with CR4.TSD', () => {
  const code = [RDTSC, NOP, NOP, NOP, RDTSC];
  const read = (m: Machine) => (m.getReg('rdx') << 32n) | m.getReg('rax');
  const run = () => {
    const m = machine(code);
    m.setReg('rax', JUNK);
    m.setReg('rdx', JUNK);
    stepOk(m);
    assert.equal(m.getReg('rax') >> 32n, 0n);
    assert.equal(m.getReg('rdx') >> 32n, 0n);
    const t0 = read(m);
    for (let i = 0; i < 4; i++) stepOk(m);
    return [t0, read(m)];
  };
  const [a0, a1] = run();
  const [b0, b1] = run();
  assert.ok(a1 > a0, `TSC went from ${a0} to ${a1}`);
  assert.deepEqual([a0, a1], [b0, b1]);

  const u = machine([RDTSC]);
  userMode(u);
  stepOk(u); // CR4.TSD clear: allowed at any CPL
  const t = machine([RDTSC]);
  t.setReg('cr4', t.getReg('cr4') | 0x4n);
  userMode(t);
  assertFault(t.step(), GP, CODE, 0);
});

test('an instruction the emulator does not implement stops with its GAS text and address', () => {
  const code = [NOP, FLD1];
  const m = machine(code);
  const r = m.run(10);
  assert.equal(r.kind, 'not-emulated', r.message);
  assert.equal(r.address, at(code, 1));
  assert.match(r.message, /^not emulated: fld1 at 0x401001$/);
  assert.equal(m.getReg('rip'), at(code, 1));
});

test('tdcall reaches the platform hook: without a platform it stops there with a clear reason', () => {
  const code = [NOP, TDCALL];
  const m = machine(code);
  const r = m.run(10);
  assert.equal(r.kind, 'platform', r.message);
  assert.equal(r.address, at(code, 1));
  assert.match(r.message, /tdcall/);
  assert.equal(m.getReg('rip'), at(code, 1));
});

test('xgetbv/xsetbv are #UD (CPUID reports neither XSAVE nor OSXSAVE), even with CR4.OSXSAVE forced on', () => {
  // SDM Vol. 2, XGETBV/XSETBV: #UD "If CPUID.01H:ECX.XSAVE[bit 26] = 0" or "If CR4.OSXSAVE[bit 18] = 0".
  const id = machine([CPUID]);
  id.setReg('rax', 1n);
  id.setReg('rcx', 0n);
  stepOk(id);
  assert.equal((id.getReg('rcx') >> 26n) & 3n, 0n, 'CPUID.01H:ECX.XSAVE and OSXSAVE');
  for (const insn of [[0x0f, 0x01, 0xd0], [0x0f, 0x01, 0xd1]]) {
    for (const osxsave of [false, true]) {
      const m = machine([insn]);
      if (osxsave) m.setReg('cr4', m.getReg('cr4') | (1n << 18n));
      m.setReg('rcx', 0n);
      assertFault(m.step(), UD, CODE);
    }
  }
});
