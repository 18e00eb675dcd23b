// The user's toolchain: argument arrays (no shell, so nothing in a path or argument is
// interpreted), gcc/gas messages as located diagnostics, a missing compiler and untrusted
// workspaces as clear launch errors, `.c` programs and `objects` needing "toolchain".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { ConfigError } from '../../emulator/session/config';
import { LoadError } from '../../emulator/loader/diagnostics';
import { compileWithToolchain, compilerArgv, parseCompilerOutput } from '../../emulator/loader/toolchain';
import { tempDir } from '../unit/elfOracle';
import { C_DIR } from './helpers';

test('compilerArgv: -c -g, include paths, defines, then the user\'s args (which may override)', () => {
  const argv = compilerArgv('a.c', '/o/a.o', { compiler: 'clang', args: ['-O2', '-gdwarf-4'], includePaths: ['inc'] }, { cwd: '/w', includePaths: ['/x'], defines: { A: '1' } });
  assert.deepEqual(argv, ['clang', '-c', '-g', '-I', '/w/inc', '-I', '/x', '-DA=1', '-O2', '-gdwarf-4', '-o', '/o/a.o', '/w/a.c']);
});

test('no shell: spaces and shell syntax in paths and arguments are passed literally', async () => {
  const dir = join(tempDir('tdx-tc-'), 'a dir; $(touch pwned)');
  mkdirSync(dir);
  const src = join(dir, 'f $(x).c');
  writeFileSync(src, 'unsigned long long f(void) { return V; }\n');
  const r = await compileWithToolchain(src, { args: ['-DV=41+1', '-DUNUSED=$(touch pwned2)'] }, { cwd: dir, outDir: dir });
  assert.ok(existsSync(r.object));
  assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync(join(dir, 'pwned2')) && !existsSync('pwned2'));
  const s = await Session.create({ program: r.object, entry: 'f' }, { cwd: dir });
  s.run();
  assert.equal(s.machine.getReg('rax'), 42n);
});

test('gcc errors and warnings become diagnostics with file:line:col and include chains', async () => {
  const dir = tempDir('tdx-tc-');
  writeFileSync(join(dir, 'bad.h'), 'struct s { int a; };\nint g(void) { return nope; }\n');
  writeFileSync(join(dir, 'bad.c'), '#include "bad.h"\nint f(int x) {\n  int unused;\n  return x +;\n}\n');
  await assert.rejects(compileWithToolchain(join(dir, 'bad.c'), { args: ['-Wall'] }, { cwd: dir }), (e: unknown) => {
    assert.ok(e instanceof LoadError);
    const inHeader = e.diagnostics.find((d) => d.location?.file === join(dir, 'bad.h'));
    assert.ok(inHeader, e.message);
    assert.equal(inHeader.location?.line, 2);
    assert.equal(inHeader.related?.[0].location.file, join(dir, 'bad.c'), 'included from bad.c');
    const syntax = e.diagnostics.find((d) => d.severity === 'error' && d.location?.file === join(dir, 'bad.c'));
    assert.deepEqual([syntax?.location?.line, syntax?.location?.column], [4, 13]);
    assert.ok(e.diagnostics.some((d) => d.severity === 'warning' && /unused/.test(d.message)));
    return true;
  });
});

test('gas errors in a .S file are located at the source line', async () => {
  const dir = tempDir('tdx-tc-');
  writeFileSync(join(dir, 'bad.S'), '\t.text\nf:\n\tmov %rax, %rbx\n\tfrobnicate %rax\n\tret\n');
  await assert.rejects(compileWithToolchain(join(dir, 'bad.S'), {}, { cwd: dir }), (e: unknown) => {
    assert.ok(e instanceof LoadError);
    const d = e.diagnostics.find((x) => x.severity === 'error');
    assert.equal(d?.location?.file, join(dir, 'bad.S'));
    assert.equal(d?.location?.line, 4);
    assert.match(d?.message ?? '', /frobnicate/);
    return true;
  });
});

test('parseCompilerOutput: clang fatal errors, driver messages without a place, notes attached', () => {
  const d = parseCompilerOutput([
    'x.c:3:10: fatal error: \'missing.h\' file not found',
    '    3 | #include "missing.h"',
    '      |          ^~~~~~~~~~~',
    'clang: error: unknown argument: \'-mfoo\'',
    'y.c:5:6: error: conflicting types for \'f\'',
    'y.c:2:6: note: previous declaration of \'f\' with type \'int(void)\'',
  ].join('\n'), '/w');
  assert.equal(d.length, 3);
  assert.deepEqual(d[0].location, { file: '/w/x.c', line: 3, column: 10 });
  assert.equal(d[0].severity, 'error');
  assert.equal(d[1].location, undefined);
  assert.match(d[1].message, /unknown argument/);
  assert.equal(d[2].related?.[0].location.line, 2);
});

test('a missing compiler is a launch error that suggests the built-in assembler', async () => {
  await assert.rejects(Session.create({ program: 'tdx_wrappers.S', toolchain: { compiler: 'tdxdbg-no-such-cc' } }, { cwd: C_DIR }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.attribute, 'toolchain.compiler');
    assert.match(e.message, /tdxdbg-no-such-cc.*could not be run.*built-in assembler/s);
    return true;
  });
});

test('untrusted workspaces refuse the toolchain and say why', async () => {
  await assert.rejects(Session.create({ program: 'hypercall.c', toolchain: { compiler: 'gcc' } }, { cwd: C_DIR, trusted: false }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.attribute, 'toolchain');
    assert.match(e.message, /untrusted workspace/);
    return true;
  });
});

test('.c programs and .S objects need "toolchain"; bad toolchain attributes are named', async () => {
  await assert.rejects(Session.create({ program: 'hypercall.c' }, { cwd: C_DIR }), (e: unknown) => e instanceof ConfigError && e.attribute === 'program' && /toolchain/.test(e.message));
  await assert.rejects(Session.create({ program: 'tdx_wrappers.S', objects: ['tdx_wrappers.S'] }, { cwd: C_DIR }), (e: unknown) => e instanceof ConfigError && e.attribute === 'program');
  await assert.rejects(Session.create({ program: 'x.S', toolchain: { cc: 'gcc' } }), (e: unknown) => e instanceof ConfigError && e.attribute === 'toolchain.cc');
  await assert.rejects(Session.create({ program: 'x.S', toolchain: { args: '-O2' } }), (e: unknown) => e instanceof ConfigError && e.attribute === 'toolchain.args');
  await assert.rejects(Session.create({ program: 'x.S', toolchain: { compiler: '' } }), (e: unknown) => e instanceof ConfigError && e.attribute === 'toolchain.compiler');
});

test('a .S program built by gcc: the TDCALL written as .byte gets its own line', async () => {
  const s = await Session.create({ program: 'tdx_wrappers.S', toolchain: { compiler: 'gcc' }, entry: '__tdcall_saved_ret', context: 'guest' }, { cwd: C_DIR });
  const tdcall = s.image.lines.find((l) => l.line === 41 && l.file.endsWith('tdx_wrappers.S'));
  assert.ok(tdcall, 'line 41 (TDCALL) has code');
  assert.deepEqual([...s.machine.readBytes(tdcall.address, 4)], [0x66, 0x0f, 0x01, 0xcc]);
  const before = s.lineAt(tdcall.address - 1n);
  assert.equal(before?.line, 40, 'the line before keeps only its own instruction');
});
