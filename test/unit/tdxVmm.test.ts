// The VMM model behind TDG.VP.VMCALL: every sub-function of GHCI; Linux asm/shared/tdx.h, arch/x86/kvm/vmx/tdx.c, tables and ordered
// scripts, ReportFatalError's message, and the hostile VMM's determinism and reach. Sub-function
// numbers and statuses are literals from the reference.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmmModel, type VmmConfig, type VmmResult } from '../../emulator/tdx/vmm';
import { TdxModule } from '../../emulator/tdx/module';
import { SimpleTdxCpu } from '../../emulator/tdx/simpleCpu';

const [RAX, RCX, RDX, RBX, , RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15] = Array.from({ length: 16 }, (_, i) => i);
const SUCCESS = 0x0n, RETRY = 0x1n, INVALID_OPERAND = 0x8000000000000000n, ALIGN_ERROR = 0x8000000000000002n, SUBFUNC_UNSUPPORTED = 0x8000000000000003n;

/** Calls the VMM with a 0xFFCC view (everything Linux G2+ exposes). */
function call(vmm: VmmModel, fn: bigint, args: Record<number, bigint> = {}, exposed = 0xFFCC): VmmResult {
  const regs = new Array<bigint>(16).fill(0n);
  regs[RAX] = 77n;
  regs[RCX] = BigInt(exposed);
  regs[R11] = fn;
  for (const [i, v] of Object.entries(args)) regs[Number(i)] = v;
  return vmm.handle({ regs, exposed });
}

test('CPUID (10): table answer in R12–R15, zeros otherwise', () => {
  const vmm = new VmmModel({ cpuid: [{ leaf: 0x40000000, eax: 0x40000001, ebx: 0x4B4D564B }] });
  const r = call(vmm, 10n, { [R12]: 0x40000000n, [R13]: 0n });
  assert.equal(r.status, SUCCESS);
  assert.deepEqual([r.regs[R12], r.regs[R13], r.regs[R14], r.regs[R15]], [0x40000001n, 0x4B4D564Bn, 0n, 0n]);
  const z = call(vmm, 10n, { [R12]: 0x40000010n });
  assert.deepEqual([z.regs[R12], z.regs[R13], z.regs[R14], z.regs[R15]], [0n, 0n, 0n, 0n]);
});

test('HLT (12) succeeds', () => {
  assert.equal(call(new VmmModel(), 12n, { [R12]: 1n }).status, SUCCESS);
});

test('IO (30): IN from the port table, floating bus otherwise, OUT, bad size', () => {
  const vmm = new VmmModel({ ioPorts: [{ port: 0x3F8, value: 0x41 }] });
  assert.equal(call(vmm, 30n, { [R12]: 1n, [R13]: 0n, [R14]: 0x3F8n }).regs[R11], 0x41n);
  assert.equal(call(vmm, 30n, { [R12]: 2n, [R13]: 0n, [R14]: 0x80n }).regs[R11], 0xFFFFn);
  const out = call(vmm, 30n, { [R12]: 1n, [R13]: 1n, [R14]: 0x3F8n, [R15]: 0x42n });
  assert.equal(out.status, SUCCESS);
  assert.match(out.summary, /IO write port 0x3F8 = 0x42/);
  assert.equal(call(vmm, 30n, { [R12]: 3n, [R13]: 0n, [R14]: 0x3F8n }).status, INVALID_OPERAND);
});

test('RDMSR (31) / WRMSR (32): table, store, unknown MSR', () => {
  const vmm = new VmmModel({ msrs: [{ msr: 0x1B, value: '0xFEE00900' }] });
  assert.equal(call(vmm, 31n, { [R12]: 0x1Bn }).regs[R11], 0xFEE00900n);
  assert.equal(call(vmm, 31n, { [R12]: 0x10n }).status, INVALID_OPERAND);
  assert.equal(call(vmm, 32n, { [R12]: 0x10n, [R13]: (1n << 32n) | 2n }).status, SUCCESS);
  assert.equal(call(vmm, 31n, { [R12]: 0x10n }).regs[R11], (1n << 32n) | 2n);
});

/** The permissive profile (the model's answers before the KVM profile; see tdxKvm.test.ts for KVM's). */
const P = { profile: 'permissive' } as const;

test('permissive MMIO (48): read 0 by default, write then read back', () => {
  const vmm = new VmmModel(P);
  assert.equal(call(vmm, 48n, { [R12]: 4n, [R13]: 0n, [R14]: 0xFEC00000n }).regs[R11], 0n);
  call(vmm, 48n, { [R12]: 4n, [R13]: 1n, [R14]: 0xFEC00000n, [R15]: 0x1_2345_6789n });
  assert.equal(call(vmm, 48n, { [R12]: 4n, [R13]: 0n, [R14]: 0xFEC00000n }).regs[R11], 0x2345_6789n);
});

test('permissive GetTdVmCallInfo (0x10000): R12 must be 0; R11–R14 = 0', () => {
  const r = call(new VmmModel(P), 0x10000n, { [R12]: 0n, [R13]: 5n });
  assert.equal(r.status, SUCCESS);
  assert.deepEqual([r.regs[R11], r.regs[R12], r.regs[R13], r.regs[R14]], [0n, 0n, 0n, 0n]);
  assert.equal(call(new VmmModel(P), 0x10000n, { [R12]: 1n }).status, INVALID_OPERAND);
});

test('MapGPA (0x10001): success, alignment, and a script "RETRY then SUCCESS" with R11 = resume GPA', () => {
  const vmm = new VmmModel({ scripts: { MapGPA: [{ status: 'TDVMCALL_STATUS_RETRY' }] }, mapGpaRetryProgress: 0x2000 });
  const shared = (1n << 47n) | 0x100000n;
  const first = call(vmm, 0x10001n, { [R12]: shared, [R13]: 0x10000n });
  assert.equal(first.status, RETRY);
  assert.equal(first.regs[R11], shared + 0x2000n);
  assert.equal(first.source, 'script');
  const second = call(vmm, 0x10001n, { [R12]: shared + 0x2000n, [R13]: 0xE000n });
  assert.equal(second.status, SUCCESS);
  assert.equal(call(vmm, 0x10001n, { [R12]: 0x100800n, [R13]: 0x1000n }).status, ALIGN_ERROR);
  const fixed = new VmmModel({ scripts: { TDVMCALL_MAP_GPA: [{ status: 1, regs: { R11: 0x5000 } }] } });
  assert.equal(call(fixed, 0x10001n, { [R12]: 0x1000n, [R13]: 0x8000n }).regs[R11], 0x5000n);
});

test('permissive GetQuote (0x10002): writes the configured response into the shared buffer', () => {
  const vmm = new VmmModel({ ...P, quoteResponse: Uint8Array.of(1, 2, 3, 4) });
  const cpu = new SimpleTdxCpu();
  const regs = new Array<bigint>(16).fill(0n);
  regs[R11] = 0x10002n; regs[R12] = 0x7000n; regs[R13] = 2n;
  assert.equal(vmm.handle({ regs, exposed: 0xFFCC }, cpu).status, SUCCESS);
  assert.deepEqual([...cpu.readMemory(0x7000n, 4)], [1, 2, 0, 0]); // clipped to R13
});

test('ReportFatalError (0x10003): stops with the message from R14, R15, RBX, RDI, RSI, R8, R9, RDX', () => {
  const msg = 'Fatal: TD guest panicked while accepting memory, code 0x1234!!';
  assert.equal(msg.length, 62);
  const bytes = Buffer.alloc(64);
  bytes.write(msg, 'latin1');
  const order = [R14, R15, RBX, RDI, RSI, R8, R9, RDX];
  const args: Record<number, bigint> = { [R12]: 0n };
  order.forEach((reg, k) => (args[reg] = bytes.readBigUInt64LE(8 * k)));
  const r = call(new VmmModel(), 0x10003n, args);
  assert.deepEqual(r.stop, { reason: 'fatal-error', errorCode: 0n, message: msg });
  // Through the module: the run stops; the guest's registers are not written.
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  Object.entries(args).forEach(([i, v]) => (cpu.regs[Number(i)] = v));
  cpu.regs[RAX] = 0n; cpu.regs[RCX] = 0xFFCCn; cpu.regs[R10] = 0n; cpu.regs[R11] = 0x10003n;
  const res = m.tdcall(cpu);
  assert.equal(res.kind, 'fatal-error');
  assert.equal(res.kind === 'fatal-error' && res.message, msg);
  assert.equal(cpu.regs[RAX], 0n);
});

test('SetupEventNotifyInterrupt (0x10004): vectors 32–255', () => {
  const vmm = new VmmModel();
  assert.equal(call(vmm, 0x10004n, { [R12]: 0xECn }).status, SUCCESS);
  assert.equal(vmm.eventNotifyInterruptVector, 0xEC);
  assert.equal(call(vmm, 0x10004n, { [R12]: 31n }).status, INVALID_OPERAND);
  assert.equal(call(vmm, 0x10004n, { [R12]: 256n }).status, INVALID_OPERAND);
});

test('unknown sub-function → TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED; vendor calls (R10 ≠ 0) too under the permissive profile', () => {
  assert.equal(call(new VmmModel(P), 0x10005n).status, SUBFUNC_UNSUPPORTED);
  assert.equal(call(new VmmModel(P), 0n).status, SUBFUNC_UNSUPPORTED);
  const v = call(new VmmModel(P), 1n, { [R10]: 9n });
  assert.equal(v.vendor, true);
  assert.equal(v.status, SUBFUNC_UNSUPPORTED);
  assert.equal(call(new VmmModel({ ...P, vendor: { status: 0, regs: { R11: 7 } } }), 1n, { [R10]: 9n }).regs[R11], 7n);
});

test('fixed answers per sub-function, and config errors name the entry', () => {
  const vmm = new VmmModel({ answers: { HLT: { status: 'TDVMCALL_STATUS_INVALID_OPERAND' } } });
  assert.equal(call(vmm, 12n).status, INVALID_OPERAND);
  assert.equal(call(vmm, 12n).source, 'table');
  assert.throws(() => new VmmModel({ answers: { MapGAP: {} } }), /vmm.answers.MapGAP: unknown TDG.VP.VMCALL sub-function "MapGAP"/);
  assert.throws(() => new VmmModel({ scripts: { MapGPA: [{ regs: { XMM0: 1 } }] } } as unknown as VmmConfig), /"XMM0" is not a 64-bit GPR/);
});

test('hostile VMM: seeded values in exposed non-output registers, deterministic per seed', () => {
  const run = (seed: number) => call(new VmmModel({ hostile: { seed } }), 12n, { [R12]: 0n }); // HLT: only R10 is an output
  const a = run(1), b = run(1), c = run(2);
  assert.deepEqual(a.hostileRegs, ['RDX', 'RBX', 'RSI', 'RDI', 'R8', 'R9', 'R11', 'R12', 'R13', 'R14', 'R15']);
  assert.deepEqual(a.regs, b.regs);
  assert.notDeepEqual(a.regs.slice(2), c.regs.slice(2));
  assert.equal(a.regs[R10], SUCCESS, 'R10 keeps the real status');
  assert.equal(a.regs[RBP], 0n, 'RBP not exposed by 0xFFCC');
  // CPUID's R12–R15 are outputs, so they keep the answer; R11 (not an output) is garbage.
  const cp = call(new VmmModel({ hostile: { seed: 1 }, cpuid: [{ leaf: 0x40000000, eax: 5 }] }), 10n, { [R12]: 0x40000000n });
  assert.equal(cp.regs[R12], 5n);
  assert.ok(!cp.hostileRegs.includes('R12'));
  assert.ok(cp.hostileRegs.includes('R11'));
  // IO IN: R11 is an output; IO OUT: it is not.
  assert.ok(!call(new VmmModel({ hostile: {} }), 30n, { [R12]: 1n, [R13]: 0n }).hostileRegs.includes('R11'));
  assert.ok(call(new VmmModel({ hostile: {} }), 30n, { [R12]: 1n, [R13]: 1n }).hostileRegs.includes('R11'));
  // Chosen values.
  assert.equal(call(new VmmModel({ hostile: { values: { RBX: 0xDEAD } } }), 12n).regs[RBX], 0xDEADn);
});

test('hostile VMM through the module: only exposed registers change in the guest', () => {
  const m = new TdxModule({}, new VmmModel({ hostile: { seed: 7 } }));
  const cpu = new SimpleTdxCpu();
  for (let i = 0; i < 16; i++) cpu.regs[i] = 0x9000n + BigInt(i);
  cpu.regs[RAX] = 0n; cpu.regs[RCX] = 0xFC00n; cpu.regs[R10] = 0n; cpu.regs[R11] = 12n;
  m.tdcall(cpu);
  for (const i of [RDX, RBX, RBP, RSI, RDI, R8, R9]) assert.equal(cpu.regs[i], 0x9000n + BigInt(i));
  for (const i of [R11, R12, R13, R14, R15]) assert.notEqual(cpu.regs[i], 0x9000n + BigInt(i));
  assert.equal(cpu.regs[R10], 0n);
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[RCX], 0xFC00n);
});

test('overrides from fault rules: forced R10, forced hostility', () => {
  const vmm = new VmmModel();
  const regs = new Array<bigint>(16).fill(0n);
  regs[R11] = 0x10001n; regs[R12] = 0x1000n; regs[R13] = 0x1000n;
  const r = vmm.handle({ regs, exposed: 0xFFCC }, undefined, { status: RETRY });
  assert.equal(r.status, RETRY);
  assert.equal(r.source, 'override');
  assert.equal(vmm.mapGpaConversions.length, 0, 'the VMM did not act');
  const h1 = new VmmModel().handle({ regs, exposed: 0xFFCC }, undefined, { hostileSeed: 3n });
  const h2 = new VmmModel().handle({ regs, exposed: 0xFFCC }, undefined, { hostileSeed: 3n });
  assert.deepEqual(h1.regs, h2.regs);
  assert.ok(h1.hostileRegs.length > 0);
});
