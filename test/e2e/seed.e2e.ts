// The reviewer's first minute (issue 11) in a real VS Code: a copy of the G0-shaped seed
// workspace (test/e2e/seed: a `__tdx_hypercall` using TDX_HYPERCALL_r10…r15 and
// TDX_HCALL_HAS_OUTPUT, its tdx.h, its asm-offsets.c) with no launch.json. F5 stops on the
// tdcall with the tdx_hypercall_args overlay and its asm-offsets names; hovers; Problems after a
// syntax error and after the fix; Problems after a failed F5, gone once the text is restored
// without a save; Show Struct Layout; then a launch.json with relative paths,
// and the Fault matrix CodeLens honouring it with its results in the Test Explorer.
// Screenshots: test/e2e/artifacts/seed-*.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VSCodeSession, ROOT, CACHE_DIR, T } from './harness';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const VSIX = process.env.TDX_E2E_VSIX ?? join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
/** A fresh copy of the seed: the test writes launch.json and edits files in it. */
const WS = join(CACHE_DIR, 'seed-workspace');

describe('the reviewer\'s first minute on a G0 file (code-server + Chromium)', { timeout: 10 * 60_000 }, () => {
  let vs: VSCodeSession;
  const tdcallLine = () => vs.lineOf('tdcall.S', /^\s*tdcall\s*$/, WS);
  /** Quick open, once more after a pause when a closing widget swallowed the first try. */
  const open = async (file: string) => {
    try { await vs.openFile(file); } catch {
      await vs.escape();
      await vs.page.waitForTimeout(1000);
      await vs.openFile(file);
    }
  };

  before(async () => {
    rmSync(WS, { recursive: true, force: true });
    mkdirSync(WS, { recursive: true });
    cpSync(join(ROOT, 'test/e2e/seed'), WS, { recursive: true });
    vs = await VSCodeSession.start({ name: 'seed', vsix: [VSIX], workspace: WS });
  }, { timeout: 5 * 60_000 });

  after(async () => {
    await vs?.close();
  });

  test('F5 with no launch.json stops on tdcall with the tdx_hypercall_args overlay and its asm-offsets names', async () => {
    await vs.step('open tdcall.S', () => open('tdcall.S'));
    await vs.step('F5', () => vs.startDebugging());
    await vs.step('stopped on tdcall', () => vs.waitForStopped({ file: 'tdcall.S', line: tdcallLine() }));
    await vs.step('scope Structs', () => vs.variables('Structs'));
    await vs.step('expand args', () => vs.expandVariable('args'));
    const fields = await vs.step('fields of args', () => vs.variables('Structs'));
    const text = fields.map((r) => `${r.name} ${r.value}`).join('\n');
    assert.match(text, /tdx_hypercall_args/, text);
    for (const [k, off] of [[10, 0], [11, 8], [12, 16], [13, 24], [14, 32], [15, 40]] as const) {
      const row = fields.find((r) => r.name === `r${k}`);
      assert.ok(row, `no r${k} in the overlay:\n${text}`);
      assert.match(row.value, new RegExp(`\\+0x${off.toString(16)}\\b`), `r${k}: ${row.value}`);
      assert.match(row.value, new RegExp(`TDX_HYPERCALL_r${k}\\b`), `r${k}: ${row.value}`);
    }
    await vs.screenshot('f5-no-launch-json-stopped-on-tdcall');
    await vs.step('stop', () => vs.stopDebugging());
  });

  test('hover on an asm-offsets name shows its struct field', async () => {
    const line = vs.lineOf('tdcall.S', /movq\s+TDX_HYPERCALL_r12\(%rdi\)/, WS);
    const col = readFileSync(join(WS, 'tdcall.S'), 'utf8').split('\n')[line - 1].indexOf('TDX_HYPERCALL_r12') + 3;
    await vs.step('cursor on TDX_HYPERCALL_r12', async () => {
      await vs.runCommand('Go to Line/Column...');
      const input = vs.page.locator('.quick-input-widget input');
      await input.fill(`:${line}:${col}`);
      await input.press('Enter');
      await vs.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T.ui });
    });
    await vs.step('Show or Focus Hover', () => vs.runCommand('Show or Focus Hover'));
    const hover = await vs.step('hover text', async () => {
      const h = vs.page.locator('.monaco-hover-content').filter({ hasText: /TDX_HYPERCALL_r12/ }).first();
      await h.waitFor({ timeout: T.ui });
      return (await h.innerText()).replace(/\s+/g, ' ');
    });
    assert.match(hover, /tdx_hypercall_args/, hover);
    assert.match(hover, /0x10|16/, hover);
    await vs.screenshot('hover-asm-offsets-name');
    await vs.escape();
  });

  test('Problems: a syntax error is listed on save and gone after the fix', async () => {
    const problems = async () => {
      await vs.runCommand('Problems: Focus on Problems View');
      const rows = vs.page.locator('.markers-panel .monaco-list-row');
      await vs.page.waitForTimeout(300);
      return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    };
    const line = vs.lineOf('tdcall.S', /movq\s+TDX_HYPERCALL_r12\(%rdi\)/, WS);
    await vs.step('break a line', async () => {
      await vs.goToLine(line);
      await vs.page.keyboard.press('End');
      await vs.page.keyboard.type(', %nosuchreg');
      await vs.runCommand('File: Save');
    });
    const bad = await vs.step('Problems lists the error', async () => {
      for (let k = 0; k < 30; k++) {
        const rows = await problems();
        if (rows.some((r) => /nosuchreg|operand|error/i.test(r))) return rows;
        await vs.page.waitForTimeout(300);
      }
      return problems();
    });
    assert.ok(bad.some((r) => /tdx-as|nosuchreg|operand/i.test(r)), JSON.stringify(bad));
    await vs.screenshot('problems-syntax-error');
    await vs.step('fix and save', async () => {
      await open('tdcall.S');
      await vs.goToLine(line);
      await vs.page.keyboard.press('End');
      for (let k = 0; k < ', %nosuchreg'.length; k++) await vs.page.keyboard.press('Backspace');
      await vs.runCommand('File: Save');
    });
    const good = await vs.step('Problems is empty', async () => {
      for (let k = 0; k < 30; k++) {
        const rows = await problems();
        if (!rows.some((r) => /tdx-as|nosuchreg/i.test(r))) return rows;
        await vs.page.waitForTimeout(300);
      }
      return problems();
    });
    assert.ok(!good.some((r) => /tdx-as|nosuchreg/i.test(r)), JSON.stringify(good));
    await vs.screenshot('problems-after-fix');
  });

  test('Problems after a failed F5 go as soon as the file is restored, without a save', async () => {
    const problems = async () => {
      await vs.runCommand('Problems: Focus on Problems View');
      const rows = vs.page.locator('.markers-panel .monaco-list-row');
      await vs.page.waitForTimeout(300);
      return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    };
    const until = async (want: (rows: string[]) => boolean) => {
      for (let k = 0; k < 40; k++) {
        const rows = await problems();
        if (want(rows)) return rows;
        await vs.page.waitForTimeout(300);
      }
      return problems();
    };
    const broken = (rows: string[]) => rows.some((r) => /nosuchreg/i.test(r));
    const line = vs.lineOf('tdcall.S', /movq\s+TDX_HYPERCALL_r13\(%rdi\)/, WS);
    await vs.escape();
    await vs.step('open tdcall.S', () => open('tdcall.S'));
    await vs.step('break a line, unsaved', async () => {
      await vs.goToLine(line);
      await vs.page.keyboard.press('End');
      await vs.page.keyboard.type(', %nosuchreg');
    });
    // F5 builds the editor's text: the launch is refused and its errors are published.
    await vs.step('F5 is refused', async () => {
      await vs.page.locator('.monaco-editor textarea').first().focus();
      await vs.page.keyboard.press('F5');
      await vs.waitForNotification(/tdcall\.S does not assemble/);
    });
    const bad = await vs.step('Problems lists the launch\'s error', () => until(broken));
    assert.ok(broken(bad), JSON.stringify(bad));
    await vs.step('restore the line, no save', async () => {
      await open('tdcall.S');
      await vs.goToLine(line);
      await vs.page.keyboard.press('End');
      for (let k = 0; k < ', %nosuchreg'.length; k++) await vs.page.keyboard.press('Backspace');
    });
    const good = await vs.step('Problems is empty again', () => until((rows) => !broken(rows)));
    assert.ok(!broken(good), JSON.stringify(good));
    await vs.step('save the restored file', async () => {
      await open('tdcall.S');
      await vs.runCommand('File: Save');
    });
  });

  test('Show Struct Layout shows the file\'s tdx_hypercall_args with its asm-offsets names', async () => {
    await vs.escape();
    await vs.step('open tdcall.S', () => open('tdcall.S'));
    await vs.step('TDX: Show Struct Layout', async () => {
      await vs.runCommand('TDX: Show Struct Layout');
      await vs.pickQuickItem('tdx_hypercall_args');
    });
    const text = await vs.step('layout document', async () => {
      const ed = vs.page.locator('.editor-instance .view-lines').filter({ hasText: /cachelines/ }).first();
      await ed.waitFor({ timeout: T.ui });
      return (await ed.innerText()).replace(/\u00a0/g, ' ');
    });
    assert.match(text, /TDX_HYPERCALL_r10/, text);
    assert.match(text, /48/, text);
    await vs.screenshot('show-struct-layout');
  });

  test('launch.json with relative paths, and the Fault matrix CodeLens honouring it (Test Explorer)', async () => {
    mkdirSync(join(WS, '.vscode'), { recursive: true });
    writeFileSync(join(WS, '.vscode/launch.json'), JSON.stringify({
      version: '0.2.0',
      configurations: [{
        type: 'tdx', request: 'launch', name: 'Seed: HLT hypercall', program: 'tdcall.S', entry: '__tdx_hypercall', context: 'guest',
        generation: 'G0', asmOffsets: 'asm-offsets.c', headers: ['tdx.h'],
        // R11 = 12: the HLT sub-function (GHCI, Instruction.HLT); flags = TDX_HCALL_HAS_OUTPUT.
        args: [{ struct: 'tdx_hypercall_args', init: { r11: 12 } }, 1], stopOnCall: true,
      }],
    }, null, 2));
    await vs.escape();
    // Opening launch.json makes the workbench read it now rather than when its watcher fires.
    await vs.step('open launch.json', () => open('launch.json'));
    await vs.step('open tdcall.S', () => open('tdcall.S'));
    await vs.step('start "Seed: HLT hypercall"', async () => {
      for (let k = 0; ; k++) {
        try { await vs.startDebugging('Seed: HLT hypercall'); return; } catch (e) {
          if (k === 5) throw e;
          await vs.escape();
          await vs.page.waitForTimeout(1000);
        }
      }
    });
    await vs.step('stopped on tdcall', () => vs.waitForStopped({ file: 'tdcall.S', line: tdcallLine() }));
    // The second argument of the entry: flags = 1 in RSI.
    const regs = await vs.step('scope Registers', () => vs.variables('Registers'));
    assert.match(regs.find((r) => r.name === 'rsi')?.value ?? '', /^0x0*1\b/, JSON.stringify(regs.slice(0, 10)));
    await vs.step('fold Registers', async () => {
      const row = vs.page.locator('.debug-variables .monaco-list-row[aria-expanded="true"]', { has: vs.page.locator('.scope', { hasText: 'Registers' }) }).first();
      if (await row.count()) await row.click();
    });
    await vs.step('scope Structs', () => vs.variables('Structs'));
    await vs.step('expand args', () => vs.expandVariable('args'));
    const fields = await vs.step('fields', () => vs.variables('Structs'));
    assert.match(fields.find((r) => r.name === 'r11')?.value ?? '', /0x0*c\b|\b12\b/, JSON.stringify(fields));
    await vs.screenshot('launch-json-relative-paths');
    await vs.step('stop', () => vs.stopDebugging());

    await vs.step('click the Fault matrix CodeLens', async () => {
      const lens = vs.page.locator('.contentWidgets .codelens-decoration a, .codelens-decoration a', { hasText: 'Fault matrix' }).first();
      await lens.waitFor({ timeout: T.debug });
      await lens.click();
    });
    const doc = await vs.step('matrix document', async () => {
      const ed = vs.page.locator('.editor-instance .view-lines').filter({ hasText: /Fault\s+matrix:\s+__tdx_hypercall/ }).first();
      await ed.waitFor({ timeout: T.debug });
      return (await ed.innerText()).replace(/\u00a0/g, ' ');
    });
    assert.match(doc, /launch\.json "Seed: HLT hypercall"/, doc);
    assert.match(doc, /TDG\.VP\.VMCALL/, doc);
    await vs.screenshot('fault-matrix-document');
    const tests = await vs.step('Test Explorer', async () => {
      await vs.runCommand('Testing: Focus on Test Explorer View');
      const rows = vs.page.locator('.test-explorer .monaco-list-row');
      // file › function › site › fault: expand down to the faults.
      for (const level of [/tdcall\.S/, /__tdx_hypercall(?!\+)/, /TDCALL/]) {
        const row = rows.filter({ hasText: level }).first();
        await row.waitFor({ timeout: T.debug });
        if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
        await vs.page.waitForTimeout(300);
      }
      await rows.filter({ hasText: /TDX_OPERAND_INVALID/ }).first().waitFor({ timeout: T.debug });
      return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    });
    assert.ok(tests.some((r) => /tdcall\.S/.test(r)) && tests.some((r) => /__tdx_hypercall/.test(r)) && tests.some((r) => /status:TDX_OPERAND_INVALID/.test(r)), JSON.stringify(tests));
    await vs.screenshot('fault-matrix-test-explorer');
  });
});
