// A launch whose build takes long (a generated .S of 480,000 statements the built-in assembler
// works through for seconds) on the stdio adapter and on a `--server` connection: while it
// builds, `threads` and `pause` are answered before the launch is, `disconnect` or `terminate`
// end the build (the launch is answered with an error saying so, nothing is launched), and the
// process exits or the server goes on serving with nothing left behind. Progress events frame
// the build; in the extension's inline mode (the bridge in-process) cancelling that progress
// ends the build. Assertions are on the order of the answers, never on elapsed time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ADAPTER, GUEST, ROOT, STEPPER } from './harness';
import { AdapterBridge } from '../../debug-adapter/bridge';

const dir = mkdtempSync(join(tmpdir(), 'tdx-slow-build-'));
const SLOW = join(dir, 'slow.S');
// Under the assembler's limit of 500,000 statements after expansion: a valid program.
writeFileSync(SLOW, '\t.text\n\t.globl slow_main\nslow_main:\n\t.rept 240000\n\taddq $1, %rax\n\tmovq %rax, 8(%rsp)\n\t.endr\n\tret\n');
const SLOW_LAUNCH = { type: 'tdx', request: 'launch', program: SLOW, entry: 'slow_main', context: 'none' };

/** A DebugClient that records every message's kind in arrival order ("response threads", "event progressStart"). */
function client(): { dc: DebugClient; order: string[]; events: DebugProtocol.Event[] } {
  const dc = new DebugClient('node', ADAPTER, 'tdx', { stdio: 'pipe' } as never);
  dc.defaultTimeout = 20_000;
  const order: string[] = [];
  const events: DebugProtocol.Event[] = [];
  const d = dc as unknown as { dispatch(body: string): void };
  const dispatch = d.dispatch.bind(d);
  d.dispatch = (body: string) => {
    const m = JSON.parse(body);
    order.push(m.type === 'event' ? `event ${m.event}` : `response ${m.command}`);
    if (m.type === 'event') events.push(m);
    dispatch(body);
  };
  return { dc, order, events };
}

const INIT = { adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' as const, supportsProgressReporting: true };

/** The launch's error message (it must fail). */
async function failure(p: Promise<unknown>): Promise<string> {
  try { await p; } catch (e) { return (e as Error).message; }
  throw new Error('the launch succeeded: the build was not interrupted');
}

async function exited(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  return new Promise((res) => p.once('exit', (code) => res(code)));
}

/** Threads of a process (Linux /proc): a worker thread left running would show here. */
function threadsOf(pid: number): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

test('stdio adapter: during a long build threads and pause are answered first, disconnect ends the build and the process', async () => {
  const { dc, order, events } = client();
  await dc.start();
  const proc = (dc as unknown as { _adapterProcess: ChildProcess })._adapterProcess;
  try {
    await dc.initializeRequest(INIT);
    const launch = failure(dc.launchRequest(SLOW_LAUNCH as never));
    const threads = await dc.threadsRequest();
    assert.deepEqual(threads.body.threads.map((t) => t.id), [1]);
    const pause = await failure(dc.pauseRequest({ threadId: 1 }));
    assert.match(pause, /being built/);
    assert.ok(!order.includes('response launch'), `the launch is still building: ${order.join(', ')}`);
    await dc.disconnectRequest({});
    assert.match(await launch, /the build was stopped by disconnect: nothing was launched/);
    assert.equal(await exited(proc), 0, 'the adapter process exits cleanly');
    const start = events.find((e) => e.event === 'progressStart');
    assert.ok(start, `a progress for the build (${order.join(', ')})`);
    assert.match(start.body.title, /Building slow\.S/);
    assert.deepEqual(order.filter((k) => k !== 'event output'),
      ['response initialize', 'event progressStart', 'response threads', 'response pause', 'event progressEnd', 'response launch', 'response disconnect']);
  } finally { if (proc.exitCode === null) await dc.stop(); }
});

test('stdio adapter: a build that completes ends its progress when the launch is answered', async () => {
  const { dc, order } = client();
  await dc.start();
  try {
    await dc.initializeRequest(INIT);
    await dc.launchRequest({ ...GUEST, stopOnEntry: true } as never);
    const i = order.indexOf('event progressEnd');
    assert.ok(order.indexOf('event progressStart') >= 0 && i >= 0, order.join(', '));
    assert.ok(i < order.indexOf('response launch'), `progress ends before the launch's answer: ${order.join(', ')}`);
    await dc.disconnectRequest({});
  } finally { await dc.stop(); }
});

test('stdio adapter: the worker writes its own answers, one numbering and the session\'s order with the bridge\'s answers', async () => {
  // Both threads write stdout (the bridge during the build, the worker after it): every frame
  // arrives whole, numbered 1, 2, 3… in arrival order, and a step's stopped event never
  // overtakes its response.
  const { dc, order } = client();
  const seqs: number[] = [];
  const d = dc as unknown as { dispatch(body: string): void };
  const dispatch = d.dispatch.bind(d);
  d.dispatch = (body: string) => { seqs.push(JSON.parse(body).seq); dispatch(body); };
  await dc.start();
  try {
    await dc.initializeRequest(INIT);
    const init = new Promise((res) => dc.once('initialized', res));
    const launch = dc.launchRequest({ ...STEPPER, entry: 'spin', stopOnEntry: true } as never);
    await dc.threadsRequest();
    await launch;
    await init;
    const entry = new Promise((res) => dc.once('stopped', res));
    await dc.configurationDoneRequest();
    await entry;
    for (let i = 0; i < 40; i++) {
      const stop = new Promise((res) => dc.once('stopped', res));
      const [next] = await Promise.all([dc.nextRequest({ threadId: 1, granularity: 'instruction' }), dc.threadsRequest()]);
      assert.equal(next.success, true);
      await stop;
      const frames = (await dc.stackTraceRequest({ threadId: 1 })).body.stackFrames;
      const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
      await dc.variablesRequest({ variablesReference: scopes[0].variablesReference });
    }
    await dc.disconnectRequest({});
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'one numbering, in arrival order');
    const steps = order.filter((k) => k === 'response next' || k === 'event stopped');
    // The entry stop, then each step's response before its stop.
    assert.deepEqual(steps, ['event stopped', ...Array.from({ length: 40 }, () => ['response next', 'event stopped']).flat()]);
  } finally { await dc.stop(); }
});

test('--server adapter: during a long build terminate ends it, the server serves on with no thread left', async () => {
  const srv = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const [port, token] = await new Promise<[number, string]>((res, rej) => {
      let err = '';
      srv.stderr!.on('data', (b: Buffer) => { err += b; const m = /listening on 127\.0\.0\.1:(\d+)\n.*token ([0-9a-f]+)/.exec(err); if (m) res([Number(m[1]), m[2]]); });
      srv.on('exit', () => rej(new Error(`adapter exited: ${err}`)));
    });
    const session = async (run: (c: ReturnType<typeof client>) => Promise<void>) => {
      const c = client();
      await c.dc.start(port);
      try { await c.dc.initializeRequest(INIT); await run(c); } finally { await c.dc.stop(); }
    };
    // A whole session first, so that whatever the process keeps for good already exists.
    await session(async ({ dc }) => {
      await dc.launchRequest({ ...GUEST, stopOnEntry: true, __serverToken: token } as never);
      await dc.disconnectRequest({});
    });
    await new Promise((r) => setTimeout(r, 200));
    const baseline = threadsOf(srv.pid!);

    await session(async ({ dc, order }) => {
      const launch = failure(dc.launchRequest({ ...SLOW_LAUNCH, __serverToken: token } as never));
      assert.deepEqual((await dc.threadsRequest()).body.threads.map((t) => t.id), [1]);
      const terminated = dc.waitForEvent('terminated');
      await dc.terminateRequest({});
      assert.match(await launch, /the build was stopped by terminate: nothing was launched/);
      await terminated;
      assert.match(await failure(dc.stackTraceRequest({ threadId: 1 })), /session has ended/);
      await dc.disconnectRequest({});
      assert.deepEqual(order.filter((k) => k !== 'event output').slice(0, 7),
        ['response initialize', 'event progressStart', 'response threads', 'event progressEnd', 'response launch', 'response terminate', 'event terminated']);
    });
    // The session's worker thread is gone (it is ended, not left to finish the build).
    const end = Date.now() + 10_000;
    while (threadsOf(srv.pid!) > baseline && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.ok(threadsOf(srv.pid!) <= baseline, `threads: ${threadsOf(srv.pid!)} after, ${baseline} before`);
    // And the server goes on serving.
    await session(async ({ dc }) => {
      const stopped = dc.waitForEvent('stopped');
      await dc.launchRequest({ ...GUEST, stopOnEntry: true, __serverToken: token } as never);
      await dc.configurationDoneRequest();
      assert.equal((await stopped).body.reason, 'entry');
      await dc.disconnectRequest({});
    });
  } finally { srv.kill(); }
});

test('the bridge in this process (the extension\'s inline mode): cancelling the build\'s progress ends the build and the session', async () => {
  const seen: DebugProtocol.ProtocolMessage[] = [];
  let closed = false;
  const bridge = new AdapterBridge({ script: join(ROOT, 'dist/debugAdapterWorker.js'), send: (m) => seen.push(m), close: () => { closed = true; } });
  const until = async (pred: (m: DebugProtocol.ProtocolMessage) => boolean): Promise<DebugProtocol.ProtocolMessage> => {
    for (let i = 0; i < 20_000; i++) {
      const m = seen.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`not seen: ${JSON.stringify(seen.map((m) => m.type))}`);
  };
  const answer = (seq: number) => until((m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq) as Promise<DebugProtocol.Response>;
  try {
    bridge.handle({ type: 'request', seq: 1, command: 'initialize', arguments: INIT });
    assert.equal((await answer(1)).success, true);
    bridge.handle({ type: 'request', seq: 2, command: 'launch', arguments: SLOW_LAUNCH });
    const start = await until((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'progressStart') as DebugProtocol.ProgressStartEvent;
    assert.equal(start.body.cancellable, true);
    bridge.handle({ type: 'request', seq: 3, command: 'cancel', arguments: { progressId: start.body.progressId } });
    const launch = await answer(2);
    assert.equal(launch.success, false);
    assert.match(launch.message!, /the build was stopped by cancel: nothing was launched/);
    assert.equal((await answer(3)).success, true);
    await until((m) => m.type === 'event' && (m as DebugProtocol.Event).event === 'terminated');
    bridge.handle({ type: 'request', seq: 4, command: 'disconnect', arguments: {} });
    assert.equal((await answer(4)).success, true);
    assert.equal(closed, true, 'the session is over');
    // One sequence of numbers for the worker's messages and the bridge's own.
    const seqs = seen.map((m) => m.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
  } finally { bridge.clientGone(); }
});
