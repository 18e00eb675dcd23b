// Assembler errors as Problems: the built-in assembler (`buildImage`) runs on save of a TDX
// assembly file and before every launch, and its file:line:col diagnostics become ranges over
// the offending token. A successful build also leaves its constants and struct layouts for the
// hovers. The builds run on the extension's worker thread (heavyWork.ts), never on the
// extension host's; a newer build of the same file makes an older one's result moot.

import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import type { Diagnostic as AsmDiagnostic } from '../emulator/loader/diagnostics';
import type { StructLayout } from '../emulator/loader/image';
import type { LaunchConfig } from '../emulator/session/config';
import { Setting, isAsmPath } from './ids';
import { absolutizePaths } from '../emulator/session/resolveConfig';
import { buildOptionsOf, launchEntriesFor, suggestFix } from './configResolver';
import { resolveForFile, writeLaunchEntry } from './workspaceConfig';
import { inProcess, type Builder, type BuildSummary } from './heavyWork';

/** What the last successful build of a file knows (for hovers). */
export interface BuildFacts {
  constants: ReadonlyMap<string, bigint>;
  structs: ReadonlyMap<string, StructLayout>;
}

/** Does the text execute or prepare TDX calls (so that our x86 assembler is the right judge)? */
export function looksLikeTdx(text: string): boolean {
  return /\b(tdcall|seamcall)\b|TDX_MODULE_CALL|__tdx_|__seamcall|\bTDX_(MODULE|HYPERCALL)_\w+|\bTD[GH]_[A-Z_]+/.test(text);
}

export class AsmDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('tdx-asm');
  /** Entry file → the URIs its last build published on (cleared on the next build). */
  private readonly published = new Map<string, vscode.Uri[]>();
  private readonly facts = new Map<string, BuildFacts>();
  /** Files built at a launch in this window: always checked on save. */
  private readonly launched = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  /** Files with errors published: re-checked (debounced) as they change, so Problems never outlives the text. */
  private readonly recheck = new Map<string, ReturnType<typeof setTimeout>>();

  /** The latest build asked for each file: an older one finishing later is not published. */
  private readonly generation = new Map<string, number>();

  constructor(private readonly builder: Builder = inProcess) {
    this.subscriptions.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (!this.wantsCheck(doc)) return;
        this.checkFile(doc.uri).catch((e) => console.error('TDX: check on save failed', e));
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme !== 'file' || e.contentChanges.length === 0) return;
        // The changed file, or an entry whose errors were published on it (a header).
        const changed = e.document.uri.toString();
        for (const [entry, uris] of this.published) {
          if (!uris.some((u) => u.toString() === changed) || !this.hasErrors(entry)) continue;
          clearTimeout(this.recheck.get(entry));
          this.recheck.set(entry, setTimeout(() => {
            this.recheck.delete(entry);
            this.checkFile(vscode.Uri.file(entry)).catch((err) => console.error('TDX: re-check failed', err));
          }, 400));
        }
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.facts.delete(doc.uri.fsPath)),
    );
  }

  private hasErrors(file: string): boolean {
    const uris = this.published.get(file);
    return !!uris?.some((u) => (this.collection.get(u) ?? []).some((d) => d.severity === vscode.DiagnosticSeverity.Error));
  }

  /** Builds a file as F5 would (the shared resolver's configuration) and publishes the result. */
  async checkFile(uri: vscode.Uri): Promise<number> {
    const r = await resolveForFile(uri);
    return this.check(uri.fsPath, r.config);
  }

  /** The facts of the last successful build of `file`. */
  factsFor(file: string): BuildFacts | undefined {
    return this.facts.get(file);
  }

  private wantsCheck(doc: vscode.TextDocument): boolean {
    if (doc.uri.scheme !== 'file' || !isAsmPath(doc.uri.fsPath)) return false;
    if (!vscode.workspace.getConfiguration('tdx', doc.uri).get<boolean>(Setting.ProblemsOnSave, true)) return false;
    // ARM or other assembly in the same workspace must not drown in x86 errors.
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri)?.uri.fsPath;
    const launch = vscode.workspace.getConfiguration('launch', doc.uri).get<unknown[]>('configurations') ?? [];
    return this.launched.has(doc.uri.fsPath) || launchEntriesFor(doc.uri.fsPath, launch, { folder, env: process.env, home: process.env.HOME }).length > 0 || looksLikeTdx(doc.getText());
  }

  /**
   * Builds `file` with a launch configuration's options and publishes the result.
   * Returns the number of errors (0: the build made an Image).
   */
  async check(file: string, cfg: Partial<LaunchConfig> & { cwd?: string }): Promise<number> {
    const r = await this.build(file, cfg);
    if (!r) return 0;
    this.adopt(file, r);
    return r.diagnostics.filter((d) => d.severity === 'error').length;
  }

  /** Publishes a build's diagnostics and keeps its facts for hovers. */
  private adopt(file: string, r: BuildSummary): void {
    this.publish(file, r.diagnostics);
    if (r.facts) this.facts.set(file, r.facts);
  }

  /** Builds on the worker; undefined when a newer build of the same file was asked for meanwhile (unless `always`). */
  private async build(file: string, cfg: Partial<LaunchConfig> & { cwd?: string }, always = false): Promise<BuildSummary | undefined> {
    const cwd = cfg.cwd ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath ?? dirname(file);
    const abs = absolutizePaths(cfg, cwd, { exists: existsSync });
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
    const n = (this.generation.get(file) ?? 0) + 1;
    this.generation.set(file, n);
    const r = await this.builder.build(file, buildOptionsOf(abs, open?.getText()));
    return always || this.generation.get(file) === n ? r : undefined;
  }

  /**
   * Before a launch: build, publish, and say whether to go on. A failure says which launch
   * attribute makes the file assemble (found by building) and offers to write it to launch.json.
   */
  async checkAtLaunch(file: string, cfg: Partial<LaunchConfig> & { cwd?: string }): Promise<boolean> {
    this.launched.add(file);
    // A launch needs its own answer even when a save's build started meanwhile.
    const r = (await this.build(file, cfg, true))!;
    this.adopt(file, r);
    const errors = r.diagnostics.filter((d) => d.severity === 'error').length;
    if (errors === 0) return true;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
    let text = open?.getText();
    if (text === undefined) { try { text = readFileSync(file, 'utf8'); } catch { text = ''; } }
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath;
    const fix = await suggestFix(file, text, cfg, r.diagnostics, undefined, folder);
    const show = 'Show Problems', write = 'Add to launch.json';
    const buttons = Object.keys(fix.attributes).length ? [write, show] : [show];
    void vscode.window.showErrorMessage(`TDX: ${file.split(/[\\/]/).pop()} does not assemble (${errors} error${errors > 1 ? 's' : ''}); the session was not started. ${fix.message}.`, ...buttons)
      .then((pick) => {
        if (pick === show) return vscode.commands.executeCommand('workbench.actions.view.problems');
        if (pick === write) return writeLaunchEntry(vscode.Uri.file(file), cfg as Record<string, unknown>, fix.attributes);
        return undefined;
      });
    return false;
  }

  private publish(entry: string, diags: readonly AsmDiagnostic[]): void {
    for (const u of this.published.get(entry) ?? []) this.collection.delete(u);
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const entryUri = vscode.Uri.file(entry);
    for (const d of diags) {
      const loc = d.location;
      const onDisk = loc && isAbsolute(loc.file) && existsSync(loc.file);
      const file = onDisk ? loc.file : entry;
      // Diagnostics in built-in headers (no file on disk) are shown on the entry file's first line.
      const range = onDisk && loc ? tokenRange(loc.file, loc.line, loc.column) : new vscode.Range(0, 0, 0, 0);
      const message = onDisk || !loc ? d.message : `${loc.file}:${loc.line}:${loc.column}: ${d.message}`;
      const v = new vscode.Diagnostic(range, message, d.severity === 'error' ? vscode.DiagnosticSeverity.Error : d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
      v.source = 'tdx-as';
      if (d.related?.length) {
        v.relatedInformation = d.related.filter((x) => isAbsolute(x.location.file) && existsSync(x.location.file)).map((x) =>
          new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(x.location.file), tokenRange(x.location.file, x.location.line, x.location.column)), x.message));
      }
      const list = byFile.get(file) ?? [];
      list.push(v);
      byFile.set(file, list);
    }
    const uris: vscode.Uri[] = [entryUri];
    this.collection.set(entryUri, byFile.get(entry) ?? []);
    for (const [f, list] of byFile) {
      if (f === entry) continue;
      const u = vscode.Uri.file(f);
      this.collection.set(u, list);
      uris.push(u);
    }
    this.published.set(entry, uris);
  }

  dispose(): void {
    for (const t of this.recheck.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}

/** The range of the token at a 1-based line:column (to the end of the line when none is there). */
function tokenRange(file: string, line: number, column: number): vscode.Range {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
  let text: string | undefined;
  try {
    text = open ? open.lineAt(Math.max(0, line - 1)).text : readFileSync(file, 'utf8').split('\n')[line - 1];
  } catch {
    text = undefined;
  }
  const l = Math.max(0, line - 1), c = Math.max(0, column - 1);
  if (text === undefined) return new vscode.Range(l, c, l, c + 1);
  const m = /^[\w.$%]+|^\S+/.exec(text.slice(c));
  const end = m ? c + m[0].length : Math.max(c + 1, text.trimEnd().length);
  return new vscode.Range(l, c, l, end);
}
