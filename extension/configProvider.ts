// The `tdx` DebugConfigurationProvider. F5 with no launch.json debugs the function under the
// cursor (or the first global one) of the active assembly file, in the context the file
// executes; "Select and Start Debugging" offers one configuration per function. Before a
// launch: the configuration is validated (errors name the attribute), queued faults join it,
// the program is assembled (errors go to Problems), and in Restricted Mode anything that would
// run the user's toolchain is refused with the reason.

import * as vscode from 'vscode';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, validateConfig } from '../emulator/session/config';
import type { ExecContext } from '../emulator/platform/config';
import { configurationsForFile } from './launchDefaults';
import { findFunctions } from './asmScan';
import { completeLaunchConfig, resolveForFile, takeLaunchNotes } from './workspaceConfig';
import { DEBUG_TYPE, Setting, isAsmPath } from './ids';
import type { AsmDiagnostics } from './diagnostics';
import type { ExtensionState } from './state';
import { restrictedMessage, toolchainUse } from './trust';

/** The emulator's context guess, loaded with the emulator on first use. */
export async function guessContextOf(text: string): Promise<ExecContext> {
  const { guessContext } = await import('../emulator/session/session');
  return guessContext(text);
}

/** Dynamic configurations ("Select and Start Debugging"): one per function of the active assembly file. */
async function functionConfigurations(): Promise<vscode.DebugConfiguration[]> {
  const ed = vscode.window.activeTextEditor;
  if (!ed || ed.document.uri.scheme !== 'file' || !isAsmPath(ed.document.uri.fsPath)) return [];
  const text = ed.document.getText();
  return configurationsForFile(ed.document.uri.fsPath, text, await guessContextOf(text));
}

/** Resolves configurations (F5 default, validation, queued faults, build check); provides none: package.json has the initial ones. */
export class TdxConfigurationProvider implements vscode.DebugConfigurationProvider {
  constructor(private readonly state: ExtensionState, private readonly diagnostics: AsmDiagnostics) {}

  async resolveDebugConfiguration(_folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      // F5 without launch.json: the active file.
      const ed = vscode.window.activeTextEditor;
      if (!ed || ed.document.uri.scheme !== 'file' || !isAsmPath(ed.document.uri.fsPath)) {
        void vscode.window.showInformationMessage('TDX: open a .S file (or add a "tdx" launch configuration) to debug TDX call code.');
        return undefined;
      }
      const text = ed.document.getText();
      if (!findFunctions(text).length) {
        void vscode.window.showInformationMessage(`TDX: ${ed.document.fileName.split(/[\\/]/).pop()} has no function to call (no SYM_FUNC_START or global label).`);
        return undefined;
      }
      // The launch.json entry debugging the function at the cursor when there is one; else a
      // configuration inferred from the file (generation, asm-offsets.c and headers beside it).
      const r = await resolveForFile(ed.document.uri, { cursorLine: ed.selection.active.line });
      f5Notes = r.notes;
      return { ...r.config };
    }
    if (config.request === undefined) config.request = 'launch';
    if (config.program === undefined) {
      const ed = vscode.window.activeTextEditor;
      if (ed && ed.document.uri.scheme === 'file' && isAsmPath(ed.document.uri.fsPath)) config.program = ed.document.uri.fsPath;
    }
    if (config.disassemblyFlavor === undefined) {
      const flavor = vscode.workspace.getConfiguration('tdx').get<string>(Setting.DisassemblyFlavor, 'att');
      if (flavor !== 'att') config.disassemblyFlavor = flavor;
    }
    return config;
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    const pending = this.state.pendingFaults;
    const candidate: vscode.DebugConfiguration = pending.length ? { ...config, faults: [...(Array.isArray(config.faults) ? config.faults : []), ...pending] } : { ...config };
    try {
      validateConfig(candidate);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      const open = 'Open launch.json';
      void vscode.window.showErrorMessage(`TDX: ${e.message}`, open).then((p) => (p === open ? vscode.commands.executeCommand('workbench.action.debug.configure') : undefined));
      return undefined;
    }
    // Relative paths are relative to the workspace folder whichever process runs the adapter:
    // every path attribute goes out absolute, with `cwd`; the generation is always set.
    const completed = await completeLaunchConfig(folder, candidate);
    Object.assign(candidate, completed);
    const notes = [...f5Notes, ...takeLaunchNotes()];
    f5Notes = [];
    const cwd = typeof candidate.cwd === 'string' ? candidate.cwd : folder?.uri.fsPath;
    const program = isAbsolute(candidate.program) || !cwd ? candidate.program as string : resolve(cwd, candidate.program);
    const why = toolchainUse(candidate);
    if (why && !vscode.workspace.isTrusted) {
      const manage = 'Manage Workspace Trust';
      void vscode.window.showErrorMessage(restrictedMessage(why), manage).then((p) => (p === manage ? vscode.commands.executeCommand('workbench.trust.manage') : undefined));
      return undefined;
    }
    if (!why && isAsmPath(program) && !(await this.diagnostics.checkAtLaunch(program, { ...candidate, cwd } as never))) return undefined;
    if (pending.length) this.state.takePendingFaults();
    startNotes = notes;
    // The adapter refuses toolchain and kernel builds itself too when the workspace is untrusted.
    return { ...candidate, __workspaceTrusted: vscode.workspace.isTrusted };
  }
}

/** Notes of the F5 default (resolveDebugConfiguration), then of the launch being started. */
let f5Notes: string[] = [];
let startNotes: string[] = [];

/** Registers the provider for the configuration kinds it serves. */
export function registerConfigurationProviders(state: ExtensionState, diagnostics: AsmDiagnostics): vscode.Disposable {
  const p = new TdxConfigurationProvider(state, diagnostics);
  return vscode.Disposable.from(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, p),
    // What the resolver inferred (generation, asm-offsets.c, headers) goes to the session's Debug Console.
    vscode.debug.onDidStartDebugSession((s) => {
      if (s.type !== DEBUG_TYPE || !startNotes.length) return;
      const lines = startNotes.map((n) => `TDX: ${n}\n`).join('');
      startNotes = [];
      setTimeout(() => { if (vscode.debug.activeDebugSession?.id === s.id) vscode.debug.activeDebugConsole.append(lines); }, 0);
    }),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, { provideDebugConfigurations: functionConfigurations }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
}
