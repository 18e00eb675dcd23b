// package.json's `contributes` against the code, without VS Code: the launch schema equals the
// launch configuration type (LAUNCH_ATTRIBUTES, and validateConfig accepts what the schema
// offers and rejects what it does not), commands/views/settings equal the records of
// extension/ids.ts, every `when` clause uses known context keys, snippets and initial
// configurations validate, and the contributed language and grammar files exist.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../support/paths';
import { ConfigError, LAUNCH_ATTRIBUTES, validateConfig } from '../../emulator/session/config';
import { EXEC_CONTEXTS } from '../../emulator/platform/config';
import { GENERATIONS } from '../../emulator/loader/headers/generation';
import { ASM_LANGUAGE_IDS, COMMANDS, CONTEXT_KEYS, DEBUG_LANGUAGE_IDS, DEBUG_TYPE, SETTINGS, TDX_ASM_LANGUAGE, VIEWS } from '../../extension/ids';

type Json = Record<string, any>;
const ROOT = projectRoot();
const pkg: Json = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const contributes: Json = pkg.contributes;
const dbg: Json = contributes.debuggers.find((d: Json) => d.type === DEBUG_TYPE);
const launch: Json = dbg?.configurationAttributes?.launch;
const props: Record<string, Json> = launch?.properties ?? {};

/** Attributes that only come in pairs (validateConfig requires both). */
const COMPANIONS: Record<string, Record<string, unknown>> = { kernelSource: { kernelBuild: 'build' }, kernelBuild: { kernelSource: 'linux' } };
/** A valid configuration with one attribute set (and its companion). */
const withAttr = (k: string, v: unknown) => ({ type: 'tdx', request: 'launch', name: 't', program: 'x.S', ...COMPANIONS[k], [k]: v });

function rejects(k: string, v: unknown): ConfigError {
  try {
    validateConfig(withAttr(k, v));
  } catch (e) {
    assert.ok(e instanceof ConfigError, `${k}=${JSON.stringify(v)}: expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`validateConfig accepted ${k}=${JSON.stringify(v)} although the schema does not allow it`);
}

test('the tdx debugger is contributed with label, languages and the launch request', () => {
  assert.ok(dbg, 'no debugger of type tdx');
  assert.equal(dbg.label, 'TDX Call Debugger');
  assert.deepEqual(dbg.languages, [...DEBUG_LANGUAGE_IDS]);
  assert.deepEqual(launch.required, ['program']);
  assert.equal(dbg.configurationAttributes.attach, undefined, 'attach is not supported by the adapter');
});

test('launch attributes in package.json are exactly LAUNCH_ATTRIBUTES', () => {
  assert.deepEqual(Object.keys(props).sort(), [...LAUNCH_ATTRIBUTES].sort());
  for (const [k, p] of Object.entries(props)) assert.ok(typeof p.description === 'string' && p.description.length > 20, `${k} has no real description`);
});

test('enums of the schema equal the enums the validation accepts', () => {
  assert.deepEqual(props.context.enum, [...EXEC_CONTEXTS]);
  assert.deepEqual(props.generation.enum, [...GENERATIONS]);
  assert.deepEqual(props.disassemblyFlavor.enum, ['att', 'intel']);
  for (const [k, p] of Object.entries(props)) {
    if (!p.enum) continue;
    for (const v of p.enum) assert.doesNotThrow(() => validateConfig(withAttr(k, v)), `${k}=${v} from the schema enum is rejected`);
    assert.equal(rejects(k, '__not_in_enum__').attribute, k);
    if (p.enumDescriptions) assert.equal(p.enumDescriptions.length, p.enum.length, `${k}: one description per enum value`);
  }
});

test('defaults and examples of the schema validate; values of another JSON type are rejected naming the attribute', () => {
  const sampleOf: Record<string, unknown> = { string: 'x', boolean: true, integer: 3, number: 3, array: [], object: {} };
  const wrongFor: Record<string, unknown> = { string: 42, boolean: 'yes', integer: 1.5, number: 'many', array: 'x', object: 'x' };
  for (const [k, p] of Object.entries(props)) {
    if (p.default !== undefined && k !== 'program') assert.doesNotThrow(() => validateConfig(withAttr(k, p.default)), `default of ${k} is rejected`);
    for (const ex of p.examples ?? []) assert.doesNotThrow(() => validateConfig(withAttr(k, ex)), `example ${JSON.stringify(ex)} of ${k} is rejected`);
    const types: string[] = Array.isArray(p.type) ? p.type : [p.type];
    if (!p.enum && k !== 'program') {
      for (const t of types) assert.doesNotThrow(() => validateConfig(withAttr(k, sampleOf[t])), `${k}: a ${t} (schema type) is rejected`);
    }
    const wrong = types.length === 1 ? wrongFor[types[0]] : undefined;
    if (wrong !== undefined) assert.match(rejects(k, wrong).attribute, new RegExp(`^${k}\\b`), `${k}: wrong type not attributed to ${k}`);
  }
});

test('nested schemas match the validation: platform keys, args items, fault objects, numeric ranges', () => {
  const platform = props.platform.properties as Record<string, Json>;
  for (const [k, p] of Object.entries(platform)) {
    const v = Array.isArray(p.enum) ? p.enum[0] : p.type === 'boolean' ? true : p.type === 'integer' ? 0 : '0x5';
    assert.doesNotThrow(() => validateConfig(withAttr('platform', { [k]: v })), `platform.${k} from the schema is rejected`);
  }
  assert.equal(props.platform.additionalProperties, false);
  assert.equal(rejects('platform', { notAKnob: true }).attribute, 'platform.notAKnob');
  assert.equal(rejects('platform', { cpl: 4 }).attribute, 'platform.cpl');
  assert.equal(props.platform.properties.cpl.maximum, 3);

  assert.equal(props.args.maxItems, 6);
  rejects('args', [1, 2, 3, 4, 5, 6, 7]);
  assert.doesNotThrow(() => validateConfig(withAttr('args', [1, 'TDVMCALL_MAP_GPA', { struct: 'tdx_module_args', init: { r11: 1 }, name: 'a' }])));
  assert.deepEqual(props.args.items.oneOf[2].required, ['struct']);
  rejects('args', [{ init: {} }]);

  const faultObj = props.faults.items.oneOf[1];
  assert.deepEqual(faultObj.properties.where.enum, ['tdcall', 'seamcall', 'tdvmcall']);
  for (const ex of props.faults.items.oneOf[0].examples) assert.doesNotThrow(() => validateConfig(withAttr('faults', [ex])), ex);
  assert.doesNotThrow(() => validateConfig(withAttr('faults', [{ where: 'seamcall', leaf: 'TDH.SYS.INIT', nth: 1, action: '#GP(0)' }])));
  assert.equal(rejects('faults', [{ where: 'seamcall', action: '#GP(0)', bogus: 1 }]).attribute, 'faults');

  const toolchain = props.toolchain.properties as Record<string, Json>;
  assert.deepEqual(Object.keys(toolchain).sort(), ['args', 'compiler', 'includePaths']);
  assert.equal(rejects('toolchain', { linker: 'ld' }).attribute, 'toolchain.linker');
  assert.throws(() => validateConfig({ type: 'tdx', request: 'launch', name: 't', program: 'x.S', kernelSource: 'linux' }), ConfigError);

  assert.equal(props.maxInstructions.minimum, 1);
  rejects('maxInstructions', 0);
});

test('initial configurations and configuration snippets validate', () => {
  const all: Json[] = [...dbg.initialConfigurations, ...dbg.configurationSnippets.map((s: Json) => s.body)];
  assert.ok(dbg.configurationSnippets.length >= 3);
  // One per generation shape: G0/G1 tdx_hypercall_args, G1 tdx_module_output, G4/G5 tdx_module_args, host SEAMCALL.
  for (const label of ['Guest hypercall', 'Guest module call', 'Host SEAMCALL with faults', 'G0/G1 (struct tdx_hypercall_args', 'G1 (__tdx_module_call, struct tdx_module_output']) {
    assert.ok(dbg.configurationSnippets.some((s: Json) => s.label.includes(label)), `no snippet "${label}"`);
  }
  for (const c of all) {
    // Snippet syntax: ${1:default} → default, "^\"...\"" → the string inside.
    const text = JSON.stringify(c)
      .replace(/"\^\\"(.*?)\\""/g, (_m, inner: string) => JSON.stringify(inner.replace(/\\\\\$/g, '$')))
      .replace(/\$\{\d+:([^}]*)\}/g, '$1');
    const config = JSON.parse(text);
    assert.equal(config.type, DEBUG_TYPE);
    assert.doesNotThrow(() => validateConfig(config), `${config.name}: ${(() => { try { validateConfig(config); return ''; } catch (e) { return String(e); } })()}`);
  }
});

test('commands: the enum record and package.json agree (ids, titles, category)', () => {
  const contributed = new Map<string, Json>(contributes.commands.map((c: Json) => [c.command, c]));
  assert.deepEqual([...contributed.keys()].sort(), Object.keys(COMMANDS).sort());
  for (const [id, info] of Object.entries(COMMANDS)) {
    assert.equal(contributed.get(id)!.title, info.title, id);
    assert.equal(contributed.get(id)!.category, info.category, id);
  }
  const palette = new Map<string, string>(contributes.menus.commandPalette.map((m: Json) => [m.command, m.when]));
  for (const [id, info] of Object.entries(COMMANDS)) {
    if (!info.palette) assert.equal(palette.get(id), 'false', `${id} must be hidden from the palette`);
    else assert.notEqual(palette.get(id), 'false', `${id} must be in the palette`);
  }
  // The e2e test and the README name these titles.
  assert.equal(`${COMMANDS['tdx.injectFault' as keyof typeof COMMANDS].category}: ${COMMANDS['tdx.injectFault' as keyof typeof COMMANDS].title}`, 'TDX: Inject Fault at Next Call...');
});

test('every menu entry names a contributed command and every when clause uses known context keys', () => {
  const ids = new Set(contributes.commands.map((c: Json) => c.command));
  const keys = new Set<string>(Object.keys(CONTEXT_KEYS));
  const whens: [string, string][] = [];
  for (const [menu, entries] of Object.entries(contributes.menus as Record<string, Json[]>)) {
    for (const e of entries) {
      assert.ok(ids.has(e.command), `menu ${menu} names unknown command ${e.command}`);
      if (e.when) whens.push([`${menu}:${e.command}`, e.when]);
    }
  }
  for (const v of contributes.views.debug) if (v.when) whens.push([`view ${v.id}`, v.when]);
  for (const [where, when] of whens) {
    for (const key of contextKeysOf(when)) assert.ok(keys.has(key), `${where}: "${key}" in "${when}" is not in the Ctx enum`);
    // Values compared with view ids must be our views.
    for (const m of when.matchAll(/\bview == ([\w.]+)/g)) assert.ok(m[1] in VIEWS, `${where}: unknown view ${m[1]}`);
  }
});

test('views and settings equal the records of extension/ids.ts', () => {
  assert.deepEqual(Object.fromEntries(contributes.views.debug.map((v: Json) => [v.id, v.name])), VIEWS);
  const settings = Object.keys(contributes.configuration.properties).map((k) => k.replace(/^tdx\./, ''));
  assert.deepEqual(settings.sort(), Object.keys(SETTINGS).sort());
});

test('assembly language, grammar and breakpoints: .S/.s files take breakpoints with or without another assembly extension', () => {
  const lang = contributes.languages.find((l: Json) => l.id === TDX_ASM_LANGUAGE);
  assert.ok(lang, 'tdx-asm language not contributed');
  assert.ok(lang.extensions.includes('.S') && lang.extensions.includes('.s'));
  assert.ok(existsSync(join(ROOT, lang.configuration)), lang.configuration);
  const grammar = contributes.grammars.find((g: Json) => g.language === TDX_ASM_LANGUAGE);
  assert.ok(grammar && existsSync(join(ROOT, grammar.path)));
  assert.equal(JSON.parse(readFileSync(join(ROOT, grammar.path), 'utf8')).scopeName, grammar.scopeName);
  // Grammars only for our own language: never override another extension's.
  assert.deepEqual(contributes.grammars.map((g: Json) => g.language), [TDX_ASM_LANGUAGE]);
  const bp = contributes.breakpoints.map((b: Json) => b.language);
  for (const l of [...ASM_LANGUAGE_IDS, 'c']) assert.ok(bp.includes(l), `no breakpoints for ${l}`);
});

test('activation is lazy and covers the debug type and the assembly languages', () => {
  const ev: string[] = pkg.activationEvents;
  assert.ok(!ev.includes('*') && !ev.includes('onStartupFinished'), 'no eager activation');
  assert.ok(ev.includes(`onDebugResolve:${DEBUG_TYPE}`));
  assert.ok(ev.includes(`onDebugDynamicConfigurations:${DEBUG_TYPE}`));
  for (const l of ASM_LANGUAGE_IDS) assert.ok(ev.includes(`onLanguage:${l}`), l);
  assert.equal(pkg.main, './dist/extension.js');
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /Restricted Mode/);
});

/** Context keys of a `when` clause: identifiers that are not values (right of ==, !=, =~) or literals. */
export function contextKeysOf(when: string): string[] {
  const s = when
    .replace(/=~\s*\/(?:\\.|[^/])*\/[a-z]*/g, ' ') // regex values
    .replace(/'(?:\\.|[^'])*'|"(?:\\.|[^"])*"/g, ' ') // quoted values
    .replace(/(==|!=|<=|>=|<|>)\s*[^\s&|)]+/g, ' '); // bare values of comparisons
  return [...s.matchAll(/[A-Za-z_][\w.\-]*/g)].map((m) => m[0]).filter((w) => !['true', 'false', 'in', 'not'].includes(w));
}
