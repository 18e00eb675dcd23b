// The guest hypercall wrappers of every kernel generation (G0–G5) run on the emulated TD:
// outputs copied when asked, the registers Intel SDM vol. 3; TDX module ABI specification lists scrubbed after return,
// callee-saved registers restored, and the failure path (non-zero TDCALL status → panic stub,
// or #UD on G0's ud2). Fixtures: test/fixtures/tdx/hypercall-g*.S, written from §2.5.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, CALLEE_SAVED, hex, type Run } from './harness';
import type { VmmConfig } from '../../emulator/tdx/vmm';

/** EXIT_REASON_CPUID, the sub-function used throughout (GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c). */
const CPUID = 10n;
/** TDVMCALL_STATUS_INVALID_OPERAND (Linux asm/shared/tdx_errno.h, asm/tdx.h): a normal hypercall error, returned in R10. */
const VMM_STATUS = 0x8000_0000_0000_0000n;
/** TDX_OPERAND_INVALID (TDX module tdx_error_codes_defs.h, tdx_api_defs.h), used as the injected TDCALL failure. */
const TDX_OPERAND_INVALID = 0xC000_0100_0000_0000n;
/** TDX_HCALL_HAS_OUTPUT / TDX_HCALL_ISSUE_STI (Linux 6.1 asm/shared/tdx.h). */
const HAS_OUTPUT = 1, ISSUE_STI = 2;

/** What the VMM writes into each register (only exposed ones reach the guest). */
const V = (n: number) => 0x5a5a_0000_0000_0000n | BigInt(n);
const VMM_REGS = { RDX: V(2), RBX: V(3), RSI: V(6), RDI: V(7), R8: V(8), R9: V(9), R11: V(11), R12: V(12), R13: V(13), R14: V(14), R15: V(15) };
/** A VMM that answers CPUID with VMM_REGS and R10 = INVALID_OPERAND. */
const vmm = { answers: { CPUID: { status: 'TDVMCALL_STATUS_INVALID_OPERAND', regs: Object.fromEntries(Object.entries(VMM_REGS).map(([k, v]) => [k, hex(v)])) } } } as VmmConfig;
const FAIL = ['tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID'];

/** Inputs: distinct per field, R10 = 0 (standard), R11 = CPUID. */
const IN = (n: number) => 0x1000_0000n + BigInt(n);
const in6 = { r10: '0', r11: String(CPUID), r12: hex(IN(12)), r13: hex(IN(13)), r14: hex(IN(14)), r15: hex(IN(15)) };
const in12 = { ...in6, r8: hex(IN(8)), r9: hex(IN(9)), rdi: hex(IN(7)), rsi: hex(IN(6)), rbx: hex(IN(3)), rdx: hex(IN(2)) };

function assertCalleeSaved(r: Run): void {
  for (const [name, v] of Object.entries(CALLEE_SAVED)) assert.equal(hex(r.reg(name)), hex(v), `${name} restored`);
}
function assertZero(r: Run, regs: string[]): void {
  for (const name of regs) assert.equal(hex(r.reg(name)), '0x0', `${name} scrubbed`);
}
function assertFields(r: Run, want: Record<string, bigint>): void {
  for (const [f, v] of Object.entries(want)) assert.equal(hex(r.field(f)), hex(v), `args.${f}`);
}
function assertReturned(r: Run): void {
  assert.equal(r.stop.reason, 'returned', r.stop.message);
}
/** The one TDCALL: TDG.VP.VMCALL<CPUID> with the exposure mask of the generation (Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h). */
function assertVmcall(r: Run, mask: bigint): void {
  assert.equal(r.s.calls.length, 1);
  const c = r.s.calls[0];
  assert.equal(c.leaf, 'TDG.VP.VMCALL');
  assert.equal(c.subfunctionNumber, CPUID);
  assert.equal(hex(c.before.RCX), hex(mask));
}

// ---- G0: R10–R15, 0xFC00, ud2 on failure ---------------------------------------------------

test('G0 __tdx_hypercall: HAS_OUTPUT copies R10–R15 back, RAX = R10, R12–R15 restored', async () => {
  const r = await run('hypercall-g0.S', { entry: '__tdx_hypercall', generation: 'G0', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, HAS_OUTPUT], regs: CALLEE_SAVED });
  assertReturned(r);
  assertVmcall(r, 0xfc00n);
  assert.equal(hex(r.reg('rax')), hex(VMM_STATUS));
  // Exposed R10–R15 came back; R8/R9/RBX/RDX/RSI/RDI were not exposed (0xFC00) and kept theirs.
  assertFields(r, { r10: VMM_STATUS, r11: V(11), r12: V(12), r13: V(13), r14: V(14), r15: V(15) });
  assertCalleeSaved(r);
  assert.equal(hex(r.reg('rsi')), hex(BigInt(HAS_OUTPUT)), 'RSI (flags) not exposed, so untouched');
});

test('G0 __tdx_hypercall: without HAS_OUTPUT the struct keeps its inputs', async () => {
  const r = await run('hypercall-g0.S', { entry: '__tdx_hypercall', generation: 'G0', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, 0], regs: CALLEE_SAVED });
  assertReturned(r);
  assertFields(r, { r10: 0n, r11: CPUID, r12: IN(12), r13: IN(13), r14: IN(14), r15: IN(15) });
  assertCalleeSaved(r);
});

test('G0 __tdx_hypercall: a failed TDCALL runs into ud2 → unhandled #UD (vector 6)', async () => {
  const r = await run('hypercall-g0.S', { entry: '__tdx_hypercall', generation: 'G0', context: 'guest', vmm, faults: FAIL,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, HAS_OUTPUT] });
  assert.equal(r.stop.reason, 'exception', r.stop.message);
  assert.equal(r.stop.vector, 6);
  assert.equal(hex(r.reg('rax')), hex(TDX_OPERAND_INVALID));
  assert.equal(r.s.calls[0].injected, true);
  assertFields(r, { r12: IN(12) }); // no copy-back happened
});

// ---- G1: + STI, panic, zero R10/R11 ------------------------------------------------------------

test('G1 __tdx_hypercall: HAS_OUTPUT copy, R10/R11 scrubbed, R12–R15 restored', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_hypercall', generation: 'G1', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, HAS_OUTPUT], regs: CALLEE_SAVED });
  assertReturned(r);
  assertVmcall(r, 0xfc00n);
  assert.equal(hex(r.reg('rax')), hex(VMM_STATUS));
  assertFields(r, { r10: VMM_STATUS, r11: V(11), r12: V(12), r13: V(13), r14: V(14), r15: V(15) });
  assertZero(r, ['r10', 'r11']);
  assertCalleeSaved(r);
});

test('G1 __tdx_hypercall: ISSUE_STI sets RFLAGS.IF before TDCALL; no copy without HAS_OUTPUT', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_hypercall', generation: 'G1', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, ISSUE_STI], regs: { ...CALLEE_SAVED, rflags: 0x2n } });
  assertReturned(r);
  assert.equal(r.reg('rflags') & 0x200n, 0x200n, 'IF set by sti');
  assertFields(r, { r10: 0n, r11: CPUID, r12: IN(12), r15: IN(15) });
  assertZero(r, ['r10', 'r11']);
  assertCalleeSaved(r);
});

test('G1 __tdx_hypercall: a failed TDCALL ends in __tdx_hypercall_failed (panic)', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_hypercall', generation: 'G1', context: 'guest', vmm, faults: FAIL,
    args: [{ struct: 'tdx_hypercall_args', init: in6 }, HAS_OUTPUT] });
  assert.equal(r.stop.reason, 'panic', r.stop.message);
  assert.equal(hex(r.s.calls[0].status), hex(TDX_OPERAND_INVALID));
  assertFields(r, { r12: IN(12) });
});

test('G1 __tdx_module_call: fn, rcx, rdx, r8, r9 shuffled into RAX, RCX, RDX, R8, R9; TDG.VP.INFO outputs copied', async () => {
  // TDG.VP.INFO (TDX module tdg_*.c): RCX = 48 (GPAW clear), RDX = ATTRIBUTES,
  // R8 = MAX_VCPUS << 32 | NUM_VCPUS, R9 = VCPU_INDEX, R10 = 1 (TDG.SYS.RD available), R11 = 0.
  const r = await run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    tdxModule: { attributes: '0x10000001', numVcpus: 4, maxVcpus: 8, vcpuIndex: 3 },
    args: [1, 0x11, 0x22, 0x33, 0x44, { struct: 'tdx_module_output' }], regs: CALLEE_SAVED });
  assertReturned(r);
  assert.equal(r.reg('rax'), 0n);
  const c = r.s.calls[0];
  assert.equal(c.leaf, 'TDG.VP.INFO');
  assert.deepEqual([c.before.RCX, c.before.RDX, c.before.R8, c.before.R9], [0x11n, 0x22n, 0x33n, 0x44n]);
  assertFields(r, { rcx: 48n, rdx: 0x10000001n, r8: (8n << 32n) | 4n, r9: 3n, r10: 1n, r11: 0n });
  assertCalleeSaved(r);
});

test('G1 __tdx_module_call: the copy to `out` runs even when the TDCALL failed (Linux 6.1 tdcall.S and virt/vmx/tdx/tdxcall.S)', async () => {
  const r = await run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    faults: ['tdcall:TDG.VP.INFO=status:TDX_OPERAND_INVALID+RCX'],
    args: [1, 0x11, 0x22, 0x33, 0x44, { struct: 'tdx_module_output' }] });
  assertReturned(r);
  assert.equal(hex(r.reg('rax')), '0xc000010000000001'); // OPERAND_INVALID + operand id RCX (1)
  // The leaf did not run: its registers are the inputs, and they were still written out.
  assertFields(r, { rcx: 0x11n, rdx: 0x22n, r8: 0x33n, r9: 0x44n });
});

// ---- G2: 12 registers, 0xFFCC, flags on the stack ------------------------------------------------

test('G2 __tdx_hypercall: 12 registers in and (HAS_OUTPUT) out; R8–R11, RDI, RDX scrubbed; RSI, RBX, R12–R15 restored', async () => {
  const r = await run('hypercall-g2.S', { entry: '__tdx_hypercall', generation: 'G2', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in12 }, HAS_OUTPUT], regs: { ...CALLEE_SAVED, rbp: 0xfeedn } });
  assertReturned(r);
  assertVmcall(r, 0xffccn);
  const c = r.s.calls[0];
  assert.deepEqual([c.before.R8, c.before.RBX, c.before.RSI, c.before.RDI, c.before.RDX], [IN(8), IN(3), IN(6), IN(7), IN(2)]);
  assert.equal(hex(r.reg('rax')), hex(VMM_STATUS));
  assertFields(r, { r8: V(8), r9: V(9), r10: VMM_STATUS, r11: V(11), r12: V(12), r13: V(13), r14: V(14), r15: V(15),
    rdi: V(7), rsi: V(6), rbx: V(3), rdx: V(2) });
  assertZero(r, ['r8', 'r9', 'r10', 'r11', 'rdi', 'rdx']);
  assert.equal(r.reg('rsi'), BigInt(HAS_OUTPUT), 'RSI = the flags, restored from the stack');
  assert.equal(r.reg('rbp'), 0xfeedn, 'RBP untouched (the frame-pointer fix)');
  for (const n of ['rbx', 'r12', 'r13', 'r14', 'r15']) assert.equal(hex(r.reg(n)), hex(CALLEE_SAVED[n]), n);
});

test('G2 __tdx_hypercall: no copy without HAS_OUTPUT; failure → panic', async () => {
  const ok = await run('hypercall-g2.S', { entry: '__tdx_hypercall', generation: 'G2', context: 'guest', vmm,
    args: [{ struct: 'tdx_hypercall_args', init: in12 }, 0] });
  assertReturned(ok);
  assertFields(ok, { r8: IN(8), rbx: IN(3), r10: 0n, r15: IN(15) });
  const bad = await run('hypercall-g2.S', { entry: '__tdx_hypercall', generation: 'G2', context: 'guest', vmm, faults: FAIL,
    args: [{ struct: 'tdx_hypercall_args', init: in12 }, HAS_OUTPUT] });
  assert.equal(bad.stop.reason, 'panic', bad.stop.message);
});

// ---- G3: __tdx_hypercall / __tdx_hypercall_ret ----------------------------------------------------

for (const [entry, copies] of [['__tdx_hypercall', false], ['__tdx_hypercall_ret', true]] as const) {
  test(`G3 ${entry}: ${copies ? 'all 12 written back' : 'struct untouched'}; R8–R11, RDI, RSI, RDX scrubbed; RBX, R12–R15 restored`, async () => {
    const r = await run('hypercall-g3.S', { entry, generation: 'G3', context: 'guest', vmm,
      args: [{ struct: 'tdx_hypercall_args', init: in12 }], regs: CALLEE_SAVED });
    assertReturned(r);
    assertVmcall(r, 0xffccn);
    assert.equal(hex(r.reg('rax')), hex(VMM_STATUS));
    if (copies) {
      assertFields(r, { r8: V(8), r9: V(9), r10: VMM_STATUS, r11: V(11), r12: V(12), r13: V(13), r14: V(14), r15: V(15),
        rdi: V(7), rsi: V(6), rbx: V(3), rdx: V(2) });
    } else {
      assertFields(r, { r8: IN(8), r10: 0n, r11: CPUID, rdi: IN(7), rsi: IN(6), rbx: IN(3), rdx: IN(2) });
    }
    assertZero(r, ['r8', 'r9', 'r10', 'r11', 'rdi', 'rsi', 'rdx']);
    assertCalleeSaved(r);
  });
}

test('G3 __tdx_hypercall_ret: a failed TDCALL ends in the panic stub, nothing copied', async () => {
  const r = await run('hypercall-g3.S', { entry: '__tdx_hypercall_ret', generation: 'G3', context: 'guest', vmm, faults: FAIL,
    args: [{ struct: 'tdx_hypercall_args', init: in12 }] });
  assert.equal(r.stop.reason, 'panic', r.stop.message);
  assertFields(r, { r8: IN(8), r12: IN(12) });
});

// ---- G4/G5: C wrapper around __tdcall_saved_ret -------------------------------------------------

for (const gen of ['G4', 'G5'] as const) {
  test(`${gen} __tdx_hypercall (C wrapper): args.rcx = 0xFFCC, all 13 written back, RCX, RDX, R8–R11, RDI scrubbed, callee-saved restored`, async () => {
    const r = await run('hypercall-g45.S', { entry: '__tdx_hypercall', generation: gen, context: 'guest', vmm,
      args: [{ struct: 'tdx_module_args', init: { ...in12, rcx: '0x1234' } }], regs: CALLEE_SAVED });
    assertReturned(r);
    assertVmcall(r, 0xffccn);
    assert.equal(r.s.calls[0].version, 0);
    assert.equal(hex(r.reg('rax')), hex(VMM_STATUS), 'returns args->r10');
    // RCX comes back as the guest's control value (TDX module tdg_vp_vmcall.c).
    assertFields(r, { rcx: 0xffccn, r8: V(8), r9: V(9), r10: VMM_STATUS, r11: V(11), r12: V(12), r13: V(13), r14: V(14), r15: V(15),
      rdi: V(7), rsi: V(6), rbx: V(3), rdx: V(2) });
    assertZero(r, ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'rdi']);
    assertCalleeSaved(r);
  });

  test(`${gen} __tdx_hypercall: a failed TDCALL ends in __tdx_hypercall_failed`, async () => {
    const r = await run('hypercall-g45.S', { entry: '__tdx_hypercall', generation: gen, context: 'guest', vmm, faults: FAIL,
      args: [{ struct: 'tdx_module_args', init: in12 }] });
    assert.equal(r.stop.reason, 'panic', r.stop.message);
    assert.match(r.stop.message, /TDVMCALL failed/);
  });
}

test('G5: args.version lands in RAX[23:16] — TDG.VP.VMCALL refuses version 1 (OPERAND_INVALID+RAX) and the wrapper panics', async () => {
  // TDX module tdx_td_dispatcher.c, order 3: version > 0 on a leaf other than TDG.VM.RD → 0xC000010000000000.
  const r = await run('hypercall-g45.S', { entry: '__tdx_hypercall', generation: 'G5', context: 'guest', vmm,
    args: [{ struct: 'tdx_module_args', init: { ...in12, version: 1 } }] });
  assert.equal(r.stop.reason, 'panic', r.stop.message);
  assert.equal(r.s.calls[0].version, 1);
  assert.equal(hex(r.s.calls[0].status), hex(TDX_OPERAND_INVALID));
});

test('G5 vs G4: TDG.VM.RD version 1 through __tdcall_ret walks the metadata; G4 has no version byte', async () => {
  // TDX module tdg_*.c TDG.VM.RD/WR: v1 with the null field id (-1) →
  // TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT 0x00000C0B00000000 and RDX = the first field id.
  const tdxModule = { tdMetadata: [{ fieldId: '0x9100000000000010', value: '5', name: 'TDCS_NOTIFY_ENABLES' }] };
  const g5 = await run('hypercall-g45.S', { entry: '__tdcall_ret', generation: 'G5', context: 'guest', tdxModule,
    args: [7, { struct: 'tdx_module_args', init: { rdx: '0xffffffffffffffff', version: 1 } }] });
  assertReturned(g5);
  assert.equal(hex(g5.reg('rax')), '0xc0b00000000');
  assert.equal(hex(g5.field('rdx', 0)), '0x9100000000000010');
  assert.equal(g5.field('r8', 0), 0n, 'R8 = 0 on a non-success read');
  // G4: RAX = 7 exactly; v0 with field id -1 is not a field: TDX_METADATA_FIELD_ID_INCORRECT (§1).
  const g4 = await run('hypercall-g45.S', { entry: '__tdcall_ret', generation: 'G4', context: 'guest', tdxModule,
    args: [7, { struct: 'tdx_module_args', init: { rdx: '0xffffffffffffffff' } }] });
  assertReturned(g4);
  assert.equal(g4.s.calls[0].version, 0);
  assert.equal(hex(g4.reg('rax')), '0xc0000c0000000000');
  // And a plain read of the field: R8 = its value.
  const rd = await run('hypercall-g45.S', { entry: '__tdcall_ret', generation: 'G4', context: 'guest', tdxModule,
    args: [7, { struct: 'tdx_module_args', init: { rdx: '0x9100000000000010' } }] });
  assert.equal(rd.reg('rax'), 0n);
  assert.equal(rd.field('r8', 0), 5n);
});
