// Reverse execution over DAP: stepBack (instruction and line) across an injected #GP restores
// RAX; reverseContinue stops where a forward run stopped, in reverse order (hit conditions
// included) and on the exception stop before a fixup; what-if branches; go to call; "history
// begins here" under a tiny history budget. Expected values come from the sources and the ABI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Dap, GUEST, HOST, HYPERCALL, ROOT, SEAMCALL, STEPPER, STEPS, lineOf } from './harness';
import type { DebugProtocol } from '@vscode/debugprotocol';

/** TDH.SYS.INIT is SEAMCALL leaf 33 (TDX module ABI); the kernel's fixup puts the trap number (#GP = 13) in RAX. */
const TDH_SYS_INIT = '0x21';
const SEAMCALL_LINE = lineOf(SEAMCALL, /^\tseamcall$/);
const FIXUP_POP = lineOf(SEAMCALL, /^\tpopq\t%rsi$/, 3);
const FIXUP_OR = lineOf(SEAMCALL, 'movq\t$TDX_SW_ERROR, %rdi');

async function line(d: Dap): Promise<number> {
  return (await d.top()).line!;
}

test('stepBack across an injected #GP: RAX goes from the trap number back to the leaf, then forward again', async () => {
  const d = await Dap.start();
  await d.launch({ ...HOST, faults: ['seamcall=#GP(0)'] }, async (x) => {
    await x.dc.setExceptionBreakpointsRequest({ filters: [] });
    await x.dc.setBreakpointsRequest({ source: { path: SEAMCALL }, breakpoints: [{ line: FIXUP_OR }] });
  });
  await d.stopped();
  assert.equal(await line(d), FIXUP_OR);
  assert.equal(await d.eval('rax'), '0xd');
  await d.dc.stepBackRequest({ threadId: 1, granularity: 'instruction' });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'step');
  assert.equal(await line(d), FIXUP_POP);
  assert.equal(await d.eval('rax'), '0xd');
  await d.dc.stepBackRequest({ threadId: 1, granularity: 'instruction' });
  await d.stopped();
  assert.equal(await line(d), SEAMCALL_LINE, 'one instruction back from the fixup is the faulting SEAMCALL');
  assert.equal(await d.eval('rax'), TDH_SYS_INIT, 'RAX holds the leaf again');
  // Line granularity: back over the struct loads to the line before.
  await d.dc.stepBackRequest({ threadId: 1 });
  await d.stopped();
  assert.equal(await line(d), SEAMCALL_LINE - 2, 'the previous line (.Lseamcall: has no code)');
  // Forward again over the same history: the fault happens again, the breakpoint stops again.
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  assert.equal(await line(d), FIXUP_OR);
  assert.equal(await d.eval('rax'), '0xd');
  await d.close();
});

test('reverseContinue lands on the exception stop before the fixup; resuming from it does not stop twice', async () => {
  const d = await Dap.start();
  await d.launch({ ...HOST, faults: ['seamcall=#GP(0)'] }, async (x) => {
    await x.dc.setExceptionBreakpointsRequest({ filters: ['injected', 'unhandled'] });
    await x.dc.setBreakpointsRequest({ source: { path: SEAMCALL }, breakpoints: [{ line: FIXUP_OR }] });
  });
  let s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  assert.equal(await line(d), SEAMCALL_LINE);
  await d.dc.continueRequest({ threadId: 1 });
  s = await d.stopped();
  assert.equal(s.body.reason, 'breakpoint');
  await d.dc.reverseContinueRequest({ threadId: 1 });
  s = await d.stopped();
  assert.equal(s.body.reason, 'exception', s.body.description);
  assert.equal(await line(d), SEAMCALL_LINE);
  assert.equal(await d.eval('rax'), TDH_SYS_INIT);
  const info = await d.dc.exceptionInfoRequest({ threadId: 1 });
  assert.equal(info.body.exceptionId, 'injected');
  await d.dc.continueRequest({ threadId: 1 });
  s = await d.stopped();
  assert.equal(s.body.reason, 'breakpoint', 'the held fault is delivered, not reported a second time');
  assert.equal(await line(d), FIXUP_OR);
  await d.close();
});

test('reverseContinue stops on the breakpoints of a forward run in reverse order (hit conditions too), then history begins', async () => {
  const L = (s: string) => lineOf(STEPS, s);
  const bps = async (x: Dap) => {
    await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: L('1:\tincq') }, { line: L('cmpq\t$5'), hitCondition: '% 2' }, { line: L('addq\t%rcx, %rax') }] });
  };
  const d = await Dap.start();
  await d.launch(STEPPER, bps);
  const forward: string[] = [];
  for (;;) {
    await d.stopped();
    forward.push(`${await line(d)} rcx=${await d.eval('rcx')}`);
    if ((await line(d)) === L('addq\t%rcx, %rax')) break;
    await d.dc.continueRequest({ threadId: 1 });
  }
  // incq ×5 and cmpq on its 2nd and 4th hit, then the addq: the forward order the test expects from the source.
  assert.deepEqual(forward.map((x) => Number(x.split(' ')[0])), [L('1:\tincq'), L('1:\tincq'), L('cmpq\t$5'), L('1:\tincq'), L('1:\tincq'), L('cmpq\t$5'), L('1:\tincq'), L('addq\t%rcx, %rax')]);
  const backward: string[] = [];
  for (;;) {
    await d.dc.reverseContinueRequest({ threadId: 1 });
    const s = await d.stopped();
    if (/History begins here/.test(s.body.description ?? '')) break;
    assert.equal(s.body.reason, 'breakpoint');
    backward.push(`${await line(d)} rcx=${await d.eval('rcx')}`);
  }
  assert.deepEqual(backward, forward.slice(0, -1).reverse());
  assert.equal((await d.top()).name, 'steps_main');
  assert.equal(await line(d), L('xorl\t%ecx, %ecx'), 'history begins at the entry');
  await d.close();
});

test('go to call, then what-if: a new branch with the VMM answering RETRY; the old branch is kept', async () => {
  const after = lineOf(HYPERCALL, 'xchgq\t%rsi, (%rsp)');
  const d = await Dap.start();
  await d.launch(GUEST, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: HYPERCALL }, breakpoints: [{ line: after }] }); });
  await d.stopped();
  assert.equal(await d.eval('r10'), '0x0', 'the VMM model maps the GPA: TDVMCALL_STATUS_SUCCESS');
  const calls = (await d.dc.customRequest('tdx/calls')).body.calls as { seq: number; ahead: boolean }[];
  assert.equal(calls.length, 1);
  await d.dc.customRequest('tdx/goToCall', { seq: calls[0].seq });
  let s = await d.stopped();
  assert.equal(s.body.reason, 'goto');
  assert.equal(await line(d), lineOf(HYPERCALL, /^\ttdcall$/));
  assert.equal(await d.eval('r11'), '0x10001', 'MapGPA (GHCI sub-function 0x10001) about to be called');
  const listed = (await d.dc.customRequest('tdx/calls')).body.calls as { ahead: boolean }[];
  assert.deepEqual(listed.map((c) => c.ahead), [true], 'the call is still listed, ahead of the present');

  const w = await d.dc.customRequest('tdx/whatIf', { faults: ['tdvmcall@1=r10:TDVMCALL_STATUS_RETRY'] });
  assert.equal(w.body.branch.id, 1);
  assert.equal(w.body.branch.parent, 0);
  s = await d.stopped();
  assert.equal(await line(d), after);
  assert.equal(await d.eval('r10'), '0x1', 'GHCI: TDG.VP.VMCALL_RETRY is 1');
  const br = (await d.dc.customRequest('tdx/branches')).body.branches as { id: number; current: boolean; label: string }[];
  assert.deepEqual(br.map((b) => [b.id, b.current]), [[0, false], [1, true]]);
  assert.match(br[1].label, /TDVMCALL_STATUS_RETRY/);

  await d.dc.customRequest('tdx/switchBranch', { id: 0 });
  await d.stopped();
  assert.equal(await line(d), after);
  assert.equal(await d.eval('r10'), '0x0', 'branch 0 kept its history');
  // The editor's "What if…" on a call row: go there and fork in one request.
  const w2 = await d.dc.customRequest('tdx/whatIf', { faults: ['tdvmcall@1=r10:TDVMCALL_STATUS_RETRY'], atCall: calls[0].seq });
  assert.equal(w2.body.branch.parent, 0);
  assert.equal(w2.body.branch.forkedAt, (await d.dc.customRequest('tdx/calls')).body.calls[0].icount, 'forked just before the call');
  await d.stopped();
  assert.equal(await line(d), after);
  assert.equal(await d.eval('r10'), '0x1');
  assert.match(await d.fails(d.dc.customRequest('tdx/whatIf', { faults: ['tdvmcall=#GP(0)'], atCall: 99 })), /no TDX call #99/);
  await d.close();
});

test('reverse step out returns to the call; reverse step in enters a callee from its end', async () => {
  const L = (s: string) => lineOf(STEPS, s);
  const d = await Dap.start();
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: L('addq\t$100, %rax') }, { line: L('addq\t%rcx, %rax') }] }); });
  await d.stopped();
  assert.equal((await d.top()).name, 'middle_fn');
  await d.dc.customRequest('tdx/reverseStepOut');
  await d.stopped();
  assert.equal(await line(d), L('call\tmiddle_fn'));
  assert.equal((await d.top()).name, 'steps_main');
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  assert.equal(await line(d), L('addq\t%rcx, %rax'));
  await d.dc.customRequest('tdx/reverseStepIn');
  await d.stopped();
  assert.equal((await d.top()).name, 'middle_fn', 'back into the callee, at its last line');
  assert.equal(await line(d), lineOf(STEPS, /^\tRET$/, 2), "middle_fn's RET");
  await d.close();
});

test('a tiny history budget: reverse-continue stops where history begins, not at the launch', async () => {
  const COUNTDOWN = join(ROOT, 'test/dap/fixtures/countdown.S');
  const d = await Dap.start();
  await d.launch({ type: 'tdx', request: 'launch', program: COUNTDOWN, entry: 'countdown', context: 'none', historyBudgetMb: 0.25 }, async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: COUNTDOWN }, breakpoints: [{ line: lineOf(COUNTDOWN, 'movl\t$42') }] });
  });
  await d.stopped();
  assert.equal(await d.eval('ecx'), '0x0');
  await d.dc.reverseContinueRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'step');
  assert.match(s.body.description ?? '', /^History begins here/);
  const h = (await d.dc.customRequest('tdx/history')).body as { historyStart: number; position: number; budget: number };
  assert.equal(h.budget, 0.25 * 1024 * 1024);
  assert.ok(h.historyStart > 0 && h.position === h.historyStart, `history starts at ${h.historyStart}, position ${h.position}`);
  const ecx = BigInt(await d.eval('ecx'));
  assert.ok(ecx > 0n && ecx < 5_000_000n, `mid-loop: ecx = ${ecx}`);
  await d.dc.stepBackRequest({ threadId: 1 });
  assert.match((await d.stopped()).body.description ?? '', /^History begins here/);
  await d.close();
});

test('launch: historyBudgetMb must be a positive number; supportsStepBack is advertised', async () => {
  const d = await Dap.start();
  const msg = await d.fails(d.dc.launchRequest({ ...HOST, historyBudgetMb: 0 } as never));
  assert.match(msg, /historyBudgetMb/);
  await d.close();
  const e = new Dap();
  await e.dc.start();
  const r = await e.dc.initializeRequest({ adapterID: 'tdx' });
  assert.equal(r.body?.supportsStepBack, true);
  await e.dc.stop();
});

const SPIN = join(ROOT, 'test/dap/fixtures/spin.S');
const SPIN_DONE = lineOf(SPIN, 'movl\t$42');
const spin = (n: number, extra: Record<string, unknown> = {}) => ({ type: 'tdx', request: 'launch', program: SPIN, entry: 'spin', context: 'none', args: [n], maxInstructions: 100_000_000, ...extra });

/** The adapter process's peak resident set (Linux: VmHWM), in bytes. */
function peakRss(d: Dap): number {
  const pid = (d.dc as unknown as { _adapterProcess?: { pid?: number } })._adapterProcess?.pid;
  assert.ok(pid, 'the adapter runs as a child process');
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/PID/statusDecoder');
  return Number(m[1]) * 1024;
}

test('a long reverse-continue runs in slices: progress is reported, other requests are answered meanwhile, pause stops it where it had searched to', async () => {
  const N = 30_000_000;
  const d = await Dap.start({ supportsProgressReporting: true });
  await d.launch(spin(N), async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: SPIN }, breakpoints: [{ line: SPIN_DONE }] });
  });
  // From here on (the launch's build reports a progress of its own before it is answered).
  for (const e of ['progressStart', 'progressUpdate', 'progressEnd']) d.dc.on(e, (ev: DebugProtocol.Event) => d.events.push(ev));
  await d.stopped();
  assert.equal(await d.eval('rcx'), '0x0');
  await d.dc.reverseContinueRequest({ threadId: 1 });
  const start = await d.next('progressStart');
  assert.match(String(start.body.title), /Reverse continue/);
  await d.next('progressUpdate');
  // Served during the search: its response comes before the travel's stop.
  await d.dc.threadsRequest();
  assert.ok(!d.order.includes('event stopped', d.order.lastIndexOf('response reverseContinue')), `a request was answered only after the search: ${d.order.slice(-6).join(', ')}`);
  await d.dc.pauseRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'pause', `${s.body.description}: ${s.body.text}`);
  assert.match(s.body.text ?? '', /nothing stops between here and position/);
  // Landed inside the loop, on a position the search had proven: RCX counts down from N.
  const rcx = BigInt(await d.eval('rcx'));
  assert.ok(rcx > 0n && rcx < BigInt(N), `rcx = ${rcx}`);
  await d.next('progressEnd');
  // Cancelling the progress (the client's Cancel button on it) pauses the search too.
  await d.dc.reverseContinueRequest({ threadId: 1 });
  const again = await d.next('progressStart');
  await d.dc.customRequest('cancel', { progressId: String(again.body.progressId) });
  assert.equal((await d.stopped()).body.reason, 'pause');
  assert.ok(BigInt(await d.eval('rcx')) >= rcx, 'never forward in time: RCX is not lower');
  await d.next('progressEnd');
  // Resumed, the same search ends where history begins (the launch): no earlier stop.
  await d.dc.reverseContinueRequest({ threadId: 1 });
  const h = await d.stopped();
  assert.match(h.body.description ?? '', /^History begins here/);
  assert.match(h.body.text ?? '', /where the program was launched/);
  await d.close();
});

test('line step-back over a one-line loop: bounded search with a clear message, memory flat, pause interrupts it', async () => {
  const d = await Dap.start({ supportsProgressReporting: true });
  await d.launch(spin(3_000_000), async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: SPIN }, breakpoints: [{ line: SPIN_DONE }] });
  });
  await d.stopped();
  const before = peakRss(d);
  await d.dc.stepBackRequest({ threadId: 1 });
  let s = await d.stopped();
  assert.equal(s.body.reason, 'step');
  assert.match(s.body.text ?? '', /no earlier line within 1,000,000 instructions/);
  assert.equal(await line(d), lineOf(SPIN, 'loop\t1b'), 'inside the loop line');
  const grown = peakRss(d) - before;
  // The search used to hold one trace point per instruction (1M: ~200 MiB); now its state is O(1).
  assert.ok(grown < 48 * 1024 * 1024, `peak RSS grew by ${(grown / 1048576).toFixed(1)} MiB during the step back`);
  const h = (await d.dc.customRequest('tdx/history')).body as { bytes: number; budget: number };
  assert.ok(h.bytes <= h.budget, `history ${h.bytes} of ${h.budget} bytes`);
  // Again, interrupted: the stop is a pause, not a step.
  const rcx0 = BigInt(await d.eval('rcx'));
  await d.dc.stepBackRequest({ threadId: 1 });
  await d.dc.pauseRequest({ threadId: 1 });
  s = await d.stopped();
  assert.equal(s.body.reason, 'pause', `${s.body.description}: ${s.body.text}`);
  assert.ok(BigInt(await d.eval('rcx')) >= rcx0, 'never past the step back\'s target: at or after where it started in time (RCX counts down)');
  await d.close();
});

test('a history budget far below the run: bytes stay within it, positions beyond retained history say so', async () => {
  const d = await Dap.start();
  await d.launch(spin(20_000_000, { historyBudgetMb: 0.25 }), async (x) => {
    await x.dc.setBreakpointsRequest({ source: { path: SPIN }, breakpoints: [{ line: SPIN_DONE }] });
  });
  await d.stopped();
  const h = (await d.dc.customRequest('tdx/history')).body as { bytes: number; budget: number; historyStart: number; position: number };
  assert.equal(h.budget, 256 * 1024);
  assert.ok(h.bytes <= h.budget, `history holds ${h.bytes} bytes`);
  assert.ok(h.historyStart > 0, 'the oldest history was dropped');
  await d.dc.reverseContinueRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.match(s.body.description ?? '', /^History begins here/);
  assert.match(s.body.text ?? '', /dropped to keep history within historyBudgetMb \(256 KiB\); raise "historyBudgetMb"/);
  await d.close();
});

test('a breakpoint set where a reverse search holds a temporary one (reverse step out: the function entry) survives the search', async () => {
  const CALLSPIN = join(ROOT, 'test/dap/fixtures/callspin.S');
  const ENTRY = lineOf(CALLSPIN, 'movq\t%rdi, %rcx'), RET = lineOf(CALLSPIN, /^\tRET$/, 2), CALL = lineOf(CALLSPIN, 'call\tspin_inner');
  const d = await Dap.start({ supportsProgressReporting: true });
  await d.launch({ type: 'tdx', request: 'launch', program: CALLSPIN, entry: 'call_spin', context: 'guest', args: [30_000_000], maxInstructions: 100_000_000 }, async (x) => {
    await x.dc.setExceptionBreakpointsRequest({ filters: [] });
    await x.dc.setBreakpointsRequest({ source: { path: CALLSPIN }, breakpoints: [{ line: RET }] });
  });
  // After the launch's own build progress.
  d.dc.on('progressStart', (ev: DebugProtocol.Event) => d.events.push(ev));
  await d.stopped();
  assert.equal(await line(d), RET);
  await d.dc.customRequest('tdx/reverseStepOut', { threadId: 1 });
  // The search has started (it reports progress): spin_inner's entry holds its temporary breakpoint now.
  await d.next('progressStart', 30_000);
  await d.dc.setBreakpointsRequest({ source: { path: CALLSPIN }, breakpoints: [{ line: ENTRY }, { line: RET }] });
  const s = await d.stopped();
  const order = d.order.filter((o) => o === 'response setBreakpoints' || o === 'event stopped');
  assert.deepEqual(order.slice(-2), ['response setBreakpoints', 'event stopped'], 'the breakpoint was set while the search ran');
  assert.equal(await line(d), CALL, `${s.body.description}: ${s.body.text}`);
  await d.dc.continueRequest({ threadId: 1 });
  const s2 = await d.stopped();
  assert.equal(s2.body.reason, 'breakpoint', `${s2.body.description}: ${s2.body.text}`);
  assert.equal(await line(d), ENTRY, 'the user\'s breakpoint at the function entry is still set');
  await d.close();
});
