// Read-only documents the extension opens under a scheme of its own ("Show Struct Layout", the
// fault-matrix tables): the text is held by URI and shown again when the same URI is reused.

import * as vscode from 'vscode';

export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  /** `gone`: the text of a document of this scheme whose contents are no longer held (after a reload), saying what to run again. */
  constructor(readonly scheme: string, private readonly gone: string) {}

  /** The provider's registration for its scheme. */
  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(this.scheme, this);
  }

  /** Holds `text` as the document at `path` and returns its URI (an open one is refreshed). */
  show(path: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: this.scheme, path });
    this.texts.set(uri.toString(), text);
    this.emitter.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? this.gone;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
