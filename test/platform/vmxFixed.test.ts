// VMX-operation restrictions on MOV to CR0/CR4 (SDM Vol. 3C 24.8 "Restrictions on VMX Operation";
// Vol. 3D Appendix A.7/A.8: IA32_VMX_CR0_FIXED0 fixes PE (bit 0), NE (bit 5) and PG (bit 31) to 1,
// IA32_VMX_CR4_FIXED0 fixes VMXE (bit 13) to 1; Vol. 2B "MOV—Move to/from Control Registers": #GP(0)
// when the new value would violate them). Outside VMX operation the same writes are legal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './harness';

/** The emulated CPU's reset CR4 (PAE, PGE, OSFXSR, OSXMMEXCPT) with VMXE (bit 13) set and cleared. */
const CR4_NO_VMXE = 0x6a0n, CR4_VMXE = 0x26a0n;
/** CR0 long-mode value with NE (bit 5) cleared. */
const CR0_NO_NE = 0x80050033n & ~0x20n;

const go = (entry: string, v: bigint, platform: Record<string, unknown> = {}) =>
  run('vmxcr.S', { entry, context: 'host', platform, args: ['0x' + v.toString(16)] });

test('clearing CR4.VMXE in VMX operation (after VMXON) raises #GP(0); the CPU keeps VMXE', async () => {
  const r = await go('cr4_write', CR4_NO_VMXE);
  assert.equal(r.stop.reason, 'exception', r.stop.message);
  assert.equal(r.stop.vector, 13);
  assert.match(r.stop.message, /VMXE must stay set in VMX operation/);
  assert.equal(r.s.machine.cpu.cr4 & 0x2000n, 0x2000n);
});

test('clearing CR4.VMXE outside VMX operation (VMXE set, no VMXON) is legal', async () => {
  const r = await go('cr4_write', CR4_NO_VMXE, { vmxon: false });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.s.machine.cpu.cr4 & 0x2000n, 0n);
  assert.equal(r.s.platform.vmxe, false);
});

test('a CR4 write that keeps VMXE in VMX operation is legal', async () => {
  const r = await go('cr4_write', CR4_VMXE);
  assert.equal(r.stop.reason, 'returned', r.stop.message);
});

test('clearing CR0.NE in VMX operation raises #GP(0) (IA32_VMX_CR0_FIXED0); outside VMX operation it is legal', async () => {
  const r = await go('cr0_write', CR0_NO_NE);
  assert.equal(r.stop.reason, 'exception', r.stop.message);
  assert.equal(r.stop.vector, 13);
  assert.match(r.stop.message, /NE must stay set/);
  const ok = await go('cr0_write', CR0_NO_NE, { vmxon: false });
  assert.equal(ok.stop.reason, 'returned', ok.stop.message);
});

test('IA32_VMX_CR0_FIXED0/CR4_FIXED0 read as the SDM Appendix A.7/A.8 bits', async () => {
  const r = await go('cr4_write', CR4_VMXE);
  const msr = (n: number) => r.s.machine.cpu.msrs.get(n);
  assert.equal(msr(0x486), 0x80000021n);
  assert.equal(msr(0x488), 0x2000n);
  assert.equal((msr(0x487)! & 0x80000021n), 0x80000021n, 'FIXED1 allows every FIXED0 bit');
});
