// TDX behaviour over DAP: exception filters (#UD/#GP before the exception-table fixup,
// VMfailInvalid, error statuses, injected faults, unhandled panics) with conditions,
// exceptionInfo, and the custom requests (tdx/calls, tdx/injectFault, tdx/decodeStatus,
// tdx/structLayout). Expected errnos and statuses come from the kernel and the TDX module ABI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Dap, GUEST, HOST, SEAMCALL, HYPERCALL, ROOT, lineOf } from './harness';

const SEAMCALL_LINE = lineOf(SEAMCALL, /^\tseamcall\s*$/);
const FAIL = 'tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID';

async function withFilters(cfg: Record<string, unknown>, filterOptions: { filterId: string; condition?: string }[]): Promise<Dap> {
  const d = await Dap.start();
  await d.launch(cfg, async (x) => { await x.dc.setExceptionBreakpointsRequest({ filters: [], filterOptions }); });
  return d;
}

test('#UD on SEAMCALL with CR4.VMXE clear stops before the fixup; continuing returns -EACCES', async () => {
  const d = await withFilters({ ...HOST, platform: { vmxe: false } }, [{ filterId: '#UD' }]);
  const s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  assert.equal(s.body.description, 'SEAMCALL TDH.SYS.INIT: #UD');
  assert.equal((await d.top()).line, SEAMCALL_LINE);
  const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
  assert.equal(info.exceptionId, '#UD');
  assert.equal(info.breakMode, 'always');
  assert.match(info.details!.fullTypeName!, /vector 6/);
  assert.match(info.details!.fullTypeName!, /natural \(not injected\)/);
  assert.match(info.details!.fullTypeName!, /handled by the exception table: resumes at __seamcall_ret\+0x[0-9a-f]+/);
  await d.dc.continueRequest({ threadId: 1 });
  // TDX_SEAMCALL_UD → -EACCES (-13), as sc_retry_prerr() maps it.
  assert.equal((await d.next('exited')).body.exitCode, -13);
  assert.match(d.output(), /#UD at 0x[0-9a-f]+ fixed up by the exception table/);
  // tdx_sys_init's printk: TDH.SYS.INIT is leaf 0x21, TDX_SEAMCALL_UD = TDX_SW_ERROR | 6.
  assert.match(d.output(), /SEAMCALL \(0x0000000000000021\) failed: 0x8000ff0000000006/);
  await d.close();
});

test('#GP filter conditions on the leaf; TDX not enabled by the BIOS gives -EOPNOTSUPP', async () => {
  const d = await withFilters({ ...HOST, platform: { tdxBios: false } }, [{ filterId: '#GP', condition: 'leaf == TDH.SYS.INIT' }]);
  assert.equal((await d.stopped()).body.description, 'SEAMCALL TDH.SYS.INIT: #GP(0)');
  await d.close();
  const e = await withFilters({ ...HOST, platform: { tdxBios: false } }, [{ filterId: '#GP', condition: 'leaf == TDH.SYS.LP.INIT' }]);
  assert.equal((await e.next('exited')).body.exitCode, -95);
  await e.close();
});

test('vmfailinvalid stops after the SEAMCALL with CF set; the code maps it to -ENODEV', async () => {
  const d = await withFilters({ ...HOST, platform: { module: false } }, [{ filterId: 'vmfailinvalid' }]);
  const s = await d.stopped();
  assert.equal(s.body.description, 'SEAMCALL TDH.SYS.INIT: VMfailInvalid');
  assert.equal((await d.top()).line, SEAMCALL_LINE + 1, 'after the instruction: at `jc .Lvmfailinvalid`');
  assert.equal(await d.eval('cf'), '0x1');
  assert.equal(await d.eval('rax'), '0x21', 'VMfailInvalid leaves RAX unchanged');
  await d.dc.continueRequest({ threadId: 1 });
  assert.equal((await d.next('exited')).body.exitCode, -19);
  await d.close();
});

test('tdx-error-status and injected stop after a call whose status was injected', async () => {
  for (const filterId of ['tdx-error-status', 'injected']) {
    const d = await withFilters({ ...GUEST, faults: [FAIL] }, [{ filterId }]);
    const s = await d.stopped();
    assert.equal(s.body.reason, 'exception');
    assert.match(s.body.text!, /TDCALL TDG\.VP\.VMCALL<MapGPA> → RAX=0xc000010000000000 \(TDX_OPERAND_INVALID\)/);
    assert.equal(await d.eval('rax'), '0xc000010000000000');
    const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
    assert.equal(info.exceptionId, filterId);
    await d.close();
  }
});

test('an injected #GP on SEAMCALL stops for the injected filter before the fixup, then resumes through it', async () => {
  const d = await withFilters({ ...HOST, faults: ['seamcall:TDH.SYS.INIT=#GP(0)'] }, [{ filterId: 'injected', condition: 'leaf == TDH.SYS.INIT' }]);
  const s = await d.stopped();
  assert.equal(s.body.description, 'SEAMCALL TDH.SYS.INIT: #GP(0)');
  const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
  assert.equal(info.exceptionId, 'injected');
  assert.match(info.details!.fullTypeName!, /injected by fault rule 'seamcall:TDH\.SYS\.INIT=#GP\(0\)'/);
  await d.dc.continueRequest({ threadId: 1 });
  // TDX_SEAMCALL_GP → -EOPNOTSUPP (-95).
  assert.equal((await d.next('exited')).body.exitCode, -95);
  await d.close();
});

test('unhandled (default on): the panic path stops as an exception; off: the session ends', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, faults: [FAIL] });
  // The injected status stops first (the 'injected' filter is on by default), then the panic.
  const first = await d.stopped();
  assert.match(first.body.text!, /injected by 'tdcall:TDG\.VP\.VMCALL@1=status:TDX_OPERAND_INVALID'/);
  await d.dc.continueRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  // __tdx_hypercall_failed() panics with this text (arch/x86/coco/tdx/tdx.c).
  assert.match(s.body.text!, /Kernel panic - not syncing: TDVMCALL failed\. TDX module bug\?/);
  const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
  assert.equal(info.breakMode, 'unhandled');
  assert.equal(info.exceptionId, 'unhandled');
  assert.match(info.details!.fullTypeName!, /injected by fault rule 'tdcall:TDG\.VP\.VMCALL@1=status:TDX_OPERAND_INVALID'/);
  assert.match(d.output(), /Kernel panic - not syncing/);
  assert.match(d.output(), /injected by 'tdcall:TDG\.VP\.VMCALL@1=status:TDX_OPERAND_INVALID'/);
  await d.close();
  const e = await withFilters({ ...GUEST, faults: [FAIL] }, []);
  assert.equal((await e.next(['stopped', 'terminated'])).event, 'terminated');
  assert.match(e.output(), /Kernel panic/);
  await e.close();
});

test('tdx/injectFault arms a rule for the next call; tdx/calls returns the timeline', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  assert.match(await d.fails(d.dc.customRequest('tdx/injectFault', { rule: 'tdcall:NOPE=status:0' })), /fault rule "tdcall:NOPE=status:0"/);
  const r = (await d.dc.customRequest('tdx/injectFault', { rule: 'tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID' })).body;
  assert.equal(r.rule, 'tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID');
  await d.dc.continueRequest({ threadId: 1 });
  const injected = await d.stopped();
  assert.match(injected.body.text!, /injected by 'tdcall:TDG\.VP\.VMCALL=status:TDX_OPERAND_INVALID'/);
  await d.dc.continueRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.match(s.body.text!, /Kernel panic/);
  const calls = (await d.dc.customRequest('tdx/calls')).body.calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].title, 'TDCALL TDG.VP.VMCALL<MapGPA>');
  assert.equal(calls[0].status, '0xc000010000000000');
  assert.equal(calls[0].injected, true);
  assert.deepEqual(calls[0].inputs.filter((i: { reg: string }) => ['R12', 'R13'].includes(i.reg)).map((i: { value: string }) => i.value), ['0x100000', '0x2000']);
  assert.equal(calls[0].subfunctionNumber, '0x10001');
  await d.close();
});

test('tdx/decodeStatus and tdx/structLayout', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  const s = (await d.dc.customRequest('tdx/decodeStatus', { value: '0xC000010000000000' })).body;
  assert.equal(s.name, 'TDX_OPERAND_INVALID');
  assert.equal(s.error, true);
  // TDX_SEAMCALL_UD = TDX_SW_ERROR (0x8000FF0000000000) | X86_TRAP_UD (6).
  const ud = (await d.dc.customRequest('tdx/decodeStatus', { value: '0x8000ff0000000006' })).body;
  assert.equal(ud.name, 'TDX_SEAMCALL_UD');
  assert.equal(ud.error, true);
  const l = (await d.dc.customRequest('tdx/structLayout', { name: 'tdx_module_args' })).body;
  const r12 = l.fields.find((f: { name: string }) => f.name === 'r12');
  assert.deepEqual([r12.offset, r12.size, r12.asmOffsetsName], [0x30, 8, 'TDX_MODULE_r12']);
  assert.match(l.text, /u64 r12;\s+\/\* \+0x30 8 TDX_MODULE_r12 \*\//);
  assert.match(await d.fails(d.dc.customRequest('tdx/structLayout', { name: 'nope' })), /no struct named "nope"/);
  await d.close();
  void HYPERCALL;
});

test('tdx/calls keeps the most recent "callHistory" calls and counts the dropped ones; Go to Call on a dropped one says why', async () => {
  const LOOP = join(ROOT, 'test/dap/fixtures/callloop.S');
  const d = await Dap.start();
  // The loop makes 300 TDG.VP.INFO calls (its first argument); 50 are kept.
  await d.launch({ type: 'tdx', request: 'launch', program: LOOP, entry: 'call_loop', context: 'guest', args: [300], callHistory: 50 }, async (x) => {
    await x.dc.setExceptionBreakpointsRequest({ filters: [] });
    await x.dc.setBreakpointsRequest({ source: { path: LOOP }, breakpoints: [{ line: lineOf(LOOP, 'movl\t$42') }] });
  });
  await d.stopped();
  const body = (await d.dc.customRequest('tdx/calls')).body as { calls: { seq: number }[]; total: number; dropped: number; limit: number; droppedByTitle: { title: string; count: number }[] };
  assert.equal(body.total, 300);
  assert.equal(body.limit, 50);
  assert.equal(body.dropped, 250);
  assert.deepEqual(body.calls.map((c) => c.seq), Array.from({ length: 50 }, (_, k) => 251 + k));
  assert.deepEqual(body.droppedByTitle, [{ title: 'TDCALL TDG.VP.INFO', count: 250 }]);
  const msg = await d.fails(d.dc.customRequest('tdx/goToCall', { seq: 3 }));
  assert.match(msg, /TDX call #3 is no longer kept: only the 50 most recent calls are \(calls #1–#250 were dropped and counted\); raise "callHistory"/);
  await d.dc.customRequest('tdx/goToCall', { seq: 260 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'goto');
  assert.equal(await d.eval('rsi'), '0x' + (300 - 259).toString(16), 'before call #260 the loop counter (RSI) is 300 − 259');
  await d.close();
  const e = await Dap.start();
  assert.match(await e.fails(e.dc.launchRequest({ type: 'tdx', request: 'launch', program: LOOP, entry: 'call_loop', callHistory: 0 } as never)), /callHistory/);
  await e.close();
});
