// The time-travel requests that DAP does not define, as one typed table: reverse step in / out /
// over (`tdx/reverseStepIn`, `tdx/reverseStepOut`, `tdx/reverseNext`), what-if branches
// (`tdx/whatIf`, `tdx/branches`, `tdx/switchBranch`), "go to call" (`tdx/goToCall`) and the
// history's extent and memory (`tdx/history`). Each answers, then reports its stop (or run).

import { callGoneMessage } from '../emulator/timetravel/timeline';
import { FaultRuleError, parseFaultRuleInput, type FaultRule, type FaultRuleObject } from '../emulator/tdx/faultPlan';
import { needs, ErrorCode, silentError, userError } from './errors';
import { canonical, Evaluator } from './expressions';
import type { Outcome } from './runControl';
import type { Target } from './target';
import type { TimeTravel } from './timeTravel';
import type { TdxBody, WireArgs } from './protocol';

/** What a travel request may do to the session (provided by TdxDebugSession). */
export interface TravelHost {
  /** The stopped debuggee's time travel (throws when running, ended or not launched). */
  travel(): { tt: TimeTravel; target: Target };
  /** Reports a stop after the response. */
  report(o: Outcome): void;
  /** Runs a travel after the response, in slices like a forward run (pause stops it), and reports its stop. */
  travelRun(work: () => Promise<Outcome>): void;
  /** Continues the run after the response (with a `continued` event first: VS Code did not ask for it). */
  resume(): void;
}

type TravelCommand = 'tdx/reverseStepIn' | 'tdx/reverseStepOut' | 'tdx/reverseNext' | 'tdx/whatIf' | 'tdx/branches' | 'tdx/switchBranch' | 'tdx/goToCall' | 'tdx/history';

/** Response of tdx/whatIf and tdx/switchBranch. */
export type BranchBody = TdxBody<'tdx/whatIf'>;

/** Every time-travel request: command → handler returning the response body (typed by protocol.ts). */
export const TRAVEL_REQUESTS: { [C in TravelCommand]: (host: TravelHost, args: WireArgs<C>) => TdxBody<C> } = {
  /** Reverse step into: the previous line executed, entering a callee from its last line. `granularity: "instruction"` steps one instruction. */
  'tdx/reverseStepIn': (host, args) => {
    const { tt } = host.travel();
    host.travelRun(() => tt.step(args.granularity === 'instruction' ? 'instruction' : 'line'));
  },

  /** Reverse step out: back to the call instruction that entered the current function. */
  'tdx/reverseStepOut': (host) => {
    const { tt } = host.travel();
    host.travelRun(() => tt.step('out'));
  },

  /** Reverse step over (the same as DAP stepBack, for clients that prefer one request family). */
  'tdx/reverseNext': (host, args) => {
    const { tt } = host.travel();
    host.travelRun(() => tt.step(args.granularity === 'instruction' ? 'instruction' : 'over'));
  },

  /**
   * `{ faults?: (string | FaultRuleObject)[], replaceFaults?: boolean, registers?: { rax: "0x1" | 1 | "TDX_…" },
   * label?: string, run?: boolean, atCall?: seq }` → `{ branch }`. Forks a branch here (or just
   * before call #atCall: one seek, at most a few checkpoint intervals of replay) (the old branch is
   * kept until restart) and, unless `run` is false, continues on it.
   */
  'tdx/whatIf': (host, args): BranchBody => {
    const { tt, target } = host.travel();
    if (args.atCall !== undefined) {
      if (!Number.isInteger(args.atCall) || !tt.timeline.calls.at((args.atCall as number) - 1)) throw userError(ErrorCode.BadArguments, callGoneMessage(tt.timeline.calls, args.atCall as number));
      tt.seekToCall(args.atCall as number);
    }
    const faults = parseRules(args.faults);
    const registers = parseRegisters(target, args.registers);
    if (!faults?.length && !registers && !args.replaceFaults) {
      throw needs('tdx/whatIf', '"faults" (rules) and/or "registers" ({ "rax": "0x1" })');
    }
    const label = typeof args.label === 'string' && args.label.trim() ? args.label.trim() : undefined;
    const b = tt.whatIf({ faults, replaceFaults: args.replaceFaults === true, registers, label });
    const info = tt.branches().find((x) => x.id === b.id)!;
    if (args.run === false) host.report({ kind: 'stop', stop: { reason: 'step', description: `What if: ${b.label} (branch ${b.id})`, text: `branch ${b.id} forked at position ${b.forkedAt.toLocaleString('en-US')}` } });
    else host.resume();
    return { branch: info };
  },

  /** `{}` → `{ branches: BranchInfo[] }`. */
  'tdx/branches': (host) => ({ branches: host.travel().tt.branches() }),

  /** `{ id, position? }` → `{ branch }`; stops on that branch (at its frontier by default). */
  'tdx/switchBranch': (host, args): BranchBody => {
    const { tt } = host.travel();
    const id = args.id;
    if (typeof id !== 'number' || !Number.isInteger(id)) throw needs('tdx/switchBranch', 'an integer "id" (see tdx/branches)');
    const position = typeof args.position === 'number' && Number.isInteger(args.position) ? args.position : undefined;
    const known = tt.branches();
    if (!known.some((b) => b.id === id)) throw userError(ErrorCode.BadArguments, `no branch ${id} (branches: ${known.map((b) => b.id).join(', ')})`);
    host.travelRun(() => tt.switchBranch(id, position));
    return { branch: { ...known.find((b) => b.id === id)!, current: true } };
  },

  /** `{ seq }`: the state just before call #seq of the current branch ran (the TDX Calls view's "Go to Call"). */
  'tdx/goToCall': (host, args) => {
    const { tt } = host.travel();
    const seq = args.seq;
    if (typeof seq !== 'number' || !Number.isInteger(seq)) throw needs('tdx/goToCall', 'an integer "seq" (from tdx/calls)');
    if (!tt.timeline.calls.at(seq - 1)) throw userError(ErrorCode.BadArguments, callGoneMessage(tt.timeline.calls, seq));
    host.travelRun(() => tt.goToCall(seq));
  },

  /** `{}` → where history begins, the position, the frontier, bytes held and the budget. */
  'tdx/history': (host) => {
    const u = host.travel().tt.usage();
    return { ...u, branch: host.travel().tt.timeline.branch.id };
  },
};

function parseRules(raw: unknown): FaultRule[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw silentError(ErrorCode.BadArguments, '"faults" must be an array of rules ("WHERE[:LEAF][@N]=ACTION" strings or objects)');
  try {
    return raw.map((r) => parseFaultRuleInput(r as string | FaultRuleObject));
  } catch (e) {
    if (e instanceof FaultRuleError) throw userError(ErrorCode.BadFaultRule, e.message);
    throw e;
  }
}

function parseRegisters(t: Target, raw: unknown): Record<string, bigint> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw silentError(ErrorCode.BadArguments, '"registers" must be an object such as { "rax": "0x1" }');
  const out: Record<string, bigint> = {};
  const ev = new Evaluator(t);
  for (const [name, v] of Object.entries(raw)) {
    const reg = name.toLowerCase();
    try { t.machine.getReg(reg); } catch { throw userError(ErrorCode.BadArguments, `"${name}" is not a register`); }
    let value: bigint;
    try {
      value = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : ev.evaluateInt(String(v));
    } catch (e) {
      throw userError(ErrorCode.BadExpression, `registers.${name}: ${(e as Error).message}`);
    }
    if (reg === 'rip' && !canonical(value)) throw userError(ErrorCode.BadArguments, `registers.${name}: 0x${BigInt.asUintN(64, value).toString(16)} is not a canonical address (bits 63..47 must all be equal)`);
    out[reg] = BigInt.asUintN(64, value);
  }
  return Object.keys(out).length ? out : undefined;
}
