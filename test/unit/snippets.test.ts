// The launch.json snippets, one per generation shape, each instantiated as VS Code would
// (placeholders take their defaults, ${workspaceFolder} the folder) on a file of that shape and
// run: the G0/G1 `struct tdx_hypercall_args` hypercall on the G0-shaped seed (its asm-offsets.c),
// the G1 `__tdx_module_call` with `struct tdx_module_output`, the G4/G5 `tdx_module_args`
// hypercall and module call, the host SEAMCALL with its faults. Each reaches the call its
// arguments ask for: TDG.VP.VMCALL (TDCALL leaf 0) with R11 = TDVMCALL_MAP_GPA = 0x10001 and
// RCX exposing R10–R15 (0xFC00, GHCI), TDG.VP.INFO (leaf 1), TDH.SYS.INIT under #GP then
// TDX_SYS_BUSY (0x8000020200000000, the module's tdx_error_codes_defs.h). A TDX name in the
// arguments means its number in every generation: the G0 kernel defined TDVMCALL_MAP_GPA in
// arch/x86/coco/tdx/tdx.c, which no header of the file brings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { Session } from '../../emulator/session/session';
import { substituteVariables } from '../../emulator/session/resolveConfig';
import { catalogueConstant } from '../../emulator/tdx/catalog';

const ROOT = projectRoot();
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const snippets: { label: string; body: Record<string, unknown> }[] = pkg.contributes.debuggers[0].configurationSnippets;

/** The snippet as VS Code inserts it: `${n:default}` → default, `"^\"…\""` → the string inside. */
function instantiate(body: unknown): Record<string, unknown> {
  const text = JSON.stringify(body)
    .replace(/"\^\\"(.*?)\\""/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\\\\$/g, '$')))
    .replace(/\$\{\d+:([^}]*)\}/g, '$1');
  return JSON.parse(text);
}

/** Instantiates the snippet labelled `label` in `folder`, the program renamed to `file` there. */
async function launch(label: RegExp, folder: string, file?: string): Promise<Session> {
  const s = snippets.find((x) => label.test(x.label));
  assert.ok(s, `no snippet ${label}`);
  const c = substituteVariables(instantiate(s.body), { folder, file: join(folder, 'x.S') }) as Record<string, unknown>;
  if (file) c.program = join(folder, file);
  return Session.create({ ...c, stopOnEntry: false, stopOnCall: false }, { cwd: folder });
}

test('G0/G1 hypercall snippet (struct tdx_hypercall_args) on the G0-shaped seed: its asm-offsets.c, MapGPA with R10–R15 exposed', async () => {
  const s = await launch(/G0\/G1 \(struct tdx_hypercall_args/, join(ROOT, 'test/e2e/seed'));
  assert.equal(s.structArgs[0].layout.name, 'tdx_hypercall_args');
  assert.equal(s.structArgs[0].layout.fields[0].asmOffsetsName, 'TDX_HYPERCALL_r10');
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.equal(s.calls[0].leaf, 'TDG.VP.VMCALL');
  assert.equal(s.calls[0].before.R11, 0x10001n);
  assert.equal(s.calls[0].before.RCX, 0xfc00n);
});

test('G1 module-call snippet (__tdx_module_call, struct tdx_module_output): TDG.VP.INFO', async () => {
  const s = await launch(/G1 \(__tdx_module_call/, join(ROOT, 'test/fixtures/tdx'), 'hypercall-g1.S');
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.equal(s.calls[0].leaf, 'TDG.VP.INFO');
  assert.equal(s.structArgs[0].layout.name, 'tdx_module_output');
});

test('G4/G5 snippets (struct tdx_module_args): the hypercall reaches MapGPA, the module call TDG.VP.INFO', async () => {
  const h = await launch(/Guest hypercall \(TDG\.VP\.VMCALL, G4\/G5/, join(ROOT, 'examples'), 'hypercall.S');
  assert.equal(h.run().reason, 'returned');
  assert.equal(h.calls[0].subfunction, 'MapGPA');
  const m = await launch(/Guest module call \(TDCALL, G4\/G5/, join(ROOT, 'test/fixtures/tdx'), 'hypercall-g45.S');
  assert.equal(m.run().reason, 'returned');
  assert.equal(m.calls[0].leaf, 'TDG.VP.INFO');
});

test('host SEAMCALL snippet: #GP(0) injected at the first SEAMCALL', async () => {
  const s = await launch(/Host SEAMCALL with faults/, join(ROOT, 'examples'), 'seamcall.S');
  s.run();
  assert.equal(s.calls[0].leaf, 'TDH.SYS.INIT');
  assert.equal(s.calls[0].fault, '#GP');
  assert.equal(s.calls[0].injected, true);
});

test('TDX names in launch arguments resolve from the catalogue when the generation\'s headers lack them', () => {
  assert.equal(catalogueConstant('TDVMCALL_MAP_GPA'), 0x10001n); // GHCI MapGPA
  assert.equal(catalogueConstant('EXIT_REASON_HLT'), 12n); // SDM Vol. 3D Appendix C
  assert.equal(catalogueConstant('TDX_GET_INFO'), 1n); // Linux 6.1 arch/x86/coco/tdx/tdx.c
  assert.equal(catalogueConstant('TDG_VP_INFO'), 1n);
  assert.equal(catalogueConstant('TDH_SYS_INIT'), 33n); // Linux 6.12 arch/x86/virt/vmx/tdx/tdx.h
  assert.equal(catalogueConstant('SEAMLDR_INFO'), 1n << 63n); // intel/tdx p-seamldr.h SEAMCALL_SEAMLDR_INFO
  assert.equal(catalogueConstant('TDX_OPERAND_INVALID'), 0xC000010000000000n);
  assert.equal(catalogueConstant('TDVMCALL_STATUS_RETRY'), 1n);
  assert.equal(catalogueConstant('tdvmcall_map_gpa'), undefined);
  assert.equal(catalogueConstant('NOT_A_TDX_NAME'), undefined);
});
