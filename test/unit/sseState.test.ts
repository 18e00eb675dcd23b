// The SSE state outside the differential suite's reach: CPUID announcing exactly the instruction
// set of the table, FXSAVE/FXRSTOR layout (Intel SDM Vol. 1 Table 10-2: MXCSR at +24,
// MXCSR_MASK at +28, XMM0 at +160), the SSE enabling checks (SDM Vol. 3A 2.5: CR0.EM or
// CR4.OSFXSR=0 → #UD, CR0.TS → #NM; an unmasked SIMD exception → #XM with CR4.OSXMMEXCPT, else
// #UD), RDRAND determinism from the seed, and XMM/MXCSR through snapshot and restore.
// Instruction bytes are GNU as output (objdump -d of the quoted source).

import assert from 'node:assert/strict';
import test from 'node:test';
import { Machine } from '../../emulator/machine';
import { RECORDS } from '../../emulator/exec/index';
import { FEATURE, UNIMPLEMENTED_FEATURES, type CpuidFeature } from '../../emulator/exec/table';

const CODE = 0x400000n, DATA = 0x600000n;
const REG = { eax: 0, ebx: 1, ecx: 2, edx: 3 } as const;

function machine(bytes: number[]): Machine {
  const m = new Machine({ blockThreshold: Infinity });
  m.map(CODE, 0x1000, 'rx');
  m.writeBytes(CODE, Uint8Array.from([...bytes, 0xf4]));
  m.map(DATA, 0x2000, 'rw');
  m.setReg('rip', CODE);
  return m;
}

test('CPUID announces an instruction-set feature exactly when a record implements it', () => {
  const m = new Machine();
  const named = new Set(RECORDS.map((r) => r.cpuid).filter(Boolean));
  const wrong: string[] = [];
  for (const f of [...Object.values(FEATURE), ...Object.values(UNIMPLEMENTED_FEATURES)] as CpuidFeature[]) {
    const on = ((m.cpuid(f.leaf, f.subleaf ?? 0)[REG[f.reg]] >>> f.bit) & 1) === 1;
    if (on !== named.has(f)) wrong.push(`${f.name}: announced ${on}, implemented ${named.has(f)}`);
  }
  assert.deepEqual(wrong, []);
  // The list: CX8, MOVBE, BMI1, BMI2, LAHF/SAHF announced and implemented; AVX off.
  for (const f of [FEATURE.CX8, FEATURE.MOVBE, FEATURE.BMI1, FEATURE.BMI2, FEATURE.LAHF, FEATURE.SSE42]) assert.ok(named.has(f), f.name);
  assert.equal((m.cpuid(1, 0)[2] >>> 28) & 1, 0, 'AVX stays off');
});

test('FXSAVE64 stores MXCSR, MXCSR_MASK and XMM0-15 where the SDM puts them; FXRSTOR64 loads them back', () => {
  // fxsave64 (%rax) = 48 0f ae 00; fxrstor64 (%rax) = 48 0f ae 08
  const m = machine([0x48, 0x0f, 0xae, 0x00, 0x48, 0x0f, 0xae, 0x08]);
  m.setReg('rax', DATA);
  m.setReg('mxcsr', 0x3f81n);
  m.setReg('xmm0', 0x0123456789abcdef_fedcba9876543210n);
  m.setReg('xmm15', 0xffn);
  assert.equal(m.step(), null);
  const area = m.readBytes(DATA, 512);
  const dv = new DataView(area.buffer);
  assert.equal(dv.getUint32(24, true), 0x3f81);
  assert.equal(dv.getUint32(28, true), 0xffff);
  assert.equal(dv.getBigUint64(160, true), 0xfedcba9876543210n);
  assert.equal(dv.getBigUint64(168, true), 0x0123456789abcdefn);
  assert.equal(dv.getUint8(160 + 15 * 16), 0xff);
  m.setReg('mxcsr', 0x1f80n);
  m.setReg('xmm0', 0n);
  assert.equal(m.step(), null);
  assert.equal(m.getReg('mxcsr'), 0x3f81n);
  assert.equal(m.getReg('xmm0'), 0x0123456789abcdef_fedcba9876543210n);
  // A misaligned area is #GP(0).
  m.setReg('rip', CODE);
  m.setReg('rax', DATA + 8n);
  assert.equal(m.step()?.vector, 13);
});

test('SSE enabling: CR0.EM or CR4.OSFXSR clear → #UD, CR0.TS → #NM; unmasked SIMD exception → #XM, or #UD without OSXMMEXCPT', () => {
  const addps = [0x0f, 0x58, 0xc1]; // addps %xmm1,%xmm0
  let m = machine(addps);
  m.setReg('cr0', m.getReg('cr0') | 4n);
  assert.equal(m.step()?.vector, 6);
  m = machine(addps);
  m.setReg('cr4', m.getReg('cr4') & ~0x200n);
  assert.equal(m.step()?.vector, 6);
  m = machine(addps);
  m.setReg('cr0', m.getReg('cr0') | 8n);
  assert.equal(m.step()?.vector, 7);
  const divss = [0xf3, 0x0f, 0x5e, 0xc1]; // divss %xmm1,%xmm0: 1.0 / 0.0 with ZM clear
  for (const [cr4, vector] of [[0x6a0n, 19], [0x2a0n, 6]] as const) {
    m = machine(divss);
    m.setReg('cr4', cr4);
    m.setReg('xmm0', 0x3f800000n);
    m.setReg('mxcsr', 0x1f80n & ~0x200n);
    const stop = m.step();
    assert.equal(stop?.vector, vector);
    assert.equal(m.getReg('mxcsr') & 0x3fn, 4n, 'ZE is set');
    assert.equal(m.getReg('xmm0'), 0x3f800000n, 'the destination is unchanged');
  }
});

test('RDRAND/RDSEED: the same generator state gives the same values, CF=1; XMM and MXCSR survive snapshot/restore', () => {
  // rdrand %rcx = 48 0f c7 f1; rdseed %edx = 0f c7 fa
  const run = (state: bigint) => {
    const m = machine([0x48, 0x0f, 0xc7, 0xf1, 0x0f, 0xc7, 0xfa]);
    m.cpu.rngState = state;
    m.step(); m.step();
    return [m.getReg('rcx'), m.getReg('rdx'), m.getReg('rflags') & 0x8d5n];
  };
  const a = run(5n), b = run(5n), c = run(6n);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(0, 2), c.slice(0, 2));
  assert.equal(a[2], 1n);
  assert.ok(a[1] <= 0xffffffffn);
  const m = machine([0x0f, 0x58, 0xc1]);
  m.setReg('xmm3', 42n);
  m.setReg('mxcsr', 0x9fc0n);
  const snap = m.snapshot();
  m.setReg('xmm3', 0n); m.setReg('mxcsr', 0x1f80n);
  m.restore(snap);
  assert.equal(m.getReg('xmm3'), 42n);
  assert.equal(m.getReg('mxcsr'), 0x9fc0n);
});

test('system instructions: SWAPGS, RD/WRGSBASE under CR4.FSGSBASE, LGDT/SGDT, VERW against the GDT, CPL and UMIP checks', () => {
  // swapgs = 0f 01 f8; rdgsbase %rax = f3 48 0f ae c8; wrfsbase %rcx = f3 48 0f ae d1
  let m = machine([0x0f, 0x01, 0xf8]);
  m.setReg('gs_base', 0x1000n);
  m.defineMsr(0xc0000102, 0xffff888000000000n);
  assert.equal(m.step(), null);
  assert.equal(m.getReg('gs_base'), 0xffff888000000000n);
  assert.equal(m.cpu.msrs.get(0xc0000102), 0x1000n);
  m = machine([0x0f, 0x01, 0xf8]);
  m.setReg('cpl', 3n);
  assert.equal(m.step()?.vector, 13, 'SWAPGS at CPL 3 is #GP(0)');
  m = machine([0xf3, 0x48, 0x0f, 0xae, 0xc8]);
  assert.equal(m.step()?.vector, 6, 'RDGSBASE with CR4.FSGSBASE clear is #UD');
  m = machine([0xf3, 0x48, 0x0f, 0xae, 0xc8, 0xf3, 0x48, 0x0f, 0xae, 0xd1]);
  m.setReg('cr4', m.getReg('cr4') | 0x10000n);
  m.setReg('gs_base', 0x7000n);
  m.setReg('rcx', 0x8000000000000000n);
  assert.equal(m.step(), null);
  assert.equal(m.getReg('rax'), 0x7000n);
  assert.equal(m.step()?.vector, 13, 'WRFSBASE of a non-canonical value is #GP(0)');
  // lgdt (%rax) = 0f 01 10; sgdt (%rbx) = 0f 01 03; verw %cx = 0f 00 e9
  m = machine([0x0f, 0x01, 0x10, 0x0f, 0x01, 0x03, 0x0f, 0x00, 0xe9, 0x0f, 0x00, 0xe9]);
  // GDT at DATA+0x100: entry 2 a writable data segment (type 3, S=1, DPL 0, present), entry 3 code.
  const gdt = DATA + 0x100n;
  const desc = (type: number) => { const b = new Uint8Array(8); b[5] = 0x90 | type; b[6] = 0xcf; return b; };
  m.writeBytes(gdt + 16n, desc(0x3));
  m.writeBytes(gdt + 24n, desc(0xb));
  const pseudo = new Uint8Array(10);
  new DataView(pseudo.buffer).setUint16(0, 31, true);
  new DataView(pseudo.buffer).setBigUint64(2, gdt, true);
  m.writeBytes(DATA, pseudo);
  m.setReg('rax', DATA);
  m.setReg('rbx', DATA + 0x40n);
  assert.equal(m.step(), null);
  assert.equal(m.step(), null);
  assert.deepEqual([...m.readBytes(DATA + 0x40n, 10)], [...pseudo]);
  m.setReg('rcx', 0x10n);
  assert.equal(m.step(), null);
  assert.equal((m.getReg('rflags') >> 6n) & 1n, 1n, 'VERW of the writable data segment sets ZF');
  m.setReg('rcx', 0x18n);
  assert.equal(m.step(), null);
  assert.equal((m.getReg('rflags') >> 6n) & 1n, 0n, 'VERW of a code segment clears ZF');
  // sgdt at CPL 3 with CR4.UMIP is #GP(0); xgetbv (0f 01 d0) with CR4.OSXSAVE clear is #UD.
  m = machine([0x0f, 0x01, 0x03]);
  m.setReg('rbx', DATA);
  m.setReg('cr4', m.getReg('cr4') | 0x800n);
  m.setReg('cpl', 3n);
  assert.equal(m.step()?.vector, 13);
  m = machine([0x0f, 0x01, 0xd0]);
  assert.equal(m.step()?.vector, 6);
});
