// Opening the user's files: type and size checked before reading (a FIFO must not block, a
// 1.5 GB file must not be read whole), and the per-user, 0700, pruned object cache.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, mkdtempSync, mkdirSync, writeFileSync, statSync, utimesSync, existsSync, openSync, closeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from '../../emulator/session/session';
import { notRegularFile, readRegularFile } from '../../emulator/loader/files';
import { objectCacheRoot, pruneObjectCache, OBJECT_CACHE_MAX_AGE_MS } from '../../emulator/loader/toolchain';

const dir = mkdtempSync(join(tmpdir(), 'tdx-files-'));

async function launchError(program: string, extra: Record<string, unknown> = {}): Promise<string> {
  const t0 = Date.now();
  try { await Session.create({ program, ...extra }, { cwd: dir }); } catch (e) {
    assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
    return (e as Error).message;
  }
  throw new Error('the launch succeeded');
}

test('a FIFO, a directory or a device as program is named as such, at once', async () => {
  const fifo = join(dir, 'pipe.S');
  execFileSync('mkfifo', [fifo]);
  assert.match(await launchError(fifo), /a FIFO \(named pipe\), not a regular file/);
  const fifoO = join(dir, 'pipe.o');
  execFileSync('mkfifo', [fifoO]);
  assert.match(await launchError(fifoO), /a FIFO \(named pipe\), not a regular file/);
  const d = join(dir, 'folder.S');
  mkdirSync(d);
  assert.match(await launchError(d), /a directory, not a regular file/);
  assert.match(await launchError('/dev/zero'), /a device, not a regular file/);
  assert.match(await launchError(join(dir, 'missing.S')), /does not exist/);
});

test('a huge file is refused by its size before it is read; an object is checked for its magic first', async () => {
  const big = join(dir, 'huge.o');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, 1.5 * 1024 * 1024 * 1024); // sparse: no disk used
  closeSync(fd);
  const t0 = Date.now();
  assert.match(await launchError(big), /over the limit of 268,435,456/);
  assert.ok(Date.now() - t0 < 2000);
  const notElf = join(dir, 'text.o');
  writeFileSync(notElf, 'hello, not an object\n');
  assert.throws(() => readRegularFile(notElf, 1 << 20, { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an ELF object' }), /is not an ELF object/);
  assert.match(notRegularFile(big, 1 << 20)!, /over the limit/);
  const bigS = join(dir, 'huge.S');
  const fd2 = openSync(bigS, 'w');
  ftruncateSync(fd2, 64 * 1024 * 1024);
  closeSync(fd2);
  assert.match(await launchError(bigS), /over the limit of 16,777,216/);
});

test('the object cache is per user, 0700, and pruned of old entries', () => {
  const root = objectCacheRoot();
  assert.match(root, new RegExp(`tdxdbg-objects-${process.getuid!()}$`));
  assert.equal(statSync(root).mode & 0o777, 0o700);
  const old = join(root, 'old-entry-for-test');
  mkdirSync(old, { recursive: true });
  const past = new Date(Date.now() - OBJECT_CACHE_MAX_AGE_MS - 60_000);
  utimesSync(old, past, past);
  const fresh = join(root, 'fresh-entry-for-test');
  mkdirSync(fresh, { recursive: true });
  assert.ok(pruneObjectCache(root) >= 1);
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(fresh), true);
  rmSync(fresh, { recursive: true, force: true });
});

test('an #include of a directory or a FIFO is named as such, not as a missing file', async () => {
  const inc = join(dir, 'inc');
  mkdirSync(join(inc, 'sub.h'), { recursive: true });
  execFileSync('mkfifo', [join(inc, 'pipe.h')]);
  const prog = join(inc, 'main.S');
  writeFileSync(prog, '#include "sub.h"\n#include "pipe.h"\nret\n');
  const msg = await launchError(prog);
  assert.match(msg, /sub\.h cannot be included: it names a directory/);
  assert.match(msg, /pipe\.h cannot be included: it names a FIFO \(named pipe\)/);
});
