// The real-editor harness: installs a .vsix into a fresh code-server profile, serves the
// workbench on a free loopback port, drives it in Debian's headless Chromium with
// playwright-core, and offers the few UI operations the e2e test needs. Every wait is bounded;
// every failing step saves a screenshot and says which step failed; code-server and the
// browser are always stopped (close(), and a process-exit hook for hard failures).
// Size (over 450 lines): setup, teardown and the UI operations share one page and its
// waiting rules; the e2e test reads as a script of these operations.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, basename, resolve } from 'node:path';
import { chromium, type Browser, type Page, type Locator } from 'playwright-core';

// The functions passed to page.evaluate/waitForFunction run in the browser; the project's
// tsconfig has no DOM library (on purpose), so their DOM access is typed loosely here.
declare const document: any;

/** Repository root (the bundle runs from out/test/e2e/, the sources live in test/e2e/). */
export const ROOT = resolve(__dirname, '../../..');
export const E2E_DIR = join(ROOT, 'test/e2e');
export const CACHE_DIR = join(E2E_DIR, '.cache');
export const ARTIFACTS_DIR = join(E2E_DIR, 'artifacts');
export const WORKSPACE_DIR = join(E2E_DIR, 'workspace');
export const CODE_SERVER_BIN = join(CACHE_DIR, 'code-server/node_modules/.bin/code-server');
export const CHROMIUM = '/usr/bin/chromium';

/** Timeouts (ms). UI waits are generous: 2 cores, a cold workbench and extension host. */
export const T = { install: 120_000, serverUp: 60_000, workbench: 90_000, ui: 20_000, debug: 45_000 } as const;

/** Breakpoint glyphs in the editor's glyph margin (verified, unverified, disabled). */
const BREAKPOINT_GLYPH = '.monaco-editor .glyph-margin-widgets [class*="codicon-debug-breakpoint"]';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export interface StartOptions {
  /** Name of this run: its profile folder and the prefix of its screenshots. */
  name: string;
  /** .vsix files to install before the editor starts. */
  vsix: string[];
  /** Folder opened in the workbench (default: the sample workspace). */
  workspace?: string;
}

/** One row of the Variables view. */
export interface VariableRow { name: string; value: string; depth: number }

/** A running code-server with one browser page on its workbench. */
export class VSCodeSession {
  private shot = 0;
  private constructor(
    readonly name: string,
    readonly page: Page,
    private readonly browser: Browser,
    private readonly server: ChildProcess,
    readonly url: string,
    readonly profileDir: string,
    readonly logFile: string,
  ) {}

  /** Installs the extensions, starts code-server and the browser, and waits for the workbench. */
  static async start(opts: StartOptions): Promise<VSCodeSession> {
    for (const [what, p] of [['code-server (run scripts/e2e-setup.mjs)', CODE_SERVER_BIN], ['Debian chromium (run scripts/e2e-setup.mjs)', CHROMIUM]] as const) {
      if (!existsSync(p)) throw new Error(`e2e: ${what} is missing: ${p}`);
    }
    const workspace = opts.workspace ?? WORKSPACE_DIR;
    const profileDir = join(CACHE_DIR, 'profiles', opts.name);
    rmSync(profileDir, { recursive: true, force: true });
    const dirs = { userData: join(profileDir, 'user-data'), extensions: join(profileDir, 'extensions'), config: join(profileDir, 'xdg-config'), data: join(profileDir, 'xdg-data') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    // No welcome page, no walkthroughs, no trust prompts: the test sees only what it opens.
    mkdirSync(join(dirs.userData, 'User'), { recursive: true });
    writeFileSync(join(dirs.userData, 'User/settings.json'), JSON.stringify({
      'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'security.workspace.trust.enabled': false,
      'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'telemetry.telemetryLevel': 'off',
      'workbench.enableExperiments': false, 'update.mode': 'none', 'debug.internalConsoleOptions': 'neverOpen',
      'window.restoreWindows': 'none', 'files.hotExit': 'off', 'editor.minimap.enabled': false,
      // The sample workspace lives inside our repository: no "open the parent repository?" toast.
      'git.openRepositoryInParentFolders': 'never', 'git.autoRepositoryDetection': false,
    }, null, 2));
    const env = { ...process.env, XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, XDG_CACHE_HOME: join(profileDir, 'xdg-cache') };
    const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];

    for (const vsix of opts.vsix) {
      if (!existsSync(vsix)) throw new Error(`e2e: the .vsix to install does not exist: ${vsix} (run scripts/package.mjs)`);
      const r = spawnSync(CODE_SERVER_BIN, [...common, '--install-extension', vsix, '--force'], { env, encoding: 'utf8', timeout: T.install });
      if (r.status !== 0) throw new Error(`e2e: installing ${basename(vsix)} into code-server failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
    }

    const port = await freePort();
    const logFile = join(ARTIFACTS_DIR, `${opts.name}-code-server.log`);
    const logFd = openSync(logFile, 'w');
    // Own process group: code-server forks the VS Code server, extension host and ptyHost;
    // stopping the group by its id stops them all and nothing else.
    const server = spawn(CODE_SERVER_BIN, [...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
      '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', workspace],
    { env, stdio: ['ignore', logFd, logFd], detached: true });
    closeSync(logFd);
    liveServers.add(server);
    const url = `http://127.0.0.1:${port}/`;
    let browser: Browser | undefined;
    try {
      await waitForHealthz(url, server, logFile);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: T.ui });
      liveBrowsers.add(browser);
      const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
      const page = await context.newPage();
      page.setDefaultTimeout(T.ui);
      const session = new VSCodeSession(opts.name, page, browser, server, url, profileDir, logFile);
      await session.step('open workbench', async () => {
        await page.goto(`${url}?folder=${encodeURIComponent(workspace)}`, { timeout: T.workbench });
        await page.locator('.monaco-workbench').waitFor({ timeout: T.workbench });
        // The explorer lists the folder once the workbench has its workspace and file service.
        await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: T.workbench });
      });
      return session;
    } catch (e) {
      await browser?.close().catch(() => undefined);
      if (browser) liveBrowsers.delete(browser);
      stopServer(server);
      throw e;
    }
  }

  /**
   * Runs one named step of a test: on failure saves `<name>-NN-<step>-FAILED.png` and throws an
   * error that names the step, keeps the cause, and points at the screenshot and server log.
   */
  async step<R>(title: string, body: () => Promise<R>): Promise<R> {
    try {
      return await body();
    } catch (e) {
      const png = await this.screenshot(`${title}-FAILED`).catch(() => '(no screenshot)');
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`e2e step "${title}" failed: ${msg}\n  screenshot: ${png}\n  code-server log: ${this.logFile}`, { cause: e });
    }
  }

  /** Saves a full-window screenshot under test/e2e/artifacts/ and returns its path. */
  async screenshot(label: string): Promise<string> {
    const file = join(ARTIFACTS_DIR, `${this.name}-${String(++this.shot).padStart(2, '0')}-${label.replace(/[^\w.-]+/g, '_')}.png`);
    await this.page.screenshot({ path: file, timeout: T.ui });
    return file;
  }

  /** Closes quick input, menus and widgets that a previous step may have left open. */
  async escape(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }

  /**
   * Runs a command from the palette by its exact title as shown there ("Category: Title").
   * Picks the row whose label equals the title, so "Debug: Start" never runs "Debug: Start Without...".
   */
  async runCommand(title: string): Promise<void> {
    const input = await this.openQuickInput('>');
    await input.fill(`>${title}`);
    const row = this.quickPickRow(title);
    await row.waitFor({ timeout: T.ui }).catch(async () => {
      throw new Error(`command "${title}" is not in the palette; it shows: ${JSON.stringify(await this.quickPickLabels())}`);
    });
    await row.click();
    await this.waitQuickInputClosedOrChanged(`>${title}`);
  }

  /** Chooses an item of an open quick pick (e.g. after a command asked a question) by its label. */
  async pickQuickItem(label: string | RegExp): Promise<void> {
    const row = this.quickPickRow(label);
    await row.waitFor({ timeout: T.ui }).catch(async () => {
      throw new Error(`quick pick has no item ${String(label)}; it shows: ${JSON.stringify(await this.quickPickLabels())}`);
    });
    await row.click();
  }

  /** Labels of the rows of the open quick pick. */
  async quickPickLabels(): Promise<string[]> {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row .label-name').allInnerTexts();
  }

  /** Opens a workspace file by its path relative to the workspace (Go to File) and waits for its tab. */
  async openFile(relPath: string): Promise<void> {
    const input = await this.openQuickInput('');
    await input.fill(relPath);
    const name = basename(relPath);
    // Quick open rows: label is the file name, description its folder.
    const row = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: this.page.locator('.label-name', { hasText: name }) }).first();
    await row.waitFor({ timeout: T.ui });
    await row.click();
    await this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`).waitFor({ timeout: T.ui });
    await this.page.locator('.editor-instance .monaco-editor .view-lines').first().waitFor({ timeout: T.ui });
  }

  /** Moves the cursor of the active editor to a 1-based line (Go to Line) and waits until it is there. */
  async goToLine(line: number): Promise<void> {
    await this.runCommand('Go to Line/Column...');
    const input = this.page.locator('.quick-input-widget input');
    await input.fill(`:${line}`);
    await input.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: T.ui });
    await this.page.locator(`.statusbar-item[id="status.editor.selection"]`).filter({ hasText: new RegExp(`Ln ${line},`) }).waitFor({ timeout: T.ui });
  }

  /** 1-based line of the first line of the file on disk matching `re` (for breakpoints by content). */
  lineOf(relPath: string, re: RegExp, workspace = WORKSPACE_DIR): number {
    const lines = readFileSync(join(workspace, relPath), 'utf8').split('\n');
    const i = lines.findIndex((l) => re.test(l));
    if (i < 0) throw new Error(`no line of ${relPath} matches ${re}`);
    return i + 1;
  }

  /**
   * Sets a breakpoint on a line of the active editor (Go to Line, then "Debug: Toggle Breakpoint")
   * and waits until the Breakpoints view lists it. Throws when the editor refuses it, which is
   * what happens when no debugger declares breakpoints for the file's language.
   */
  async setBreakpoint(relPath: string, line: number): Promise<void> {
    await this.goToLine(line);
    const glyphs = this.page.locator(BREAKPOINT_GLYPH);
    const before = await glyphs.count();
    await this.runCommand('Debug: Toggle Breakpoint');
    await this.page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [BREAKPOINT_GLYPH, before] as const, { timeout: T.ui })
      .catch(() => { throw new Error(`no breakpoint glyph appeared on ${relPath}:${line} (are breakpoints allowed in this language?)`); });
  }

  /**
   * Starts debugging: a launch configuration by name ("Debug: Select and Start Debugging"),
   * or with no name the F5 default. Waits for the debug toolbar.
   */
  async startDebugging(configName?: string): Promise<void> {
    if (configName) {
      await this.runCommand('Debug: Select and Start Debugging');
      await this.pickQuickItem(configName);
    } else {
      await this.page.locator('.monaco-editor textarea').first().focus();
      await this.page.keyboard.press('F5');
    }
    await this.page.locator('.debug-toolbar').waitFor({ timeout: T.debug });
  }

  /**
   * Waits until the session is paused: the top-frame decoration is in the editor and the Call
   * Stack's selected frame is `file:line`. Returns the frame's "file line:col" text.
   */
  async waitForStopped(expect?: { file?: string; line?: number }): Promise<string> {
    await this.page.locator('.debug-top-stack-frame-line').first().waitFor({ timeout: T.debug });
    await this.showRunAndDebug();
    const frame = this.page.locator('.debug-call-stack .monaco-list-row .stack-frame').first();
    await frame.waitFor({ timeout: T.ui });
    if (expect?.file || expect?.line) {
      // The row's text runs together ("tdx_hypercallguest.S31:1"): no word boundaries to lean on.
      const re = new RegExp(`${expect.file ? escapeRe(expect.file) : ''}[^]*?${expect.line ? `(?<!\\d)${expect.line}:` : ''}`);
      await this.page.locator('.debug-call-stack .monaco-list-row .stack-frame').filter({ hasText: re }).first().waitFor({ timeout: T.ui })
        .catch(async () => { throw new Error(`stopped, but not at ${expect.file ?? ''}:${expect.line ?? ''}; the call stack shows ${JSON.stringify(await this.callStack())}`); });
    }
    return (await frame.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** The Call Stack view's rows (threads with their state text, then frames). */
  async callStack(): Promise<string[]> {
    return (await this.page.locator('.debug-call-stack .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** Text of the exception widget shown in the editor when a session stops on an exception. */
  async exceptionWidgetText(): Promise<string> {
    const w = this.page.locator('.exception-widget');
    await w.waitFor({ timeout: T.debug });
    return (await w.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** Shows the Run and Debug side bar. */
  async showRunAndDebug(): Promise<void> {
    if (await this.page.locator('.debug-viewlet').isVisible()) return;
    await this.runCommand('View: Show Run and Debug');
    await this.page.locator('.debug-viewlet').waitFor({ timeout: T.ui });
  }

  /** Expands a scope of the Variables view by name (e.g. "Registers") and returns its rows. */
  async variables(scope: string): Promise<VariableRow[]> {
    await this.showRunAndDebug();
    const view = this.page.locator('.debug-variables');
    // The list is virtualised: only rows in sight exist. Scroll to the top and fold every other
    // expanded scope so the one we want is on screen.
    const list = view.locator('.monaco-list').first();
    const scopeRow = view.locator('.monaco-list-row', { has: this.page.locator('.scope', { hasText: scope }) }).first();
    const foldOthers = async () => {
      if (!(await list.count())) return;
      await list.hover();
      await this.page.mouse.wheel(0, -100_000);
      for (let k = 0; k < 6; k++) {
        const open = view.locator('.monaco-list-row[aria-expanded="true"]', { has: this.page.locator('.scope') });
        const texts = await open.allInnerTexts();
        const other = texts.findIndex((t) => !t.includes(scope));
        if (other < 0) break;
        await open.nth(other).click();
        await this.page.waitForTimeout(100); // let the tree re-render before looking again
      }
    };
    // VS Code expands the first scope on its own once its variables arrive, which can push the
    // wanted scope out of the rendered rows after the fold: fold again until it stays in sight.
    for (let attempt = 0; attempt < 8; attempt++) {
      await foldOthers();
      await this.page.waitForTimeout(250);
      if ((await scopeRow.count()) > 0 && (await scopeRow.isVisible())) break;
    }
    await scopeRow.waitFor({ timeout: T.debug }).catch(async () => {
      throw new Error(`Variables has no scope "${scope}"; it shows ${JSON.stringify(await view.locator('.monaco-list-row').allInnerTexts())}`);
    });
    if ((await scopeRow.getAttribute('aria-expanded')) !== 'true') await scopeRow.click();
    await this.page.waitForFunction(
      (s) => [...document.querySelectorAll('.debug-variables .monaco-list-row')].some((r: any) => r.getAttribute('aria-expanded') === 'true' && r.textContent?.includes(s)),
      scope, { timeout: T.ui },
    );
    // Rows below the scope, up to the next scope, are its variables (the tree is flat in the DOM).
    await view.locator('.monaco-list-row .expression .name').first().waitFor({ timeout: T.debug });
    const all = await this.allListRows(view, (r) => ({
      scope: r.querySelector('.scope')?.textContent?.trim() ?? null,
      // VS Code renders the name as "rax =" (or "rax:"): keep the bare name.
      name: (r.querySelector('.expression .name')?.textContent ?? '').trim().replace(/\s*[=:]$/, ''),
      value: r.querySelector('.expression .value')?.textContent?.trim() ?? '',
      depth: Number(r.getAttribute('aria-level') ?? '0') - 1,
    }));
    const out: VariableRow[] = [];
    let inside = false;
    for (const r of all) {
      if (r.scope !== null) { inside = r.scope === scope; continue; }
      if (inside) out.push({ name: r.name, value: r.value, depth: r.depth });
    }
    return out;
  }

  /**
   * Every row of a virtualised list (only the rows in sight are in the DOM): reads the rows in
   * sight, scrolls down by a page with the mouse wheel, and repeats until nothing new appears;
   * then scrolls back to the top. Rows come back in list order.
   */
  async allListRows<R>(container: Locator, read: (row: any) => R): Promise<R[]> {
    const list = container.locator('.monaco-list').first();
    await list.hover();
    const seen = new Map<number, R>();
    // Start from the top: a list VS Code scrolled (to keep a focused row in sight) hides the first rows.
    for (let k = 0; k < 20; k++) {
      const top = await list.evaluate((el) => -parseFloat(el.querySelector('.monaco-list-rows')?.style.top || '0'));
      if (top <= 0) break;
      await this.page.mouse.wheel(0, -10_000);
      await this.page.waitForTimeout(50);
    }
    const grab = async () => {
      const batch: [number, R][] = await list.evaluate((el, fn) => {
        const f = new Function(`return (${fn})`)();
        return [...el.querySelectorAll('.monaco-list-row')].map((r: any) => [Number(r.getAttribute('data-index')), f(r)]);
      }, read.toString());
      let added = 0;
      for (const [i, r] of batch) if (!seen.has(i)) { seen.set(i, r); added++; }
      return added;
    };
    await grab();
    // The rows container is as high as the whole list and moves up (style.top) as it scrolls.
    const position = () => list.evaluate((el) => {
      const rows = el.querySelector('.monaco-list-rows');
      return { top: rows?.style.top ?? '', scrolled: -parseFloat(rows?.style.top || '0'), total: parseFloat(rows?.style.height || '0'), view: el.clientHeight as number };
    });
    for (let page = 0; page < 40; page++) {
      const at = await position();
      if (at.scrolled + at.view >= at.total - 1) break; // everything has been in sight
      // A value hover VS Code opened under the pointer takes the wheel: close it and point at the
      // list's left edge (indentation, no value under it), then wheel again.
      let moved = false;
      for (let attempt = 0; attempt < 3 && !moved; attempt++) {
        if (attempt) {
          await this.page.keyboard.press('Escape');
          await list.hover({ position: { x: 4, y: 4 } });
        }
        await this.page.mouse.wheel(0, Math.max(100, at.view - 40));
        moved = await this.page.waitForFunction(([el, t]) => (el as any).querySelector('.monaco-list-rows')?.style.top !== t,
          [await list.elementHandle(), at.top] as const, { timeout: T.ui }).then(() => true, () => false);
      }
      if (!moved) throw new Error(`the list did not scroll (at ${at.scrolled} of ${at.total} px)`);
      await grab();
    }
    await this.page.mouse.wheel(0, -1_000_000);
    return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  }

  /** Expands a variable of the Variables view by name (a struct overlay, a register's parts). */
  async expandVariable(name: string): Promise<void> {
    const nameRe = new RegExp(`^\\s*${escapeRe(name)}\\s*[=:]?\\s*$`); // rendered as "args ="
    const row = this.page.locator('.debug-variables .monaco-list-row', { has: this.page.locator('.expression .name', { hasText: nameRe }) }).first();
    await row.waitFor({ timeout: T.debug }).catch(() => { throw new Error(`Variables has no row named "${name}"`); });
    if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
    await this.page.locator('.debug-variables .monaco-list-row[aria-expanded="true"]', { has: this.page.locator('.expression .name', { hasText: nameRe }) })
      .first().waitFor({ timeout: T.ui });
  }

  /** Texts of the notification toasts currently shown. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
  }

  /** Waits for a notification toast whose text matches, and returns its text. */
  async waitForNotification(re: RegExp): Promise<string> {
    const item = this.page.locator('.notifications-toasts .notification-list-item-message').filter({ hasText: re }).first();
    await item.waitFor({ timeout: T.debug }).catch(async () => { throw new Error(`no notification matching ${re}; shown: ${JSON.stringify(await this.notifications())}`); });
    return item.innerText();
  }

  /** Opens the Disassembly view of the paused session and returns its rows' text. */
  async disassembly(): Promise<string[]> {
    await this.runCommand('Open Disassembly View');
    const rows = this.page.locator('.disassembly-view .monaco-list-row');
    // The view first shows a placeholder row ("Disassembly not available.") until the adapter's
    // disassemble answer arrives: wait for a row that carries an instruction address.
    await rows.filter({ hasText: /[0-9a-f]{8,}/i }).first().waitFor({ timeout: T.debug })
      .catch(async () => { throw new Error(`the Disassembly view shows no instructions: ${JSON.stringify(await rows.allInnerTexts())}`); });
    return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /**
   * Rows of a view of the side bar by its title (e.g. "TDX Calls" in Run and Debug): expands
   * the pane when collapsed and waits for at least one row.
   */
  async viewRows(title: string): Promise<string[]> {
    const pane = this.page.locator('.pane', { has: this.page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRe(title)}$`, 'i') }) }).first();
    await pane.waitFor({ timeout: T.ui }).catch(async () => {
      throw new Error(`no view titled "${title}" in the side bar; views: ${JSON.stringify(await this.page.locator('.pane-header h3.title').allInnerTexts())}`);
    });
    const header = pane.locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
    const rows = pane.locator('.pane-body .monaco-list-row');
    await rows.first().waitFor({ timeout: T.debug }).catch(() => { throw new Error(`view "${title}" shows no rows`); });
    return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /**
   * Waits until the Extensions view, filtered to enabled extensions ("@enabled"), lists an
   * extension by its display name. The list fills in asynchronously, hence the wait for the row.
   */
  async expectExtensionEnabled(displayName: string): Promise<void> {
    await this.runCommand('Extensions: Show Enabled Extensions');
    const names = this.page.locator('.extensions-viewlet .monaco-list-row .extension-list-item .name');
    await names.filter({ hasText: new RegExp(`^${escapeRe(displayName)}$`) }).first().waitFor({ timeout: T.workbench }).catch(async () => {
      throw new Error(`"${displayName}" is not among the enabled extensions: ${JSON.stringify(await names.allInnerTexts())}`);
    });
  }

  /** Stops the debug session (when one runs) and waits for the toolbar to go. */
  async stopDebugging(): Promise<void> {
    if (!(await this.page.locator('.debug-toolbar').isVisible())) return;
    await this.runCommand('Debug: Stop');
    await this.page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: T.debug });
  }

  /** Closes the browser and stops code-server (its whole process group). Never throws. */
  async close(): Promise<void> {
    await Promise.race([this.browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
    liveBrowsers.delete(this.browser);
    await stopServer(this.server);
  }

  private async openQuickInput(prefix: string): Promise<Locator> {
    const input = this.page.locator('.quick-input-widget input');
    // Retried: a keystroke sent while the workbench is still wiring its keybindings is lost,
    // and a quick input left open from an earlier step swallows the shortcut.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await input.isVisible()) await this.escape();
      await this.page.keyboard.press(prefix === '>' ? 'F1' : 'Control+P');
      try {
        await input.waitFor({ state: 'visible', timeout: 5_000 });
        return input;
      } catch { /* next attempt */ }
    }
    throw new Error(`the ${prefix === '>' ? 'command palette' : 'quick open'} did not open`);
  }

  private quickPickRow(label: string | RegExp): Locator {
    const re = typeof label === 'string' ? new RegExp(`^${escapeRe(label)}$`) : label;
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: this.page.locator('.label-name', { hasText: re }) }).first();
  }

  private async waitQuickInputClosedOrChanged(typed: string): Promise<void> {
    // A command either closes the palette or replaces it with its own question.
    await this.page.waitForFunction((t) => {
      const w = document.querySelector('.quick-input-widget');
      const i = document.querySelector('.quick-input-widget input');
      return !w || w.style.display === 'none' || !i || i.value !== t;
    }, typed, { timeout: T.ui });
  }
}

const liveServers = new Set<ChildProcess>();
const liveBrowsers = new Set<Browser>();
// Hard exits (a test runner timeout, an uncaught error) still stop what this harness started.
process.on('exit', () => {
  for (const s of liveServers) killGroup(s, 'SIGKILL');
});

function killGroup(p: ChildProcess, sig: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try { process.kill(-p.pid, sig); } catch { /* already gone */ }
}

async function stopServer(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.signalCode === null) {
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    killGroup(p, 'SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000));
    if ((await Promise.race([exited, timer])) === 'timeout') killGroup(p, 'SIGKILL');
  }
  killGroup(p, 'SIGKILL'); // children that outlived their parent
  liveServers.delete(p);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

async function waitForHealthz(url: string, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + T.serverUp;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode} before answering; log:\n${tail(logFile)}`);
    try {
      const r = await fetch(`${url}healthz`, { signal: AbortSignal.timeout(2_000) });
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250)); // poll interval, not a wait for state
  }
  throw new Error(`code-server did not answer ${url}healthz within ${T.serverUp / 1000} s; log:\n${tail(logFile)}`);
}

function tail(file: string, n = 30): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
