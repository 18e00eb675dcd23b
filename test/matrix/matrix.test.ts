// The fault matrix on the bundled examples, checked against what the references say the kernel
// code does (Linux arch/x86/virt/vmx/tdx/tdxcall.S, Linux asm/shared/tdx_errno.h, asm/tdx.h, Linux arch/x86/mm/extable.c, Intel SDM vol. 3; TDX module ABI specification; literals below, not emulator output), against the
// committed expectation files (the same comparison CI makes with `tdxdbg matrix --expect`),
// and the ABI checks on deliberately broken variants of the guest wrapper.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from '../../emulator/session/session';
import { runMatrix, type MatrixResult } from '../../emulator/matrix/matrix';
import { diffMatrix, matrixJson } from '../../emulator/matrix/report';
import { abiCheckRun } from '../../emulator/matrix/abi';
import { applicableFaults } from '../../emulator/matrix/applicable';
import { fromRoot } from '../support/paths';

const HYPERCALL = { program: fromRoot('examples/hypercall.S'), entry: 'tdx_hypercall', args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } }] };
const SYS_INIT = { program: fromRoot('examples/seamcall.S'), entry: 'tdx_sys_init' };
const SEAMCALL_RET = { program: fromRoot('examples/seamcall.S'), entry: '__seamcall_ret', args: ['TDH_SYS_INIT', { struct: 'tdx_module_args' }] };

const byFault = (r: MatrixResult) => new Map(r.scenarios.map((x) => [x.fault, x]));
const expected = (name: string) => JSON.parse(readFileSync(fromRoot(`test/matrix/expected/${name}.json`), 'utf8')) as MatrixResult;

test('host __seamcall_ret: #UD/#GP/VMfailInvalid become the kernel\'s software codes; module statuses pass through', async () => {
  const { result } = runMatrix(await Session.create(SEAMCALL_RET));
  assert.equal(result.sites.length, 1);
  assert.equal(result.sites[0].leaf, 'TDH.SYS.INIT');
  const f = byFault(result);
  // Linux asm/shared/tdx_errno.h, asm/tdx.h / Linux arch/x86/mm/extable.c: TDX_SW_ERROR | trap number, and TDX_SEAMCALL_VMFAILINVALID.
  assert.equal(f.get('#UD')?.rax, '0x8000ff0000000006');
  assert.equal(f.get('#GP')?.rax, '0x8000ff000000000d');
  assert.equal(f.get('vmfailinvalid')?.rax, '0x8000ff00ffff0000');
  // TDX module tdh_sys_*.c: TDX_SYS_INIT_NOT_PENDING, OPERAND_INVALID+RCX.
  assert.equal(f.get('status:TDX_SYS_INIT_NOT_PENDING')?.rax, '0xc000050000000000');
  assert.equal(f.get('status:TDX_OPERAND_INVALID+RCX')?.rax, '0xc000010000000001');
  for (const x of result.scenarios) assert.equal(x.outcome, 'returned', `${x.fault}: ${x.message}`);
});

test('host tdx_sys_init: the errno mapping of sc_retry_prerr() (Linux 6.12)', async () => {
  const f = byFault(runMatrix(await Session.create(SYS_INIT)).result);
  // Linux arch/x86/virt/vmx/tdx/tdxcall.S: VMFAILINVALID → -ENODEV, SEAMCALL_GP → -EOPNOTSUPP, SEAMCALL_UD → -EACCES, other → -EIO.
  assert.equal(f.get('#UD')?.meaning, '-EACCES');
  assert.equal(f.get('#GP')?.meaning, '-EOPNOTSUPP');
  assert.equal(f.get('vmfailinvalid')?.meaning, '-ENODEV');
  assert.equal(f.get('status:TDX_SYS_BUSY')?.meaning, '-EIO');
  assert.equal(f.get('#UD')?.rax, '0xfffffff3'); // -13
});

test('guest tdx_hypercall: a non-zero TDCALL status panics; TDVMCALL statuses are returned from R10', async () => {
  const { result } = runMatrix(await Session.create(HYPERCALL));
  assert.equal(result.sites[0].subfunction, 'MapGPA'); // the GHCI name, as in the trace and the editor
  const f = byFault(result);
  // Intel SDM vol. 3; TDX module ABI specification: a nonzero RAX from leaf 0 makes Linux panic.
  assert.equal(f.get('status:TDX_OPERAND_INVALID')?.outcome, 'panic');
  assert.equal(f.get('status:TDX_OPERAND_INVALID+RCX')?.outcome, 'panic');
  // §4: the VMM's status comes back in R10, and the wrapper returns it.
  assert.equal(f.get('r10:TDVMCALL_STATUS_RETRY')?.rax, '0x1');
  assert.equal(f.get('r10:TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED')?.rax, '0x8000000000000003');
  assert.ok(f.has('hostile'));
  assert.deepEqual(result.abi, [], 'the example wrapper zeroes and restores what it must');
});

test('the committed expectation files match (as `tdxdbg matrix --expect` checks in CI); TDX_ACCEPT=1 rewrites them', async () => {
  for (const [name, cfg] of [['hypercall-map-gpa', HYPERCALL], ['seamcall-sys-init', SYS_INIT], ['seamcall-ret', SEAMCALL_RET]] as const) {
    const { result } = runMatrix(await Session.create(cfg));
    // The accept step of a deliberate change (the same as the golden traces'): review the diff.
    if (process.env.TDX_ACCEPT === '1') { writeFileSync(fromRoot(`test/matrix/expected/${name}.json`), matrixJson(result)); continue; }
    assert.deepEqual(diffMatrix(expected(name), result), [], `${name} (accept a deliberate change with TDX_ACCEPT=1 npm test)`);
  }
});

test('the diff names changed outcomes by site and fault', async () => {
  const { result } = runMatrix(await Session.create(SYS_INIT));
  const changed = structuredClone(result);
  changed.scenarios[0].outcome = 'panic';
  changed.scenarios[0].message = 'Kernel panic';
  const d = diffMatrix(changed, result);
  assert.equal(d.length, 1);
  assert.match(d[0], /^~ __seamcall_ret\+0x26 SEAMCALL TDH\.SYS\.INIT × #UD: panic .* → returned \(0xfffffff3 \(-EACCES\)\)$/);
});

test('determinism: the same configuration gives the same matrix twice', async () => {
  const s = await Session.create(HYPERCALL);
  const a = runMatrix(s).result, b = runMatrix(s).result;
  assert.deepEqual(a, b);
});

test('ABI checks: a leaked VMM value, a callee-saved register not restored, a bitmap exposing RBP', async () => {
  const src = readFileSync(fromRoot('examples/hypercall.S'), 'utf8');
  // No zeroing of R9: under a hostile VMM it leaks.
  const leak = await Session.create({ ...HYPERCALL, vmm: { hostile: true } }, { text: src.replace('\txorl\t%r9d, %r9d\n', '') });
  assert.ok(abiCheckRun(leak).some((f) => f.check === 'vmm-leak' && /^R9 still holds/.test(f.message)));
  // R12 is not popped (its slot is dropped instead).
  const saved = await Session.create(HYPERCALL, { text: src.replace('\tpopq\t%r12\n', '\taddq\t$8, %rsp\n') });
  assert.ok(abiCheckRun(saved).some((f) => f.check === 'callee-saved' && /R12/.test(f.message)));
  // RBP (bit 5) in the exposure bitmap.
  const rbp = await Session.create(HYPERCALL, { text: src.replace('$TDVMCALL_EXPOSE_REGS_MASK', '$0xFFEC') });
  assert.ok(abiCheckRun(rbp).some((f) => f.check === 'rcx-bitmap' && /exposes RBP/.test(f.message)));
  // The example itself is clean.
  assert.deepEqual(abiCheckRun(await Session.create(HYPERCALL)), []);
});

test('applicable faults: exceptions and VMfailInvalid for SEAMCALL only; TDVMCALL statuses and hostile for leaf 0', () => {
  const host = applicableFaults({ insn: 'seamcall', leafNumber: 33, leaf: 'TDH.SYS.INIT' });
  assert.deepEqual(host.slice(0, 3), ['#UD', '#GP', 'vmfailinvalid']);
  const guest = applicableFaults({ insn: 'tdcall', leafNumber: 0, leaf: 'TDG.VP.VMCALL', subfunction: 'TDVMCALL_MAP_GPA', subfunctionNumber: 0x10001n });
  assert.ok(!guest.includes('#UD') && !guest.includes('vmfailinvalid'));
  assert.ok(guest.includes('r10:TDVMCALL_STATUS_RETRY') && guest.includes('hostile'));
  assert.ok(!applicableFaults({ insn: 'tdcall', leafNumber: 1, leaf: 'TDG.VP.INFO' }).includes('hostile'));
});
