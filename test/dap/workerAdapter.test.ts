// The adapter on a worker thread (dist/debugAdapterWorker.js, the extension's "inline" mode):
// DAP messages cross as structured clones; a session runs to its stop and its end; while the
// debuggee runs, the calling thread (the extension host's, in the editor) keeps turning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ROOT, lineOf } from './harness';

const SPIN = join(ROOT, 'test/dap/fixtures/spin.S');

test('the adapter on a worker thread: initialize, launch, a breakpoint stop after 20M instructions, disconnect; this thread turns meanwhile', async () => {
  const w = new Worker(join(ROOT, 'dist/debugAdapterWorker.js'));
  const seen: DebugProtocol.ProtocolMessage[] = [];
  const waiters: (() => void)[] = [];
  w.on('message', (m: DebugProtocol.ProtocolMessage) => { seen.push(m); waiters.splice(0).forEach((f) => f()); });
  let seq = 1;
  const find = (pred: (m: DebugProtocol.ProtocolMessage) => boolean) => seen.find(pred);
  const until = async <T extends DebugProtocol.ProtocolMessage>(pred: (m: DebugProtocol.ProtocolMessage) => boolean): Promise<T> => {
    for (;;) {
      const m = find(pred);
      if (m) return m as T;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const request = async (command: string, args: unknown): Promise<DebugProtocol.Response> => {
    const s = seq++;
    w.postMessage({ type: 'request', seq: s, command, arguments: args });
    return until<DebugProtocol.Response>((m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === s);
  };
  try {
    const init = await request('initialize', { adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    assert.equal(init.success, true);
    assert.equal((init.body as DebugProtocol.Capabilities).supportsStepBack, true);
    const launch = await request('launch', { type: 'tdx', request: 'launch', program: SPIN, entry: 'spin', context: 'none', args: [20_000_000], maxInstructions: 100_000_000 });
    assert.equal(launch.success, true, launch.message);
    await until((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'initialized');
    const bp = await request('setBreakpoints', { source: { path: SPIN }, breakpoints: [{ line: lineOf(SPIN, 'movl\t$42') }] });
    assert.equal((bp.body as { breakpoints: { verified: boolean }[] }).breakpoints[0].verified, true);
    await request('configurationDone', {});
    // The run takes many slices on the worker; this thread is never held by it.
    let turns = 0;
    const tick = setInterval(() => { turns++; }, 0);
    const stop = await until<DebugProtocol.StoppedEvent>((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'stopped');
    clearInterval(tick);
    assert.equal(stop.body.reason, 'breakpoint');
    assert.ok(turns > 0, 'this thread ran timers while the adapter ran the debuggee');
    const ev = await request('evaluate', { expression: 'rcx', context: 'repl' });
    assert.equal((ev.body as { result: string }).result, '0x0', 'the loop ran all 20M iterations');
    assert.equal((await request('disconnect', {})).success, true);
  } finally {
    await w.terminate();
  }
});
