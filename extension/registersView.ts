// The TDX Registers view: the registers of the top frame (from the adapter's Registers scope)
// with those changed since the previous stop highlighted until the next stop — the Variables
// view forgets its highlight at the first step — and RFLAGS and CR4 expandable bit by bit.
// The changed set comes from `tdx/registerDiff`; without it the view compares its own snapshots.

import * as vscode from 'vscode';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { buildRegisterRows, hex16, parseRegisterValue, VIEW_REGISTERS, type RegisterDiffEntry, type RegisterRow } from './registerModel';
import { tdxRequest } from './tdxClient';
import { View } from './ids';
import type { SessionEvents } from './sessionEvents';

type Node = { kind: 'reg'; row: RegisterRow } | { kind: 'bit'; name: string; bit: number; set: boolean; note?: string };

export class RegistersView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private rows: RegisterRow[] = [];
  private snapshot?: Map<string, bigint>;
  private generation = 0;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(events: SessionEvents) {
    this.view = vscode.window.createTreeView(View.Registers, { treeDataProvider: this });
    this.view.message = 'Registers appear when a TDX session stops.';
    this.subscriptions.push(
      this.view,
      events.onDidChange((e) => {
        if (e.kind === 'stopped' || e.kind === 'invalidated') void this.refresh(e.session, e.kind === 'stopped');
        else if (e.kind === 'running') this.view.message = 'Running… (changes are those of the last stop)';
        else if (e.kind === 'ended') {
          this.view.message = this.rows.length ? 'Session ended: registers of its last stop.' : undefined;
          this.snapshot = undefined;
        }
      }),
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== 'tdx') return;
        this.rows = [];
        this.snapshot = undefined;
        this.view.message = undefined;
        this.changed.fire(undefined);
      }),
    );
  }

  /** Reads the registers; `newStop` moves the comparison snapshot (an `invalidated` does not). */
  async refresh(session: vscode.DebugSession, newStop: boolean): Promise<void> {
    const gen = ++this.generation;
    try {
      const values = await readRegisters(session);
      let diff: RegisterDiffEntry[] | undefined;
      try {
        const body = await tdxRequest(session, 'tdx/registerDiff', {}) as { changed?: RegisterDiffEntry[] };
        diff = Array.isArray(body?.changed) ? body.changed : undefined;
      } catch {
        diff = undefined;
      }
      if (gen !== this.generation) return;
      const previous = newStop ? this.snapshot : this.previousOf();
      this.rows = buildRegisterRows(values, previous, diff);
      if (newStop) this.snapshot = new Map(values);
      this.view.message = undefined;
    } catch (e) {
      if (gen !== this.generation) return;
      this.view.message = `No registers: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.changed.fire(undefined);
  }

  /** For an `invalidated` refresh: the snapshot before the current stop, rebuilt from the rows. */
  private previousOf(): Map<string, bigint> {
    return new Map(this.rows.map((r) => [r.name, r.previous ?? r.value]));
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.rows.map((row) => ({ kind: 'reg', row }));
    if (node.kind === 'reg') return (node.row.bits ?? []).map((b) => ({ kind: 'bit', ...b }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'bit') {
      const item = new vscode.TreeItem(`${node.name}`, vscode.TreeItemCollapsibleState.None);
      item.description = `${node.set ? '1' : '0'}  bit ${node.bit}${node.note ? ` — ${node.note}` : ''}`;
      item.iconPath = new vscode.ThemeIcon(node.set ? 'circle-filled' : 'circle-outline');
      return item;
    }
    const r = node.row;
    const name = r.name.toUpperCase();
    const label: vscode.TreeItemLabel = { label: name, highlights: r.changed ? [[0, name.length]] : [] };
    const item = new vscode.TreeItem(label, r.bits ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    const setBits = r.bits?.filter((b) => b.set).map((b) => b.name).join(' ');
    item.description = `${hex16(r.value)}${setBits !== undefined ? ` [${setBits}]` : ''}${r.changed && r.previous !== undefined ? `  ← was ${hex16(r.previous)}` : ''}`;
    item.iconPath = r.changed
      ? new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('debugTokenExpression.number'))
      : new vscode.ThemeIcon('blank');
    item.tooltip = `${name} = ${hex16(r.value)} (${r.value.toString()})${r.changed ? `\nchanged since the previous stop${r.previous !== undefined ? ` (was ${hex16(r.previous)})` : ''}` : ''}`;
    item.contextValue = r.changed ? 'tdxRegister.changed' : 'tdxRegister';
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}

/** Register values of the top frame, from the scope the adapter marks `registers`. */
async function readRegisters(session: vscode.DebugSession): Promise<Map<string, bigint>> {
  const threads = await session.customRequest('threads') as DebugProtocol.ThreadsResponse['body'];
  const threadId = threads?.threads?.[0]?.id;
  if (threadId === undefined) throw new Error('no thread');
  const st = await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 }) as DebugProtocol.StackTraceResponse['body'];
  const frameId = st?.stackFrames?.[0]?.id;
  if (frameId === undefined) throw new Error('no stack frame');
  const sc = await session.customRequest('scopes', { frameId }) as DebugProtocol.ScopesResponse['body'];
  const scope = sc?.scopes?.find((s) => s.presentationHint === 'registers') ?? sc?.scopes?.find((s) => /^registers$/i.test(s.name));
  if (!scope) throw new Error('the adapter has no Registers scope');
  const vars = await session.customRequest('variables', { variablesReference: scope.variablesReference }) as DebugProtocol.VariablesResponse['body'];
  const out = new Map<string, bigint>();
  for (const v of vars?.variables ?? []) {
    const name = v.name.toLowerCase();
    if (!VIEW_REGISTERS.includes(name)) continue;
    const value = parseRegisterValue(v.value);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}
