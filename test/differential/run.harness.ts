// Command-line entry of the differential suite, for reproducing and debugging:
//   node out/test/differential/run.harness.js [--full] [--form REGEX] [--case N] [--seed N] [--native-only] [--show]
// Without --native-only it runs the emulator side too and prints the mismatch report.

import { runNative } from './native';
import { DEFAULT_SEED, generateCases, unexpectedNativeFaults } from './suite';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const full = process.argv.includes('--full');
  const form = arg('--form');
  const only = arg('--case');
  const cases = generateCases({
    // A case is fixed by (form, input index, seed), so --case N reproduces it from either suite.
    inputs: Math.max(full ? 64 : 8, only === undefined ? 0 : Number(only) + 1),
    seed: Number(arg('--seed') ?? DEFAULT_SEED),
    filter: form ? new RegExp(form) : undefined,
    only: only === undefined ? undefined : Number(only),
  });
  const native = runNative(cases);
  const forms = new Set(cases.map((c) => c.form.name)).size;
  console.log(`${forms} forms, ${cases.length} cases; native ${native.built ? `built in ${native.buildMs} ms, ` : '(cached) '}ran in ${native.runMs} ms: ${native.program}`);
  const bad = unexpectedNativeFaults(cases, native.results);
  if (bad.length) console.log(`${bad.length} unexpected native faults:\n${bad.slice(0, 20).join('\n')}`);
  if (process.argv.includes('--show')) {
    cases.forEach((c, i) => {
      const r = native.results[i];
      console.log(`${c.form.name} #${c.index}: ${c.asm.join(' ; ')}\n  -> vector ${r.vector} rip 0x${r.rip.toString(16)} rflags 0x${r.rflags.toString(16)} mem ${r.memory.size}B`);
    });
  }
  if (process.argv.includes('--native-only')) return;
  const { runEmulatorSide } = await import('./emulatorSide');
  const { formatReport } = await import('./compare');
  const report = runEmulatorSide(cases, native);
  console.log(formatReport(report, { limit: Number(arg('--limit') ?? 20) }));
  process.exitCode = report.mismatches.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
