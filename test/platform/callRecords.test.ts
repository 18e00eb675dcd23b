// Call records: every call's input and output registers by role from the catalog, RCX for every
// leaf that reads it (tdg_mr_report.c and tdg_mem_page_accept.c blame RCX with
// TDX_OPERAND_INVALID+RCX; tdh_sys_config.c and tdh_sys_tdmr_init.c likewise), R10's TDVMCALL
// status only when the VMM was reached (tdg_vp_vmcall.c: a rejected bitmap never exits to the
// VMM), vendor calls (R10 ≠ 0) named as KVM hypercalls (include/uapi/linux/kvm_para.h), and one
// name per sub-function: the GHCI's ("MapGPA", "Instruction.HLT").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, hex } from './harness';
import { callInputs, callOutputs, formatCallLine } from '../../emulator/platform/format';
import { runJson } from '../../cli/run';

const raw = (fields: Record<string, bigint>, extra: Record<string, unknown> = {}) =>
  run('vmcalls.S', { entry: '__tdcall_ret', generation: 'G5', context: 'guest',
    args: [0, { struct: 'tdx_module_args', init: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, hex(v)])) }], ...extra });

test('TDG.MEM.PAGE.ACCEPT and TDG.MR.REPORT: RCX is in the trace, the inputs and run --json', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    args: [6, '0x1001', 0, 0, 0, { struct: 'tdx_module_output' }] }); // reserved bits 11:3 → OPERAND_INVALID+RCX
  const c = r.s.calls[0];
  assert.equal(c.status, 0xC000010000000001n);
  assert.ok(callInputs(c).some((x) => x.reg === 'RCX' && x.value === 0x1001n));
  assert.match(formatCallLine(c), /RCX=0x1001/);
  const json = runJson(r.s, r.stop) as { calls: { inputs: { reg: string; value: string }[]; outputs: { reg: string; value: string }[] }[] };
  assert.deepEqual(json.calls[0].inputs.find((x) => x.reg === 'RCX')?.value, '0x1001');
  assert.deepEqual(json.calls[0].outputs.find((x) => x.reg === 'RAX')?.value, '0xc000010000000001');
  const rep = await run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    args: [4, '0x10', 0, 0, 0, { struct: 'tdx_module_output' }] });
  assert.match(formatCallLine(rep.s.calls[0]), /RCX=0x10 RDX=0x0 R8=0x0/);
});

test('TDG.VP.INFO outputs by role (tdg_vp_info.c): RCX GPA width, RDX attributes, R8..R11', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    args: [1, 0, 0, 0, 0, { struct: 'tdx_module_output' }] });
  const outs = callOutputs(r.s.calls[0]);
  assert.deepEqual(outs.map((o) => o.reg), ['RAX', 'RCX', 'RDX', 'R8', 'R9', 'R10', 'R11']);
  assert.equal(outs.find((o) => o.reg === 'RCX')?.value, 48n);
});

test('a VMCALL the module rejects (RCX exposes RAX) has no R10 TDVMCALL status; an injected TDCALL status neither', async () => {
  const r = await raw({ rcx: 0xffcdn, r10: 0n, r11: 12n });
  const c = r.s.calls[0];
  assert.equal(c.status, 0xC000010000000001n);
  assert.equal(c.vmcallStatus, undefined);
  assert.doesNotMatch(formatCallLine(c), /R10=/);
  const inj = await raw({ rcx: 0xfc00n, r10: 0n, r11: 12n }, { faults: ['tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID'] });
  assert.equal(inj.s.calls[0].vmcallStatus, undefined);
  const ok = await raw({ rcx: 0xfc00n, r10: 0n, r11: 12n });
  assert.equal(ok.s.calls[0].vmcallStatusName, 'TDVMCALL_STATUS_SUCCESS');
  assert.equal(ok.s.calls[0].subfunction, 'Instruction.HLT');
});

test('a vendor call (R10 = 10) is named KVM_HC_SEND_IPI with its nr, result named as KVM returns it', async () => {
  const r = await raw({ rcx: 0xfc00n, r10: 10n, r11: 1n, r12: 0n, r13: 0n });
  const c = r.s.calls[0];
  assert.equal(c.subfunction, 'KVM_HC_SEND_IPI');
  assert.equal(c.hypercallNr, 10n);
  assert.match(formatCallLine(c), /TDG\.VP\.VMCALL<KVM_HC_SEND_IPI>/);
  assert.equal(c.vmcallStatus, 1n, 'one IPI to APIC id 0 (one vCPU)');
  const unknown = await raw({ rcx: 0xfc00n, r10: 77n });
  assert.equal(unknown.s.calls[0].vmcallStatusName, '-KVM_ENOSYS');
  assert.equal(unknown.s.calls[0].subfunction, 'KVM hypercall nr 77');
});

/** Through __tdcall_saved_ret, which loads R12–R15 from the struct too (__tdcall_ret stops at R11). */
const saved = (fields: Record<string, bigint>) =>
  run('vmcalls.S', { entry: '__tdcall_saved_ret', generation: 'G5', context: 'guest',
    args: [0, { struct: 'tdx_module_args', init: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, hex(v)])) }] });

test('outputs are what the VMM wrote in this answer: MapGPA R11 only on an error or RETRY (tdx_map_gpa: R11 = the GPA), none when the module rejected the call', async () => {
  const MAP_GPA = 0x10001n;
  const ok = await saved({ rcx: 0xfc00n, r10: 0n, r11: MAP_GPA, r12: 0x100000n, r13: 0x2000n });
  assert.deepEqual(callOutputs(ok.s.calls[0]).map((o) => o.reg), ["RAX", "R10"]);
  // 0x7ffffffff000 + 0x2000 crosses the shared bit (47, GPAW 0): INVALID_OPERAND with R11 = the start.
  const bad = await saved({ rcx: 0xfc00n, r10: 0n, r11: MAP_GPA, r12: 0x7ffffffff000n, r13: 0x2000n });
  const outs = callOutputs(bad.s.calls[0]);
  assert.deepEqual(outs.map((o) => o.reg), ['RAX', 'R10', 'R11']);
  assert.equal(outs[1].value, 1n << 63n);
  assert.equal(outs[2].value, 0x7ffffffff000n);
  const rejected = await saved({ rcx: 0xffcdn, r10: 0n, r11: MAP_GPA });
  assert.deepEqual(callOutputs(rejected.s.calls[0]).map((o) => o.reg), ['RAX']);
  // An unknown MSR (RDMSR: INVALID_OPERAND from KVM's failed kvm_emulate_rdmsr) leaves R11 unwritten.
  const msr = await saved({ rcx: 0xfc00n, r10: 0n, r11: 31n, r12: 0x12345n });
  assert.equal(msr.s.calls[0].vmcallStatus, 1n << 63n);
  assert.deepEqual(callOutputs(msr.s.calls[0]).map((o) => o.reg), ['RAX', 'R10']);
});

test('host leaves that blame RCX show it: TDH.SYS.CONFIG (RCX TDMR list PA, RDX count, R8 HKID) and TDH.SYS.TDMR.INIT (RCX TDMR base)', async () => {
  const host = (leaf: number) => run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'host',
    args: [leaf, { struct: 'tdx_module_args', init: { rcx: '0x1234', rdx: '0x5' } }] });
  // Leaf numbers: TDH.SYS.CONFIG 45, TDH.SYS.TDMR.INIT 36 (Linux 6.12 arch/x86/virt/vmx/tdx/tdx.h).
  const config = await host(45);
  assert.match(formatCallLine(config.s.calls[0]), /TDH\.SYS\.CONFIG .*: RCX=0x1234 RDX=0x5 R8=0x0 →/);
  const init = await host(36);
  assert.match(formatCallLine(init.s.calls[0]), /TDH\.SYS\.TDMR\.INIT .*: RCX=0x1234 →/);
});
