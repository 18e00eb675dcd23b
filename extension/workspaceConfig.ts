// The configuration resolver (configResolver.ts) fed from VS Code: the file's workspace folder,
// its launch.json configurations, the `tdx.generation` setting when the user set it, the
// editor's text. F5, the CodeLenses, "Debug Function at Cursor", the fault matrix, Problems,
// hovers and Show Struct Layout all come through here. Also: writing a launch.json entry
// (the quick fix of a build that needs an attribute).

import * as vscode from 'vscode';
import { relative, isAbsolute } from 'node:path';
import type { Generation } from '../emulator/loader/headers/generation';
import { inferGeneration } from '../emulator/session/resolveConfig';
import { completeConfig, launchEntriesFor, resolveLaunch, type ResolvedLaunch } from './configResolver';
import { guessContextOf } from './configProvider';
import { Setting } from './ids';

/** `tdx.generation` when the user set it somewhere (its default does not count: inference wins over a default). */
export function settingGeneration(uri?: vscode.Uri): Generation | undefined {
  const i = vscode.workspace.getConfiguration('tdx', uri).inspect<Generation>(Setting.Generation);
  return i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
}

function launchOf(uri: vscode.Uri): unknown[] {
  return vscode.workspace.getConfiguration('launch', uri).get<unknown[]>('configurations') ?? [];
}

async function textOf(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
}

/** What to run for a function of a file (or the file's build, without `entry`). */
export async function resolveForFile(uri: vscode.Uri, opts: { entry?: string; cursorLine?: number; verify?: boolean } = {}): Promise<ResolvedLaunch> {
  const text = await textOf(uri);
  return resolveLaunch({
    program: uri.fsPath, text, folder: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath,
    entry: opts.entry, cursorLine: opts.cursorLine, launch: launchOf(uri), settingGeneration: settingGeneration(uri),
    context: await guessContextOf(text), verify: opts.verify, env: process.env, home: process.env.HOME,
  });
}

/** What the resolver filled in for the launch being started (told in its Debug Console). */
let lastNotes: string[] = [];

/** Takes the notes of the last completed launch configuration. */
export function takeLaunchNotes(): string[] {
  const n = lastNotes;
  lastNotes = [];
  return n;
}

/** A configuration F5 got (launch.json or startDebugging), completed: absolute paths, companions, generation. */
export async function completeLaunchConfig(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration> {
  lastNotes = [];
  if (typeof config.program !== 'string') return config;
  const base = folder?.uri.fsPath ?? (typeof config.cwd === 'string' ? config.cwd : undefined);
  const programPath = isAbsolute(config.program) || !base ? config.program : `${base}/${config.program}`;
  const uri = vscode.Uri.file(programPath);
  let text = '';
  try { text = await textOf(uri); } catch { return config; } // a missing program: the adapter names it
  const done = await completeConfig({ ...config }, { text, folder: base, settingGeneration: settingGeneration(uri) });
  lastNotes = done.notes;
  return done.config as unknown as vscode.DebugConfiguration;
}

/** The generation hovers and Show Struct Layout use for a document, instantly (no build). */
export function generationFor(doc: vscode.TextDocument): Generation {
  const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath;
  const entry = launchEntriesFor(doc.uri.fsPath, launchOf(doc.uri), { folder, env: process.env, home: process.env.HOME }).find((c) => typeof c.generation === 'string');
  return (entry?.generation as Generation | undefined) ?? settingGeneration(doc.uri) ?? inferGeneration(doc.getText()).generation;
}

/** Paths of a configuration written as `${workspaceFolder}/…` when they are inside the folder. */
function portable(v: unknown, folder: string): unknown {
  if (typeof v === 'string' && isAbsolute(v)) {
    const r = relative(folder, v);
    return r && !r.startsWith('..') && !isAbsolute(r) ? `\${workspaceFolder}/${r}` : v;
  }
  if (Array.isArray(v)) return v.map((x) => portable(x, folder));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, portable(x, folder)]));
  return v;
}

/**
 * Adds (or updates, by name) a launch.json entry for `config` with `attributes` set, and opens
 * launch.json. Internal attributes (`cwd`, `__…`) are left out; paths are folder-relative.
 */
export async function writeLaunchEntry(uri: vscode.Uri, config: Record<string, unknown>, attributes: Record<string, unknown>): Promise<void> {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) {
    void vscode.window.showWarningMessage('TDX: open the folder holding the file (File › Open Folder) to keep a launch configuration.');
    return;
  }
  const entry: Record<string, unknown> = {};
  for (const [k, v] of Object.entries({ ...config, ...attributes })) {
    if (k === 'cwd' || k.startsWith('__') || v === undefined) continue;
    entry[k] = portable(v, folder.uri.fsPath);
  }
  const launch = vscode.workspace.getConfiguration('launch', folder.uri);
  const list = [...(launch.get<Record<string, unknown>[]>('configurations') ?? [])];
  const at = list.findIndex((c) => c && c.name === entry.name);
  if (at >= 0) list[at] = { ...list[at], ...entry }; else list.push(entry);
  await launch.update('configurations', list, vscode.ConfigurationTarget.WorkspaceFolder);
  const file = vscode.Uri.joinPath(folder.uri, '.vscode', 'launch.json');
  try { await vscode.window.showTextDocument(file, { preview: true }); } catch { /* written; not shown */ }
}
