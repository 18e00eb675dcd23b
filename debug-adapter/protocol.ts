// The custom requests' protocol, shared by the adapter (which serves them) and the extension
// (which sends them): each command's arguments and response body. The adapter's handler tables
// are typed by this map, so a body that drifts from what a client reads does not compile; the
// extension sends through `TdxRequestMap` too (extension/tdxClient.ts). Arguments arrive from
// the wire unchecked: handlers see them as `WireArgs` (every field `unknown`) and validate.
// The standard requests' argument types (`StandardArgs`) type the session's handler table.

import type { DebugProtocol } from '@vscode/debugprotocol';
import type { FaultRuleObject } from '../emulator/tdx/faultPlan';

/** A register and its role in a call, with the value (`0x…`). */
export interface CallRegister {
  reg: string;
  role: string;
  value: string;
}

/** One TDX call of `tdx/calls`. Numbers that may exceed 2^53 travel as `0x…` strings. */
export interface CallRecord {
  /** On this branch's recorded history after the present position (the user travelled back). */
  ahead: boolean;
  seq: number;
  instruction: 'tdcall' | 'seamcall';
  title: string;
  address: string;
  site?: string;
  leaf?: string;
  leafNumber: number;
  version: number;
  subfunction?: string;
  subfunctionNumber?: string;
  inputs: CallRegister[];
  outputs: CallRegister[];
  hypercallNr?: string;
  status?: string;
  statusName?: string;
  vmcallStatus?: string;
  vmcallStatusName?: string;
  fault?: string;
  /** Why the call faulted, or what the module, the P-SEAMLDR or the VMM said about it (the reason for an error status). */
  detail?: string;
  injected: boolean;
  rule?: string;
  outcome: string;
  line: string;
  icount: number;
}

/** A struct field of `tdx/structLayout`. */
export interface LayoutField {
  name: string;
  offset: number;
  size: number;
  type: string;
  asmOffsetsName?: string;
  bitOffset?: number;
  bitWidth?: number;
  fields?: LayoutField[];
}

/** A time-travel branch (`tdx/branches`, `tdx/whatIf`, `tdx/switchBranch`). */
export interface BranchRecord {
  id: number;
  parent?: number;
  label: string;
  forkedAt: number;
  frontier: number;
  calls: number;
  current: boolean;
  end?: string;
}

/** A request with arguments `A`, answered with body `B`. */
type Req<A, B> = { args: A; body: B };
/** A request without arguments. */
type NoArgs<B> = Req<Record<string, never>, B>;
/** A reverse step (in, over): instruction or line. */
type ReverseStep = Req<{ granularity?: 'instruction' | 'line' }, void>;

/** Every custom request: its arguments and its response body. */
export interface TdxRequestMap {
  /**
   * `calls`: the most recent `limit` calls in full; `total` calls were made, the oldest `dropped`
   * are counted by title in `droppedByTitle` (most frequent first) but no longer listed.
   */
  'tdx/calls': NoArgs<{ position: number; calls: CallRecord[]; total: number; dropped: number; limit: number; droppedByTitle: { title: string; count: number }[] }>;
  'tdx/injectFault': Req<{ rule: string | FaultRuleObject }, { rule: string }>;
  'tdx/decodeStatus': {
    args: { value: string | number };
    body: {
      value: string; name?: string; text: string; error: boolean; warning: boolean; nonRecoverable: boolean;
      classCode?: number; classLabel?: string; operandId?: number; operandName?: string; trap?: string;
      tdvmcall: { name?: string; text: string };
    };
  };
  'tdx/structLayout': {
    args: { name?: string };
    body: { structs: string[] } | { name: string; kind: string; size: number; align: number; fields: LayoutField[]; text: string };
  };
  'tdx/setDisassemblyFlavor': Req<{ flavor: 'att' | 'intel' }, { flavor: 'att' | 'intel' }>;
  'tdx/registerDiff': NoArgs<{ changed: { name: string; before: string; after: string }[] }>;
  'tdx/reverseStepIn': ReverseStep;
  'tdx/reverseStepOut': NoArgs<void>;
  'tdx/reverseNext': ReverseStep;
  'tdx/whatIf': {
    args: { faults?: (string | FaultRuleObject)[]; replaceFaults?: boolean; registers?: Record<string, string | number>; label?: string; run?: boolean; atCall?: number };
    body: { branch: BranchRecord };
  };
  'tdx/branches': NoArgs<{ branches: BranchRecord[] }>;
  'tdx/switchBranch': Req<{ id: number; position?: number }, { branch: BranchRecord }>;
  'tdx/goToCall': Req<{ seq: number }, void>;
  'tdx/history': NoArgs<{ bytes: number; budget: number; historyStart: number; position: number; frontier: number; branch: number }>;
}

export type TdxCommand = keyof TdxRequestMap;
export type TdxArgs<C extends TdxCommand> = TdxRequestMap[C]['args'];
export type TdxBody<C extends TdxCommand> = TdxRequestMap[C]['body'];

/** Arguments as they arrive: the declared fields, each still to be checked. */
export type WireArgs<C extends TdxCommand> = { readonly [K in keyof TdxArgs<C>]?: unknown };

/** The arguments of every standard request the adapter serves (DAP specification). */
export interface StandardArgs {
  initialize: DebugProtocol.InitializeRequestArguments;
  launch: Record<string, unknown>;
  attach: Record<string, unknown>;
  configurationDone: Record<string, unknown>;
  setBreakpoints: DebugProtocol.SetBreakpointsArguments;
  setFunctionBreakpoints: DebugProtocol.SetFunctionBreakpointsArguments;
  setInstructionBreakpoints: DebugProtocol.SetInstructionBreakpointsArguments;
  setExceptionBreakpoints: DebugProtocol.SetExceptionBreakpointsArguments;
  dataBreakpointInfo: DebugProtocol.DataBreakpointInfoArguments;
  setDataBreakpoints: DebugProtocol.SetDataBreakpointsArguments;
  breakpointLocations: DebugProtocol.BreakpointLocationsArguments;
  threads: Record<string, unknown>;
  stackTrace: DebugProtocol.StackTraceArguments;
  scopes: DebugProtocol.ScopesArguments;
  variables: DebugProtocol.VariablesArguments;
  setVariable: DebugProtocol.SetVariableArguments;
  setExpression: DebugProtocol.SetExpressionArguments;
  evaluate: DebugProtocol.EvaluateArguments;
  completions: DebugProtocol.CompletionsArguments;
  source: DebugProtocol.SourceArguments;
  loadedSources: Record<string, unknown>;
  modules: Record<string, unknown>;
  continue: Record<string, unknown>;
  next: DebugProtocol.NextArguments;
  stepIn: DebugProtocol.StepInArguments;
  stepOut: DebugProtocol.StepOutArguments;
  pause: Record<string, unknown>;
  restart: DebugProtocol.RestartArguments;
  terminate: Record<string, unknown>;
  disconnect: Record<string, unknown>;
  gotoTargets: DebugProtocol.GotoTargetsArguments;
  goto: DebugProtocol.GotoArguments;
  exceptionInfo: Record<string, unknown>;
  disassemble: DebugProtocol.DisassembleArguments;
  readMemory: DebugProtocol.ReadMemoryArguments;
  writeMemory: DebugProtocol.WriteMemoryArguments;
  cancel: DebugProtocol.CancelArguments;
  stepBack: DebugProtocol.StepBackArguments;
  reverseContinue: Record<string, unknown>;
}
