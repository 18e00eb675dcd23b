// The host SEAMCALL wrappers H1–H4 on the emulated VMX-root platform: TDX_SEAMCALL_UD with
// CR4.VMXE clear, TDX_SEAMCALL_GP with TDX off in the BIOS (or CPL 3), TDX_SEAMCALL_VMFAILINVALID
// with no module, and whether each host generation copies outputs on those failures
// (Linux arch/x86/virt/vmx/tdx/tdxcall.S, Intel SDM vol. 3, Linux arch/x86/mm/extable.c, Intel SDM vol. 3; TDX module ABI specification). Also the wrong-context cases: SEAMCALL in a TD, TDCALL on a host.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, CALLEE_SAVED, hex, type Run } from './harness';

/** Kernel-made statuses (Linux asm/shared/tdx_errno.h, asm/tdx.h): TDX_SW_ERROR | trap number, and | 0xFFFF0000. */
const TDX_SEAMCALL_UD = 0x8000_FF00_0000_0006n;
const TDX_SEAMCALL_GP = 0x8000_FF00_0000_000Dn;
const TDX_SEAMCALL_VMFAILINVALID = 0x8000_FF00_FFFF_0000n;
/** TDX_OPERAND_INVALID with operand RAX (TDX module tdx_error_codes_defs.h, tdx_api_defs.h, TDX module tdx_vmm_dispatcher.c order 2). */
const OPERAND_INVALID_RAX = 0xC000_0100_0000_0000n;
/** SEAMCALL leaves (Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves). */
const TDH_SYS_INIT = 33, TDH_VP_ENTER = 0;

const IN = (n: number) => 0x2000_0000n + BigInt(n);
/** Inputs of the 6-register wrappers; RCX = 0 because TDH.SYS.INIT requires it (§5). */
const in6 = { rcx: '0', rdx: hex(IN(2)), r8: hex(IN(8)), r9: hex(IN(9)), r10: hex(IN(10)), r11: hex(IN(11)) };
const in13 = { ...in6, rcx: hex(IN(1)), r12: hex(IN(12)), r13: hex(IN(13)), r14: hex(IN(14)), r15: hex(IN(15)), rbx: hex(IN(3)), rdi: hex(IN(7)), rsi: hex(IN(6)) };

const FAILURES = [
  { what: 'CR4.VMXE clear', platform: { vmxe: false }, status: TDX_SEAMCALL_UD, fault: '#UD', vector: 6 },
  { what: 'TDX not enabled by the BIOS', platform: { tdxBios: false }, status: TDX_SEAMCALL_GP, fault: '#GP', vector: 13 },
  { what: 'CPL 3', platform: { cpl: 3 }, status: TDX_SEAMCALL_GP, fault: '#GP', vector: 13 },
  { what: 'no TDX module', platform: { module: false }, status: TDX_SEAMCALL_VMFAILINVALID, fault: 'VMfailInvalid', vector: undefined },
] as const;

function assertFields(r: Run, want: Record<string, bigint>): void {
  for (const [f, v] of Object.entries(want)) assert.equal(hex(r.field(f)), hex(v), `args.${f}`);
}

// ---- H3/H4: __seamcall_ret and __seamcall_saved_ret -----------------------------------------------

test('H3 __seamcall_ret: TDH.SYS.INIT succeeds and its outputs are copied (RCX, RDX, R8–R10 zeroed by the module)', async () => {
  const r = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'host',
    args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init: in6 }] });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), 0n);
  assertFields(r, { rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: IN(11) }); // TDX module tdh_sys_*.c TDH.SYS.INIT
  assert.equal(r.s.calls[0].leaf, 'TDH.SYS.INIT');
});

for (const f of FAILURES) {
  for (const gen of ['G4', 'G5'] as const) {
    test(`${gen === 'G4' ? 'H3' : 'H4'} __seamcall_ret with ${f.what}: RAX = ${hex(f.status)}, outputs not copied`, async () => {
      const r = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: gen, context: 'host', platform: f.platform,
        args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init: in6 }] });
      assert.equal(r.stop.reason, 'returned', r.stop.message);
      assert.equal(hex(r.reg('rax')), hex(f.status));
      assertFields(r, { rdx: IN(2), r8: IN(8), r9: IN(9), r10: IN(10), r11: IN(11) });
      // Volatile registers keep their input values on the failure exits.
      assert.deepEqual([r.reg('rdx'), r.reg('r8'), r.reg('r11')], [IN(2), IN(8), IN(11)]);
      const c = r.s.calls[0];
      assert.equal(c.fault, f.fault);
      assert.equal(c.injected, false);
      if (f.vector !== undefined) {
        assert.equal(r.s.extable.last?.vector, f.vector, 'delivered through the EX_TYPE_FAULT entry');
      }
    });
  }
}

test('VMfailInvalid at the instruction: CF=1, RAX unchanged, no other register written (Intel SDM vol. 3; TDX module ABI specification)', async () => {
  const r = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'host', platform: { module: false },
    args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init: in6 }] });
  const c = r.s.calls[0];
  assert.deepEqual(c.after, c.before);
  assert.equal(c.before.RAX, BigInt(TDH_SYS_INIT));
});

test('H3 __seamcall_saved_ret: TDH.VP.ENTER moves all 13 registers both ways; success zeroes RCX, RDX, R8–R11, RDI; RBX, R12–R15 restored', async () => {
  const out = { RCX: '0x101', RDX: '0x102', R8: '0x108', R9: '0x109', R10: '0x10a', R11: '0x10b', R12: '0x10c', R13: '0x10d', R14: '0x10e', R15: '0x10f', RBX: '0x103', RDI: '0x107', RSI: '0x106' };
  const r = await run('seamcall-h34.S', { entry: '__seamcall_saved_ret', generation: 'G4', context: 'host',
    tdxModule: { startReady: {}, leafOutputs: { 'TDH.VP.ENTER': out } },
    args: [TDH_VP_ENTER, { struct: 'tdx_module_args', init: in13 }], regs: CALLEE_SAVED });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(r.reg('rax'), 0n);
  const c = r.s.calls[0];
  assert.deepEqual([c.before.RCX, c.before.R12, c.before.RBX, c.before.RDI, c.before.RSI], [IN(1), IN(12), IN(3), IN(7), IN(6)], 'all 13 loaded');
  assertFields(r, { rcx: 0x101n, rdx: 0x102n, r8: 0x108n, r9: 0x109n, r10: 0x10an, r11: 0x10bn, r12: 0x10cn, r13: 0x10dn, r14: 0x10en, r15: 0x10fn, rbx: 0x103n, rdi: 0x107n, rsi: 0x106n });
  for (const n of ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'rdi']) assert.equal(r.reg(n), 0n, `${n} zeroed`);
  for (const [n, v] of Object.entries(CALLEE_SAVED)) assert.equal(hex(r.reg(n)), hex(v), `${n} restored`);
});

for (const f of FAILURES) {
  test(`H3 __seamcall_saved_ret with ${f.what}: no copy-back, no clearing, RBX and R12–R15 still restored`, async () => {
    const r = await run('seamcall-h34.S', { entry: '__seamcall_saved_ret', generation: 'G4', context: 'host', platform: f.platform,
      tdxModule: { startReady: {} }, args: [TDH_VP_ENTER, { struct: 'tdx_module_args', init: in13 }], regs: CALLEE_SAVED });
    assert.equal(r.stop.reason, 'returned', r.stop.message);
    assert.equal(hex(r.reg('rax')), hex(f.status));
    assertFields(r, { rcx: IN(1), rdx: IN(2), r12: IN(12), rbx: IN(3), rdi: IN(7), rsi: IN(6) });
    assert.deepEqual([r.reg('rcx'), r.reg('rdx'), r.reg('r8'), r.reg('r11')], [IN(1), IN(2), IN(8), IN(11)], 'inputs left in volatile registers');
    for (const [n, v] of Object.entries(CALLEE_SAVED)) assert.equal(hex(r.reg(n)), hex(v), `${n} restored`);
  });
}

test('H4 vs H3: args.version reaches RAX[23:16] — version 1 on TDH.SYS.INIT is refused (TDX module tdx_vmm_dispatcher.c order 2)', async () => {
  const init = { ...in6, version: 1 };
  const h4 = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G5', context: 'host', args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init }] });
  assert.equal(h4.s.calls[0].version, 1);
  assert.equal(hex(h4.reg('rax')), hex(OPERAND_INVALID_RAX));
  const h3 = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'host', args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init: in6 }] });
  assert.equal(h3.s.calls[0].version, 0);
  assert.equal(h3.reg('rax'), 0n);
});

// ---- H1/H2: the copy to `out` runs on failure too -------------------------------------------------

/** __seamcall(fn, rcx, rdx, r8, r9, out): RSI→RCX, RDX stays, RCX→R8, R8→R9 (Linux 6.1 tdcall.S and virt/vmx/tdx/tdxcall.S). */
const h12args = (fn: number) => [fn, 0, 0x22, 0x33, 0x44, { struct: 'tdx_module_output' }] as const;

test('H1 __seamcall: no module → TDX_SEAMCALL_VMFAILINVALID, and `out` is still written (inputs, as nothing ran)', async () => {
  const r = await run('seamcall-h1.S', { entry: '__seamcall', generation: 'G1', context: 'host', platform: { module: false },
    args: [...h12args(TDH_SYS_INIT)], regs: { r10: 0xa10n, r11: 0xa11n } });
  assert.equal(r.stop.reason, 'returned', r.stop.message);
  assert.equal(hex(r.reg('rax')), hex(TDX_SEAMCALL_VMFAILINVALID));
  assertFields(r, { rcx: 0n, rdx: 0x22n, r8: 0x33n, r9: 0x44n, r10: 0xa10n, r11: 0xa11n });
});

test('H1 __seamcall: #UD (VMXE clear) and #GP (TDX off in the BIOS) are not handled — the run stops as an oops', async () => {
  for (const [platform, vector] of [[{ vmxe: false }, 6], [{ tdxBios: false }, 13]] as const) {
    const r = await run('seamcall-h1.S', { entry: '__seamcall', generation: 'G1', context: 'host', platform, args: [...h12args(TDH_SYS_INIT)] });
    assert.equal(r.stop.reason, 'exception', r.stop.message);
    assert.equal(r.stop.vector, vector);
    assert.match(r.stop.message, /no exception-table entry/);
  }
});

test('H1 __seamcall: success copies TDH.SYS.INIT outputs (RCX, RDX, R8, R9, R10 zeroed)', async () => {
  const r = await run('seamcall-h1.S', { entry: '__seamcall', generation: 'G1', context: 'host',
    args: [...h12args(TDH_SYS_INIT)], regs: { r10: 0xa10n, r11: 0xa11n } });
  assert.equal(r.reg('rax'), 0n);
  assertFields(r, { rcx: 0n, rdx: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0xa11n });
});

for (const f of FAILURES) {
  test(`H2 __seamcall with ${f.what}: RAX = ${hex(f.status)} and \`out\` written through the common copy path`, async () => {
    const r = await run('seamcall-h2.S', { entry: '__seamcall', generation: 'G3', context: 'host', platform: f.platform,
      args: [...h12args(TDH_SYS_INIT)], regs: { r10: 0xa10n, r11: 0xa11n } });
    assert.equal(r.stop.reason, 'returned', r.stop.message);
    assert.equal(hex(r.reg('rax')), hex(f.status));
    assertFields(r, { rcx: 0n, rdx: 0x22n, r8: 0x33n, r9: 0x44n, r10: 0xa10n, r11: 0xa11n });
  });
}

// ---- wrong context ---------------------------------------------------------------------------------

test('SEAMCALL in a TD guest raises #UD (the module injects it): the H3 fixup makes TDX_SEAMCALL_UD', async () => {
  const r = await run('seamcall-h34.S', { entry: '__seamcall_ret', generation: 'G4', context: 'guest', args: [TDH_SYS_INIT, { struct: 'tdx_module_args', init: in6 }] });
  assert.equal(hex(r.reg('rax')), hex(TDX_SEAMCALL_UD));
  assert.equal(r.s.calls[0].fault, '#UD');
});

test('TDCALL on the host or outside VMX → #UD; at CPL 3 in a TD → #GP(0); no exception-table entry, so the run stops', async () => {
  for (const [context, platform, vector] of [['host', {}, 6], ['none', {}, 6], ['guest', { cpl: 3 }, 13]] as const) {
    const r = await run('hypercall-g45.S', { entry: '__tdcall_ret', generation: 'G4', context, platform, args: [1, { struct: 'tdx_module_args' }] });
    assert.equal(r.stop.reason, 'exception', `${context}: ${r.stop.message}`);
    assert.equal(r.stop.vector, vector, context);
    if (vector === 13) assert.equal(r.stop.errorCode, 0);
  }
});
