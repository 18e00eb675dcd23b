// The palette commands: debug a function, inject a fault at the next call (live through
// `tdx/injectFault`, or queued for the next launch), show a struct layout (pahole-like, in a
// read-only document), decode a status, export the call trace, toggle the disassembly flavor.
// Time travel and the fault matrix have their own modules. Every handler catches its own
// errors and says what failed.

import * as vscode from 'vscode';
import { findFunctions, functionAt, leafSymbolIn } from './asmScan';
import { callLabel, traceDocument, type CallInfo } from './callModel';
import { faultItems, ruleText, type FaultItem } from './faultMenu';
import { renderLayout } from './pahole';
import { Cmd, Setting, isAsmPath } from './ids';
import { generationFor, resolveForFile } from './workspaceConfig';
import { guessContextOf } from './configProvider';
import { currentTdxSession } from './sessionEvents';
import { tdxRequest } from './tdxClient';
import type { CallsView } from './callsView';
import type { ExtensionState } from './state';
import type { AsmDiagnostics } from './diagnostics';
import type { ExecContext } from '../emulator/platform/config';
import type { Generation } from '../emulator/loader/headers/generation';
import type { FieldLayout, StructLayout } from '../emulator/loader/image';
import { GENERATIONS } from '../emulator/loader/headers/generation';
import { structPreset } from '../emulator/loader/structPresets';
import { findStatus, findTdvmcallStatus, parseTdxNumber } from '../emulator/tdx/catalog';
import { hex64 } from '../emulator/tdx/types';
import { decodeTdxStatus, decodeTdvmcallStatus } from '../emulator/tdx/statusDecoder';
import { ReadOnlyDocuments } from './readOnlyDocuments';

export interface CommandDeps {
  state: ExtensionState;
  calls: CallsView;
  diagnostics: AsmDiagnostics;
}

/** Runs a handler, turning a thrown error into a message (no unhandled rejection). */
export function guarded<A extends unknown[]>(what: string, fn: (...a: A) => Promise<unknown> | unknown): (...a: A) => Promise<void> {
  return async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      void vscode.window.showErrorMessage(`TDX: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}

export function registerCommands(deps: CommandDeps): vscode.Disposable {
  /** Read-only documents of "Show Struct Layout". */
  const layouts = new ReadOnlyDocuments('tdx-struct', '/* layout no longer available: run "TDX: Show Struct Layout" again */\n');
  const reg = (id: Cmd, what: string, fn: (...a: any[]) => unknown) => vscode.commands.registerCommand(id, guarded(what, fn));
  return vscode.Disposable.from(
    layouts,
    layouts.register(),
    reg(Cmd.DebugFunctionAtCursor, 'Debug Function at Cursor', () => debugAtCursor()),
    reg(Cmd.DebugFunction, 'Debug Function', (uri?: vscode.Uri, name?: string) => debugFunction(uri, name)),
    reg(Cmd.InjectFault, 'Inject Fault at Next Call', () => injectFault(deps.state)),
    reg(Cmd.ShowStructLayout, 'Show Struct Layout', () => showStructLayout(layouts, deps.diagnostics)),
    reg(Cmd.DecodeStatus, 'Decode Status Code', () => decodeStatus()),
    reg(Cmd.ExportCallTrace, 'Export Call Trace', () => exportTrace(deps.calls)),
    reg(Cmd.ToggleDisassemblyFlavor, 'Toggle Disassembly Flavor', () => toggleFlavor()),
    reg(Cmd.RevealCall, 'Reveal Call', (c: CallInfo) => deps.calls.reveal(c)),
    reg(Cmd.RefreshViews, 'Refresh', () => deps.calls.refresh()),
    reg(Cmd.ClearPendingFaults, 'Clear Pending Faults', () => {
      const n = deps.state.pendingFaults.length;
      deps.state.clearPendingFaults();
      if (n) void vscode.window.showInformationMessage(`TDX: ${n} queued fault${n > 1 ? 's' : ''} cleared.`);
    }),
  );
}

// ---- debugging ------------------------------------------------------------------------------

async function debugAtCursor(): Promise<void> {
  const ed = vscode.window.activeTextEditor;
  if (!ed || !isAsmPath(ed.document.uri.fsPath)) {
    void vscode.window.showInformationMessage('TDX: put the cursor in a function of a .S file.');
    return;
  }
  const fn = functionAt(findFunctions(ed.document.getText()), ed.selection.active.line);
  if (!fn) {
    void vscode.window.showInformationMessage('TDX: the cursor is not inside a function (SYM_FUNC_START … SYM_FUNC_END, or a global label).');
    return;
  }
  await debugFunction(ed.document.uri, fn.name);
}

async function debugFunction(uri: vscode.Uri | undefined, name: string | undefined): Promise<void> {
  const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!doc || !name) return debugAtCursor();
  if (doc.isDirty) {
    // The debugger reads the file from disk: ask before saving the user's editor.
    const save = 'Save and Debug', saved = 'Debug the Saved File';
    const pick = await vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(doc.uri)} has unsaved changes.`, { modal: true }, save, saved);
    if (!pick || (pick === save && !(await doc.save()))) return;
  }
  // The launch.json entry debugging this function when there is one, else the inferred configuration.
  const r = await resolveForFile(doc.uri, { entry: name });
  await vscode.debug.startDebugging(vscode.workspace.getWorkspaceFolder(doc.uri), r.config);
}

// ---- faults ---------------------------------------------------------------------------------

interface FaultPick extends vscode.QuickPickItem {
  item?: FaultItem;
}

/**
 * The fault catalogue menu (Inject Fault, What if…): items for the session's (or the active
 * file's) context, status items aimed at the leaf the entry function calls.
 */
export async function pickFault(session: vscode.DebugSession | undefined, title: string, placeHolder: string): Promise<FaultItem | undefined> {
  let context: ExecContext = 'none';
  let text: string | undefined;
  let leaf: string | undefined;
  const program = typeof session?.configuration.program === 'string' ? session.configuration.program : undefined;
  if (session && typeof session.configuration.context === 'string') context = session.configuration.context as ExecContext;
  const ed = vscode.window.activeTextEditor;
  if (program) {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === program);
    text = open?.getText() ?? (await vscode.workspace.fs.readFile(vscode.Uri.file(program)).then((b) => Buffer.from(b).toString('utf8'), () => undefined));
  } else if (ed && isAsmPath(ed.document.uri.fsPath)) {
    text = ed.document.getText();
  }
  if (text !== undefined) {
    if (context === 'none') context = await guessContextOf(text);
    const fns = findFunctions(text);
    const entry = typeof session?.configuration.entry === 'string' ? fns.find((f) => f.name === session.configuration.entry) : ed && !session ? functionAt(fns, ed.selection.active.line) : undefined;
    leaf = leafSymbolIn(text, entry);
  }
  const items = faultItems(context, leaf);
  const picks: FaultPick[] = [];
  let group = '';
  for (const it of items) {
    if (it.group !== group) {
      picks.push({ label: it.group, kind: vscode.QuickPickItemKind.Separator });
      group = it.group;
    }
    picks.push({ label: it.label, description: it.description, item: it });
  }
  const pick = await vscode.window.showQuickPick(picks, { title, placeHolder, matchOnDescription: true });
  return pick?.item;
}

async function injectFault(state: ExtensionState): Promise<void> {
  const session = currentTdxSession();
  const target = session ? `the next matching call of "${session.name}"` : 'the first matching call of the next TDX launch';
  const item = await pickFault(session, 'TDX: Inject Fault at Next Call', `Fault for ${target}`);
  if (!item) return;
  if (session) {
    const armed: string[] = [];
    for (const r of item.rules) {
      const body = await tdxRequest(session, 'tdx/injectFault', { rule: ruleText(r) }) as { rule?: string } | undefined;
      armed.push(body?.rule ?? ruleText(r));
    }
    void vscode.window.showInformationMessage(`TDX: armed ${armed.join(', ')} for the next matching call.`);
    return;
  }
  const rules = item.rules.map((r) => ruleText(r, 1));
  state.addPendingFaults(rules);
  void vscode.window.showInformationMessage(`TDX: ${rules.join(', ')} will join the next TDX launch.`);
}

// ---- struct layouts -------------------------------------------------------------------------

interface StructPick extends vscode.QuickPickItem {
  load: () => Promise<StructLayout>;
  origin: string;
}

function fromAdapter(body: unknown): StructLayout {
  const b = body as { name: string; kind?: 'struct' | 'union'; size: number; align: number; fields: FieldLayout[] };
  if (!b || typeof b.name !== 'string' || !Array.isArray(b.fields)) throw new Error('the adapter answered tdx/structLayout without a layout');
  return { name: b.name, kind: b.kind ?? 'struct', size: b.size, align: b.align, fields: b.fields };
}

async function showStructLayout(layouts: ReadOnlyDocuments, diagnostics: AsmDiagnostics): Promise<void> {
  const picks: StructPick[] = [];
  const session = currentTdxSession();
  if (session) {
    try {
      const body = await tdxRequest(session, 'tdx/structLayout', {}) as { structs?: string[] };
      for (const name of body?.structs ?? []) {
        picks.push({ label: name, description: `session "${session.name}"`, origin: 'session', load: async () => fromAdapter(await tdxRequest(session, 'tdx/structLayout', { name })) });
      }
    } catch {
      // No session structs: presets below.
    }
  }
  const ed = vscode.window.activeTextEditor;
  const facts = ed && ed.document.uri.scheme === 'file' ? diagnostics.factsFor(ed.document.uri.fsPath) : undefined;
  for (const [name, layout] of facts?.structs ?? []) {
    if (!picks.some((p) => p.label === name)) picks.push({ label: name, description: 'last build of the active file', origin: 'build', load: async () => layout });
  }
  const generation: Generation = ed && isAsmPath(ed.document.uri.fsPath) ? generationFor(ed.document) : vscode.workspace.getConfiguration('tdx').get<Generation>(Setting.Generation, 'G5');
  for (const g of [generation, ...GENERATIONS.filter((x) => x !== generation)]) {
    for (const [name, layout] of structPreset(g).structs) {
      picks.push({ label: name, description: `kernel generation ${g} preset`, origin: g, load: async () => layout });
    }
  }
  const pick = await vscode.window.showQuickPick(picks, { title: 'TDX: Show Struct Layout', placeHolder: 'Struct (offsets, sizes, holes, asm-offsets names)', matchOnDescription: true });
  if (!pick) return;
  const layout = await pick.load();
  const uri = layouts.show(`/${pick.origin}/${layout.name}.h`, renderLayout(layout, `${pick.description}; x86-64 SysV layout`));
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'c');
  await vscode.window.showTextDocument(doc, { preview: true });
}

// ---- status, trace, flavor ------------------------------------------------------------------

async function decodeStatus(): Promise<void> {
  const ed = vscode.window.activeTextEditor;
  const sel = ed && !ed.selection.isEmpty ? ed.document.getText(ed.selection).trim() : '';
  const session = currentTdxSession();
  const example = `A value (${hex64(findStatus('TDX_OPERAND_INVALID')!.value)})`;
  const input = await vscode.window.showInputBox({
    title: 'TDX: Decode Status Code',
    prompt: session ? `${example}, a status name, or an expression of the stopped session (rax, r10)` : `${example} or a status name (TDX_OPERAND_INVALID)`,
    value: sel.length < 80 ? sel : '',
    validateInput: (v) => (v.trim() ? undefined : 'Enter a value or a name'),
  });
  if (!input) return;
  const s = input.trim();
  let value = parseTdxNumber(s) ?? findStatus(s)?.value ?? findTdvmcallStatus(s)?.value;
  if (value === undefined && session) {
    const body = await tdxRequest(session, 'tdx/decodeStatus', { value: s }) as { value?: string };
    if (body?.value) value = BigInt(body.value);
  }
  if (value === undefined) {
    void vscode.window.showWarningMessage(`TDX: "${s}" is not a number or a status name${session ? ' or an expression of the session' : ''}.`);
    return;
  }
  const d = decodeTdxStatus(value), r10 = decodeTdvmcallStatus(value);
  const detail = [
    `As a TDX status (RAX): ${d.text}`,
    d.code?.summary ? `  ${d.code.summary}` : '',
    `  class 0x${d.classCode.toString(16)}${d.classLabel ? ` (${d.classLabel})` : ''}, details L1 0x${d.detailsL1.toString(16)}, L2 0x${d.detailsL2.toString(16)}`,
    `As a TDVMCALL status (R10): ${r10.text}`,
  ].filter(Boolean).join('\n');
  const copy = 'Copy';
  const pick = await vscode.window.showInformationMessage(`${d.hex}: ${d.name ?? r10.name ?? 'not a catalogued status'}`, { modal: true, detail }, copy);
  if (pick === copy) await vscode.env.clipboard.writeText(`${d.hex}\n${detail}`);
}

async function exportTrace(calls: CallsView): Promise<void> {
  const session = calls.currentSession;
  if (session && currentTdxSession() === session) await calls.refresh(session);
  const list = calls.current;
  if (!list.length) {
    void vscode.window.showInformationMessage('TDX: no calls to export yet (run a TDX session to a stop first).');
    return;
  }
  const cfg: Record<string, unknown> = session?.configuration ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    title: 'TDX: Export Call Trace',
    defaultUri: folder ? vscode.Uri.joinPath(folder, `tdx-calls-${typeof cfg.entry === 'string' ? cfg.entry : 'run'}.json`) : undefined,
    filters: { JSON: ['json'] },
  });
  if (!target) return;
  const text = traceDocument(list, { program: str(cfg.program), entry: str(cfg.entry), context: str(cfg.context), session: session?.name });
  await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
  void vscode.window.showInformationMessage(`TDX: ${list.length} call${list.length > 1 ? 's' : ''} (${list.map(callLabel).slice(0, 2).join(', ')}${list.length > 2 ? ', …' : ''}) written to ${vscode.workspace.asRelativePath(target)}.`);
}

async function toggleFlavor(): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('tdx');
  const next = cfg.get<string>(Setting.DisassemblyFlavor, 'att') === 'intel' ? 'att' : 'intel';
  await cfg.update(Setting.DisassemblyFlavor, next, vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
  const session = currentTdxSession();
  const label = next === 'att' ? 'GAS/AT&T' : 'Intel';
  if (!session) {
    void vscode.window.showInformationMessage(`TDX: disassembly in ${label} syntax from the next session.`);
    return;
  }
  try {
    await tdxRequest(session, 'tdx/setDisassemblyFlavor', { flavor: next });
    void vscode.window.showInformationMessage(`TDX: disassembly in ${label} syntax.`);
  } catch {
    void vscode.window.showInformationMessage(`TDX: disassembly in ${label} syntax from the next session (this session keeps its "disassemblyFlavor").`);
  }
}

