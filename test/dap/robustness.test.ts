// Regressions of the hostile-input report: each bad request gets a clear error (never an
// internal error), in bounded time, and the adapter goes on working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, GUEST, HYPERCALL, lineOf } from './harness';

const TDCALL_LINE = lineOf(HYPERCALL, /^\ttdcall\s*$/);

test('argument types and sizes are checked at the wrapper; expressions are bounded; no internal errors', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  const src = { path: HYPERCALL };
  const cases: [string, unknown, RegExp][] = [
    ['setBreakpoints', { source: src, breakpoints: [{ line: TDCALL_LINE, condition: 5 }] }, /"breakpoints\[0\]\.condition" must be a string/],
    ['setBreakpoints', { source: src, breakpoints: [{ line: TDCALL_LINE, hitCondition: {} }] }, /"breakpoints\[0\]\.hitCondition" must be a string/],
    ['setBreakpoints', { source: src, breakpoints: [{ line: TDCALL_LINE, logMessage: 7 }] }, /"breakpoints\[0\]\.logMessage" must be a string/],
    ['setBreakpoints', { source: src, breakpoints: [{ line: 1.5 }] }, /must be an integer/],
    ['setExceptionBreakpoints', { filters: [], filterOptions: [{ filterId: '#GP', condition: 5 }] }, /"filterOptions\[0\]\.condition" must be a string/],
    ['setFunctionBreakpoints', { breakpoints: [{ name: 'x'.repeat(1 << 20) }] }, /1048576 characters long; the limit is 8192/],
    ['evaluate', { expression: 'constructor' }, /"constructor" is not a register/],
    ['evaluate', { expression: '__proto__' }, /"__proto__" is not a register/],
    ['evaluate', { expression: 'toString' }, /"toString" is not a register/],
    ['evaluate', { expression: '('.repeat(4000) + '1' + ')'.repeat(4000) }, /nests deeper than 200 levels/],
    ['evaluate', { expression: '-'.repeat(8000) + '1' }, /nests deeper than 200 levels/],
    ['evaluate', { expression: '1' + '+1'.repeat(4000) }, /more than 200 operators in a row/],
    ['evaluate', { expression: '[' .repeat(3000) + 'rsp' + ']'.repeat(3000) }, /nests deeper/],
    ['evaluate', { expression: '$rip = 0x8000000000000000' }, /not a canonical address/],
    ['tdx/whatIf', { registers: { rip: '0x8000000000000000' } }, /not a canonical address/],
    ['disassemble', { memoryReference: '0x1000', instructionOffset: 2 ** 32 - 1, instructionCount: 10 }, /beyond ±100000/],
    ['readMemory', { memoryReference: '0x0', count: 'x' }, /"count" must be an integer/],
  ];
  for (const [cmd, args, re] of cases) {
    const t0 = Date.now();
    const msg = await d.fails(d.dc.customRequest(cmd, args));
    assert.match(msg, re, `${cmd} ${JSON.stringify(args).slice(0, 80)}`);
    assert.ok(Date.now() - t0 < 2000, `${cmd} answered in ${Date.now() - t0} ms`);
  }
  // A name just under the limit: the "did you mean" search stays fast.
  const t0 = Date.now();
  const r = await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'q'.repeat(8000) }] });
  assert.equal(r.body.breakpoints[0].verified, false);
  assert.ok(Date.now() - t0 < 1000, `8000-character function name: ${Date.now() - t0} ms`);
  // In the image a huge offset is answered at once (placeholders past the end).
  const far = await d.dc.customRequest('disassemble', { memoryReference: '0xffffffff81000000', instructionOffset: 2 ** 32 - 1, instructionCount: 4 });
  assert.equal(far.body.instructions.length, 4);
  assert.doesNotMatch(d.output(), /internal error/);
  await d.dc.disconnectRequest({});
  await d.close();
});

test('after writeMemory into code the Disassembly view shows the new bytes', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  const top = await d.top();
  const pc = top.instructionPointerReference!;
  const before = (await d.dc.customRequest('disassemble', { memoryReference: pc, instructionCount: 1 })).body.instructions[0];
  assert.notEqual(before.instruction, 'nop');
  // 0x90 is NOP (SDM Vol. 2B, NOP), written over the first byte of the current instruction.
  await d.dc.customRequest('writeMemory', { memoryReference: pc, data: Buffer.from([0x90]).toString('base64') });
  const after = (await d.dc.customRequest('disassemble', { memoryReference: pc, instructionCount: 1 })).body.instructions[0];
  assert.equal(after.instruction, 'nop');
  assert.equal(after.instructionBytes, '90');
  await d.dc.disconnectRequest({});
  await d.close();
});
