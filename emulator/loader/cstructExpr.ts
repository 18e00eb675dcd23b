// C integer constant expressions over parsed declarations: sizeof, _Alignof, offsetof and
// __builtin_offsetof with member designators, casts to integer types, enumeration constants.

import { evaluate, ExprError, type PPValue } from './pp/expr';
import type { Tok } from './pp/lexer';
import { alignOf, memberOffset, sizeOf, type CScope, type CType, type DesignatorStep, type Where } from './cstructLayout';
import type { CTok } from './cstructTokens';

/**
 * Evaluate a C constant expression over `toks`: sizeof/_Alignof of a type name, offsetof /
 * __builtin_offsetof, casts to integer types, enumeration constants.
 */
export function evaluateC(toks: Tok[], scope: CScope, typeAt: (pos: number) => { type: CType; next: number } | undefined): PPValue {
  const close = (pos: number, what: string): number => {
    if (toks[pos]?.text !== ')') throw new ExprError(toks[pos] ?? toks[toks.length - 1], `expected ')' after ${what}`);
    return pos + 1;
  };
  return evaluate(toks, {
    primary: (ts, pos, _ev, unary) => {
      const t = ts[pos];
      if (t.text === '(') {
        const cast = typeAt(pos + 1);
        if (!cast) return undefined;
        const after = close(cast.next, 'the type in a cast');
        const operand = unary(after);
        return { v: castTo(cast.type, operand.v), next: operand.next };
      }
      if (t.text === 'sizeof' || /^(_Alignof|__alignof__|__alignof|alignof)$/.test(t.text)) {
        if (ts[pos + 1]?.text !== '(') throw new ExprError(t, `${t.text} of an expression is not supported; write ${t.text}(type)`);
        const ty = typeAt(pos + 2);
        if (!ty) throw new ExprError(ts[pos + 2] ?? t, `${t.text} needs a type name here`);
        const v = t.text === 'sizeof' ? sizeOf(ty.type) : alignOf(ty.type);
        return { v: { value: BigInt(v), unsigned: true }, next: close(ty.next, t.text) };
      }
      if (t.text === '__builtin_offsetof' || t.text === 'offsetof') {
        if (ts[pos + 1]?.text !== '(') throw new ExprError(t, `expected '(' after ${t.text}`);
        const ty = typeAt(pos + 2);
        if (!ty) throw new ExprError(ts[pos + 2] ?? t, `${t.text} needs a type name`);
        if (ts[ty.next]?.text !== ',') throw new ExprError(ts[ty.next] ?? t, `expected ',' after the type in ${t.text}`);
        const d = parseDesignator(ts, ty.next + 1);
        const r = memberOffset(ty.type, d.steps);
        return { v: { value: BigInt(r.offset), unsigned: true }, next: close(d.next, `the member in ${t.text}`) };
      }
      if (t.kind === 'id' && scope.enumConstants.has(t.text)) return { v: { value: scope.enumConstants.get(t.text)!, unsigned: false }, next: pos + 1 };
      return undefined;
    },
  });
}

function castTo(t: CType, v: PPValue): PPValue {
  if (t.kind === 'ptr') return { value: BigInt.asUintN(64, v.value), unsigned: true };
  if (t.kind !== 'int' && t.kind !== 'enum') return v;
  const bits = t.size * 8;
  if (t.kind === 'int' && t.name === '_Bool') return { value: v.value !== 0n ? 1n : 0n, unsigned: false };
  const value = t.signed ? BigInt.asIntN(bits, v.value) : BigInt.asUintN(bits, v.value);
  return { value, unsigned: !t.signed && bits >= 64 };
}

/** A member designator `a.b[2].c` at `pos`, up to a closing `)` or `,`. */
export function parseDesignator(toks: Tok[], pos: number): { steps: DesignatorStep[]; next: number } {
  const steps: DesignatorStep[] = [];
  const where = (t: Tok): Where => ({ file: (t as CTok).file ?? '<input>', line: t.line, col: t.col });
  let expectName = true;
  let k = pos;
  for (; k < toks.length; k++) {
    const t = toks[k];
    if (expectName) {
      if (t.kind !== 'id') throw new ExprError(t, `expected a member name, found '${t.text}'`);
      steps.push({ member: t.text, where: where(t) });
      expectName = false;
    } else if (t.text === '.') expectName = true;
    else if (t.text === '[') {
      let depth = 0;
      let j = k;
      for (; j < toks.length; j++) {
        if (toks[j].text === '[') depth++;
        else if (toks[j].text === ']' && --depth === 0) break;
      }
      const v = evaluate(toks.slice(k + 1, j));
      steps.push({ index: Number(v.value), where: where(t) });
      k = j;
    } else break;
  }
  if (expectName) throw new ExprError(toks[k] ?? toks[toks.length - 1], 'expected a member name');
  return { steps, next: k };
}
