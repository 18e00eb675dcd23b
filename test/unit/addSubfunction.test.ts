// "A new TDVMCALL sub-function is one catalogue entry plus its VMM behaviour", shown for real:
// the emulator is bundled twice with esbuild, once as it is and once with exactly two source
// files changed in memory (emulator/tdx/vmcalls.ts gains one catalogue entry,
// emulator/tdx/vmmBehaviours.ts one behaviour). A guest program that includes the built-in
// <asm/shared/tdx.h> and issues TDG.VP.VMCALL with R11 = TDVMCALL_TEST_ECHO then runs through
// the Session (the path the command line and the debug adapter use): the changed build's header
// defines the macro, its VMM answers with the new behaviour and its call record names the
// sub-function; the unchanged build has no such macro and answers the same call with
// TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED (GHCI: the VMM does not implement the sub-function).
// TDG.VP.VMCALL is TDCALL leaf 0 with R10 = 0 for a GHCI-standard call and RCX[15:0] the
// registers exposed to the VMM (GHCI; TDX module ABI specification).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Module from 'node:module';
import type * as Esbuild from 'esbuild';
import { fromRoot, projectRoot } from '../support/paths';
import type { Session as SessionClass } from '../../emulator/session/session';
import type { TdvmcallSubfunction } from '../../emulator/tdx/vmcalls';
import type { TdvmcallStatusCode } from '../../emulator/tdx/statusCatalog';

/** The made-up sub-function: a number outside the GHCI's ranges, echoing R12 + 1 in R11. */
const NAME = 'TDVMCALL_TEST_ECHO';
const GHCI_NAME = 'TestEcho';
const NUMBER = 0x1ffffn;

/** The catalogue entry, appended to TDVMCALL_SUBFUNCTIONS before its closing `].map(`. */
const ENTRY = `  {
    name: '${NAME}', headers: [{ header: 'asm/shared/tdx.h', format: 'hex' }], ghciName: '${GHCI_NAME}', shortNames: ['${GHCI_NAME}', 'TEST_ECHO'], value: 0x${NUMBER.toString(16)}n,
    source: 'a test', summary: 'Answer R12 + 1 in R11.',
    inputs: [r('R12', 'value')], outputs: [r('R11', 'value + 1')],
  },
`;
const CATALOGUE_ANCHOR = '].map((f) => Object.freeze({ ...f, note: GHCI_NAME_NOTE } as TdvmcallSubfunction)));';

/** The behaviour, appended to the STANDARD table before its closing brace. */
const BEHAVIOUR = `  ${NAME}(_w, c) {
    c.regs[GPR.R11] = (c.inRegs[GPR.R12] + 1n) & 0xffff_ffff_ffff_ffffn;
    return ok('${GHCI_NAME} ' + hexShort(c.inRegs[GPR.R12]));
  },
`;
const BEHAVIOUR_ANCHOR = '};\n\n/** Behaviours by R11 value';

const VMCALLS = /[\\/]emulator[\\/]tdx[\\/]vmcalls\.ts$/;
const BEHAVIOURS = /[\\/]emulator[\\/]tdx[\\/]vmmBehaviours\.ts$/;

/** Inserts `text` before the one occurrence of `anchor`, failing loudly if the file changed shape. */
function insertBefore(source: string, anchor: string, text: string, file: string): string {
  const at = source.indexOf(anchor);
  assert.ok(at >= 0, `${file}: anchor ${JSON.stringify(anchor)} not found (the file changed shape; update this test)`);
  assert.equal(source.indexOf(anchor, at + 1), -1, `${file}: anchor ${JSON.stringify(anchor)} occurs more than once`);
  return source.slice(0, at) + text + source.slice(at);
}

interface Bundle {
  Session: typeof SessionClass;
  TDVMCALL_SUBFUNCTIONS: readonly TdvmcallSubfunction[];
  TDVMCALL_STATUS_CODES: readonly TdvmcallStatusCode[];
  builtinHeaders(g: string): Map<string, string>;
}

/** Bundles the emulator's entry points as scripts/build.mjs does (iced-x86 external) and loads the bundle. */
async function bundle(changed: boolean): Promise<{ mod: Bundle; substituted: string[] }> {
  const root = projectRoot();
  // Loaded from the project's node_modules at run time: esbuild's API runs its own binary and cannot be bundled.
  const esbuild = Module.createRequire(fromRoot('package.json'))('esbuild') as typeof Esbuild;
  const substituted: string[] = [];
  const plugin: Esbuild.Plugin = {
    name: 'add-subfunction',
    setup(b) {
      b.onLoad({ filter: /[\\/]emulator[\\/]tdx[\\/](vmcalls|vmmBehaviours)\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (VMCALLS.test(args.path)) {
          substituted.push('vmcalls.ts');
          return { contents: insertBefore(text, CATALOGUE_ANCHOR, ENTRY, args.path), loader: 'ts' };
        }
        assert.ok(BEHAVIOURS.test(args.path));
        substituted.push('vmmBehaviours.ts');
        return { contents: insertBefore(text, BEHAVIOUR_ANCHOR, BEHAVIOUR, args.path), loader: 'ts' };
      });
    },
  };
  const out = await esbuild.build({
    stdin: {
      contents: [
        "export { Session } from './emulator/session/session';",
        "export { TDVMCALL_SUBFUNCTIONS } from './emulator/tdx/vmcalls';",
        "export { TDVMCALL_STATUS_CODES } from './emulator/tdx/statusCatalog';",
        "export { builtinHeaders } from './emulator/loader/headers';",
      ].join('\n'),
      resolveDir: root, sourcefile: 'entry.ts', loader: 'ts',
    },
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'silent',
    absWorkingDir: root, external: ['iced-x86', 'vscode'], plugins: changed ? [plugin] : [],
  });
  // Compiled as if it lived in out/, so require('iced-x86') resolves from the project's node_modules.
  const filename = fromRoot('out', 'test', 'unit', `addSubfunction.${changed ? 'changed' : 'unchanged'}.js`);
  const m = new Module(filename);
  m.filename = filename;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(fromRoot('out', 'test', 'unit'));
  (m as unknown as { _compile(code: string, file: string): void })._compile(out.outputFiles[0].text, filename);
  return { mod: m.exports as Bundle, substituted };
}

/** The guest: echo(u64 v) issues TDG.VP.VMCALL<TDVMCALL_TEST_ECHO>(R12 = v), exposing R10–R12. */
const GUEST = `#include <linux/linkage.h>
#include <asm/shared/tdx.h>

	.text
SYM_FUNC_START(echo)
	pushq	%r12
	xorl	%eax, %eax			/* TDCALL leaf 0: TDG.VP.VMCALL */
	movl	$0x1c00, %ecx			/* expose R10, R11, R12 */
	xorl	%r10d, %r10d			/* GHCI-standard call */
	movq	$TDVMCALL_TEST_ECHO, %r11
	movq	%rdi, %r12
	.byte	0x66, 0x0f, 0x01, 0xcc		/* tdcall */
	popq	%r12
	RET
SYM_FUNC_END(echo)
`;

const ARG = 0x1234_5678_9abc_def0n;

async function runEcho(b: Bundle, program: string, defines?: Record<string, string>) {
  const s = await b.Session.create({
    program, entry: 'echo', context: 'guest', generation: 'G5', maxInstructions: 10_000,
    args: ['0x' + ARG.toString(16)], ...(defines ? { defines } : {}),
  });
  const stop = s.run();
  assert.equal(stop.reason, 'returned', stop.message);
  assert.equal(s.calls.length, 1);
  return { s, call: s.calls[0] };
}

test('a new TDVMCALL sub-function is one catalogue entry plus one behaviour: header, VMM and call record follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-add-subfunction-'));
  try {
    const program = join(dir, 'echo.S');
    writeFileSync(program, GUEST);
    const [changed, unchanged] = [await bundle(true), await bundle(false)];
    assert.deepEqual(changed.substituted.sort(), ['vmcalls.ts', 'vmmBehaviours.ts'], 'exactly the two files were changed');

    // The catalogue's own statuses (GHCI TDG.VP.VMCALL status codes), not literals.
    const status = (name: string) => {
      const c = unchanged.mod.TDVMCALL_STATUS_CODES.find((x) => x.name === name);
      assert.ok(c, `${name} in the catalogue`);
      return c.value;
    };
    const SUCCESS = status('TDVMCALL_STATUS_SUCCESS');
    const UNSUPPORTED = status('TDVMCALL_STATUS_SUBFUNC_UNSUPPORTED');

    // Catalogue and generated header: the entry is there, and <asm/shared/tdx.h> defines its number.
    const macro = new RegExp(`^#define\\s+${NAME}\\s+(\\S+)`, 'm');
    const header = changed.mod.builtinHeaders('G5').get('asm/shared/tdx.h') ?? '';
    const defined = header.match(macro);
    assert.ok(defined, `the changed build's asm/shared/tdx.h defines ${NAME}`);
    assert.equal(BigInt(defined[1]), NUMBER);
    assert.equal(changed.mod.TDVMCALL_SUBFUNCTIONS.filter((f) => f.name === NAME).length, 1);
    assert.equal(unchanged.mod.TDVMCALL_SUBFUNCTIONS.some((f) => f.name === NAME || f.value === NUMBER), false);
    assert.doesNotMatch(unchanged.mod.builtinHeaders('G5').get('asm/shared/tdx.h') ?? '', macro);

    // The changed build: the program assembles against the generated header, the VMM answers R12 + 1.
    const a = await runEcho(changed.mod, program);
    assert.equal(a.call.leaf, 'TDG.VP.VMCALL');
    assert.equal(a.call.subfunctionNumber, NUMBER);
    assert.equal(a.call.subfunction, GHCI_NAME);
    assert.equal(a.call.vmcall?.vmm.subfunction?.name, NAME);
    assert.equal(a.call.status, 0n, 'TDCALL completed (RAX = TDX_SUCCESS)');
    assert.equal(a.s.machine.getReg('r10'), SUCCESS);
    assert.equal(a.call.vmcallStatus, SUCCESS);
    assert.equal(a.s.machine.getReg('r11'), ARG + 1n);
    assert.equal(a.call.after?.R11, ARG + 1n);

    // The unchanged build: no macro to include, and the same call is SUBFUNC_UNSUPPORTED.
    const b = await runEcho(unchanged.mod, program, { [NAME]: '0x' + NUMBER.toString(16) });
    assert.equal(b.call.subfunctionNumber, NUMBER);
    assert.equal(b.call.subfunction, undefined);
    assert.equal(b.call.status, 0n);
    assert.equal(b.s.machine.getReg('r10'), UNSUPPORTED);
    assert.equal(b.call.vmcallStatus, UNSUPPORTED);
    assert.notEqual(b.s.machine.getReg('r11'), ARG + 1n);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
