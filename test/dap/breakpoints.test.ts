// Breakpoints over DAP: source lines (macro-body and invocation lines), breakpointLocations,
// function breakpoints on symbols and on the TDX pseudo-names, instruction breakpoints,
// conditions, hit conditions, logpoints and data breakpoints (struct fields, register
// pointees, address ranges).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, GUEST, HOST, HYPERCALL, SEAMCALL, STEPPER, STEPS, byName, lineOf } from './harness';

const TDCALL_LINE = lineOf(HYPERCALL, /^\ttdcall\s*$/);
const MACRO_BODY = lineOf(STEPS, 'addq\t$1, \\reg');
const LOOP = lineOf(STEPS, '1:\tincq');

test('a source breakpoint on the tdcall line stops there, named after the call', async () => {
  const d = await Dap.start();
  let bps: { verified: boolean; line?: number; message?: string }[] = [];
  await d.launch(GUEST, async (x) => {
    bps = (await x.dc.setBreakpointsRequest({ source: { path: HYPERCALL }, breakpoints: [{ line: TDCALL_LINE }, { line: 1 }] })).body.breakpoints;
  });
  assert.equal(bps[0].verified, true);
  assert.equal(bps[0].line, TDCALL_LINE);
  assert.equal(bps[1].verified, false);
  assert.match(bps[1].message!, /no code at line 1 \(the nearest line with code is \d+\)/);
  const s = await d.stopped();
  assert.equal(s.body.reason, 'breakpoint');
  assert.equal(s.body.description, 'TDCALL TDG.VP.VMCALL<MapGPA>');
  assert.equal((await d.top()).line, TDCALL_LINE);
  await d.close();
});

test('breakpointLocations lists only lines that produce code (macro bodies included)', async () => {
  const d = await Dap.start();
  await d.launch({ ...STEPPER, stopOnEntry: true });
  await d.stopped();
  const macro = lineOf(STEPS, '.macro ADD_TWICE');
  const r = (await d.dc.customRequest('breakpointLocations', { source: { path: STEPS }, line: macro, endLine: macro + 3 })).body.breakpoints as { line: number }[];
  assert.deepEqual(r.map((x) => x.line), [macro + 1, macro + 2]);
  const fn = lineOf(STEPS, 'SYM_FUNC_START(steps_main)');
  const r2 = (await d.dc.customRequest('breakpointLocations', { source: { path: STEPS }, line: fn, endLine: fn + 2 })).body.breakpoints as { line: number }[];
  assert.deepEqual(r2.map((x) => x.line), [fn + 1, fn + 2]);
  await d.close();
});

test('a breakpoint on a macro-body line stops in every expansion, with an inline frame for the macro', async () => {
  const d = await Dap.start();
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: MACRO_BODY }] }); });
  await d.stopped();
  let frames = (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  assert.deepEqual(frames.slice(0, 2).map((f) => [f.name, f.line]), [['steps_main (macro expansion)', MACRO_BODY], ['steps_main', lineOf(STEPS, 'ADD_TWICE %rdx')]]);
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  frames = (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  // leaf_fn ← middle_fn ← steps_main: callers show the line of their CALL.
  assert.deepEqual(frames.map((f) => [f.name, f.line]), [
    ['leaf_fn (macro expansion)', MACRO_BODY], ['leaf_fn', lineOf(STEPS, 'ADD_TWICE %rax')],
    ['middle_fn', lineOf(STEPS, 'call\tleaf_fn')], ['steps_main', lineOf(STEPS, 'call\tmiddle_fn')],
  ]);
  assert.equal(await d.eval('rax'), '0x7');
  await d.close();
});

test('a breakpoint on the macro invocation line stops at its first instruction', async () => {
  const d = await Dap.start();
  const inv = lineOf(STEPS, 'ADD_TWICE %rdx');
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: inv }] }); });
  await d.stopped();
  const frames = (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
  assert.equal(frames[1].line, inv);
  assert.equal(await d.eval('rcx'), '0x5', 'the loop before it ran 5 times');
  assert.equal(await d.eval('rdx'), '0xa', 'the argument (10) is not incremented yet');
  await d.close();
});

test('function breakpoints: symbols and TDX pseudo-names, with "did you mean"', async () => {
  const d = await Dap.start();
  let res: { verified: boolean; message?: string }[] = [];
  await d.launch(GUEST, async (x) => {
    res = (await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: '__tdcall_saved_ret' }, { name: 'tdvmcall:MapGPA' }, { name: 'tdcall:TDG.VP.VMCAL' }, { name: 'seamcall' }, { name: 'tdx_hypercal' }] })).body.breakpoints;
  });
  assert.deepEqual(res.map((b) => b.verified), [true, true, false, false, false]);
  assert.match(res[2].message!, /did you mean "TDG\.VP\.VMCALL"/);
  assert.match(res[3].message!, /no SEAMCALL instruction/);
  assert.match(res[4].message!, /did you mean "tdx_hypercall"/);
  let s = await d.stopped();
  assert.equal(s.body.reason, 'function breakpoint');
  assert.equal((await d.top()).line, lineOf(HYPERCALL, 'FRAME_BEGIN') + 1, 'FRAME_BEGIN emits no code: the first push');
  await d.dc.continueRequest({ threadId: 1 });
  s = await d.stopped();
  assert.equal(s.body.reason, 'function breakpoint');
  assert.equal(s.body.description, 'TDCALL TDG.VP.VMCALL<MapGPA>');
  assert.equal((await d.top()).line, TDCALL_LINE);
  await d.close();
});

test('pseudo-names filter by leaf and sub-function: GetQuote and TDG.VP.INFO never match MapGPA', async () => {
  const d = await Dap.start();
  await d.launch(GUEST, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'tdvmcall:GetQuote' }, { name: 'tdcall:TDG.VP.INFO' }] }); });
  const e = await d.next(['stopped', 'terminated']);
  assert.equal(e.event, 'terminated');
  await d.close();
});

test('seamcall:TDH.SYS.INIT stops at the SEAMCALL with the leaf in the description', async () => {
  const d = await Dap.start();
  await d.launch(HOST, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'seamcall:TDH.SYS.INIT' }] }); });
  const s = await d.stopped();
  assert.equal(s.body.description, 'SEAMCALL TDH.SYS.INIT');
  assert.equal((await d.top()).line, lineOf(SEAMCALL, /^\tseamcall\s*$/));
  // TDH.SYS.INIT is SEAMCALL leaf 33 (Intel TDX module ABI).
  assert.equal(await d.eval('rax'), '0x21');
  await d.close();
});

test('conditions on function breakpoints use registers and TDX constants', async () => {
  for (const [cond, stops] of [['r11 == TDVMCALL_MAP_GPA', true], ['r11 == 0x10002', false], ['leaf == TDG.VP.VMCALL && [rsp] != 0', true]] as const) {
    const d = await Dap.start();
    await d.launch(GUEST, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'tdcall', condition: cond }] }); });
    const e = await d.next(['stopped', 'terminated']);
    assert.equal(e.event, stops ? 'stopped' : 'terminated', cond);
    await d.close();
  }
});

test('an instruction breakpoint at text base + 7 stops in leaf_fn after `movq $7, %rax` (7 bytes: REX.W C7 /0 imm32)', async () => {
  const d = await Dap.start();
  await d.launch(STEPPER, async (x) => {
    const r = (await x.dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: '0xffffffff81000000', offset: 7 }] })).body.breakpoints;
    assert.equal(r[0].verified, true);
  });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'instruction breakpoint');
  assert.equal((await d.top()).instructionPointerReference, '0xffffffff81000007');
  assert.equal(await d.eval('rax'), '0x7');
  await d.close();
});

test('hit conditions and conditions on a loop line; logpoints print without stopping', async () => {
  const d = await Dap.start();
  const cmp = lineOf(STEPS, 'cmpq\t$5, %rcx');
  await d.launch(STEPPER, async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: LOOP, hitCondition: '% 2' }, { line: cmp, logMessage: 'iteration {rcx:d} rdx={rdx}' }] });
  });
  await d.stopped();
  assert.equal(await d.eval('rcx'), '0x1', 'second arrival at the loop head: one increment done');
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  assert.equal(await d.eval('rcx'), '0x3');
  await d.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: LOOP, condition: 'rcx == 4' }] });
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  assert.equal(await d.eval('rcx'), '0x4');
  // The loop head with RCX = 4 comes before the 4th `cmpq`: three iterations were logged.
  assert.match(d.output(), /iteration 1 rdx=0xa\niteration 2 rdx=0xa\niteration 3 rdx=0xa\n$/);
  await d.close();
});

test('logpoint interpolation names the leaf and reads struct fields', async () => {
  const d = await Dap.start();
  await d.launch(GUEST, async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: HYPERCALL }, breakpoints: [{ line: TDCALL_LINE, logMessage: 'call {leaf} sub={subfunction} r11={args.r11} rax={rax:x} rcx={rcx:d} {{literal}}' }] });
  });
  await d.next('terminated');
  // RCX = TDVMCALL_EXPOSE_REGS_MASK = 0xffcc = 65484.
  assert.match(d.output(), /call TDG\.VP\.VMCALL sub=MapGPA r11=0x10001 rax=0x0 rcx=65484 \{literal\}\n/);
  await d.close();
});

test('data breakpoints: a struct field (write and read), a register pointee, an address range', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  const structs = await d.scope('Structs');
  const args = byName(structs, 'args');
  const info = (await d.dc.dataBreakpointInfoRequest({ variablesReference: args.variablesReference, name: 'r10' })).body;
  assert.match(info.description, /args\.r10 \(8 bytes at 0xffff888000100020\)/, 'r10 is the 5th u64 of tdx_module_args: +0x20');
  assert.deepEqual(info.accessTypes, ['read', 'write', 'readWrite']);
  await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'read' }] });
  await d.dc.continueRequest({ threadId: 1 });
  let s = await d.stopped();
  assert.equal(s.body.reason, 'data breakpoint');
  assert.match(s.body.description!, /read from 0xffff888000100020/);
  // The run stops after the accessing instruction `movq TDX_MODULE_r10(%rsi), %r10`.
  assert.equal((await d.top()).line, lineOf(HYPERCALL, 'movq\tTDX_MODULE_r10(%rsi), %r10') + 1);
  await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
  await d.dc.continueRequest({ threadId: 1 });
  s = await d.stopped();
  assert.match(s.body.description!, /write to 0xffff888000100020/);
  assert.equal((await d.top()).line, lineOf(HYPERCALL, 'movq\t%r10, TDX_MODULE_r10(%rsi)') + 1);
  await d.close();

  const e = await Dap.start();
  await e.launch({ ...GUEST, stopOnEntry: true });
  await e.stopped();
  const scopes = (await e.dc.scopesRequest({ frameId: (await e.top()).id })).body.scopes;
  const pointee = (await e.dc.dataBreakpointInfoRequest({ variablesReference: scopes[0].variablesReference, name: 'rdi' })).body;
  assert.match(pointee.description, /^\*rdi \(8 bytes at 0xffff888000100000\)/);
  await e.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: pointee.dataId!, accessType: 'write' }] });
  await e.dc.continueRequest({ threadId: 1 });
  await e.stopped();
  // tdx_hypercall writes the exposure mask into args->rcx (offset 0) first.
  assert.equal((await e.top()).line, lineOf(HYPERCALL, 'movq\t$TDVMCALL_EXPOSE_REGS_MASK') + 1);
  const range = (await e.dc.dataBreakpointInfoRequest({ name: '0xffff888000100030', asAddress: true, bytes: 16 } as never)).body;
  assert.match(range.description, /16 bytes at 0xffff888000100030/);
  await e.close();
});
