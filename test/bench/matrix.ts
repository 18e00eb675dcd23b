// Benchmarks of issue 8: fault-matrix throughput on the bundled guest hypercall and host
// SEAMCALL samples (whole matrices, set-up included), and step-back latency and memory with
// 10 million instructions of history on a loop that keeps a stack buffer busy.

import { Session } from '../../emulator/session/session';
import { Timeline } from '../../emulator/timetravel/timeline';
import { runMatrix } from '../../emulator/matrix/matrix';
import { fromRoot } from '../support/paths';

const HYPERCALL = { program: fromRoot('examples/hypercall.S'), entry: 'tdx_hypercall', args: [{ struct: 'tdx_module_args', init: { r11: 'TDVMCALL_MAP_GPA', r12: '0x100000', r13: '0x2000' } }] };
const SYS_INIT = { program: fromRoot('examples/seamcall.S'), entry: 'tdx_sys_init' };

/** About `iterations` × 10 instructions: arithmetic, a call, and stores spread over 4 KiB of stack. */
function loopProgram(iterations: number): string {
  return `\t.text\n\t.globl entry\nentry:\n\tpushq %rbx\n\tsubq $4096, %rsp\n\tmovl $${iterations}, %ecx\n\txorl %ebx, %ebx\n1:\tmovq %rcx, %rax\n\timulq $0x3779b1, %rax\n\tandl $511, %ebx\n\tmovq %rax, (%rsp,%rbx,8)\n\taddq (%rsp), %rax\n\tcall 2f\n\taddl $37, %ebx\n\tdecl %ecx\n\tjnz 1b\n\taddq $4096, %rsp\n\tpopq %rbx\n\tret\n2:\txorq %rax, %rdx\n\tret\n`;
}

export async function benchMatrix(log: (s: string) => void = () => {}): Promise<{ matrix: { scenariosPerSecond: number }; stepBack: { medianMs: number; bytesPerMillionInstructions: number } }> {
  // Matrix: fresh sessions, whole matrices (clean run, site checkpoints, scenarios), for ~1 s.
  const configs = [HYPERCALL, SYS_INIT];
  for (const c of configs) runMatrix(await Session.create(c)); // warm-up
  const sessions = await Promise.all(Array.from({ length: 40 }, (_, k) => Session.create(configs[k % 2])));
  let scenarios = 0, scenarioMs = 0;
  const t0 = performance.now();
  for (const s of sessions) {
    const r = runMatrix(s);
    scenarios += r.result.scenarios.length;
    scenarioMs += r.stats.scenarioMs;
  }
  const wholeMs = performance.now() - t0;
  const scenariosPerSecond = Math.round(scenarios / (scenarioMs / 1000));
  log(`matrix: ${scenariosPerSecond} scenarios/s on the bundled samples (target ≥ 1,000; checkpoint restore + run to the outcome); ` +
    `whole matrices on fresh sessions incl. clean run, decoding and site checkpoints: ${Math.round(scenarios / (wholeMs / 1000))} scenarios/s; a full re-run per scenario would also re-assemble`);

  // Step back with 10 million instructions of history.
  const s = await Session.create({ program: '/virtual/loop.S', entry: 'entry', context: 'none', maxInstructions: 20_000_000 }, { text: loopProgram(1_000_000) });
  const tl = new Timeline(s);
  const r0 = performance.now();
  const stop = s.run();
  const recordMs = performance.now() - r0;
  const history = tl.frontier - tl.historyStart;
  if (stop.reason !== 'returned' || history < 10_000_000) throw new Error(`loop did not record 10M instructions (${stop.reason}, ${history})`);
  // Plain run for comparison (no recording).
  const plain = await Session.create({ program: '/virtual/loop.S', entry: 'entry', context: 'none', maxInstructions: 20_000_000 }, { text: loopProgram(1_000_000) });
  const p0 = performance.now();
  plain.run();
  const plainMs = performance.now() - p0;
  const times: number[] = [];
  let seed = 12345;
  for (let k = 0; k < 41; k++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    tl.seek(tl.historyStart + 1 + (seed % (history - 1)));
    const t = performance.now();
    tl.stepBack('instruction');
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const medianMs = Math.round(times[times.length >> 1] * 1000) / 1000;
  const bytesPerMillionInstructions = Math.round(tl.bytes / (history / 1e6));
  log(`stepBack: median ${medianMs} ms with ${(history / 1e6).toFixed(1)}M instructions of history (target < 10 ms; max ${times[times.length - 1].toFixed(2)} ms); ` +
    `${Math.round(bytesPerMillionInstructions / 1024)} KiB per million instructions; recording ran at ${(history / recordMs / 1000).toFixed(0)} MIPS vs ${(history / plainMs / 1000).toFixed(0)} MIPS unrecorded`);
  // Reverse-continue over the whole history (nothing accepted: it searches back to the start),
  // beside the plain forward run over the same instructions.
  tl.seek(tl.frontier);
  const v0 = performance.now();
  const back = tl.reverseContinue(() => false);
  const reverseMs = performance.now() - v0;
  log(`reverseContinue: searched ${(history / 1e6).toFixed(1)}M instructions of history in ${Math.round(reverseMs)} ms (${(history / reverseMs / 1000).toFixed(0)} MIPS, ${back.reason}) vs the forward run ${Math.round(plainMs)} ms; ` +
    `history ${Math.round(tl.bytes / 1024)} KiB of a ${Math.round(tl.memoryBudget / 1048576)} MiB budget`);
  return { matrix: { scenariosPerSecond }, stepBack: { medianMs, bytesPerMillionInstructions } };
}
