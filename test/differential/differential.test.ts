// The differential suite: every instruction form runs natively on the host CPU and in the
// emulator from the same inputs; registers, defined flags, RIP/faults and touched memory must
// agree. Quick by default (every form × 8 inputs); TDX_DIFF_FULL=1 runs every form × 64.
// TDX_DIFF_FORMS=<regex> narrows the forms, TDX_DIFF_SEED=<n> changes the inputs.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import test from 'node:test';
import type { Case } from './builder';
import { compareCase, formatReport } from './compare';
import { runEmulatorSide } from './emulatorSide';
import { REQUIRED_MNEMONICS, allForms } from './forms/index';
import { RECORDS } from '../../emulator/exec/index';
import { NativeRun, runNative } from './native';
import { DEFAULT_SEED, generateCases, unexpectedNativeFaults } from './suite';

const FULL = process.env.TDX_DIFF_FULL === '1';
const INPUTS = FULL ? 64 : 8;
const MIN_FORMS = 250;

function hostProblem(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `needs an x86-64 Linux host (this is ${process.platform}/${process.arch})`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs gcc (with static glibc) on PATH';
  }
  return undefined;
}

const skip = hostProblem();
let prepared: { cases: Case[]; native: NativeRun } | undefined;

function prepare(): { cases: Case[]; native: NativeRun } {
  if (!prepared) {
    const cases = generateCases({
      inputs: INPUTS,
      seed: Number(process.env.TDX_DIFF_SEED ?? DEFAULT_SEED),
      filter: process.env.TDX_DIFF_FORMS ? new RegExp(process.env.TDX_DIFF_FORMS) : undefined,
    });
    prepared = { cases, native: runNative(cases) };
  }
  return prepared;
}

test('the form catalogue covers every user-mode mnemonic of issue 2 with at least 250 forms', () => {
  const forms = allForms();
  const mnemonics = new Set(forms.map((f) => f.mnemonic));
  assert.deepEqual(REQUIRED_MNEMONICS.filter((m) => !mnemonics.has(m)), []);
  assert.ok(forms.length >= MIN_FORMS, `${forms.length} forms, need ${MIN_FORMS}`);
});

test('the native runner executes every case and faults only where a form expects it', { skip }, () => {
  const { cases, native } = prepare();
  assert.equal(native.results.length, cases.length);
  assert.deepEqual(unexpectedNativeFaults(cases, native.results).slice(0, 10), []);
  // #DE must be observed natively, or the divide forms test nothing.
  if (!process.env.TDX_DIFF_FORMS) assert.ok(native.results.some((r) => r.vector === 0), 'no native #DE recorded');
});

test('the comparison notices a wrong register, flag or byte', { skip }, () => {
  const { cases, native } = prepare();
  const i = cases.findIndex((_c, k) => native.results[k].vector < 0);
  const c = cases[i];
  const exp = native.results[i];
  const stop = { kind: 'breakpoint' as const, address: exp.rip, message: '' };
  assert.equal(compareCase(c, exp, { ...exp }, stop), null);
  const regs = exp.regs.slice();
  regs[3] ^= 1n << 40n;
  assert.match(compareCase(c, exp, { ...exp, regs }, stop)!.problems.join('\n'), /^rbx:/m);
  assert.ok(compareCase(c, exp, { ...exp, rflags: exp.rflags ^ 0x400n }, stop));
  assert.ok(compareCase(c, exp, { ...exp, memory: new Map([[0x10, 1], ...exp.memory]) }, stop));
  assert.ok(compareCase(c, exp, { ...exp }, { ...stop, address: exp.rip + 1n }));
  assert.match(compareCase(c, exp, { ...exp, xmm: exp.xmm.map((v, k) => (k === 9 ? v ^ (1n << 100n) : v)) }, stop)!.problems.join('\n'), /^xmm9:/m);
  assert.match(compareCase(c, exp, { ...exp, mxcsr: exp.mxcsr ^ 0x20 }, stop)!.problems.join('\n'), /^mxcsr:/m);
});

for (const [mode, threshold, generic, flagsDead] of [['interpreted', Infinity, false, false], ['interpreted by the generic handlers only', Infinity, true, false], ['compiled into blocks', 0, false, false],
  ['compiled into blocks, status flags taken as never read outside a block (the dead-flag code; status flags not compared)', 0, false, true]] as const) {
  test(`the emulator agrees with the host CPU, ${mode} (${FULL ? 'full' : 'quick'}: every form × ${INPUTS} inputs)`, { skip }, () => {
    const { cases, native } = prepare();
    const report = runEmulatorSide(cases, native, threshold, generic, flagsDead);
    const text = formatReport(report, { limit: 25 });
    console.log(`${text.split('\n')[0]}; native ${native.built ? `built in ${native.buildMs} ms, ` : '(cached), '}ran in ${native.runMs} ms`);
    if (!process.env.TDX_DIFF_FORMS) assert.ok(report.forms >= MIN_FORMS, `only ${report.forms} forms ran`);
    assert.equal(report.mismatches.length, 0, text);
    // Every specialised form of the instruction table ran (the generic path runs none by design).
    if (!process.env.TDX_DIFF_FORMS) {
      const unused = RECORDS.flatMap((r) => (r.forms ?? []).map((f, k) => ({ r, f, k }))).filter((u) => generic ? report.formsUsed.has(u.f) : !report.formsUsed.has(u.f));
      assert.deepEqual(unused.map((u) => `${u.r.name} form ${u.k}`), [], generic ? 'specialised forms ran on the generic path' : 'specialised forms no case exercised');
    }
  });
}
