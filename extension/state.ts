// State the extension keeps between commands and sessions: fault rules queued by "Inject Fault
// at Next Call" when no TDX session runs (they join the next launch's `faults`), with a status
// bar item that shows them and clears them, and the context key that guards the clear command.

import * as vscode from 'vscode';
import { Cmd, Ctx } from './ids';

export class ExtensionState implements vscode.Disposable {
  private pending: string[] = [];
  private readonly item = vscode.window.createStatusBarItem('tdx.pendingFaults', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'TDX pending faults';
    this.item.command = Cmd.ClearPendingFaults;
    this.update();
  }

  /** Queues rules for the next launch. */
  addPendingFaults(rules: string[]): void {
    this.pending.push(...rules);
    this.update();
  }

  /** The queued rules, removed from the queue (the launch that takes them owns them). */
  takePendingFaults(): string[] {
    const out = this.pending;
    this.pending = [];
    this.update();
    return out;
  }

  get pendingFaults(): readonly string[] {
    return this.pending;
  }

  clearPendingFaults(): void {
    this.pending = [];
    this.update();
  }

  private update(): void {
    void vscode.commands.executeCommand('setContext', Ctx.PendingFaults, this.pending.length > 0);
    if (this.pending.length === 0) {
      this.item.hide();
      return;
    }
    this.item.text = `$(zap) TDX: ${this.pending.length} fault${this.pending.length > 1 ? 's' : ''} for the next launch`;
    this.item.tooltip = `Joins the next TDX launch's "faults":\n${this.pending.join('\n')}\n\nClick to clear.`;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
