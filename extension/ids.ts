// Every name the extension shares with package.json: command ids and titles, context keys used
// in `when` clauses, view ids, language ids and the debug type. The code uses these enums; the
// manifest test (test/unit/extensionManifest.test.ts) checks package.json against the records
// below, so a command or key can never be contributed without code or used without contribution.

/** The debug type of the launch configuration. */
export const DEBUG_TYPE = 'tdx';

/** Our minimal assembly language (GNU as + C preprocessor, kernel `.S`). */
export const TDX_ASM_LANGUAGE = 'tdx-asm';

/**
 * Language ids that popular extensions give `.S`/`.s` files; breakpoints are allowed in all of
 * them so that installing an assembly extension never takes breakpoints away. Sources: `asm`
 * (13xforever x86_64 older releases, CodeLLDB's list), `asm-intel-x86-generic` (13xforever
 * x86_64 3.x), `gas` (GNU as extensions), `x86asm` (Universal Assembly Syntax Highlighting),
 * `asm-collection` (maziac asm-code-lens), `arm`/`arm64` (dan-c-underwood.arm and
 * MKornelsen.vscode-arm64 claim `.S` too), `nasm`.
 */
export const ASM_LANGUAGE_IDS = [
  TDX_ASM_LANGUAGE, 'asm', 'asm-intel-x86-generic', 'gas', 'x86asm', 'asm-collection', 'arm', 'arm64', 'nasm',
] as const;

/** Languages the debugger is offered for (F5 with no launch.json) and takes breakpoints in. */
export const DEBUG_LANGUAGE_IDS = [...ASM_LANGUAGE_IDS, 'c'] as const;

/** Command ids (`contributes.commands`). */
export const enum Cmd {
  DebugFunctionAtCursor = 'tdx.debugFunctionAtCursor',
  DebugFunction = 'tdx.debugFunction',
  FaultMatrix = 'tdx.faultMatrix',
  InjectFault = 'tdx.injectFault',
  ShowStructLayout = 'tdx.showStructLayout',
  DecodeStatus = 'tdx.decodeStatus',
  ExportCallTrace = 'tdx.exportCallTrace',
  ToggleDisassemblyFlavor = 'tdx.toggleDisassemblyFlavor',
  RevealCall = 'tdx.revealCall',
  RefreshViews = 'tdx.refreshViews',
  ClearPendingFaults = 'tdx.clearPendingFaults',
  ReverseStepOver = 'tdx.reverseStepOver',
  ReverseStepInto = 'tdx.reverseStepInto',
  ReverseStepOut = 'tdx.reverseStepOut',
  GoToCall = 'tdx.goToCall',
  WhatIf = 'tdx.whatIf',
}

/** What package.json says of each command (the manifest test compares). */
export interface CommandInfo {
  title: string;
  category?: 'TDX';
  /** Shown in the command palette (a `when` clause in `menus.commandPalette` narrows where). */
  palette: boolean;
}

/** Every command: a Record over the enum, so a member without an entry does not compile. */
export const COMMANDS: Record<Cmd, CommandInfo> = {
  [Cmd.DebugFunctionAtCursor]: { title: 'Debug Function at Cursor', category: 'TDX', palette: true },
  [Cmd.DebugFunction]: { title: 'Debug Function', category: 'TDX', palette: false },
  [Cmd.FaultMatrix]: { title: 'Run Fault Matrix for Function', category: 'TDX', palette: true },
  [Cmd.InjectFault]: { title: 'Inject Fault at Next Call...', category: 'TDX', palette: true },
  [Cmd.ShowStructLayout]: { title: 'Show Struct Layout', category: 'TDX', palette: true },
  [Cmd.DecodeStatus]: { title: 'Decode Status Code...', category: 'TDX', palette: true },
  [Cmd.ExportCallTrace]: { title: 'Export Call Trace (JSON)', category: 'TDX', palette: true },
  [Cmd.ToggleDisassemblyFlavor]: { title: 'Toggle Disassembly Flavor', category: 'TDX', palette: true },
  [Cmd.RevealCall]: { title: 'Reveal Call', category: 'TDX', palette: false },
  [Cmd.RefreshViews]: { title: 'Refresh', category: 'TDX', palette: false },
  [Cmd.ClearPendingFaults]: { title: 'Clear Pending Faults', category: 'TDX', palette: true },
  [Cmd.ReverseStepOver]: { title: 'Reverse Step Over', category: 'TDX', palette: true },
  [Cmd.ReverseStepInto]: { title: 'Reverse Step Into', category: 'TDX', palette: true },
  [Cmd.ReverseStepOut]: { title: 'Reverse Step Out', category: 'TDX', palette: true },
  [Cmd.GoToCall]: { title: 'Go to Call', category: 'TDX', palette: false },
  [Cmd.WhatIf]: { title: 'What if...', category: 'TDX', palette: true },
};

/**
 * Context keys used in `when` clauses: ours (set with `setContext`) and the built-in ones we
 * read. The manifest test requires every key of every `when` clause to be listed here.
 */
export const enum Ctx {
  /** Ours: a `tdx` session has run in this window (the views stay to show the last run). */
  SessionSeen = 'tdx.sessionSeen',
  /** Ours: the focused debug session is a `tdx` session that is stopped. */
  Stopped = 'tdx.stopped',
  /** Ours: the TDX Calls view has calls to export. */
  HasCalls = 'tdx.hasCalls',
  /** Ours: faults are queued for the next `tdx` launch. */
  PendingFaults = 'tdx.pendingFaults',
  /** Built-in: file extension of the active editor's resource. */
  ResourceExtname = 'resourceExtname',
  /** Built-in: language of the active editor. */
  EditorLangId = 'editorLangId',
  /** Built-in: type of the focused debug session. */
  DebugType = 'debugType',
  /** Built-in: a debug session is running. */
  InDebugMode = 'inDebugMode',
  /** Built-in: id of the view a view/title or view/item menu is for. */
  View = 'view',
  /** Built-in: the workspace is trusted. */
  IsWorkspaceTrusted = 'isWorkspaceTrusted',
  /** Built-in: `inactive`, `initializing`, `stopped` or `running` (the focused session). */
  DebugState = 'debugState',
  /** Built-in: the `contextValue` of the tree item a view/item menu is for. */
  ViewItem = 'viewItem',
}

/** Every context key, with what it means (for the manifest test and the README). */
export const CONTEXT_KEYS: Record<Ctx, string> = {
  [Ctx.SessionSeen]: 'a tdx session has run in this window',
  [Ctx.Stopped]: 'the focused tdx session is stopped',
  [Ctx.HasCalls]: 'the TDX Calls view lists calls',
  [Ctx.PendingFaults]: 'faults are queued for the next launch',
  [Ctx.ResourceExtname]: 'built-in',
  [Ctx.EditorLangId]: 'built-in',
  [Ctx.DebugType]: 'built-in',
  [Ctx.InDebugMode]: 'built-in',
  [Ctx.View]: 'built-in',
  [Ctx.IsWorkspaceTrusted]: 'built-in',
  [Ctx.DebugState]: 'built-in',
  [Ctx.ViewItem]: 'built-in',
};

/** View ids in the Run and Debug side bar. */
export const enum View {
  Calls = 'tdx.calls',
  Registers = 'tdx.registers',
}

export const VIEWS: Record<View, string> = {
  [View.Calls]: 'TDX Calls',
  [View.Registers]: 'TDX Registers',
};

/** Settings (`contributes.configuration`), under the `tdx.` section. */
export const enum Setting {
  AdapterMode = 'debugAdapter.mode',
  AdapterPort = 'debugAdapter.port',
  DisassemblyFlavor = 'disassemblyFlavor',
  Generation = 'generation',
  ProblemsOnSave = 'problemsOnSave',
}

export const SETTINGS: Record<Setting, true> = {
  [Setting.AdapterMode]: true,
  [Setting.AdapterPort]: true,
  [Setting.DisassemblyFlavor]: true,
  [Setting.Generation]: true,
  [Setting.ProblemsOnSave]: true,
};

/** File extensions of assembly sources we build (`.S` runs the preprocessor, `.s` too: kernel habit). */
export function isAsmPath(path: string): boolean {
  return /\.(S|s|sx)$/.test(path);
}
