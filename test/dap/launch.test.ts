// Launch, configuration and lifecycle over DAP: capabilities, launch errors that name the
// attribute, assembler diagnostics with file:line:col, stop on entry, the return of the entry
// function, sources, modules and threads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dap, GUEST, HYPERCALL, BAD, lineOf } from './harness';
import { fromRoot } from '../support/paths';

test('initialize advertises the capabilities of the DAP specification', async () => {
  const d = await Dap.start();
  const caps = (await d.dc.initializeRequest({ adapterID: 'tdx' })).body!; // a second initialize answers the same
  for (const k of ['supportsConfigurationDoneRequest', 'supportsFunctionBreakpoints', 'supportsConditionalBreakpoints', 'supportsHitConditionalBreakpoints',
    'supportsLogPoints', 'supportsInstructionBreakpoints', 'supportsDataBreakpoints', 'supportsDataBreakpointBytes', 'supportsExceptionFilterOptions',
    'supportsExceptionInfoRequest', 'supportsSteppingGranularity', 'supportsDisassembleRequest', 'supportsReadMemoryRequest', 'supportsWriteMemoryRequest',
    'supportsSetVariable', 'supportsSetExpression', 'supportsEvaluateForHovers', 'supportsCompletionsRequest', 'supportsValueFormattingOptions',
    'supportsGotoTargetsRequest', 'supportsRestartRequest', 'supportsTerminateRequest', 'supportTerminateDebuggee', 'supportsCancelRequest',
    'supportsDelayedStackTraceLoading', 'supportsBreakpointLocationsRequest', 'supportsLoadedSourcesRequest', 'supportsModulesRequest', 'supportsClipboardContext'] as const) {
    assert.equal(caps[k], true, k);
  }
  assert.equal(caps.supportsStepBack, true, 'reverse execution (issue 8)');
  assert.deepEqual(caps.exceptionBreakpointFilters!.map((f) => f.filter), ['#UD', '#GP', '#PF', 'vmfailinvalid', 'tdx-error-status', 'injected', 'unhandled']);
  // On by default: unhandled exceptions/panics, and the faults the user injected on purpose.
  assert.deepEqual(caps.exceptionBreakpointFilters!.filter((f) => f.default).map((f) => f.filter), ['injected', 'unhandled']);
  assert.ok(caps.exceptionBreakpointFilters!.every((f) => f.supportsCondition));
  assert.deepEqual(caps.completionTriggerCharacters, ['.', '[', '$']);
  await d.close();
});

test('launch errors name the attribute and what is accepted', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...GUEST, entry: 'no_such_fn' }, /"entry" names 'no_such_fn'.*tdx_hypercall/],
    [{ ...GUEST, context: 'hypervisor' }, /"context" must be one of "guest", "host", "none"/],
    [{ ...GUEST, colour: 'red' }, /"colour" is not a launch attribute/],
    [{ ...GUEST, program: '/nonexistent/x.S' }, /"program" names a file that does not exist/],
    [{ ...GUEST, args: [{ struct: 'tdx_module_args', init: { r99: 1 } }] }, /"args\[0\]\.init\.r99" is not a field of tdx_module_args/],
    [{ ...GUEST, faults: ['tdcall:NOPE=status:0'] }, /"faults"/],
    [{ ...GUEST, maxInstructions: -1 }, /"maxInstructions" must be a positive integer/],
    // Restricted Mode: the extension passes __workspaceTrusted; the adapter runs no compiler then.
    [{ ...GUEST, program: fromRoot('test', 'fixtures', 'c', 'hypercall.c'), toolchain: { compiler: 'gcc' }, __workspaceTrusted: false }, /"toolchain" runs a compiler named by the workspace, which is off in an untrusted workspace/],
  ];
  for (const [cfg, re] of cases) {
    const d = await Dap.start();
    const msg = await d.fails(d.dc.launchRequest(cfg as never));
    assert.match(msg, re);
    await d.close();
  }
});

test('a program that does not assemble comes back as file:line:col', async () => {
  const d = await Dap.start();
  const msg = await d.fails(d.dc.launchRequest({ type: 'tdx', request: 'launch', program: BAD } as never));
  // GNU as reports the operand's column; `%nosuchreg` starts at column 13 of line 3 (tab = 1 column).
  assert.match(msg, new RegExp(`${BAD.replace(/[/.]/g, '\\$&')}:3:13: error: .*nosuchreg`));
  await d.close();
});

test('stopOnEntry stops at the first instruction of the entry function; the return ends the session with RAX', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnEntry: true });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'entry');
  assert.match(s.body.description!, /tdx_hypercall/);
  const f = await d.top();
  // FRAME_BEGIN emits nothing without CONFIG_FRAME_POINTER: the first instruction is `pushq %rbx`.
  assert.equal(f.line, lineOf(HYPERCALL, 'pushq\t%rbx', 2));
  assert.equal(f.source?.path, HYPERCALL);
  assert.equal(f.name, 'tdx_hypercall');
  const threads = (await d.dc.threadsRequest()).body.threads;
  assert.deepEqual(threads.map((t) => t.id), [1]);
  assert.match(threads[0].name, /TD guest/);
  const mods = (await d.dc.modulesRequest({})).body.modules;
  assert.equal(mods[0].path, HYPERCALL);
  const srcs = (await d.dc.customRequest('loadedSources')).body.sources as { path: string; sourceReference?: number }[];
  assert.ok(srcs.some((s) => s.path === HYPERCALL));
  const builtin = srcs.find((s) => s.path === '<builtin>/asm/shared/tdx.h');
  assert.ok(builtin?.sourceReference, 'built-in headers are served by reference');
  const text = (await d.dc.sourceRequest({ sourceReference: builtin!.sourceReference! })).body.content;
  assert.match(text, /TDVMCALL_MAP_GPA/);
  await d.dc.continueRequest({ threadId: 1 });
  const exited = await d.next('exited');
  // MapGPA succeeds with the default VMM: tdx_hypercall returns R10 = TDVMCALL_STATUS_SUCCESS = 0.
  assert.equal(exited.body.exitCode, 0);
  await d.next('terminated');
  assert.match(d.output(), /tdx_hypercall returned 0x0/);
  assert.match(d.output(), /#1 TDCALL TDG\.VP\.VMCALL<MapGPA> at __tdcall_saved_ret\+0x[0-9a-f]+: .*R12=0x100000 R13=0x2000 .*TDX_SUCCESS/);
  await d.close();
});

test('requests before launch and unknown requests are answered with errors', async () => {
  const d = await Dap.start();
  assert.match(await d.fails(d.dc.stackTraceRequest({ threadId: 1 })), /launch first/);
  assert.match(await d.fails(d.dc.customRequest('tdx/nope')), /unrecognized request "tdx\/nope"/);
  assert.match(await d.fails(d.dc.attachRequest({} as never)), /attach is not supported/);
  assert.match(await d.fails(d.dc.stepBackRequest({ threadId: 1 })), /launch first/);
  await d.close();
});

test('--server=PORT serves DAP on 127.0.0.1 (one session per connection)', async () => {
  const { spawn } = await import('node:child_process');
  const { DebugClient } = await import('@vscode/debugadapter-testsupport');
  const { ADAPTER } = await import('./harness');
  const proc = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const [port, token] = await new Promise<[number, string]>((res, rej) => {
      let err = '';
      proc.stderr!.on('data', (b: Buffer) => { err += b; const m = /listening on 127\.0\.0\.1:(\d+)\n.*token ([0-9a-f]+)/.exec(err); if (m) res([Number(m[1]), m[2]]); });
      proc.on('exit', () => rej(new Error(`adapter exited: ${err}`)));
    });
    const dc = new DebugClient('node', ADAPTER, 'tdx');
    await dc.start(port);
    const caps = (await dc.initializeRequest({ adapterID: 'tdx' })).body!;
    assert.equal(caps.supportsConfigurationDoneRequest, true);
    const init = dc.waitForEvent('initialized');
    await dc.launchRequest({ ...GUEST, stopOnEntry: true, __serverToken: token } as never);
    await init;
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.equal((await stopped).body.reason, 'entry');
    await dc.stop();
  } finally {
    proc.kill();
  }
});

test('stopOnCall stops before the first TDCALL with its call named; continuing runs it', async () => {
  const d = await Dap.start();
  await d.launch({ ...GUEST, stopOnCall: true });
  const s = await d.stopped();
  assert.match(s.body.description!, /^Before .*TDG\.VP\.VMCALL/);
  const f = await d.top();
  assert.equal(f.line, lineOf(HYPERCALL, /^\ttdcall$/));
  assert.equal(f.source?.path, HYPERCALL);
  await d.dc.continueRequest({ threadId: 1 });
  await d.next('terminated');
  await d.close();
});

test('a #UD raised by ud2 after a failed TDCALL is the ud2\'s (G0 seed, status injected at the TDCALL)', async () => {
  const seed = fromRoot('test', 'e2e', 'seed');
  const program = `${seed}/tdcall.S`;
  const d = await Dap.start();
  await d.launch({
    type: 'tdx', request: 'launch', program, entry: '__tdx_hypercall', context: 'guest', generation: 'G0',
    asmOffsets: `${seed}/asm-offsets.c`, headers: [`${seed}/tdx.h`], args: [{ struct: 'tdx_hypercall_args', init: { r11: 12 } }],
    faults: ['tdcall@1=status:TDX_OPERAND_INVALID'],
  });
  // The injected filter (on by default) stops after the call first; the #UD comes next.
  const first = await d.stopped();
  assert.match(first.body.description!, /^TDCALL TDG\.VP\.VMCALL.*: injected$/);
  await d.dc.continueRequest({ threadId: 1 });
  const s = await d.stopped();
  assert.equal(s.body.reason, 'exception');
  // ud2 (0f 0b, SDM) is the last instruction of the 99-byte function: offset 0x61.
  assert.match(s.body.description!, /^#UD at __tdx_hypercall\+0x61\b/);
  assert.doesNotMatch(s.body.description!, /TDCALL/);
  assert.equal((await d.top()).line, lineOf(program, /^\tud2$/));
  const info = (await d.dc.exceptionInfoRequest({ threadId: 1 })).body;
  assert.match(info.description!, /after TDCALL TDG\.VP\.VMCALL/);
  assert.match(info.details!.fullTypeName!, /raised at __tdx_hypercall\+0x61\b.*after call #1/);
  await d.close();
});
