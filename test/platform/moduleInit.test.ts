// The TDX module's initialisation state machine driven from assembly the way the kernel drives
// it (test/fixtures/tdx/sysinit.S: SYS.INIT, LP.INIT, SYS.RD, CONFIG, KEY.CONFIG, the
// TDMR.INIT loop on RDX, all through an sc_retry() loop), the statuses of calls made out of
// order, and TDX_RND_NO_ENTROPY on request. Values: TDX module tdx_error_codes_defs.h, tdx_api_defs.h, TDX module tdh_sys_*.c, TDX module tdx_vmm_dispatcher.c.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../emulator/session/session';
import { run, fixture, readSym, callAgain, setStruct, readField, hex } from './harness';

// TDX module tdx_error_codes_defs.h, tdx_api_defs.h / TDX module tdh_sys_*.c (statuses), Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves (leaf numbers).
const S = {
  SUCCESS: 0n,
  RND_NO_ENTROPY: 0x8000_0203_0000_0000n,
  SYS_INIT_NOT_PENDING: 0xC000_0500_0000_0000n,
  SYS_LP_INIT_NOT_DONE: 0xC000_0502_0000_0000n,
  SYS_LP_INIT_DONE: 0xC000_0503_0000_0000n,
  SYS_NOT_READY: 0xC000_0505_0000_0000n,
  SYS_KEY_CONFIG_NOT_PENDING: 0xC000_0507_0000_0000n,
  SYS_LP_INIT_NOT_PENDING: 0xC000_050B_0000_0000n,
  SYS_CONFIG_NOT_PENDING: 0xC000_050C_0000_0000n,
  OPERAND_INVALID_RAX: 0xC000_0100_0000_0000n,
  OPERAND_INVALID_RCX: 0xC000_0100_0000_0001n,
  OPERAND_INVALID_RDX: 0xC000_0100_0000_0002n,
  OPERAND_INVALID_R8: 0xC000_0100_0000_0008n,
  INVALID_TDMR: 0xC000_0A00_0000_0000n,
  TDMR_ALREADY_INITIALIZED: 0x0000_0A03_0000_0000n,
} as const;
const L = { KEY_CONFIG: 31n, INIT: 33n, RD: 34n, LP_INIT: 35n, TDMR_INIT: 36n, CONFIG: 45n, MNG_CREATE: 9n };

/** The global-metadata field sysinit.S reads with TDH.SYS.RD, and the value the module holds. */
const SYSRD_FIELD = '0x0800000100000000', SYSRD_VALUE = 0x1234_5678n;
const tdxModule = { sysMetadata: [{ fieldId: SYSRD_FIELD, value: hex(SYSRD_VALUE) }] };

test('tdx_module_init drives SYS.INIT → LP.INIT → SYS.RD → CONFIG → KEY.CONFIG → TDMR.INIT loop to completion', async () => {
  const r = await run('sysinit.S', { entry: 'tdx_module_init', generation: 'G4', context: 'host', tdxModule,
    args: [{ struct: 'tdx_module_args' }], maxInstructions: 200_000 });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(hex(r.reg('rax')), '0x0');
  const leaves = r.s.calls.map((c) => c.leaf);
  assert.deepEqual(leaves.slice(0, 5), ['TDH.SYS.INIT', 'TDH.SYS.LP.INIT', 'TDH.SYS.RD', 'TDH.SYS.CONFIG', 'TDH.SYS.KEY.CONFIG']);
  // One TDMR of 1 GiB, 4 MiB (1024 4K PAMT entries) per call: 256 calls (§5 TDH.SYS.TDMR.INIT).
  const tdmr = r.s.calls.slice(5);
  assert.equal(tdmr.length, 256);
  assert.ok(tdmr.every((c) => c.leaf === 'TDH.SYS.TDMR.INIT' && c.status === 0n));
  // Progress steps return the next address rounded down to 1 GiB; the last returns base + size.
  assert.equal(hex(tdmr[0].after?.RDX), '0x40000000');
  assert.equal(hex(tdmr[254].after?.RDX), '0x40000000');
  assert.equal(hex(tdmr[255].after?.RDX), '0x80000000');
  assert.equal(readSym(r.s, 'tdmr_init_calls'), 256n);
  assert.equal(hex(readSym(r.s, 'sysrd_value')), hex(SYSRD_VALUE));
  // TDH.SYS.CONFIG got the first TDX KeyID from MSR 0x87 (MKTME KeyIDs + 1) and __pa() operands.
  const config = r.s.calls[3];
  assert.equal(config.before.RDX, 1n);
  assert.ok(config.before.RCX < (1n << 52n) && (config.before.RCX & 511n) === 0n, `RCX ${hex(config.before.RCX)} is a 512-aligned PA`);
  assert.equal(r.s.platform.module.state.sysState, 'SYS_READY');
  // A further TDMR.INIT: TDX_TDMR_ALREADY_INITIALIZED (a warning, bit 63 clear), RDX = 0.
  setStruct(r.s, 0, { rcx: 0x4000_0000n, rdx: 0x5555n });
  callAgain(r.s, '__seamcall_ret', [L.TDMR_INIT, r.s.structArgs[0].address]);
  assert.equal(hex(r.reg('rax')), hex(S.TDMR_ALREADY_INITIALIZED));
  assert.equal(readField(r.s, 0, 'rdx'), 0n);
});

test('sc_retry: TDX_RND_NO_ENTROPY twice on TDH.SYS.LP.INIT, then success — the init completes', async () => {
  const r = await run('sysinit.S', { entry: 'tdx_module_init', generation: 'G4', context: 'host',
    tdxModule: { ...tdxModule, noEntropy: { 'TDH.SYS.LP.INIT': 2 } }, args: [{ struct: 'tdx_module_args' }], maxInstructions: 200_000 });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), 0n);
  const lp = r.s.calls.filter((c) => c.leaf === 'TDH.SYS.LP.INIT').map((c) => hex(c.status));
  assert.deepEqual(lp, [hex(S.RND_NO_ENTROPY), hex(S.RND_NO_ENTROPY), '0x0']);
});

test('sc_retry: entropy never comes back — gives up after RDRAND_RETRY_LOOPS (10) calls with TDX_RND_NO_ENTROPY', async () => {
  const r = await run('sysinit.S', { entry: 'tdx_module_init', generation: 'G4', context: 'host',
    tdxModule: { ...tdxModule, noEntropy: { 'TDH.SYS.LP.INIT': 50 } }, args: [{ struct: 'tdx_module_args' }] });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(hex(r.reg('rax')), hex(S.RND_NO_ENTROPY));
  assert.equal(r.s.calls.filter((c) => c.leaf === 'TDH.SYS.LP.INIT').length, 10);
  assert.equal(r.s.calls.length, 11); // SYS.INIT + 10 LP.INIT, nothing after
});

test('TDX_RND_NO_ENTROPY from a fault rule (status action) is retried the same way', async () => {
  const r = await run('sysinit.S', { entry: 'tdx_module_init', generation: 'G4', context: 'host', tdxModule,
    faults: ['seamcall:TDH.SYS.KEY.CONFIG@1=status:TDX_RND_NO_ENTROPY'], args: [{ struct: 'tdx_module_args' }], maxInstructions: 200_000 });
  assert.equal(r.reg('rax'), 0n);
  const key = r.s.calls.filter((c) => c.leaf === 'TDH.SYS.KEY.CONFIG');
  assert.deepEqual(key.map((c) => [hex(c.status), c.injected]), [[hex(S.RND_NO_ENTROPY), true], ['0x0', false]]);
});

// ---- out of order, one SEAMCALL at a time through __seamcall_ret ------------------------------------

/** A host session whose first struct argument is the scratch tdx_module_args; nothing run yet. */
async function host(extra: Record<string, unknown> = {}): Promise<{ s: Session; seam: (leaf: bigint, f?: Record<string, bigint>) => bigint }> {
  const s = await Session.create({ program: fixture('sysinit.S'), entry: '__seamcall_ret', generation: 'G4', context: 'host',
    args: [0, { struct: 'tdx_module_args' }], tdxModule: { ...tdxModule, ...extra } });
  const seam = (leaf: bigint, f: Record<string, bigint> = {}) => {
    setStruct(s, 0, f);
    const stop = callAgain(s, '__seamcall_ret', [leaf, s.structArgs[0].address]);
    assert.equal(stop.reason, 'returned', stop.message);
    return s.machine.getReg('rax');
  };
  return { s, seam };
}

/** TDMR_INFO (base, size) at PA 0x101000 and the PA array at PA 0x102000 (direct map). */
function layTdmr(s: Session, base: bigint, size: bigint): bigint {
  const page = s.structArgs[0].address & ~0xfffffn; // the struct area, PA 0x100000 (see LAYOUT)
  const w = (va: bigint, ...v: bigint[]) => { const b = new Uint8Array(8 * v.length); const d = new DataView(b.buffer); v.forEach((x, k) => d.setBigUint64(8 * k, x, true)); s.machine.writeBytes(va, b); };
  w(page + 0x1000n, base, size);
  w(page + 0x2000n, 0x101000n);
  return 0x102000n;
}

test('out of order: every init leaf before TDH.SYS.INIT gets its documented status', async () => {
  const { seam } = await host();
  assert.equal(hex(seam(L.LP_INIT)), hex(S.SYS_LP_INIT_NOT_PENDING));
  assert.equal(hex(seam(L.CONFIG, { rcx: 0x102000n, rdx: 1n, r8: 32n })), hex(S.SYS_CONFIG_NOT_PENDING));
  assert.equal(hex(seam(L.KEY_CONFIG)), hex(S.SYS_KEY_CONFIG_NOT_PENDING));
  assert.equal(hex(seam(L.TDMR_INIT, { rcx: 0x4000_0000n })), hex(S.SYS_NOT_READY));
  assert.equal(hex(seam(L.RD, { rdx: BigInt(SYSRD_FIELD) })), hex(S.SYS_LP_INIT_NOT_DONE));
  // §6 order 4: any leaf outside the init set before SYS_READY, known or not, is SYS_NOT_READY.
  assert.equal(hex(seam(L.MNG_CREATE)), hex(S.SYS_NOT_READY));
  assert.equal(hex(seam(99n)), hex(S.SYS_NOT_READY));
  // SYS.INIT checks RCX (attributes) before the state.
  assert.equal(hex(seam(L.INIT, { rcx: 1n })), hex(S.OPERAND_INVALID_RCX));
});

test('out of order: repeats and late calls (INIT twice, LP.INIT twice, LP.INIT after CONFIG, KEY.CONFIG after SYS_READY)', async () => {
  const { s, seam } = await host();
  assert.equal(seam(L.INIT), 0n);
  assert.equal(hex(seam(L.INIT)), hex(S.SYS_INIT_NOT_PENDING));
  assert.equal(seam(L.LP_INIT), 0n);
  assert.equal(hex(seam(L.LP_INIT)), hex(S.SYS_LP_INIT_DONE));
  assert.equal(hex(seam(L.RD, { rdx: BigInt(SYSRD_FIELD) })), '0x0');
  assert.equal(hex(readField(s, 0, 'r8')), hex(SYSRD_VALUE));
  const arr = layTdmr(s, 0x4000_0000n, 0x4000_0000n);
  assert.equal(seam(L.CONFIG, { rcx: arr, rdx: 1n, r8: 32n }), 0n);
  assert.equal(hex(seam(L.LP_INIT)), hex(S.SYS_LP_INIT_NOT_PENDING));
  assert.equal(hex(seam(L.CONFIG, { rcx: arr, rdx: 1n, r8: 32n })), hex(S.SYS_CONFIG_NOT_PENDING));
  assert.equal(hex(seam(L.TDMR_INIT, { rcx: 0x4000_0000n })), hex(S.SYS_NOT_READY));
  assert.equal(seam(L.KEY_CONFIG), 0n);
  assert.equal(hex(seam(L.KEY_CONFIG)), hex(S.SYS_KEY_CONFIG_NOT_PENDING));
  // Ready: TDMR.INIT on something that is not a configured TDMR base → OPERAND_INVALID+RCX, RDX = 0.
  assert.equal(hex(seam(L.TDMR_INIT, { rcx: 0x8000_0000n, rdx: 7n })), hex(S.OPERAND_INVALID_RCX));
  assert.equal(readField(s, 0, 'rdx'), 0n);
  assert.equal(seam(L.TDMR_INIT, { rcx: 0x4000_0000n }), 0n);
});

test('TDH.SYS.CONFIG with every LP not yet initialised → SYS_CONFIG_NOT_PENDING (not LP_INIT_NOT_DONE)', async () => {
  const { s, seam } = await host({ numLps: 2 });
  assert.equal(seam(L.INIT), 0n);
  assert.equal(seam(L.LP_INIT), 0n); // LP 0 only
  assert.equal(hex(seam(L.CONFIG, { rcx: layTdmr(s, 0x4000_0000n, 0x4000_0000n), rdx: 1n, r8: 32n })), hex(S.SYS_CONFIG_NOT_PENDING));
});

test('TDH.SYS.CONFIG operand checks: RCX alignment, RDX count 1..64, R8 private HKID, TDMR 1 GiB alignment', async () => {
  const { s, seam } = await host();
  assert.equal(seam(L.INIT), 0n);
  assert.equal(seam(L.LP_INIT), 0n);
  const arr = layTdmr(s, 0x4000_0000n, 0x4000_0000n);
  assert.equal(hex(seam(L.CONFIG, { rcx: arr + 8n, rdx: 1n, r8: 32n })), hex(S.OPERAND_INVALID_RCX));
  assert.equal(hex(seam(L.CONFIG, { rcx: arr, rdx: 0n, r8: 32n })), hex(S.OPERAND_INVALID_RDX));
  assert.equal(hex(seam(L.CONFIG, { rcx: arr, rdx: 65n, r8: 32n })), hex(S.OPERAND_INVALID_RDX));
  assert.equal(hex(seam(L.CONFIG, { rcx: arr, rdx: 1n, r8: 31n })), hex(S.OPERAND_INVALID_R8)); // an MKTME KeyID
  layTdmr(s, 0x4000_0000n, 0x20_0000n); // 2 MiB: not 1 GiB granular → TDX_INVALID_TDMR + index 0
  assert.equal(hex(seam(L.CONFIG, { rcx: arr, rdx: 1n, r8: 32n })), hex(S.INVALID_TDMR));
  assert.equal(s.platform.module.state.sysState, 'SYSINIT_DONE', 'failed CONFIGs leave the state alone');
});
