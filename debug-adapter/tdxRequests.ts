// Custom requests for the extension's views and for other DAP clients: the call timeline
// (`tdx/calls`), a live fault rule (`tdx/injectFault`), status decoding (`tdx/decodeStatus`),
// struct layouts with asm-offsets names (`tdx/structLayout`) and the registers changed since
// the previous stop (`tdx/registerDiff`). One typed table, no string switch; the time-travel
// requests are in travelRequests.ts.

import type { FieldLayout } from '../emulator/loader/image';
import { callInputs, callOutcome, callOutputs, callTitle, formatCallLine } from '../emulator/platform/format';
import { FaultRuleError, parseFaultRuleInput, type FaultRuleObject } from '../emulator/tdx/faultPlan';
import { parseTdxNumber } from '../emulator/tdx/catalog';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../emulator/tdx/statusDecoder';
import { needs, ErrorCode, silentError, userError } from './errors';
import { Evaluator } from './expressions';
import { hex } from './format';
import type { Target } from './target';
import type { Variables } from './variables';
import type { Timeline } from '../emulator/timetravel/timeline';
import type { LayoutField, TdxBody, WireArgs } from './protocol';

export interface TdxRequestContext {
  target: Target;
  variables: Variables;
  log(text: string, category?: string): void;
  /** The debugger changed the program state (reverse execution forks or pins history). */
  edited(label: string): void;
  /** The time-travel history: calls of the current branch beyond the present are listed too. */
  history?: Timeline;
}

/** The state requests this table serves (the time-travel ones are in travelRequests.ts). */
type StateCommand = 'tdx/calls' | 'tdx/injectFault' | 'tdx/decodeStatus' | 'tdx/structLayout' | 'tdx/setDisassemblyFlavor' | 'tdx/registerDiff';

/** Every custom request: command → handler returning the response body (typed by protocol.ts). */
export const TDX_REQUESTS: { [C in StateCommand]: (ctx: TdxRequestContext, args: WireArgs<C>) => TdxBody<C> } = {
  // `ahead`: the call is on this branch's recorded history but after the present position
  // (the user travelled back); "Go to call" (tdx/goToCall) reaches it.
  // Only the most recent `callHistory` calls are listed; the dropped ones are counted by title.
  'tdx/calls': ({ target, history }) => {
    const log = history?.calls ?? target.session.platform.calls, now = target.session.platform.calls.length;
    return {
      position: target.machine.instructionCount, total: log.length, dropped: log.dropped, limit: log.limit,
      droppedByTitle: log.droppedCounts().map((d) => ({ title: d.key, count: d.count })),
      calls: log.map((c) => ({
      ahead: c.seq > now,
      seq: c.seq, instruction: c.insn, title: callTitle(c), address: hex(c.address), site: c.site,
      leaf: c.leaf, leafNumber: c.leafNumber, version: c.version, subfunction: c.subfunction,
      subfunctionNumber: c.subfunctionNumber !== undefined ? hex(c.subfunctionNumber) : undefined,
      inputs: callInputs(c).map((i) => ({ reg: i.reg, role: i.role, value: hex(i.value) })),
      outputs: callOutputs(c).map((o) => ({ reg: o.reg, role: o.role, value: hex(o.value) })),
      hypercallNr: c.hypercallNr !== undefined ? hex(c.hypercallNr) : undefined,
      status: c.status !== undefined ? hex(c.status) : undefined, statusName: c.statusName,
      vmcallStatus: c.vmcallStatus !== undefined ? hex(c.vmcallStatus) : undefined, vmcallStatusName: c.vmcallStatusName,
      fault: c.fault, detail: c.faultDetail ?? c.detail, injected: c.injected, rule: c.rule, outcome: callOutcome(c), line: formatCallLine(c), icount: c.icount,
      })),
    };
  },

  'tdx/injectFault': ({ target, log, edited }, args) => {
    const rule = args.rule as string | FaultRuleObject | undefined;
    if (rule === undefined || (typeof rule !== 'string' && (typeof rule !== 'object' || rule === null))) {
      throw needs('tdx/injectFault', '"rule": a "WHERE[:LEAF][@N]=ACTION" string or a rule object');
    }
    try {
      const parsed = parseFaultRuleInput(rule);
      target.session.injectFault(parsed);
      edited(`fault ${parsed.text}`);
      log(`fault rule '${parsed.text}' armed for the next matching call\n`, 'console');
      return { rule: parsed.text };
    } catch (e) {
      if (e instanceof FaultRuleError) throw userError(ErrorCode.BadFaultRule, e.message);
      throw e;
    }
  },

  'tdx/decodeStatus': ({ target }, args) => {
    const raw = args.value;
    let v: bigint | undefined;
    if (typeof raw === 'number' && Number.isSafeInteger(raw)) v = BigInt.asUintN(64, BigInt(raw));
    else if (typeof raw === 'string') v = parseTdxNumber(raw) ?? tryEval(target, raw);
    if (v === undefined) throw needs('tdx/decodeStatus', '"value": a number, a 0x… string or an expression such as "rax"');
    const d = decodeTdxStatus(v), r10 = decodeTdvmcallStatus(v);
    return {
      value: hex(v), name: d.name, text: d.text, error: d.error, warning: d.warning, nonRecoverable: d.nonRecoverable,
      classCode: d.classCode, classLabel: d.classLabel, operandId: d.operandId, operandName: d.operandName, trap: d.trapName,
      tdvmcall: { name: r10.name, text: r10.text },
    };
  },

  'tdx/structLayout': ({ target }, args) => {
    const name = typeof args.name === 'string' ? args.name.replace(/^struct\s+/, '') : undefined;
    const structs = target.session.image.structs;
    if (!name) return { structs: [...structs.keys()] };
    const layout = structs.get(name);
    if (!layout) throw silentError(ErrorCode.BadArguments, `no struct named "${name}" (known: ${[...structs.keys()].join(', ')})`);
    const flat = (fs: readonly FieldLayout[]): LayoutField[] => fs.map((f) => ({
      name: f.name, offset: f.offset, size: f.size, type: f.type, asmOffsetsName: f.asmOffsetsName,
      ...(f.bitWidth !== undefined ? { bitOffset: f.bitOffset, bitWidth: f.bitWidth } : {}), ...(f.fields ? { fields: flat(f.fields) } : {}),
    }));
    const text = [`struct ${layout.name} {  /* ${layout.size} bytes, align ${layout.align} */`,
      ...layout.fields.map((f) => `\t${f.type} ${f.name};`.padEnd(32) + `/* +0x${f.offset.toString(16)} ${f.size}${f.asmOffsetsName ? ` ${f.asmOffsetsName}` : ''} */`), '};'].join('\n');
    return { name: layout.name, kind: layout.kind, size: layout.size, align: layout.align, fields: flat(layout.fields), text };
  },

  // The Disassembly view's syntax for the rest of the session (TDX: Toggle Disassembly Flavor).
  'tdx/setDisassemblyFlavor': ({ target }, args) => {
    const f = args.flavor;
    if (f !== 'att' && f !== 'intel') throw needs('tdx/setDisassemblyFlavor', '"flavor": "att" or "intel"');
    target.flavor = f;
    return { flavor: f };
  },
  'tdx/registerDiff': ({ variables }) => ({
    changed: variables.changed().map((c) => ({ name: c.name, before: hex(c.before), after: hex(c.after) })),
  }),
};

function tryEval(t: Target, text: string): bigint | undefined {
  try { return new Evaluator(t).evaluateInt(text); } catch { return undefined; }
}
