// The rest of issue 4 reached from assembly through the platform: the TDCALL leaves the module
// serves itself (VP.INFO, VEINFO.GET, MR.REPORT, MR.RTMR.EXTEND, MEM.PAGE.ACCEPT, VM.RD/WR,
// unknown leaf), guest detection by CPUID 0x21, MSRs 0x3A/0x87 read as the kernel reads them,
// and VMXON/VMXOFF with their #UD/#GP/VMfail outcomes. Operands are physical addresses
// (__pa of the session's direct-map struct area). Values: TDX module tdx_td_dispatcher.c–TDX module tdg_*.c,
// Linux asm/shared/tdx.h TDCALL leaves, GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c, Intel SDM vol. 3; the SHA-384 extend is computed with node:crypto.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Session, LAYOUT } from '../../emulator/session/session';
import { fixture, callAgain, setStruct, readField, readSym, hex } from './harness';

const OPERAND_INVALID = 0xC000_0100_0000_0000n; // + operand id (TDX module tdx_error_codes_defs.h, tdx_api_defs.h)
const RAX = 0n, RCX = 1n, RDX = 2n, R8 = 8n;
/** The struct area is the direct map at PA 0x100000 (LAYOUT.structs = PAGE_OFFSET + 0x100000). */
const PA = (off: number) => 0x10_0000n + BigInt(off);
const VA = (off: number) => LAYOUT.structs + BigInt(off);

/** A guest session on hypercall-g45.S; `leaf()` calls __tdcall_ret(fn, &args) with the given fields. */
async function guest(tdxModule: Record<string, unknown> = {}, vmm: Record<string, unknown> = {}) {
  const s = await Session.create({ program: fixture('hypercall-g45.S'), entry: '__tdcall_ret', generation: 'G5', context: 'guest',
    args: [0, { struct: 'tdx_module_args' }], tdxModule, vmm, maxInstructions: 100_000 });
  const leaf = (fn: bigint, f: Record<string, bigint> = {}) => {
    setStruct(s, 0, f);
    const stop = callAgain(s, '__tdcall_ret', [fn, s.structArgs[0].address]);
    assert.equal(stop.reason, 'returned', stop.message);
    return s.machine.getReg('rax');
  };
  const out = (name: string) => readField(s, 0, name);
  return { s, leaf, out };
}

test('TDG.VP.INFO (1): GPA width 52 with GPAW, attributes, vCPU counts and index, R10 bit 0', async () => {
  const { leaf, out } = await guest({ gpaw: true, attributes: '0x10000000', numVcpus: 2, maxVcpus: 4, vcpuIndex: 1 });
  assert.equal(leaf(1n), 0n);
  assert.deepEqual([out('rcx'), out('rdx'), out('r8'), out('r9'), out('r10'), out('r11')], [52n, 0x1000_0000n, (4n << 32n) | 2n, 1n, 1n, 0n]);
});

test('TDG.VP.VEINFO.GET (3): the pending #VE in RCX, RDX, R8, R9 and R10 = info << 32 | length; then no valid #VE info', async () => {
  const { leaf, out } = await guest({ veInfo: { exitReason: 48, exitQualification: '0x181', gla: '0xffffc90000001000', gpa: '0xfed00000', instructionLength: 3, instructionInfo: '0x10' } });
  assert.equal(leaf(3n), 0n);
  assert.deepEqual([out('rcx'), hex(out('rdx')), hex(out('r8')), hex(out('r9')), hex(out('r10'))], [48n, '0x181', '0xffffc90000001000', '0xfed00000', '0x1000000003']);
  const again = leaf(3n);
  assert.notEqual(again, 0n, 'the #VE info was consumed');
  assert.equal(again >> 63n, 1n, 'an error status');
});

test('TDG.MR.REPORT (4): alignment and sub-type checks in the module\'s order, then REPORTTYPE 0x81 and REPORTDATA in the TDREPORT', async () => {
  const { s, leaf } = await guest();
  const data = Uint8Array.from({ length: 64 }, (_, k) => k + 1);
  s.machine.writeBytes(VA(0x1c0), data);
  assert.equal(hex(leaf(4n, { rcx: PA(0x1200), rdx: PA(0x1c0), r8: 0n })), hex(OPERAND_INVALID + RCX)); // not 1024-aligned
  assert.equal(hex(leaf(4n, { rcx: PA(0x1000), rdx: PA(0x1c8), r8: 0n })), hex(OPERAND_INVALID + RDX)); // not 64-aligned
  assert.equal(hex(leaf(4n, { rcx: PA(0x1000), rdx: PA(0x1c0), r8: 1n })), hex(OPERAND_INVALID + R8)); // sub-type must be 0
  assert.equal(leaf(4n, { rcx: PA(0x1000), rdx: PA(0x1c0), r8: 0n }), 0n);
  const report = s.machine.readBytes(VA(0x1000), 1024);
  // REPORTMACSTRUCT opens the TDREPORT: REPORTTYPE {type 0x81, subtype 0, version 0} at 0,
  // REPORTDATA at 128 (TDX module ABI spec, REPORTMACSTRUCT layout).
  assert.deepEqual([...report.slice(0, 3)], [0x81, 0, 0]);
  assert.deepEqual([...report.slice(128, 192)], [...data]);
});

test('TDG.MR.RTMR.EXTEND (2): RTMR[i] = SHA-384(RTMR[i] || 48 bytes at RCX); index 4 → OPERAND_INVALID+RDX', async () => {
  const { s, leaf } = await guest();
  const ext = Uint8Array.from({ length: 48 }, (_, k) => 0xa0 ^ k);
  s.machine.writeBytes(VA(0x2000), ext);
  assert.equal(leaf(2n, { rcx: PA(0x2000), rdx: 2n }), 0n);
  const want = createHash('sha384').update(new Uint8Array(48)).update(ext).digest();
  assert.equal(Buffer.from(s.platform.module.state.rtmrs[2]).toString('hex'), want.toString('hex'));
  assert.equal(hex(leaf(2n, { rcx: PA(0x2000), rdx: 4n })), hex(OPERAND_INVALID + RDX));
  assert.equal(hex(leaf(2n, { rcx: PA(0x2008), rdx: 0n })), hex(OPERAND_INVALID + RCX));
});

test('TDG.MEM.PAGE.ACCEPT (6): accept zeroes the page; twice → TDX_PAGE_ALREADY_ACCEPTED; bad level/alignment/shared → OPERAND_INVALID+RCX; unmapped → TD exit', async () => {
  const { s, leaf } = await guest();
  s.machine.writeBytes(VA(0x3000), new Uint8Array(4096).fill(0xaa));
  assert.equal(leaf(6n, { rcx: PA(0x3000) }), 0n);
  assert.ok(s.machine.readBytes(VA(0x3000), 4096).every((b) => b === 0), 'accepted page zeroed');
  assert.equal(hex(leaf(6n, { rcx: PA(0x3000) })), '0xb0a00000000'); // PAGE_ALREADY_ACCEPTED + level 0 (4K)
  assert.equal(hex(leaf(6n, { rcx: PA(0x4000) | 2n })), hex(OPERAND_INVALID + RCX)); // 1G: module 1.5 takes 4K/2M only
  assert.equal(hex(leaf(6n, { rcx: PA(0x4000) | 1n })), hex(OPERAND_INVALID + RCX)); // 2M request, 4K-aligned GPA
  assert.equal(hex(leaf(6n, { rcx: (1n << 47n) | PA(0x4000) })), hex(OPERAND_INVALID + RCX)); // shared bit (GPAW 0)
  // EPT violation on a page the VMM has not added: the kvm VMM (default) adds it and the retried
  // TDCALL succeeds (test/platform/vmcall.test.ts); the permissive one leaves the TD exit as the stop.
  assert.equal(leaf(6n, { rcx: 0x4000_0000n }), 0n);
  const p = await guest({}, { profile: 'permissive' });
  setStruct(p.s, 0, { rcx: 0x4000_0000n });
  const stop = callAgain(p.s, '__tdcall_ret', [6n, p.s.structArgs[0].address]);
  assert.equal(stop.reason, 'td-exit', stop.message); // EPT violation: the VMM has not mapped it
});

test('TDG.VM.WR (8) / TDG.VM.RD (7): write under a mask returns the old value; RD reads it; VM index ≠ 0 and WR v1 refused', async () => {
  const NOTIFY = 0x9100_0000_0000_0010n; // TDCS_NOTIFY_ENABLES (Linux asm/shared/tdx.h TDCALL leaves)
  const { leaf, out } = await guest();
  assert.equal(leaf(8n, { rdx: NOTIFY, r8: 0xffn, r9: 1n }), 0n);
  assert.equal(out('r8'), 0n, 'old value');
  assert.equal(leaf(7n, { rdx: NOTIFY }), 0n);
  assert.equal(out('r8'), 1n, 'only the masked bit was written');
  assert.equal(hex(leaf(7n, { rcx: 1n, rdx: NOTIFY })), hex(OPERAND_INVALID + RCX));
  assert.equal(hex(leaf(8n, { rdx: NOTIFY, r8: 1n, r9: 1n, version: 1n })), hex(OPERAND_INVALID + RAX));
});

test('TDCALL dispatch: unknown leaf 13 and reserved RAX bits → TDX_OPERAND_INVALID+RAX', async () => {
  const { leaf } = await guest();
  assert.equal(hex(leaf(13n)), hex(OPERAND_INVALID));
  assert.equal(hex(leaf(1n | (1n << 32n))), hex(OPERAND_INVALID));
});

// ---- detection and VMX --------------------------------------------------------------------------

async function plat(context: 'guest' | 'host' | 'none', platform: Record<string, unknown> = {}) {
  const s = await Session.create({ program: fixture('platform.S'), entry: 'rdmsr_safe', generation: 'G4', context, platform, maxInstructions: 100_000 });
  const call = (fn: string, ...args: bigint[]) => {
    const stop = callAgain(s, fn, args);
    assert.equal(stop.reason, 'returned', `${fn}: ${stop.message}`);
    return s.machine.getReg('rax');
  };
  return { s, call };
}

test('CPUID 0x21 in a TD: "IntelTDX    " in EBX, EDX, ECX, so tdx_guest_detect() finds TDX; not on the host', async () => {
  const g = await plat('guest');
  assert.equal(g.call('tdx_guest_detect'), 1n);
  const sig = g.s.machine.readBytes(g.s.image.symbols.find((x) => x.name === 'tdx_sig')!.address, 12);
  assert.equal(Buffer.from(sig).toString('latin1'), 'IntelTDX    ');
  const h = await plat('host');
  assert.equal(h.call('tdx_guest_detect'), 0n);
  void readSym;
});

test('MSR 0x3A (FEATURE_CONTROL) and 0x87 (KeyID partitioning) read with a fault-safe rdmsr; an unmodelled MSR → #GP fixed up, AX/DX cleared', async () => {
  const on = await plat('host', { featureControl: '0x5' });
  assert.equal(on.call('rdmsr_safe', 0x3an), 5n);
  const keyids = on.call('rdmsr_safe', 0x87n);
  assert.ok(keyids >> 32n >= 2n, `TDX KeyIDs in bits 63:32 (at least 2): ${hex(keyids)}`);
  const off = await plat('host', { tdxBios: false });
  assert.equal(off.call('rdmsr_safe', 0x87n) >> 32n, 0n, 'no TDX KeyIDs: the BIOS did not enable TDX');
  assert.equal(off.call('rdmsr_safe', 0x1234n), 0n);
  assert.equal(off.s.machine.getReg('rdx'), 0n);
  assert.equal(hex(off.s.machine.getReg('rcx')), '0xffffffffffffffff', 'the fixup path ran');
  assert.equal(off.s.extable.last?.vector, 13);
});

const REGION = VA(0x1000), ARGS = VA(0x2000);
const EFAULT = 0xffff_fff2n, EBUSY = 0xffff_fff0n; // -14, -16 as the int the fixture returns

test('VMXON then SEAMCALL works; VMXOFF then SEAMCALL → #UD (TDX_SEAMCALL_UD); VMXON in VMX root → VMfailInvalid', async () => {
  const { s, call } = await plat('none');
  assert.equal(hex(call('__seamcall_ret', 33n, ARGS)), '0x8000ff0000000006', 'not in VMX operation');
  assert.equal(call('vmx_on', REGION, 1n, 0n), 0n);
  assert.equal(s.platform.state.vmxon, true);
  assert.equal(s.machine.getReg('cr4') & 0x2000n, 0x2000n);
  assert.equal(call('__seamcall_ret', 33n, ARGS), 0n, 'TDH.SYS.INIT');
  assert.equal(call('vmx_on', REGION, 0n, 0n), 1n, 'VMXON in VMX root, no current VMCS: VMfailInvalid');
  assert.equal(call('vmx_on', REGION, 1n, 0n) & 0xffff_ffffn, EBUSY, 'KVM: CR4.VMXE already set');
  call('vmx_off');
  assert.equal(s.platform.state.vmxon, false);
  assert.equal(s.machine.getReg('cr4') & 0x2000n, 0n);
  assert.equal(hex(call('__seamcall_ret', 33n, ARGS)), '0x8000ff0000000006');
});

test('VMXON: #UD with CR4.VMXE clear, #GP with FEATURE_CONTROL unlocked or at CPL 3, VMfailInvalid on a bad revision id', async () => {
  const a = await plat('none');
  assert.equal(a.call('vmx_on', REGION, 0n, 0n) & 0xffff_ffffn, EFAULT);
  assert.equal(a.s.extable.last?.vector, 6);
  const b = await plat('none', { featureControl: '0x4' }); // VMX outside SMX, not locked
  assert.equal(b.call('vmx_on', REGION, 1n, 0n) & 0xffff_ffffn, EFAULT);
  assert.equal(b.s.extable.last?.vector, 13);
  assert.equal(b.s.machine.getReg('cr4') & 0x2000n, 0n, 'KVM clears VMXE after the fault');
  const c = await plat('none', { vmxe: true, cpl: 3 });
  assert.equal(c.call('vmxon_only', ARGS) & 0xffff_ffffn, EFAULT);
  assert.equal(c.s.extable.last?.vector, 13);
  const d = await plat('none');
  assert.equal(d.call('vmx_on', REGION, 1n, 1n), 1n);
  assert.equal(d.s.platform.state.vmxon, false);
  const e = await plat('guest', { vmxe: true });
  assert.equal(e.call('vmx_on', REGION, 0n, 0n) & 0xffff_ffffn, EFAULT);
  assert.equal(e.s.extable.last?.vector, 6, 'VMXON in a TD: #UD');
});

test('VMXOFF outside VMX operation → #UD, which the kernel ignores (fixed up) before clearing CR4.VMXE', async () => {
  const { s, call } = await plat('none', { vmxe: true });
  assert.equal(call('vmx_off'), 0n);
  assert.equal(s.extable.last?.vector, 6);
  assert.equal(s.machine.getReg('cr4') & 0x2000n, 0n);
});
