// Segment selectors in 64-bit mode, LTR/LLDT/STR/SLDT and SYSRETQ. Privileged or dependent on a
// GDT the host's user mode cannot set up, so every expectation is written from the Intel SDM
// (Vol. 2: MOV, POP, PUSH, LTR, LLDT, STR, SLDT, SYSRET; Vol. 3A 3.4.5 descriptor fields,
// 7.2.3 the 64-bit TSS descriptor), never from the emulator.

import assert from 'node:assert/strict';
import test from 'node:test';
import { Machine, StopReason } from '../../emulator/machine';
import { MSR } from '../../emulator/x86/registers';

const CODE = 0x401000n;
const GDT = 0x500000n;
const STACK_TOP = 0x7000_0000n;
const GP = 13, NP = 11, SS = 12, UD = 6;

/** A code/data descriptor (SDM Vol. 3A, Figure 3-8): base, limit, type, S=1, DPL, P, L. */
function desc(base: number, type: number, dpl: number, present = true, l = false): bigint {
  const lo = ((base & 0xffff) << 16) | 0xffff;
  const hi = ((base >>> 24) << 24) | (l ? 1 << 21 : 0) | (0xf << 16) | (present ? 1 << 15 : 0) | (dpl << 13) | (1 << 12) | (type << 8) | ((base >>> 16) & 0xff);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A 16-byte system descriptor (TSS type 9, LDT type 2; S=0). */
function sysDesc(type: number, present = true, upperType = 0): [bigint, bigint] {
  const base = 0x600000;
  const lo = ((base & 0xffff) << 16) | 0x67;
  const hi = (present ? 1 << 15 : 0) | (type << 8) | ((base >>> 16) & 0xff);
  return [(BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), BigInt(upperType) << 40n];
}

const ENTRIES: bigint[] = [
  0n, // 0x00 null
  desc(0, 0xb, 0, true, true), // 0x08 64-bit code, DPL 0 (accessed)
  desc(0, 0x3, 0), // 0x10 data RW, DPL 0 (accessed)
  desc(0x12345678, 0x2, 3), // 0x18 data RW, DPL 3, not yet accessed, base 0x12345678
  desc(0, 0x2, 3, false), // 0x20 data, not present
  desc(0, 0x8, 3), // 0x28 code, execute-only
  desc(0, 0x0, 0), // 0x30 data read-only, DPL 0
  0n, // 0x38
  ...sysDesc(9), // 0x40 available 64-bit TSS
  ...sysDesc(2), // 0x50 LDT
  ...sysDesc(9, false), // 0x60 TSS not present
  ...sysDesc(9, true, 1), // 0x70 upper type field not 0
];

function machine(code: number[], cpl = 0): Machine {
  const m = new Machine({});
  m.map(CODE, 0x1000, 'rx', 'code');
  m.writeBytes(CODE, Uint8Array.from(code));
  m.map(GDT, 0x1000, 'rw', 'gdt');
  const bytes = new Uint8Array(ENTRIES.length * 8);
  const dv = new DataView(bytes.buffer);
  ENTRIES.forEach((e, k) => dv.setBigUint64(k * 8, e, true));
  m.writeBytes(GDT, bytes);
  m.cpu.gdtrBase = GDT;
  m.cpu.gdtrLimit = ENTRIES.length * 8 - 1;
  m.map(STACK_TOP - 0x1000n, 0x1000, 'rw', 'stack');
  m.setReg('rsp', STACK_TOP - 0x100n);
  m.setReg('rip', CODE);
  m.setReg('cpl', BigInt(cpl));
  return m;
}

function fault(r: StopReason | null, vector: number, code?: number): void {
  assert.ok(r, 'expected a fault');
  assert.equal(r.kind, 'fault', r.message);
  assert.equal(r.vector, vector, r.message);
  if (code !== undefined) assert.equal(r.errorCode, code, r.message);
}

function ok(m: Machine): void {
  const r = m.step();
  assert.equal(r, null, r?.message);
}

function descHi(m: Machine, sel: number): number {
  return new DataView(m.readBytes(GDT + BigInt(sel & ~7) + 4n, 4).buffer).getUint32(0, true);
}

const MOV_AX_DS = [0x8e, 0xd8], MOV_AX_SS = [0x8e, 0xd0], MOV_AX_FS = [0x8e, 0xe0];
const MOV_DS_EBX = [0x8c, 0xdb], MOV_DS_BX = [0x66, 0x8c, 0xdb], MOV_SS_RBX = [0x48, 0x8c, 0xd3];

test('MOV to DS loads a data segment and sets its accessed bit; MOV from DS zero-extends r32/r64, writes 16 bits of r16', () => {
  const m = machine([...MOV_AX_DS, ...MOV_DS_EBX, ...MOV_DS_BX], 3);
  m.setReg('rax', 0x1bn); // index 3, RPL 3
  assert.equal(descHi(m, 0x18) & 0x100, 0);
  ok(m);
  assert.equal(descHi(m, 0x18) & 0x100, 0x100, 'accessed bit (SDM Vol. 3A 3.4.5.1)');
  m.setReg('rbx', 0xffff_ffff_ffff_ffffn);
  ok(m);
  assert.equal(m.getReg('rbx'), 0x1bn);
  m.setReg('rbx', 0xffff_ffff_ffff_ffffn);
  ok(m);
  assert.equal(m.getReg('rbx'), 0xffff_ffff_ffff_001bn);
});

test('MOV to DS: DPL < CPL or RPL, a non-readable code segment, or beyond the GDT limit is #GP(selector); not present is #NP(selector); a null selector loads', () => {
  for (const [sel, cpl, vector, code] of [
    [0x10, 3, GP, 0x10], [0x13, 0, GP, 0x10], [0x28, 3, GP, 0x28], [0x80, 0, GP, 0x80], [0x23, 3, NP, 0x20],
  ] as const) {
    const m = machine(MOV_AX_DS, cpl);
    m.setReg('rax', BigInt(sel));
    fault(m.step(), vector, code);
    assert.equal(m.getReg('rip'), CODE);
  }
  const n = machine([...MOV_AX_DS, ...MOV_DS_EBX], 3);
  n.setReg('rax', 3n);
  ok(n);
  ok(n);
  assert.equal(n.getReg('rbx'), 3n);
});

test('MOV to SS: null is allowed below CPL 3 with RPL = CPL, otherwise #GP(0); RPL/DPL ≠ CPL or read-only #GP(selector); not present #SS(selector)', () => {
  const m = machine([...MOV_AX_SS, ...MOV_SS_RBX], 0);
  m.setReg('rax', 0n);
  ok(m);
  ok(m);
  assert.equal(m.getReg('rbx'), 0n);
  for (const [sel, cpl, vector, code] of [
    [0, 3, GP, 0], [1, 0, GP, 0], [0x1b, 0, GP, 0x18], [0x10, 3, GP, 0x10], [0x30, 0, GP, 0x30], [0x23, 3, SS, 0x20],
  ] as const) {
    const f = machine(MOV_AX_SS, cpl);
    f.setReg('rax', BigInt(sel));
    fault(f.step(), vector, code);
  }
  const s = machine(MOV_AX_SS, 0);
  s.setReg('rax', 0x10n);
  ok(s);
});

test('MOV to FS loads the 32-bit descriptor base; a null selector into FS stops as not emulated', () => {
  const m = machine(MOV_AX_FS, 3);
  m.setReg('fs_base', 0x7fff_0000_0000n);
  m.setReg('rax', 0x1bn);
  ok(m);
  assert.equal(m.getReg('fs_base'), 0x12345678n);
  const n = machine(MOV_AX_FS, 0);
  n.setReg('rax', 0n);
  const r = n.step();
  assert.equal(r?.kind, 'not-emulated');
  assert.match(r!.message, /null selector into %fs/);
});

test('reading a selector the program never loaded stops as not emulated, naming it', () => {
  for (const [code, name] of [[MOV_DS_EBX, '%ds'], [[0x0f, 0xa0], '%fs'], [[0x0f, 0x00, 0xc8], 'TR'], [[0x0f, 0x00, 0xc0], 'LDTR']] as const) {
    const r = machine([...code]).step();
    assert.equal(r?.kind, 'not-emulated');
    assert.match(r!.message, new RegExp(`value of ${name} is not known`));
  }
});

test('PUSH FS pushes the selector zero-extended to 64 bits; POP FS loads it with MOV\'s checks', () => {
  const m = machine([...MOV_AX_FS, 0x0f, 0xa0, 0x0f, 0xa1], 0);
  m.setReg('rax', 0x18n);
  ok(m);
  m.writeBytes(STACK_TOP - 0x108n, new Uint8Array(8).fill(0xee));
  ok(m);
  assert.equal(m.getReg('rsp'), STACK_TOP - 0x108n);
  assert.deepEqual([...m.readBytes(STACK_TOP - 0x108n, 8)], [0x18, 0, 0, 0, 0, 0, 0, 0]);
  m.writeBytes(STACK_TOP - 0x108n, Uint8Array.from([0x20, 0, 0, 0, 0, 0, 0, 0]));
  fault(m.step(), NP, 0x20);
  assert.equal(m.getReg('rsp'), STACK_TOP - 0x108n, 'a faulting POP leaves RSP');
});

const LTR_AX = [0x0f, 0x00, 0xd8], STR_EBX = [0x0f, 0x00, 0xcb], LLDT_AX = [0x0f, 0x00, 0xd0], SLDT_EBX = [0x0f, 0x00, 0xc3];

test('LTR loads an available TSS and marks it busy; STR reads TR; LLDT/SLDT; their #GP/#NP cases', () => {
  const m = machine([...LTR_AX, ...STR_EBX, ...LLDT_AX, ...SLDT_EBX, ...LLDT_AX, ...SLDT_EBX]);
  m.setReg('rax', 0x40n);
  ok(m);
  assert.equal((descHi(m, 0x40) >> 8) & 0xf, 0xb, 'busy TSS (type 1011B)');
  m.setReg('rbx', -1n & 0xffff_ffff_ffff_ffffn);
  ok(m);
  assert.equal(m.getReg('rbx'), 0x40n);
  m.setReg('rax', 0x50n);
  ok(m);
  ok(m);
  assert.equal(m.getReg('rbx'), 0x50n);
  m.setReg('rax', 0n);
  ok(m);
  ok(m);
  assert.equal(m.getReg('rbx'), 0n);

  for (const [insn, sel, cpl, vector, code] of [
    [LTR_AX, 0x40, 3, GP, 0], // CPL > 0
    [LTR_AX, 0, 0, GP, 0], // null
    [LTR_AX, 0x44, 0, GP, 0x44], // TI = 1
    [LTR_AX, 0x10, 0, GP, 0x10], // not a TSS
    [LTR_AX, 0x50, 0, GP, 0x50], // an LDT
    [LTR_AX, 0x60, 0, NP, 0x60], // not present
    [LTR_AX, 0x70, 0, GP, 0x70], // upper type field not 0
    [LTR_AX, 0x80, 0, GP, 0x80], // beyond the limit
    [LLDT_AX, 0x40, 0, GP, 0x40], // a TSS
    [LLDT_AX, 0x50, 3, GP, 0],
  ] as const) {
    const f = machine([...insn], cpl);
    f.setReg('rax', BigInt(sel));
    fault(f.step(), vector, code);
  }
  // A busy TSS cannot be loaded again.
  const again = machine([...LTR_AX, ...LTR_AX]);
  again.setReg('rax', 0x40n);
  ok(again);
  fault(again.step(), GP, 0x40);
  // STR at CPL 3 with CR4.UMIP set is #GP(0).
  const u = machine(STR_EBX, 3);
  u.setReg('cr4', u.getReg('cr4') | 0x800n);
  fault(u.step(), GP, 0);
});

const SYSRETQ = [0x48, 0x0f, 0x07];

test('SYSRETQ: RIP = RCX, RFLAGS = (R11 & 3C7FD7H) | 2, CS/SS from IA32_STAR[63:48] with RPL 3, CPL 3; its #UD/#GP cases', () => {
  const m = machine([...SYSRETQ, 0x90, 0x90, 0x90, 0x90]);
  m.cpu.msrs.set(MSR.IA32_STAR, 0x0023_0010_0000_0000n);
  m.setReg('rcx', CODE + 5n);
  m.setReg('r11', 0xffff_ffff_ffff_ffffn);
  ok(m);
  assert.equal(m.getReg('rip'), CODE + 5n);
  assert.equal(m.getReg('rflags'), 0x3c7fd7n & ~0x10000n | 2n, 'RF and VM are not kept by the emulator');
  assert.equal(m.getReg('cpl'), 3n);
  assert.equal(m.cpu.sel[1], 0x33, 'CS = 0x23 + 16 | 3');
  assert.equal(m.cpu.sel[2], 0x2b, 'SS = 0x23 + 8 | 3');

  const nc = machine([...SYSRETQ]);
  nc.cpu.msrs.set(MSR.IA32_STAR, 0x0023_0010_0000_0000n);
  nc.setReg('rcx', 0x8000_0000_0000n);
  fault(nc.step(), GP, 0);
  assert.equal(nc.getReg('cpl'), 0n);
  const u = machine([...SYSRETQ], 3);
  fault(u.step(), GP, 0);
  const sce = machine([...SYSRETQ]);
  sce.setReg('efer', sce.getReg('efer') & ~1n);
  fault(sce.step(), UD);
  const l = machine([0x0f, 0x07]);
  l.cpu.msrs.set(MSR.IA32_STAR, 0x0023_0010_0000_0000n);
  assert.equal(l.step()?.kind, 'not-emulated');
});

test('IRETQ and far JMP through memory stop as not emulated, by name', () => {
  for (const code of [[0x48, 0xcf], [0xff, 0x2c, 0x24]]) {
    const r = machine(code).step();
    assert.equal(r?.kind, 'not-emulated', r?.message);
  }
});
