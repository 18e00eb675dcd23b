// `tdxdbg matrix`: runs the entry once cleanly, then every TDCALL/SEAMCALL/TDG.VP.VMCALL call
// site it reached under every applicable fault, from checkpoints taken just before each call,
// and prints the outcomes as a table (or `--json`). `--expect FILE` compares with a saved
// `--json` and exits 1 on any difference, printing it. Exit 0 otherwise, 2 for bad usage.

import { readFileSync, existsSync } from 'node:fs';
import { parseRunArgs, loadSession, UsageError, RUN_USAGE } from './run';
import { runMatrix, type MatrixResult } from '../emulator/matrix/matrix';
import { matrixTable, matrixJson, diffMatrix } from '../emulator/matrix/report';

export const MATRIX_USAGE = `usage: tdxdbg matrix FILE --entry SYMBOL [same options as run] [--json] [--expect FILE]
          [--budget N] [--once] [--no-progress]
  --budget N     instructions a scenario may run before it counts as a hang
                 (default: 20x the clean run, at least 100,000)
  --once         inject at the first call of each site only (default: at every call of the site)
  --expect FILE  compare with a saved --json result; exit 1 on any difference
${RUN_USAGE.replace(/^usage: tdxdbg run FILE --entry SYMBOL/, 'run options:')}`;

export async function matrixCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(MATRIX_USAGE + '\n'); return 0; }
  const once = argv.includes('--once');
  let parsed;
  try {
    parsed = parseRunArgs(argv.filter((a) => a !== '--once'), 'matrix');
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tdxdbg matrix: ${e.message}\n${MATRIX_USAGE}\n`); return 2; }
    throw e;
  }
  const budgetText = parsed.extra.get('--budget');
  if (budgetText !== undefined && !/^\d+$/.test(budgetText)) { process.stderr.write(`tdxdbg matrix: --budget needs a positive integer (got '${budgetText}')\n`); return 2; }
  const expectPath = parsed.extra.get('--expect');
  let expected: MatrixResult | undefined;
  if (expectPath !== undefined) {
    if (!existsSync(expectPath)) { process.stderr.write(`tdxdbg matrix: --expect: no such file '${expectPath}'\n`); return 2; }
    try { expected = JSON.parse(readFileSync(expectPath, 'utf8')) as MatrixResult; } catch (e) {
      process.stderr.write(`tdxdbg matrix: --expect ${expectPath}: not valid JSON (${(e as Error).message})\n`); return 2;
    }
    if (!Array.isArray(expected?.sites) || !Array.isArray(expected?.scenarios) || !Array.isArray(expected?.abi)) {
      process.stderr.write(`tdxdbg matrix: --expect ${expectPath}: not a matrix result (needs "sites", "scenarios" and "abi")\n`); return 2;
    }
  }
  const s = await loadSession(parsed.config);
  if (typeof s === 'number') return s;
  const tty = process.stderr.isTTY === true && !parsed.extra.has('--no-progress');
  let lastDraw = 0;
  const { result, stats } = runMatrix(s, {
    budget: budgetText !== undefined ? Number(budgetText) : undefined,
    once,
    onProgress: tty ? (done, total) => {
      const now = Date.now();
      if (done !== total && now - lastDraw < 50) return;
      lastDraw = now;
      const width = 30, filled = Math.round((done / Math.max(total, 1)) * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} scenarios`);
      if (done === total) process.stderr.write('\r\x1b[K');
    } : undefined,
  });
  if (parsed.json) process.stdout.write(matrixJson(result));
  else {
    process.stdout.write(`${s.context} context, entry ${s.describe(s.entry.address)}; clean run: ${stats.clean.reason} — ${stats.clean.message} (${stats.cleanInstructions} instructions)\n`);
    process.stdout.write(matrixTable(result) + '\n');
    process.stdout.write(`${result.scenarios.length} scenarios in ${stats.ms.toFixed(0)} ms (${Math.round(stats.scenariosPerSecond)}/s), hang budget ${stats.scenarioBudget.toLocaleString('en-US')} instructions\n`);
  }
  if (expected) {
    const diff = diffMatrix(expected, result);
    if (diff.length) {
      process.stderr.write(`tdxdbg matrix: ${diff.length} difference${diff.length === 1 ? '' : 's'} from ${expectPath} (- expected only, + actual only, ~ changed):\n`);
      for (const d of diff) process.stderr.write(`  ${d}\n`);
      return 1;
    }
    if (!parsed.json) process.stdout.write(`matches ${expectPath}\n`);
  }
  return 0;
}
