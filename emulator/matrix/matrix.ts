// The fault matrix: run the entry once cleanly to find every TDCALL / SEAMCALL / TDG.VP.VMCALL
// call site it reaches, take a checkpoint just before the first call at each site, then for
// each site × applicable fault restore that checkpoint, install one fault rule for the site and
// run on, recording what the code did (returned, panic, exception, fatal error, hang). The ABI
// checks watch every run. Checkpoints and forks, not re-runs from launch.

import type { Session, SessionStop } from '../session/session';
import type { TdxCallEvent } from '../platform/events';
import { parseFaultRuleInput, type FaultRule } from '../tdx/faultPlan';
import { findSubfunction } from '../tdx/catalog';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../tdx/statusDecoder';
import { ASM_ERRNO_H } from '../loader/headers/linux';
import { CheckpointStore, type Checkpoint } from '../timetravel/checkpoint';
import { applicableFaults } from './applicable';
import { AbiMonitor, checkAsmOffsets, type AbiFinding } from './abi';

/** A call site the clean run reached (JSON: `sites[]`). */
export interface MatrixSite {
  /** Address of the TDCALL/SEAMCALL instruction, `0x…`. */
  address: string;
  /** Where it is: `__seamcall_ret+0x26`. */
  symbol: string;
  insn: 'tdcall' | 'seamcall';
  /** Catalogued leaf name, or `leaf N`. */
  leaf: string;
  /** TDG.VP.VMCALL: the sub-function (kernel name, e.g. `TDVMCALL_MAP_GPA`, or its number). */
  subfunction?: string;
}

/** What the code did under one fault (JSON: `scenarios[]`). */
export type MatrixOutcome = 'returned' | 'panic' | 'exception' | 'fatal-error' | 'hang' | 'td-exit' | 'stopped';

export interface MatrixScenario {
  /** Index into `sites`. */
  site: number;
  /** The `--fault` ACTION injected at the site (`#GP`, `status:TDX_OPERAND_BUSY`, `r10:…`, `hostile`). */
  fault: string;
  outcome: MatrixOutcome;
  /** returned: RAX, `0x…`, and what it means (`-EACCES`, `TDX_SEAMCALL_UD`, `TDVMCALL_STATUS_RETRY`). */
  rax?: string;
  meaning?: string;
  /** exception: the vector and the faulting RIP. */
  vector?: number;
  rip?: string;
  /** One line: the panic message, the exception, the fatal error, the hang. */
  message: string;
}

/** An ABI finding and the runs it appeared in (`clean` or scenario indices). */
export interface MatrixAbi {
  check: AbiFinding['check'];
  message: string;
  runs: (number | 'clean' | 'static')[];
}

/** The whole matrix, in the `tdxdbg matrix --json` shape. */
export interface MatrixResult {
  sites: MatrixSite[];
  scenarios: MatrixScenario[];
  abi: MatrixAbi[];
}

/** Figures about a matrix run (not part of the JSON compared by `--expect`). */
export interface MatrixStats {
  clean: SessionStop;
  cleanInstructions: number;
  scenarioBudget: number;
  /** The whole matrix (clean run and site checkpoints included), and the scenario phase alone. */
  ms: number;
  scenarioMs: number;
  /** Scenarios per second of the scenario phase (restore a checkpoint, run to the outcome). */
  scenariosPerSecond: number;
}

export interface MatrixOptions {
  /** Instructions a scenario may run before it counts as a hang (default: 20× the clean run, at least 100,000). */
  budget?: number;
  /** Inject only at the first call of the site (default: at every call of the site from the checkpoint on, a persistent fault). */
  once?: boolean;
  /** Called after each scenario. */
  onProgress?: (done: number, total: number) => void;
}

const hex = (v: bigint) => '0x' + BigInt.asUintN(64, v).toString(16);

const ERRNO = new Map<number, string>();
for (const m of ASM_ERRNO_H.matchAll(/#define (E\w+) (\d+)/g)) if (!ERRNO.has(Number(m[2]))) ERRNO.set(Number(m[2]), m[1]);

/** What a returned RAX most likely means: an errno, a TDX status, a TDVMCALL status. */
export function raxMeaning(rax: bigint): string {
  const v = BigInt.asUintN(64, rax);
  if (v === 0n) return '0';
  const hi = v >> 32n;
  const i32 = Number(BigInt.asIntN(32, v));
  if ((hi === 0n || hi === 0xffff_ffffn) && i32 < 0 && i32 >= -4095) return `-${ERRNO.get(-i32) ?? String(-i32)}`;
  const d = decodeTdxStatus(v);
  if (d.name) return d.name + (d.exact ? '' : d.operandName ? `+${d.operandName}` : d.trapName ? ` (${d.trapName})` : '');
  const t = decodeTdvmcallStatus(v);
  if (t.name) return t.name;
  return hi === 0n && v < 0x1_0000n ? String(v) : '';
}

function siteKey(ev: TdxCallEvent): string {
  return `${ev.insn}@${ev.address}:${ev.leafNumber}:${ev.subfunctionNumber ?? ''}`;
}

function siteOf(ev: TdxCallEvent): MatrixSite {
  const sub = ev.subfunctionNumber !== undefined ? findSubfunction(ev.subfunctionNumber) : undefined;
  return {
    address: hex(ev.address), symbol: ev.site ?? hex(ev.address), insn: ev.insn, leaf: ev.leaf ?? `leaf ${ev.leafNumber}`,
    // One name per sub-function everywhere: the GHCI's (as the trace and the editor show it).
    ...(ev.subfunctionNumber !== undefined ? { subfunction: ev.subfunction ?? sub?.ghciName ?? hex(ev.subfunctionNumber) } : {}),
  };
}

const RULES = new Map<string, FaultRule>();

/** The fault rule of one scenario: this site (address, leaf, sub-function), this action. */
function ruleFor(ev: TdxCallEvent, action: string, once: boolean): FaultRule {
  const vmm = action.startsWith('r10:') || action === 'hostile';
  const where = ev.insn === 'seamcall' ? 'seamcall' : vmm ? 'tdvmcall' : 'tdcall';
  const leaf = where === 'tdvmcall' ? hex(ev.subfunctionNumber ?? 0n) : hex(BigInt(ev.leafNumber) | (ev.before.RAX & (1n << 63n)));
  const key = `${where}|${leaf}|${ev.address}|${action}|${once}`;
  let rule = RULES.get(key);
  if (!rule) {
    rule = parseFaultRuleInput({ where, leaf, at: hex(ev.address), action, ...(once ? { nth: 1 } : {}) });
    if (RULES.size > 10_000) RULES.clear();
    RULES.set(key, rule);
  }
  return rule;
}

/** Outcome of a scenario's stop. */
function outcomeOf(s: Session, stop: SessionStop, budget: number): Omit<MatrixScenario, 'site' | 'fault'> {
  switch (stop.reason) {
    case 'returned': {
      const rax = s.machine.getReg('rax');
      return { outcome: 'returned', rax: hex(rax), meaning: raxMeaning(rax), message: stop.message };
    }
    case 'panic': return { outcome: 'panic', message: stop.message };
    case 'exception': return { outcome: 'exception', vector: stop.vector, rip: hex(stop.address), message: stop.message };
    case 'fatal-error': return { outcome: 'fatal-error', message: stop.message };
    case 'limit': case 'budget': return { outcome: 'hang', message: `no stop within ${budget.toLocaleString('en-US')} instructions (at ${s.describe(stop.address)})` };
    case 'halt': return { outcome: 'hang', message: stop.message };
    case 'td-exit': return { outcome: 'td-exit', message: stop.message };
    default: return { outcome: 'stopped', message: `${stop.reason}: ${stop.message}` };
  }
}

/**
 * Runs the matrix on a session (which it resets first and leaves in an unspecified state).
 * Deterministic: the same Image, configuration and options give the same result.
 */
export function runMatrix(s: Session, opts: MatrixOptions = {}): { result: MatrixResult; stats: MatrixStats } {
  const t0 = performance.now();
  const m = s.machine;
  const savedRecorder = s.recorder;
  s.recorder = undefined;
  const baseRules = s.platform.injector.rules;
  const abi = new Map<string, MatrixAbi>();
  const note = (f: AbiFinding, run: MatrixAbi['runs'][number]) => {
    const k = `${f.check}\u0000${f.message}`;
    const e = abi.get(k) ?? { check: f.check, message: f.message, runs: [] };
    if (!e.runs.includes(run)) e.runs.push(run);
    abi.set(k, e);
  };
  for (const f of checkAsmOffsets(s)) note(f, 'static');

  // 1. The clean run, with the callee-saved sentinels planted at launch.
  const monitor = new AbiMonitor(s);
  // A fresh session is at launch already (reset() would also drop the decoded code).
  if (m.instructionCount !== 0 || s.platform.calls.length !== 0) s.reset();
  monitor.plant();
  const launch = store0(s);
  monitor.begin();
  const launchRegs = monitor.launch;
  const clean = monitor.run(s.maxInstructions);
  monitor.end();
  for (const f of monitor.findings) note(f, 'clean');
  const cleanInstructions = m.instructionCount;
  const order: TdxCallEvent[] = [];
  const seen = new Set<string>();
  for (const ev of s.platform.calls) if (!seen.has(siteKey(ev))) { seen.add(siteKey(ev)); order.push(ev); }

  // 2. Again from launch, stopping at each site address: a checkpoint before each site's first call.
  const store = new CheckpointStore(s);
  store.restore(launch.cp);
  const addrs = [...new Set(order.map((e) => e.address))].filter((a) => !m.hasBreakpoint(a));
  for (const a of addrs) m.addBreakpoint(a);
  const at = new Map<string, { cp: Checkpoint; ev: TdxCallEvent }>();
  try {
    let stop: SessionStop | null = null;
    for (let guard = 0; at.size < order.length && guard < 1_000_000; guard++) {
      const rip = m.getReg('rip');
      if (order.some((e) => e.address === rip)) {
        const cp = store.capture();
        const before = s.platform.calls.length;
        stop = s.step();
        const ev = s.platform.calls.at(before);
        if (ev && !at.has(siteKey(ev))) at.set(siteKey(ev), { cp, ev }); else store.release(cp);
        if (stop) break;
        continue;
      }
      stop = s.run(s.maxInstructions);
      if (stop.reason !== 'breakpoint') break;
    }
  } finally {
    for (const a of addrs) m.removeBreakpoint(a);
  }

  // 3. Every site × fault from its checkpoint.
  const budget = opts.budget ?? Math.max(100_000, cleanInstructions * 20);
  const sites: MatrixSite[] = [];
  const scenarios: MatrixScenario[] = [];
  const plan = order.filter((ev) => at.has(siteKey(ev))).map((ev) => ({ ev, faults: applicableFaults({ ...ev, subfunction: ev.subfunctionNumber !== undefined ? findSubfunction(ev.subfunctionNumber)?.name : undefined, seamldr: (ev.before.RAX >> 63n) === 1n }) }));
  const total = plan.reduce((n, p) => n + p.faults.length, 0);
  const t1 = performance.now();
  plan.forEach(({ ev, faults }, siteIndex) => {
    sites.push(siteOf(ev));
    const { cp } = at.get(siteKey(ev))!;
    for (const fault of faults) {
      store.restore(cp);
      s.platform.setFaults([...baseRules, ruleFor(ev, fault, !!opts.once)]);
      monitor.begin(launchRegs.regs, launchRegs.sp);
      const stop = monitor.run(Math.min(budget, s.maxInstructions - m.instructionCount));
      monitor.end();
      const index = scenarios.length;
      scenarios.push({ site: siteIndex, fault, ...outcomeOf(s, stop, budget) });
      for (const f of monitor.findings) note(f, index);
      opts.onProgress?.(scenarios.length, total);
    }
  });
  s.platform.setFaults(baseRules);
  s.recorder = savedRecorder;
  const t2 = performance.now(), ms = t2 - t0, scenarioMs = t2 - t1;
  return {
    result: { sites, scenarios, abi: [...abi.values()] },
    stats: { clean, cleanInstructions, scenarioBudget: budget, ms, scenarioMs, scenariosPerSecond: scenarios.length / (Math.max(scenarioMs, 0.001) / 1000) },
  };
}

/** A checkpoint of the launch state (after the sentinels were planted). */
function store0(s: Session): { cp: Checkpoint } {
  return { cp: new CheckpointStore(s).capture() };
}

