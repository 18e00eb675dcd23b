// DAP benchmarks (issue 5 "Numbers"): a cold adapter process from spawn to the entry stop and
// its resident memory; the step round trip a UI makes (next → stopped → stackTrace → scopes →
// variables of Registers); continue to a breakpoint 10 million instructions away. Compared in
// the same run with gdb stepping a program under `qemu-x86_64 -g` (stepi + two registers).

import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';

const ROOT = [resolve(__dirname, '../../..'), resolve(__dirname, '../..')].find((d) => existsSync(join(d, 'package.json')))!;
const ADAPTER = join(ROOT, 'dist/debugAdapter.js');
const STEPS = join(ROOT, 'test/dap/fixtures/steps.S');
const COUNTDOWN = join(ROOT, 'test/dap/fixtures/countdown.S');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function round(x: number, d = 3): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

/** Resolves with the next event `name` (the listener is in place before the request is sent). */
function once(dc: DebugClient, name: string): Promise<DebugProtocol.Event> {
  return new Promise((res) => dc.once(name, res));
}

async function client(): Promise<DebugClient> {
  const dc = new DebugClient('node', ADAPTER, 'tdx');
  dc.defaultTimeout = 60_000;
  await dc.start();
  return dc;
}

/** CPU time (ms) of every live thread of a process, from /proc (the figure that moves least with the machine's load); NaN without /proc. */
function cpuMs(pid: number): number {
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return round(ns / 1e6, 1);
  } catch {
    return NaN;
  }
}

const pidOf = (dc: DebugClient) => (dc as unknown as { _adapterProcess: { pid: number } })._adapterProcess.pid;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : NaN;
}

async function launchToEntry(config: Record<string, unknown>, setup?: (dc: DebugClient) => Promise<void>): Promise<{ dc: DebugClient; ms: number; cpuMs: number }> {
  const t0 = performance.now();
  const dc = await client();
  await dc.initializeRequest({ adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true });
  const init = once(dc, 'initialized');
  await dc.launchRequest({ type: 'tdx', request: 'launch', stopOnEntry: true, ...config } as DebugProtocol.LaunchRequestArguments);
  await init;
  if (setup) await setup(dc);
  const stop = once(dc, 'stopped');
  await dc.configurationDoneRequest();
  await stop;
  return { dc, ms: performance.now() - t0, cpuMs: cpuMs(pidOf(dc)) };
}

/** gdb attached to qemu-user: stepi and two register reads per step, timed inside gdb (Python). */
function gdbQemuStepMedianMs(steps: number): number | null {
  if (!have('gdb') || !have('qemu-x86_64') || !have('as') || !have('ld')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'tdx-bench-'));
  try {
    writeFileSync(join(dir, 'spin.s'), '.globl _start\n_start:\n1:\tincq %rax\n\tjmp 1b\n');
    if (spawnSync('as', ['-o', join(dir, 'spin.o'), join(dir, 'spin.s')]).status !== 0) return null;
    if (spawnSync('ld', ['-static', '-o', join(dir, 'spin'), join(dir, 'spin.o')]).status !== 0) return null;
    const port = 20000 + Math.floor(Math.random() * 20000);
    const qemu = spawn('qemu-x86_64', ['-g', String(port), join(dir, 'spin')], { stdio: 'ignore' });
    try {
      const py = [
        'import gdb, time',
        `gdb.execute("target remote 127.0.0.1:${port}", to_string=True)`,
        'ts = []',
        `for i in range(${steps}):`,
        '    t = time.perf_counter()',
        '    gdb.execute("stepi", to_string=True)',
        '    gdb.parse_and_eval("$rip"); gdb.parse_and_eval("$rax")',
        '    ts.append(time.perf_counter() - t)',
        'ts.sort()',
        'print("MEDIAN_MS %f" % (ts[len(ts)//2] * 1000))',
      ].join('\n');
      writeFileSync(join(dir, 'steps.py'), py);
      const r = spawnSync('gdb', ['-nx', '-batch', '-ex', 'set confirm off', '-x', join(dir, 'steps.py'), join(dir, 'spin')], { encoding: 'utf8', timeout: 60_000 });
      const m = /MEDIAN_MS ([\d.]+)/.exec(r.stdout ?? '');
      return m ? round(Number(m[1])) : null;
    } finally {
      qemu.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const have = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;

/** The C workload of workloads.ts: its source, and the line of qsort64's summing loop (reached once the sort is done). */
const WORKLOAD_C = join(ROOT, 'test/bench/workloads.c');
const C_FLAGS = ['-O2', '-mgeneral-regs-only', '-ffreestanding', '-fno-stack-protector'];
/** Keys sorted before the breakpoint: about 10 million instructions of qsort64 (workloads.ts counts them). */
const C_KEYS = 46_000;
function sumLine(): number {
  return readFileSync(WORKLOAD_C, 'utf8').split('\n').findIndex((l) => l.includes('sum = sum * 31 + keys[i]')) + 1;
}

/** A free TCP port for qemu's gdbstub. */
function port(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/**
 * The peers under gdb driving `qemu-x86_64 -g` of the same C code built natively with -g:
 * spawn → stopped at the entry point with RIP read (the launch's peer), and `continue` to a
 * breakpoint on the same source line (timed inside gdb). Null when gdb, qemu-user or gcc is missing.
 */
function gdbQemuC(): { launchMs: number; continueMs: number } | null {
  if (!have('gdb') || !have('qemu-x86_64') || !have('gcc')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'tdx-bench-'));
  try {
    const exe = join(dir, 'qsort');
    const flags = [...C_FLAGS, '-g', '-fno-pic', '-no-pie', '-nostdlib', '-static', '-DNATIVE_MAIN', '-DKIND=1', `-DSIZE=${C_KEYS}UL`];
    if (spawnSync('gcc', [...flags, WORKLOAD_C, '-o', exe]).status !== 0) return null;
    const p = port();
    const py = [
      'import gdb, time',
      `gdb.execute("target remote 127.0.0.1:${p}", to_string=True)`,
      'gdb.parse_and_eval("$rip")',
      'print("ATTACHED %f" % time.time())',
      `gdb.execute("break workloads.c:${sumLine()}", to_string=True)`,
      't = time.perf_counter()',
      'gdb.execute("continue", to_string=True)',
      'gdb.parse_and_eval("$rip")',
      'print("CONTINUE_MS %f" % ((time.perf_counter() - t) * 1000))',
    ].join('\n');
    writeFileSync(join(dir, 'c.py'), py);
    const t0 = Date.now() / 1000;
    const qemu = spawn('qemu-x86_64', ['-g', String(p), exe], { stdio: 'ignore' });
    try {
      const r = spawnSync('gdb', ['-nx', '-batch', '-ex', 'set confirm off', '-x', join(dir, 'c.py'), exe], { encoding: 'utf8', timeout: 120_000 });
      const at = /ATTACHED ([\d.]+)/.exec(r.stdout ?? ''), cont = /CONTINUE_MS ([\d.]+)/.exec(r.stdout ?? '');
      if (!at || !cont) return null;
      return { launchMs: round((Number(at[1]) - t0) * 1000, 1), continueMs: round(Number(cont[1]), 1) };
    } finally {
      qemu.kill();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Continue to a breakpoint on the same line of the C workload through DAP (the program built by the toolchain attribute). */
async function dapContinueC(): Promise<{ ms: number; cpuMs: number; launchMs: number }> {
  const { dc, ms: launchMs } = await launchToEntry({
    program: WORKLOAD_C, entry: 'work', args: [1, C_KEYS], toolchain: { args: C_FLAGS }, __workspaceTrusted: true, maxInstructions: 100_000_000,
  }, async (x) => {
    await x.setBreakpointsRequest({ source: { path: WORKLOAD_C }, breakpoints: [{ line: sumLine() }] });
  });
  const t0 = performance.now(), c0 = cpuMs(pidOf(dc));
  const stop = once(dc, 'stopped');
  await dc.continueRequest({ threadId: 1 });
  const ev = await stop;
  const ms = performance.now() - t0, cpu = cpuMs(pidOf(dc)) - c0;
  await dc.stop();
  if (ev.body.reason !== 'breakpoint') throw new Error(`continue in the C workload stopped for ${ev.body.reason}, not at the breakpoint`);
  return { ms: round(ms, 1), cpuMs: round(cpu, 1), launchMs: round(launchMs, 1) };
}

export interface DapFigures {
  /** `cpuMs`: the adapter process's CPU time (both threads) from spawn to the stop, median of the runs. */
  dapLaunch: { ms: number; cpuMs: number; rssMb: number; gdbQemuMs: number | null };
  dapStep: { medianMs: number; gdbQemuMedianMs: number | null };
  dapContinue10M: { ms: number };
  /** Continue to a breakpoint about 10M instructions away in the C workload (qsort64), beside gdb + qemu-x86_64 -g on the same line. */
  dapContinueC: { ms: number; cpuMs: number; launchMs: number; gdbQemuMs: number | null };
}

export async function benchDap(): Promise<DapFigures> {
  // Cold launch: a new adapter process (WASM start included) to the entry stop; best of 3.
  const launches: number[] = [], cpus: number[] = [];
  let rss = NaN;
  for (let i = 0; i < 3; i++) {
    const { dc, ms, cpuMs: cpu } = await launchToEntry({ program: join(ROOT, 'examples/hypercall.S'), entry: 'tdx_hypercall', args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA' } }] });
    launches.push(ms);
    cpus.push(cpu);
    rss = rssMb(pidOf(dc));
    await dc.stop();
  }

  // Step round trip, as VS Code does it after every step.
  const { dc } = await launchToEntry({ program: STEPS, entry: 'spin', maxInstructions: 1e12 });
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const stop = once(dc, 'stopped');
    await dc.nextRequest({ threadId: 1, granularity: 'instruction' });
    await stop;
    const frames = (await dc.stackTraceRequest({ threadId: 1, startFrame: 0, levels: 20 })).body.stackFrames;
    const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
    await dc.variablesRequest({ variablesReference: scopes.find((s) => s.name === 'Registers')!.variablesReference });
    if (i >= 20) times.push(performance.now() - t0); // the first steps warm the JIT
  }
  await dc.stop();

  // Continue to a breakpoint 10,000,002 instructions away.
  const line = readFileSync(COUNTDOWN, 'utf8').split('\n').findIndex((l) => l.startsWith('countdown_done:')) + 2;
  const c = await launchToEntry({ program: COUNTDOWN, entry: 'countdown', maxInstructions: 20_000_000 }, async (x) => {
    await x.setBreakpointsRequest({ source: { path: COUNTDOWN }, breakpoints: [{ line }] });
  });
  const t0 = performance.now();
  const stop = once(c.dc, 'stopped');
  await c.dc.continueRequest({ threadId: 1 });
  const ev = await stop;
  const continueMs = performance.now() - t0;
  if (ev.body.reason !== 'breakpoint') throw new Error(`continue stopped for ${ev.body.reason}, not at the breakpoint`);
  await c.dc.stop();

  const cont = await dapContinueC();
  const peer = gdbQemuC();
  return {
    dapLaunch: { ms: round(Math.min(...launches), 1), cpuMs: round(median(cpus), 1), rssMb: rss, gdbQemuMs: peer?.launchMs ?? null },
    dapStep: { medianMs: round(median(times)), gdbQemuMedianMs: gdbQemuStepMedianMs(300) },
    dapContinue10M: { ms: round(continueMs, 1) },
    dapContinueC: { ...cont, gdbQemuMs: peer?.continueMs ?? null },
  };
}

/** `node out/test/bench/dap.js`: the figures alone, with their targets. */
