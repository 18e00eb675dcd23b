// C declarations → struct layouts. Reads preprocessed header text (struct/union/enum/typedef,
// attributes, bit-fields, arrays) and lays records out with cstructLayout.ts. Anything else a
// real header holds (prototypes, inline functions, variables, unknown macros) is skipped to
// its `;` or `}`; errors inside a struct, union or enum body are reported with their place.
//
// Why this file is long: CParser is one recursive-descent parser of C declarations; its
// methods (specifiers, attributes, struct/union/enum bodies, declarators, type names) call one
// another along the grammar, so they stay together. What has its own seam lives beside it: the
// token cursor and error recovery (cstructTokens.ts), constant expressions (cstructExpr.ts)
// and record layout (cstructLayout.ts).

import type { Diagnostic } from './diagnostics';
import type { StructLayout } from './image';
import type { PreprocessedLine } from './preprocess';
import { logicalLines, tokenize } from './pp/lexer';
import { ExprError, type PPValue } from './pp/expr';
import {
  alignOf, INT_TYPES, KNOWN_TYPEDEFS, LayoutError, layoutRecord, sizeOf, toStructLayout,
  type CScope, type CType, type Member, type RecordType,
} from './cstructLayout';
import { evaluateC } from './cstructExpr';
import { CTokenCursor, ParseError, type CTok } from './cstructTokens';

export type { CTok } from './cstructTokens';
export type { CScope } from './cstructLayout';
export { parseDesignator } from './cstructExpr';

/** The body of a function definition, kept for asm-offsets (OFFSET/DEFINE calls live there). */
export interface FunctionBody {
  name: string;
  toks: CTok[];
}

/** Everything read from a set of C declarations. */
export interface CDeclarations {
  /** Complete structs and unions by tag, and typedef names of records that have no tag of that name. */
  structs: Map<string, StructLayout>;
  /** Enumeration constants. */
  enumConstants: Map<string, bigint>;
  functionBodies: FunctionBody[];
  diagnostics: Diagnostic[];
  /** The type model, for offsetof/sizeof queries (asmOffsets.ts). */
  scope: CScope;
}

/** Parse preprocessed lines (run the preprocessor with `language: 'c'` first). */
export function parseCDeclarations(lines: PreprocessedLine[]): CDeclarations {
  const toks: CTok[] = [];
  for (const l of lines) {
    for (const ll of logicalLines(l.text)) {
      for (const t of tokenize({ ...ll, lines: undefined, line: l.line }, { asm: false })) toks.push({ ...t, file: l.file });
    }
  }
  return new CParser(toks).run();
}

/** Parse C text that needs no preprocessing (the built-in presets). */
export function parseCText(text: string, file = '<text>'): CDeclarations {
  return parseCDeclarations(text.split('\n').map((t, i) => ({ text: t, file, line: i + 1 })));
}

interface Attrs {
  packed?: boolean;
  aligned?: number;
}

interface Specifiers {
  type: CType;
  typedef: boolean;
  attrs: Attrs;
}

interface Declarator {
  name?: string;
  nameTok?: CTok;
  wrap: (t: CType) => CType;
  isFunction: boolean;
}

const QUALIFIERS = new Set(['const', 'volatile', 'restrict', '__restrict', '__restrict__', 'inline', '__inline', '__inline__', '_Noreturn', '__extension__', '__const', '__volatile__', '__volatile', '_Atomic', 'extern', 'static', 'auto', 'register', '_Thread_local', '__thread', 'noinline', 'notrace', 'noinstr', '__init', '__iomem', '__user', '__rcu', '__percpu', '__force', '__bitwise', '__must_check', '__maybe_unused', '__used', '__visible', '__always_inline', '__noreturn', '__read_mostly', '__ro_after_init', 'asmlinkage', '__cold', '__weak']);
const INT_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'signed', 'unsigned', '__signed__', '__signed', 'float', 'double', '_Bool', '__int128']);

class CParser extends CTokenCursor {
  private readonly scope: CScope;
  private readonly bodies: FunctionBody[] = [];
  private readonly diagnostics: Diagnostic[] = [];

  constructor(toks: CTok[], scope?: CScope) {
    super(toks);
    this.scope = scope ?? { typedefs: new Map(), tags: new Map(), enumTags: new Map(), enumConstants: new Map() };
  }

  run(): CDeclarations {
    while (this.pos < this.toks.length) {
      const start = this.pos;
      try {
        this.externalDeclaration();
      } catch (e) {
        if (!(e instanceof ParseError) && !(e instanceof LayoutError)) throw e;
        if (e instanceof LayoutError || e.reportable) this.report(e);
        this.recordDepth = 0;
        this.skipDeclaration(start);
        if (this.pos <= start) this.pos = start + 1;
      }
    }
    return { structs: this.structs(), enumConstants: this.scope.enumConstants, functionBodies: this.bodies, diagnostics: this.diagnostics, scope: this.scope };
  }

  private report(e: ParseError | LayoutError): void {
    const loc = e instanceof ParseError ? (e.tok ? { file: e.tok.file, line: e.tok.line, column: e.tok.col } : undefined) : e.where ? { file: e.where.file, line: e.where.line, column: e.where.col } : undefined;
    this.diagnostics.push({ severity: 'error', message: e.message, location: loc });
  }

  private structs(): Map<string, StructLayout> {
    const out = new Map<string, StructLayout>();
    const add = (name: string, rec: RecordType) => {
      if (out.has(name) || !rec.complete) return;
      try {
        out.set(name, toStructLayout(name, rec));
      } catch (e) {
        if (!(e instanceof LayoutError)) throw e;
        this.diagnostics.push({ severity: 'error', message: `cannot lay out ${name}: ${e.message}`, location: e.where ? { file: e.where.file, line: e.where.line, column: e.where.col } : undefined });
      }
    };
    for (const [tag, rec] of this.scope.tags) add(tag, rec);
    for (const [name, t] of this.scope.typedefs) if (t.kind === 'record') add(name, t.rec);
    return out;
  }

  private externalDeclaration(): void {
    const t = this.peek()!;
    if (t.text === ';') return void this.pos++;
    if (t.text === '_Static_assert' || t.text === 'static_assert' || t.text === 'asm' || t.text === '__asm__') {
      this.pos = this.skipGroup(this.pos + 1);
      if (this.is(';')) this.pos++;
      return;
    }
    const spec = this.specifiers();
    if (!spec) this.fail(`expected a declaration, found '${t.text}'`);
    if (this.is(';')) return void this.pos++;
    for (;;) {
      const d = this.declarator(false);
      this.attributes(spec.attrs);
      const type = d.wrap(spec.type);
      if (spec.typedef && d.name) {
        const named: CType = { ...type, typedefName: d.name };
        if (spec.attrs.aligned) named.alignAttr = spec.attrs.aligned;
        this.scope.typedefs.set(d.name, named);
      }
      if (this.is('{')) {
        const end = this.skipGroup(this.pos);
        if (d.isFunction && d.name) this.bodies.push({ name: d.name, toks: this.toks.slice(this.pos + 1, end - 1) });
        this.pos = end;
        return;
      }
      if (this.is('=')) {
        this.pos++;
        while (this.pos < this.toks.length && !this.is(',') && !this.is(';')) {
          this.pos = this.is('(') || this.is('{') || this.is('[') ? this.skipGroup(this.pos) : this.pos + 1;
        }
      }
      if (this.is(',')) {
        this.pos++;
        continue;
      }
      this.expect(';', 'at the end of the declaration');
      return;
    }
  }

  /** Declaration specifiers; undefined when the tokens do not start a type. */
  private specifiers(): Specifiers | undefined {
    const attrs: Attrs = {};
    const words: string[] = [];
    let type: CType | undefined;
    let typedef = false;
    const start = this.pos;
    for (;;) {
      const t = this.peek();
      if (!t || t.kind !== 'id') break;
      const w = t.text;
      if (w === 'typedef') typedef = true;
      else if (QUALIFIERS.has(w)) {
        /* no effect on layout */
      } else if (this.attribute(attrs)) continue;
      else if (INT_WORDS.has(w)) words.push(w);
      else if ((w === 'struct' || w === 'union') && !type && !words.length) {
        this.pos++;
        type = this.recordSpecifier(w);
        continue;
      } else if (w === 'enum' && !type && !words.length) {
        this.pos++;
        type = this.enumSpecifier();
        continue;
      } else if ((w === 'typeof' || w === '__typeof__' || w === '__typeof') && !type && !words.length) {
        this.pos++;
        this.expect('(', 'after typeof');
        const inner = this.typeName() ?? this.fail('typeof of an expression is not supported; use a type');
        this.expect(')', 'to close typeof');
        type = inner;
        continue;
      } else if (!type && !words.length && (this.scope.typedefs.has(w) || KNOWN_TYPEDEFS.has(w))) {
        type = this.scope.typedefs.get(w) ?? { ...INT_TYPES.get(KNOWN_TYPEDEFS.get(w)!)!, typedefName: w };
      } else break;
      this.pos++;
    }
    if (words.length) {
      if (type) this.fail(`'${words.join(' ')}' combined with another type`, this.toks[start]);
      type = this.basicType(words, this.toks[start]);
    }
    if (!type) {
      this.pos = start;
      return undefined;
    }
    return { type, typedef, attrs };
  }

  private basicType(words: string[], at: CTok): CType {
    const count = (w: string) => words.filter((x) => x === w).length;
    const unsigned = count('unsigned') > 0;
    const longs = count('long');
    if (words.includes('void')) return { kind: 'void' };
    if (words.includes('float')) return { kind: 'float', name: 'float', size: 4 };
    if (words.includes('double')) return longs ? { kind: 'float', name: 'long double', size: 16 } : { kind: 'float', name: 'double', size: 8 };
    let name: string;
    if (words.includes('_Bool')) name = '_Bool';
    else if (words.includes('__int128')) name = '__int128';
    else if (words.includes('char')) name = unsigned ? 'unsigned char' : count('signed') + count('__signed__') + count('__signed') ? 'signed char' : 'char';
    else if (words.includes('short')) name = 'short';
    else if (longs >= 2) name = 'long long';
    else if (longs === 1) name = 'long';
    else name = 'int';
    if (unsigned && name !== 'unsigned char' && name !== '_Bool') name = `unsigned ${name}`;
    const t = INT_TYPES.get(name);
    if (!t) this.fail(`invalid combination of type words '${words.join(' ')}'`, at);
    return t;
  }

  /** `__attribute__((...))`, `__packed`, `__aligned(n)`, `_Alignas(n)` at the cursor; true if one was read. */
  private attribute(attrs: Attrs): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.text === '__packed') {
      this.pos++;
      attrs.packed = true;
      return true;
    }
    if (t.text === '__aligned' || t.text === '_Alignas' || t.text === 'alignas') {
      this.pos++;
      this.expect('(', `after ${t.text}`);
      const end = this.skipGroup(this.pos - 1) - 1;
      const inner = this.toks.slice(this.pos, end);
      const asType = this.typeNameAt(this.pos);
      attrs.aligned = asType ? alignOf(asType.type) : this.constant(inner, t);
      this.pos = end + 1;
      return true;
    }
    if (t.text !== '__attribute__' && t.text !== '__attribute') return false;
    this.pos++;
    if (!this.is('(') || !this.is('(', 1)) this.fail(`expected '((' after ${t.text}`);
    const end = this.skipGroup(this.pos);
    let k = this.pos + 2;
    while (k < end - 2) {
      const a = this.toks[k];
      const name = a.text.replace(/^__(.*)__$/, '$1');
      let argEnd = k + 1;
      if (this.toks[k + 1]?.text === '(') argEnd = this.skipGroup(k + 1);
      if (name === 'packed') attrs.packed = true;
      else if (name === 'aligned') attrs.aligned = argEnd > k + 1 ? this.constant(this.toks.slice(k + 2, argEnd - 1), a) : 16;
      k = argEnd;
      if (this.toks[k]?.text === ',') k++;
    }
    this.pos = end;
    return true;
  }
  private attributes(attrs: Attrs): void {
    while (this.attribute(attrs)) {
      /* read them all */
    }
  }

  private recordSpecifier(kind: 'struct' | 'union'): CType {
    const recAttrs: Attrs = {};
    this.attributes(recAttrs);
    let tagTok: CTok | undefined;
    if (this.peek()?.kind === 'id' && !this.is('{')) tagTok = this.toks[this.pos++];
    this.attributes(recAttrs);
    let rec: RecordType | undefined = tagTok ? this.scope.tags.get(tagTok.text) : undefined;
    if (rec && rec.kind !== kind) this.fail(`'${tagTok!.text}' defined as ${rec.kind}, used as ${kind}`, tagTok);
    if (!this.is('{')) {
      if (!tagTok) this.fail(`expected a ${kind} tag or '{'`);
      if (!rec) {
        rec = { kind, tag: tagTok.text, complete: false, members: [], packed: false };
        this.scope.tags.set(tagTok.text, rec);
      }
      return { kind: 'record', rec };
    }
    if (rec?.complete) throw new ParseError(tagTok, `redefinition of ${kind} ${tagTok!.text}`, true);
    if (!rec) {
      rec = { kind, tag: tagTok?.text, complete: false, members: [], packed: false };
      if (tagTok) this.scope.tags.set(tagTok.text, rec);
    }
    rec.where = this.where(tagTok ?? this.peek());
    this.pos++;
    this.recordDepth++;
    const members: Member[] = [];
    while (!this.is('}')) {
      if (this.pos >= this.toks.length) this.fail(`expected '}' to end ${kind} ${rec.tag ?? '<anonymous>'}`, tagTok);
      this.member(members, kind);
    }
    this.pos++;
    this.recordDepth--;
    // Attributes after the brace (`} __packed name;`) belong to the record.
    this.attributes(recAttrs);
    rec.members = members;
    rec.packed = !!recAttrs.packed;
    rec.alignAttr = recAttrs.aligned;
    rec.complete = true;
    layoutRecord(rec, rec.where);
    return { kind: 'record', rec };
  }

  private member(members: Member[], kind: string): void {
    const t = this.peek()!;
    if (t.text === ';') return void this.pos++;
    if (t.text === '_Static_assert' || t.text === 'static_assert') {
      this.pos = this.skipGroup(this.pos + 1);
      this.expect(';', 'after _Static_assert');
      return;
    }
    const spec = this.specifiers();
    if (!spec) this.fail(t.kind === 'id' ? `unknown type name '${t.text}' in ${kind} member` : `expected a member declaration, found '${t.text}'`);
    if (this.is(';') && spec.type.kind === 'record') {
      // Anonymous struct/union member: its fields belong to the enclosing record.
      members.push({ type: spec.type, packed: !!spec.attrs.packed, alignAttr: spec.attrs.aligned, where: this.where(t) });
      this.pos++;
      return;
    }
    for (;;) {
      const attrs: Attrs = { ...spec.attrs };
      const d = this.is(':') ? { wrap: (x: CType) => x, isFunction: false, name: undefined, nameTok: undefined } : this.declarator(false);
      let bitWidth: number | undefined;
      if (this.is(':')) {
        const colon = this.toks[this.pos++];
        const end = this.exprEnd([',', ';', '__attribute__', '__attribute', '__packed', '__aligned']);
        bitWidth = this.constant(this.toks.slice(this.pos, end), colon);
        this.pos = end;
      }
      this.attributes(attrs);
      const type = d.wrap(spec.type);
      const at = d.nameTok ?? t;
      if (d.isFunction) this.fail(`member '${d.name}' declared as a function`, at);
      if (bitWidth !== undefined) {
        if (type.kind !== 'int' && type.kind !== 'enum') this.fail(`bit-field '${d.name ?? '<unnamed>'}' has non-integer type`, at);
        if (bitWidth < 0 || bitWidth > sizeOf(type) * 8) this.fail(`width of bit-field '${d.name ?? '<unnamed>'}' (${bitWidth}) exceeds its type (${sizeOf(type) * 8} bits)`, at);
        if (bitWidth === 0 && d.name) this.fail(`zero width for bit-field '${d.name}'`, at);
      } else if (!d.name) this.fail('expected a member name', at);
      members.push({ name: d.name, type, bitWidth, packed: !!attrs.packed, alignAttr: attrs.aligned, where: this.where(at) });
      sizeOf(type, this.where(at)); // incomplete member types are an error here, at the member
      if (this.is(',')) {
        this.pos++;
        continue;
      }
      this.expect(';', `after member '${d.name ?? '<unnamed>'}'`);
      return;
    }
  }

  private enumSpecifier(): CType {
    const attrs: Attrs = {};
    this.attributes(attrs);
    let tag: string | undefined;
    if (this.peek()?.kind === 'id' && !this.is('{')) tag = this.toks[this.pos++].text;
    if (!this.is('{')) {
      const known = tag ? this.scope.enumTags.get(tag) : undefined;
      return known ?? { kind: 'enum', tag, size: 4, signed: false };
    }
    this.pos++;
    this.recordDepth++;
    let next = 0n;
    const values: bigint[] = [];
    while (!this.is('}')) {
      const name = this.peek();
      if (!name || name.kind !== 'id') this.fail(`expected an enumerator name in enum ${tag ?? '<anonymous>'}, found ${name ? `'${name.text}'` : 'end of input'}`);
      this.pos++;
      this.attributes(attrs);
      if (this.is('=')) {
        const eq = this.toks[this.pos++];
        const end = this.exprEnd([',', '}']);
        next = this.constantValue(this.toks.slice(this.pos, end), eq).value;
        this.pos = end;
      }
      this.scope.enumConstants.set(name.text, next);
      values.push(next);
      next++;
      if (this.is(',')) this.pos++;
      else if (!this.is('}')) this.fail(`expected ',' or '}' after enumerator '${name.text}'`);
    }
    this.pos++;
    this.recordDepth--;
    this.attributes(attrs);
    const min = values.reduce((a, b) => (b < a ? b : a), 0n);
    const max = values.reduce((a, b) => (b > a ? b : a), 0n);
    // gcc: unsigned int unless a value is negative; 8 bytes when 32 bits do not hold them all.
    const signed = min < 0n;
    let size = 4;
    if (attrs.packed) size = fits(min, max, 1) ? 1 : fits(min, max, 2) ? 2 : fits(min, max, 4) ? 4 : 8;
    else if (!fits(min, max, 4)) size = 8;
    const t: CType = { kind: 'enum', tag, size, signed };
    if (tag) this.scope.enumTags.set(tag, t);
    return t;
  }

  /** A declarator (abstract when `abstract`): pointers, a name or nested declarator, array and function suffixes. */
  private declarator(abstract: boolean): Declarator {
    let pointers = 0;
    const ignored: Attrs = {};
    while (this.is('*')) {
      this.pos++;
      pointers++;
      for (;;) {
        if (QUALIFIERS.has(this.peek()?.text ?? '')) this.pos++;
        else if (!this.attribute(ignored)) break;
      }
    }
    let inner: Declarator | undefined;
    let name: string | undefined;
    let nameTok: CTok | undefined;
    if (this.is('(') && (this.is('*', 1) || this.is('(', 1) || this.is('^', 1) || this.is('__attribute__', 1))) {
      this.pos++;
      inner = this.declarator(abstract);
      this.expect(')', 'to close the declarator');
    } else if (this.peek()?.kind === 'id' && !abstract) {
      nameTok = this.toks[this.pos++];
      name = nameTok.text;
    } else if (!abstract) this.fail(`expected a name in the declaration, found ${this.peek() ? `'${this.peek()!.text}'` : 'end of input'}`);
    const suffixes: ({ array: number | undefined } | { func: true })[] = [];
    for (;;) {
      if (this.is('[')) {
        const open = this.toks[this.pos];
        const end = this.skipGroup(this.pos);
        const inside = this.toks.slice(this.pos + 1, end - 1).filter((x) => !['static', 'const', 'restrict', 'volatile'].includes(x.text));
        suffixes.push({ array: inside.length ? this.constant(inside, open) : undefined });
        this.pos = end;
      } else if (this.is('(')) {
        this.pos = this.skipGroup(this.pos);
        suffixes.push({ func: true });
      } else if (this.is('asm') || this.is('__asm__') || this.is('__asm')) {
        this.pos = this.skipGroup(this.pos + 1);
      } else break;
    }
    const isFunction = inner ? inner.isFunction : 'func' in (suffixes[0] ?? {});
    return {
      name: inner ? inner.name : name,
      nameTok: inner ? inner.nameTok : nameTok,
      isFunction,
      wrap: (base: CType) => {
        let t = base;
        for (let k = 0; k < pointers; k++) t = { kind: 'ptr', to: t };
        for (let k = suffixes.length - 1; k >= 0; k--) {
          const s = suffixes[k];
          t = 'func' in s ? { kind: 'func' } : { kind: 'array', of: t, count: s.array };
        }
        return inner ? inner.wrap(t) : t;
      },
    };
  }

  /** A type name (`struct foo *`, `u8[4]`) at the cursor; undefined if the tokens are not one. */
  private typeName(): CType | undefined {
    const r = this.typeNameAt(this.pos);
    if (!r) return undefined;
    this.pos = r.next;
    return r.type;
  }
  private typeNameAt(pos: number): { type: CType; next: number } | undefined {
    const save = this.pos;
    this.pos = pos;
    try {
      const spec = this.specifiers();
      if (!spec) return undefined;
      const d = this.declarator(true);
      return { type: d.wrap(spec.type), next: this.pos };
    } finally {
      this.pos = save;
    }
  }

  private constant(toks: CTok[], at: CTok): number {
    const v = this.constantValue(toks, at);
    return Number(v.value);
  }

  /** Evaluate an integer constant expression with sizeof, _Alignof, offsetof, casts and enum constants. */
  constantValue(toks: CTok[], at: CTok | undefined): PPValue {
    if (toks.length === 0) this.fail('expected a constant expression', at);
    try {
      return evaluateC(toks, this.scope, (pos) => this.typeNameIn(toks, pos));
    } catch (e) {
      if (e instanceof ExprError) this.fail(e.message, (e.tok as CTok | undefined) ?? at);
      if (e instanceof LayoutError) this.fail(e.message, at);
      throw e;
    }
  }

  private typeNameIn(toks: CTok[], pos: number): { type: CType; next: number } | undefined {
    const saved = this.toks;
    this.toks = toks;
    try {
      return this.typeNameAt(pos);
    } catch (e) {
      if (e instanceof ParseError) return undefined;
      throw e;
    } finally {
      this.toks = saved;
    }
  }
}

/**
 * Evaluate a C integer constant expression (sizeof, _Alignof, offsetof, casts, enum constants)
 * in the scope of parsed declarations. Throws an Error whose message names the problem.
 */
export function evaluateInScope(toks: CTok[], scope: CScope): { value: PPValue } | { error: string; tok?: CTok } {
  try {
    return { value: new CParser(toks, scope).constantValue(toks, toks[0]) };
  } catch (e) {
    if (e instanceof ParseError) return { error: e.message, tok: e.tok };
    throw e;
  }
}

const fits = (min: bigint, max: bigint, size: number) => {
  const bits = BigInt(size * 8);
  return (min >= -(1n << (bits - 1n)) && max < 1n << (bits - 1n)) || (min >= 0n && max < 1n << bits);
};
