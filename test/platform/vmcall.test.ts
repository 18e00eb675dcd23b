// Every TDG.VP.VMCALL sub-function through the G5 __tdx_hypercall wrapper, the MapGPA retry loop,
// the RCX exposure rules (forbidden bits refused by the module without reaching the VMM;
// unexposed registers keep their values), and the hostile VMM against a wrapper that scrubs and
// one that leaks. Values: Linux arch/x86/coco/tdx/tdcall.S, TDX_R* bits of asm/shared/tdx.h, Linux asm/shared/tdx_errno.h, asm/tdx.h, GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c; TDX module tdg_vp_vmcall.c.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, callAgain, setStruct, readField, CALLEE_SAVED, hex, type Run } from './harness';

// GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c sub-function numbers and Linux asm/shared/tdx_errno.h, asm/tdx.h TDVMCALL statuses (R10).
const SF = { CPUID: 10n, HLT: 12n, IO: 30n, RDMSR: 31n, WRMSR: 32n, MMIO: 48n, INFO: 0x10000n, MAP_GPA: 0x10001n, QUOTE: 0x10002n, FATAL: 0x10003n, NOTIFY: 0x10004n };
const ST = { SUCCESS: 0n, RETRY: 1n, INVALID_OPERAND: 0x8000_0000_0000_0000n, SUBFUNC_UNSUPPORTED: 0x8000_0000_0000_0003n };
/** TDX_OPERAND_INVALID + operand RCX (TDX module tdg_vp_vmcall.c "Bad bitmap"). */
const OPERAND_INVALID_RCX = 0xC000_0100_0000_0001n;

type Fields = Record<string, bigint>;
const strs = (f: Fields) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, hex(v)]));

/** One hypercall through the G5 C wrapper; `r11` is the sub-function. */
function hcall(fields: Fields, extra: Record<string, unknown> = {}): Promise<Run> {
  return run('vmcalls.S', { entry: '__tdx_hypercall', generation: 'G5', context: 'guest', args: [{ struct: 'tdx_module_args', init: strs(fields) }], ...extra });
}
/** The same wrapper again in the same session (VMM state kept). */
function again(r: Run, fields: Fields): bigint {
  setStruct(r.s, 0, fields);
  const stop = callAgain(r.s, '__tdx_hypercall', [r.s.structArgs[0].address]);
  assert.equal(stop.reason, 'returned', stop.message);
  return r.reg('rax');
}

test('CPUID (10): R12 = EAX, R13 = ECX in; EAX, EBX, ECX, EDX back in R12–R15', async () => {
  const r = await hcall({ r11: SF.CPUID, r12: 0x4000_0000n, r13: 0n },
    { vmm: { cpuid: [{ leaf: '0x40000000', eax: '0x40000001', ebx: '0x4b4d564b', ecx: '0x564b4d56', edx: '0x4d' }] } });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.deepEqual([r.field('r12'), r.field('r13'), r.field('r14'), r.field('r15')], [0x40000001n, 0x4b4d564bn, 0x564b4d56n, 0x4dn]);
  assert.equal(r.s.calls[0].subfunction, 'Instruction.CPUID');
});

test('HLT (12): R12 = interrupts-disabled flag; success, nothing else returned', async () => {
  const r = await hcall({ r11: SF.HLT, r12: 1n });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.equal(r.field('r12'), 1n);
});

test('IO (30): IN returns the value in R11; OUT takes R15', async () => {
  const r = await hcall({ r11: SF.IO, r12: 1n, r13: 0n, r14: 0x3f8n }, { vmm: { ioPorts: [{ port: '0x3f8', value: '0x41' }] } });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.equal(r.field('r11'), 0x41n);
  assert.equal(again(r, { r11: SF.IO, r12: 1n, r13: 1n, r14: 0x80n, r15: 0x55n }), ST.SUCCESS);
});

test('RDMSR (31) / WRMSR (32): R12 = index, R13 = value; the value read comes back in R11', async () => {
  const r = await hcall({ r11: SF.RDMSR, r12: 0x1bn }, { vmm: { msrs: [{ msr: '0x1b', value: '0xfee00900' }] } });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.equal(hex(r.field('r11')), '0xfee00900');
  assert.equal(again(r, { r11: SF.WRMSR, r12: 0x1bn, r13: 0xfee00d00n }), ST.SUCCESS);
  assert.equal(again(r, { r11: SF.RDMSR, r12: 0x1bn }), ST.SUCCESS);
  assert.equal(hex(readField(r.s, 0, 'r11')), '0xfee00d00');
});

test('MMIO (48): a write then a read of the same GPA (R12 size, R13 direction, R14 GPA, R15 value)', async () => {
  // A shared GPA (bit 47): KVM rejects MMIO on private GPAs (tdx_emulate_mmio).
  const r = await hcall({ r11: SF.MMIO, r12: 4n, r13: 1n, r14: (1n << 47n) | 0xfed0_0000n, r15: 0xdead_beefn });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.equal(again(r, { r11: SF.MMIO, r12: 4n, r13: 0n, r14: (1n << 47n) | 0xfed0_0000n }), ST.SUCCESS);
  assert.equal(hex(readField(r.s, 0, 'r11')), '0xdeadbeef');
});

test('GetTdVmCallInfo (0x10000): R12 = 0 → success with R11–R14 = 0 (KVM)', async () => {
  const r = await hcall({ r11: SF.INFO, r12: 0n, r13: 7n, r14: 7n });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.deepEqual([r.field('r11'), r.field('r12'), r.field('r13'), r.field('r14')], [0n, 0n, 0n, 0n]);
});

test('GetQuote (0x10002): the VMM fills the shared buffer named by R12 (shared GPA), R13 bytes', async () => {
  const quote = Uint8Array.from([0x51, 0x55, 0x4f, 0x54, 0x45]);
  // The buffer: struct-area page at PA 0x101000, with the shared bit (47, GPAW = 0) set.
  const r = await hcall({ r11: SF.QUOTE, r12: (1n << 47n) | 0x10_1000n, r13: 0x1000n }, { vmm: { quoteResponse: quote } });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), ST.SUCCESS);
  const va = (r.s.structArgs[0].address & ~0xfffffn) + 0x1000n;
  assert.deepEqual([...r.s.machine.readBytes(va, 5)], [...quote]);
});

test('SetupEventNotifyInterrupt (0x10004): vector 32–255 accepted, 16 refused with INVALID_OPERAND', async () => {
  const r = await hcall({ r11: SF.NOTIFY, r12: 0xecn });
  assert.equal(r.reg('rax'), ST.SUCCESS);
  assert.equal(again(r, { r11: SF.NOTIFY, r12: 16n }), ST.INVALID_OPERAND);
});

test('an unknown sub-function → TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED in R10 (the TDCALL itself succeeds)', async () => {
  const r = await hcall({ r11: 0x10099n });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(hex(r.reg('rax')), hex(ST.SUBFUNC_UNSUPPORTED));
  assert.equal(r.s.calls[0].status, 0n);
});

test('ReportFatalError (0x10003): the run stops as fatal-error with the message from R14, R15, RBX, RDI, RSI, R8, R9, RDX', async () => {
  const text = 'TD panic: the sky is falling, and this message is 60 bytes!!';
  const bytes = Buffer.from(text.padEnd(64, '\0'), 'latin1');
  const regs = ['r14', 'r15', 'rbx', 'rdi', 'rsi', 'r8', 'r9', 'rdx']; // GHCI order, GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c
  const f: Fields = { r11: SF.FATAL, r12: 0n };
  regs.forEach((n, k) => { f[n] = bytes.readBigUInt64LE(8 * k); });
  const r = await hcall(f);
  assert.equal(r.stop.reason, 'fatal-error', r.stop.message);
  assert.ok(r.stop.message.includes(text), r.stop.message);
});

// ---- MapGPA and its RETRY loop -------------------------------------------------------------------

test('MapGPA (0x10001): RETRY with the resume address in R11 — the loop resumes there until SUCCESS', async () => {
  const start = (1n << 47n) | 0x20_0000n, end = start + 0x4000n; // to shared: shared bit set
  const r = await run('vmcalls.S', { entry: 'tdx_map_gpa', generation: 'G5', context: 'guest', args: [hex(start), hex(end)],
    vmm: { scripts: { MapGPA: [{ status: 'TDVMCALL_STATUS_RETRY', regs: { R11: hex(start + 0x1000n) } }, { status: 'TDVMCALL_STATUS_RETRY', regs: { R11: hex(start + 0x3000n) } }, { status: 'TDVMCALL_STATUS_SUCCESS' }] } } });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), 1n, 'true: converted');
  assert.deepEqual(r.s.calls.map((c) => [hex(c.before.R12), hex(c.before.R13)]),
    [[hex(start), '0x4000'], [hex(start + 0x1000n), '0x3000'], [hex(start + 0x3000n), '0x1000']]);
  assert.deepEqual(r.s.calls.map((c) => c.vmcallStatus), [ST.RETRY, ST.RETRY, ST.SUCCESS]);
});

test('MapGPA: RETRY without progress three times → the loop gives up (false)', async () => {
  const start = 0x20_0000n;
  const noProgress = { status: 'TDVMCALL_STATUS_RETRY', regs: { R11: hex(start) } };
  const r = await run('vmcalls.S', { entry: 'tdx_map_gpa', generation: 'G5', context: 'guest', args: [hex(start), hex(start + 0x2000n)],
    vmm: { scripts: { MapGPA: [noProgress, noProgress, noProgress, noProgress] } } });
  assert.equal(r.reg('rax'), 0n);
  assert.equal(r.s.calls.length, 3);
});

test('MapGPA: --vmm style script "RETRY, then SUCCESS" without R11 → KVM resumes one 2 MiB chunk on (TDX_MAP_GPA_MAX_LEN, tdx_complete_vmcall_map_gpa)', async () => {
  const r = await run('vmcalls.S', { entry: 'tdx_map_gpa', generation: 'G5', context: 'guest', args: ['0x200000', '0x600000'],
    vmm: { scripts: { TDVMCALL_MAP_GPA: [{ status: 'RETRY' }, { status: 'SUCCESS' }] } } });
  assert.equal(r.reg('rax'), 1n);
  assert.deepEqual(r.s.calls.map((c) => hex(c.before.R12)), ['0x200000', '0x400000']);
});

test('MapGPA under the permissive profile: RETRY without R11 resumes one page on', async () => {
  const r = await run('vmcalls.S', { entry: 'tdx_map_gpa', generation: 'G5', context: 'guest', args: ['0x200000', '0x202000'],
    vmm: { profile: 'permissive', scripts: { TDVMCALL_MAP_GPA: [{ status: 'RETRY' }, { status: 'SUCCESS' }] } } });
  assert.equal(r.reg('rax'), 1n);
  assert.deepEqual(r.s.calls.map((c) => hex(c.before.R12)), ['0x200000', '0x201000']);
});

// ---- exposure rules (TDX module tdg_vp_vmcall.c) ---------------------------------------------------

/** A raw TDG.VP.VMCALL through __tdcall_ret (fn 0): RCX, RDX, R8–R11 from the struct. */
function raw(fields: Fields, extra: Record<string, unknown> = {}): Promise<Run> {
  return run('vmcalls.S', { entry: '__tdcall_ret', generation: 'G5', context: 'guest', args: [0, { struct: 'tdx_module_args', init: strs(fields) }], ...extra });
}

for (const [what, rcx, platform] of [
  ['RAX (bit 0)', 0xffcdn, {}], ['RCX (bit 1)', 0xffcen, {}], ['RSP (bit 4)', 0xffdcn, {}],
  ['RBP (bit 5) with no_rbp_mod', 0xffecn, { noRbpMod: true }], ['RCX[63:32] set', (1n << 32n) | 0xffccn, {}],
] as const) {
  test(`an exposure bitmap with ${what} → TDX_OPERAND_INVALID+RCX, the VMM is not reached`, async () => {
    const r = await raw({ rcx, r8: 0x88n, r10: 0n, r11: SF.HLT }, { platform });
    assert.equal(r.stop.reason, 'returned', r.stop.message);
    assert.equal(hex(r.reg('rax')), hex(OPERAND_INVALID_RCX));
    assert.equal(r.s.calls[0].vmcall, undefined);
    assert.equal(r.s.platform.vmm.snapshot().calls, 0);
    assert.equal(r.field('r8'), 0x88n);
  });
}

test('RBP exposed without no_rbp_mod is accepted (the check applies only with that TD flag)', async () => {
  const r = await raw({ rcx: 0xffecn, r10: 0n, r11: SF.HLT });
  assert.equal(r.reg('rax'), 0n);
  assert.equal(r.s.platform.vmm.snapshot().calls, 1);
});

test('only exposed registers come back: RCX = 0x0C00 (R10, R11) under a hostile VMM leaves RDX, R8, R9 untouched', async () => {
  const r = await raw({ rcx: 0x0c00n, rdx: 0xd2n, r8: 0x88n, r9: 0x99n, r10: 0n, r11: SF.HLT }, { vmm: { hostile: { seed: 5 } } });
  assert.equal(r.reg('rax'), 0n);
  assert.deepEqual([r.field('rdx'), r.field('r8'), r.field('r9')], [0xd2n, 0x88n, 0x99n]);
  assert.equal(r.field('rcx'), 0xc00n, 'RCX is set back to the guest control value');
  assert.notEqual(r.field('r11'), SF.HLT, 'R11 exposed, not an HLT output: garbage');
  assert.deepEqual(r.s.calls[0].vmcall?.written, ['R10', 'R11']);
  // The VMM saw zeros in what was not exposed (TDX module tdg_vp_vmcall.c).
  assert.equal(r.s.calls[0].vmcall?.vmm.regs[8] === 0x88n, false);
});

// ---- hostile VMM ------------------------------------------------------------------------------------

const hlt12: Fields = { r11: SF.HLT, r12: 0n, r8: 0x8n, r9: 0x9n, rdx: 0x2n, rbx: 0x3n, rsi: 0x6n, rdi: 0x7n, r13: 0xdn, r14: 0xen, r15: 0xfn };

test('hostile VMM (seeded): garbage in every exposed non-output register, R10 still the status; same seed, same garbage', async () => {
  const a = await hcall(hlt12, { vmm: { hostile: { seed: 7 } } });
  const b = await hcall(hlt12, { vmm: { hostile: { seed: 7 } } });
  const c = await hcall(hlt12, { vmm: { hostile: { seed: 8 } } });
  const names = ['rdx', 'rbx', 'rsi', 'rdi', 'r8', 'r9', 'r11', 'r12', 'r13', 'r14', 'r15'];
  assert.equal(a.reg('rax'), ST.SUCCESS);
  assert.equal(a.field('r10'), 0n);
  for (const n of names) {
    assert.notEqual(a.field(n), hlt12[n] ?? 0n, `${n} overwritten`);
    assert.equal(a.field(n), b.field(n), `${n} deterministic`);
  }
  assert.ok(names.some((n) => a.field(n) !== c.field(n)), 'another seed, other values');
  assert.deepEqual([...(a.s.calls[0].vmcall?.vmm.hostileRegs ?? [])].sort(), ['R11', 'R12', 'R13', 'R14', 'R15', 'R8', 'R9', 'RBX', 'RDI', 'RDX', 'RSI']);
});

test('hostile VMM on CPUID: R12–R15 are defined outputs and carry the answer, the rest is garbage', async () => {
  const r = await hcall({ ...hlt12, r11: SF.CPUID, r12: 0x4000_0000n }, { vmm: { hostile: { seed: 1 }, cpuid: [{ leaf: '0x40000000', eax: '1', ebx: '2', ecx: '3', edx: '4' }] } });
  assert.deepEqual([r.field('r12'), r.field('r13'), r.field('r14'), r.field('r15')], [1n, 2n, 3n, 4n]);
  assert.notEqual(r.field('r8'), 0x8n);
});

test('a wrapper that scrubs vs one that leaks: after the same hostile call, only the leaky caller sees VMM values', async () => {
  const vmm = { hostile: { seed: 9 } };
  const scrub = await hcall(hlt12, { vmm, regs: CALLEE_SAVED });
  for (const n of ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'rdi']) assert.equal(scrub.reg(n), 0n, `scrubbed ${n}`);
  for (const [n, v] of Object.entries(CALLEE_SAVED)) assert.equal(hex(scrub.reg(n)), hex(v), `${n} restored`);
  const leak = await run('vmcalls.S', { entry: 'leaky_hypercall', generation: 'G5', context: 'guest', vmm, regs: CALLEE_SAVED,
    args: [{ struct: 'tdx_module_args', init: strs({ r11: SF.HLT }) }] });
  assert.equal(leak.stop.reason, 'returned', leak.stop.message);
  const hostile = leak.s.calls[0].vmcall?.vmm.regs ?? [];
  // VMM-chosen values reach the caller in argument registers and clobber its callee-saved ones.
  assert.equal(hex(leak.reg('rdx')), hex(hostile[2]));
  assert.equal(hex(leak.reg('r8')), hex(hostile[8]));
  assert.equal(hex(leak.reg('rbx')), hex(hostile[3]));
  assert.notEqual(leak.reg('rbx'), CALLEE_SAVED.rbx);
  assert.notEqual(leak.reg('r15'), CALLEE_SAVED.r15);
});

test('fault action `hostile(seed)` on one sub-function only; `r10:` forces the VMM status', async () => {
  const r = await hcall(hlt12, { faults: ['tdvmcall:HLT@2=hostile(3)', 'tdvmcall:HLT@3=r10:TDVMCALL_STATUS_INVALID_OPERAND'] });
  assert.equal(r.field('r8'), 0x8n, 'first HLT: honest VMM');
  assert.equal(again(r, hlt12), 0n);
  assert.notEqual(readField(r.s, 0, 'r8'), 0x8n, 'second HLT: hostile');
  assert.equal(r.s.calls[1].injected, true);
  assert.equal(hex(again(r, hlt12)), hex(ST.INVALID_OPERAND));
  assert.equal(readField(r.s, 0, 'r8'), 0x8n, 'third: status forced, registers honest');
});

// ---- TDG.MEM.PAGE.ACCEPT of a page the VMM has not added ----------------------------------------
// The module takes an EPT-violation TD exit (tdg_mem_page_accept.c); KVM's EPT-violation handler
// (arch/x86/kvm/vmx/tdx.c tdx_handle_ept_violation → kvm_mmu_page_fault → TDH.MEM.PAGE.AUG) adds
// the page and re-enters the TD at the same TDCALL, which then succeeds.

test('TDG.MEM.PAGE.ACCEPT of a page not yet added: the kvm VMM adds it and the retried TDCALL succeeds; permissive stops at the TD exit', async () => {
  const gpa = 0x4000_0000n; // 1 GiB: nothing of the session lives there
  const go = (profile: 'kvm' | 'permissive') => run('hypercall-g1.S', { entry: '__tdx_module_call', generation: 'G1', context: 'guest',
    vmm: { profile }, args: [6, '0x' + gpa.toString(16), 0, 0, 0, { struct: 'tdx_module_output' }] });
  const r = await go('kvm');
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), 0n, 'TDX_SUCCESS');
  assert.equal(r.s.calls[0].vmmAdded?.gpa, gpa);
  const p = await go('permissive');
  assert.notEqual(p.stop.reason, 'returned');
  assert.equal(p.s.calls[0].stopped, 'td-exit');
});
