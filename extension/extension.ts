// The extension's entry point: wires the debug type `tdx` (adapter factory, configuration
// provider, session tracker), the TDX Calls and TDX Registers views, the assembly editor
// features (Problems, CodeLens, hovers), the commands, time travel and the fault matrix (with
// its Test Explorer results). Activation is lazy (debug type, assembly languages, commands,
// views); the emulator loads on first use.

import * as vscode from 'vscode';
import { TdxAdapterFactory } from './adapterFactory';
import { CallsView } from './callsView';
import { registerCommands } from './commands';
import { registerConfigurationProviders } from './configProvider';
import { AsmDiagnostics } from './diagnostics';
import { registerEditorFeatures } from './editorFeatures';
import { FaultMatrix } from './matrixCommand';
import { registerTimeTravelCommands } from './timeTravelCommands';
import { DEBUG_TYPE } from './ids';
import { RegistersView } from './registersView';
import { SessionEvents } from './sessionEvents';
import { ExtensionState } from './state';
import { HeavyWork } from './heavyWork';
import { useBuilder } from './configResolver';

export function activate(context: vscode.ExtensionContext): void {
  const state = new ExtensionState();
  // Assembling, the quick-fix and generation builds and the fault matrix run on a worker thread.
  const work = new HeavyWork();
  useBuilder(work);
  const diagnostics = new AsmDiagnostics(work);
  const events = new SessionEvents();
  const calls = new CallsView(events);
  const registers = new RegistersView(events);
  const factory = new TdxAdapterFactory(context);
  context.subscriptions.push(
    work, state, diagnostics, events, calls, registers, factory,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, factory),
    registerConfigurationProviders(state, diagnostics),
    registerEditorFeatures(diagnostics),
    registerCommands({ state, calls, diagnostics }),
    registerTimeTravelCommands(),
    new FaultMatrix(work),
  );
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
