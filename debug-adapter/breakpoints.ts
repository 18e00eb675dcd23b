// Breakpoints of every DAP kind and the exception filters. Source lines resolve through the
// line table (macro-body lines included), function names through the symbols or the TDX
// pseudo-names (`tdcall`, `seamcall:TDH.SYS.INIT`, `tdvmcall:MapGPA`: a machine breakpoint on
// every matching instruction, filtered by RAX/R11 when reached), data breakpoints through the
// machine's watches. Conditions, hit conditions and logpoints are decided here; the run
// controller asks `atAddress`, `atWatch`, `onFault`, `afterCall` and `onTerminal`.

import { basename } from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { TdxCallEvent } from '../emulator/platform/events';
import { catalogNames, closestName, findLeaf, findSubfunction } from '../emulator/tdx/catalog';
import { needs, asList } from './errors';
import { Evaluator, interpolate, type Pseudo } from './expressions';
import { hex, parseAddress } from './format';
import type { Target } from './target';

/** The exception filters (the DAP specification "exceptionBreakpointFilters"). */
export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: '#UD', label: '#UD invalid opcode', description: 'Stop at an invalid-opcode fault, also when the exception table fixes it up (e.g. SEAMCALL outside VMX operation)', supportsCondition: true, conditionDescription: 'e.g. leaf == TDH.SYS.INIT' },
  { filter: '#GP', label: '#GP general protection', description: 'Stop at a general-protection fault, also when the exception table fixes it up', supportsCondition: true, conditionDescription: 'e.g. leaf == TDH.SYS.INIT' },
  { filter: '#PF', label: '#PF page fault', description: 'Stop at a page fault, also when the exception table fixes it up', supportsCondition: true, conditionDescription: 'e.g. cr2 == 0' },
  { filter: 'vmfailinvalid', label: 'SEAMCALL VMfailInvalid', description: 'Stop after a SEAMCALL that failed with VMfailInvalid (no TDX module)', supportsCondition: true, conditionDescription: 'e.g. leaf == TDH.SYS.INIT' },
  { filter: 'tdx-error-status', label: 'TDX error status', description: 'Stop after a TDCALL/SEAMCALL that returned a non-zero status in RAX', supportsCondition: true, conditionDescription: 'e.g. status == TDX_OPERAND_INVALID' },
  { filter: 'injected', label: 'Injected faults', description: 'Stop where a fault-plan rule changed a call (on by default: a fault you asked for is one you want to see)', default: true, supportsCondition: true, conditionDescription: 'e.g. leaf == TDG.VP.VMCALL' },
  { filter: 'unhandled', label: 'Unhandled exceptions, panics, fatal errors', description: 'Stop where the kernel would oops or panic, or the TD stops; off: the session ends there', default: true, supportsCondition: true, conditionDescription: 'e.g. vector == 13' },
];

type BpKind = 'source' | 'function' | 'instruction' | 'data';

/** One user breakpoint, kept across restarts (its DAP id stays). */
interface UserBp {
  id: number;
  kind: BpKind;
  /** What the user wrote: `file:line`, the function name, the address, the data id. */
  label: string;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
  /**
   * Positions (instruction counts) where the condition held, per time-travel branch, ascending:
   * the hit count at a position is its index + 1, so replaying or reverse-continuing through
   * history counts exactly as the forward run did.
   */
  hitLog: Map<number, number[]>;
  addresses: bigint[];
  /** TDX pseudo-names: does the call about to execute match? */
  match?: (t: Target) => boolean;
  /** Data breakpoints. */
  watch?: { address: bigint; size: number; access: 'read' | 'write' | 'readWrite'; ids: number[] };
  /** How it was resolved; re-run after a restart. */
  resolve: (t: Target) => DebugProtocol.Breakpoint;
}

/** Which breakpoints fired at a stop. */
export interface BpHit {
  kind: BpKind;
  ids: number[];
  label: string;
}

let nextId = 1;

export class Breakpoints {
  private source = new Map<string, UserBp[]>();
  private functions: UserBp[] = [];
  private instructions: UserBp[] = [];
  private data: UserBp[] = [];
  /** Exception filter id → condition (empty string: no condition). */
  readonly filters = new Map<string, string>([['unhandled', ''], ['injected', '']]);
  /** The time-travel branch whose hit logs count (0: the launch's history). */
  private branch = 0;

  constructor(private target: Target, private readonly log: (text: string, category?: string) => void) {
    for (const a of target.callSites.keys()) target.addBp(a);
  }

  /** Binds every breakpoint to a new debuggee (restart). */
  rebind(target: Target): void {
    this.target = target;
    for (const a of target.callSites.keys()) target.addBp(a);
    // A restarted program counts hits from zero again.
    this.branch = 0;
    for (const bp of this.all()) { bp.addresses = []; bp.hits = 0; bp.hitLog.clear(); bp.resolve(target); }
  }

  private all(): UserBp[] {
    return [...[...this.source.values()].flat(), ...this.functions, ...this.instructions, ...this.data];
  }

  private drop(list: UserBp[]): void {
    for (const bp of list) {
      for (const a of bp.addresses) this.target.removeBp(a);
      for (const id of bp.watch?.ids ?? []) this.target.machine.removeWatch(id);
    }
  }

  private make(kind: BpKind, label: string, opts: { condition?: string; hitCondition?: string; logMessage?: string }, resolve: (bp: UserBp, t: Target) => DebugProtocol.Breakpoint): { bp: UserBp; result: DebugProtocol.Breakpoint } {
    const bp: UserBp = {
      id: nextId++, kind, label, hits: 0, hitLog: new Map(), addresses: [],
      condition: opts.condition?.trim() || undefined, hitCondition: opts.hitCondition?.trim() || undefined, logMessage: opts.logMessage || undefined,
      resolve: () => ({ verified: false }),
    };
    bp.resolve = (t) => {
      const problem = this.checkExpressions(bp, t);
      const r = resolve(bp, t);
      for (const a of bp.addresses) t.addBp(a);
      return problem && r.verified ? { ...r, verified: false, message: problem } : r;
    };
    return { bp, result: { id: bp.id, ...bp.resolve(this.target) } };
  }

  private checkExpressions(bp: UserBp, t: Target): string | undefined {
    if (bp.hitCondition && !parseHitCondition(bp.hitCondition)) return `hit condition "${bp.hitCondition}" is not N, == N, > N, >= N, < N, <= N or % N`;
    if (bp.condition) {
      try { new Evaluator(t).parse(bp.condition); } catch (e) { return `condition: ${(e as Error).message}`; }
    }
    return undefined;
  }

  // ---- setting ------------------------------------------------------------------------------

  setSource(args: DebugProtocol.SetBreakpointsArguments): DebugProtocol.Breakpoint[] {
    const file = this.target.fileOf(args.source);
    if (!file) throw needs('setBreakpoints', '"source" with a path or a sourceReference');
    this.drop(this.source.get(file) ?? []);
    const list: UserBp[] = [];
    const results = (args.breakpoints !== undefined ? asList(args.breakpoints, 'breakpoints') : asList(args.lines, 'lines').map((line) => ({ line }) as DebugProtocol.SourceBreakpoint)).map((sb) => {
      if (!sb || !Number.isInteger(sb.line)) throw needs('each source breakpoint', 'an integer "line"');
      const { bp, result } = this.make('source', `${basename(file)}:${sb.line}`, sb, (b, t) => {
        const lines = t.linesOf(file);
        const addrs = lines.get(sb.line);
        if (!addrs) {
          const near = [...lines.keys()].sort((x, y) => Math.abs(x - sb.line) - Math.abs(y - sb.line))[0];
          return { verified: false, line: sb.line, source: t.source(file), message: `no code at line ${sb.line}${near !== undefined ? ` (the nearest line with code is ${near})` : ' (the file produced no code)'}` };
        }
        b.addresses = [...addrs];
        return { verified: true, line: sb.line, source: t.source(file), instructionReference: hex(addrs[0]) };
      });
      list.push(bp);
      return result;
    });
    this.source.set(file, list);
    return results;
  }

  setFunctions(args: DebugProtocol.SetFunctionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    this.drop(this.functions);
    this.functions = [];
    return asList(args.breakpoints, 'breakpoints').map((fb) => {
      if (!fb || typeof fb.name !== 'string') throw needs('each function breakpoint', 'a "name"');
      const { bp, result } = this.make('function', fb.name, fb, (b, t) => this.resolveFunction(b, t, fb.name.trim()));
      this.functions.push(bp);
      return result;
    });
  }

  private resolveFunction(bp: UserBp, t: Target, name: string): DebugProtocol.Breakpoint {
    const m = /^(tdcall|seamcall|tdvmcall)(?:\s*:\s*(.+))?$/i.exec(name);
    if (m) {
      const kind = m[1].toLowerCase() as 'tdcall' | 'seamcall' | 'tdvmcall';
      const insn = kind === 'seamcall' ? 'seamcall' : 'tdcall';
      const sites = [...t.callSites].filter(([, k]) => k === insn).map(([a]) => a);
      let match: (t: Target) => boolean = () => true;
      if (kind === 'tdvmcall') {
        const sf = m[2] ? findSubfunction(m[2]) : undefined;
        if (m[2] && !sf) return { verified: false, message: `"${m[2]}" is not a TDG.VP.VMCALL sub-function${suggest(m[2], catalogNames('tdvmcall'))}` };
        match = (x) => (x.machine.getReg('rax') & 0xffffffn) === 0n && (!sf || x.machine.getReg('r11') === sf.value);
      } else if (m[2]) {
        const leaf = findLeaf(insn, m[2]);
        if (!leaf) return { verified: false, message: `"${m[2]}" is not a ${insn.toUpperCase()} leaf${suggest(m[2], catalogNames(insn))}` };
        match = (x) => {
          const rax = x.machine.getReg('rax');
          return Number(rax & 0xffffn) === leaf.leaf && (rax >> 63n === 1n) === leaf.seamldr;
        };
      }
      bp.match = match;
      if (sites.length === 0) return { verified: false, message: `the program has no ${insn.toUpperCase()} instruction` };
      bp.addresses = sites;
      return { verified: true, instructionReference: hex(sites[0]), ...this.where(t, sites[0]) };
    }
    const sym = t.session.image.symbols.find((s) => s.name === name && s.type !== 'section' && s.type !== 'file');
    if (!sym) {
      const names = t.session.image.symbols.filter((s) => s.type === 'func').map((s) => s.name);
      return { verified: false, message: `no function named "${name}"${suggest(name, [...names, 'tdcall', 'seamcall', 'tdvmcall'])}` };
    }
    bp.addresses = [sym.address];
    return { verified: true, instructionReference: hex(sym.address), ...this.where(t, sym.address) };
  }

  private where(t: Target, a: bigint): { source?: DebugProtocol.Source; line?: number } {
    const p = t.positions(a)[0];
    return p ? { source: t.source(p.file), line: p.line } : {};
  }

  setInstructions(args: DebugProtocol.SetInstructionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    this.drop(this.instructions);
    this.instructions = [];
    return asList(args.breakpoints, 'breakpoints').map((ib) => {
      if (!ib || typeof ib.instructionReference !== 'string') throw needs('each instruction breakpoint', 'an "instructionReference"');
      const base = parseAddress(ib.instructionReference);
      const { bp, result } = this.make('instruction', ib.instructionReference, ib, (b) => {
        if (base === undefined) return { verified: false, message: `"${ib.instructionReference}" is not an address` };
        const a = BigInt.asUintN(64, base + BigInt(Number.isInteger(ib.offset) ? ib.offset! : 0));
        b.addresses = [a];
        return { verified: true, instructionReference: hex(a) };
      });
      this.instructions.push(bp);
      return result;
    });
  }

  setData(args: DebugProtocol.SetDataBreakpointsArguments): DebugProtocol.Breakpoint[] {
    this.drop(this.data);
    this.data = [];
    return asList(args.breakpoints, 'breakpoints').map((db) => {
      if (!db || typeof db.dataId !== 'string') throw needs('each data breakpoint', 'a "dataId"');
      const parsed = parseDataId(db.dataId);
      const access = db.accessType ?? 'write';
      const { bp, result } = this.make('data', parsed?.label ?? db.dataId, db, (b, t) => {
        if (!parsed) return { verified: false, message: `"${db.dataId}" is not a data breakpoint id from dataBreakpointInfo` };
        if (!['read', 'write', 'readWrite'].includes(access)) return { verified: false, message: `accessType "${access}" is not read, write or readWrite` };
        const ids = [t.machine.addWatch(parsed.address, parsed.size, access)];
        b.watch = { address: parsed.address, size: parsed.size, access, ids };
        return { verified: true, description: `${access} of ${parsed.label}`, instructionReference: undefined };
      });
      this.data.push(bp);
      return result;
    });
  }

  setExceptions(args: DebugProtocol.SetExceptionBreakpointsArguments): DebugProtocol.Breakpoint[] {
    const known = new Set(EXCEPTION_FILTERS.map((f) => f.filter));
    const wanted = new Map<string, string>();
    for (const f of asList(args.filters, 'filters')) if (typeof f === 'string') wanted.set(f, '');
    for (const o of asList(args.filterOptions, 'filterOptions')) if (o && typeof o.filterId === 'string') wanted.set(o.filterId, o.condition ?? '');
    this.filters.clear();
    const out: DebugProtocol.Breakpoint[] = [];
    for (const [id, cond] of wanted) {
      if (!known.has(id)) { out.push({ verified: false, message: `unknown exception filter "${id}" (known: ${[...known].join(', ')})` }); continue; }
      if (cond) {
        try { new Evaluator(this.target).parse(cond); } catch (e) { out.push({ verified: false, message: `${id} condition: ${(e as Error).message}` }); continue; }
      }
      this.filters.set(id, cond);
      out.push({ verified: true });
    }
    return out;
  }

  /** Lines with code in [line, endLine]. */
  locations(args: DebugProtocol.BreakpointLocationsArguments): DebugProtocol.BreakpointLocation[] {
    const file = this.target.fileOf(args.source);
    if (!file || !Number.isInteger(args.line)) throw needs('breakpointLocations', '"source" and "line"');
    const end = Number.isInteger(args.endLine) ? args.endLine! : args.line;
    return [...this.target.linesOf(file).keys()].filter((l) => l >= args.line && l <= end).sort((a, b) => a - b).map((line) => ({ line }));
  }

  // ---- deciding -------------------------------------------------------------------------------

  /**
   * At a machine breakpoint: the user breakpoints there that want a stop (logpoints print and
   * never stop; conditions and hit conditions apply in that order).
   */
  atAddress(address: bigint): BpHit | undefined {
    const t = this.target;
    const here = this.all().filter((b) => b.kind !== 'data' && b.addresses.includes(address) && (!b.match || b.match(t)));
    return this.decide(here, pseudoOf(t.pendingCall() ?? t.lastCall()));
  }

  /** After an instruction touched watched memory. */
  atWatch(ids: number[]): BpHit | undefined {
    const here = this.data.filter((b) => b.watch?.ids.some((i) => ids.includes(i)));
    return this.decide(here, pseudoOf(this.target.lastCall()));
  }

  private decide(bps: UserBp[], pseudo: Pseudo): BpHit | undefined {
    const stopping: UserBp[] = [];
    for (const bp of bps) {
      const ev = new Evaluator(this.target, pseudo);
      if (bp.condition) {
        let ok: boolean;
        try { ok = ev.evaluateInt(bp.condition) !== 0n; } catch (e) {
          // A condition that cannot be evaluated stops, as in gdb: the user sees why.
          this.log(`breakpoint ${bp.label}: condition "${bp.condition}" failed: ${(e as Error).message}\n`, 'stderr');
          ok = true;
        }
        if (!ok) continue;
      }
      bp.hits = this.countHit(bp);
      if (bp.hitCondition && !hitConditionMet(bp.hitCondition, bp.hits)) continue;
      if (bp.logMessage) { this.log(interpolate(ev, bp.logMessage) + '\n', 'console'); continue; }
      stopping.push(bp);
    }
    if (!stopping.length) return undefined;
    return { kind: stopping[0].kind, ids: stopping.map((b) => b.id), label: stopping[0].label };
  }

  /** Records a hit at the current position (once) and returns the hit count there. */
  private countHit(bp: UserBp): number {
    const pos = this.target.machine.instructionCount;
    let log = bp.hitLog.get(this.branch);
    if (!log) bp.hitLog.set(this.branch, (log = []));
    let lo = 0, hi = log.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (log[mid] < pos) lo = mid + 1; else hi = mid; }
    if (log[lo] !== pos) log.splice(lo, 0, pos);
    return lo + 1;
  }

  // ---- reverse execution ----------------------------------------------------------------------

  /**
   * Reverse-continue, at a machine breakpoint in history: the breakpoints a forward run would
   * have stopped at here (conditions evaluated in this state, hit counts from the hit log;
   * logpoints never stop and print nothing when travelling back).
   */
  reverseAt(address: bigint): BpHit | undefined {
    const t = this.target;
    const here = this.all().filter((b) => b.kind !== 'data' && !b.logMessage && b.addresses.includes(address) && (!b.match || b.match(t)));
    return this.decideQuietly(here, pseudoOf(t.pendingCall() ?? t.lastCall()));
  }

  /** Reverse-continue, after an access to watched memory in history (any data breakpoint whose condition holds). */
  reverseWatch(): BpHit | undefined {
    return this.decideQuietly(this.data.filter((b) => !b.logMessage), pseudoOf(this.target.lastCall()));
  }

  private decideQuietly(bps: UserBp[], pseudo: Pseudo): BpHit | undefined {
    const stopping = bps.filter((bp) => {
      if (bp.condition) {
        try { if (new Evaluator(this.target, pseudo).evaluateInt(bp.condition) === 0n) return false; } catch { /* a failing condition stops, as forward */ }
      }
      const n = this.countHit(bp);
      return !bp.hitCondition || hitConditionMet(bp.hitCondition, n);
    });
    if (!stopping.length) return undefined;
    return { kind: stopping[0].kind, ids: stopping.map((b) => b.id), label: stopping[0].label };
  }

  /**
   * Time travel moved to branch `id` (forked from `fork.parent` at `fork.at` when it is new):
   * hit logs follow, and every hit count is re-read for the current position.
   */
  onBranch(id: number, fork?: { parent: number; at: number }): void {
    for (const bp of this.all()) {
      if (fork && !bp.hitLog.has(id)) bp.hitLog.set(id, (bp.hitLog.get(fork.parent) ?? []).filter((p) => p < fork.at));
    }
    this.branch = id;
    this.onTravel();
  }

  /** After a jump in time: each breakpoint's hit count is the number of its hits before now. */
  onTravel(): void {
    const pos = this.target.machine.instructionCount;
    for (const bp of this.all()) bp.hits = (bp.hitLog.get(this.branch) ?? []).filter((p) => p < pos).length;
  }

  /** A filter condition (pseudo-names from the call) holds, or there is none. */
  private filterOn(id: string, pseudo: Pseudo): boolean {
    const cond = this.filters.get(id);
    if (cond === undefined) return false;
    if (!cond) return true;
    try { return new Evaluator(this.target, pseudo).evaluateInt(cond) !== 0n; } catch (e) {
      this.log(`exception filter ${id}: condition "${cond}" failed: ${(e as Error).message}\n`, 'stderr');
      return true;
    }
  }

  /** A fault the exception table will fix up: which filter (if any) stops before the fixup. */
  onFault(vector: number, call: TdxCallEvent | undefined): string | undefined {
    const p = { ...pseudoOf(call), vector: { value: BigInt(vector) } };
    const id = vector === 6 ? '#UD' : vector === 13 ? '#GP' : vector === 14 ? '#PF' : undefined;
    if (id && this.filterOn(id, p)) return id;
    if (call?.injected && this.filterOn('injected', p)) return 'injected';
    return undefined;
  }

  /** After a TDCALL/SEAMCALL completed: which filter (if any) stops. */
  afterCall(ev: TdxCallEvent): string | undefined {
    const p = pseudoOf(ev);
    if (ev.fault === 'VMfailInvalid' && this.filterOn('vmfailinvalid', p)) return 'vmfailinvalid';
    if (ev.status !== undefined && ev.status !== 0n && this.filterOn('tdx-error-status', p)) return 'tdx-error-status';
    if (ev.injected && this.filterOn('injected', p)) return 'injected';
    return undefined;
  }

  /** An unhandled exception, panic or fatal error: stop ('unhandled' on) or end the session. */
  onTerminal(vector: number | undefined, call: TdxCallEvent | undefined): boolean {
    const p = { ...pseudoOf(call), ...(vector !== undefined ? { vector: { value: BigInt(vector) } } : {}) };
    const id = vector === 6 ? '#UD' : vector === 13 ? '#GP' : vector === 14 ? '#PF' : undefined;
    return this.filterOn('unhandled', p) || (id !== undefined && this.filterOn(id, p));
  }

  // ---- data breakpoint info ------------------------------------------------------------------

  /** What a data breakpoint on [address, address+size) would be. */
  static dataInfo(address: bigint, size: number, label: string): DebugProtocol.DataBreakpointInfoResponse['body'] {
    return { dataId: `${hex(address)}/${size}/${label}`, description: `${label} (${size} bytes at ${hex(address)})`, accessTypes: ['read', 'write', 'readWrite'], canPersist: false };
  }
}

function parseDataId(id: string): { address: bigint; size: number; label: string } | undefined {
  const m = /^(0x[0-9a-f]+)\/(\d+)(?:\/(.*))?$/i.exec(id);
  if (!m) return undefined;
  const size = Number(m[2]);
  if (size < 1 || size > 4096) return undefined;
  return { address: BigInt(m[1]), size, label: m[3] || m[1] };
}

/** The pseudo-names of conditions and logpoints: `leaf`, `subfunction`, `status`, `version`. */
export function pseudoOf(ev: TdxCallEvent | undefined): Pseudo {
  if (!ev) return {};
  const leaf = findLeaf(ev.insn, ev.before.RAX);
  const p: Pseudo = {
    leaf: { value: leaf?.rax ?? BigInt(ev.leafNumber), label: leaf?.name ?? ev.leaf },
    version: { value: BigInt(ev.version) },
  };
  if (ev.subfunctionNumber !== undefined) p.subfunction = { value: ev.subfunctionNumber, label: ev.subfunction };
  if (ev.status !== undefined) p.status = { value: ev.status, label: ev.statusName };
  return p;
}

function suggest(input: string, names: readonly string[]): string {
  const c = closestName(input, names);
  return c ? ` (did you mean "${c}"?)` : '';
}

/** `3` (from the 3rd hit on, like js-debug), `== 3`, `> 3`, `>= 3`, `< 3`, `<= 3`, `% 2`. */
function parseHitCondition(text: string): { op: string; n: number } | undefined {
  const m = /^(==?|>=?|<=?|%)?\s*(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  return { op: m[1] === '=' ? '==' : m[1] ?? '>=', n: Number(m[2]) };
}

function hitConditionMet(text: string, hits: number): boolean {
  const h = parseHitCondition(text);
  if (!h) return true;
  switch (h.op) {
    case '==': return hits === h.n;
    case '>': return hits > h.n;
    case '>=': return hits >= h.n;
    case '<': return hits < h.n;
    case '<=': return hits <= h.n;
    case '%': return h.n > 0 && hits % h.n === 0;
  }
  return true;
}
