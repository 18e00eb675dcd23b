// DAP benchmarks (issue 5 "Numbers"): a cold adapter process from spawn to the entry stop and
// its resident memory; the step round trip a UI makes (next → stopped → stackTrace → scopes →
// variables of Registers); continue to a breakpoint 10 million instructions away. Compared in
// the same run with gdb stepping a program under `qemu-x86_64 -g` (stepi + two registers).

import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
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

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? round(Number(m[1]) / 1024, 1) : NaN;
}

async function launchToEntry(config: Record<string, unknown>, setup?: (dc: DebugClient) => Promise<void>): Promise<{ dc: DebugClient; ms: number }> {
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
  return { dc, ms: performance.now() - t0 };
}

/** gdb attached to qemu-user: stepi and two register reads per step, timed inside gdb (Python). */
function gdbQemuStepMedianMs(steps: number): number | null {
  const have = (c: string) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0;
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

export async function benchDap(): Promise<{ dapLaunch: { ms: number; rssMb: number }; dapStep: { medianMs: number; gdbQemuMedianMs: number | null }; dapContinue10M: { ms: number } }> {
  // Cold launch: a new adapter process (WASM start included) to the entry stop; best of 3.
  const launches: number[] = [];
  let rss = NaN;
  for (let i = 0; i < 3; i++) {
    const { dc, ms } = await launchToEntry({ program: join(ROOT, 'examples/hypercall.S'), entry: 'tdx_hypercall', args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA' } }] });
    launches.push(ms);
    const pid = (dc as unknown as { _adapterProcess: { pid: number } })._adapterProcess.pid;
    rss = rssMb(pid);
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

  return {
    dapLaunch: { ms: round(Math.min(...launches), 1), rssMb: rss },
    dapStep: { medianMs: round(median(times)), gdbQemuMedianMs: gdbQemuStepMedianMs(300) },
    dapContinue10M: { ms: round(continueMs, 1) },
  };
}

/** `node out/test/bench/dap.js`: the figures alone, with their targets. */
