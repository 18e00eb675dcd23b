// Opening the user's files with checks first: the type (a regular file: a FIFO would block the
// process, a directory or a device is a mistake) and the size (a cap before anything is read),
// so a bad path gets a clear message naming it instead of a hang, an out-of-memory or a
// misleading "no such file".

import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Largest object file read (a kernel object is a few MiB; vmlinux.o is ~1 GiB and not a debuggee). */
export const MAX_OBJECT_BYTES = 256 * 1024 * 1024;
/** Largest source file read (assembly, C, headers). */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

// The recurring refusals, worded once: each completes a sentence that names its subject
// (`"program" names a file that does not exist: …`, `headers[0] names …`).

/** `path` is not there; `what`: a file, a folder, a path. */
export function fileNotFound(path: string, what = 'a file'): string {
  return `names ${what} that does not exist: ${path}`;
}

/** `path` is something other than a regular file (`kind`: a directory, a FIFO (named pipe), …). */
export function notARegularFile(path: string, kind: string): string {
  return `names ${kind}, not a regular file: ${path}`;
}

/** `path` is over the size cap, as found before reading it. */
export function tooLarge(path: string, size: number, limit: number): string {
  return `names a file of ${size.toLocaleString('en-US')} bytes, over the limit of ${limit.toLocaleString('en-US')}: ${path}`;
}

/** Why `path` is not a readable regular file (undefined: it is one). */
export function notRegularFile(path: string, maxBytes?: number): string | undefined {
  let fd: number | undefined;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    const kind = kindProblem(st, path);
    if (kind) return kind;
    if (maxBytes !== undefined && st.size > maxBytes) return tooLarge(path, st.size, maxBytes);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fileNotFound(path);
    if (code === 'EISDIR') return `names a directory, not a file: ${path}`;
    if (code === 'EACCES') return `names a file that cannot be read (permission denied): ${path}`;
    return `cannot be opened: ${(e as Error).message}`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function kindProblem(st: Stats, path: string): string | undefined {
  if (st.isFile()) return undefined;
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file';
  return notARegularFile(path, kind);
}

/** A file read whole after the type and size checks; throws an Error with the reason. */
export function readRegularFile(path: string, maxBytes: number, magic?: { bytes: readonly number[]; what: string }): Buffer {
  let fd: number | undefined;
  try {
    try { fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); } catch (e) {
      const why = notRegularFile(path);
      throw new Error(why ?? (e as Error).message);
    }
    const st = fstatSync(fd);
    const kind = kindProblem(st, path);
    if (kind) throw new Error(kind);
    if (st.size > maxBytes) throw new Error(`is ${st.size.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')}: ${path}`);
    if (magic) {
      const head = Buffer.alloc(magic.bytes.length);
      const n = readSync(fd, head, 0, head.length, 0);
      if (n < head.length || !magic.bytes.every((b, i) => head[i] === b)) throw new Error(`is not ${magic.what} (its first bytes are not the magic number): ${path}`);
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === st.size ? buf : buf.subarray(0, off);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
