// C struct layouts and asm-offsets against gcc: every fixture header (and the built-in TDX
// presets of every generation) is compiled by gcc into a probe that prints sizeof, _Alignof,
// offsetof and, for bit-fields, which bits an all-ones store sets; our layout must agree
// field by field. All probes build in one gcc invocation.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { FieldLayout, StructLayout } from '../../emulator/loader/image';
import { formatDiagnostic } from '../../emulator/loader/diagnostics';
import { loadAsmOffsets, loadCDeclarations } from '../../emulator/loader/cheaders';
import { parseCText } from '../../emulator/loader/cstruct';
import { computeAsmOffsets } from '../../emulator/loader/asmOffsets';
import { structPreset } from '../../emulator/loader/structPresets';
import { GENERATIONS, type Generation } from '../../emulator/loader/headers';
import { presetStructList, tdxStructDeclarations } from '../../emulator/loader/headers/tdxStructs';
import { gcc, run, tempDir, writeBuiltinHeaders } from './loaderGcc';

const FIX = resolve(__dirname, '../../../test/fixtures/headers');

interface Probe {
  header: string;
  structs: Map<string, StructLayout>;
  cType: (name: string) => string;
}

/** C statements printing `key value` lines for every struct and field we laid out. */
function probeBody(p: Probe, expect: Map<string, string>): string {
  const out: string[] = [];
  for (const [name, s] of p.structs) {
    const T = p.cType(name);
    out.push(`printf("%s %zu %zu\\n", "${name}:layout", sizeof(${T}), _Alignof(${T}));`);
    expect.set(`${name}:layout`, `${s.size} ${s.align}`);
    const walk = (fields: FieldLayout[], prefix: string[]) => {
      for (const f of fields) {
        const path = f.name ? [...prefix, f.name] : prefix;
        const cpath = path.join('.');
        if (f.bitWidth !== undefined) {
          const key = `${name}:${cpath}:bits`;
          out.push(`{ union { ${T} s; unsigned char b[sizeof(${T})]; } u; memset(&u, 0, sizeof u); u.s.${cpath} = -1;
  int first = -1, last = -1; for (int i = 0; i < (int)sizeof(u.b) * 8; i++) if ((u.b[i / 8] >> (i % 8)) & 1) { if (first < 0) first = i; last = i; }
  printf("%s %d %d\\n", "${key}", first, last - first + 1); }`);
          expect.set(key, `${f.offset * 8 + f.bitOffset!} ${f.bitWidth}`);
        } else if (f.name) {
          const key = `${name}:${cpath}`;
          const size = f.type.endsWith('[]') ? '(size_t)0' : `sizeof(((${T} *)0)->${cpath})`; // flexible array
          out.push(`printf("%s %zu %zu\\n", "${key}", __builtin_offsetof(${T}, ${cpath}), ${size});`);
          expect.set(key, `${f.offset} ${f.size}`);
        }
        if (f.fields) walk(f.fields, path);
      }
    };
    walk(s.fields, []);
  }
  return out.join('\n  ');
}

const probes: Probe[] = [];
let gccOut = new Map<string, string>();
const expected = new Map<string, Map<string, string>>();
let offsetsGcc = new Map<string, bigint>();

before(() => {
  const dir = writeBuiltinHeaders(tempDir('tdxdbg-cstruct-'), 'G5');
  const load = (file: string) => {
    const d = loadCDeclarations(file, { includePaths: [FIX] });
    assert.deepEqual(d.diagnostics.map(formatDiagnostic), [], file);
    probes.push({ header: file, structs: d.structs, cType: (n) => (d.scope.tags.has(n) ? `${d.scope.tags.get(n)!.kind} ${n}` : n) });
  };
  load(join(FIX, 'tdx_args.h'));
  load(join(FIX, 'tricky.h'));
  for (const g of GENERATIONS) {
    const file = join(dir, `preset_${g.replace('.', '_')}.h`);
    writeFileSync(file, `#include <linux/types.h>\n${tdxStructDeclarations(g)}`);
    const preset = structPreset(g);
    probes.push({ header: file, structs: preset.structs, cType: (n) => `struct ${n}` });
  }
  const files: string[] = [];
  const calls: string[] = [];
  probes.forEach((p, i) => {
    const exp = new Map<string, string>();
    expected.set(`${i}`, exp);
    const src = join(dir, `probe${i}.c`);
    writeFileSync(src, `#include <stdio.h>\n#include <string.h>\n#include "${p.header}"\nvoid probe${i}(void) {\n  printf("#probe ${i}\\n");\n  ${probeBody(p, exp)}\n}\n`);
    files.push(src);
    calls.push(`probe${i}();`);
  });
  // asm-offsets: the kernel's macros replaced by printing ones, the fixture included as is.
  const main = join(dir, 'main.c');
  writeFileSync(
    main,
    `#include <stdio.h>\n#define OFFSET(s, str, m) printf("%s %zu\\n", #s, __builtin_offsetof(struct str, m))\n#define DEFINE(s, v) printf("%s %lld\\n", #s, (long long)(v))\n#define BLANK()\n#define COMMENT(x)\n#include "${join(FIX, 'offsets.c')}"\n${calls.map((c) => `void ${c.replace('();', '(void);')}`).join('\n')}\nint main(void) {\n  printf("#offsets\\n");\n  common();\n  ${calls.join(' ')}\n  return 0;\n}\n`,
  );
  const exe = join(dir, 'probe');
  const r = gcc(['-std=gnu11', '-w', '-I', dir, '-I', FIX, '-o', exe, main, ...files]);
  assert.equal(r.status, 0, r.stderr);
  let section = '';
  for (const line of run(exe).trim().split('\n')) {
    if (line.startsWith('#')) {
      section = line.slice(1);
      continue;
    }
    const sp = line.indexOf(' ');
    if (section === 'offsets') offsetsGcc.set(line.slice(0, sp), BigInt(line.slice(sp + 1)));
    else gccOut.set(`${section.split(' ')[1]}/${line.slice(0, sp)}`, line.slice(sp + 1));
  }
});

test('fixture and preset layouts equal gcc, field by field (offsets, sizes, bit positions)', () => {
  let checked = 0;
  probes.forEach((p, i) => {
    for (const [key, mine] of expected.get(`${i}`)!) {
      assert.equal(mine, gccOut.get(`${i}/${key}`), `${p.header}: ${key} (ours vs gcc)`);
      checked++;
    }
  });
  assert.ok(checked > 150, `only ${checked} probes`);
});

test('the presets hold the reference layouts (Linux asm/shared/tdx.h argument structs)', () => {
  const g5 = structPreset('G5');
  const args = g5.structs.get('tdx_module_args')!;
  assert.equal(args.size, 112);
  assert.deepEqual(args.fields.find((f) => f.name === 'version'), { name: 'version', offset: 104, size: 1, type: 'u8', asmOffsetsName: 'TDX_MODULE_version' });
  assert.equal(structPreset('G4').structs.get('tdx_module_args')!.size, 104);
  assert.equal(structPreset('G1').structs.get('tdx_hypercall_args')!.size, 48);
  assert.equal(structPreset('G1').asmOffsets.get('TDX_HYPERCALL_r15'), 40n);
  assert.equal(structPreset('G3').asmOffsets.get('TDX_HYPERCALL_rdx'), 88n);
  assert.equal(structPreset('G2').structs.get('tdx_module_output')!.size, 48);
  for (const g of GENERATIONS) {
    const p = structPreset(g);
    for (const s of presetStructList(g)) {
      const layout = p.structs.get(s.name)!;
      for (const f of s.fields) {
        const field = layout.fields.find((x) => x.name === f)!;
        assert.equal(field.asmOffsetsName, `${s.prefix}${f}`);
        assert.equal(p.asmOffsets.get(`${s.prefix}${f}`), BigInt(field.offset));
      }
    }
  }
});

test('asm-offsets.c symbols equal gcc offsetof/sizeof, nested members and array elements too', () => {
  const r = loadAsmOffsets(join(FIX, 'offsets.c'), { includePaths: [FIX] });
  assert.deepEqual(r.diagnostics.map(formatDiagnostic), []);
  assert.deepEqual([...r.symbols], [...offsetsGcc]);
  const out = r.decls.structs.get('tdx_module_output')!;
  assert.equal(out.fields[0].asmOffsetsName, 'TDX_MODULE_rcx');
  const anon = r.decls.structs.get('with_anon')!;
  const hi = anon.fields.find((f) => f.name === '')!.fields!.find((f) => f.name === '')!.fields!.find((f) => f.name === 'hi')!;
  assert.equal(hi.asmOffsetsName, 'ANON_hi');
});

// ---- bad input ----

function errors(text: string): string[] {
  return parseCText(text, 'bad.h').diagnostics.map(formatDiagnostic);
}

test('struct errors carry file:line:col and name what is wrong', () => {
  assert.deepEqual(errors('struct a {\n\tunknown_t x;\n};\n'), ["bad.h:2:2: error: unknown type name 'unknown_t' in struct member"]);
  assert.deepEqual(errors('struct b { int x : 40; };'), ["bad.h:1:16: error: width of bit-field 'x' (40) exceeds its type (32 bits)"]);
  assert.deepEqual(errors('struct c {\n  struct nope n;\n};'), ['bad.h:2:15: error: struct nope is incomplete (declared but never defined)']);
  assert.deepEqual(errors('struct d { int x[1 / 0]; };'), ['bad.h:1:20: error: division by zero in constant expression']);
  assert.deepEqual(errors('struct e { int x int y; };'), ["bad.h:1:18: error: expected ';' after member 'x', found 'int'"]);
  assert.deepEqual(errors('struct f { int x; };\nstruct f { int y; };'), ['bad.h:2:8: error: redefinition of struct f']);
  assert.deepEqual(errors('enum g { A = , B };'), ['bad.h:1:12: error: expected a constant expression']);
  // Several at once, and the good declarations around them still come through.
  const d = parseCText('struct x1 { bad_t a; };\nstruct ok { u8 a; u64 b; };\nstruct x2 { int y : 99; };\n', 'bad.h');
  assert.equal(d.diagnostics.length, 2);
  assert.equal(d.structs.get('ok')?.size, 16);
});

test('declarations a struct parser does not need are skipped quietly', () => {
  const d = parseCText(
    `int f(int a, struct s *p);\nstatic inline int g(void) { struct { int q; } v = { 1 }; return v.q; }\nDECLARE_SOMETHING(foo, bar);\nextern u64 table[4], *ptr;\n_Static_assert(1, "x");\nstruct kept { u32 a; };\n`,
    'ok.h',
  );
  assert.deepEqual(d.diagnostics, []);
  assert.equal(d.structs.get('kept')?.size, 4);
});

test('asm-offsets errors point at the OFFSET line', () => {
  const decls = parseCText('struct s { u64 a; };\nvoid common(void)\n{\n\tOFFSET(S_b, s, b);\n\tOFFSET(S_a, nosuch, a);\n\tDEFINE(X);\n}\n', 'ao.c');
  const r = computeAsmOffsets(decls).diagnostics.map(formatDiagnostic);
  assert.deepEqual(r, [
    "ao.c:4:17: error: struct s has no member named 'b'",
    'ao.c:5:14: error: struct nosuch is not declared (is its header included?)',
    'ao.c:6:2: error: DEFINE() takes 2 arguments (symbol, value), got 1',
  ]);
});

for (const g of ['G0', 'G3.5'] as Generation[]) {
  test(`preset ${g} parses with no diagnostics`, () => assert.ok(structPreset(g).structs.size > 0));
}
