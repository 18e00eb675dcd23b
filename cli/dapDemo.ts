// `npm run demo` (DAP part): spawns the real debug adapter and drives it with a DAP client
// through examples/hypercall.S the way VS Code would — stop on entry, break on every TDCALL,
// show the call card, registers (changed ones marked) and the struct overlay, then restart,
// inject a failing TDCALL status and watch the kernel's panic path — printing what a user sees.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { examplesDir } from './demo';

/** dist/debugAdapter.js beside the CLI bundle, or in the tree's dist/ when run from source. */
function adapterPath(): string {
  for (const p of [join(__dirname, 'debugAdapter.js'), join(__dirname, '..', 'dist', 'debugAdapter.js'), join(__dirname, '..', '..', 'dist', 'debugAdapter.js')]) {
    if (existsSync(p)) return p;
  }
  throw new Error('dist/debugAdapter.js not found (run `node scripts/build.mjs --dist` first)');
}

const out = (s = '') => process.stdout.write(s + '\n');

export async function dapDemoCommand(_argv: string[]): Promise<number> {
  const program = join(examplesDir(), 'hypercall.S');
  const config = {
    type: 'tdx', request: 'launch', program, entry: 'tdx_hypercall', context: 'guest', stopOnEntry: true,
    args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } }],
  };
  const dc = new DebugClient('node', adapterPath(), 'tdx');
  dc.defaultTimeout = 20_000;
  const stops: DebugProtocol.StoppedEvent[] = [];
  let waiting: ((e: DebugProtocol.StoppedEvent | undefined) => void) | undefined;
  dc.on('stopped', (e: DebugProtocol.StoppedEvent) => { if (waiting) { const w = waiting; waiting = undefined; w(e); } else stops.push(e); });
  dc.on('terminated', () => { if (waiting) { const w = waiting; waiting = undefined; w(undefined); } });
  dc.on('output', (e: DebugProtocol.OutputEvent) => process.stdout.write(`  [debug console] ${e.body.output}`));
  const nextStop = () => (stops.length ? Promise.resolve(stops.shift()) : new Promise<DebugProtocol.StoppedEvent | undefined>((r) => { waiting = r; }));
  const showStop = (s: DebugProtocol.StoppedEvent | undefined) => {
    if (!s) { out('  (the session ended)'); return; }
    out(`  stopped: reason "${s.body.reason}" — ${s.body.description}${s.body.text ? `\n           ${s.body.text}` : ''}`);
  };

  await dc.start();
  try {
    out('=== A DAP session on examples/hypercall.S (the real adapter process, driven over stdio)');
    await dc.initializeRequest({ adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true, supportsInvalidatedEvent: true });
    const init = new Promise((r) => dc.once('initialized', r));
    out('> launch { "program": "examples/hypercall.S", "entry": "tdx_hypercall", "stopOnEntry": true, "args": [ tdx_module_args { r11: TDVMCALL_MAP_GPA, r12: 0x100000, r13: 0x2000 } ] }');
    await dc.launchRequest(config as DebugProtocol.LaunchRequestArguments);
    await init;
    out('> setFunctionBreakpoints [ "tdcall" ]');
    const bp = (await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'tdcall' }] })).body.breakpoints[0];
    out(`  verified: ${bp.verified}, at line ${bp.line} (${bp.instructionReference})`);
    await dc.configurationDoneRequest();
    showStop(await nextStop());

    out('> continue');
    await dc.continueRequest({ threadId: 1 });
    showStop(await nextStop());
    const frame = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
    out(`  call stack: ${frame.map((f) => `${f.name} (${f.source?.name}:${f.line})`).join(' ← ')}`);
    const scopes = (await dc.scopesRequest({ frameId: frame[0].id })).body.scopes;
    const vars = async (ref: number) => (await dc.variablesRequest({ variablesReference: ref })).body.variables;
    const scope = (name: string) => scopes.find((s) => s.name === name)!.variablesReference;

    out('\n--- TDX scope: the call card of the call about to run');
    for (const v of await vars(scope('TDX'))) {
      if (v.name !== 'next call') continue;
      out(`  ${v.name}: ${v.value}`);
      for (const c of await vars(v.variablesReference)) {
        out(`    ${c.name.padEnd(22)} ${c.value}`);
        if (c.name === 'inputs' || c.name === 'RCX exposure bitmap') for (const x of await vars(c.variablesReference)) out(`      ${x.name.padEnd(26)} ${x.value}`);
      }
    }
    out('\n--- Registers scope ("(was …)" marks what changed since the last stop)');
    for (const v of (await vars(scope('Registers'))).filter((x) => /^(r\w\w|r\d+|rip|rflags)$/.test(x.name))) out(`  ${v.name.padEnd(7)} ${v.value}`);
    out('\n--- Structs scope: args laid over memory, with offsets and asm-offsets names');
    for (const s of await vars(scope('Structs'))) {
      out(`  ${s.name}: ${s.value}`);
      for (const f of await vars(s.variablesReference)) out(`    ${f.name.padEnd(8)} ${f.value}`);
    }

    out('\n> continue (the TDCALL runs; the adapter prints one line per call)');
    await dc.continueRequest({ threadId: 1 });
    showStop(await nextStop());

    out('\n> restart (back to the entry: the TDCALL is ahead again)');
    await dc.restartRequest({});
    showStop(await nextStop());
    out('> tdx/injectFault { "rule": "tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID" }');
    const inj = await dc.customRequest('tdx/injectFault', { rule: 'tdcall:TDG.VP.VMCALL=status:TDX_OPERAND_INVALID' });
    out(`  armed: ${inj.body.rule}`);
    out('> continue');
    await dc.continueRequest({ threadId: 1 });
    showStop(await nextStop());
    out('> continue (the TDCALL now fails; the "injected" exception filter stops right after it)');
    await dc.continueRequest({ threadId: 1 });
    const injected = await nextStop();
    showStop(injected);
    if (injected) {
      const rax = (await dc.evaluateRequest({ expression: 'rax', context: 'watch', frameId: (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id })).body.result;
      out(`  rax = ${rax}`);
      out('> continue (tdx_hypercall sees RAX != 0 and takes its panic path)');
      await dc.continueRequest({ threadId: 1 });
    }
    const panic = injected ? await nextStop() : undefined;
    showStop(panic);
    if (panic) {
      const info = (await dc.exceptionInfoRequest({ threadId: 1 })).body;
      out(`  exceptionInfo: ${info.exceptionId} (${info.breakMode}): ${info.details?.fullTypeName ?? ''}`);
      const calls = (await dc.customRequest('tdx/calls')).body.calls as { line: string }[];
      out('  tdx/calls (the timeline):');
      for (const c of calls) out(`    ${c.line}`);
      const f = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
      out(`  call stack: ${f.map((x) => `${x.name}${x.source ? ` (${x.source.name}:${x.line})` : ''}`).join(' ← ')}`);
    }
    await dc.disconnectRequest({});
    return panic ? 0 : 1;
  } finally {
    await dc.stop();
  }
}
