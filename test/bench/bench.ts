// `npm run bench`: every performance figure with the comparison it is measured against, in
// the same run. `--json` prints one object, one key per benchmark; `--quick` shrinks the work;
// `--workloads` stops after the emulator-core figures; `--assemble` runs the assembler figures alone; `--dap` runs the DAP figures alone; `--tiers` compares block-compilation thresholds.

import { benchLoop } from './loop';
import { benchAssemble, benchCorpus } from './assemble';
import { benchMatrix } from './matrix';
import { benchDap } from './dap';
import { benchWorkloads, benchTiers } from './workloads';

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const json = args.has('--json');
  const quick = args.has('--quick');
  const log = json ? (s: string) => process.stderr.write(s + '\n') : (s: string) => console.log(s);
  const results: Record<string, unknown> = {};

  if (args.has('--tiers')) { results.tiers = benchTiers(log); if (json) console.log(JSON.stringify(results)); return; }
  if (args.has('--assemble')) { // only the assembler figures
    results.assemble = await benchAssemble();
    logAssemble(results.assemble as Awaited<ReturnType<typeof benchAssemble>>, log);
    if (!quick) results.assembleCorpus = benchCorpus(log);
    if (json) console.log(JSON.stringify(results));
    return;
  }
  const dapOnly = args.has('--dap');
  if (!dapOnly) {
    results.loop = benchLoop(quick ? 20e6 : 500e6, log);
    const loop = results.loop as ReturnType<typeof benchLoop>;
    log(`loop: ${loop.emulatorMips} MIPS (target ≥ 300 and ≥ 3× qemu -singlestep); native ${loop.nativeMips} MIPS; qemu -singlestep ${loop.qemuSingleStepMips ?? 'n/a'} MIPS`);

    results.workloads = benchWorkloads(quick, log);
    if (args.has('--workloads')) { if (json) console.log(JSON.stringify(results)); return; } // only the emulator-core figures

    const asm = await benchAssemble();
    results.assemble = asm;
    logAssemble(asm, log);
    if (!quick) results.assembleCorpus = benchCorpus(log);
  }

  const dap = await benchDap();
  Object.assign(results, dap);
  log(`dap: launch → stopped on entry ${dap.dapLaunch.ms} ms (adapter CPU ${dap.dapLaunch.cpuMs} ms; target < 150 ms), adapter RSS ${dap.dapLaunch.rssMb} MB (target < 120 MB); gdb + qemu-x86_64 -g spawn → stopped at entry ${dap.dapLaunch.gdbQemuMs ?? 'n/a'} ms`);
  log(`dap: step round trip median ${dap.dapStep.medianMs} ms (target < 0.5 ms); gdb + qemu-x86_64 -g stepi: ${dap.dapStep.gdbQemuMedianMs ?? 'n/a'} ms`);
  log(`dap: continue to a breakpoint 10M instructions away ${dap.dapContinue10M.ms} ms (assembly loop)`);
  log(`dap: continue to a breakpoint ~10M instructions away in C (qsort64 of 46,000 keys) ${dap.dapContinueC.ms} ms (adapter CPU ${dap.dapContinueC.cpuMs} ms; launch with the gcc build ${dap.dapContinueC.launchMs} ms); gdb + qemu-x86_64 -g on the same line ${dap.dapContinueC.gdbQemuMs ?? 'n/a'} ms`);
  if (dapOnly) { if (json) console.log(JSON.stringify(results)); return; }

  const mx = await benchMatrix(log);
  results.matrix = mx.matrix;
  results.stepBack = mx.stepBack;
  log(`matrix: ${mx.matrix.scenariosPerSecond} scenarios/s (target ≥ 1,000); step back median ${mx.stepBack.medianMs} ms with 10M instructions of history (target < 10 ms), ${Math.round(mx.stepBack.bytesPerMillionInstructions / 1024)} KiB per million instructions`);

  if (json) console.log(JSON.stringify(results));
}

function logAssemble(asm: Awaited<ReturnType<typeof benchAssemble>>, log: (s: string) => void): void {
  log(`assemble: a generated 5,000-line file in ${asm.ms} ms in-process (first run ${asm.coldMs} ms; target < 200 ms); GNU as on the same file ${asm.asMs} ms, gcc -c ${asm.gccMs} ms (process start included)`);
  log(`assemble: tdxdbg asm on that file ${asm.cliMs ?? 'n/a'} ms wall, Node start included (target ≤ 2× gcc -c = ${Math.round(asm.gccMs * 2)} ms); node -e 0 ${asm.nodeMs} ms` +
    (asm.nodeNoCaMs !== undefined ? ` (${asm.nodeNoCaMs} ms without this machine's NODE_EXTRA_CA_CERTS)` : '') +
    `; tdxdbg asm on a one-instruction file ${asm.cliOneLineMs ?? 'n/a'} ms` +
    (asm.cliMs !== undefined && asm.cliOneLineMs !== undefined ? ` — of the ${asm.cliMs} ms: Node's start ${asm.nodeMs}, ours to start ${Math.round(asm.cliOneLineMs - asm.nodeMs)}, assembling the 5,000 lines cold ${Math.round(asm.cliMs - asm.cliOneLineMs)}` : ''));
  log(asm.kernel
    ? `assemble: kernel ${asm.kernel.file}, ${asm.kernel.lines} lines: ${asm.kernel.ms} ms in-process (first run ${asm.kernel.coldMs} ms); GNU as ${asm.kernel.asMs} ms (process start included)`
    : 'assemble: kernel file n/a (no prepared tree: scripts/kernel-tree.sh 6.12, or TDX_KERNEL_CACHE)');
}

main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
