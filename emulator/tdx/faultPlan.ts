// Fault plans: parsing of `tdxdbg run --fault` rules (`WHERE=ACTION`, issue 4) and of the same
// rules as launch-configuration objects, and a deterministic matcher that, at each TDCALL /
// SEAMCALL, says which injected action applies. Applying the action is the platform's job; for
// TDVMCALL-side actions `vmmOverrideFor` gives what to pass to the module.

import { catalogNames, closestName, findLeaf, findOperandId, findStatus, findSubfunction, findTdvmcallStatus, parseTdxNumber } from './catalog';
import { decodeTdxStatus, withOperand } from './statusDecoder';
import type { VmmOverride } from './vmm';
import { GPR, GPR_NAMES, gprIndex, hex64, u64, type GprName } from './types';

/** Which calls a rule watches: TDCALL leaves, SEAMCALL leaves, or TDG.VP.VMCALL sub-functions. */
export type FaultWhere = 'tdcall' | 'seamcall' | 'tdvmcall';

/** What to do to a matching call. */
export type FaultAction =
  /** Raise the exception at the instruction instead of running it. */
  | { kind: 'exception'; exception: '#UD' | '#GP' | '#PF'; vector: 6 | 13 | 14; errorCode?: number }
  /** SEAMCALL only: VMfailInvalid (CF=1, RAX unchanged, nothing else written). */
  | { kind: 'vmfailinvalid' }
  /** Do not run the leaf; RAX = this status (TDCALL/SEAMCALL completion status). */
  | { kind: 'status'; value: bigint; name?: string }
  /** TDG.VP.VMCALL: the VMM answers with this TDVMCALL status in R10 (only if R10 is exposed). */
  | { kind: 'r10'; value: bigint; name?: string }
  /** TDG.VP.VMCALL: the VMM is hostile on this call. */
  | { kind: 'hostile'; seed?: bigint }
  /** The instruction retires without effect: no register changes, RIP moves on. */
  | { kind: 'skip' }
  /**
   * Set a register after the call. For `tdvmcall` rules it is set in the VMM's answer, so it
   * reaches the guest only when exposed (as a real VMM's write would).
   */
  | { kind: 'set'; reg: GprName; value: bigint };

/** A register condition `REG [& MASK] OP VALUE`. */
export interface RegCondition {
  reg: GprName;
  mask?: bigint;
  op: '==' | '!=' | '<' | '<=' | '>' | '>=';
  value: bigint;
}

/** A parsed, validated rule. */
export interface FaultRule {
  where: FaultWhere;
  /** Leaf (RAX value; bit 63 for P-SEAMLDR) or sub-function (R11 value); undefined = any. */
  leaf?: { value: bigint; name?: string };
  /** Fire only on the n-th matching call (1-based); undefined = every matching call. */
  nth?: number;
  /** Call site: a symbol (optionally + offset) or an address. */
  at?: { symbol: string; offset?: bigint } | { address: bigint };
  /** Every condition must hold (ANDed). */
  when?: RegCondition[];
  action: FaultAction;
  /** The rule in canonical string form, for display and traces. */
  text: string;
}

/**
 * A rule as a launch configuration writes it, e.g.
 * `{ "where": "tdcall", "leaf": "TDG.VP.VMCALL", "nth": 1, "action": "status:TDX_OPERAND_INVALID" }`.
 */
export interface FaultRuleObject {
  /** `tdcall`, `seamcall` or `tdvmcall`. */
  where: string;
  /** Leaf or sub-function, by name or number; omitted = any. */
  leaf?: string | number;
  /** Fire on the n-th matching call only (1-based). */
  nth?: number;
  /** Call site: `symbol`, `symbol+0x10`, or an address (`0xffffffff81000000`). */
  at?: string | number;
  /** Register conditions joined by `&&`, e.g. `"R12 == 0x1000 && RCX & 0x30 == 0"`. */
  when?: string;
  /** The same ACTION syntax as the string form, e.g. `#GP(0)`, `r10:TDVMCALL_STATUS_RETRY`. */
  action: string;
}

/** A rule that does not parse; `message` is one line naming the offending part. */
export class FaultRuleError extends Error {
  constructor(readonly rule: string, readonly part: string, detail: string) {
    super(`fault rule "${rule}": ${detail}`);
    this.name = 'FaultRuleError';
  }
}

/** Parses one `WHERE[:LEAF][@N]=ACTION` rule. */
export function parseFaultRule(text: string): FaultRule {
  const eq = text.indexOf('=');
  if (eq < 0) throw new FaultRuleError(text, text, 'expected WHERE=ACTION, e.g. "tdcall:TDG.VP.VMCALL@1=status:TDX_OPERAND_INVALID"');
  const whereText = text.slice(0, eq).trim();
  const m = /^([A-Za-z]+)(?::([^@]+))?(?:@(.*))?$/.exec(whereText);
  if (!m) throw new FaultRuleError(text, whereText, `cannot read WHERE "${whereText}" (WHERE[:LEAF][@N])`);
  return build(text, { where: m[1], ...(m[2] !== undefined ? { leaf: m[2] } : {}), ...(m[3] !== undefined ? { nth: m[3] } : {}), action: text.slice(eq + 1) });
}

/** Parses a rule given as a string or as an object. */
export function parseFaultRuleInput(input: string | FaultRuleObject): FaultRule {
  if (typeof input === 'string') return parseFaultRule(input);
  if (typeof input !== 'object' || input === null) throw new FaultRuleError(String(input), String(input), 'a rule is a string or an object');
  const label = JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  for (const k of Object.keys(input)) {
    if (!['where', 'leaf', 'nth', 'at', 'when', 'action'].includes(k)) throw new FaultRuleError(label, k, `unknown key "${k}" (where, leaf, nth, at, when, action)`);
  }
  if (typeof input.action !== 'string') throw new FaultRuleError(label, 'action', '"action" must be a string such as "#GP(0)" or "status:TDX_OPERAND_INVALID"');
  return build(label, {
    where: String(input.where ?? ''),
    ...(input.leaf !== undefined ? { leaf: String(input.leaf) } : {}),
    ...(input.nth !== undefined ? { nth: String(input.nth) } : {}),
    ...(input.at !== undefined ? { at: String(input.at) } : {}),
    ...(input.when !== undefined ? { when: String(input.when) } : {}),
    action: input.action,
  });
}

/** Parses a whole plan; the first bad rule throws. */
export function parseFaultPlan(inputs: readonly (string | FaultRuleObject)[]): FaultRule[] {
  return inputs.map(parseFaultRuleInput);
}

interface RawRule { where: string; leaf?: string; nth?: string; at?: string; when?: string; action: string }

function build(label: string, raw: RawRule): FaultRule {
  const err = (part: string, detail: string) => new FaultRuleError(label, part, detail);
  const where = raw.where.trim().toLowerCase();
  if (where !== 'tdcall' && where !== 'seamcall' && where !== 'tdvmcall') {
    throw err(raw.where, `unknown WHERE "${raw.where}" (tdcall, seamcall or tdvmcall)`);
  }
  const rule: Omit<FaultRule, 'text' | 'action'> & { action?: FaultAction } = { where };
  if (raw.leaf !== undefined) rule.leaf = parseLeaf(where, raw.leaf.trim(), err);
  if (raw.nth !== undefined) {
    const n = Number(raw.nth.trim());
    if (!/^\d+$/.test(raw.nth.trim()) || n < 1) throw err(raw.nth, `@N must be a positive integer, got "${raw.nth}"`);
    rule.nth = n;
  }
  if (raw.at !== undefined) rule.at = parseAt(raw.at.trim(), err);
  if (raw.when !== undefined) rule.when = raw.when.split('&&').map((c) => parseCondition(c.trim(), err));
  const action = parseAction(raw.action.trim(), err);
  checkApplicable(where, rule.leaf, action, raw.action.trim(), err);
  const full = { ...rule, action } as FaultRule;
  full.text = formatFaultRule(full);
  return full;
}

function parseLeaf(where: FaultWhere, t: string, err: (p: string, d: string) => FaultRuleError): { value: bigint; name?: string } {
  const n = parseTdxNumber(t);
  if (where === 'tdvmcall') {
    const f = findSubfunction(t);
    if (f) return { value: f.value, name: f.name };
    if (n !== undefined) return { value: n };
    const near = closestName(t, catalogNames('tdvmcall'));
    throw err(t, `unknown TDG.VP.VMCALL sub-function "${t}"${near ? ` (did you mean ${near}?)` : ''}`);
  }
  const l = findLeaf(where, t);
  if (l) return { value: l.rax, name: l.name };
  if (n !== undefined) return { value: n };
  const near = closestName(t, catalogNames(where));
  throw err(t, `unknown ${where === 'tdcall' ? 'TDCALL' : 'SEAMCALL'} leaf "${t}"${near ? ` (did you mean ${near}?)` : ''}`);
}

function parseAt(t: string, err: (p: string, d: string) => FaultRuleError): FaultRule['at'] {
  const n = parseTdxNumber(t);
  if (n !== undefined) return { address: n };
  const m = /^([A-Za-z_.$][\w.$]*)(?:\s*\+\s*(\S+))?$/.exec(t);
  const off = m?.[2] !== undefined ? parseTdxNumber(m[2]) : 0n;
  if (!m || off === undefined) throw err(t, `call site "${t}" is not SYMBOL, SYMBOL+OFFSET or an address`);
  return m[2] !== undefined ? { symbol: m[1], offset: off } : { symbol: m[1] };
}

function parseCondition(t: string, err: (p: string, d: string) => FaultRuleError): RegCondition {
  const m = /^(%?[A-Za-z0-9]+)\s*(?:&\s*([^=!<>\s]+)\s*)?(==|!=|<=|>=|<|>)\s*(\S+)$/.exec(t);
  if (!m) throw err(t, `condition "${t}" is not REG [& MASK] OP VALUE`);
  const reg = gprIndex(m[1]);
  if (reg === undefined) throw err(m[1], `"${m[1]}" is not a 64-bit register`);
  const mask = m[2] !== undefined ? parseTdxNumber(m[2]) : undefined;
  if (m[2] !== undefined && mask === undefined) throw err(m[2], `mask "${m[2]}" is not a number`);
  const value = parseTdxNumber(m[4]);
  if (value === undefined) throw err(m[4], `value "${m[4]}" is not a number`);
  return { reg: GPR_NAMES[reg], ...(mask !== undefined ? { mask } : {}), op: m[3] as RegCondition['op'], value };
}

const EXCEPTIONS = { '#UD': 6, '#GP': 13, '#PF': 14 } as const;

function parseAction(t: string, err: (p: string, d: string) => FaultRuleError): FaultAction {
  const exc = /^(#(?:UD|GP|PF))(?:\((.*)\))?$/i.exec(t);
  if (exc) {
    const name = exc[1].toUpperCase() as keyof typeof EXCEPTIONS;
    if (exc[2] === undefined) return { kind: 'exception', exception: name, vector: EXCEPTIONS[name] };
    if (name === '#UD') throw err(t, '#UD has no error code');
    const code = parseTdxNumber(exc[2]);
    if (code === undefined || code > 0xffff_ffffn) throw err(exc[2], `error code "${exc[2]}" is not a 32-bit number`);
    return { kind: 'exception', exception: name, vector: EXCEPTIONS[name], errorCode: Number(code) };
  }
  const lower = t.toLowerCase();
  if (lower === 'vmfailinvalid') return { kind: 'vmfailinvalid' };
  if (lower === 'skip') return { kind: 'skip' };
  const hostile = /^hostile(?:\((.*)\))?$/i.exec(t);
  if (hostile) {
    if (hostile[1] === undefined) return { kind: 'hostile' };
    const seed = parseTdxNumber(hostile[1]);
    if (seed === undefined) throw err(hostile[1], `seed "${hostile[1]}" is not a number`);
    return { kind: 'hostile', seed };
  }
  const colon = t.indexOf(':');
  const verb = colon < 0 ? lower : lower.slice(0, colon);
  const arg = colon < 0 ? '' : t.slice(colon + 1).trim();
  switch (verb) {
    case 'status':
      return { kind: 'status', ...parseTdxStatusArg(arg, err) };
    case 'r10': {
      const c = findTdvmcallStatus(arg);
      if (c) return { kind: 'r10', value: c.value, name: c.name };
      const near = closestName(arg, catalogNames('tdvmcall-status'));
      throw err(arg, `"${arg}" is not a TDVMCALL status name or number${near ? ` (did you mean ${near}?)` : ''}`);
    }
    case 'set': {
      const m = /^(%?\w+)\s*=\s*(\S+)$/.exec(arg);
      if (!m) throw err(arg, `expected set:REG=VALUE, got "set:${arg}"`);
      const reg = gprIndex(m[1]);
      if (reg === undefined) throw err(m[1], `"${m[1]}" is not a 64-bit register`);
      const value = parseTdxNumber(m[2]);
      if (value === undefined) throw err(m[2], `value "${m[2]}" is not a number`);
      return { kind: 'set', reg: GPR_NAMES[reg], value: u64(value) };
    }
    default:
      throw err(t, `unknown ACTION "${t}" (#UD, #GP, #GP(code), #PF, vmfailinvalid, status:X, r10:X, hostile, skip, set:REG=VALUE)`);
  }
}

/** `NAME`, `NAME+OPERAND` (register name or id, e.g. `TDX_OPERAND_INVALID+RCX`) or a number. */
function parseTdxStatusArg(arg: string, err: (p: string, d: string) => FaultRuleError): { value: bigint; name?: string } {
  const n = parseTdxNumber(arg);
  if (n !== undefined) {
    const d = decodeTdxStatus(n);
    return { value: u64(n), ...(d.name ? { name: d.name } : {}) };
  }
  const [base, operand] = arg.split('+').map((x) => x.trim());
  const c = findStatus(base);
  if (!c) {
    const near = closestName(base, catalogNames('status'));
    throw err(base, `unknown TDX status "${base}"${near ? ` (did you mean ${near}?)` : ''}`);
  }
  if (operand === undefined) return { value: c.value, name: c.name };
  const id = findOperandId(operand);
  if (id === undefined) throw err(operand, `operand "${operand}" is not an operand name (RCX, TDR, …) or number`);
  return { value: withOperand(c.value, id), name: c.name };
}

function checkApplicable(where: FaultWhere, leaf: FaultRule['leaf'], a: FaultAction, text: string, err: (p: string, d: string) => FaultRuleError): void {
  const vmcall = where === 'tdvmcall' || (where === 'tdcall' && leaf?.value === 0n);
  if (a.kind === 'vmfailinvalid' && where !== 'seamcall') throw err(text, 'vmfailinvalid applies to seamcall only (TDCALL has no VMfailInvalid)');
  if ((a.kind === 'r10' || a.kind === 'hostile') && !vmcall) {
    throw err(text, `${a.kind} applies to tdvmcall or tdcall:TDG.VP.VMCALL only`);
  }
}

/** Canonical string form of a rule (objects render with their extra keys in braces). */
export function formatFaultRule(r: Omit<FaultRule, 'text'>): string {
  let s = r.where;
  if (r.leaf) s += ':' + (r.leaf.name ?? '0x' + r.leaf.value.toString(16).toUpperCase());
  if (r.nth !== undefined) s += '@' + r.nth;
  const extra: string[] = [];
  if (r.at) extra.push('at ' + ('address' in r.at ? '0x' + r.at.address.toString(16) : r.at.symbol + (r.at.offset ? '+0x' + r.at.offset.toString(16) : '')));
  if (r.when) extra.push('when ' + r.when.map((c) => `${c.reg}${c.mask !== undefined ? ' & 0x' + c.mask.toString(16) : ''} ${c.op} 0x${c.value.toString(16)}`).join(' && '));
  if (extra.length) s += ` {${extra.join('; ')}}`;
  return s + '=' + formatAction(r.action);
}

/** ACTION in its canonical string form. */
export function formatAction(a: FaultAction): string {
  switch (a.kind) {
    case 'exception': return a.errorCode !== undefined ? `${a.exception}(${a.errorCode})` : a.exception;
    case 'vmfailinvalid': return 'vmfailinvalid';
    case 'status': return `status:${a.name && findStatus(a.value)?.name === a.name ? a.name : hex64(a.value)}`;
    case 'r10': return `r10:${a.name ?? hex64(a.value)}`;
    case 'hostile': return a.seed !== undefined ? `hostile(${a.seed})` : 'hostile';
    case 'skip': return 'skip';
    case 'set': return `set:${a.reg}=0x${a.value.toString(16)}`;
  }
}

/** One TDCALL or SEAMCALL about to run, as the platform describes it to the matcher. */
export interface TdxCallSite {
  instruction: 'tdcall' | 'seamcall';
  /** Reads GPR i (encoding order) as it is before the call; RAX holds the leaf, R11 the sub-function. */
  getReg(i: number): bigint;
  /** Address of the instruction. */
  rip: bigint;
  /** The symbol containing `rip`, if known. */
  symbol?: { name: string; offset: bigint };
}

/** A rule firing on a call. */
export interface FaultHit {
  rule: FaultRule;
  /** Index of the rule in the plan. */
  ruleIndex: number;
  /** Which matching call of this rule this is (1-based). */
  occurrence: number;
  action: FaultAction;
}

/** Counters of a plan, for snapshots. */
export interface FaultPlanState {
  counts: number[];
}

/**
 * The matcher. At each call every rule whose matcher accepts the call counts it; the first rule
 * (in plan order) that fires on this occurrence wins. Deterministic: no clock, no randomness.
 */
export class FaultInjector {
  private counts: number[];

  constructor(readonly rules: readonly FaultRule[], readonly seed: bigint = 0n) {
    this.counts = rules.map(() => 0);
  }

  /** Counts the call and returns the action to apply, if any rule fires. */
  next(call: TdxCallSite): FaultHit | undefined {
    let hit: FaultHit | undefined;
    this.rules.forEach((rule, i) => {
      if (!matches(rule, call)) return;
      const occurrence = ++this.counts[i];
      if (!hit && (rule.nth === undefined || rule.nth === occurrence)) hit = { rule, ruleIndex: i, occurrence, action: rule.action };
    });
    return hit;
  }

  snapshot(): FaultPlanState {
    return { counts: this.counts.slice() };
  }

  restore(s: FaultPlanState): void {
    this.counts = s.counts.slice();
  }
}

/** Whether `rule` watches this call (ignoring `nth`). */
export function matches(rule: FaultRule, call: TdxCallSite): boolean {
  const rax = u64(call.getReg(GPR.RAX));
  const isVmcall = call.instruction === 'tdcall' && (rax & 0xffffn) === 0n;
  if (rule.where === 'tdvmcall') {
    if (!isVmcall) return false;
    if (rule.leaf && u64(call.getReg(GPR.R11)) !== rule.leaf.value) return false;
  } else {
    if (rule.where !== call.instruction) return false;
    if (rule.leaf) {
      // Compare the leaf (and the P-SEAMLDR bit); the version byte does not change the leaf.
      const key = (v: bigint) => (v & 0xffffn) | (v & (1n << 63n));
      if (key(rax) !== key(rule.leaf.value)) return false;
    }
  }
  if (rule.at) {
    if ('address' in rule.at) {
      if (call.rip !== rule.at.address) return false;
    } else if (!call.symbol || call.symbol.name !== rule.at.symbol || (rule.at.offset !== undefined && call.symbol.offset !== rule.at.offset)) {
      return false;
    }
  }
  for (const c of rule.when ?? []) {
    let v = u64(call.getReg(GPR[c.reg]));
    if (c.mask !== undefined) v &= c.mask;
    const ok = c.op === '==' ? v === c.value : c.op === '!=' ? v !== c.value : c.op === '<' ? v < c.value
      : c.op === '<=' ? v <= c.value : c.op === '>' ? v > c.value : v >= c.value;
    if (!ok) return false;
  }
  return true;
}

/**
 * For actions that change the VMM's side of a TDG.VP.VMCALL (`r10`, `hostile`, and `set` on a
 * `tdvmcall` rule), the override to pass to `TdxModule.tdcall`; undefined for the others.
 */
export function vmmOverrideFor(hit: FaultHit, planSeed: bigint = 0n): VmmOverride | undefined {
  const a = hit.action;
  if (a.kind === 'r10') return { status: a.value };
  if (a.kind === 'hostile') return { hostileSeed: a.seed ?? planSeed };
  if (a.kind === 'set' && hit.rule.where === 'tdvmcall') return { set: { [a.reg]: a.value } };
  return undefined;
}
