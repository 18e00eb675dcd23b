// One place that watches `tdx` debug sessions: a DebugAdapterTracker per session turns the
// adapter's `stopped` / `continued` / `invalidated` events (and the run requests VS Code sends,
// which mean "running" even when an adapter sends no `continued`) into typed events for the
// views, and keeps the `tdx.stopped` / `tdx.sessionSeen` context keys right.

import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Ctx, DEBUG_TYPE } from './ids';

export type SessionChange =
  | { kind: 'stopped'; session: vscode.DebugSession; body: DebugProtocol.StoppedEvent['body'] }
  | { kind: 'running'; session: vscode.DebugSession }
  | { kind: 'invalidated'; session: vscode.DebugSession }
  | { kind: 'ended'; session: vscode.DebugSession };

const RUN_REQUESTS = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'restart', 'goto',
  'tdx/reverseNext', 'tdx/reverseStepIn', 'tdx/reverseStepOut', 'tdx/goToCall', 'tdx/whatIf', 'tdx/switchBranch']);

export class SessionEvents implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<SessionChange>();
  readonly onDidChange = this.emitter.event;
  private readonly stopped = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.subscriptions.push(
      vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, this),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type === DEBUG_TYPE) void vscode.commands.executeCommand('setContext', Ctx.SessionSeen, true);
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        if (s.type !== DEBUG_TYPE) return;
        this.stopped.delete(s.id);
        this.emitter.fire({ kind: 'ended', session: s });
        this.updateStoppedKey();
      }),
      vscode.debug.onDidChangeActiveDebugSession(() => this.updateStoppedKey()),
    );
  }

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    return {
      onDidSendMessage: (m: DebugProtocol.ProtocolMessage) => {
        if (m.type !== 'event') return;
        const e = m as DebugProtocol.Event;
        if (e.event === 'stopped') {
          this.stopped.add(session.id);
          this.updateStoppedKey();
          this.emitter.fire({ kind: 'stopped', session, body: (e as DebugProtocol.StoppedEvent).body });
        } else if (e.event === 'continued') {
          this.running(session);
        } else if (e.event === 'invalidated') {
          this.emitter.fire({ kind: 'invalidated', session });
        }
      },
      onWillReceiveMessage: (m: DebugProtocol.ProtocolMessage) => {
        if (m.type === 'request' && RUN_REQUESTS.has((m as DebugProtocol.Request).command)) this.running(session);
      },
    };
  }

  /** Is this session stopped (so that requests needing a stopped debuggee may be sent)? */
  isStopped(session: vscode.DebugSession): boolean {
    return this.stopped.has(session.id);
  }

  private running(session: vscode.DebugSession): void {
    if (!this.stopped.delete(session.id)) return;
    this.updateStoppedKey();
    this.emitter.fire({ kind: 'running', session });
  }

  private updateStoppedKey(): void {
    const s = vscode.debug.activeDebugSession;
    void vscode.commands.executeCommand('setContext', Ctx.Stopped, !!s && s.type === DEBUG_TYPE && this.stopped.has(s.id));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.emitter.dispose();
  }
}

/** The `tdx` session commands act on: the focused debug session when it is a `tdx` one. */
export function currentTdxSession(): vscode.DebugSession | undefined {
  const a = vscode.debug.activeDebugSession;
  return a && a.type === DEBUG_TYPE ? a : undefined;
}
