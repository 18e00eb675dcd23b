// The fault matrix as the editor shows it, without VS Code: the launch configuration for a
// function, the run (a Session on the calling thread — the extension calls it on its worker
// thread, heavyWork.ts — cancellable between scenarios), the read-only table
// document, and one Test Explorer verdict per site × fault against an expectation file beside
// the source (`<file>.<entry>.matrix.json` or `<file>.matrix.json`, the `tdxdbg matrix --json` shape).

import { diffMatrix, matrixTable, scenarioResult, siteLabel } from '../emulator/matrix/report';
import type { MatrixResult, MatrixScenario, MatrixStats } from '../emulator/matrix/matrix';

/** Thrown out of the matrix loop when the user cancels. */
export class MatrixCancelled extends Error {
  constructor() { super('fault matrix cancelled'); this.name = 'MatrixCancelled'; }
}

/** Expectation files looked for beside a source, most specific first. */
export function expectationPaths(source: string, entry: string): string[] {
  return [`${source}.${entry}.matrix.json`, `${source}.matrix.json`];
}

/** Reads an expectation file's text; undefined with a reason when it is not a matrix result. */
export function parseExpectation(text: string): { result?: MatrixResult; error?: string } {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { return { error: `not valid JSON (${(e as Error).message})` }; }
  const r = v as MatrixResult;
  if (!r || !Array.isArray(r.sites) || !Array.isArray(r.scenarios) || !Array.isArray(r.abi)) return { error: 'not a matrix result (needs "sites", "scenarios" and "abi", as `tdxdbg matrix --json` writes)' };
  return { result: r };
}

/**
 * Runs the matrix for a launch configuration in this process. `isCancelled` is asked after
 * every scenario; `onProgress` reports (done, total). The emulator loads on first use.
 */
export async function runFunctionMatrix(config: Record<string, unknown>, cwd: string,
  hooks: { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean } = {}, text?: string): Promise<{ result: MatrixResult; stats: MatrixStats }> {
  const { Session } = await import('../emulator/session/session');
  const { runMatrix } = await import('../emulator/matrix/matrix');
  // `text`: the editor's unsaved content (the file on disk is left as it is).
  const session = await Session.create(config, { cwd, text });
  // Let the progress notification paint before the synchronous scenario loop starts.
  await new Promise((r) => setImmediate(r));
  return runMatrix(session, {
    onProgress: (done, total) => {
      if (hooks.isCancelled?.()) throw new MatrixCancelled();
      hooks.onProgress?.(done, total);
    },
  });
}

/** One Test Explorer entry: a site × fault scenario and its verdict. */
export interface ScenarioVerdict {
  /** Stable id: `site label × fault`. */
  id: string;
  site: string;
  fault: string;
  /** `returned 0xfffffff3 (-EACCES)`, `panic: …`. */
  result: string;
  /** `passed`/`failed` against the expectation; `info` without one. */
  verdict: 'passed' | 'failed' | 'info';
  /** failed: what changed; info: what happened. */
  message: string;
}

const FIELDS: (keyof MatrixScenario)[] = ['outcome', 'rax', 'meaning', 'vector', 'rip', 'message'];

/** Verdicts for every scenario of `actual`, plus expected scenarios that no longer run (failed). */
export function scenarioVerdicts(actual: MatrixResult, expected?: MatrixResult): ScenarioVerdict[] {
  const key = (r: MatrixResult, x: MatrixScenario) => `${siteLabel(r.sites[x.site])} × ${x.fault}`;
  const want = new Map(expected?.scenarios.map((x) => [key(expected, x), x]) ?? []);
  const out: ScenarioVerdict[] = actual.scenarios.map((x) => {
    const id = key(actual, x), site = siteLabel(actual.sites[x.site]), result = `${x.outcome}: ${scenarioResult(x)}`;
    if (!expected) return { id, site, fault: x.fault, result, verdict: 'info', message: result };
    const e = want.get(id);
    if (!e) return { id, site, fault: x.fault, result, verdict: 'failed', message: `new scenario (not in the expectation file): ${result}` };
    const changed = FIELDS.filter((f) => e[f] !== x[f]);
    return changed.length
      ? { id, site, fault: x.fault, result, verdict: 'failed', message: `expected ${e.outcome}: ${scenarioResult(e)}; got ${result} (${changed.join(', ')} differ)` }
      : { id, site, fault: x.fault, result, verdict: 'passed', message: result };
  });
  if (expected) {
    const have = new Set(out.map((v) => v.id));
    for (const [id, e] of want) {
      if (have.has(id)) continue;
      out.push({ id, site: siteLabel(expected.sites[e.site]), fault: e.fault, result: 'not run', verdict: 'failed', message: `expected ${e.outcome}: ${scenarioResult(e)}; the scenario no longer runs (site not reached?)` });
    }
  }
  return out;
}

/** The read-only document: what ran, the table, and the comparison with the expectation file. */
export function matrixDocument(opts: { program: string; entry: string; result: MatrixResult; stats?: MatrixStats; expectation?: { path: string; result?: MatrixResult; error?: string }; configuration?: string }): string {
  const { result, stats, expectation } = opts;
  const lines = [`Fault matrix: ${opts.entry} in ${opts.program}`];
  if (opts.configuration) lines.push(`Configuration: ${opts.configuration}`);
  if (stats) lines.push(`${result.scenarios.length} scenarios in ${Math.round(stats.ms)} ms (clean run: ${stats.cleanInstructions.toLocaleString('en-US')} instructions, ${stats.clean.message})`);
  lines.push('', matrixTable(result), '');
  if (!expectation) lines.push('No expectation file: results are informational. Save `tdxdbg matrix --json` output beside the source as <file>.<entry>.matrix.json (or <file>.matrix.json) to hold this behaviour.');
  else if (expectation.error) lines.push(`Expectation ${expectation.path}: ${expectation.error}`);
  else if (expectation.result) {
    const diff = diffMatrix(expectation.result, result);
    lines.push(diff.length ? `${diff.length} difference${diff.length === 1 ? '' : 's'} from ${expectation.path} (- expected only, + actual only, ~ changed):` : `Matches ${expectation.path}.`);
    for (const d of diff) lines.push(`  ${d}`);
  }
  return lines.join('\n') + '\n';
}
