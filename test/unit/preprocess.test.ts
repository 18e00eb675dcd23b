// The preprocessor against gcc: each fixture is run through `gcc -E -P -x
// assembler-with-cpp` and through ours, and the outputs compared line by line (spacing
// normalized). Built-in headers are written to disk so gcc reads exactly what we read.
// Bad inputs must give file:line:col diagnostics that say what was expected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { constantsFromDefines, preprocess, type PreprocessOptions } from '../../emulator/loader/preprocess';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { GENERATIONS, type Generation } from '../../emulator/loader/headers';
import { gcc, normalizePp, run, tempDir, writeBuiltinHeaders } from './loaderGcc';

const PP = resolve(__dirname, '../../../test/fixtures/pp');
const INCLUDE = join(PP, 'include');

function gccPp(file: string, extra: string[] = []): string {
  const r = gcc(['-E', '-P', '-nostdinc', '-x', 'assembler-with-cpp', '-D__KERNEL__', '-D__ASSEMBLY__', '-I', INCLUDE, ...extra, file]);
  assert.equal(r.status, 0, `gcc -E failed on ${file}:\n${r.stderr}`);
  return r.stdout;
}

function ours(file: string, opts: PreprocessOptions = {}): string {
  const r = preprocess(file, { includePaths: [INCLUDE], builtinHeaders: false, ...opts });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map(formatDiagnostic), [], `unexpected diagnostics for ${file}`);
  return r.lines.map((l) => l.text).join('\n');
}

for (const name of ['macros.S', 'cond.S', 'asmtext.S', 'include.S']) {
  test(`preprocess ${name} like gcc -E -x assembler-with-cpp`, () => {
    const file = join(PP, name);
    assert.deepEqual(normalizePp(ours(file)), normalizePp(gccPp(file)));
  });
}

test('every output line names the file and line it came from', () => {
  const r = preprocess(join(PP, 'include.S'), { includePaths: [INCLUDE], builtinHeaders: false });
  const fromLocal = r.lines.find((l) => l.text.includes('0x1000'));
  assert.deepEqual(fromLocal && { file: fromLocal.file, line: fromLocal.line }, { file: join(PP, 'local.h'), line: 2 });
  const last = r.lines.find((l) => l.text.includes('LOCAL_VALUE') || l.text.includes('0x11'));
  assert.equal(last?.line, 7);
  const multi = preprocess(join(PP, 'macros.S'), { builtinHeaders: false }).lines.find((l) => /\b9\b/.test(l.text) && l.text.includes('.quad'));
  assert.equal(multi?.line, 38, 'an invocation spanning lines stays one line, at its first line');
  const asm = preprocess(join(PP, 'asmtext.S'), { builtinHeaders: false }).lines;
  assert.equal(asm.find((l) => l.text.includes('lea'))?.text, '\tlea 1f(%rip), %rsi', 'lines without macros keep their text');
});

// Built-in headers: gcc reads them from disk; kconfig.h is pre-included as the kernel build does.
const configs: { gen: Generation; defines: Record<string, string> }[] = [
  { gen: 'G5', defines: {} },
  { gen: 'G5', defines: { CONFIG_FRAME_POINTER: '1', CONFIG_MITIGATION_SLS: '1', CONFIG_TDX_TEST_OPTION: '1' } },
  { gen: 'G4', defines: { CONFIG_RETHUNK: '1', CONFIG_TDX_TEST_OPTION_MODULE: '1' } },
  { gen: 'G1', defines: { CONFIG_FRAME_POINTER: '1' } },
  { gen: 'G2', defines: {} },
];
for (const { gen, defines } of configs) {
  test(`built-in headers (${gen} ${Object.keys(defines).join(' ') || 'no options'}) match gcc and assemble`, () => {
    const dir = writeBuiltinHeaders(tempDir('tdxdbg-hdr-'), gen);
    const file = join(PP, 'kernel.S');
    const dflags = Object.entries(defines).map(([k, v]) => `-D${k}=${v}`);
    const expected = gccPp(file, ['-I', dir, '-include', join(dir, 'linux/kconfig.h'), ...dflags]);
    assert.deepEqual(normalizePp(ours(file, { builtinHeaders: true, generation: gen, defines })), normalizePp(expected));
    // gcc must also assemble what the headers produce (GAS accepts our macro bodies).
    const obj = join(dir, 'kernel.o');
    const r = gcc(['-c', '-nostdinc', '-D__KERNEL__', '-D__ASSEMBLY__', '-I', dir, '-include', join(dir, 'linux/kconfig.h'), ...dflags, '-o', obj, file]);
    assert.equal(r.status, 0, r.stderr);
  });
}

test('TDX constants from the built-in headers equal what gcc computes from them', () => {
  const names = [
    'TDX_SUCCESS', 'TDX_ERROR', 'TDX_SW_ERROR', 'TDX_SEAMCALL_VMFAILINVALID', 'TDX_SEAMCALL_GP', 'TDX_SEAMCALL_UD', 'TDX_RND_NO_ENTROPY',
    'TDX_OPERAND_INVALID', 'TDVMCALL_EXPOSE_REGS_MASK', 'TDX_R10', 'TDX_RDX', 'TDG_VP_VMCALL', 'TDH_SYS_INIT', 'TDVMCALL_MAP_GPA',
    'EX_TYPE_FAULT', 'EX_FLAG_CLEAR_AX', 'X86_CR4_VMXE', 'TDX_MODULE_version', 'EINVAL', 'ENODEV', 'EOPNOTSUPP', 'EACCES',
  ];
  for (const gen of ['G1', 'G5'] as Generation[]) {
    const dir = writeBuiltinHeaders(tempDir('tdxdbg-const-'), gen);
    const src = join(dir, 'consts.c');
    const includes = ['linux/errno.h', 'asm/tdx.h', 'asm/asm.h', 'asm/processor-flags.h', 'asm/asm-offsets.h'];
    const r = preprocess(src, { text: includes.map((h) => `#include <${h}>`).join('\n'), generation: gen, language: 'c' });
    const mine = constantsFromDefines(r.defines);
    const present = names.filter((n) => mine.has(n));
    const prog = `${includes.map((h) => `#include <${h}>`).join('\n')}\nint printf(const char *, ...);\nint main(void) {\n${present
      .map((n) => `  printf("%s %llx\\n", "${n}", (unsigned long long)(${n}));`)
      .join('\n')}\n  return 0;\n}\n`;
    writeFileSync(src, prog);
    const exe = join(dir, 'consts');
    const c = gcc(['-w', '-I', dir, '-include', join(dir, 'linux/kconfig.h'), '-o', exe, src]);
    assert.equal(c.status, 0, c.stderr);
    const expected = new Map(run(exe).trim().split('\n').map((l) => l.split(' ') as [string, string]));
    for (const n of present) assert.equal(BigInt.asUintN(64, mine.get(n)!).toString(16), expected.get(n), `${gen} ${n}`);
    assert.equal(mine.get('TDVMCALL_EXPOSE_REGS_MASK'), gen === 'G1' ? 0xfc00n : 0xffccn);
    assert.equal(mine.has('TDX_HCALL_HAS_OUTPUT'), gen === 'G1');
    assert.equal(mine.has('TDX_MODULE_version'), gen === 'G5');
  }
});

test('errno values equal the host C library headers', () => {
  const r = preprocess('e.c', { text: '#include <asm/errno.h>', language: 'c' });
  const mine = constantsFromDefines(r.defines);
  const names = [...mine.keys()].filter((n) => /^E[A-Z0-9]+$/.test(n));
  const dir = tempDir('tdxdbg-errno-');
  const src = join(dir, 'e.c');
  writeFileSync(src, `#include <errno.h>\n#include <stdio.h>\nint main(void) {\n${names.map((n) => `printf("%s %d\\n", "${n}", ${n});`).join('\n')}\nreturn 0; }\n`);
  const c = gcc(['-w', '-o', join(dir, 'e'), src]);
  assert.equal(c.status, 0, c.stderr);
  for (const line of run(join(dir, 'e')).trim().split('\n')) {
    const [n, v] = line.split(' ');
    assert.equal(mine.get(n), BigInt(v), n);
  }
});

test('generations differ where the reference says they do', () => {
  const at = (g: Generation) => constantsFromDefines(preprocess('t.S', { text: '#include <asm/tdx.h>\n#include <asm/asm-offsets.h>', generation: g }).defines);
  for (const g of GENERATIONS) {
    const c = at(g);
    assert.equal(c.get('TDVMCALL_EXPOSE_REGS_MASK'), g === 'G0' || g === 'G1' ? 0xfc00n : 0xffccn, g);
    assert.equal(c.has('TDX_HCALL_ISSUE_STI'), g === 'G1' || g === 'G2', g);
    assert.equal(c.get('TDX_HYPERCALL_r15'), g === 'G0' || g === 'G1' ? 40n : ['G2', 'G3', 'G3.5'].includes(g) ? 56n : undefined, g);
    assert.equal(c.get('TDX_MODULE_rsi'), ['G3.5', 'G4', 'G5'].includes(g) ? 96n : undefined, g);
  }
});

// ---- bad input ----

function diagnose(text: string, opts: PreprocessOptions = {}) {
  const r = preprocess('/src/bad.S', { builtinHeaders: false, readFile: () => undefined, text, ...opts });
  return r.diagnostics.map(formatDiagnostic);
}

test('errors carry file:line:col and say what was expected, several at once', () => {
  const d = preprocess(join(PP, 'errors.S'), { builtinHeaders: false, includePaths: [INCLUDE] }).diagnostics.map(formatDiagnostic);
  const f = join(PP, 'errors.S');
  const has = (re: RegExp) => assert.ok(d.some((x) => re.test(x)), `expected a diagnostic matching ${re}, got:\n${d.join('\n')}`);
  const esc = f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  has(new RegExp(`^${esc}:2:5: error: macro "F" requires 2 arguments, but only 1 given`));
  has(new RegExp(`^${esc}:3:\\d+: error: macro "F" passed 3 arguments, but takes just 2`));
  has(new RegExp(`^${esc}:4:\\d+: error: expected an operand at the end of the expression in #if`));
  has(new RegExp(`^${esc}:6:\\d+: error: expected '\\)' to close the parenthesis`));
  has(new RegExp(`^${esc}:8:7: error: division by zero`));
  has(new RegExp(`^${esc}:10:1: error: #error stop here: VALUE`));
  has(new RegExp(`^${esc}:11:1: warning: #warning heads up`));
  has(new RegExp(`^${esc}:12:10: error: no_such_header.h: no such file; searched: .*pp, .*include`));
  has(new RegExp(`^${esc}:13:9: error: macro names must be identifiers`));
  has(new RegExp(`^${esc}:14:\\d+: error: duplicate macro parameter "a"`));
  has(new RegExp(`^${esc}:15:2: error: #else without #if`));
  has(new RegExp(`^${esc}:16:2: error: #endif without #if`));
  has(new RegExp(`^${esc}:18:2: error: unterminated argument list invoking macro "F"`));
  has(new RegExp(`^${esc}:17:1: error: unterminated #if`));
});

test('short-circuited operands raise nothing; unterminated conditionals are reported at their #if', () => {
  assert.deepEqual(diagnose('#if 0 && 1/0\n#endif\n#if 1 || 1/0\n#endif\n'), []);
  assert.deepEqual(diagnose('#ifdef A\n#if 1\n#else\n'), [
    '/src/bad.S:1:1: error: unterminated #ifdef: no matching #endif in this file',
    '/src/bad.S:2:1: error: unterminated #if (in its #else): no matching #endif in this file',
  ]);
  assert.deepEqual(diagnose('  #if 1\n#else\n'), ['/src/bad.S:1:3: error: unterminated #if (in its #else): no matching #endif in this file']);
  assert.match(diagnose('#if 1\n#else\n#elif 1\n#endif\n')[0], /^\/src\/bad.S:3:2: error: #elif after #else/);
  assert.match(diagnose('#if 08\n#endif\n')[0], /invalid suffix|invalid/);
  assert.match(diagnose('#if 1.5\n#endif\n')[0], /^\/src\/bad.S:1:5: error: floating constant/);
  assert.match(diagnose('#if defined\n#endif\n')[0], /operator "defined" requires an identifier/);
  assert.match(diagnose('#if\n#endif\n')[0], /^\/src\/bad.S:1:2: error: #if with no expression/);
});

test('include recursion and runaway macros stop with an error, never hang', () => {
  const self = diagnose('#include "bad.S"\n', { readFile: (p) => (p === '/src/bad.S' ? '#include "bad.S"\n' : undefined) });
  assert.equal(self.length, 1);
  assert.match(self[0], /^\/src\/bad.S:1:2: error: "bad.S" includes itself 8 levels deep: an #include cycle without an include guard/);
  const lines = ['#define X0 1'];
  for (let i = 1; i <= 40; i++) lines.push(`#define X${i} X${i - 1} X${i - 1}`);
  lines.push('.quad X40');
  const started = Date.now();
  const d = diagnose(lines.join('\n'));
  assert.match(d[0], /^\/src\/bad.S:42:7: error: macro expansion limit reached/);
  assert.ok(Date.now() - started < 5000);
  assert.match(diagnose('/* never closed\n.quad 1\n')[0], /^\/src\/bad.S:1:1: error: unterminated comment/);
  const missing = diagnose('#include <nope/x.h>\n', { includePaths: ['/a', '/b'], builtinHeaders: true });
  assert.match(missing[0], /^\/src\/bad.S:1:10: error: nope\/x.h: no such file; searched: \/a, \/b, <built-in headers>/);
});

test('-D style defines and redefinition warnings', () => {
  const r = preprocess('/src/d.S', { text: '#define A 1\n#define A 2\n.quad A, B, M(3)\n', builtinHeaders: false, defines: { B: '0x10', 'M(x)': '((x) * 2)' } });
  assert.deepEqual(r.lines.map((l) => l.text), ['.quad 2, 0x10, ((3) * 2)']);
  assert.equal(formatDiagnostic(r.diagnostics[0]), '/src/d.S:2:9: warning: "A" redefined\n/src/d.S:1:9: note: this is the location of the previous definition');
  assert.deepEqual(constantsFromDefines(r.defines).get('A'), 2n);
});
