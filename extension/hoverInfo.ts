// Hover text for TDX code, without VS Code: the `tdcall`/`seamcall` mnemonics, leaf and
// sub-function names with their registers from the catalogue, status names and values decoded,
// asm-offsets symbols (struct, field, offset) and other named constants of the last build.
// Returns Markdown; the provider in hover.ts only finds the word.

import {
  findLeafByName, findStatus, findSubfunction, findTdvmcallStatus, parseTdxNumber, type TdxLeaf, type TdvmcallSubfunction,
} from '../emulator/tdx/catalog';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../emulator/tdx/statusDecoder';
import type { RegisterRole } from '../emulator/tdx/types';
import type { FieldLayout, StructLayout } from '../emulator/loader/image';

/** What the hover may also consult. */
export interface HoverContext {
  /** Struct layouts (the generation's preset, or the last build's). */
  structs?: ReadonlyMap<string, StructLayout>;
  /** asm-offsets symbols and other named constants (`#define`, `.set`). */
  constants?: ReadonlyMap<string, bigint>;
}

const hex = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

function roles(title: string, rs: readonly RegisterRole[]): string[] {
  if (!rs.length) return [];
  return [`| ${title} | |`, '|---|---|', ...rs.map((r) => `| \`${r.reg}${r.bits ? `[${r.bits}]` : ''}\` | ${r.role.replace(/\|/g, '\\|')}${r.caveat ? ` *(${r.caveat})*` : ''} |`), ''];
}

function leafText(l: TdxLeaf): string {
  return [
    `**${l.name}** — ${l.instruction.toUpperCase()} leaf ${l.leaf} (\`RAX = ${hex(l.rax)}\`)${l.kernelNames?.length ? `, kernel: ${l.kernelNames.map((k) => `\`${k}\``).join(', ')}` : ''}`,
    '',
    l.summary,
    '',
    ...roles('inputs', l.inputs),
    ...roles('outputs (RAX = status)', l.outputs),
    `*source: ${l.source}*`,
  ].join('\n');
}

function subfunctionText(f: TdvmcallSubfunction): string {
  return [
    `**${f.name}** — TDG.VP.VMCALL sub-function \`R11 = ${hex(f.value)}\` (GHCI ${f.ghciName})`,
    '',
    f.summary,
    '',
    ...roles('inputs (R10 = 0, R11 = sub-function)', f.inputs),
    ...roles('outputs (R10 = TDVMCALL status)', f.outputs),
    'Only registers exposed in the RCX bitmap reach the VMM.',
  ].join('\n');
}

function statusText(v: bigint): string {
  const d = decodeTdxStatus(v);
  const lines = [`**${d.name ?? 'TDX status'}** \`${d.hex}\``, '', d.text];
  if (d.code?.summary) lines.push('', d.code.summary);
  lines.push('', `class ${d.classCode.toString(16)}${d.classLabel ? ` (${d.classLabel})` : ''}, details ${d.detailsL1.toString(16)}/${d.detailsL2.toString(16)}` +
    `${d.error ? ', error' : ''}${d.nonRecoverable ? ', non-recoverable' : ''}${d.fatal ? ', fatal' : ''}`);
  return lines.join('\n');
}

function fieldByAsmName(structs: ReadonlyMap<string, StructLayout>, sym: string): { s: StructLayout; f: FieldLayout } | undefined {
  const walk = (s: StructLayout, fs: readonly FieldLayout[]): { s: StructLayout; f: FieldLayout } | undefined => {
    for (const f of fs) {
      if (f.asmOffsetsName === sym) return { s, f };
      const inner = f.fields ? walk(s, f.fields) : undefined;
      if (inner) return inner;
    }
    return undefined;
  };
  for (const s of structs.values()) {
    const hit = walk(s, s.fields);
    if (hit) return hit;
  }
  return undefined;
}

/** Markdown for the word under the cursor, or undefined when we know nothing about it. */
export function hoverMarkdown(word: string, ctx: HoverContext = {}): string | undefined {
  const w = word.replace(/^\$/, '');
  if (/^tdcall$/i.test(w)) {
    return '**TDCALL** (`66 0f 01 cc`) — TD guest → TDX module. Leaf in `RAX[15:0]`, version in `RAX[23:16]`; status back in `RAX`. ' +
      '#UD outside a TD guest, #GP(0) at CPL > 0. Leaf 0 (TDG.VP.VMCALL) forwards the registers exposed in the `RCX` bitmap to the VMM; the VMM\'s status comes back in `R10`.';
  }
  if (/^seamcall$/i.test(w)) {
    return '**SEAMCALL** (`66 0f 01 cf`) — VMX-root host → TDX module (or the P-SEAMLDR with `RAX` bit 63). ' +
      'Checks in order: #UD when not in VMX operation (CR4.VMXE clear or no VMXON); #GP when CPL > 0 or TDX is not enabled by the BIOS; ' +
      'VMfailInvalid (CF=1, RAX unchanged) when no module is loaded; otherwise `RAX` carries the status.';
  }
  if (/^[A-Za-z_][\w.]*$/.test(w)) {
    const asm = ctx.structs ? fieldByAsmName(ctx.structs, w) : undefined;
    if (asm) {
      return `**${w}** = \`${asm.f.offset}\` (\`+${hex(BigInt(asm.f.offset))}\`) — asm-offsets of \`struct ${asm.s.name}\`.\`${asm.f.name}\` (\`${asm.f.type}\`, ${asm.f.size} bytes; struct ${asm.s.size} bytes)`;
    }
    const leaf = /^(TDG|TDH|SEAMLDR|TDX_)/i.test(w) || w.includes('.') ? findLeafByName(w) : undefined;
    if (leaf) return leafText(leaf);
    const sf = /^(TDVMCALL_|EXIT_REASON_|TDG_VP_VMCALL_)/.test(w) ? findSubfunction(w) : undefined;
    if (sf) return subfunctionText(sf);
    const st = findStatus(w);
    if (st && /^[A-Z]/.test(w)) return statusText(st.value);
    const vst = findTdvmcallStatus(w);
    if (vst && /^[A-Z]/.test(w)) return `**${vst.name}** \`${hex(vst.value)}\` — TDVMCALL status (R10 after TDG.VP.VMCALL)\n\n${vst.summary}\n\n${decodeTdvmcallStatus(vst.value).text}`;
    const c = ctx.constants?.get(w);
    if (c !== undefined) {
      const d = decodeTdxStatus(c);
      return `**${w}** = \`${hex(c)}\` (${c.toString()})${d.name && d.error ? `\n\nAs a TDX status: ${d.text}` : ''}`;
    }
    return undefined;
  }
  const n = parseTdxNumber(w);
  if (n !== undefined && n >= 0x1_0000_0000n) {
    const d = decodeTdxStatus(n);
    if (d.name || d.error) return statusText(n);
  }
  return undefined;
}
