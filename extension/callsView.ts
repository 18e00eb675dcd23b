// The TDX Calls view (Run and Debug side bar): every TDCALL/SEAMCALL/TDG.VP.VMCALL of the run
// from the adapter's `tdx/calls`, with leaf, status and fault, injected ones marked; each row
// expands into its call card, and selecting it reveals the instruction (its source line, found
// through the standard `disassemble` request, or the Disassembly view). The last run stays listed.

import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { callCard, callDescription, callLabel, droppedNote, parseCalls, pendingCall, type CallInfo } from './callModel';
import { tdxRequest } from './tdxClient';
import { parseRegisterValue } from './registerModel';
import { Cmd, Ctx, View } from './ids';
import type { SessionEvents } from './sessionEvents';

type Node = { kind: 'call'; call: CallInfo } | { kind: 'card'; call: CallInfo; name: string; value: string };

export class CallsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private calls: CallInfo[] = [];
  private session?: vscode.DebugSession;
  private generation = 0;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly events: SessionEvents) {
    this.view = vscode.window.createTreeView(View.Calls, { treeDataProvider: this, showCollapseAll: true });
    this.view.message = 'Calls appear when a TDX session stops.';
    this.subscriptions.push(
      this.view,
      events.onDidChange((e) => {
        if (e.kind === 'stopped' || e.kind === 'invalidated') void this.refresh(e.session);
        else if (e.kind === 'ended' && e.session === this.session) this.view.message = this.calls.length ? 'Last run (session ended).' : undefined;
      }),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== 'tdx') return;
        this.session = s;
        this.calls = [];
        this.view.message = undefined;
        this.fire();
      }),
    );
  }

  /** The calls of the current (or last) run. */
  get current(): readonly CallInfo[] {
    return this.calls;
  }

  get currentSession(): vscode.DebugSession | undefined {
    return this.session;
  }

  /** Asks the adapter for the timeline. A newer refresh wins over a slower older one. */
  async refresh(session: vscode.DebugSession | undefined = this.session): Promise<void> {
    if (!session) return;
    const gen = ++this.generation;
    try {
      const body = await tdxRequest(session, 'tdx/calls', {});
      const calls = parseCalls(body);
      const next = this.events.isStopped(session) ? await nextCall(session, calls) : undefined;
      if (gen !== this.generation) return;
      this.session = session;
      this.calls = next ? [...calls, next] : calls;
      this.view.message = this.calls.length ? droppedNote(body) : 'No TDX call yet in this run.';
    } catch (e) {
      if (gen !== this.generation) return;
      this.view.message = `The adapter did not list the calls: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.fire();
  }

  private fire(): void {
    void vscode.commands.executeCommand('setContext', Ctx.HasCalls, this.calls.length > 0);
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.calls.map((call) => ({ kind: 'call', call }));
    if (node.kind === 'call') return callCard(node.call).map((l) => ({ kind: 'card', call: node.call, ...l }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'card') {
      const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.None);
      item.description = node.value;
      item.tooltip = `${node.name}: ${node.value}`;
      return item;
    }
    const c = node.call;
    const item = new vscode.TreeItem(callLabel(c), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `${this.session?.id ?? 'last'}:${c.seq}${c.pending ? ':next' : ''}`;
    item.description = callDescription(c);
    const failed = !!c.fault || (c.status !== undefined && /^0x[89a-f][0-9a-f]{15}$/i.test(c.status));
    item.iconPath = c.pending ? new vscode.ThemeIcon('debug-stackframe', new vscode.ThemeColor('debugIcon.pauseForeground')) : c.ahead
      ? new vscode.ThemeIcon('history', new vscode.ThemeColor('disabledForeground')) : c.injected
      ? new vscode.ThemeIcon('zap', new vscode.ThemeColor('charts.orange'))
      : failed ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')) : new vscode.ThemeIcon('pass', new vscode.ThemeColor('charts.green'));
    const md = new vscode.MarkdownString(`**${callLabel(c)}**${c.injected ? ' — *injected*' : ''}\n\n| | |\n|---|---|\n${callCard(c).map((l) => `| ${l.name} | \`${l.value.replace(/\|/g, '\\|')}\` |`).join('\n')}`);
    item.tooltip = md;
    item.contextValue = c.injected ? 'tdxCall.injected' : 'tdxCall';
    item.command = { command: Cmd.RevealCall, title: 'Reveal Call', arguments: [c] };
    return item;
  }

  /** Shows the call's instruction: its source line when the adapter maps it, else the Disassembly view. */
  async reveal(call: CallInfo): Promise<void> {
    const s = this.session;
    if (s && this.events.isStopped(s)) {
      try {
        const r = await s.customRequest('disassemble', { memoryReference: call.address, instructionCount: 1, resolveSymbols: true }) as DebugProtocol.DisassembleResponse['body'];
        const insn = r?.instructions?.[0];
        if (insn?.location?.path && insn.line) {
          const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(insn.location.path));
          const line = Math.max(0, insn.line - 1);
          const range = new vscode.Range(line, 0, line, doc.lineAt(line).text.length);
          await vscode.window.showTextDocument(doc, { selection: range, preserveFocus: true, preview: true });
          return;
        }
      } catch {
        // Fall through to the Disassembly view.
      }
      await vscode.commands.executeCommand('debug.action.openDisassemblyView');
      return;
    }
    void vscode.window.showInformationMessage(`TDX: ${callLabel(call)} at ${call.site ?? call.address}. Its instruction can be revealed while its session is stopped.`);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

/** The TDCALL/SEAMCALL at the stopped RIP, with its leaf from RAX (and R11 for TDG.VP.VMCALL). */
async function nextCall(session: vscode.DebugSession, calls: readonly CallInfo[]): Promise<CallInfo | undefined> {
  try {
    const threads = await session.customRequest('threads') as DebugProtocol.ThreadsResponse['body'];
    const threadId = threads?.threads?.[0]?.id;
    if (threadId === undefined) return undefined;
    const st = await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 }) as DebugProtocol.StackTraceResponse['body'];
    const frame = st?.stackFrames?.[0];
    if (!frame?.instructionPointerReference) return undefined;
    const d = await session.customRequest('disassemble', { memoryReference: frame.instructionPointerReference, instructionCount: 1 }) as DebugProtocol.DisassembleResponse['body'];
    const insn = d?.instructions?.[0];
    if (!insn || !/^\s*(tdcall|seamcall)\b/i.test(insn.instruction)) return undefined;
    const reg = async (name: string) => {
      try {
        const r = await session.customRequest('evaluate', { expression: name, frameId: frame.id, context: 'watch' }) as DebugProtocol.EvaluateResponse['body'];
        return parseRegisterValue(r?.result ?? '');
      } catch {
        return undefined;
      }
    };
    return pendingCall(insn.instruction, insn.address, await reg('rax'), await reg('r11'), calls);
  } catch {
    return undefined;
  }
}
