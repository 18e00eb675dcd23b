// The editor's CPU-heavy work — assembling a file for Problems and hovers, the builds that find
// a quick fix or a generation, asm-offsets parsing, the fault matrix — runs on a worker thread,
// never on the extension host's: VS Code stays responsive while it works. One worker, started
// on first use, jobs in order; each job is cancellable (a shared flag the matrix checks after
// every scenario; a build is abandoned), and bounded: the worker's heap is capped, and a worker
// that dies (out of memory, crash) fails its jobs with a clear message and is replaced for the
// next one. Without VS Code (tests use it directly).

import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Diagnostic } from '../emulator/loader/diagnostics';
import type { StructLayout } from '../emulator/loader/image';
import type { BuildOptions } from '../emulator/loader/buildImage';
import type { MatrixResult, MatrixStats } from '../emulator/matrix/matrix';
import type { PreprocessOptions } from '../emulator/loader/preprocess';

/** What the editor keeps of a build: its diagnostics and, when it made an Image, the facts for hovers. */
export interface BuildSummary {
  diagnostics: Diagnostic[];
  /** Present when the build made an Image (no error). */
  facts?: { constants: Map<string, bigint>; structs: Map<string, StructLayout> };
}

/** Build options that cross to the worker (no functions). */
export type WorkerBuildOptions = Omit<BuildOptions, 'readFile'>;

export type Job =
  | { kind: 'build'; file: string; options: WorkerBuildOptions }
  | { kind: 'offsetStructs'; file: string; options: Omit<PreprocessOptions, 'language' | 'readFile'> }
  | { kind: 'matrix'; config: Record<string, unknown>; cwd: string; text?: string };

export type JobResult =
  | { kind: 'build'; summary: BuildSummary }
  | { kind: 'offsetStructs'; structs?: Map<string, StructLayout> }
  | { kind: 'matrix'; result: MatrixResult; stats: MatrixStats };

/** Worker → host messages. */
export type WorkerMessage =
  | { id: number; progress: [done: number, total: number] }
  | { id: number; ok: JobResult }
  | { id: number; cancelled: true }
  | { id: number; error: string };

/** Host → worker: a job, and the flag (Int32Array over a SharedArrayBuffer) that cancels it when set to 1. */
export interface JobMessage { id: number; job: Job; cancel: SharedArrayBuffer }

/** A job the user cancelled. */
export class JobCancelled extends Error {
  constructor(what: string) { super(`${what} cancelled`); this.name = 'JobCancelled'; }
}

/** Caps of the worker: a runaway input ends the worker, not the editor. */
export const WORKER_HEAP_MB = 2048;

interface Pending {
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
  progress?: (done: number, total: number) => void;
  what: string;
}

/** Something that can be asked whether to stop (a VS Code CancellationToken fits). */
export interface Cancellation { readonly isCancellationRequested: boolean; onCancellationRequested?: (f: () => void) => unknown }

/** Where the editor's builds run: HeavyWork's worker, or this thread (tests, the default). */
export interface Builder {
  build(file: string, options: BuildOptions): Promise<BuildSummary>;
  offsetStructs(file: string, options: Omit<PreprocessOptions, 'language' | 'readFile'>): Promise<Map<string, StructLayout> | undefined>;
}

/** Builds on the calling thread (the emulator loads on first use). */
export const inProcess: Builder = {
  async build(file, options) {
    const { buildImage } = await import('../emulator/loader/buildImage');
    const r = await buildImage(file, options);
    return { diagnostics: r.diagnostics, facts: r.image ? { constants: r.image.constants, structs: r.image.structs } : undefined };
  },
  async offsetStructs(file, options) {
    const { loadAsmOffsets } = await import('../emulator/loader/cheaders');
    try { return loadAsmOffsets(file, options).decls.structs; } catch { return undefined; }
  },
};

export class HeavyWork implements Builder {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposed = false;

  /** `script`: the bundled worker (dist/extensionWorker.js beside the extension's bundle). */
  constructor(private readonly script = join(__dirname, 'extensionWorker.js')) {}

  /** Assembles a file as a launch would (the emulator's buildImage), in the worker. */
  async build(file: string, options: BuildOptions, token?: Cancellation): Promise<BuildSummary> {
    const { readFile: _drop, ...rest } = options;
    const r = await this.run({ kind: 'build', file, options: rest }, `assembling ${file}`, token);
    return (r as Extract<JobResult, { kind: 'build' }>).summary;
  }

  /** The struct layouts an asm-offsets.c declares (undefined when it does not parse). */
  async offsetStructs(file: string, options: Omit<PreprocessOptions, 'language' | 'readFile'>): Promise<Map<string, StructLayout> | undefined> {
    const r = await this.run({ kind: 'offsetStructs', file, options }, `reading ${file}`);
    return (r as Extract<JobResult, { kind: 'offsetStructs' }>).structs;
  }

  /** Runs the fault matrix of a launch configuration in the worker; cancellable between scenarios. */
  async matrix(config: Record<string, unknown>, cwd: string, text: string | undefined,
    hooks: { onProgress?: (done: number, total: number) => void; token?: Cancellation } = {}): Promise<{ result: MatrixResult; stats: MatrixStats }> {
    const r = await this.run({ kind: 'matrix', config, cwd, text }, 'fault matrix', hooks.token, hooks.onProgress);
    const m = r as Extract<JobResult, { kind: 'matrix' }>;
    return { result: m.result, stats: m.stats };
  }

  private run(job: Job, what: string, token?: Cancellation, progress?: (done: number, total: number) => void): Promise<JobResult> {
    if (this.disposed) return Promise.reject(new Error('the extension is shutting down'));
    if (token?.isCancellationRequested) return Promise.reject(new JobCancelled(what));
    const w = this.ensure();
    const id = this.nextId++;
    const cancel = new SharedArrayBuffer(4);
    const flag = new Int32Array(cancel);
    return new Promise<JobResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, progress, what });
      token?.onCancellationRequested?.(() => Atomics.store(flag, 0, 1));
      // A token without a callback (or one set before the job reached the worker) is polled on progress.
      const poll = token && !token.onCancellationRequested ? setInterval(() => { if (token.isCancellationRequested) Atomics.store(flag, 0, 1); }, 50) : undefined;
      const done = () => { if (poll) clearInterval(poll); };
      const p = this.pending.get(id)!;
      p.resolve = (r) => { done(); resolve(r); };
      p.reject = (e) => { done(); reject(e); };
      w.postMessage({ id, job, cancel } satisfies JobMessage);
    });
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    // The worker never keeps the extension host (or a test) alive by itself.
    w.unref();
    w.on('message', (m: WorkerMessage) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if ('progress' in m) { p.progress?.(m.progress[0], m.progress[1]); return; }
      this.pending.delete(m.id);
      if ('ok' in m) p.resolve(m.ok);
      else if ('cancelled' in m) p.reject(new JobCancelled(p.what));
      else p.reject(new Error(m.error));
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = undefined;
      for (const [id, p] of this.pending) { this.pending.delete(id); p.reject(new Error(`${p.what} failed: ${why}`)); }
    };
    w.on('error', (e: Error & { code?: string }) => fail(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `it needed more than ${WORKER_HEAP_MB} MiB of memory (the worker was stopped; the editor is unaffected)` : e.message));
    w.on('exit', (code) => fail(`the worker thread exited (code ${code})`));
    this.worker = w;
    return w;
  }

  /** Stops the worker (jobs in progress fail). */
  dispose(): void {
    this.disposed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of this.pending) { this.pending.delete(id); p.reject(new Error(`${p.what} stopped: the extension is shutting down`)); }
    void w?.terminate();
  }
}
