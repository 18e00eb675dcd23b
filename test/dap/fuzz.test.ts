// Robustness: a seeded random mix of valid and malformed requests (wrong types, missing
// arguments, unknown commands, random expressions and addresses, run requests interleaved with
// restarts, garbage on the wire). Every request must be answered — success or an error
// response, never a timeout — and the adapter must still work at the end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, GUEST, HYPERCALL, STEPS } from './harness';

/** xorshift32: the same sequence on every run (seed in the test name). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

const SEED = 0x7dc5;
const COUNT = 3000;

test(`fuzz: ${COUNT} seeded requests (seed 0x${SEED.toString(16)}) are all answered and the adapter survives`, async () => {
  const r = rng(SEED);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const junk = (): unknown => pick([null, 0, -1, 1e300, 'x', '', [], [1, 'a'], {}, { a: { b: [null] } }, true, '0xffffffffffffffffffff', 2 ** 53, NaN]);
  const expr = (): string => {
    const atoms = ['rax', '$rsp', 'al', 'args.r12', '[rsp]', 'qword [rsi+TDX_MODULE_r10]', '(tdx_module_args)rdi.r11', 'TDX_MODULE_r12', 'leaf', '0x10', 'zf', 'nosuch', '[', ')', '==', '= 1', 'byte [0]', '1/0'];
    let s = pick(atoms);
    for (let k = Math.floor(r() * 3); k > 0; k--) s += pick([' + ', ' == ', ' && ', ' ', '.', '(', '[', ' = ']) + pick(atoms);
    return r() < 0.1 ? String.fromCharCode(...Array.from({ length: 8 }, () => 32 + Math.floor(r() * 95))) : s;
  };
  const valid: (() => [string, unknown])[] = [
    () => ['threads', {}],
    () => ['stackTrace', { threadId: 1, startFrame: Math.floor(r() * 3), levels: Math.floor(r() * 5) }],
    () => ['scopes', { frameId: Math.floor(r() * 4) }],
    () => ['variables', { variablesReference: Math.floor(r() * 40) }],
    () => ['evaluate', { expression: expr(), context: pick(['repl', 'watch', 'hover', 'clipboard']) }],
    () => ['setExpression', { expression: expr(), value: expr() }],
    () => ['setVariable', { variablesReference: Math.floor(r() * 40), name: pick(['rax', 'ZF', 'r12', 'rsp+0x08', 'nope']), value: expr() }],
    () => ['completions', { text: expr(), column: Math.floor(r() * 12) }],
    () => ['setBreakpoints', { source: { path: pick([HYPERCALL, STEPS, '/nope.S']) }, breakpoints: [{ line: Math.floor(r() * 120), condition: r() < 0.3 ? expr() : undefined, hitCondition: r() < 0.2 ? pick(['3', '>= 2', '% 0', 'x']) : undefined }] }],
    () => ['setFunctionBreakpoints', { breakpoints: [{ name: pick(['tdcall', 'tdvmcall:MapGPA', 'seamcall:TDH.SYS.INIT', 'nosuch', '__tdcall_saved_ret', 'tdcall:']) }] }],
    () => ['setInstructionBreakpoints', { breakpoints: [{ instructionReference: pick(['0xffffffff81000000', '0x0', 'zz', '0xffffffff8100004b']), offset: Math.floor(r() * 9) - 4 }] }],
    () => ['setExceptionBreakpoints', { filters: [pick(['#UD', '#GP', 'unhandled', 'bogus'])], filterOptions: [{ filterId: pick(['#PF', 'injected']), condition: r() < 0.5 ? expr() : undefined }] }],
    () => ['dataBreakpointInfo', { name: expr(), variablesReference: r() < 0.5 ? Math.floor(r() * 40) : undefined, asAddress: r() < 0.3, bytes: Math.floor(r() * 16) }],
    () => ['setDataBreakpoints', { breakpoints: r() < 0.5 ? [] : [{ dataId: pick(['0xffff888000100020/8/x', 'junk', '0x0/9999999']), accessType: pick(['read', 'write', 'readWrite', 'sideways']) }] }],
    () => ['breakpointLocations', { source: { path: pick([HYPERCALL, STEPS]) }, line: Math.floor(r() * 100), endLine: Math.floor(r() * 120) }],
    () => ['disassemble', { memoryReference: pick(['0xffffffff81000000', '0x0', 'bad', '0xffffffffffffffff']), instructionOffset: Math.floor(r() * 40) - 20, instructionCount: Math.floor(r() * 50) }],
    () => ['readMemory', { memoryReference: pick(['0xffff888000100000', '0x0', '0xffffc90000007ff0', 'x']), offset: Math.floor(r() * 64) - 32, count: Math.floor(r() * 128) }],
    () => ['writeMemory', { memoryReference: pick(['0xffff888000100040', '0x10']), data: Buffer.from([1, 2, 3]).toString('base64'), allowPartial: r() < 0.5 }],
    () => ['gotoTargets', { source: { path: pick([HYPERCALL, STEPS]) }, line: Math.floor(r() * 100) }],
    () => ['goto', { threadId: 1, targetId: Math.floor(r() * 3) }],
    () => ['exceptionInfo', { threadId: 1 }],
    () => ['source', { sourceReference: Math.floor(r() * 15) }],
    () => ['loadedSources', {}],
    () => ['modules', {}],
    () => ['next', { threadId: 1, granularity: pick(['line', 'instruction', 'statement', undefined]) }],
    () => ['stepIn', { threadId: 1, granularity: pick(['line', 'instruction']) }],
    () => ['stepOut', { threadId: 1 }],
    () => ['continue', { threadId: 1 }],
    () => ['pause', { threadId: 1 }],
    () => ['restart', {}],
    () => ['terminate', {}],
    () => ['cancel', { requestId: Math.floor(r() * 100) }],
    () => ['tdx/calls', {}],
    () => ['tdx/registerDiff', {}],
    () => ['tdx/decodeStatus', { value: pick(['0xc000010000000000', 'rax', 'junk', 12]) }],
    () => ['tdx/structLayout', { name: pick(['tdx_module_args', 'nope', undefined]) }],
    () => ['tdx/injectFault', { rule: pick(['tdcall=status:TDX_OPERAND_INVALID', 'nonsense', 'tdcall:TDG.VP.VMCALL@2=#GP(0)']) }],
  ];
  const malformed: (() => [string, unknown])[] = [
    () => [pick(['stackTrace', 'variables', 'evaluate', 'setBreakpoints', 'disassemble', 'readMemory', 'writeMemory', 'setVariable', 'completions', 'goto', 'setDataBreakpoints', 'launch', 'tdx/injectFault']), junk()],
    () => [pick(['evaluate', 'setBreakpoints', 'readMemory', 'disassemble', 'setFunctionBreakpoints']), { expression: junk(), source: junk(), breakpoints: junk(), memoryReference: junk(), count: junk(), instructionCount: junk() }],
    () => [pick(['nosuchCommand', 'tdx/', '__proto__', 'constructor', 'toString', '']), junk()],
  ];

  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  await d.stopped();
  const proc = (d.dc as unknown as { _adapterProcess: { stdin: NodeJS.WritableStream } })._adapterProcess;
  // TDX_FUZZ_TRACE=1 prints each batch's commands and the adapter's exit, to reproduce a failure.
  if (process.env.TDX_FUZZ_TRACE) (proc as unknown as NodeJS.EventEmitter).on('exit', (code: number, sig: string) => process.stderr.write(`adapter exit ${code} ${sig}\n`));
  let answered = 0, failed = 0;
  const timeouts: string[] = [];
  for (let batch = 0; batch < COUNT / 50; batch++) {
    if (batch % 20 === 10) proc.stdin.write('Content-Length: 9\r\n\r\n{garbage}'); // not JSON: must not kill the adapter
    // A launch or restart goes last in its batch: a terminate that arrives while one builds ends
    // the session by design (test/dap/buildBridge.test.ts), which would end the fuzzing too.
    const drawn = Array.from({ length: 50 }, () => (r() < 0.75 ? pick(valid) : pick(malformed))());
    const sent = [...drawn.filter(([c]) => c !== 'launch' && c !== 'restart'), ...drawn.filter(([c]) => c === 'launch' || c === 'restart')];
    if (process.env.TDX_FUZZ_TRACE) process.stderr.write(`batch ${batch}: ${sent.map(([c]) => c).join(' ')}\n`);
    await Promise.all(sent.map(async ([cmd, args]) => {
      try { await d.dc.customRequest(cmd, args); answered++; } catch (e) {
        const m = (e as Error).message;
        if (/timeout/i.test(m)) timeouts.push(`${cmd} ${JSON.stringify(args)}`); else failed++;
      }
    }));
  }
  assert.deepEqual(timeouts, [], 'every request is answered');
  assert.equal(answered + failed, COUNT);
  assert.ok(answered > COUNT / 10 && failed > COUNT / 10, `a real mix of successes (${answered}) and error responses (${failed})`);
  assert.doesNotMatch(d.output(), /internal error/, 'no handler crashed');
  // Still alive and coherent.
  await d.dc.customRequest('restart', { arguments: { ...GUEST, stopOnEntry: true } });
  await d.next('stopped');
  const threads = await d.dc.threadsRequest();
  assert.equal(threads.body.threads.length, 1);
  await d.dc.disconnectRequest({});
  await d.close();
});
