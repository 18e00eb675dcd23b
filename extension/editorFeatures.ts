// Editor features of assembly files: CodeLens "Debug" and "Fault matrix" above each function
// start, and hovers on TDX names and values (catalogue, the generation's struct presets, and
// the constants of the file's last successful build). Documents are matched by language id
// and by `.S`/`.s` path, so they work whichever assembly extension owns the language.

import * as vscode from 'vscode';
import { findFunctions } from './asmScan';
import { hoverMarkdown } from './hoverInfo';
import { ASM_LANGUAGE_IDS, Cmd, Setting, isAsmPath } from './ids';
import { generationFor } from './workspaceConfig';
import type { AsmDiagnostics } from './diagnostics';
import type { Generation } from '../emulator/loader/headers/generation';
import type { StructLayout } from '../emulator/loader/image';
import { structPreset } from '../emulator/loader/structPresets';

/** Assembly documents on disk or unsaved. */
export const ASM_SELECTOR: vscode.DocumentSelector = [
  ...ASM_LANGUAGE_IDS.map((language) => ({ language })),
  { pattern: '**/*.{S,s,sx}' },
];

class FunctionLenses implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const out: vscode.CodeLens[] = [];
    for (const f of findFunctions(doc.getText())) {
      const range = new vscode.Range(f.line, 0, f.line, 0);
      out.push(
        new vscode.CodeLens(range, { title: '$(debug-alt) Debug', tooltip: `Debug ${f.name} in the emulator`, command: Cmd.DebugFunction, arguments: [doc.uri, f.name] }),
        new vscode.CodeLens(range, { title: 'Fault matrix', tooltip: `Run every TDX call site of ${f.name} under every applicable fault (#UD, #GP, VMfailInvalid, statuses, hostile VMM) and show what the code did`, command: Cmd.FaultMatrix, arguments: [doc.uri, f.name] }),
      );
    }
    return out;
  }
}

class TdxHovers implements vscode.HoverProvider {
  constructor(private readonly diagnostics: AsmDiagnostics) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const range = doc.getWordRangeAtPosition(pos, /0x[0-9a-fA-F]+|\$?[A-Za-z_][\w.]*/);
    if (!range) return undefined;
    const word = doc.getText(range);
    const facts = doc.uri.scheme === 'file' ? this.diagnostics.factsFor(doc.uri.fsPath) : undefined;
    // The generation F5 would use (launch.json, the setting, else inferred from the file).
    const generation: Generation = doc.uri.scheme === 'file' && isAsmPath(doc.uri.fsPath) ? generationFor(doc) : vscode.workspace.getConfiguration('tdx', doc.uri).get<Generation>(Setting.Generation, 'G5');
    let structs: ReadonlyMap<string, StructLayout> | undefined = facts?.structs;
    let constants = facts?.constants;
    if (!structs) {
      try {
        const p = structPreset(generation);
        structs = p.structs;
        constants = p.asmOffsets;
      } catch {
        structs = undefined;
      }
    }
    const md = hoverMarkdown(word, { structs, constants });
    if (!md) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(md), range);
  }
}

export function registerEditorFeatures(diagnostics: AsmDiagnostics): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.languages.registerCodeLensProvider(ASM_SELECTOR, new FunctionLenses()),
    vscode.languages.registerHoverProvider([...ASM_SELECTOR as vscode.DocumentFilter[], { language: 'c' }], new TdxHovers(diagnostics)),
  );
}
