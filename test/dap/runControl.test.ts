// Run control over DAP: line steps (macro bodies as inline frames), step over/in/out,
// instruction granularity, pause while running, the instruction limit, breakpoints set while
// running, goto, restart, terminate, disconnect — and responses before the stops they cause.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, STEPPER, STEPS, lineOf } from './harness';

const L = (s: string) => lineOf(STEPS, s);
// A limit far away, so the spin only ends when the test says so.
const SPIN = { type: 'tdx', request: 'launch', program: STEPS, entry: 'spin', maxInstructions: 1e12 };

async function lines(d: Dap): Promise<number[]> {
  return (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames.map((f) => f.line);
}

test('next steps source lines, loops included; the response precedes the stopped event', async () => {
  const d = await Dap.start();
  await d.launch({ ...STEPPER, stopOnEntry: true });
  await d.stopped();
  assert.equal((await d.top()).line, L('xorl\t%ecx, %ecx'));
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    await d.dc.nextRequest({ threadId: 1 });
    const s = await d.stopped();
    assert.equal(s.body.reason, 'step');
    seen.push((await d.top()).line!);
  }
  assert.deepEqual(seen, [L('movq\t%rdi, %rdx'), L('1:\tincq'), L('cmpq\t$5'), L('jne\t1b'), L('1:\tincq'), L('cmpq\t$5')]);
  const order = d.order.filter((x) => x === 'response next' || x === 'event stopped');
  assert.deepEqual(order.slice(1, 5), ['response next', 'event stopped', 'response next', 'event stopped']);
  await d.close();
});

test('next in a macro frame walks the macro body, then leaves it; next over a call; stepOut of a macro frame', async () => {
  const d = await Dap.start();
  const inv = L('ADD_TWICE %rdx'), body1 = L('addq\t$1, \\reg'), body2 = body1 + 1;
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: inv }] }); });
  await d.stopped();
  assert.deepEqual((await lines(d)).slice(0, 2), [body1, inv]);
  await d.dc.nextRequest({ threadId: 1 });
  await d.stopped();
  assert.deepEqual((await lines(d)).slice(0, 2), [body2, inv]);
  await d.dc.nextRequest({ threadId: 1 });
  await d.stopped();
  assert.equal((await lines(d))[0], L('call\tmiddle_fn'));
  await d.dc.nextRequest({ threadId: 1 });
  await d.stopped();
  assert.equal((await d.top()).line, L('addq\t%rcx, %rax'));
  // middle_fn returns leaf_fn's 7 + 2 plus 100.
  assert.equal(await d.eval('rax'), '0x6d');
  await d.close();

  const e = await Dap.start();
  await e.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: inv }] }); });
  await e.stopped();
  await e.dc.stepOutRequest({ threadId: 1 });
  await e.stopped();
  assert.equal((await e.top()).line, L('call\tmiddle_fn'));
  assert.equal(await e.eval('rdx'), '0xc', 'the whole macro ran: 10 + 2');
  await e.close();
});

test('stepIn enters calls, stepOut returns to the caller through the shadow stack', async () => {
  const d = await Dap.start();
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: L('call\tmiddle_fn') }] }); });
  await d.stopped();
  await d.dc.stepInRequest({ threadId: 1 });
  await d.stopped();
  assert.deepEqual(await lines(d), [L('call\tleaf_fn'), L('call\tmiddle_fn')]);
  await d.dc.stepInRequest({ threadId: 1 });
  await d.stopped();
  assert.equal((await d.top()).name, 'leaf_fn');
  assert.equal((await d.top()).line, L('movq\t$7, %rax'));
  await d.dc.stepOutRequest({ threadId: 1 });
  await d.stopped();
  assert.equal((await d.top()).name, 'middle_fn');
  assert.equal((await d.top()).line, L('addq\t$100, %rax'));
  assert.equal(await d.eval('rax'), '0x9');
  await d.dc.stepOutRequest({ threadId: 1 });
  await d.stopped();
  assert.equal((await d.top()).name, 'steps_main');
  assert.equal((await d.top()).line, L('addq\t%rcx, %rax'));
  await d.close();
});

test('instruction granularity: one instruction, and over a 5-byte CALL', async () => {
  const d = await Dap.start();
  await d.launch({ ...STEPPER, stopOnEntry: true });
  await d.stopped();
  const ip0 = BigInt((await d.top()).instructionPointerReference!);
  await d.dc.stepInRequest({ threadId: 1, granularity: 'instruction' });
  await d.stopped();
  assert.equal(BigInt((await d.top()).instructionPointerReference!), ip0 + 2n, 'xorl %ecx,%ecx is 31 c9');
  await d.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: L('call\tmiddle_fn') }] });
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  const call = BigInt((await d.top()).instructionPointerReference!);
  await d.dc.nextRequest({ threadId: 1, granularity: 'instruction' });
  await d.stopped();
  assert.equal(BigInt((await d.top()).instructionPointerReference!), call + 5n, 'call rel32 is e8 + 4 bytes');
  await d.close();
});

test('pause is answered within 50 ms while code runs; breakpoints set while running take effect', async () => {
  const d = await Dap.start();
  await d.launch(SPIN);
  await new Promise((r) => setTimeout(r, 150));
  const t0 = performance.now();
  await d.dc.pauseRequest({ threadId: 1 });
  const ms = performance.now() - t0;
  assert.ok(ms < 50, `pause answered in ${ms.toFixed(1)} ms`);
  const s = await d.stopped();
  assert.equal(s.body.reason, 'pause');
  assert.match(s.body.description!, /Paused at spin/);
  await d.dc.continueRequest({ threadId: 1 });
  await new Promise((r) => setTimeout(r, 50));
  const r = (await d.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: L('2:\tjmp') }] })).body.breakpoints;
  assert.equal(r[0].verified, true);
  assert.equal((await d.stopped()).body.reason, 'breakpoint');
  const t1 = performance.now();
  await d.dc.continueRequest({ threadId: 1 });
  await d.stopped();
  assert.ok(performance.now() - t1 < 1000);
  await d.close();
});

test('cancel of a running request stops the run like pause', async () => {
  const d = await Dap.start();
  await d.launch({ ...SPIN, stopOnEntry: true });
  await d.stopped();
  await d.dc.continueRequest({ threadId: 1 });
  await new Promise((r) => setTimeout(r, 30));
  await d.dc.customRequest('cancel', {});
  const s = await d.stopped();
  assert.equal(s.body.reason, 'pause');
  await d.close();
});

test('runaway code ends in a stop at the instruction limit', async () => {
  const d = await Dap.start();
  await d.launch({ ...SPIN, maxInstructions: 300_000 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  assert.match(s.body.text!, /instruction limit of 300,000 reached at spin.*maxInstructions/);
  await d.close();
});

test('runaway recursion into the stack guard page ends in an unhandled #PF stop', async () => {
  const d = await Dap.start();
  await d.launch({ ...STEPPER, entry: 'recurse' });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  assert.match(s.body.text!, /unhandled #PF .*kernel stack overflow \(guard page hit\)/);
  // 16 KiB of stack, 8 bytes per return address: about 2048 frames deep.
  const total = (await d.dc.stackTraceRequest({ threadId: 1, startFrame: 0, levels: 1 })).body.totalFrames!;
  assert.ok(total > 2000 && total < 2100, `${total} frames`);
  assert.equal((await d.dc.exceptionInfoRequest({ threadId: 1 })).body.breakMode, 'unhandled');
  await d.close();
});

test('gotoTargets and goto set RIP to a line', async () => {
  const d = await Dap.start();
  await d.launch({ ...STEPPER, stopOnEntry: true });
  await d.stopped();
  const targets = (await d.dc.gotoTargetsRequest({ source: { path: STEPS }, line: L('addq\t%rdx, %rax') })).body.targets;
  assert.equal(targets.length, 1);
  await d.dc.gotoRequest({ threadId: 1, targetId: targets[0].id });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'goto');
  assert.equal((await d.top()).line, L('addq\t%rdx, %rax'));
  await d.close();
});

test('restart runs again from the launch state (new arguments too); terminate and disconnect answer', async () => {
  const d = await Dap.start();
  const inv = L('ADD_TWICE %rdx');
  await d.launch(STEPPER, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: STEPS }, breakpoints: [{ line: inv }] }); });
  await d.stopped();
  await d.dc.setVariableRequest({ variablesReference: 0, name: 'x', value: '1' }).catch(() => undefined);
  await d.eval('rdx = 0x55');
  await d.dc.restartRequest({});
  await d.stopped();
  assert.equal(await d.eval('rdx'), '0xa', 'the launch argument again');
  await d.dc.restartRequest({ arguments: { ...STEPPER, args: [0x20], stopOnEntry: true } } as never);
  assert.equal((await d.stopped()).body.reason, 'entry');
  assert.equal(await d.eval('rdi'), '0x20');
  await d.dc.terminateRequest({});
  await d.next('terminated');
  await d.close();

  const e = await Dap.start();
  await e.launch(SPIN);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await e.dc.disconnectRequest({ terminateDebuggee: true });
  assert.ok(performance.now() - t0 < 200);
  await e.close();
});
