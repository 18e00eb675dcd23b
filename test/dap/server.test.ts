// `--server`: loopback only, a per-server token every launch must present, trust only when the
// client says exactly `true`, a session ends with its client, bad ports are usage errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADAPTER, GUEST, ROOT } from './harness';
import { RawDap, cpuSeconds, rssMb } from '../support/rawDap';

async function startServer(env: NodeJS.ProcessEnv = process.env): Promise<{ port: number; token: string; pid: number; stop(): void; err(): string }> {
  const p = spawn(process.execPath, [ADAPTER, '--server=0'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const end = Date.now() + 10_000;
  while (!/token ([0-9a-f]{32})|from TDX_DEBUG_SERVER_TOKEN/.test(err)) {
    if (Date.now() > end || p.exitCode !== null) throw new Error(`server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(err)![1]);
  const token = /token ([0-9a-f]{32})/.exec(err)?.[1] ?? env.TDX_DEBUG_SERVER_TOKEN!;
  return { port, token, pid: p.pid!, stop: () => p.kill(), err: () => err };
}

const INIT = { adapterID: 'tdx', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' };

test('--server: a launch without the printed token is refused and the connection closed; with it, the session runs', async () => {
  const srv = await startServer();
  try {
    assert.match(srv.err(), /listening on 127\.0\.0\.1:\d+/);
    const bad = await RawDap.connect(srv.port);
    assert.equal((await bad.request('initialize', INIT)).success, true, 'initialize is served before authentication');
    const early = await bad.request('threads', {});
    assert.equal(early.success, false);
    assert.match(early.message!, /token/);
    const r = await bad.request('launch', { ...GUEST, stopOnEntry: true });
    assert.equal(r.success, false);
    assert.match(r.message!, /"__serverToken"/);
    assert.ok(await bad.waitClosed(), 'the server hangs up on a launch without the token');

    const wrong = await RawDap.connect(srv.port);
    await wrong.request('initialize', INIT);
    const w = await wrong.request('launch', { ...GUEST, __serverToken: 'f'.repeat(32) });
    assert.equal(w.success, false);
    assert.match(w.message!, /token given is wrong/);
    assert.ok(await wrong.waitClosed());

    const good = await RawDap.connect(srv.port);
    await good.request('initialize', INIT);
    const ok = await good.request('launch', { ...GUEST, stopOnEntry: true, __serverToken: srv.token });
    assert.equal(ok.success, true, ok.message);
    await good.event('initialized');
    await good.request('configurationDone', {});
    const st = await good.event('stopped');
    assert.equal(st.body.reason, 'entry');
    assert.equal((await good.request('threads', {})).success, true);
    await good.request('disconnect', {});
    good.end();
  } finally { srv.stop(); }
});

test('trust: a toolchain runs only when the client says exactly true (missing, "true", "false", 1 are untrusted)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tdx-trust-'));
  const marker = join(dir, 'ran');
  // A "compiler" that leaves a mark: if it ever runs, trust failed open.
  const fake = join(dir, 'cc.sh');
  writeFileSync(fake, `#!/bin/sh\ntouch ${marker}\nexit 1\n`, { mode: 0o755 });
  for (const trusted of [undefined, 'true', 'false', 1, null, {}]) {
    const d = RawDap.spawn(ADAPTER);
    try {
      await d.request('initialize', INIT);
      const cfg: Record<string, unknown> = { ...GUEST, program: join(ROOT, 'test/fixtures/c/hypercall.c'), toolchain: { compiler: fake } };
      if (trusted !== undefined) cfg.__workspaceTrusted = trusted;
      const r = await d.request('launch', cfg, 15_000);
      assert.equal(r.success, false, `__workspaceTrusted=${JSON.stringify(trusted)}`);
      assert.match(r.message!, /untrusted/);
      assert.equal(existsSync(marker), false, `the compiler ran with __workspaceTrusted=${JSON.stringify(trusted)}`);
    } finally { d.end(); }
  }
});

test('--server: a session whose client disappears stops running and frees its memory', async () => {
  const srv = await startServer();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'tdx-spin-'));
    const prog = join(dir, 'spin.S');
    writeFileSync(prog, '.text\n.globl spin\nspin:\n\tjmp spin\n');
    for (let i = 0; i < 3; i++) {
      const c = await RawDap.connect(srv.port);
      await c.request('initialize', INIT);
      const r = await c.request('launch', { type: 'tdx', request: 'launch', program: prog, entry: 'spin', context: 'none', maxInstructions: 2 ** 52, __serverToken: srv.token });
      assert.equal(r.success, true, r.message);
      await c.request('configurationDone', {});
      const t0 = cpuSeconds(srv.pid);
      await new Promise((res) => setTimeout(res, 500));
      assert.ok(cpuSeconds(srv.pid) - t0 > 0.1, 'the guest loop runs while its client is there');
      c.end(); // vanish mid-run, no disconnect request
    }
    await new Promise((res) => setTimeout(res, 300));
    const before = cpuSeconds(srv.pid);
    await new Promise((res) => setTimeout(res, 2000));
    const used = cpuSeconds(srv.pid) - before;
    assert.ok(used < 0.5, `the server used ${used.toFixed(2)} CPU-s in 2 s after its clients left`);
    assert.ok(rssMb(srv.pid) < 400, `server RSS ${rssMb(srv.pid).toFixed(0)} MiB`);
  } finally { srv.stop(); }
});

test('--server: bad ports and a port in use are usage errors, not stack traces or stdio', async () => {
  for (const arg of ['--server=65536', '--server=-1', '--server=', '--server=0x10', '--bogus']) {
    const r = spawnSync(process.execPath, [ADAPTER, arg], { encoding: 'utf8', input: '', timeout: 10_000 });
    assert.equal(r.status, 2, `${arg}: ${r.stderr}`);
    assert.match(r.stderr, /usage: debugAdapter\.js/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  const busy = createServer();
  await new Promise<void>((res) => busy.listen(0, '127.0.0.1', () => res()));
  const port = (busy.address() as { port: number }).port;
  try {
    const r = spawnSync(process.execPath, [ADAPTER, `--server=${port}`], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`port ${port} is in use`));
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  } finally { busy.close(); }
  const e = spawnSync(process.execPath, [ADAPTER, '--server=0'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, TDX_DEBUG_SERVER_TOKEN: 'short' } });
  assert.equal(e.status, 2);
  assert.match(e.stderr, /TDX_DEBUG_SERVER_TOKEN must be at least 16/);
});
