// DAP test harness: a DebugClient over stdio against the real adapter (dist/debugAdapter.js)
// that records every event from the start, so a test can ask for "the next stopped event"
// without racing the adapter. Expected values in the tests come from the example sources
// (line numbers found by text), the TDX references and GNU as — never from the adapter.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

/** The repository root (tests run bundled from out/test/dap). */
export const ROOT = [resolve(__dirname, '../../..'), resolve(__dirname, '../..')].find((d) => {
  try { readFileSync(join(d, 'package.json')); return true; } catch { return false; }
})!;
export const ADAPTER = join(ROOT, 'dist/debugAdapter.js');
export const HYPERCALL = join(ROOT, 'examples/hypercall.S');
export const SEAMCALL = join(ROOT, 'examples/seamcall.S');
export const STEPS = join(ROOT, 'test/dap/fixtures/steps.S');
export const BAD = join(ROOT, 'test/dap/fixtures/bad.S');

/** The struct argument of the MapGPA example (GHCI: R11 = 0x10001, R12 = GPA, R13 = size). */
export const MAP_GPA = { struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } };
export const GUEST = { type: 'tdx', request: 'launch', program: HYPERCALL, entry: 'tdx_hypercall', context: 'guest', args: [MAP_GPA] };
export const HOST = { type: 'tdx', request: 'launch', program: SEAMCALL, entry: 'tdx_sys_init', context: 'host' };
export const STEPPER = { type: 'tdx', request: 'launch', program: STEPS, entry: 'steps_main', args: [10] };

/** 1-based line of the `nth` line of `file` that contains `needle`. */
export function lineOf(file: string, needle: string | RegExp, nth = 1): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (typeof needle === 'string' ? lines[i].includes(needle) : needle.test(lines[i])) { if (++seen === nth) return i + 1; }
  }
  throw new Error(`"${needle}" not found in ${file}`);
}

/** Sessions still open: a failed assertion must not leave an adapter process keeping the test file alive. */
const open = new Set<Dap>();
after(async () => { for (const d of [...open]) await d.close(); });

export class Dap {
  readonly dc: DebugClient;
  readonly events: DebugProtocol.Event[] = [];
  readonly order: string[] = [];
  private cursors = new Map<string, number>();

  constructor() {
    this.dc = new DebugClient('node', ADAPTER, 'tdx', { stdio: 'pipe' } as never, !!process.env.TDX_DAP_STDERR);
    this.dc.defaultTimeout = 10_000;
    // Every message in arrival order ("response next", "event stopped"), to check that a run
    // request's response precedes the stop it causes.
    const dc = this.dc as unknown as { dispatch(body: string): void };
    const dispatch = dc.dispatch.bind(dc);
    dc.dispatch = (body: string) => {
      try { const m = JSON.parse(body); this.order.push(m.type === 'event' ? `event ${m.event}` : `${m.type} ${m.command}`); } catch { /* not ours to judge */ }
      dispatch(body);
    };
    for (const e of ['stopped', 'terminated', 'exited', 'output', 'initialized', 'memory', 'invalidated', 'breakpoint']) {
      this.dc.on(e, (ev: DebugProtocol.Event) => this.events.push(ev));
    }
  }

  static async start(init: Partial<DebugProtocol.InitializeRequestArguments> = {}): Promise<Dap> {
    const d = new Dap();
    open.add(d);
    await d.dc.start();
    await d.dc.initializeRequest({ adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsInvalidatedEvent: true, supportsMemoryEvent: true, ...init });
    return d;
  }

  /** The next event named one of `names` not returned before (names share one cursor). */
  async next(names: string | string[], timeout = 10_000): Promise<DebugProtocol.Event> {
    const list = Array.isArray(names) ? names : [names];
    const key = list.join('|');
    const end = Date.now() + timeout;
    for (;;) {
      const from = this.cursors.get(key) ?? 0;
      const i = this.events.findIndex((e, k) => k >= from && list.includes(e.event));
      if (i >= 0) { this.cursors.set(key, i + 1); return this.events[i]; }
      if (Date.now() > end) throw new Error(`no ${key} event within ${timeout} ms (events: ${this.events.map((e) => e.event).join(' ')})`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async stopped(): Promise<DebugProtocol.StoppedEvent> {
    const e = await this.next(['stopped', 'terminated']);
    if (e.event !== 'stopped') throw new Error(`expected a stop, the session ended (output: ${this.output()})`);
    return e as DebugProtocol.StoppedEvent;
  }

  output(): string {
    return this.events.filter((e) => e.event === 'output').map((e) => e.body.output).join('');
  }

  /** launch → initialized → `setup` (breakpoints) → configurationDone. */
  async launch(config: Record<string, unknown>, setup?: (d: Dap) => Promise<void>): Promise<void> {
    await this.dc.launchRequest(config as DebugProtocol.LaunchRequestArguments);
    await this.next('initialized');
    if (setup) await setup(this);
    await this.dc.configurationDoneRequest();
  }

  async top(): Promise<DebugProtocol.StackFrame> {
    return (await this.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0];
  }

  async scope(name: string): Promise<DebugProtocol.Variable[]> {
    const f = await this.top();
    const s = (await this.dc.scopesRequest({ frameId: f.id })).body.scopes.find((x) => x.name === name);
    if (!s) throw new Error(`no scope ${name}`);
    return (await this.dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  }

  async children(v: DebugProtocol.Variable | undefined): Promise<DebugProtocol.Variable[]> {
    if (!v || !v.variablesReference) throw new Error(`${v?.name} has no children`);
    return (await this.dc.variablesRequest({ variablesReference: v.variablesReference })).body.variables;
  }

  async eval(expression: string, context = 'repl'): Promise<string> {
    const f = await this.top();
    return (await this.dc.evaluateRequest({ expression, frameId: f.id, context })).body.result;
  }

  /** An error response's message (the request must fail). */
  async fails(p: Promise<unknown>): Promise<string> {
    try { await p; } catch (e) { return (e as Error).message; }
    throw new Error('the request succeeded, an error was expected');
  }

  async close(): Promise<void> {
    open.delete(this);
    await this.dc.stop();
  }
}

export function byName(vs: DebugProtocol.Variable[], name: string): DebugProtocol.Variable {
  const v = vs.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name} among ${vs.map((x) => x.name).join(', ')}`);
  return v;
}
