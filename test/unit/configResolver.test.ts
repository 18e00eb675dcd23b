// The configuration resolver (extension/configResolver.ts, emulator/session/resolveConfig.ts)
// on the G0-shaped seed workspace (test/e2e/seed: a hypercall wrapper using TDX_HYPERCALL_r10…r15
// and TDX_HCALL_HAS_OUTPUT, its tdx.h, its asm-offsets.c): with no configuration at all the file
// assembles and runs to its TDCALL with the six-register overlay named by the asm-offsets
// source; relative launch.json paths resolve against the workspace folder; a launch.json entry
// wins for its function and lends its build attributes to the others. The generation table
// (G0: the 2022 patch series, six registers, ud2 on failure; G5: tdx_module_args + version) is
// the one the README cites; struct offsets are the x86-64 SysV ones of six u64 fields.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { resolveLaunch, launchEntriesFor, suggestFix, buildOptionsOf } from '../../extension/configResolver';
import { absolutizePaths, findCompanions, inferGeneration, substituteVariables } from '../../emulator/session/resolveConfig';
import { guessContext, Session } from '../../emulator/session/session';
import { buildImage } from '../../emulator/loader/buildImage';

const ROOT = projectRoot();
const SEED = join(ROOT, 'test/e2e/seed');

/** A private copy of the seed (tests write launch files next to it). */
function seedCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-seed-'));
  cpSync(SEED, dir, { recursive: true });
  return dir;
}

test('G0 seed, no configuration: generation, asm-offsets and header beside the file, struct argument', async () => {
  const dir = seedCopy();
  const program = join(dir, 'tdcall.S');
  const text = readFileSync(program, 'utf8');
  const r = await resolveLaunch({ program, text, folder: dir, context: guessContext(text) });
  assert.equal(r.origin, 'inferred');
  assert.equal(r.config.generation, 'G0', r.notes.join('\n'));
  assert.equal(r.generationFrom, 'inferred');
  assert.equal(r.config.asmOffsets, join(dir, 'asm-offsets.c'));
  assert.deepEqual(r.config.headers, [join(dir, 'tdx.h')]);
  assert.equal(r.config.entry, '__tdx_hypercall');
  assert.equal(r.config.context, 'guest');
  assert.deepEqual(r.config.args, [{ struct: 'tdx_hypercall_args' }]);
  assert.equal(r.config.cwd, dir);

  // Without the resolver's attributes the file does not assemble (the six errors)…
  const bare = await buildImage(program, { text });
  assert.equal(bare.diagnostics.filter((d) => d.severity === 'error').length, 6);
  // …with them it does, and runs to the TDCALL with the overlay named by asm-offsets.
  const built = await buildImage(program, buildOptionsOf(r.config, text));
  assert.deepEqual(built.diagnostics.filter((d) => d.severity === 'error'), []);
  const s = await Session.create({ ...r.config, stopOnEntry: false }, { cwd: '/' });
  assert.equal(s.structArgs.length, 1);
  const layout = s.structArgs[0].layout;
  assert.equal(layout.name, 'tdx_hypercall_args');
  assert.equal(layout.size, 48);
  assert.deepEqual(layout.fields.map((f) => [f.name, f.offset, f.asmOffsetsName]), [
    ['r10', 0, 'TDX_HYPERCALL_r10'], ['r11', 8, 'TDX_HYPERCALL_r11'], ['r12', 16, 'TDX_HYPERCALL_r12'],
    ['r13', 24, 'TDX_HYPERCALL_r13'], ['r14', 32, 'TDX_HYPERCALL_r14'], ['r15', 40, 'TDX_HYPERCALL_r15'],
  ]);
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  const call = s.calls[0];
  assert.ok(call, 'one TDCALL');
  // RCX exposes R10–R15: 0xFC00 (GHCI bitmap; the reference's G0 mask).
  assert.equal(call.before.RCX, 0xfc00n);
  assert.equal(call.leaf, 'TDG.VP.VMCALL');
});

test('headers and asmOffsets together keep the asm-offsets names on the header layout', async () => {
  const program = join(SEED, 'tdcall.S');
  const both = await buildImage(program, { asmOffsets: join(SEED, 'asm-offsets.c'), headers: [join(SEED, 'tdx.h')], generation: 'G0' });
  const only = await buildImage(program, { asmOffsets: join(SEED, 'asm-offsets.c'), generation: 'G0' });
  const names = (b: typeof both) => b.image?.structs.get('tdx_hypercall_args')?.fields.map((f) => f.asmOffsetsName);
  assert.deepEqual(names(both), names(only));
  assert.equal(names(both)?.[0], 'TDX_HYPERCALL_r10');
});

test('relative launch.json paths resolve against the workspace folder, not the process working directory', async () => {
  const dir = seedCopy();
  const program = join(dir, 'tdcall.S');
  const text = readFileSync(program, 'utf8');
  const launch = [
    { type: 'tdx', request: 'launch', name: 'other file', program: 'elsewhere.S' },
    { type: 'tdx', request: 'launch', name: 'seed hypercall', program: 'tdcall.S', entry: '__tdx_hypercall', generation: 'G0',
      asmOffsets: 'asm-offsets.c', headers: ['tdx.h'], args: [{ struct: 'tdx_hypercall_args', init: { r11: 12 } }, 1] },
  ];
  assert.deepEqual(launchEntriesFor(program, launch, { folder: dir }).map((c) => c.name), ['seed hypercall']);
  const r = await resolveLaunch({ program, text, folder: dir, launch, entry: '__tdx_hypercall', context: 'guest' });
  assert.equal(r.origin, 'launch.json');
  assert.equal(r.launchName, 'seed hypercall');
  assert.equal(r.config.asmOffsets, join(dir, 'asm-offsets.c'));
  assert.deepEqual(r.config.headers, [join(dir, 'tdx.h')]);
  assert.deepEqual(r.config.args, [{ struct: 'tdx_hypercall_args', init: { r11: 12 } }, 1]);
  assert.notEqual(process.cwd(), dir);
  // The adapter gets absolute paths and cwd: it builds whatever its own working directory.
  const s = await Session.create(r.config, { cwd: r.config.cwd });
  assert.equal(s.structArgs[0].layout.fields[0].asmOffsetsName, 'TDX_HYPERCALL_r10');

  // ${workspaceFolder} forms and an entry for another function lending its build attributes.
  const launch2 = [{ type: 'tdx', request: 'launch', name: 'by var', program: '${workspaceFolder}/tdcall.S', entry: 'not_this_one', generation: 'G1', includePaths: ['${workspaceFolder}/inc'] }];
  const r2 = await resolveLaunch({ program, text, folder: dir, launch: launch2, entry: '__tdx_hypercall', context: 'guest' });
  assert.equal(r2.origin, 'launch.json (file)');
  assert.equal(r2.config.entry, '__tdx_hypercall');
  assert.equal(r2.config.generation, 'G1');
  assert.equal(r2.generationFrom, 'launch.json');
  assert.deepEqual(r2.config.includePaths, [join(dir, 'inc')]);
});

test('absolute paths for every path attribute; kernel-tree program names stay tree-relative', () => {
  const fs = { exists: (p: string) => p === '/w/local.o' };
  const c = absolutizePaths({ program: 'a.S', includePaths: ['inc', '/abs'], headers: ['h.h'], asmOffsets: 'ao.c', objects: ['x.o'], toolchain: { includePaths: ['ti'] } }, '/w', fs);
  assert.deepEqual(c, { program: '/w/a.S', includePaths: ['/w/inc', '/abs'], headers: ['/w/h.h'], asmOffsets: '/w/ao.c', objects: ['/w/x.o'], toolchain: { includePaths: ['/w/ti'] }, cwd: '/w' });
  const k = absolutizePaths({ program: 'arch/x86/coco/tdx/tdcall.S', kernelSource: 'linux', kernelBuild: 'build', objects: ['local.o', 'arch/x86/virt/vmx/tdx/seamcall.o'] }, '/w', fs);
  assert.deepEqual(k, { program: 'arch/x86/coco/tdx/tdcall.S', kernelSource: '/w/linux', kernelBuild: '/w/build', objects: ['/w/local.o', 'arch/x86/virt/vmx/tdx/seamcall.o'], cwd: '/w' });
  assert.equal(substituteVariables('${workspaceFolder}/${fileBasenameNoExtension}.h', { folder: '/w', file: '/w/d/t.S' }), '/w/t.h');
});

test('generation inference on the examples and on the shapes of the reference table', () => {
  const ex = (f: string) => readFileSync(join(ROOT, 'examples', f), 'utf8');
  assert.equal(inferGeneration(ex('hypercall.S')).generation, 'G5');
  assert.equal(inferGeneration(ex('seamcall.S')).generation, 'G5');
  // G2/G3: the 12-register hypercall struct.
  const g3 = inferGeneration('movq TDX_HYPERCALL_r8(%rax), %r8\nmovq TDX_HYPERCALL_r10(%rax), %r10\ntdcall\ncall __tdx_hypercall_failed');
  assert.equal(g3.generation, 'G3.5');
  assert.ok(g3.candidates.includes('G2') && g3.candidates.includes('G3') && !g3.candidates.includes('G1'));
  // G1: six registers, the flags, a call to __tdx_hypercall_failed.
  assert.equal(inferGeneration('test $TDX_HCALL_HAS_OUTPUT, %rsi\nmovq TDX_HYPERCALL_r10(%rdi), %r10\ntdcall\ncall __tdx_hypercall_failed').generation, 'G1');
  // G1–G3 module calls.
  assert.equal(inferGeneration('call __tdx_module_call\nmovq %rcx, TDX_MODULE_rcx(%r12)').generation, 'G3');
  // Comments are not clues.
  assert.equal(inferGeneration('/* TDX_HYPERCALL_r10 ud2 tdcall */ nop').generation, 'G5');
});

test('companions: asm-offsets.c beside or above the file, quoted headers; fix suggestions name the attribute', async () => {
  const files = new Set(['/w/sub/asm-offsets.c', '/w/sub/dir/t.S', '/w/sub/dir/local.h']);
  const fs = { exists: (p: string) => files.has(p) };
  assert.deepEqual(findCompanions('/w/sub/dir/t.S', '#include <asm/asm-offsets.h>\n#include "local.h"\n#include "missing.h"\n', fs, '/w'), { asmOffsets: '/w/sub/asm-offsets.c', headers: ['/w/sub/dir/local.h'] });
  assert.deepEqual(findCompanions('/w/sub/dir/t.S', 'nop\n', fs, '/w'), { asmOffsets: undefined, headers: [] });

  const dir = seedCopy();
  const program = join(dir, 'tdcall.S');
  const text = readFileSync(program, 'utf8');
  const bad = { program, generation: 'G5' };
  const b = await buildImage(program, buildOptionsOf(bad, text));
  const fix = await suggestFix(program, text, bad, b.diagnostics, undefined, dir);
  assert.deepEqual(fix.attributes, { asmOffsets: join(dir, 'asm-offsets.c') });
  assert.match(fix.message, /"asmOffsets": "asm-offsets\.c" fixes it/);
  // Nothing beside it: the names that stay undefined and the attribute that defines them.
  writeFileSync(join(dir, 'asm-offsets.c'), '/* moved away */\n');
  const none = await suggestFix(program, text, { program, generation: 'G5', headers: [join(dir, 'tdx.h')] }, b.diagnostics, undefined, dir);
  assert.match(none.message, /"generation": "G0" fixes it|set "asmOffsets"/);
});

test('fault matrix: the launch.json entry of the function gives its arguments (same scenarios as `tdxdbg matrix --arg … --struct …`)', async () => {
  const { runFunctionMatrix, scenarioVerdicts, parseExpectation } = await import('../../extension/matrixModel');
  const program = join(ROOT, 'examples/seamcall.S');
  const text = readFileSync(program, 'utf8');
  const launch = [{ type: 'tdx', request: 'launch', name: 'seamcall ret', program: '${workspaceFolder}/examples/seamcall.S', entry: '__seamcall_ret', args: ['TDH_SYS_INIT', { struct: 'tdx_module_args' }] }];
  const r = await resolveLaunch({ program, text, folder: ROOT, launch, entry: '__seamcall_ret', context: guessContext(text) });
  assert.equal(r.origin, 'launch.json');
  const { result } = await runFunctionMatrix({ ...r.config, stopOnEntry: false }, r.config.cwd);
  assert.equal(result.sites[0]?.leaf, 'TDH.SYS.INIT');
  const expected = parseExpectation(readFileSync(join(ROOT, 'test/matrix/expected/seamcall-ret.json'), 'utf8')).result!;
  const verdicts = scenarioVerdicts(result, expected);
  assert.deepEqual(verdicts.filter((v) => v.verdict !== 'passed').map((v) => v.message), []);
  // Without the entry the function is called with what the file suggests (RDI = 0): another leaf.
  const bare = await resolveLaunch({ program, text, folder: ROOT, entry: '__seamcall_ret', context: guessContext(text) });
  const other = await runFunctionMatrix({ ...bare.config, stopOnEntry: false }, bare.config.cwd);
  assert.notEqual(other.result.sites[0]?.leaf, 'TDH.SYS.INIT');
});

test('fault matrix on the G0 seed with no configuration: the TDCALL site under every guest fault', async () => {
  const { runFunctionMatrix } = await import('../../extension/matrixModel');
  const dir = seedCopy();
  const program = join(dir, 'tdcall.S');
  const text = readFileSync(program, 'utf8');
  const r = await resolveLaunch({ program, text, folder: dir, entry: '__tdx_hypercall', context: guessContext(text) });
  const { result } = await runFunctionMatrix({ ...r.config, stopOnEntry: false }, r.config.cwd);
  assert.deepEqual(result.sites.map((s) => [s.insn, s.leaf]), [['tdcall', 'TDG.VP.VMCALL']]);
  // A failed TDCALL (an error status in RAX) ends in the wrapper's ud2: #UD, vector 6 (SDM).
  const status = result.scenarios.find((x) => x.fault.startsWith('status:'));
  assert.ok(status, JSON.stringify(result.scenarios.map((x) => x.fault)));
  assert.equal(status.vector, 6, JSON.stringify(status));
});
