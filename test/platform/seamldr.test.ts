// SEAMCALL with RAX bit 63 reaches the P-SEAMLDR, not the TDX module, whatever the module's state.
// Sources: the SEAMCALL pseudo-code (Intel TDX CPU architectural specification, SEAMCALL: RAX[63]
// selects the loader; VMfailInvalid when the loader is busy on another LP), the kernel's P-SEAMLDR
// support in the intel/tdx tree (arch/x86/virt/vmx/tdx/p-seamldr.h: SEAMCALL_SEAMLDR_INFO = BIT(63),
// INSTALL = BIT(63)|1, SHUTDOWN = BIT(63)|2; P_SEAMLDR_EBADPARAM 0x8000000000000000,
// P_SEAMLDR_EBADCALL 0x8000000000000003; struct p_seamldr_info: vendor_id at 8, seam_ready at 160,
// p_seamldr_ready at 162, 256-byte aligned; struct seamldr_params 4K aligned, num_module_pages ≤ 496),
// and the kernel's TDX_SEAMCALL_VMFAILINVALID 0x8000FF00FFFF0000 (asm/tdx.h).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, hex } from './harness';
import { Session } from '../../emulator/session/session';
import { fixture } from './harness';
import { formatCallLine } from '../../emulator/platform/format';
import { runJson } from '../../cli/run';

const SEAMLDR_INFO = '0x8000000000000000', SEAMLDR_INSTALL = '0x8000000000000001', SEAMLDR_SHUTDOWN = '0x8000000000000002';
const P_SEAMLDR_EBADPARAM = 0x8000_0000_0000_0000n, P_SEAMLDR_EBADCALL = 0x8000_0000_0000_0003n;
const TDX_SEAMCALL_VMFAILINVALID = 0x8000_FF00_FFFF_0000n;
const TDH_SYS_INIT = 33;

async function call(fn: string | number, rcx: string, platform: Record<string, unknown> = {}) {
  return run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'host', platform,
    args: [fn, { struct: 'tdx_module_args', init: { rcx } }] });
}

/** A 256-byte aligned scratch buffer in the struct area; `pa` is its physical address (__pa: minus PAGE_OFFSET). */
async function infoBuffer(): Promise<{ s: Session; va: bigint; pa: bigint }> {
  const s = await Session.create({ program: fixture('seamcall-h34.S'), entry: '__seamcall_ret', generation: 'G4', context: 'host',
    args: [SEAMLDR_INFO, { struct: 'tdx_module_args' }], maxInstructions: 100_000 });
  const va = (s.structArgs[0].address + 0x1000n) & ~0xfffn;
  return { s, va, pa: va - 0xffff_8880_0000_0000n };
}

test('SEAMLDR.INFO with module=0 reaches the loader (not VMfailInvalid): success, seam_ready = 0, p_seamldr_ready = 1', async () => {
  const { s, va, pa } = await infoBuffer();
  s.machine.writeBytes(va, new Uint8Array(256).fill(0xee));
  s.platform.state.module = false;
  s.machine.writeBytes(s.structArgs[0].address, new Uint8Array(new BigUint64Array([pa]).buffer)); // args.rcx
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.equal(s.machine.getReg('rax'), 0n);
  const b = s.machine.readBytes(va, 256);
  assert.equal(b[8] | (b[9] << 8), 0x8086, 'vendor_id');
  assert.equal(b[160], 0, 'seam_ready: no module');
  assert.equal(b[162], 1, 'p_seamldr_ready');
  assert.equal(s.calls[0].leaf, 'SEAMLDR.INFO');
  assert.equal(s.calls[0].fault, undefined);
  assert.equal(s.calls[0].statusName, 'P_SEAMLDR_SUCCESS');
});

test('a module SEAMCALL (RAX[63]=0) with module=0 still gets VMfailInvalid', async () => {
  const r = await call(TDH_SYS_INIT, '0', { module: false });
  assert.equal(hex(r.reg('rax')), hex(TDX_SEAMCALL_VMFAILINVALID));
  assert.equal(r.s.calls[0].fault, 'VMfailInvalid');
});

for (const [state, why] of [['busy', /busy/], ['absent', /no P-SEAMLDR/]] as const) {
  test(`platform.seamldr=${state}: a loader call gets VMfailInvalid`, async () => {
    const r = await call(SEAMLDR_INFO, '0x1000', { seamldr: state });
    assert.equal(hex(r.reg('rax')), hex(TDX_SEAMCALL_VMFAILINVALID));
    assert.equal(r.s.calls[0].fault, 'VMfailInvalid');
    assert.match(r.s.calls[0].faultDetail ?? '', why);
  });
}

test('SEAMLDR.INFO with a misaligned RCX: P_SEAMLDR_EBADPARAM; an unknown loader function: P_SEAMLDR_EBADCALL', async () => {
  const bad = await call(SEAMLDR_INFO, '0x1010');
  assert.equal(hex(bad.reg('rax')), hex(P_SEAMLDR_EBADPARAM));
  assert.equal(bad.s.calls[0].statusName, 'P_SEAMLDR_EBADPARAM');
  // The reason is said: in the trace line and as the JSON record's detail.
  assert.match(formatCallLine(bad.s.calls[0]), /P_SEAMLDR_EBADPARAM — SEAMLDR_INFO: 0x0+1010 is not 256-byte aligned/);
  const json = runJson(bad.s, bad.stop) as { calls: { detail?: string }[] };
  assert.match(json.calls[0].detail ?? '', /not 256-byte aligned/);
  const unknown = await call('0x8000000000000007', '0');
  assert.equal(hex(unknown.reg('rax')), hex(P_SEAMLDR_EBADCALL));
  assert.equal(unknown.s.calls[0].statusName, 'P_SEAMLDR_EBADCALL');
});

test('SEAMLDR.SHUTDOWN unloads the module: the next module SEAMCALL gets VMfailInvalid; INSTALL loads a fresh one', async () => {
  const r = await call(SEAMLDR_SHUTDOWN, '0');
  assert.equal(r.reg('rax'), 0n);
  assert.equal(r.s.platform.state.module, false);
  // INSTALL with a bad SEAMLDR_PARAMS address.
  const inst = await call(SEAMLDR_INSTALL, '0x123');
  assert.equal(hex(inst.reg('rax')), hex(P_SEAMLDR_EBADPARAM));
});

test('--platform seamldr= parses loaded|busy|absent and rejects anything else', async () => {
  const { parsePlatformKnob, resolvePlatform } = await import('../../emulator/platform/config');
  const k: Record<string, unknown> = {};
  parsePlatformKnob('seamldr=busy', k);
  assert.deepEqual(resolvePlatform('host', k).seamldr, { loaded: true, busy: true });
  assert.throws(() => parsePlatformKnob('seamldr=maybe', k), /loaded, busy, absent/);
  assert.deepEqual(resolvePlatform('host', {}).seamldr, { loaded: true, busy: false });
});
