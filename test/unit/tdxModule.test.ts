// The TDX module model: TDCALL dispatch and leaves, the TDG.VP.VMCALL exposure rules, and the
// SEAMCALL initialisation state machine. Expected statuses are literals from
// the TDX module source (TDX module tdg_vp_vmcall.c–TDX module tdx_vmm_dispatcher.c) and Linux asm/shared/tdx_errno.h, asm/tdx.h; RTMR values from node:crypto directly.
// Size (over 450 lines): one test per leaf or rule over one shared module fixture.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TdxModule, type TdxModuleConfig } from '../../emulator/tdx/module';
import { VmmModel, type VmmConfig } from '../../emulator/tdx/vmm';
import { SimpleTdxCpu } from '../../emulator/tdx/simpleCpu';

const [RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15] = Array.from({ length: 16 }, (_, i) => i);

const OPERAND_INVALID_RAX = 0xC000010000000000n;
const OPERAND_INVALID_RCX = 0xC000010000000001n;
const OPERAND_INVALID_RDX = 0xC000010000000002n;
const OPERAND_INVALID_R8 = 0xC000010000000008n;

function tdcall(m: TdxModule, cpu: SimpleTdxCpu, rax: bigint, regs: Record<number, bigint> = {}) {
  cpu.regs[RAX] = rax;
  for (const [i, v] of Object.entries(regs)) cpu.regs[Number(i)] = v;
  return m.tdcall(cpu);
}

function seamcall(m: TdxModule, cpu: SimpleTdxCpu, rax: bigint, regs: Record<number, bigint> = {}, lp = 0) {
  cpu.regs[RAX] = rax;
  for (const [i, v] of Object.entries(regs)) cpu.regs[Number(i)] = v;
  return m.seamcall(cpu, { lp });
}

// ---------------------------------------------------------------- TDCALL dispatch (§3)

test('TDCALL dispatch: reserved RAX bits, version, unknown leaf → 0xC000010000000000', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  for (const rax of [0x1000001n /* RAX[31:24] */, 0x100000001n /* RAX[63:32] */, 0x10001n /* VP.INFO v1 */, 13n /* unknown */, 0xFFFFn]) {
    const r = tdcall(m, cpu, rax);
    assert.equal(r.kind, 'completed');
    assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX, `RAX=${rax.toString(16)}`);
  }
  // TDG.VM.RD accepts version 1 and rejects 2 (§3 3b).
  tdcall(m, cpu, 0x10007n, { [RCX]: 0n, [RDX]: 0x1110000300000017n });
  assert.equal(cpu.regs[RAX], 0n);
  tdcall(m, cpu, 0x20007n, { [RCX]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX);
});

// ---------------------------------------------------------------- TDG.VP.VMCALL (§2)

function echoVmm(): VmmModel {
  // The VMM writes a marker into every register of its answer, so the write-back rules show.
  const regs: Record<string, bigint> = {};
  for (const r of ['RDX', 'RBX', 'RBP', 'RSI', 'RDI', 'R8', 'R9', 'R11', 'R12', 'R13', 'R14', 'R15']) regs[r] = 0xAAAA0000n;
  return new VmmModel({ answers: { 0x77: { status: 'TDVMCALL_STATUS_SUCCESS', regs } } });
}

test('VMCALL: bad exposure bitmaps → TDX_OPERAND_INVALID+RCX without reaching the VMM', () => {
  for (const [mask, noRbpMod] of [[0x1n, false], [0x2n, false], [0x10n, false], [0xFFCDn, false], [0x20n, true], [0x1_0000_FFCCn, false]] as const) {
    const vmm = new VmmModel();
    const m = new TdxModule({ noRbpMod }, vmm);
    const cpu = new SimpleTdxCpu();
    cpu.regs[R12] = 0x1234n;
    const r = tdcall(m, cpu, 0n, { [RCX]: mask, [R11]: 0x10001n });
    assert.equal(cpu.regs[RAX], 0xC000010000000001n, `mask ${mask.toString(16)}`);
    assert.equal(vmm.snapshot().calls, 0, 'VMM not reached');
    assert.equal(cpu.regs[RCX], mask);
    assert.equal(cpu.regs[R12], 0x1234n);
    assert.equal(r.kind, 'completed');
  }
});

test('VMCALL: RBP may be exposed unless no_rbp_mod; XMM bits are not checked', () => {
  const m = new TdxModule({}, new VmmModel());
  const cpu = new SimpleTdxCpu();
  tdcall(m, cpu, 0n, { [RCX]: 0xFFFF_0000n | 0x20n | 0xFC00n, [R11]: 12n });
  assert.equal(cpu.regs[RAX], 0n);
});

test('VMCALL: the VMM sees only exposed registers, zero elsewhere; RAX = 77, RCX = qualification', () => {
  const vmm = new VmmModel();
  let seen: bigint[] = [];
  const orig = vmm.handle.bind(vmm);
  vmm.handle = (exit, mem, o) => ((seen = exit.regs.slice()), orig(exit, mem, o));
  const m = new TdxModule({}, vmm);
  const cpu = new SimpleTdxCpu();
  for (let i = 0; i < 16; i++) cpu.regs[i] = 0x1000n + BigInt(i);
  tdcall(m, cpu, 0n, { [RCX]: 0xFC00n, [R10]: 0n, [R11]: 12n });
  assert.equal(seen[RAX], 77n); // VM-exit reason TDCALL
  assert.equal(seen[RCX], 0xFC00n);
  for (const i of [RDX, RBX, RSP, RBP, RSI, RDI, R8, R9]) assert.equal(seen[i], 0n, `reg ${i} hidden`);
  assert.equal(seen[R12], 0x100Cn);
  assert.equal(seen[R15], 0x100Fn);
});

test('VMCALL: only exposed registers come back; RAX = 0, R10 = VMM status, RCX unchanged', () => {
  const m = new TdxModule({}, echoVmm());
  const cpu = new SimpleTdxCpu();
  for (let i = 0; i < 16; i++) cpu.regs[i] = 0x5000n + BigInt(i);
  // G1 mask 0xFC00 exposes R10–R15 only.
  const r = tdcall(m, cpu, 0n, { [RCX]: 0xFC00n, [R10]: 0n, [R11]: 0x77n });
  assert.equal(r.kind, 'completed');
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[RCX], 0xFC00n);
  assert.equal(cpu.regs[R10], 0n); // TDVMCALL_STATUS_SUCCESS
  for (const i of [R11, R12, R13, R14, R15]) assert.equal(cpu.regs[i], 0xAAAA0000n);
  for (const i of [RDX, RBX, RBP, RSI, RDI, R8, R9]) assert.equal(cpu.regs[i], 0x5000n + BigInt(i), `reg ${i} kept`);
  assert.deepEqual(r.kind === 'completed' && r.vmcall?.written, ['R10', 'R11', 'R12', 'R13', 'R14', 'R15']);
  // G2+ mask 0xFFCC also brings back RDX, RBX, RSI, RDI, R8, R9; RBP stays.
  const cpu2 = new SimpleTdxCpu();
  for (let i = 0; i < 16; i++) cpu2.regs[i] = 0x5000n + BigInt(i);
  tdcall(m, cpu2, 0n, { [RCX]: 0xFFCCn, [R10]: 0n, [R11]: 0x77n });
  for (const i of [RDX, RBX, RSI, RDI, R8, R9, R11]) assert.equal(cpu2.regs[i], 0xAAAA0000n);
  assert.equal(cpu2.regs[RBP], 0x5000n + 5n);
});

test('VMCALL: R10 not exposed → the VMM status never reaches the guest', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  cpu.regs[R10] = 0x42n;
  tdcall(m, cpu, 0n, { [RCX]: 0x0800n, [R11]: 0x99n }); // R11 only; VMM sees R10 = 0, R11 unknown
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[R10], 0x42n);
});

// ---------------------------------------------------------------- guest leaves (§4)

test('TDG.VP.INFO: GPA width 48/52, attributes, vCPUs, R10 bit 0', () => {
  const cpu = new SimpleTdxCpu();
  tdcall(new TdxModule({ attributes: 0x10000001n, numVcpus: 2, maxVcpus: 4, vcpuIndex: 1 }), cpu, 1n);
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[RCX], 48n);
  assert.equal(cpu.regs[RDX], 0x10000001n);
  assert.equal(cpu.regs[R8], (4n << 32n) | 2n);
  assert.equal(cpu.regs[R9], 1n);
  assert.equal(cpu.regs[R10], 1n);
  assert.equal(cpu.regs[R11], 0n);
  tdcall(new TdxModule({ gpaw: true }), cpu, 1n);
  assert.equal(cpu.regs[RCX], 52n);
});

test('TDG.VP.VEINFO.GET: configured #VE once, then TDX_NO_VALID_VE_INFO', () => {
  const m = new TdxModule({ veInfo: { exitReason: 48n, exitQualification: 0x181n, gla: 0xFFFF8000n, gpa: 0xFEE00000n, instructionLength: 3n, instructionInfo: 7n } });
  const cpu = new SimpleTdxCpu();
  tdcall(m, cpu, 3n);
  assert.equal(cpu.regs[RAX], 0n);
  assert.deepEqual([cpu.regs[RCX], cpu.regs[RDX], cpu.regs[R8], cpu.regs[R9], cpu.regs[R10]], [48n, 0x181n, 0xFFFF8000n, 0xFEE00000n, (7n << 32n) | 3n]);
  tdcall(m, cpu, 3n);
  assert.equal(cpu.regs[RAX], 0xC000070400000000n);
  assert.equal(cpu.regs[RCX], 0n);
  m.setVeInfo({ exitReason: 10n });
  tdcall(m, cpu, 3n);
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[RCX], 10n);
});

test('TDG.MR.REPORT: checks in order, then a report with REPORTTYPE 0x81 and REPORTDATA', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  tdcall(m, cpu, 4n, { [RCX]: 0x10200n, [RDX]: 0x20000n, [R8]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX); // not 1024-aligned
  tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x20020n, [R8]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RDX); // not 64-aligned
  tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x1_0000_0000_0000n, [R8]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RDX); // bit 48 with GPAW=0
  tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x20000n, [R8]: 1n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_R8); // sub-type must be 0
  const data = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  cpu.writeMemory(0x20000n, data);
  tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x20000n, [R8]: 0n });
  assert.equal(cpu.regs[RAX], 0n);
  const report = cpu.readMemory(0x10000n, 1024);
  assert.deepEqual([...report.subarray(0, 4)], [0x81, 0, 0, 0]);
  assert.deepEqual([...report.subarray(128, 192)], [...data]);
});

test('TDG.MR.REPORT on an unmapped page: EPT-violation TD exit, RAX untouched', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu([{ gpa: 0x10000n, size: 0x1000n }]);
  const r = tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x80000n, [R8]: 0n });
  assert.equal(r.kind, 'td-exit');
  assert.equal(cpu.regs[RAX], 4n);
});

test('TDG.MR.RTMR.EXTEND: RTMR = SHA-384(old || data), chained', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  const d1 = Uint8Array.from({ length: 48 }, (_, i) => i);
  const d2 = Uint8Array.from({ length: 48 }, (_, i) => 255 - i);
  cpu.writeMemory(0x3000n, d1);
  tdcall(m, cpu, 2n, { [RCX]: 0x3000n, [RDX]: 2n });
  assert.equal(cpu.regs[RAX], 0n);
  const e1 = createHash('sha384').update(new Uint8Array(48)).update(d1).digest();
  assert.deepEqual(Buffer.from(m.state.rtmrs[2]), e1);
  cpu.writeMemory(0x3000n, d2);
  tdcall(m, cpu, 2n, { [RCX]: 0x3000n, [RDX]: 2n });
  const e2 = createHash('sha384').update(e1).update(d2).digest();
  assert.deepEqual(Buffer.from(m.state.rtmrs[2]), e2);
  assert.deepEqual(Buffer.from(m.state.rtmrs[0]), Buffer.alloc(48));
  // The report carries the RTMRs (TDINFO RTMR2 at 720 + 96).
  tdcall(m, cpu, 4n, { [RCX]: 0x10000n, [RDX]: 0x20000n, [R8]: 0n });
  assert.deepEqual(Buffer.from(cpu.readMemory(0x10000n + 720n + 96n, 48)), e2);
  tdcall(m, cpu, 2n, { [RCX]: 0x3020n, [RDX]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX);
  tdcall(m, cpu, 2n, { [RCX]: 0x3000n, [RDX]: 4n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RDX);
});

test('TDG.MEM.PAGE.ACCEPT: page state, already accepted, size mismatch, input checks', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  cpu.writeMemory(0x200000n, Uint8Array.of(0xEE));
  tdcall(m, cpu, 6n, { [RCX]: 0x200000n });
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.readMemory(0x200000n, 1)[0], 0, 'accepted page is zeroed');
  tdcall(m, cpu, 6n, { [RCX]: 0x200000n });
  assert.equal(cpu.regs[RAX], 0x00000B0A00000000n); // PAGE_ALREADY_ACCEPTED, level 4K
  tdcall(m, cpu, 6n, { [RCX]: 0x200000n | 1n });
  assert.equal(cpu.regs[RAX], 0xC0000B0B00000001n); // 2M over 4K mappings
  tdcall(m, cpu, 6n, { [RCX]: 0x400000n | 1n });
  assert.equal(cpu.regs[RAX], 0n);
  tdcall(m, cpu, 6n, { [RCX]: 0x401000n });
  assert.equal(cpu.regs[RAX], 0x00000B0A00000001n); // already accepted at 2M
  for (const rcx of [0x201000n | 2n /* 1G */, 0x201000n | 1n /* 2M misaligned */, 0x201008n /* reserved 11:3 */, 0x8000_0000_0000n /* shared bit 47 */, 1n << 52n]) {
    tdcall(m, cpu, 6n, { [RCX]: rcx });
    assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX, `RCX ${rcx.toString(16)}`);
  }
  const pre = new TdxModule({ initialPageState: 'accepted' });
  tdcall(pre, cpu, 6n, { [RCX]: 0x200000n });
  assert.equal(cpu.regs[RAX], 0x00000B0A00000001n);
});

test('TDG.VM.RD / TDG.VM.WR: metadata table, mask, read-only and unknown fields', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  const TDCS_TD_CTLS = 0x1110000300000017n;
  const TDCS_CONFIG_FLAGS = 0x1110000300000016n;
  tdcall(m, cpu, 8n, { [RCX]: 0n, [RDX]: TDCS_TD_CTLS, [R8]: 0xFFn, [R9]: 0x0Fn });
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[R8], 0n); // old value
  tdcall(m, cpu, 7n, { [RCX]: 0n, [RDX]: TDCS_TD_CTLS });
  assert.equal(cpu.regs[R8], 0x0Fn);
  tdcall(m, cpu, 8n, { [RCX]: 0n, [RDX]: TDCS_CONFIG_FLAGS, [R8]: 1n, [R9]: ~0n & 0xFFFFFFFFFFFFFFFFn });
  assert.equal(cpu.regs[RAX], 0xC0000C0100000000n);
  tdcall(m, cpu, 7n, { [RCX]: 0n, [RDX]: 0x1234n });
  assert.equal(cpu.regs[RAX], 0xC0000C0000000000n);
  assert.equal(cpu.regs[R8], 0n);
  tdcall(m, cpu, 7n, { [RCX]: 1n, [RDX]: TDCS_TD_CTLS });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX);
  tdcall(m, cpu, 0x10008n, { [RCX]: 0n, [RDX]: TDCS_TD_CTLS });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX); // WR takes version 0 only
  // Version 1 read: RDX = next field id; null id → first field id.
  tdcall(m, cpu, 0x10007n, { [RCX]: 0n, [RDX]: TDCS_CONFIG_FLAGS });
  assert.equal(cpu.regs[RDX], TDCS_TD_CTLS);
  tdcall(m, cpu, 0x10007n, { [RCX]: 0n, [RDX]: 0xFFFFFFFFFFFFFFFFn });
  assert.equal(cpu.regs[RAX], 0x00000C0B00000000n);
  assert.equal(cpu.regs[RDX], TDCS_CONFIG_FLAGS);
});

// ---------------------------------------------------------------- SEAMCALL (§5, §6)

const TDH_SYS_KEY_CONFIG = 31n, TDH_SYS_INIT = 33n, TDH_SYS_RD = 34n, TDH_SYS_LP_INIT = 35n, TDH_SYS_TDMR_INIT = 36n, TDH_SYS_CONFIG = 45n;

function configMemory(cpu: SimpleTdxCpu, tdmrs: [bigint, bigint][]): void {
  tdmrs.forEach(([base, size], i) => {
    const info = 0x9000n + 0x1000n * BigInt(i);
    cpu.writeU64(0x8000n + 8n * BigInt(i), info);
    cpu.writeU64(info, base);
    cpu.writeU64(info + 8n, size);
  });
}

test('init state machine in the kernel order, TDMR.INIT looping via RDX', () => {
  const m = new TdxModule({ numLps: 2, tdmrInitChunk: 0x10000000n });
  const cpu = new SimpleTdxCpu();
  configMemory(cpu, [[0x40000000n, 0x80000000n]]); // 1 GiB base, 2 GiB size
  assert.equal(seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n }).kind, 'completed');
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 0);
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 1);
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(m.state.sysState, 'SYSCONFIG_DONE');
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG);
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(m.state.sysState, 'SYS_READY');
  const rdx: bigint[] = [];
  for (let i = 0; i < 100; i++) {
    seamcall(m, cpu, TDH_SYS_TDMR_INIT, { [RCX]: 0x40000000n });
    assert.equal(cpu.regs[RAX], 0n);
    rdx.push(cpu.regs[RDX]);
    if (cpu.regs[RDX] >= 0xC0000000n) break;
  }
  // 2 GiB in 256 MiB steps = 8 calls; RDX rounded down to 1 GiB until the last returns the end.
  assert.deepEqual(rdx, [0x40000000n, 0x40000000n, 0x40000000n, 0x80000000n, 0x80000000n, 0x80000000n, 0x80000000n, 0xC0000000n]);
  seamcall(m, cpu, TDH_SYS_TDMR_INIT, { [RCX]: 0x40000000n });
  assert.equal(cpu.regs[RAX], 0x00000A0300000000n); // TDMR_ALREADY_INITIALIZED
  assert.equal(cpu.regs[RDX], 0n);
});

test('default TDMR.INIT step is 4 MiB (1024 PAMT entries): 256 calls per GiB', () => {
  const m = new TdxModule();
  const cpu = new SimpleTdxCpu();
  configMemory(cpu, [[0x40000000n, 0x40000000n]]);
  for (const [rax, rcx] of [[TDH_SYS_INIT, 0n], [TDH_SYS_LP_INIT, 0n], [TDH_SYS_CONFIG, 0x8000n], [TDH_SYS_KEY_CONFIG, 0n]]) {
    seamcall(m, cpu, rax, { [RCX]: rcx, [RDX]: 1n, [R8]: 32n });
    assert.equal(cpu.regs[RAX], 0n);
  }
  let calls = 0;
  do {
    seamcall(m, cpu, TDH_SYS_TDMR_INIT, { [RCX]: 0x40000000n });
    calls++;
  } while (cpu.regs[RAX] === 0n && cpu.regs[RDX] < 0x80000000n);
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(calls, 256);
});

test('init out of order: the documented statuses', () => {
  const cpu = new SimpleTdxCpu();
  configMemory(cpu, [[0x40000000n, 0x40000000n]]);
  const m = new TdxModule({ numLps: 2 });
  seamcall(m, cpu, TDH_SYS_LP_INIT);
  assert.equal(cpu.regs[RAX], 0xC000050B00000000n); // LP_INIT_NOT_PENDING before SYS.INIT
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], 0xC000050C00000000n); // CONFIG_NOT_PENDING
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG);
  assert.equal(cpu.regs[RAX], 0xC000050700000000n); // KEY_CONFIG_NOT_PENDING
  seamcall(m, cpu, TDH_SYS_TDMR_INIT, { [RCX]: 0x40000000n });
  assert.equal(cpu.regs[RAX], 0xC000050500000000n); // SYS_NOT_READY (dispatcher)
  seamcall(m, cpu, TDH_SYS_RD, { [RDX]: 1n });
  assert.equal(cpu.regs[RAX], 0xC000050200000000n); // SYS_LP_INIT_NOT_DONE
  seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 1n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX); // attributes checked first
  seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n });
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 1n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX); // still before the state check
  seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n });
  assert.equal(cpu.regs[RAX], 0xC000050000000000n); // SYS_INIT_NOT_PENDING
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 0);
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 0);
  assert.equal(cpu.regs[RAX], 0xC000050300000000n); // LP_INIT_DONE
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], 0xC000050C00000000n); // LP 1 not initialised
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 1);
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8004n, [RDX]: 1n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX); // not 512-byte aligned
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 65n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RDX); // 1..64 TDMRs
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 1n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_R8); // not a private HKID
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 32n });
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 1);
  assert.equal(cpu.regs[RAX], 0xC000050B00000000n); // LP_INIT_NOT_PENDING after CONFIG
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG);
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG);
  assert.equal(cpu.regs[RAX], 0xC000050700000000n); // after SYS_READY
  seamcall(m, cpu, TDH_SYS_TDMR_INIT, { [RCX]: 0x40001000n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RCX);
  assert.equal(cpu.regs[RDX], 0n);
});

test('TDH.SYS.CONFIG: TDMR alignment and order errors carry the TDMR index', () => {
  const setUp = (tdmrs: [bigint, bigint][]) => {
    const cpu = new SimpleTdxCpu();
    configMemory(cpu, tdmrs);
    const m = new TdxModule();
    seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n });
    seamcall(m, cpu, TDH_SYS_LP_INIT);
    seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: BigInt(tdmrs.length), [R8]: 40n });
    return cpu.regs[RAX];
  };
  assert.equal(setUp([[0x40000000n, 0x40000000n], [0x80000000n, 0x1000n]]), 0xC0000A0000000001n);
  assert.equal(setUp([[0x80000000n, 0x40000000n], [0x40000000n, 0x40000000n]]), 0xC0000A0100000001n);
});

test('KEY.CONFIG once per package; the last package makes SYS_READY', () => {
  const cpu = new SimpleTdxCpu();
  configMemory(cpu, [[0x40000000n, 0x40000000n]]);
  const m = new TdxModule({ numLps: 2, lpPackage: [0, 1] });
  seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n });
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 0);
  seamcall(m, cpu, TDH_SYS_LP_INIT, {}, 1);
  seamcall(m, cpu, TDH_SYS_CONFIG, { [RCX]: 0x8000n, [RDX]: 1n, [R8]: 32n });
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG, {}, 0);
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG, {}, 0);
  assert.equal(cpu.regs[RAX], 0x0000081500000000n); // KEY_CONFIGURED (warning)
  assert.equal(m.state.sysState, 'SYSCONFIG_DONE');
  seamcall(m, cpu, TDH_SYS_KEY_CONFIG, {}, 1);
  assert.equal(m.state.sysState, 'SYS_READY');
});

test('SEAMCALL dispatch: not ready, unknown leaf, versions, shutdown', () => {
  const cpu = new SimpleTdxCpu();
  const fresh = new TdxModule();
  seamcall(fresh, cpu, 99n);
  assert.equal(cpu.regs[RAX], 0xC000050500000000n); // unknown leaf before SYS_READY → SYS_NOT_READY
  seamcall(fresh, cpu, 9n); // TDH.MNG.CREATE
  assert.equal(cpu.regs[RAX], 0xC000050500000000n);
  seamcall(fresh, cpu, 0x10000n | TDH_SYS_INIT, { [RCX]: 0n });
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX); // version 1 on SYS.INIT
  seamcall(fresh, cpu, 0x1000000n | TDH_SYS_INIT);
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX); // RAX[31:24]
  const ready = new TdxModule({ startReady: {}, leafOutputs: { 'TDH.MNG.RD': { R8: 0x77n } } });
  seamcall(ready, cpu, 99n);
  assert.equal(cpu.regs[RAX], OPERAND_INVALID_RAX);
  seamcall(ready, cpu, 0x10000n | 11n, { [RCX]: 0x1000n, [RDX]: 5n }); // TDH.MNG.RD v1 allowed
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[R8], 0x77n);
  // SEAMLDR.INFO goes to the P-SEAMLDR (test/platform/seamldr.test.ts), never through this dispatcher.
  cpu.regs[RAX] = 0x8000000000000000n;
  cpu.regs[RCX] = 0x1000n;
  ready.seamldr(cpu, true);
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(ready, cpu, 52n); // TDH.SYS.SHUTDOWN
  assert.equal(cpu.regs[RAX], 0n);
  seamcall(ready, cpu, 9n);
  assert.equal(cpu.regs[RAX], 0xC000050600000000n); // SYS_SHUTDOWN
  seamcall(ready, cpu, 44n); // TDH.SYS.LP.SHUTDOWN still runs
  assert.equal(cpu.regs[RAX], 0n);
});

test('TDX_RND_NO_ENTROPY on request, then success (the kernel retries)', () => {
  const m = new TdxModule({ noEntropy: { 'TDH.SYS.INIT': 2 } });
  const cpu = new SimpleTdxCpu();
  const got: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    seamcall(m, cpu, TDH_SYS_INIT, { [RCX]: 0n });
    got.push(cpu.regs[RAX]);
  }
  assert.deepEqual(got, [0x8000020300000000n, 0x8000020300000000n, 0n]);
  m.injectNoEntropy('TDH_SYS_LP_INIT', 1);
  seamcall(m, cpu, TDH_SYS_LP_INIT);
  assert.equal(cpu.regs[RAX], 0x8000020300000000n);
  assert.throws(() => new TdxModule({ noEntropy: { 'TDH.SYS.INTI': 1 } }), /unknown leaf "TDH.SYS.INTI"/);
});

test('TDH.SYS.RD reads the configured global metadata', () => {
  const m = new TdxModule({ startReady: {}, sysMetadata: [{ fieldId: 0x0A00000300000008n, value: 0x1234n }] });
  const cpu = new SimpleTdxCpu();
  seamcall(m, cpu, TDH_SYS_RD, { [RDX]: 0x0A00000300000008n });
  assert.equal(cpu.regs[RAX], 0n);
  assert.equal(cpu.regs[R8], 0x1234n);
  seamcall(m, cpu, TDH_SYS_RD, { [RDX]: 1n });
  assert.equal(cpu.regs[RAX], 0xC0000C0000000000n);
});

test('snapshot/restore rewinds the module and the VMM', () => {
  const m = new TdxModule({}, new VmmModel({ scripts: { MapGPA: [{ status: 'TDVMCALL_STATUS_RETRY' }] } } as VmmConfig));
  const cpu = new SimpleTdxCpu();
  const snap = m.snapshot();
  tdcall(m, cpu, 6n, { [RCX]: 0x200000n });
  tdcall(m, cpu, 0n, { [RCX]: 0xFC00n, [R10]: 0n, [R11]: 0x10001n, [R12]: 0x1000n, [R13]: 0x2000n });
  assert.equal(cpu.regs[R10], 1n);
  m.restore(snap);
  tdcall(m, cpu, 6n, { [RCX]: 0x200000n });
  assert.equal(cpu.regs[RAX], 0n, 'page pending again');
  tdcall(m, cpu, 0n, { [RCX]: 0xFC00n, [R10]: 0n, [R11]: 0x10001n, [R12]: 0x1000n, [R13]: 0x2000n });
  assert.equal(cpu.regs[R10], 1n, 'script rewound');
});

test('configuration errors are one line naming the entry', () => {
  assert.throws(() => new TdxModule({ attributes: 'zz' } as TdxModuleConfig), /^RangeError: tdxModule.attributes: "zz" is not a number$/);
  assert.throws(() => new TdxModule({ numLps: 0 }), /tdxModule.numLps/);
});

void [RBX, RSP, RBP, RSI, RDI, R13, R14, R15];
