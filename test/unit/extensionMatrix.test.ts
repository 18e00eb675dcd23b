// The fault matrix as the extension shows it, without VS Code: a real matrix of the bundled
// SEAMCALL example run in-process, Test Explorer verdicts against the committed expectation
// (all pass; a changed expectation fails exactly that scenario), the table document, and the
// expectation file names and parsing. Expected outcomes come from test/matrix/expected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { MatrixCancelled, expectationPaths, matrixDocument, parseExpectation, runFunctionMatrix, scenarioVerdicts } from '../../extension/matrixModel';
import { configurationFor } from '../../extension/launchDefaults';
import type { MatrixResult } from '../../emulator/matrix/matrix';

const ROOT = projectRoot();
const SEAMCALL = join(ROOT, 'examples/seamcall.S');

test('expectation files: <file>.<entry>.matrix.json first, then <file>.matrix.json; bad files are named', () => {
  assert.deepEqual(expectationPaths('/w/a.S', 'f'), ['/w/a.S.f.matrix.json', '/w/a.S.matrix.json']);
  assert.match(parseExpectation('{').error!, /not valid JSON/);
  assert.match(parseExpectation('{"sites": []}').error!, /not a matrix result/);
});

test('the matrix of tdx_sys_init in-process: verdicts pass against the committed expectation, and a change fails one scenario', async () => {
  const text = readFileSync(SEAMCALL, 'utf8');
  const config = configurationFor(SEAMCALL, text, 'host', 'tdx_sys_init');
  const seen: number[] = [];
  const { result } = await runFunctionMatrix({ ...config, stopOnEntry: false }, ROOT, { onProgress: (d) => seen.push(d) });
  assert.ok(result.scenarios.length > 3 && seen.at(-1) === result.scenarios.length);
  const expected = parseExpectation(readFileSync(join(ROOT, 'test/matrix/expected/seamcall-sys-init.json'), 'utf8')).result as MatrixResult;
  const ok = scenarioVerdicts(result, expected);
  assert.deepEqual([...new Set(ok.map((v) => v.verdict))], ['passed'], ok.filter((v) => v.verdict !== 'passed').map((v) => v.message).join('\n'));
  const gp = expected.scenarios.findIndex((x) => x.fault === '#GP');
  assert.ok(gp >= 0, 'the expectation has a #GP scenario');
  const changed: MatrixResult = { ...expected, scenarios: expected.scenarios.map((x, i) => (i === gp ? { ...x, outcome: 'panic', message: 'x' } : x)) };
  const v = scenarioVerdicts(result, changed);
  assert.deepEqual(v.filter((x) => x.verdict === 'failed').map((x) => x.fault), ['#GP']);
  assert.match(v.find((x) => x.verdict === 'failed')!.message, /^expected panic: x; got returned/);
  assert.deepEqual([...new Set(scenarioVerdicts(result).map((x) => x.verdict))], ['info']);
  const doc = matrixDocument({ program: 'examples/seamcall.S', entry: 'tdx_sys_init', result, expectation: { path: 'x.json', result: expected } });
  assert.match(doc, /^Fault matrix: tdx_sys_init in examples\/seamcall\.S/);
  assert.match(doc, /Matches x\.json\./);
});

test('cancelling stops the matrix between scenarios', async () => {
  const text = readFileSync(SEAMCALL, 'utf8');
  const config = configurationFor(SEAMCALL, text, 'host', 'tdx_sys_init');
  let n = 0;
  await assert.rejects(runFunctionMatrix({ ...config, stopOnEntry: false }, ROOT, { isCancelled: () => ++n > 2 }), MatrixCancelled);
  assert.equal(n, 3);
});
