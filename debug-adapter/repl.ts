// evaluate, setExpression and completions over the expression language: results carry a
// memoryReference when they name memory, struct results expand field by field, the
// clipboard context copies a struct as a C initializer.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { catalogNames } from '../emulator/tdx/catalog';
import { pseudoOf } from './breakpoints';
import { needs } from './errors';
import { Evaluator, findField, REGISTER_NAMES, valueText, type Value } from './expressions';
import { hex } from './format';
import type { Target } from './target';
import { cInitializer, type Variables } from './variables';

function evaluator(t: Target): Evaluator {
  return new Evaluator(t, pseudoOf(t.pendingCall() ?? t.lastCall()));
}

export function evaluate(t: Target, vars: Variables, args: DebugProtocol.EvaluateArguments): DebugProtocol.EvaluateResponse['body'] {
  if (typeof args.expression !== 'string') throw needs('evaluate', 'an "expression"');
  const ev = evaluator(t);
  const v = ev.evaluate(args.expression);
  return present(t, vars, ev, v, args.expression, args.context, args.format?.hex);
}

function present(t: Target, vars: Variables, ev: Evaluator, v: Value, expr: string, context: string | undefined, hexWanted: boolean | undefined) {
  if (v.kind === 'struct') {
    const fields = v.layout.fields ?? [];
    const outer = 'offset' in v.layout ? v.layout.offset : 0;
    if (context === 'clipboard') return { result: cInitializer(ev, fields, v.address, outer), variablesReference: 0 };
    return { result: valueText(v), type: v.structName, variablesReference: vars.structRef(v, expr.trim()), memoryReference: hex(v.address) };
  }
  let memoryReference: string | undefined;
  if (v.lvalue?.kind === 'mem') memoryReference = hex(v.lvalue.address);
  else {
    // A value that points into mapped memory can open the hex editor (pointer-ish registers).
    if (t.session.mappedLength(v.value, 1) === 1) memoryReference = hex(v.value);
  }
  return { result: valueText(v, hexWanted), type: `u${v.size * 8}`, variablesReference: 0, memoryReference };
}

export function setExpression(t: Target, vars: Variables, args: DebugProtocol.SetExpressionArguments): DebugProtocol.SetExpressionResponse['body'] {
  if (typeof args.expression !== 'string' || typeof args.value !== 'string') throw needs('setExpression', '"expression" and "value"');
  const ev = evaluator(t);
  const v = ev.assign(args.expression, args.value);
  const p = present(t, vars, ev, v, args.expression, 'watch', args.format?.hex);
  return { value: p.result, type: p.type, variablesReference: p.variablesReference, memoryReference: p.memoryReference };
}

/** Completions: registers (also after `$` and `[`), struct fields after `.`, constants, symbols, catalog names. */
export function completions(t: Target, args: DebugProtocol.CompletionsArguments, columnsStartAt1: boolean): DebugProtocol.CompletionsResponse['body'] {
  if (typeof args.text !== 'string' || !Number.isInteger(args.column)) throw needs('completions', '"text" and "column"');
  const upto = args.text.slice(0, Math.max(0, args.column - (columnsStartAt1 ? 1 : 0)));
  const m = /([$%]?[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*\.?|[$%]?)$/.exec(upto)!;
  const word = m[1];
  const items: DebugProtocol.CompletionItem[] = [];
  const add = (label: string, type: DebugProtocol.CompletionItemType, detail?: string) => items.push({ label, type, detail, text: label });
  const dot = word.lastIndexOf('.');
  if (dot >= 0) {
    // `args.r1` → fields of the struct `args`; `(tdx_module_args)rsi.` → fields of the cast struct.
    const base = word.slice(0, dot), prefix = word.slice(dot + 1);
    const cast = /\(\s*(?:struct\s+)?(\w+)\s*\*?\s*\)\s*[$%]?\w+$/.exec(upto.slice(0, upto.length - word.length + dot));
    const path = base.split('.');
    const arg = t.session.structArgs.find((s) => s.name === path[0]);
    let fields = cast ? t.session.image.structs.get(cast[1])?.fields : arg?.layout.fields;
    for (const p of cast ? [] : path.slice(1)) fields = fields ? findField(fields, p)?.fields : undefined;
    for (const f of fields ?? []) if (f.name.startsWith(prefix)) add(f.name, 'field', `${f.type} +0x${f.offset.toString(16)}${f.asmOffsetsName ? ` ${f.asmOffsetsName}` : ''}`);
    const r = { start: dot + 1, length: prefix.length };
    return { targets: items.map((i) => ({ ...i, start: upto.length - word.length + r.start + (columnsStartAt1 ? 1 : 0), length: r.length })) };
  }
  const bare = word.replace(/^[$%]/, '');
  const registersOnly = word.startsWith('$') || word.startsWith('%');
  for (const r of REGISTER_NAMES) if (r.startsWith(bare.toLowerCase())) add(registersOnly ? word[0] + r : r, 'property', 'register');
  if (!registersOnly) {
    for (const s of t.session.structArgs) if (s.name.startsWith(bare)) add(s.name, 'variable', `struct ${s.layout.name}`);
    for (const k of ['byte', 'word', 'dword', 'qword', 'leaf', 'status', 'subfunction']) if (k.startsWith(bare)) add(k, 'keyword');
    if (bare.length > 0) {
      for (const k of t.session.image.constants.keys()) if (k.startsWith(bare)) add(k, 'value', hex(t.session.image.constants.get(k)!));
      for (const s of t.session.image.symbols) if (s.type === 'func' && s.name.startsWith(bare)) add(s.name, 'function', hex(s.address));
      for (const s of t.session.image.structs.keys()) if (s.startsWith(bare)) add(s, 'class', 'struct (cast: (name)address)');
      for (const kind of ['tdcall', 'seamcall', 'status'] as const) for (const n of catalogNames(kind)) if (n.toUpperCase().startsWith(bare.toUpperCase())) add(n, 'value', kind);
    }
  }
  const seen = new Set<string>();
  const start = upto.length - word.length + (columnsStartAt1 ? 1 : 0);
  return { targets: items.filter((i) => !seen.has(i.label) && seen.add(i.label)).slice(0, 500).map((i) => ({ ...i, start, length: word.length })) };
}
