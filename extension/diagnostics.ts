// Assembler errors as Problems: the built-in assembler (`buildImage`) runs on save of a TDX
// assembly file and before every launch, and its file:line:col diagnostics become ranges over
// the offending token. A successful build also leaves its constants and struct layouts for the
// hovers. The emulator is loaded on first use, not at activation.

import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostic as AsmDiagnostic } from '../emulator/loader/diagnostics';
import type { StructLayout } from '../emulator/loader/image';
import type { Generation } from '../emulator/loader/headers/generation';
import type { LaunchConfig } from '../emulator/session/config';
import { DEBUG_TYPE, Setting, isAsmPath } from './ids';

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

  constructor() {
    this.subscriptions.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (!this.wantsCheck(doc)) return;
        this.check(doc.uri.fsPath, this.optionsFor(doc.uri)).catch((e) => console.error('TDX: check on save failed', e));
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.facts.delete(doc.uri.fsPath)),
    );
  }

  /** The facts of the last successful build of `file`. */
  factsFor(file: string): BuildFacts | undefined {
    return this.facts.get(file);
  }

  private wantsCheck(doc: vscode.TextDocument): boolean {
    if (doc.uri.scheme !== 'file' || !isAsmPath(doc.uri.fsPath)) return false;
    if (!vscode.workspace.getConfiguration('tdx', doc.uri).get<boolean>(Setting.ProblemsOnSave, true)) return false;
    // ARM or other assembly in the same workspace must not drown in x86 errors.
    return this.launched.has(doc.uri.fsPath) || this.launchConfigFor(doc.uri) !== undefined || looksLikeTdx(doc.getText());
  }

  /** The first `tdx` launch configuration of the file's folder whose program is this file. */
  private launchConfigFor(uri: vscode.Uri): Partial<LaunchConfig> | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const all = vscode.workspace.getConfiguration('launch', uri).get<Record<string, unknown>[]>('configurations') ?? [];
    for (const c of all) {
      if (c.type !== DEBUG_TYPE || typeof c.program !== 'string') continue;
      const p = substitute(c.program, folder);
      if (resolve(folder?.uri.fsPath ?? '', p) === uri.fsPath) return substituteAll(c, folder) as Partial<LaunchConfig>;
    }
    return undefined;
  }

  private optionsFor(uri: vscode.Uri): Partial<LaunchConfig> & { cwd?: string } {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const c = this.launchConfigFor(uri) ?? {};
    return { ...c, generation: c.generation ?? vscode.workspace.getConfiguration('tdx', uri).get<Generation>(Setting.Generation, 'G5'), cwd: folder?.uri.fsPath };
  }

  /**
   * Builds `file` with a launch configuration's options and publishes the result.
   * Returns the number of errors (0: the build made an Image).
   */
  async check(file: string, cfg: Partial<LaunchConfig> & { cwd?: string }): Promise<number> {
    const { buildImage } = await import('../emulator/loader/buildImage');
    const cwd = cfg.cwd ?? process.cwd();
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file);
    const defines = cfg.defines ? Object.fromEntries(Object.entries(cfg.defines).map(([k, v]) => [k, v === true ? '1' : v === false ? '0' : String(v)])) : undefined;
    const r = await buildImage(file, {
      includePaths: cfg.includePaths?.map(abs),
      headers: cfg.headers?.map(abs),
      asmOffsets: cfg.asmOffsets ? abs(cfg.asmOffsets) : undefined,
      generation: cfg.generation,
      defines,
      text: open?.getText(),
    });
    this.publish(file, r.diagnostics);
    if (r.image) this.facts.set(file, { constants: r.image.constants, structs: r.image.structs });
    return r.diagnostics.filter((d) => d.severity === 'error').length;
  }

  /** Before a launch: build, publish, and say whether to go on. */
  async checkAtLaunch(file: string, cfg: Partial<LaunchConfig> & { cwd?: string }): Promise<boolean> {
    this.launched.add(file);
    const errors = await this.check(file, cfg);
    if (errors === 0) return true;
    const show = 'Show Problems';
    void vscode.window.showErrorMessage(`TDX: ${file.split(/[\\/]/).pop()} does not assemble (${errors} error${errors > 1 ? 's' : ''}); the session was not started.`, show)
      .then((pick) => (pick === show ? vscode.commands.executeCommand('workbench.actions.view.problems') : undefined));
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

/** `${workspaceFolder}`, `${workspaceRoot}` and `${userHome}` in launch values (the common ones). */
export function substitute(s: string, folder: vscode.WorkspaceFolder | undefined): string {
  return s.replace(/\$\{(workspaceFolder|workspaceRoot)\}/g, folder?.uri.fsPath ?? '').replace(/\$\{userHome\}/g, process.env.HOME ?? '');
}

function substituteAll(v: unknown, folder: vscode.WorkspaceFolder | undefined): unknown {
  if (typeof v === 'string') return substitute(v, folder);
  if (Array.isArray(v)) return v.map((x) => substituteAll(x, folder));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substituteAll(x, folder)]));
  return v;
}
