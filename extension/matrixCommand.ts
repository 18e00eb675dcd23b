// "Fault matrix" (CodeLens and command `tdx.faultMatrix`): runs every call site of a function
// under every applicable fault on the extension's worker thread (heavyWork.ts: the extension
// host stays responsive; progress notification, cancellable between scenarios), shows the table in a read-only document, and publishes one
// test per site × fault in the Test Explorer, judged against `<file>[.<entry>].matrix.json`.

import * as vscode from 'vscode';
import { basename } from 'node:path';
import { findFunctions, functionAt } from './asmScan';
import { Cmd, isAsmPath } from './ids';
import { resolveForFile } from './workspaceConfig';
import { describeResolved } from './configResolver';
import { expectationPaths, matrixDocument, parseExpectation, scenarioVerdicts } from './matrixModel';
import { JobCancelled, type HeavyWork } from './heavyWork';
import type { MatrixResult } from '../emulator/matrix/matrix';
import { ReadOnlyDocuments } from './readOnlyDocuments';

export class FaultMatrix implements vscode.Disposable {
  /** Read-only matrix tables. */
  private readonly docs = new ReadOnlyDocuments('tdx-matrix', 'Run "TDX: Run Fault Matrix for Function" again.\n');
  private readonly tests = vscode.tests.createTestController('tdx.faultMatrix', 'TDX Fault Matrix');
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly work: HeavyWork) {
    // Re-running from the Test Explorer runs the matrix of each function item requested.
    this.tests.createRunProfile('Run fault matrix', vscode.TestRunProfileKind.Run, (req, token) => this.rerun(req, token), true);
    this.subscriptions.push(
      this.docs, this.tests,
      this.docs.register(),
      vscode.commands.registerCommand(Cmd.FaultMatrix, (uri?: vscode.Uri, name?: string) => this.command(uri, name)),
    );
  }

  private async command(uri?: vscode.Uri, name?: string): Promise<void> {
    try {
      const target = await resolveFunction(uri, name);
      if (!target) return;
      await this.run(target.uri, target.entry, undefined);
    } catch (e) {
      void vscode.window.showErrorMessage(`TDX: fault matrix failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async rerun(req: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const fns = new Map<string, vscode.TestItem>();
    const add = (item: vscode.TestItem) => { let f: vscode.TestItem | undefined = item; while (f && !f.id.startsWith('fn:')) f = f.parent; if (f) fns.set(f.id, f); };
    if (req.include) req.include.forEach(add); else this.tests.items.forEach((file) => file.children.forEach(add));
    for (const fn of fns.values()) {
      if (token.isCancellationRequested || !fn.uri) break;
      await this.run(fn.uri, fn.label, token);
    }
  }

  /** Runs the matrix with a progress notification, shows the table and records the test results. */
  private async run(uri: vscode.Uri, entry: string, outer: vscode.CancellationToken | undefined): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    // An unsaved editor is run as it reads, never saved behind the user's back.
    const text = doc.getText();
    // The launch.json entry debugging this function (its args, context, faults, platform) when
    // there is one, else the configuration F5 would infer: the same resolver as F5.
    const resolved = await resolveForFile(uri, { entry });
    const config = resolved.config;
    const cwd = config.cwd;
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `TDX fault matrix: ${entry}`, cancellable: true }, async (progress, token) => {
      let last = 0;
      try {
        return await this.work.matrix({ ...config, stopOnEntry: false }, cwd, doc.isDirty ? text : undefined, {
          token: {
            get isCancellationRequested() { return token.isCancellationRequested || !!outer?.isCancellationRequested; },
            onCancellationRequested: (f: () => void) => { token.onCancellationRequested(f); outer?.onCancellationRequested(f); },
          },
          onProgress: (done, total) => { const pct = (100 * done) / total; progress.report({ message: `${done}/${total} scenarios`, increment: pct - last }); last = pct; },
        });
      } catch (e) {
        if (e instanceof JobCancelled) return undefined;
        throw e;
      }
    });
    if (!outcome) { void vscode.window.showInformationMessage(`TDX: fault matrix of ${entry} cancelled.`); return; }
    const expectation = await readExpectation(uri.fsPath, entry);
    const uriDoc = this.docs.show(`/${basename(uri.fsPath)}/${entry}.matrix.txt`, matrixDocument({ program: vscode.workspace.asRelativePath(uri), entry, result: outcome.result, stats: outcome.stats, expectation, configuration: describeResolved(resolved) }));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uriDoc), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    this.publish(uri, entry, outcome.result, expectation?.result);
  }

  /** One test item per site × fault under file › function, with this run's verdicts. */
  private publish(uri: vscode.Uri, entry: string, result: MatrixResult, expected: MatrixResult | undefined): void {
    const fileId = `file:${uri.toString()}`;
    let file = this.tests.items.get(fileId);
    if (!file) { file = this.tests.createTestItem(fileId, basename(uri.fsPath), uri); this.tests.items.add(file); }
    const fnId = `fn:${uri.toString()}#${entry}`;
    let fn = file.children.get(fnId);
    if (!fn) { fn = this.tests.createTestItem(fnId, entry, uri); file.children.add(fn); }
    const verdicts = scenarioVerdicts(result, expected);
    const sites = new Map<string, vscode.TestItem>();
    fn.children.replace([]);
    const run = this.tests.createTestRun(new vscode.TestRunRequest([fn]), `fault matrix: ${entry}`, false);
    for (const v of verdicts) {
      let site = sites.get(v.site);
      if (!site) { site = this.tests.createTestItem(`${fnId}/${v.site}`, v.site, uri); fn.children.add(site); sites.set(v.site, site); }
      const item = this.tests.createTestItem(`${fnId}/${v.id}`, v.fault, uri);
      item.description = v.result;
      site.children.add(item);
      if (v.verdict === 'failed') run.failed(item, new vscode.TestMessage(v.message));
      else if (v.verdict === 'passed') run.passed(item);
      else { run.appendOutput(`${v.id}: ${v.message}\r\n`, undefined, item); run.skipped(item); }
    }
    run.end();
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}

/** The function to run: the CodeLens's arguments, else the function under the cursor. */
async function resolveFunction(uri: vscode.Uri | undefined, name: string | undefined): Promise<{ uri: vscode.Uri; entry: string } | undefined> {
  if (uri && name) return { uri, entry: name };
  const ed = vscode.window.activeTextEditor;
  if (!ed || !isAsmPath(ed.document.uri.fsPath)) { void vscode.window.showInformationMessage('TDX: put the cursor in a function of a .S file.'); return undefined; }
  const fn = functionAt(findFunctions(ed.document.getText()), ed.selection.active.line);
  if (!fn) { void vscode.window.showInformationMessage('TDX: the cursor is not inside a function.'); return undefined; }
  return { uri: ed.document.uri, entry: fn.name };
}

async function readExpectation(source: string, entry: string): Promise<{ path: string; result?: MatrixResult; error?: string } | undefined> {
  for (const path of expectationPaths(source, entry)) {
    let bytes: Uint8Array;
    try { bytes = await vscode.workspace.fs.readFile(vscode.Uri.file(path)); } catch { continue; }
    return { path: vscode.workspace.asRelativePath(path), ...parseExpectation(Buffer.from(bytes).toString('utf8')) };
  }
  return undefined;
}
