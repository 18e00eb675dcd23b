// The DAP session: routes each request to its module and owns the debuggee's lifecycle
// (launch, configuration, running, stopped, ended). One wrapper (`dispatchRequest`) answers
// every request — a body or an error response, never silence — and runs the work a request
// schedules (a run, a stop event) only after its response has gone out.
// Size (over 450 lines): the one class that routes every request and holds the lifecycle state
// the handlers share; each request family's logic lives in its own module.

// node:crypto is required where used: loading it costs a worker thread ~7 ms at start.
import { basename } from 'node:path';
import { ContinuedEvent, DebugSession, Event, InitializedEvent, OutputEvent, ProgressEndEvent, ProgressStartEvent, ProgressUpdateEvent, Response, StoppedEvent, TerminatedEvent, ExitedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { PlatformEvent } from '../emulator/platform/events';
import { formatCallLine } from '../emulator/platform/format';
import { Breakpoints, EXCEPTION_FILTERS } from './breakpoints';
import { disassembleRequest } from './disassembly';
import { needs, staleReference, programEnded, notConfigured, ErrorCode, silentError, userError, AdapterError, need } from './errors';
import { Evaluator } from './expressions';
import { validateArguments } from './validate';
import { hex, parseAddress } from './format';
import { createTarget } from './launch';
import { readMemory, writeMemory } from './memory';
import { completions, evaluate, setExpression } from './repl';
import { Runner, type Outcome, type StepKind, type StopInfo } from './runControl';
import { stackTrace, type FrameInfo } from './stack';
import type { Target } from './target';
import type { StandardArgs } from './protocol';
import { TDX_REQUESTS } from './tdxRequests';
import { TimeTravel, type ProgressSink } from './timeTravel';
import { TRAVEL_REQUESTS, type TravelHost } from './travelRequests';
import { Variables } from './variables';

const THREAD_ID = 1;

type State = 'idle' | 'configuring' | 'running' | 'stopped' | 'ended';
type Args = Record<string, unknown>;
type Handler = (args: Args, request: DebugProtocol.Request) => unknown;

type StandardHandlers = { [C in keyof StandardArgs]: (args: StandardArgs[C], request: DebugProtocol.Request) => unknown };

/** Capabilities (the DAP specification: every "yes"). */
export const CAPABILITIES: DebugProtocol.Capabilities = {
  supportsConfigurationDoneRequest: true,
  supportsFunctionBreakpoints: true,
  supportsConditionalBreakpoints: true,
  supportsHitConditionalBreakpoints: true,
  supportsLogPoints: true,
  supportsInstructionBreakpoints: true,
  supportsDataBreakpoints: true,
  supportsDataBreakpointBytes: true,
  exceptionBreakpointFilters: EXCEPTION_FILTERS,
  supportsExceptionFilterOptions: true,
  supportsExceptionInfoRequest: true,
  supportsStepBack: true,
  supportsSteppingGranularity: true,
  supportsDisassembleRequest: true,
  supportsReadMemoryRequest: true,
  supportsWriteMemoryRequest: true,
  supportsSetVariable: true,
  supportsSetExpression: true,
  supportsEvaluateForHovers: true,
  supportsCompletionsRequest: true,
  completionTriggerCharacters: ['.', '[', '$'],
  supportsValueFormattingOptions: true,
  supportsGotoTargetsRequest: true,
  supportsRestartRequest: true,
  supportsTerminateRequest: true,
  supportTerminateDebuggee: true,
  supportsCancelRequest: true,
  supportsDelayedStackTraceLoading: true,
  supportsBreakpointLocationsRequest: true,
  supportsLoadedSourcesRequest: true,
  supportsModulesRequest: true,
  supportsClipboardContext: true,
};

/** Constant-time comparison of a presented token with the server's. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && (require('node:crypto') as typeof import('node:crypto')).timingSafeEqual(x, y);
}

/** Launch arguments without the server token (it is no launch attribute of the program). */
function withoutToken(args: Args): Args {
  if (!('__serverToken' in args)) return args;
  const { __serverToken: _, ...rest } = args;
  return rest;
}

export class TdxDebugSession extends DebugSession {
  private state: State = 'idle';
  private client = {} as DebugProtocol.InitializeRequestArguments;
  private launchArgs: Args = {};
  private t?: Target;
  private bps?: Breakpoints;
  private runner?: Runner;
  private vars?: Variables;
  /** Reverse execution of the current debuggee (a restart starts a new history). */
  private tt?: TimeTravel;
  private run?: { promise: Promise<void>; requestSeq: number };
  private lastStop?: StopInfo;
  private readonly frames = new Map<number, FrameInfo>();
  private readonly gotoTargets = new Map<number, bigint>();
  /** Work to do after the current response is sent (runs, stop events). */
  private after: (() => void)[] = [];
  private readonly handlers: Record<string, Handler>;
  /** Served on a socket: the token every session's launch must present (see server.ts). */
  private token?: string;
  private authenticated = false;
  /** Called to drop the connection (server mode: a wrong token ends it). */
  private hangUp?: () => void;
  /** The progress a long travel reports now (cancel with its id pauses the travel). */
  private progressId?: string;
  private progressCount = 0;

  constructor(debuggerLinesAndColumnsStartAt1?: boolean, isServer?: boolean) {
    super(debuggerLinesAndColumnsStartAt1, isServer);
    // The protocol layer reports unparsable input as an 'error' event and the base class shuts
    // the process down on it: one bad message from a client must not end the session.
    this.removeAllListeners('error');
    this.on('error', (e: { body?: unknown }) => process.stderr.write(`tdx debug adapter: ${String(e.body ?? e)}\n`));
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    const standard: StandardHandlers = {
      initialize: (a) => this.initialize(a),
      launch: (a) => this.launch(a),
      attach: () => { throw userError(ErrorCode.Unsupported, 'attach is not supported: the TDX debugger launches its own emulated machine (use "request": "launch")'); },
      configurationDone: () => this.configurationDone(),
      setBreakpoints: (a) => ({ breakpoints: this.need().bps.setSource(a) }),
      setFunctionBreakpoints: (a) => ({ breakpoints: this.need().bps.setFunctions(a) }),
      setInstructionBreakpoints: (a) => ({ breakpoints: this.need().bps.setInstructions(a) }),
      setExceptionBreakpoints: (a) => ({ breakpoints: this.need().bps.setExceptions(a) }),
      dataBreakpointInfo: (a) => this.dataBreakpointInfo(a),
      setDataBreakpoints: (a) => ({ breakpoints: this.need().bps.setData(a) }),
      breakpointLocations: (a) => ({ breakpoints: this.need().bps.locations(a) }),
      threads: () => ({ threads: [{ id: THREAD_ID, name: this.t ? `vCPU 0 (${{ guest: 'TD guest', host: 'VMX-root host', none: 'no VMX' }[this.t.session.context]})` : 'vCPU 0' }] }),
      stackTrace: (a) => stackTrace(this.stopped().t, a, this.frames),
      scopes: (a) => this.scopes(a),
      variables: (a) => this.variables(a),
      setVariable: (a) => this.setVariable(a),
      setExpression: (a) => this.afterWrite(setExpression(this.stopped().t, this.stopped().vars, a), `${String(a.expression)} = ${String(a.value)}`),
      evaluate: (a) => this.evaluate(a),
      completions: (a) => completions(this.stopped().t, a, this.client.columnsStartAt1 !== false),
      source: (a) => this.source(a),
      loadedSources: () => ({ sources: [...this.need().t.session.image.sources.keys()].map((f) => this.need().t.source(f)) }),
      modules: () => this.modules(),
      continue: (_a, r) => this.resume(r.seq, () => this.runner!.continue()),
      next: (a, r) => this.resume(r.seq, () => this.runner!.step('next', a.granularity)),
      stepIn: (a, r) => this.resume(r.seq, () => this.runner!.step('stepIn', a.granularity)),
      stepOut: (a, r) => this.resume(r.seq, () => this.runner!.step('stepOut' as StepKind, a.granularity)),
      pause: () => this.pause(),
      restart: (a) => this.restart(a),
      terminate: () => this.terminate(),
      disconnect: () => this.disconnect(),
      gotoTargets: (a) => this.gotoTargetsList(a),
      goto: (a) => this.goto(a),
      exceptionInfo: () => this.exceptionInfo(),
      disassemble: (a) => disassembleRequest(this.stopped().t, a),
      readMemory: (a) => readMemory(this.stopped().t, a),
      writeMemory: (a) => this.writeMemory(a),
      cancel: (a) => this.cancel(a),
      stepBack: (a, r) => { const tt = this.travel().tt; this.startRun(r.seq, () => tt.step(a.granularity === 'instruction' ? 'instruction' : 'over')); },
      reverseContinue: (_a, r) => { const tt = this.travel().tt; this.startRun(r.seq, () => tt.reverseContinue()); },
    };
    // The wire is untyped: the one place its arguments become each request's declared type.
    this.handlers = { ...(standard as unknown as Record<string, Handler>) };
    for (const [cmd, h] of Object.entries(TDX_REQUESTS)) {
      this.handlers[cmd] = (a) => {
        const x = this.need();
        return h({ target: x.t, variables: x.vars, log: (s, c) => this.log(s, c), edited: (label) => this.tt?.edited(label), history: this.tt?.timeline }, a);
      };
    }
    for (const [cmd, h] of Object.entries(TRAVEL_REQUESTS)) this.handlers[cmd] = (a, r) => h(this.travelHost(r.seq), a);
  }

  // ---- the one wrapper ----------------------------------------------------------------------

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    const response = new Response(request);
    const done = (body: unknown) => {
      if (body !== undefined && body !== null) (response as DebugProtocol.Response).body = body;
      this.sendResponse(response);
      const work = this.after;
      this.after = [];
      for (const w of work) w();
    };
    let result: unknown;
    try {
      const handler = typeof request.command === 'string' && Object.prototype.hasOwnProperty.call(this.handlers, request.command) ? this.handlers[request.command] : undefined;
      if (!handler) throw silentError(ErrorCode.Unsupported, `unrecognized request "${String(request.command).slice(0, 80)}"`);
      const args = request.arguments;
      if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) throw silentError(ErrorCode.BadArguments, `"arguments" of ${request.command} must be an object`);
      this.authenticate(request.command, (args ?? {}) as Args);
      validateArguments(request.command, (args ?? {}) as Args);
      result = handler(withoutToken((args ?? {}) as Args), request);
    } catch (e) {
      this.fail(response, e);
      return;
    }
    if (result instanceof Promise) result.then(done, (e) => this.fail(response, e));
    else done(result);
  }

  /**
   * Server mode: until a launch presents the server's token, only initialize and disconnect are
   * served; a launch with a wrong or missing token is refused and the connection closed.
   */
  private authenticate(command: string, args: Args): void {
    if (this.token === undefined || this.authenticated || command === 'initialize' || command === 'disconnect') return;
    if (command === 'launch' && typeof args.__serverToken === 'string' && sameToken(args.__serverToken, this.token)) { this.authenticated = true; return; }
    // After the error response has gone out (writes are queued in order).
    if (command === 'launch') setImmediate(() => this.hangUp?.());
    throw userError(ErrorCode.Unauthorized, command === 'launch'
      ? `this debug adapter serves a socket and needs the token it printed at start: pass it as the launch attribute "__serverToken" (the extension takes it from TDX_DEBUG_SERVER_TOKEN)${args.__serverToken === undefined ? '' : ' — the token given is wrong'}; closing the connection`
      : `"${command.slice(0, 80)}" before an authenticated launch: this debug adapter serves a socket and needs its token first`);
  }

  /** Serve on a socket: sessions must present `token`; `hangUp` closes the connection. */
  requireToken(token: string, hangUp: () => void): void {
    this.token = token;
    this.hangUp = hangUp;
  }

  override handleMessage(msg: DebugProtocol.ProtocolMessage): void {
    const m = msg as unknown as Record<string, unknown>;
    if (typeof m !== 'object' || m === null) return;
    if (m.type === 'request' && (typeof m.command !== 'string' || typeof m.seq !== 'number')) {
      // Unanswerable as it stands: answer what can be, so the client learns what was wrong.
      const r = new Response({ seq: typeof m.seq === 'number' ? m.seq : 0, command: typeof m.command === 'string' ? m.command : String(m.command ?? '') } as DebugProtocol.Request);
      this.sendErrorResponse(r, { id: ErrorCode.BadArguments, format: 'a request needs a numeric "seq" and a string "command"', showUser: false });
      return;
    }
    super.handleMessage(msg);
  }

  private fail(response: DebugProtocol.Response, e: unknown): void {
    this.after = [];
    let err: AdapterError;
    if (e instanceof AdapterError) err = e;
    else {
      // A bug: answer with what went wrong and log the stack; the session goes on.
      const stack = e instanceof Error ? e.stack ?? e.message : String(e);
      process.stderr.write(`tdx debug adapter: internal error in ${response.command}: ${stack}\n`);
      this.log(`internal error in ${response.command}: ${e instanceof Error ? e.message : String(e)}\n`, 'stderr');
      err = new AdapterError(ErrorCode.Internal, `internal error in ${response.command}: ${e instanceof Error ? e.message : String(e)}`, true);
    }
    this.sendErrorResponse(response, { id: err.code, format: err.message, showUser: err.showUser, variables: {} });
  }

  private log(text: string, category = 'console'): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  private need(): { t: Target; bps: Breakpoints; runner: Runner; vars: Variables } {
    if (!this.t || !this.bps || !this.runner || !this.vars) throw silentError(ErrorCode.NotLaunched, 'no program is being debugged (launch first)');
    return { t: this.t, bps: this.bps, runner: this.runner, vars: this.vars };
  }

  private stopped(): { t: Target; bps: Breakpoints; runner: Runner; vars: Variables } {
    const x = this.need();
    if (this.state === 'running') throw silentError(ErrorCode.NotStopped, 'the program is running (pause it first)');
    return x;
  }

  /** A run (forward or back) needs a debuggee that has not ended and is configured. */
  private mayRun(): void {
    if (this.state === 'ended') throw programEnded();
    if (this.state === 'configuring') throw notConfigured();
  }

  /** The stopped debuggee's time travel: reverse requests need a stop to travel from. */
  private travel(): { tt: TimeTravel; target: Target } {
    const { t } = this.stopped();
    this.mayRun();
    this.frames.clear();
    return { tt: this.tt!, target: t };
  }

  private travelHost(seq: number): TravelHost {
    return {
      travel: () => this.travel(),
      report: (o) => this.after.push(() => this.report(o)),
      travelRun: (work) => this.startRun(seq, work),
      resume: () => {
        this.after.push(() => this.sendEvent(new ContinuedEvent(THREAD_ID, true)));
        this.startRun(seq, () => this.runner!.continue());
      },
    };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  private initialize(args: DebugProtocol.InitializeRequestArguments): DebugProtocol.Capabilities {
    this.client = args;
    return CAPABILITIES;
  }

  private async launch(args: Args): Promise<void> {
    if (this.t) throw userError(ErrorCode.BadArguments, 'a program is already being debugged in this session');
    this.launchArgs = args;
    this.attachTarget(await createTarget(args, (line) => this.log(`${line}\n`)));
    this.state = 'configuring';
    const t = this.t!;
    this.after.push(() => {
      this.log(`${t.session.context} context, entry ${t.session.entry.name} (${hex(t.session.entry.address)}), ${basename(t.session.programPath)}\n`);
      this.sendEvent(new InitializedEvent());
    });
  }

  private attachTarget(t: Target): void {
    this.t = t;
    if (this.bps) this.bps.rebind(t); else this.bps = new Breakpoints(t, (s, c) => this.log(s, c));
    if (this.vars) this.vars.rebind(t); else this.vars = new Variables(t);
    this.runner = new Runner(t, this.bps);
    this.tt = new TimeTravel(t, this.bps, this.runner);
    if (this.client.supportsProgressReporting) this.tt.progress = this.progressSink();
    t.session.onEvent((e) => { if (this.t === t) this.onPlatformEvent(e); });
    // What the launch decided before any listener: the undefined data symbols and their values.
    for (const n of t.session.notes) if (n.kind === 'stub' && n.name.startsWith('undefined data symbol')) this.log(`${n.name}: ${n.text}\n`, 'console');
  }

  private onPlatformEvent(e: PlatformEvent): void {
    switch (e.kind) {
      case 'call': this.log(formatCallLine(e.call) + '\n', 'console'); return;
      case 'fixup': this.log(e.message + '\n', 'console'); return;
      case 'log': this.log(e.text.endsWith('\n') ? e.text : e.text + '\n', 'stdout'); return;
      case 'stub': this.log(e.text.endsWith('\n') ? e.text : e.text + '\n', 'console'); return;
    }
  }

  private configurationDone(): void {
    const { runner } = this.need();
    if (this.state !== 'configuring') return;
    this.state = 'stopped';
    if (this.t!.session.config.stopOnEntry) this.after.push(() => this.report(runner.entryStop()));
    else this.startRun(-1, () => runner.continue(this.t!.session.config.stopOnCall === true));
  }

  /** continue / next / stepIn / stepOut: answer, then run. */
  private resume(seq: number, work: () => Promise<Outcome>): DebugProtocol.ContinueResponse['body'] | undefined {
    this.need();
    if (this.state === 'running') throw silentError(ErrorCode.NotStopped, 'the program is already running');
    this.mayRun();
    this.startRun(seq, work);
    return { allThreadsContinued: true };
  }

  private startRun(requestSeq: number, work: () => Promise<Outcome>): void {
    this.state = 'running';
    this.frames.clear();
    const runner = this.runner!;
    const promise = new Promise<void>((resolve) => {
      // After the response: a request's stop event must never overtake its response.
      this.after.push(() => {
        work().then((o) => { if (!runner.aborted) this.report(o); }, (e) => {
          process.stderr.write(`tdx debug adapter: internal error while running: ${e instanceof Error ? e.stack : String(e)}\n`);
          this.log(`internal error while running: ${e instanceof Error ? e.message : String(e)}\n`, 'stderr');
          if (!runner.aborted) this.report({ kind: 'stop', stop: { reason: 'exception', description: 'internal error in the debugger (see the Debug Console)' } });
        }).finally(resolve);
      });
    });
    this.run = { promise, requestSeq };
    promise.then(() => { if (this.run?.promise === promise) this.run = undefined; });
  }

  private report(o: Outcome): void {
    if (o.kind === 'end') {
      this.state = 'ended';
      if (o.message) this.log(o.message + '\n', o.category);
      this.sendEvent(new ExitedEvent(o.exitCode));
      this.sendEvent(new TerminatedEvent());
      return;
    }
    this.state = 'stopped';
    this.lastStop = o.stop;
    // Where the kernel would oops or panic, the message belongs in the Debug Console too.
    if (o.stop.exception?.breakMode === 'unhandled' && o.stop.text) this.log(o.stop.text + '\n', 'stderr');
    this.vars!.onStop();
    const ev = new StoppedEvent(o.stop.reason, THREAD_ID) as DebugProtocol.StoppedEvent;
    ev.body.description = o.stop.description;
    if (o.stop.text) ev.body.text = o.stop.text;
    if (o.stop.hitBreakpointIds) ev.body.hitBreakpointIds = o.stop.hitBreakpointIds;
    ev.body.allThreadsStopped = true;
    this.sendEvent(ev);
  }

  private async abortRun(): Promise<void> {
    if (!this.run || !this.runner) return;
    this.runner.aborted = true;
    await this.run.promise;
  }

  private pause(): void {
    this.need();
    if (this.state === 'running') this.runner!.pauseRequested = true;
  }

  private cancel(args: DebugProtocol.CancelArguments): void {
    if (!this.run || !this.runner) return;
    if (args.progressId !== undefined ? args.progressId === this.progressId : args.requestId === undefined || args.requestId === this.run.requestSeq) this.runner.pauseRequested = true;
  }

  /** The progress of a long travel, as DAP progress events (cancellable: cancel pauses it). */
  private progressSink(): ProgressSink {
    return {
      start: (title) => {
        this.progressId = `tdx-travel-${++this.progressCount}`;
        this.sendEvent(new ProgressStartEvent(this.progressId, title, undefined));
      },
      update: (percentage, message) => {
        if (!this.progressId) return;
        const e = new ProgressUpdateEvent(this.progressId, message) as DebugProtocol.ProgressUpdateEvent;
        e.body.percentage = percentage;
        this.sendEvent(e);
      },
      end: (message) => {
        if (!this.progressId) return;
        this.sendEvent(new ProgressEndEvent(this.progressId, message));
        this.progressId = undefined;
      },
    };
  }

  private async restart(args: DebugProtocol.RestartArguments): Promise<void> {
    this.need();
    await this.abortRun();
    const cfg = args.arguments && typeof args.arguments === 'object' ? withoutToken(args.arguments as Args) : this.launchArgs;
    const t = await createTarget(cfg, (line) => this.log(`${line}\n`));
    this.launchArgs = cfg;
    this.attachTarget(t);
    this.lastStop = undefined;
    this.state = 'stopped';
    if (t.session.config.stopOnEntry) this.after.push(() => this.report(this.runner!.entryStop()));
    else this.startRun(-1, () => this.runner!.continue(t.session.config.stopOnCall === true));
  }

  private async terminate(): Promise<void> {
    await this.abortRun();
    this.state = 'ended';
    this.after.push(() => this.sendEvent(new TerminatedEvent()));
  }

  private async disconnect(): Promise<void> {
    await this.abortRun();
    this.state = 'ended';
    this.after.push(() => this.shutdown());
  }

  // ---- inspection ----------------------------------------------------------------------------

  private scopes(args: DebugProtocol.ScopesArguments): DebugProtocol.ScopesResponse['body'] {
    const { vars } = this.stopped();
    need(args.frameId, 'frameId');
    if (this.frames.size && !this.frames.has(args.frameId)) throw staleReference(`frame ${args.frameId}`);
    return { scopes: vars.scopes() };
  }

  private variables(args: DebugProtocol.VariablesArguments): DebugProtocol.VariablesResponse['body'] {
    const { vars } = this.stopped();
    vars.hex = args.format?.hex !== false;
    const all = vars.container(need(args.variablesReference, 'variablesReference')).children();
    const start = Number.isInteger(args.start) && args.start! > 0 ? args.start! : 0;
    const count = Number.isInteger(args.count) && args.count! > 0 ? args.count! : all.length;
    return { variables: all.slice(start, start + count) };
  }

  private setVariable(args: DebugProtocol.SetVariableArguments): DebugProtocol.SetVariableResponse['body'] {
    const { vars } = this.stopped();
    if (typeof args.name !== 'string' || typeof args.value !== 'string') throw needs('setVariable', '"name" and "value"');
    const c = vars.container(need(args.variablesReference, 'variablesReference'));
    if (!c.set) throw userError(ErrorCode.BadArguments, `${args.name} cannot be changed`);
    return this.afterWrite(c.set(args.name, args.value), `${args.name} = ${args.value}`);
  }

  /**
   * After a write: history ahead no longer follows (in the past this forks a what-if branch),
   * and the client should refresh what it shows (if it understands invalidated).
   */
  private afterWrite<T>(body: T, label: string): T {
    this.tt?.edited(label);
    if (this.client.supportsInvalidatedEvent) this.after.push(() => this.sendEvent(new Event('invalidated', { areas: ['variables'], threadId: THREAD_ID })));
    return body;
  }

  private evaluate(args: DebugProtocol.EvaluateArguments): DebugProtocol.EvaluateResponse['body'] {
    const { t, vars } = this.stopped();
    const body = evaluate(t, vars, args);
    if (/(^|[^=!<>])=($|[^=])/.test(args.expression)) this.afterWrite(undefined, args.expression);
    return body;
  }

  private dataBreakpointInfo(args: DebugProtocol.DataBreakpointInfoArguments): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const { t, vars } = this.stopped();
    if (typeof args.name !== 'string') throw needs('dataBreakpointInfo', 'a "name"');
    const none = { dataId: null, description: `no memory behind "${args.name}"` };
    if (args.asAddress) {
      const a = parseAddress(args.name) ?? (() => { try { return new Evaluator(t).evaluateInt(args.name); } catch { return undefined; } })();
      return a === undefined ? none : Breakpoints.dataInfo(a, Number.isInteger(args.bytes) && args.bytes! > 0 ? args.bytes! : 8, hex(a));
    }
    if (args.variablesReference) {
      const d = vars.container(args.variablesReference).data?.(args.name);
      return d ? Breakpoints.dataInfo(d.address, d.size, d.label) : none;
    }
    try {
      const v = new Evaluator(t).evaluate(args.name);
      if (v.kind === 'struct') return Breakpoints.dataInfo(v.address, 'size' in v.layout ? v.layout.size : 8, args.name);
      if (v.lvalue?.kind === 'mem') return Breakpoints.dataInfo(v.lvalue.address, v.lvalue.size, args.name);
      if (v.lvalue?.kind === 'reg') return Breakpoints.dataInfo(v.value, 8, `*${args.name}`);
    } catch { /* not an expression with memory behind it */ }
    return none;
  }

  private source(args: DebugProtocol.SourceArguments): DebugProtocol.SourceResponse['body'] {
    const { t } = this.need();
    const file = t.fileOf(args.source ?? (args.sourceReference ? { sourceReference: args.sourceReference } : undefined));
    const text = file ? t.sourceText(file) : undefined;
    if (text === undefined) throw silentError(ErrorCode.StaleReference, `no source for reference ${args.sourceReference}`);
    return { content: text, mimeType: 'text/x-asm' };
  }

  private modules(): DebugProtocol.ModulesResponse['body'] {
    const { t } = this.need();
    const secs = t.session.image.sections.filter((s) => s.alloc && s.bytes.length);
    const lo = secs.reduce((m, s) => (s.address < m ? s.address : m), secs[0]?.address ?? 0n);
    const hi = secs.reduce((m, s) => (s.address + BigInt(s.bytes.length) > m ? s.address + BigInt(s.bytes.length) : m), 0n);
    return { modules: [{ id: 1, name: basename(t.session.programPath), path: t.session.programPath, isOptimized: false, symbolStatus: 'symbols loaded', addressRange: `${hex(lo)}-${hex(hi)}` }], totalModules: 1 };
  }

  private exceptionInfo(): DebugProtocol.ExceptionInfoResponse['body'] {
    this.stopped();
    const x = this.lastStop?.exception;
    if (!x) throw silentError(ErrorCode.NotStopped, 'the program did not stop on an exception');
    const details: string[] = [];
    if (x.vector !== undefined) details.push(`vector ${x.vector}${x.errorCode !== undefined ? `, error code ${x.errorCode}` : ''}`);
    const call = x.call ?? x.after;
    details.push(x.injected ? `${x.call ? '' : 'after a call '}injected by fault rule '${call?.rule}'` : 'natural (not injected)');
    if (x.call) details.push(`call #${x.call.seq} at ${x.call.site ?? hex(x.call.address)}`);
    else if (x.after) details.push(`raised at ${x.at ?? 'another instruction'}, after call #${x.after.seq} at ${x.after.site ?? hex(x.after.address)}`);
    if (x.fixup) details.push(x.fixup.handled ? `handled by the exception table: resumes at ${x.fixup.to !== undefined ? this.t!.session.describe(x.fixup.to) : 'the fixup'}` : 'no exception-table entry: unhandled');
    return {
      exceptionId: x.filter, description: x.message, breakMode: x.breakMode,
      details: { message: x.message, typeName: x.name, fullTypeName: details.join('; '), evaluateName: x.vector !== undefined ? '$rip' : undefined },
    };
  }

  private gotoTargetsList(args: DebugProtocol.GotoTargetsArguments): DebugProtocol.GotoTargetsResponse['body'] {
    const { t } = this.stopped();
    const file = t.fileOf(args.source);
    if (!file || !Number.isInteger(args.line)) throw needs('gotoTargets', '"source" and "line"');
    this.gotoTargets.clear();
    const addrs = t.linesOf(file).get(args.line) ?? [];
    return {
      targets: addrs.map((a, i) => {
        this.gotoTargets.set(i + 1, a);
        return { id: i + 1, label: `${basename(file)}:${args.line} (${t.session.describe(a)})`, line: args.line, instructionPointerReference: hex(a) };
      }),
    };
  }

  private goto(args: DebugProtocol.GotoArguments): void {
    const { runner } = this.stopped();
    const a = this.gotoTargets.get(args.targetId);
    if (a === undefined) throw silentError(ErrorCode.StaleReference, `goto target ${args.targetId} is not valid (ask gotoTargets first)`);
    const stop = runner.goto(a);
    this.tt?.edited(`goto ${hex(a)}`);
    this.after.push(() => this.report({ kind: 'stop', stop }));
  }

  private writeMemory(args: DebugProtocol.WriteMemoryArguments): DebugProtocol.WriteMemoryResponse['body'] {
    const { t } = this.stopped();
    const r = writeMemory(t, args);
    if (this.client.supportsMemoryEvent && r.length) this.after.push(() => this.sendEvent(new Event('memory', { memoryReference: hex(r.address), offset: 0, count: r.length })));
    return this.afterWrite(r.body, `memory at ${hex(r.address)}`);
  }
}
