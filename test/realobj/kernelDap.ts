// The debug-adapter half of the real-kernel tests: launch a kernel-tree configuration, set a
// breakpoint on a C line of the kernel source, check the stop is on that line, then continue
// to the end (past the line's other ranges) and check the entry function's return value.

import assert from 'node:assert/strict';

export interface KernelDapCase {
  /** The source file of the breakpoint and a text on its line. */
  file: string;
  needle: string;
  /** The launch configuration (without type/request). */
  config: Record<string, unknown> & { entry: string };
  /** Debug-console text expected after the stop (undefined data notes, …). */
  console?: RegExp;
  /** Debug-console text expected once the function has returned. */
  after?: RegExp;
  /** The entry function's expected return (hex, as the adapter prints it). */
  returns?: string;
}

export async function runKernelDapCase(c: KernelDapCase): Promise<void> {
  const { Dap, lineOf } = await import('../dap/harness');
  const line = lineOf(c.file, c.needle);
  const d = await Dap.start();
  try {
    await d.launch({ type: 'tdx', request: 'launch', ...c.config }, async (x) => {
      const bps = (await x.dc.setBreakpointsRequest({ source: { path: c.file }, breakpoints: [{ line }] })).body.breakpoints;
      assert.equal(bps[0].verified, true, `the breakpoint on ${c.file}:${line} binds`);
    });
    const s = await d.stopped();
    assert.equal(s.body.reason, 'breakpoint', d.output().slice(-600));
    const top = await d.top();
    assert.equal(top.source?.path, c.file);
    assert.equal(top.line, line);
    if (c.console) assert.match(d.output(), c.console);
    // gcc may give the line more than one range (argument set-up, the call): continue past each.
    let e: { event: string; body?: { reason?: string } };
    let hits = 1;
    await d.next(['stopped', 'exited']); // this cursor's first event: the stop above
    for (;;) {
      await d.dc.continueRequest({ threadId: 1 });
      e = await d.next(['stopped', 'exited'], 60_000);
      if (e.event === 'exited' || e.body?.reason !== 'breakpoint' || ++hits > 4) break;
    }
    assert.equal(e.event, 'exited', `after the breakpoint the function returns (${JSON.stringify(e.body)}; ${d.output().slice(-600)})`);
    assert.match(d.output(), new RegExp(`${c.config.entry} returned ${c.returns ?? '0x0'}\\b`));
    if (c.after) assert.match(d.output(), c.after);
  } finally {
    await d.close();
  }
}
