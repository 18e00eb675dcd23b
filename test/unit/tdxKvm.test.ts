// The VMM model's `kvm` profile (the default) against mainline KVM's TDX code. Expected values are
// the statuses the cited KVM functions write (arch/x86/kvm/vmx/tdx.c, Linux 6.16+), TDVMCALL status
// values from arch/x86/include/asm/shared/tdx.h (SUCCESS 0, RETRY 1, INVALID_OPERAND 1<<63,
// ALIGN_ERROR 1<<63|2, SUBFUNC_UNSUPPORTED 1<<63|3) and KVM hypercall numbers and errors from
// include/uapi/linux/kvm_para.h (KVM_ENOSYS 1000, KVM_EINVAL 22).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmModel, type VmmResult } from '../../emulator/tdx/vmm';
import { GPR } from '../../emulator/tdx/types';

const { RAX, RCX, R10, R11, R12, R13, R14 } = GPR;
const SUCCESS = 0n, RETRY = 1n, INVALID_OPERAND = 1n << 63n, ALIGN_ERROR = (1n << 63n) | 2n;
const MAP_GPA = 0x10001n, GET_QUOTE = 0x10002n, GET_TD_VM_CALL_INFO = 0x10000n, MMIO = 48n;
const SHARED47 = 1n << 47n, SHARED51 = 1n << 51n;
const neg = (e: bigint) => BigInt.asUintN(64, -e);

function call(vmm: VmmModel, fn: bigint, args: Record<number, bigint> = {}): VmmResult {
  const regs = new Array<bigint>(16).fill(0n);
  regs[RAX] = 77n;
  regs[RCX] = 0xFFCCn;
  regs[R11] = fn;
  for (const [i, v] of Object.entries(args)) regs[Number(i)] = v;
  return vmm.handle({ regs, exposed: 0xFFCC });
}

test('the default profile is kvm; a bad profile names the attribute', () => {
  assert.equal(new VmmModel().profile, 'kvm');
  assert.throws(() => new VmmModel({ profile: 'xen' as never }), /vmm.profile: "xen" is not a profile/);
});

test('MapGPA (tdx_map_gpa): a range crossing the shared bit or beyond GPAW → INVALID_OPERAND with R11 = the GPA', () => {
  const vmm = new VmmModel();
  const cross = call(vmm, MAP_GPA, { [R12]: SHARED47 - 0x1000n, [R13]: 0x2000n });
  assert.equal(cross.status, INVALID_OPERAND);
  assert.equal(cross.regs[R11], SHARED47 - 0x1000n);
  const beyond = call(vmm, MAP_GPA, { [R12]: 1n << 48n, [R13]: 0x1000n });
  assert.equal(beyond.status, INVALID_OPERAND, 'GPAW=0: 48-bit GPA width (kvm_vcpu_is_legal_gpa)');
  // With GPAW (TD attribute/config), 52 bits are legal and the shared bit is 51.
  const wide = new VmmModel({}, { gpaw: true });
  assert.equal(call(wide, MAP_GPA, { [R12]: (1n << 48n) | SHARED51, [R13]: 0x1000n }).status, SUCCESS);
  assert.equal(call(wide, MAP_GPA, { [R12]: SHARED51 - 0x1000n, [R13]: 0x2000n }).status, INVALID_OPERAND);
  const unaligned = call(vmm, MAP_GPA, { [R12]: 0x1800n, [R13]: 0x1000n });
  assert.equal(unaligned.status, ALIGN_ERROR, 'range checks first, then PAGE_ALIGNED');
  assert.equal(unaligned.regs[R11], 0x1800n);
  const ok = call(vmm, MAP_GPA, { [R12]: SHARED47 | 0x20_0000n, [R13]: 0x40_0000n });
  assert.equal(ok.status, SUCCESS);
  assert.equal(ok.regs[R11], MAP_GPA, 'R11 untouched on success');
});

test('MapGPA RETRY (tdx_complete_vmcall_map_gpa): R11 = the next 2 MiB chunk (TDX_MAP_GPA_MAX_LEN)', () => {
  const vmm = new VmmModel({ scripts: { MapGPA: [{ status: 'RETRY' }, { status: 'INVALID_OPERAND' }] } });
  const r = call(vmm, MAP_GPA, { [R12]: 0x1000_0000n, [R13]: 0x100_0000n });
  assert.equal(r.status, RETRY);
  assert.equal(r.regs[R11], 0x1020_0000n);
  const e = call(vmm, MAP_GPA, { [R12]: 0x1000_0000n, [R13]: 0x100_0000n });
  assert.equal(e.status, INVALID_OPERAND);
  assert.equal(e.regs[R11], 0x1000_0000n, 'error: R11 = the GPA to resume from');
});

test('GetQuote (KVM tdx_get_quote, then QEMU tdx_handle_get_quote): private GPA → INVALID_OPERAND; unaligned → ALIGN_ERROR; size 0 → INVALID_OPERAND; shared → SUCCESS', () => {
  const vmm = new VmmModel();
  assert.equal(call(vmm, GET_QUOTE, { [R12]: 0x20_0000n, [R13]: 0x1000n }).status, INVALID_OPERAND);
  assert.equal(call(vmm, GET_QUOTE, { [R12]: SHARED47 | 0x20_0800n, [R13]: 0x1000n }).status, ALIGN_ERROR);
  assert.equal(call(vmm, GET_QUOTE, { [R12]: SHARED47 | 0x20_0000n, [R13]: 0x800n }).status, ALIGN_ERROR);
  assert.equal(call(vmm, GET_QUOTE, { [R12]: SHARED47 | 0x20_0000n, [R13]: 0n }).status, INVALID_OPERAND, 'an empty buffer');
  assert.equal(call(vmm, GET_QUOTE, { [R12]: SHARED47 | 0x20_0000n, [R13]: 0x1000n }).status, SUCCESS);
});

test('IO (tdx_emulate_io): bad size or direction → INVALID_OPERAND; R14 (the port) is not written back', () => {
  const IO = 30n;
  const vmm = new VmmModel({ ioPorts: [{ port: 0x70, value: 0x12 }] });
  assert.equal(call(vmm, IO, { [R12]: 3n, [R13]: 0n, [R14]: 0x70n }).status, INVALID_OPERAND, 'size 3');
  assert.equal(call(vmm, IO, { [R12]: 1n, [R13]: 2n, [R14]: 0x70n }).status, INVALID_OPERAND, 'direction 2');
  // KVM reads the port from R14 into a local (a u16 by the time it reaches the PIO emulation).
  const r = call(vmm, IO, { [R12]: 1n, [R13]: 0n, [R14]: 0x1_0070n });
  assert.equal(r.status, SUCCESS);
  assert.equal(r.regs[R11], 0x12n);
  assert.equal(r.regs[R14], 0x1_0070n);
});

test('MMIO (tdx_emulate_mmio): a private GPA → INVALID_OPERAND; shared GPAs are looked up without the shared bit', () => {
  const vmm = new VmmModel({ mmio: [{ gpa: 0xfed0_0000, value: 0x1234 }] });
  assert.equal(call(vmm, MMIO, { [R12]: 4n, [R13]: 0n, [R14]: 0xfed0_0000n }).status, INVALID_OPERAND);
  const r = call(vmm, MMIO, { [R12]: 4n, [R13]: 0n, [R14]: SHARED47 | 0xfed0_0000n });
  assert.equal(r.status, SUCCESS);
  assert.equal(r.regs[R11], 0x1234n);
});

test('GetTdVmCallInfo (tdx_get_td_vm_call_info): R12 = 1 is accepted; R11 bit 1 = SetupEventNotifyInterrupt', () => {
  const vmm = new VmmModel();
  const r = call(vmm, GET_TD_VM_CALL_INFO, { [R12]: 1n });
  assert.equal(r.status, SUCCESS);
  assert.equal(r.regs[R11], 2n);
  assert.deepEqual([r.regs[R12], r.regs[R13], r.regs[R14]], [0n, 0n, 0n]);
  assert.equal(call(vmm, GET_TD_VM_CALL_INFO, { [R12]: 2n }).status, INVALID_OPERAND);
});

test('vendor calls (R10 ≠ 0) are KVM hypercalls (tdx_emulate_vmcall → __kvm_emulate_hypercall): result in R10', () => {
  const vmm = new VmmModel({}, { numVcpus: 4 });
  const unknown = call(vmm, 0n, { [R10]: 99n });
  assert.equal(unknown.status, neg(1000n), '-KVM_ENOSYS');
  assert.equal(unknown.regs[R10], neg(1000n));
  assert.equal(unknown.hypercallNr, 99n);
  const poll = call(vmm, 0n, { [R10]: 1n });
  assert.equal(poll.hypercall?.name, 'KVM_HC_VAPIC_POLL_IRQ');
  assert.equal(poll.status, 0n);
  // KVM_HC_SEND_IPI: a0 = bitmap low, a1 = high, a2 = min APIC id; one IPI per existing vCPU.
  assert.equal(call(vmm, 0b1111_1111n, { [R10]: 10n, [R11]: 0b1111_1111n, [R12]: 0n, [R13]: 0n }).status, 4n);
  assert.equal(call(vmm, 0n, { [R10]: 12n, [R11]: 0x1234n, [R12]: 1n }).status, neg(22n), 'MAP_GPA_RANGE unaligned: -KVM_EINVAL');
  assert.equal(call(vmm, 0n, { [R10]: 12n, [R11]: 0x1000n, [R12]: 1n }).status, 0n);
  // complete_hypercall_exit writes R10 only: a hostile VMM may fill R11 (not an output of a KVM hypercall).
  const hostile = new VmmModel({ hostile: { seed: 1 } }, { numVcpus: 1 });
  const regs = new Array<bigint>(16).fill(0n);
  regs[R10] = 1n; regs[R11] = 0x5a5an;
  const h = hostile.handle({ regs, exposed: 0xFFCC });
  assert.ok(h.hostileRegs.includes('R11'), h.hostileRegs.join(','));
  assert.ok(!h.hostileRegs.includes('R10'));
});
