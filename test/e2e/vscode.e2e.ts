// The real-editor test (issues 6 and 8): our packaged .vsix installed into code-server 4.100.3
// (VS Code 1.100.3), driven in Debian's headless Chromium: breakpoint on a tdcall line, F5, the
// Variables view (registers, the exposure bitmap, the struct overlay), the Disassembly view, the
// TDX Calls view, an injected #GP on the host sample. Run with `npm run test:e2e`; screenshots
// and the code-server log go to test/e2e/artifacts/. TDX_E2E_SMOKE_ONLY=1 skips the debugging.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VSCodeSession, ROOT } from './harness';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; displayName: string };
/** The .vsix under test: the one scripts/package.mjs wrote, unless TDX_E2E_VSIX names another. */
const VSIX = process.env.TDX_E2E_VSIX ?? join(ROOT, `${pkg.name}-${pkg.version}.vsix`);
const DEBUG_STEPS: false | string = process.env.TDX_E2E_SMOKE_ONLY === '1' ? 'TDX_E2E_SMOKE_ONLY=1' : false;

/**
 * What the adapter shows, in one place (issue 5 "What the user sees"). The placeholder used to
 * verify the selectors answered with exactly these names; adjust here if the adapter differs.
 */
const UI = {
  guestConfig: 'Guest: tdx_hypercall',
  hostConfig: 'Host: tdx_sys_init',
  registersScope: 'Registers',
  tdxScope: 'TDX',
  structsScope: 'Structs',
  structArg: 'args',
  injectCommand: 'TDX: Inject Fault at Next Call...',
  /** The TDX scope's call card when stopped on a call that has not run yet. */
  nextCallCard: 'next call',
  callsView: 'TDX Calls',
} as const;

describe('TDX Call Debugger in a real VS Code (code-server + Chromium)', { timeout: 10 * 60_000 }, () => {
  let vs: VSCodeSession;

  before(async () => {
    vs = await VSCodeSession.start({ name: 'e2e', vsix: [VSIX] });
  }, { timeout: 5 * 60_000 });

  after(async () => {
    await vs?.close();
  });

  test('the workbench opens the sample workspace and the guest .S file', async () => {
    await vs.step('open guest.S', () => vs.openFile('guest.S'));
    await vs.step('guest.S shows its tdcall line', async () => {
      await vs.page.locator('.editor-instance .view-line', { hasText: /^\s*tdcall\s*$/ }).first().waitFor();
    });
    await vs.screenshot('guest-S-open');
  });

  test('our extension is installed and enabled', async () => {
    await vs.step('Extensions view lists it as enabled', () => vs.expectExtensionEnabled(pkg.displayName));
    await vs.screenshot('extensions-installed');
  });

  // The steps of issue 6. They share one editor and run in order: each starts from the state the
  // previous one left (a failure early makes the later ones fail too; read the first).
  describe('debugging', { skip: DEBUG_STEPS }, () => {
    const tdcallLine = () => vs.lineOf('guest.S', /^\s*tdcall\s*$/);
    const seamcallLine = () => vs.lineOf('host.S', /^\s*seamcall\s*$/);

    test('F5 on the guest sample stops on the tdcall breakpoint', async () => {
      await vs.step('open guest.S', () => vs.openFile('guest.S'));
      await vs.step('breakpoint on the tdcall line', () => vs.setBreakpoint('guest.S', tdcallLine()));
      await vs.step(`start "${UI.guestConfig}"`, () => vs.startDebugging(UI.guestConfig));
      const frame = await vs.step('stopped on tdcall', () => vs.waitForStopped({ file: 'guest.S', line: tdcallLine() }));
      assert.match(frame, /guest\.S/);
      await vs.screenshot('stopped-on-tdcall');
    });

    test('Variables: RAX, RCX, the exposure bitmap decoded, the struct overlay with offsets', async () => {
      const regs = await vs.step(`scope ${UI.registersScope}`, () => vs.variables(UI.registersScope));
      const reg = (n: string) => regs.find((r) => r.name.toLowerCase() === n);
      assert.ok(reg('rax'), `no RAX in ${JSON.stringify(regs)}`);
      assert.ok(reg('rcx'), `no RCX in ${JSON.stringify(regs)}`);

      await vs.step(`scope ${UI.tdxScope}`, () => vs.variables(UI.tdxScope));
      await vs.step(`expand ${UI.nextCallCard}`, () => vs.expandVariable(UI.nextCallCard));
      const card = await vs.step(`call card`, () => vs.variables(UI.tdxScope));
      const cardText = card.map((r) => `${r.name} ${r.value}`).join('\n');
      assert.match(cardText, /TDG\.VP\.VMCALL/, `the call card does not name the leaf:\n${cardText}`);
      assert.match(cardText, /R10\b[^\n]*R11\b[^\n]*R12\b[^\n]*R13\b/, `the RCX exposure bitmap is not decoded into register names:\n${cardText}`);

      await vs.step(`scope ${UI.structsScope}`, () => vs.variables(UI.structsScope));
      await vs.step(`expand ${UI.structArg}`, () => vs.expandVariable(UI.structArg));
      const fields = await vs.step(`fields of ${UI.structArg}`, () => vs.variables(UI.structsScope));
      const r12 = fields.find((r) => r.name === 'r12');
      assert.ok(r12, `no r12 field in the struct overlay: ${JSON.stringify(fields)}`);
      assert.match(r12.value, /\+0x[0-9a-f]+/i, `r12 shows no offset: ${r12.value}`);
      assert.match(r12.value, /TDX_MODULE_r12/, `r12 shows no asm-offsets name: ${r12.value}`);
      await vs.screenshot('variables');
    });

    test('the Disassembly view shows tdcall', async () => {
      const rows = await vs.step('open Disassembly', () => vs.disassembly());
      assert.ok(rows.some((r) => /\btdcall\b/.test(r)), `no tdcall in the disassembly: ${JSON.stringify(rows.slice(0, 10))}`);
      await vs.screenshot('disassembly');
    });

    test('the TDX Calls view lists the call', async () => {
      const rows = await vs.step(`${UI.callsView} view`, () => vs.viewRows(UI.callsView));
      assert.ok(rows.some((r) => /TDG\.VP\.VMCALL/.test(r)), `${UI.callsView} does not list TDG.VP.VMCALL: ${JSON.stringify(rows)}`);
      await vs.screenshot('tdx-calls');
      await vs.step('stop the guest session', () => vs.stopDebugging());
    });

    test('#GP injected at the next SEAMCALL of the host sample stops with its text', async () => {
      await vs.step('open host.S', () => vs.openFile('host.S'));
      await vs.step(UI.injectCommand, async () => {
        await vs.runCommand(UI.injectCommand);
        await vs.pickQuickItem(/#GP/);
      });
      await vs.step(`start "${UI.hostConfig}"`, () => vs.startDebugging(UI.hostConfig));
      await vs.step('stopped on seamcall', () => vs.waitForStopped({ file: 'host.S', line: seamcallLine() }));
      const text = await vs.step('exception widget', () => vs.exceptionWidgetText());
      assert.match(text, /#GP/, `the stop does not say #GP: ${text}`);
      const rows = await vs.step(`${UI.callsView} after the fault`, () => vs.viewRows(UI.callsView));
      assert.ok(rows.some((r) => /#GP/.test(r) && /inject/i.test(r)), `${UI.callsView} does not mark the injected #GP: ${JSON.stringify(rows)}`);
      await vs.screenshot('injected-gp');
      await vs.step('stop the host session', () => vs.stopDebugging());
    });

    test('stepping back across the injected #GP restores RAX (issue 8)', async () => {
      // After a step VS Code refetches the scope's children lazily: poll until RAX is back in the list.
      const rax = async () => {
        for (let k = 0; k < 20; k++) {
          const rows = await vs.variables(UI.registersScope);
          const v = rows.find((r) => r.name === 'rax')?.value;
          if (v) return v;
          if (k === 19) { await vs.screenshot('no-rax'); return `(no rax in ${JSON.stringify(rows.slice(0, 8))})`; }
          await new Promise((r) => setTimeout(r, 250));
        }
        return '';
      };
      await vs.step('open host.S', () => vs.openFile('host.S'));
      await vs.step(UI.injectCommand, async () => {
        await vs.runCommand(UI.injectCommand);
        await vs.pickQuickItem(/#GP/);
      });
      await vs.step(`start "${UI.hostConfig}"`, () => vs.startDebugging(UI.hostConfig));
      await vs.step('stopped on seamcall', () => vs.waitForStopped({ file: 'host.S', line: seamcallLine() }));
      // The fault is held back at the SEAMCALL: RAX still holds the leaf, TDH.SYS.INIT = 33 (Linux arch/x86/virt/vmx/tdx/tdx.h SEAMCALL leaves).
      assert.match(await vs.step('RAX before the fault', rax), /^0x0+21\b/);
      // Step over: the exception table's EX_TYPE_FAULT fixup puts the trap number (#GP = 13) in RAX.
      const fixupLine = vs.lineOf('host.S', /^\s*movq\s+\$TDX_SW_ERROR, %rdi/);
      await vs.step('step over into the fixup', async () => {
        await vs.runCommand('Debug: Step Over');
        await vs.waitForStopped({ file: 'host.S', line: fixupLine });
      });
      assert.match(await vs.step('RAX at the fixup', rax), /^0x0+d\b/);
      await vs.step('step back', async () => {
        await vs.runCommand('TDX: Reverse Step Over'); // the same as VS Code's Step Back button (DAP stepBack)
        await vs.waitForStopped({ file: 'host.S', line: seamcallLine() });
      });
      assert.match(await vs.step('RAX restored', rax), /^0x0+21\b/);
      await vs.screenshot('stepped-back');
      await vs.step('stop the host session', () => vs.stopDebugging());
    });
  });
});
