// The TDX argument structs of each kernel generation as C declaration text (reference
// Linux asm/shared/tdx.h argument structs), with the asm-offsets lines that name their fields. The same text feeds
// <asm/shared/tdx.h>, the struct presets (through our C parser) and the gcc layout test.

import { inGenerations, type Generation } from './generation';

const HYPERCALL_6 = ['r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const HYPERCALL_12 = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbx', 'rdx'];
const MODULE_OUTPUT = ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11'];
const MODULE_ARGS = ['rcx', 'rdx', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rbx', 'rdi', 'rsi'];

interface PresetStruct {
  name: string;
  /** asm-offsets prefix of its fields. */
  prefix: string;
  fields: string[];
  /** G5: `u8 version` after the registers. */
  version?: boolean;
}

/** Which structs a generation has (G3.5 has both the old hypercall struct and tdx_module_args). */
export function presetStructList(g: Generation): PresetStruct[] {
  const list: PresetStruct[] = [];
  if (inGenerations(g, 'G0', 'G3.5')) {
    list.push({ name: 'tdx_hypercall_args', prefix: 'TDX_HYPERCALL_', fields: inGenerations(g, 'G0', 'G1') ? HYPERCALL_6 : HYPERCALL_12 });
  }
  if (inGenerations(g, 'G1', 'G3')) list.push({ name: 'tdx_module_output', prefix: 'TDX_MODULE_', fields: MODULE_OUTPUT });
  if (inGenerations(g, 'G3.5')) list.push({ name: 'tdx_module_args', prefix: 'TDX_MODULE_', fields: MODULE_ARGS, version: g === 'G5' });
  return list;
}

/** C declarations of the generation's TDX structs (u64/u8 from <linux/types.h>). */
export function tdxStructDeclarations(g: Generation): string {
  return presetStructList(g)
    .map((s) => {
      const body = s.fields.map((f) => `\tu64 ${f};`);
      if (s.version) body.push('\tu8 version;');
      return `struct ${s.name} {\n${body.join('\n')}\n};\n`;
    })
    .join('\n');
}

/** The asm-offsets.c body lines (`OFFSET(sym, struct, member);`) for the generation. */
export function tdxAsmOffsetLines(g: Generation): string {
  const lines: string[] = [];
  for (const s of presetStructList(g)) {
    lines.push('\tBLANK();');
    for (const f of s.fields) lines.push(`\tOFFSET(${s.prefix}${f}, ${s.name}, ${f});`);
    if (s.version) lines.push(`\tOFFSET(${s.prefix}version, ${s.name}, version);`);
  }
  return lines.join('\n');
}
