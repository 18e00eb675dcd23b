// The emulator-core benchmark: a loop of mixed integer work (~500 million dynamic
// instructions) run in the emulator with a breakpoint set and the step budget active, and
// in the same run natively and under `qemu-x86_64 -singlestep` as the comparison.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Machine } from '../../emulator/machine';
import { fromRoot } from '../support/paths';
import { assembleWithGcc, hasTool, linkStatic, sectionBytes, symbols } from '../support/native';

const SOURCE = readFileSync(fromRoot('test', 'bench', 'loop.S'), 'utf8');
const INSNS_PER_ITERATION = 16;

export interface LoopResult { emulatorMips: number; nativeMips: number; qemuSingleStepMips: number | null }

/** Runs bench_loop(iterations) in the emulator; returns instructions executed, seconds and RAX. */
export function runInEmulator(iterations: number): { instructions: number; seconds: number; cpuSeconds: number; rax: bigint } {
  const obj = assembleWithGcc(SOURCE);
  const text = sectionBytes(obj);
  const entry = symbols(obj).get('bench_loop') ?? 0n;
  const m = new Machine();
  if (process.env.NOLOG) m.mem.logging = false;
  const CODE = 0x401000n, BUF = 0x600000n, STACK = 0x7ff00000n, TRAP = 0x7fff0000n;
  m.map(CODE, text.length, 'rx');
  m.writeBytes(CODE, text);
  m.map(BUF, 4096, 'rw');
  m.map(STACK - 0x10000n, 0x10000, 'rw');
  m.map(TRAP, 4096, 'rx');
  m.writeBytes(TRAP, new Uint8Array([0xf4]));
  m.map(0x500000n, 4096, 'rx');
  m.addBreakpoint(0x500000n); // a breakpoint is set (never reached): the check is on the hot path
  m.returnAddress = Number(TRAP);
  const sp = STACK - 8n;
  m.writeBytes(sp, new Uint8Array(new BigUint64Array([TRAP]).buffer));
  m.setReg('rsp', sp);
  m.setReg('rdi', BigInt(iterations));
  m.setReg('rsi', BUF);
  m.setReg('rip', CODE + entry);
  const start = process.hrtime.bigint(), u0 = process.cpuUsage();
  const before = m.instructionCount;
  for (;;) {
    const r = m.run(1_000_000); // the budget slices a debug session uses to stay responsive
    if (r.kind === 'returned') break;
    if (r.kind !== 'budget') throw new Error(`benchmark loop stopped unexpectedly: ${r.message}`);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9, u = process.cpuUsage(u0);
  return { instructions: m.instructionCount - before, seconds, cpuSeconds: (u.user + u.system) / 1e6, rax: m.getReg('rax') };
}

function timeProcess(cmd: string, args: string[]): { seconds: number; status: number | null } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, status: r.status };
}

export function benchLoop(instructions = 500e6, log: (s: string) => void = () => {}): LoopResult {
  const iterations = Math.round(instructions / INSNS_PER_ITERATION);
  const emu = runInEmulator(iterations);
  const emulatorMips = emu.instructions / emu.seconds / 1e6;
  log(`loop: emulator ${emu.instructions} instructions in ${emu.seconds.toFixed(2)} s = ${emulatorMips.toFixed(1)} MIPS`);
  const exe = linkStatic(SOURCE, ['-DNATIVE_MAIN', `-DITERATIONS=${iterations}`]);
  const native = timeProcess(exe, []);
  if (native.status !== Number(emu.rax & 0x7fn)) {
    throw new Error(`emulator and native disagree on the loop's result: native exit ${native.status}, emulator rax&0x7f ${emu.rax & 0x7fn}`);
  }
  const nativeMips = emu.instructions / native.seconds / 1e6;
  log(`loop: native ${native.seconds.toFixed(3)} s = ${nativeMips.toFixed(0)} MIPS`);
  let qemuSingleStepMips: number | null = null;
  if (hasTool('qemu-x86_64')) {
    const q = timeProcess('qemu-x86_64', ['-singlestep', exe]);
    if (q.status === native.status) qemuSingleStepMips = emu.instructions / q.seconds / 1e6;
    log(`loop: qemu-x86_64 -singlestep ${q.seconds.toFixed(2)} s = ${qemuSingleStepMips?.toFixed(1)} MIPS`);
  } else log('loop: qemu-x86_64 not installed (apt-get install qemu-user) — no comparison');
  return { emulatorMips: round(emulatorMips), nativeMips: round(nativeMips), qemuSingleStepMips: qemuSingleStepMips === null ? null : round(qemuSingleStepMips) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
