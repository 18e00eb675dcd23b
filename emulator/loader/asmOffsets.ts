// asm-offsets: evaluates the OFFSET(sym, struct, member) / DEFINE(sym, value) lines of an
// asm-offsets.c function body (BLANK() and COMMENT() ignored) against parsed C layouts, the
// way the kernel's build turns them into the #defines of <generated/asm-offsets.h>.

import type { Diagnostic } from './diagnostics';
import type { FieldLayout, StructLayout } from './image';
import { evaluateInScope, parseDesignator, type CDeclarations, type CTok } from './cstruct';
import { LayoutError, memberOffset } from './cstructLayout';
import { ExprError } from './pp/expr';

/** Symbols found, in source order, and what went wrong. */
export interface AsmOffsetsResult {
  symbols: Map<string, bigint>;
  diagnostics: Diagnostic[];
}

/**
 * Evaluate every OFFSET/DEFINE call in the function bodies of `decls`. Each OFFSET also sets
 * `asmOffsetsName` on the named field of `decls.structs` (when the member path names a field).
 */
export function computeAsmOffsets(decls: CDeclarations): AsmOffsetsResult {
  const symbols = new Map<string, bigint>();
  const diagnostics: Diagnostic[] = [];
  const report = (t: CTok | undefined, message: string, severity: Diagnostic['severity'] = 'error') =>
    diagnostics.push({ severity, message, location: t ? { file: t.file, line: t.line, column: t.col } : undefined });
  for (const body of decls.functionBodies) {
    const toks = body.toks;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind !== 'id' || !['OFFSET', 'DEFINE', 'BLANK', 'COMMENT'].includes(t.text) || toks[i + 1]?.text !== '(') continue;
      const { args, end } = splitArgs(toks, i + 1);
      i = end;
      if (t.text === 'BLANK' || t.text === 'COMMENT') continue;
      const want = t.text === 'OFFSET' ? 3 : 2;
      if (args.length !== want) {
        report(t, `${t.text}() takes ${want} arguments (${t.text === 'OFFSET' ? 'symbol, struct, member' : 'symbol, value'}), got ${args.length}`);
        continue;
      }
      const sym = args[0];
      if (sym.length !== 1 || sym[0].kind !== 'id') {
        report(sym[0] ?? t, `${t.text}(): the first argument must be a symbol name`);
        continue;
      }
      try {
        let value: bigint;
        if (t.text === 'OFFSET') value = offset(decls, sym[0].text, args[1], args[2], t);
        else {
          const r = evaluateInScope(args[1], decls.scope);
          if ('error' in r) {
            report(r.tok ?? t, r.error);
            continue;
          }
          value = r.value.value;
        }
        if (symbols.has(sym[0].text) && symbols.get(sym[0].text) !== value) report(sym[0], `asm-offsets symbol ${sym[0].text} redefined with a different value`, 'warning');
        symbols.set(sym[0].text, value);
      } catch (e) {
        if (e instanceof ExprError) report((e.tok as CTok | undefined) ?? t, e.message);
        else if (e instanceof LayoutError) report(e.where ? { ...t, file: e.where.file, line: e.where.line, col: e.where.col } : t, e.message);
        else throw e;
      }
    }
  }
  return { symbols, diagnostics };
}

function offset(decls: CDeclarations, sym: string, structArg: CTok[], memberArg: CTok[], at: CTok): bigint {
  if (structArg.length !== 1 || structArg[0].kind !== 'id') throw new ExprError(structArg[0] ?? at, 'OFFSET(): the second argument must be a struct tag (without `struct`)');
  const tag = structArg[0].text;
  const rec = decls.scope.tags.get(tag);
  if (!rec) throw new ExprError(structArg[0], `struct ${tag} is not declared (is its header included?)`);
  const d = parseDesignator(memberArg, 0);
  if (d.next !== memberArg.length) throw new ExprError(memberArg[d.next], `unexpected '${memberArg[d.next].text}' in the member designator`);
  const r = memberOffset({ kind: 'record', rec }, d.steps);
  if (d.steps.every((s) => 'member' in s)) {
    const field = findField(decls.structs.get(tag), r.fieldPath);
    if (field) field.asmOffsetsName = sym;
  }
  return BigInt(r.offset);
}

function findField(layout: StructLayout | undefined, path: string[]): FieldLayout | undefined {
  let fields = layout?.fields;
  let f: FieldLayout | undefined;
  for (const name of path) {
    f = fields?.find((x) => x.name === name);
    if (!f) return undefined;
    fields = f.fields;
  }
  return f;
}

/** Arguments of a call whose `(` is at `open`, split at top-level commas. */
function splitArgs(toks: CTok[], open: number): { args: CTok[][]; end: number } {
  const args: CTok[][] = [[]];
  let depth = 0;
  let k = open + 1;
  for (; k < toks.length; k++) {
    const x = toks[k].text;
    if (x === '(' || x === '[' || x === '{') depth++;
    else if (x === ')' || x === ']' || x === '}') {
      if (depth === 0) break;
      depth--;
    } else if (x === ',' && depth === 0) {
      args.push([]);
      continue;
    }
    args[args.length - 1].push(toks[k]);
  }
  if (args.length === 1 && args[0].length === 0) args.length = 0;
  return { args, end: k };
}
