// The adapter's front thread. Every way of running the adapter (the stdio process, each
// `--server` connection, the extension's inline mode) keeps the session on a worker thread
// (dist/debugAdapterWorker.js) and talks to the client from here. A launch or restart builds,
// assembles and loads on the worker in one stretch of work that may take seconds or minutes
// (a big .S, a kernel build); meanwhile this thread answers every request itself — `threads`,
// `pause`, anything else with a clear error — and `disconnect`, `terminate` or a `cancel` of the
// launch end the worker at once, so the build stops and the session ends cleanly. A client that
// reports progress sees the build as one cancellable progress (its output lines as updates).
// If the worker dies (a heap limit, a crash), the session ends with the reason.
// On stdio (`fd`) the worker writes its own answers to the stream (sharedOut.ts): a step's
// answers reach the client without waking this thread; the messages this thread must see (a
// launch's response, anything during a build, the disconnect's) still come through it.

import { Worker } from 'node:worker_threads';
import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ErrorCode } from './errors';
import type { FrameIssue } from './framing';
import { FRONT, SharedOut, sharedState } from './sharedOut';

/** The worker's message asking to drop the connection (a server session's bad token). */
export const HANG_UP = 'tdx-bridge-hang-up';

/** What the worker is started with (workerData). */
export interface WorkerOptions {
  /** Server mode: the token every launch must present. */
  token?: string;
  /** Stdio: the stream the worker writes its answers to itself, and the state it shares with this thread (sharedOut.ts). */
  out?: { fd: number; shared: SharedArrayBuffer };
}

export interface BridgeOptions {
  /** Server mode: the token every launch must present. */
  token?: string;
  /** The worker script (dist/debugAdapterWorker.js). */
  script: string;
  /** Sends a message to the client (unless `fd`). */
  send?(message: DebugProtocol.ProtocolMessage): void;
  /** The client's stream (stdio: 1): both threads write their frames to it (sharedOut.ts). */
  fd?: number;
  /** The session is over (disconnect answered, client gone): stdio exits. Called once. */
  close(): void;
  /** Drops the connection (a server session's launch without its token); default: close. */
  hangUp?(): void;
  /** The worker's heap cap (MiB); default: Node's. */
  heapMb?: number;
  /** A line for the adapter's own log (stderr). */
  log?(line: string): void;
}

type Request = { type: 'request'; seq: number; command: string; arguments?: Record<string, unknown> };

export class AdapterBridge {
  private worker?: Worker;
  /** Requests handed to the worker and not yet answered: seq → command. */
  private readonly pending = new Map<number, string>();
  /** The launch or restart the worker is building, and its progress (when the client shows progress). */
  private build?: { seq: number; command: string; progressId?: string };
  private progress = false;
  private program?: string;
  private outSeq = 0;
  private builds = 0;
  private closed = false;
  /** Stdio: the stream both threads write (undefined: the worker's messages come through opts.send). */
  private readonly shared?: SharedOut;
  /** The worker is being ended: a write lock it holds may be taken. */
  private ending = false;

  constructor(private readonly opts: BridgeOptions) {
    let out: WorkerOptions['out'];
    if (opts.fd !== undefined) {
      out = { fd: opts.fd, shared: sharedState() };
      this.shared = new SharedOut(opts.fd, out.shared, FRONT);
    }
    const w = new Worker(opts.script, {
      workerData: { token: opts.token, out } satisfies WorkerOptions,
      resourceLimits: opts.heapMb ? { maxOldGenerationSizeMb: opts.heapMb } : undefined,
    });
    this.worker = w;
    w.on('message', (m: DebugProtocol.ProtocolMessage | { type: typeof HANG_UP }) => this.fromWorker(m));
    w.on('error', (e: Error & { code?: string }) => this.workerDied(e.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? `the debug adapter ${opts.heapMb ? `needed more than ${opts.heapMb} MiB` : 'ran out of memory'} and was stopped; lower "historyBudgetMb" or "maxInstructions"`
      : `the debug adapter failed: ${e.message}`));
    w.on('exit', (code) => { if (this.worker === w) this.workerDied(`the debug adapter thread exited (code ${code})`); });
  }

  /** A message from the client. */
  handle(message: Record<string, unknown>): void {
    const m = message as Partial<Request>;
    const wellFormed = m.type === 'request' && typeof m.command === 'string' && typeof m.seq === 'number';
    if (wellFormed && m.command === 'initialize') this.progress = !!m.arguments && typeof m.arguments === 'object' && m.arguments.supportsProgressReporting === true;
    this.drainAnswered();
    if (m.type === 'request' && (this.build || !this.worker)) {
      if (!wellFormed) { this.error(m as Request, ErrorCode.BadArguments, 'a request needs a numeric "seq" and a string "command"'); return; }
      if (this.build) this.duringBuild(m as Request); else this.afterEnd(m as Request);
      return;
    }
    try {
      this.worker!.postMessage(message);
    } catch (e) {
      // Not cloneable (nested deeper than the clone's stack): answered here, never passed on.
      if (m.type === 'request') this.error(m as Request, ErrorCode.BadArguments, `the request cannot be handled: ${(e as Error).message}`);
      return;
    }
    if (wellFormed) {
      const r = m as Request;
      if (r.command === 'launch' || r.command === 'restart') this.startBuild(r);
      this.pending.set(r.seq, r.command);
    }
  }

  /** A part of the input stream the frame reader skipped. */
  badFrame(i: FrameIssue): void {
    const text = `tdx debug adapter: malformed DAP frame at byte ${i.offset} (${i.reason}): skipped ${i.skipped} bytes and resynchronised at the next Content-Length header`;
    this.opts.log?.(text);
    this.event('output', { category: 'stderr', output: text + '\n' });
  }

  /** The client went away (its stream ended, a signal): the worker ends with it. */
  clientGone(): void {
    this.stopWorker();
    this.close();
  }

  // ---- while a launch builds -----------------------------------------------------------------

  private startBuild(r: Request): void {
    const args = (r.command === 'restart' ? r.arguments?.arguments : r.arguments) as Record<string, unknown> | undefined;
    if (args && typeof args === 'object' && typeof args.program === 'string') this.program = args.program;
    this.build = { seq: r.seq, command: r.command };
    this.shared?.setBuild(r.seq);
    if (!this.progress) return;
    this.build.progressId = `tdx-build-${++this.builds}`;
    this.event('progressStart', {
      progressId: this.build.progressId, requestId: r.seq, cancellable: true,
      title: `Building ${this.program ? basename(this.program) : 'the program'}`,
      message: 'build, assemble and load (cancel, terminate or disconnect stop it)',
    });
  }

  private endBuild(message: string): void {
    const b = this.build;
    this.build = undefined;
    this.shared?.setBuild(0);
    if (b?.progressId) this.event('progressEnd', { progressId: b.progressId, message });
  }

  /** A request while the worker builds: answered here, at once. */
  private duringBuild(r: Request): void {
    const b = this.build!;
    switch (r.command) {
      case 'threads':
        this.respond(r, { threads: [{ id: 1, name: 'vCPU 0' }] });
        return;
      case 'disconnect':
        this.interrupt('disconnect');
        this.respond(r);
        this.close();
        return;
      case 'terminate':
        this.interrupt('terminate');
        this.respond(r);
        this.event('terminated', {});
        return;
      case 'cancel': {
        const a = r.arguments ?? {};
        const mine = a.requestId === b.seq || (a.progressId !== undefined && a.progressId === b.progressId);
        if (mine) this.interrupt('cancel');
        this.respond(r);
        if (mine) this.event('terminated', {});
        return;
      }
      case 'pause':
        this.error(r, ErrorCode.NotRunning, `nothing runs yet: the program is being built (${b.command} in progress); terminate or disconnect stop the build`);
        return;
      default:
        this.error(r, ErrorCode.NotLaunched, `"${r.command.slice(0, 80)}" waits for the program, which is being built (${b.command} in progress): ask again after its response, or terminate or disconnect to stop the build`);
    }
  }

  /** Ends the worker mid-build: the build's request and any other unanswered one get errors. */
  private interrupt(by: string): void {
    const b = this.build!;
    this.drainAnswered();
    this.stopWorker();
    this.endBuild(`stopped by ${by}`);
    for (const [seq, command] of this.pending) {
      this.error({ type: 'request', seq, command }, seq === b.seq ? ErrorCode.Cancelled : ErrorCode.NotRunning, seq === b.seq
        ? `the build was stopped by ${by}: nothing was launched`
        : `the session ended (${by} during the build) before "${command}" was answered`);
    }
    this.pending.clear();
  }

  /** A request after the worker has gone. */
  private afterEnd(r: Request): void {
    if (r.command === 'disconnect') { this.respond(r); this.close(); return; }
    this.error(r, ErrorCode.NotRunning, 'the session has ended (restart the debug session to run again)');
  }

  // ---- the worker ----------------------------------------------------------------------------

  /** The requests the worker answered on the stream itself are no longer pending. */
  private drainAnswered(): void {
    if (this.shared) for (const seq of this.shared.drain()) this.pending.delete(seq);
  }

  private fromWorker(m: DebugProtocol.ProtocolMessage | { type: typeof HANG_UP }): void {
    try {
      this.relay(m);
    } finally {
      // Written (or dropped): the worker's messages after it may go to the stream directly.
      if (this.shared && m.type !== HANG_UP) this.shared.frontWrote();
    }
  }

  private relay(m: DebugProtocol.ProtocolMessage | { type: typeof HANG_UP }): void {
    if (this.closed) return;
    if (m.type === HANG_UP) { this.stopWorker(); if (this.opts.hangUp) this.opts.hangUp(); else this.close(); return; }
    const msg = m as DebugProtocol.ProtocolMessage;
    if (msg.type === 'response') {
      const r = msg as DebugProtocol.Response;
      this.pending.delete(r.request_seq);
      if (this.build && r.request_seq === this.build.seq) this.endBuild(r.success ? 'built and loaded' : 'failed');
    } else if (msg.type === 'event' && this.build?.progressId && (msg as DebugProtocol.Event).event === 'output') {
      const line = String((msg as DebugProtocol.OutputEvent).body?.output ?? '').trim().split('\n')[0];
      if (line) this.event('progressUpdate', { progressId: this.build.progressId, message: line.length > 200 ? line.slice(0, 199) + '…' : line });
    }
    this.out(msg);
    if (msg.type === 'response' && (msg as DebugProtocol.Response).command === 'disconnect') { this.stopWorker(); this.close(); }
  }

  private workerDied(why: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    if (this.closed) return;
    this.drainAnswered();
    this.opts.log?.(`tdx debug adapter: ${why}`);
    this.endBuild('failed');
    for (const [seq, command] of this.pending) this.error({ type: 'request', seq, command }, ErrorCode.Internal, `${why} before "${command}" was answered`);
    this.pending.clear();
    this.event('output', { category: 'stderr', output: `TDX: ${why}\n` });
    this.event('terminated', {});
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      this.ending = true;
      this.shared?.setBuild(-1); // what the worker sends from now on comes here (and is dropped)
      void w.terminate();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWorker();
    this.opts.close();
  }

  // ---- messages to the client ----------------------------------------------------------------

  /** Every message gets this thread's sequence number (the worker's and ours interleave). */
  private out(m: DebugProtocol.ProtocolMessage): void {
    if (this.shared) {
      // A client gone (EPIPE) shows as the end of its input stream: clientGone ends the session.
      this.shared.write(m, () => this.ending || !this.worker);
      return;
    }
    m.seq = ++this.outSeq;
    this.opts.send!(m);
  }

  private respond(r: Request, body?: unknown): void {
    const m: DebugProtocol.Response = { type: 'response', seq: 0, request_seq: r.seq, command: r.command, success: true };
    if (body !== undefined) m.body = body;
    this.out(m);
  }

  private error(r: Partial<Request>, id: ErrorCode, format: string): void {
    this.out({
      type: 'response', seq: 0, request_seq: typeof r.seq === 'number' ? r.seq : 0, command: typeof r.command === 'string' ? r.command : String(r.command ?? ''),
      success: false, message: format, body: { error: { id, format, showUser: false } },
    } as DebugProtocol.ErrorResponse);
  }

  private event(event: string, body: unknown): void {
    this.out({ type: 'event', seq: 0, event, body } as DebugProtocol.Event);
  }
}
