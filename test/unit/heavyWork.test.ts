// The editor's heavy work on a worker thread (extension/heavyWork.ts), without VS Code: the fault
// matrix and builds give the same results as on the calling thread; while the matrix runs, the
// calling thread keeps turning (the in-process run, for contrast, holds it until the end);
// cancelling stops the matrix between scenarios; a worker that cannot start fails its job with
// a message and the next job gets a fresh worker. Expected values: the in-process results.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { HeavyWork, JobCancelled, inProcess } from '../../extension/heavyWork';
import { runFunctionMatrix } from '../../extension/matrixModel';
import { configurationFor } from '../../extension/launchDefaults';
import { buildOptionsOf } from '../../extension/configResolver';

const ROOT = projectRoot();
const SCRIPT = join(ROOT, 'dist/extensionWorker.js');
const SEAMCALL = join(ROOT, 'examples/seamcall.S');
const BAD = join(ROOT, 'test/dap/fixtures/bad.S');
const work = new HeavyWork(SCRIPT);
after(() => work.dispose());

function matrixConfig(): Record<string, unknown> {
  const text = readFileSync(SEAMCALL, 'utf8');
  return { ...configurationFor(SEAMCALL, text, 'host', 'tdx_sys_init'), stopOnEntry: false } as Record<string, unknown>;
}

/**
 * Runs `job`; at its first progress report schedules a callback on this thread's event loop.
 * Says whether that callback ran before the job finished (this thread was free meanwhile).
 */
async function turnsWhileRunning<T>(job: (onProgress: () => void) => Promise<T>): Promise<{ value: T; turned: boolean; reports: number }> {
  let finished = false, turned: boolean | undefined, reports = 0;
  const value = await job(() => {
    if (reports++ === 0) setImmediate(() => { turned = !finished; });
  });
  finished = true;
  await new Promise((r) => setImmediate(r));
  return { value, turned: turned === true, reports };
}

test('the fault matrix on the worker: the same result as in-process, and the calling thread keeps turning meanwhile', async () => {
  const config = matrixConfig();
  const local = await turnsWhileRunning((p) => runFunctionMatrix(config, ROOT, { onProgress: p }));
  assert.ok(local.reports > 3, `${local.reports} scenarios`);
  assert.equal(local.turned, false, 'in-process, the matrix holds the thread until it ends (the probe can see a blocked thread)');
  const remote = await turnsWhileRunning((p) => work.matrix(config, ROOT, undefined, { onProgress: p }));
  assert.equal(remote.turned, true, 'on the worker, this thread ran a callback while the matrix was still running');
  assert.equal(remote.reports, local.reports);
  assert.deepEqual(remote.value.result, local.value.result);
});

test('builds on the worker: the same diagnostics and hover facts as in-process', async () => {
  for (const file of [SEAMCALL, BAD]) {
    const opts = buildOptionsOf({});
    const [a, b] = [await inProcess.build(file, opts), await work.build(file, opts)];
    assert.deepEqual(b.diagnostics, a.diagnostics, file);
    assert.deepEqual(b.facts?.constants, a.facts?.constants);
    assert.deepEqual(b.facts?.structs, a.facts?.structs);
  }
  const bad = await work.build(BAD, {});
  assert.ok(bad.diagnostics.some((d) => d.severity === 'error' && d.location?.file === BAD), 'bad.S has an error with its location');
  assert.equal(bad.facts, undefined);
});

test('cancelling the matrix on the worker stops it between scenarios', async () => {
  // Scenarios fork at the call: each spins 3M instructions after it returns, so the cancel sent
  // at the first progress report reaches the worker long before the last scenario ends, however
  // slowly this thread is scheduled.
  const dir = mkdtempSync(join(tmpdir(), 'heavy-'));
  const slow = join(dir, 'seamcall.S');
  const spin = '\tpushq %rax\n\tmovl $1500000, %eax\n.Lspin:\tdecl %eax\n\tjnz .Lspin\n\tpopq %rax\n';
  const source = readFileSync(SEAMCALL, 'utf8');
  assert.ok(source.includes('\tcall\t__seamcall_ret\n\tmovq\t%rax, %rbx\n'), 'the example still calls __seamcall_ret from tdx_sys_init');
  writeFileSync(slow, source.replace('\tcall\t__seamcall_ret\n\tmovq\t%rax, %rbx\n', `\tcall\t__seamcall_ret\n${spin}\tmovq\t%rax, %rbx\n`));
  const config = { ...configurationFor(slow, readFileSync(slow, 'utf8'), 'host', 'tdx_sys_init'), stopOnEntry: false, includePaths: [join(ROOT, 'examples')] } as Record<string, unknown>;
  let cancel = false, reports = 0;
  const token = { get isCancellationRequested() { return cancel; }, onCancellationRequested: (f: () => void) => { hooks.push(f); } };
  const hooks: (() => void)[] = [];
  try {
    await assert.rejects(work.matrix(config, dir, undefined, { token, onProgress: () => { if (++reports === 1) { cancel = true; hooks.forEach((f) => f()); } } }), JobCancelled);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The worker is free again: the next job runs.
  assert.ok((await work.build(SEAMCALL, {})).facts);
});

test('a worker that cannot start fails its job with a message; the next job gets a fresh worker', async () => {
  const broken = new HeavyWork(join(ROOT, 'no-such-worker.js'));
  await assert.rejects(broken.build(SEAMCALL, {}), /assembling .*seamcall\.S failed: .*no-such-worker/);
  await assert.rejects(broken.build(SEAMCALL, {}), /failed/);
  broken.dispose();
  await assert.rejects(broken.build(SEAMCALL, {}), /shutting down/);
});
