// Segment selectors in 64-bit mode, LTR/LLDT/STR/SLDT and SYSRETQ. Privileged or dependent on a
// GDT the host's user mode cannot set up, so every expectation is written from the Intel SDM
// (Vol. 2: MOV, POP, PUSH, LTR, LLDT, STR, SLDT, SYSRET; Vol. 3A 3.4.5 descriptor fields,
// 7.2.3 the 64-bit TSS descriptor), never from the emulator.
// Size (over 450 lines): one test per instruction and rule over one shared GDT fixture.

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

function machine(code: number[], cpl = 0, entries: bigint[] = ENTRIES): Machine {
  const m = new Machine({});
  m.map(CODE, 0x1000, 'rx', 'code');
  m.writeBytes(CODE, Uint8Array.from(code));
  m.map(GDT, 0x1000, 'rw', 'gdt');
  const bytes = new Uint8Array(entries.length * 8);
  const dv = new DataView(bytes.buffer);
  entries.forEach((e, k) => dv.setBigUint64(k * 8, e, true));
  m.writeBytes(GDT, bytes);
  m.cpu.gdtrBase = GDT;
  m.cpu.gdtrLimit = entries.length * 8 - 1;
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

test('SYSRETQ while IA32_STAR was never written stops by name (its power-up value is undefined: SDM Vol. 3A Table 10-1)', () => {
  const r = machine([...SYSRETQ]).step();
  assert.equal(r?.kind, 'not-emulated');
  assert.match(r!.message, /IA32_STAR has not been written/);
});

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

// ---- far transfers, returns and descriptor queries (SDM Vol. 2: IRET, RET far, JMP/CALL far,
// LSS/LFS/LGS, LAR, LSL, VERR/VERW, SYSCALL) -------------------------------------------------

/** A code/data descriptor with explicit L and D bits. */
function cd(type: number, dpl: number, o: { l?: boolean; d?: boolean; p?: boolean; base?: number } = {}): bigint {
  const base = o.base ?? 0;
  const lo = ((base & 0xffff) << 16) | 0xffff;
  const hi = ((base >>> 24) << 24) | (1 << 23) | (o.d ? 1 << 22 : 0) | (o.l ? 1 << 21 : 0) | (0xf << 16) | (o.p === false ? 0 : 1 << 15) | (dpl << 13) | (1 << 12) | (type << 8) | ((base >>> 16) & 0xff);
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** A system descriptor (S = 0): type, DPL; 16 bytes. */
function sys16(type: number, dpl = 0): [bigint, bigint] {
  const hi = (1 << 15) | (dpl << 13) | (type << 8);
  return [(BigInt(hi >>> 0) << 32n) | 0x67n, 0n];
}

const FAR: bigint[] = [
  0n, // 0x00
  cd(0xb, 0, { l: true }), // 0x08 kernel 64-bit code
  cd(0x3, 0), // 0x10 kernel data
  cd(0x3, 3), // 0x18 user data
  cd(0xb, 3, { l: true }), // 0x20 user 64-bit code
  cd(0xf, 0, { l: true }), // 0x28 conforming readable 64-bit code, DPL 0
  cd(0xb, 3, { d: true }), // 0x30 32-bit code (compatibility mode)
  (BigInt(((1 << 15) | (3 << 13) | (0xc << 8)) >>> 0) << 32n), // 0x38 call gate (first half), DPL 3
  cd(0xb, 3, { l: true, p: false }), // 0x40 code, not present
  cd(0x3, 3, { p: false }), // 0x48 data, not present
  cd(0xb, 0, { l: true, d: true }), // 0x50 L and D both set
  cd(0x1, 0), // 0x58 read-only data, DPL 0
  cd(0xb, 1, { l: true }), // 0x60 64-bit code, DPL 1
  cd(0x3, 1, { base: 0x00abcdef }), // 0x68 data, DPL 1, base 0xabcdef
  ...sys16(9), // 0x70 available 64-bit TSS
  ...sys16(2), // 0x80 LDT
];

const IRETQ = [0x48, 0xcf], IRETW = [0x66, 0xcf], LRETQ = [0x48, 0xcb], LRETQ16 = [0x48, 0xca, 0x10, 0x00];
const FRAME = STACK_TOP - 0x100n;

function frame(m: Machine, items: bigint[], size = 8): void {
  const b = new Uint8Array(items.length * size);
  const dv = new DataView(b.buffer);
  items.forEach((v, k) => (size === 8 ? dv.setBigUint64(k * 8, BigInt.asUintN(64, v), true) : dv.setUint16(k * 2, Number(v & 0xffffn), true)));
  m.writeBytes(FRAME, b);
  m.setReg('rsp', FRAME);
}

function selAt(m: Machine, n: number): number {
  return m.cpu.sel[n];
}

test('IRETQ to the same level at CPL 0: RIP, CS, RFLAGS (IOPL, IF, VIF, VIP, AC, ID loaded; VM not), RSP and SS always popped', () => {
  const m = machine(IRETQ, 0, FAR);
  m.setReg('rflags', 0x2n);
  frame(m, [CODE + 0x10n, 0x08n, 0x3f7fd7n | 0xffc0_0000n, 0x1234_5670n, 0x10n]);
  ok(m);
  assert.equal(m.getReg('rip'), CODE + 0x10n);
  assert.equal(m.getReg('rsp'), 0x1234_5670n, 'RSP := tempRSP (SDM Vol. 3A 6.14.3: 64-bit mode pops SS:RSP unconditionally)');
  assert.equal(selAt(m, 1), 0x08);
  assert.equal(selAt(m, 2), 0x10);
  // CF PF AF ZF SF TF DF OF NT IOPL IF AC VIF VIP ID from the image; RF not kept (no instruction
  // breakpoints are modelled), VM and the reserved bits never loaded.
  assert.equal(m.getReg('rflags'), 0x3f7fd7n & ~0x30000n | 2n);
  assert.equal(m.getReg('cpl'), 0n);
});

test('IRETQ from CPL 0 to CPL 3: CPL, CS, SS from the frame; ES/DS/FS/GS holding DPL < 3 data or non-conforming code become null, conforming code and DPL 3 data stay', () => {
  const MOV_AX_ES = [0x8e, 0xc0], MOV_CX_DS = [0x8e, 0xd9], MOV_DX_FS = [0x8e, 0xe2], MOV_BX_GS = [0x8e, 0xeb];
  const m = machine([...MOV_AX_ES, ...MOV_CX_DS, ...MOV_DX_FS, ...MOV_BX_GS, ...IRETQ], 0, FAR);
  m.setReg('rax', 0x1bn); // user data, DPL 3: stays
  m.setReg('rcx', 0x10n); // kernel data, DPL 0: nulled
  m.setReg('rdx', 0x28n); // conforming code: stays
  m.setReg('rbx', 0x68n); // data, DPL 1: nulled (its base stays in GS.base)
  for (let k = 0; k < 4; k++) ok(m);
  assert.equal(m.getReg('gs_base'), 0xabcdefn);
  m.setReg('rflags', 0x2n);
  frame(m, [CODE + 0x40n, 0x23n, 0x3202n, 0x7000n, 0x1bn]);
  ok(m);
  assert.equal(m.getReg('cpl'), 3n);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => selAt(m, n)), [0x1b, 0x23, 0x1b, 0, 0x28, 0]);
  assert.equal(m.getReg('gs_base'), 0xabcdefn, 'only the selector is nulled (SDM IRET pseudo-code: SegmentSelector := 0)');
  assert.equal(m.getReg('rflags'), 0x3202n, 'IF and IOPL from the image at CPL 0');
  assert.equal(m.getReg('rsp'), 0x7000n);
});

test('IRETQ to CPL 3: a null selector with a non-zero RPL becomes unknown (its hidden DPL is undefined); a never-loaded one stays unknown', () => {
  const m = machine([0x8e, 0xd8, ...IRETQ, 0x8c, 0xd8, 0x8c, 0xc0], 0, FAR);
  m.setReg('rax', 3n);
  ok(m);
  frame(m, [CODE + 4n, 0x23n, 0x2n, 0x7000n, 0x1bn]);
  ok(m);
  const r = m.step();
  assert.equal(r?.kind, 'not-emulated');
  assert.match(r!.message, /value of %ds is not known.*non-zero RPL/);
});

test('IRETQ faults: NT = 1, null CS, non-canonical RIP, null SS to CPL 3 #GP(0); bad CS or SS #GP(selector); not present #NP/#SS; L = 0 stops', () => {
  const rip = CODE + 0x10n;
  for (const [cs, ss, cpl, vector, code, r] of [
    [0x00, 0x10, 0, GP, 0, rip], [0x08, 0x10, 0, GP, 0, 0x8000_0000_0000n], [0x23, 0x00, 0, GP, 0, rip], [0x23, 0x03, 0, GP, 0, rip],
    [0x08, 0x01, 0, GP, 0, rip], // null SS with RPL ≠ the new CPL
    [0x98, 0x10, 0, GP, 0x98, rip], // beyond the GDT limit
    [0x10, 0x10, 0, GP, 0x10, rip], // data as CS
    [0x20, 0x18, 3, GP, 0x20, rip], // RPL 0 < CPL 3
    [0x0b, 0x1b, 0, GP, 0x08, rip], // non-conforming DPL 0 ≠ RPL 3
    [0x43, 0x1b, 0, NP, 0x40, rip], // not present
    [0x23, 0x10, 0, GP, 0x10, rip], // SS RPL 0 ≠ 3
    [0x23, 0x13, 0, GP, 0x10, rip], // SS DPL 0 ≠ 3
    [0x23, 0x23, 0, GP, 0x20, rip], // SS is code
    [0x08, 0x58, 0, GP, 0x58, rip], // SS read-only
    [0x23, 0x4b, 0, SS, 0x48, rip], // SS not present
  ] as const) {
    const m = machine(IRETQ, cpl, FAR);
    frame(m, [r, BigInt(cs), 0x2n, 0x7000n, BigInt(ss)]);
    fault(m.step(), vector, code);
    assert.equal(m.getReg('rsp'), FRAME, 'nothing popped');
    assert.equal(m.getReg('cpl'), BigInt(cpl));
  }
  const nt = machine([0x68, 0x02, 0x40, 0, 0, 0x9d, ...IRETQ], 3, FAR); // push $0x4002; popfq; iretq
  ok(nt);
  ok(nt);
  frame(nt, [rip, 0x23n, 0x2n, 0x7000n, 0x1bn]);
  fault(nt.step(), GP, 0);
  const compat = machine(IRETQ, 0, FAR);
  frame(compat, [rip, 0x33n, 0x2n, 0x7000n, 0x1bn]);
  const r = compat.step();
  assert.equal(r?.kind, 'not-emulated');
  assert.match(r!.message, /compatibility mode/);
});

test('IRETW pops five words: IP (zero-extended), CS, FLAGS (bits 15:0 only), SP, SS', () => {
  const m = machine(IRETW, 0, FAR);
  m.map(0x1000n, 0x1000, 'rx', 'low');
  m.setReg('rflags', 0x240002n); // ID, AC: above bit 15, kept
  frame(m, [0x1000n, 0x08n, 0x0ed5n, 0x7000n, 0x10n], 2);
  ok(m);
  assert.equal(m.getReg('rip'), 0x1000n);
  assert.equal(m.getReg('rsp'), 0x7000n);
  assert.equal(m.getReg('rflags'), 0x240ed7n);
});

test('RET far: the same level pops RIP and CS (+imm16); to an outer level also RSP and SS, then nulls DS', () => {
  const same = machine(LRETQ16, 0, FAR);
  frame(same, [CODE + 0x20n, 0x08n]);
  ok(same);
  assert.equal(same.getReg('rip'), CODE + 0x20n);
  assert.equal(same.getReg('rsp'), FRAME + 32n);
  const outer = machine([0x8e, 0xd9, ...LRETQ16], 0, FAR);
  outer.setReg('rcx', 0x10n);
  ok(outer);
  frame(outer, [CODE + 0x20n, 0x23n, 0n, 0n, 0x7000n, 0x1bn]);
  ok(outer);
  assert.equal(outer.getReg('cpl'), 3n);
  assert.equal(outer.getReg('rsp'), 0x7010n, 'RSP := tempRSP + imm16');
  assert.deepEqual([1, 2, 3].map((n) => selAt(outer, n)), [0x23, 0x1b, 0]);
  for (const [items, cpl, vector, code] of [
    [[CODE, 0x00n], 0, GP, 0], [[CODE, 0x10n], 0, GP, 0x10], [[CODE, 0x08n], 3, GP, 0x08], [[0x8000_0000_0000n, 0x08n], 0, GP, 0],
    [[CODE, 0x23n, 0x7000n, 0x10n], 0, GP, 0x10], [[CODE, 0x23n, 0x7000n, 0x4bn], 0, SS, 0x48],
  ] as const) {
    const f = machine(LRETQ, cpl, FAR);
    frame(f, [...items]);
    fault(f.step(), vector, code);
    assert.equal(f.getReg('rsp'), FRAME);
  }
});

test('JMP/CALL far through m16:64: CS with RPL := CPL, the checks of a code-segment target, CALL pushes CS and RIP; call gates and compatibility mode stop', () => {
  const LJMPQ = [0x48, 0xff, 0x28], LCALLQ = [0x48, 0xff, 0x18];
  const ptr = (m: Machine, off: bigint, sel: number) => {
    const b = new Uint8Array(10);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, BigInt.asUintN(64, off), true);
    dv.setUint16(8, sel, true);
    m.writeBytes(STACK_TOP - 0x800n, b);
    m.setReg('rax', STACK_TOP - 0x800n);
  };
  const j = machine(LJMPQ, 3, FAR);
  j.cpu.sel[1] = 0x23;
  ptr(j, CODE + 0x30n, 0x28); // conforming DPL 0 from CPL 3
  ok(j);
  assert.equal(j.getReg('rip'), CODE + 0x30n);
  assert.equal(selAt(j, 1), 0x2b, 'RPL := CPL');
  const c = machine(LCALLQ, 0, FAR);
  c.cpu.sel[1] = 0x08;
  ptr(c, CODE + 0x30n, 0x08);
  ok(c);
  assert.equal(c.getReg('rsp'), FRAME - 16n);
  assert.deepEqual([...c.readBytes(FRAME - 16n, 16)], [0x03, 0x10, 0x40, 0, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0, 0]);
  for (const [sel, cpl, vector, code, off] of [
    [0x00, 0, GP, 0, CODE], [0x10, 0, GP, 0x10, CODE], [0x0b, 0, GP, 0x08, CODE], [0x08, 3, GP, 0x08, CODE], [0x50, 0, GP, 0x50, CODE],
    [0x43, 3, NP, 0x40, CODE], [0x08, 0, GP, 0, 0x8000_0000_0000n], [0x98, 0, GP, 0x98, CODE],
  ] as const) {
    const f = machine(LJMPQ, cpl, FAR);
    ptr(f, off, sel);
    fault(f.step(), vector, code);
  }
  for (const [sel, what] of [[0x3b, /call gate/], [0x33, /compatibility mode/]] as const) {
    const f = machine(LJMPQ, 3, FAR);
    ptr(f, CODE, sel);
    const r = f.step();
    assert.equal(r?.kind, 'not-emulated');
    assert.match(r!.message, what);
  }
});

test('LSS/LFS/LGS: the segment register is loaded with MOV\'s checks, then the offset into the register; a failed load leaves the register', () => {
  const m = machine([0x0f, 0xb4, 0x08, 0x0f, 0xb2, 0x08], 1, FAR); // lfs (%rax),%ecx; lss (%rax),%ecx
  const b = Uint8Array.from([0x78, 0x56, 0x34, 0x12, 0x69, 0x00]); // 0x12345678 : 0x69
  m.writeBytes(STACK_TOP - 0x800n, b);
  m.setReg('rax', STACK_TOP - 0x800n);
  m.setReg('rcx', 0xffff_ffff_ffff_ffffn);
  ok(m);
  assert.equal(m.getReg('rcx'), 0x12345678n);
  assert.equal(selAt(m, 4), 0x69);
  assert.equal(m.getReg('fs_base'), 0xabcdefn);
  ok(m);
  assert.equal(selAt(m, 2), 0x69);
  const f = machine([0x0f, 0xb2, 0x08], 0, FAR);
  f.writeBytes(STACK_TOP - 0x800n, Uint8Array.from([1, 2, 3, 4, 0x1b, 0]));
  f.setReg('rax', STACK_TOP - 0x800n);
  fault(f.step(), GP, 0x18);
});

test('LAR/LSL/VERR/VERW: valid system types in IA-32e mode (LAR: LDT, TSS, call gate; LSL: LDT, TSS), conforming code visible at any CPL, the limit scaled by G', () => {
  const code = [0x0f, 0x02, 0xc6, 0x0f, 0x03, 0xde, 0x0f, 0x00, 0xe6, 0x9c, 0x0f, 0x00, 0xee, 0x9c]; // lar %esi,%eax; lsl %esi,%ebx; verr %si; pushf; verw %si; pushf
  const run = (sel: number, cpl: number) => {
    const m = machine(code, cpl, FAR);
    m.setReg('rsi', BigInt(sel));
    m.setReg('rax', 0xeeeeeeee_eeeeeeeen);
    m.setReg('rbx', 0xeeeeeeee_eeeeeeeen);
    const zf: boolean[] = [];
    for (let k = 0; k < 6; k++) {
      ok(m);
      if (k === 0 || k === 1) zf.push((m.getReg('rflags') & 0x40n) !== 0n);
    }
    const fl = [...m.readBytes(m.getReg('rsp'), 16)];
    zf.push((fl[8] & 0x40) !== 0, (fl[0] & 0x40) !== 0);
    return { lar: m.getReg('rax'), lsl: m.getReg('rbx'), zf };
  };
  assert.deepEqual(run(0x70, 0), { lar: 0x8900n, lsl: 0x67n, zf: [true, true, false, false] }, 'a TSS: LAR/LSL yes, VERR/VERW no');
  assert.deepEqual(run(0x73, 0).zf, [false, false, false, false], 'the TSS with RPL 3 > DPL 0');
  assert.deepEqual(run(0x80, 0).zf, [true, true, false, false], 'an LDT');
  assert.deepEqual(run(0x3b, 3), { lar: 0xec00n, lsl: 0xeeeeeeee_eeeeeeeen, zf: [true, false, false, false] }, 'a call gate: LAR only');
  assert.deepEqual(run(0x2b, 3), { lar: 0xaf9f00n, lsl: 0xffffffffn, zf: [true, true, true, false] }, 'conforming code: visible, readable, not writable');
  assert.deepEqual(run(0x13, 3), { lar: 0xeeeeeeee_eeeeeeeen, lsl: 0xeeeeeeee_eeeeeeeen, zf: [false, false, false, false] }, 'DPL 0 data from CPL 3');
  assert.deepEqual(run(0x1b, 3).zf, [true, true, true, true]);
  assert.deepEqual(run(0x6b, 1).zf, [false, false, false, false], 'RPL 3 > DPL 1');
  assert.deepEqual(run(0x98, 0).zf, [false, false, false, false], 'beyond the GDT limit');
  const ldt = machine(code, 0, FAR);
  ldt.setReg('rsi', 4n);
  const r = ldt.step();
  assert.equal(r?.kind, 'not-emulated', 'TI = 1 while LDTR is unknown');
  assert.match(r!.message, /refers to the LDT/);
  ldt.cpu.sel[7] = 0; // LDTR null: a TI = 1 selector fails the checks
  ok(ldt);
  assert.equal(ldt.getReg('rflags') & 0x40n, 0n);
});

const SYSCALL = [0x0f, 0x05], WRMSR = [0x0f, 0x30], RDMSR = [0x0f, 0x32];

test('SYSCALL: RCX = next RIP, R11 = RFLAGS, RFLAGS &= ~IA32_FMASK, RIP = IA32_LSTAR, CS/SS from IA32_STAR[47:32], CPL 0; #UD without EFER.SCE', () => {
  const m = machine([...WRMSR, ...WRMSR, ...WRMSR, ...SYSCALL], 0, FAR);
  const wr = (msr: number, v: bigint) => { m.setReg('rcx', BigInt(msr)); m.setReg('rax', v & 0xffffffffn); m.setReg('rdx', v >> 32n); ok(m); };
  wr(MSR.IA32_STAR, 0x0013_0008_0000_0000n);
  wr(MSR.IA32_LSTAR, CODE + 0x100n);
  wr(MSR.IA32_FMASK, 0x47700n);
  m.setReg('cpl', 3n);
  m.setReg('rflags', 0x246n | 0x400n | 0x100n);
  ok(m);
  assert.equal(m.getReg('rcx'), CODE + 8n);
  assert.equal(m.getReg('r11'), 0x746n);
  assert.equal(m.getReg('rflags'), 0x46n);
  assert.equal(m.getReg('rip'), CODE + 0x100n);
  assert.equal(m.getReg('cpl'), 0n);
  assert.deepEqual([selAt(m, 1), selAt(m, 2)], [0x08, 0x10]);
  const u = machine(SYSCALL, 3, FAR);
  u.setReg('efer', u.getReg('efer') & ~1n);
  fault(u.step(), UD);
  const none = machine(SYSCALL, 3, FAR).step();
  assert.equal(none?.kind, 'not-emulated');
  assert.match(none!.message, /IA32_STAR has not been written/);
});

test('WRMSR of IA32_LSTAR needs a canonical address and IA32_FMASK bits 63:32 zero (#GP(0)); RDMSR of one never written stops by name', () => {
  for (const [msr, v] of [[MSR.IA32_LSTAR, 0x8000_0000_0000n], [MSR.IA32_FMASK, 1n << 32n]] as const) {
    const m = machine(WRMSR);
    m.setReg('rcx', BigInt(msr)); m.setReg('rax', v & 0xffffffffn); m.setReg('rdx', v >> 32n);
    fault(m.step(), GP, 0);
  }
  const r = machine(RDMSR);
  r.setReg('rcx', BigInt(MSR.IA32_LSTAR));
  const s = r.step();
  assert.equal(s?.kind, 'not-emulated');
  assert.match(s!.message, /IA32_LSTAR.*undefined/);
});

test('LDT selectors (TI = 1) read the LDT that LLDT loaded (base and limit from its 16-byte descriptor); beyond its limit or with a null LDTR #GP(selector)', () => {
  const LDT = 0x500800n; // inside the GDT page machine() maps
  const ldtDesc = (() => {
    const lo = ((Number(LDT) & 0xffff) << 16) | 0x0f; // limit 0x0f: two entries
    const hi = (Number(LDT) >>> 24 << 24) | (1 << 15) | (2 << 8) | ((Number(LDT) >>> 16) & 0xff);
    return [(BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), 0n];
  })();
  const entries = [...FAR.slice(0, 16), ...ldtDesc];
  const LLDT_CX = [0x0f, 0x00, 0xd1];
  const m = machine([...LLDT_CX, ...MOV_AX_DS, 0x0f, 0x02, 0xf0], 0, entries); // lldt %cx; mov %eax,%ds; lar %eax,%esi
  m.writeBytes(LDT + 8n, (() => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, cd(0x3, 3, { base: 0x123456 }), true); return b; })());
  m.setReg('rcx', 0x80n);
  ok(m);
  m.setReg('rax', 0x0fn); // LDT index 1, RPL 3
  ok(m);
  assert.equal(selAt(m, 3), 0x0f);
  ok(m);
  assert.equal(m.getReg('rsi'), 0x8ff300n, 'LAR of the LDT entry (G, limit 19:16, P, DPL 3, S, type 3)');
  for (const [ldtr, sel, code] of [[0x80, 0x17, 0x14], [0, 0x0f, 0x0c]] as const) {
    const f = machine([...LLDT_CX, ...MOV_AX_DS], 0, entries);
    f.setReg('rcx', BigInt(ldtr));
    ok(f);
    f.setReg('rax', BigInt(sel));
    fault(f.step(), GP, code);
  }
});
