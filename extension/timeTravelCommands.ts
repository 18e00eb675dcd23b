// Time-travel commands: Reverse Step Over / Into / Out (the adapter's `tdx/reverse*` requests;
// VS Code's own Step Back and Reverse buttons send DAP stepBack / reverseContinue), "Go to
// Call" on TDX Calls rows (`tdx/goToCall`) and "What if…" (a fault from the Inject Fault
// catalogue, then `tdx/whatIf`: a new branch from here, the old one kept until restart).

import * as vscode from 'vscode';
import { ruleText } from './faultMenu';
import { tdxRequest } from './tdxClient';
import { Cmd } from './ids';
import { guarded, pickFault } from './commands';
import { currentTdxSession } from './sessionEvents';
import type { CallInfo } from './callModel';

/** A TDX Calls row (the view passes its node) or a call. */
type CallArg = CallInfo | { kind: 'call'; call: CallInfo } | undefined;

function callOf(arg: CallArg): CallInfo | undefined {
  if (!arg) return undefined;
  return 'call' in arg && typeof arg.call === 'object' ? arg.call : (arg as CallInfo);
}

function stoppedSession(): vscode.DebugSession {
  const s = currentTdxSession();
  if (!s) throw new Error('no TDX debug session is focused');
  return s;
}

async function goToCall(arg: CallArg): Promise<void> {
  const call = callOf(arg);
  if (!call || call.pending) {
    void vscode.window.showInformationMessage('TDX: the session is already just before that call.');
    return;
  }
  await tdxRequest(stoppedSession(), 'tdx/goToCall', { seq: call.seq });
}

async function whatIf(arg: CallArg): Promise<void> {
  const session = stoppedSession();
  const call = callOf(arg);
  const where = call && !call.pending ? `call #${call.seq} (${call.title})` : 'the next call from here';
  const item = await pickFault(session, 'TDX: What if...', `Fault for ${where}: runs on a new branch, the current one is kept`);
  if (!item) return;
  const rules = item.rules.map((r) => ruleText(r, 1));
  // One request: go to the call and fork there (a separate goToCall would still be running).
  const body = await tdxRequest(session, 'tdx/whatIf', { faults: rules, ...(call && !call.pending ? { atCall: call.seq } : {}) }) as { branch?: { id: number; label: string } };
  void vscode.window.setStatusBarMessage(`TDX: branch ${body?.branch?.id ?? '?'} — ${body?.branch?.label ?? rules.join(', ')}`, 8000);
}

export function registerTimeTravelCommands(): vscode.Disposable {
  const reg = (id: Cmd, what: string, fn: (...a: any[]) => unknown) => vscode.commands.registerCommand(id, guarded(what, fn));
  const reverse = (command: string) => async () => { await stoppedSession().customRequest(command, {}); };
  return vscode.Disposable.from(
    reg(Cmd.ReverseStepOver, 'Reverse Step Over', reverse('tdx/reverseNext')),
    reg(Cmd.ReverseStepInto, 'Reverse Step Into', reverse('tdx/reverseStepIn')),
    reg(Cmd.ReverseStepOut, 'Reverse Step Out', reverse('tdx/reverseStepOut')),
    reg(Cmd.GoToCall, 'Go to Call', (arg: CallArg) => goToCall(arg)),
    reg(Cmd.WhatIf, 'What if', (arg: CallArg) => whatIf(arg)),
  );
}
