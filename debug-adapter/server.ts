// Serving DAP on a socket (`--server=PORT`, or the extension host's own server): loopback only,
// one session per connection, and a per-server token every session's launch must present (as
// the launch attribute `__serverToken`), so another local process that finds the port cannot
// launch anything (a toolchain is a program of the machine). Each session runs on a worker
// thread behind an AdapterBridge (bridge.ts), so a long build never holds the server or the
// session's own requests; a session whose client goes away ends with it (its worker is ended).

import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { AdapterBridge } from './bridge';
import { FrameReader, frame } from './framing';

/** The environment variable that fixes the server's token (else a random one is made). */
export const TOKEN_ENV = 'TDX_DEBUG_SERVER_TOKEN';
/** Shortest token accepted from the environment. */
export const MIN_TOKEN_LENGTH = 16;

/** A new random token (128 bits, hex). */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** The token from the environment, or why it cannot be used. */
export function tokenFromEnv(env: NodeJS.ProcessEnv = process.env): { token?: string; error?: string } {
  const v = env[TOKEN_ENV];
  if (v === undefined || v === '') return {};
  if (v.length < MIN_TOKEN_LENGTH || /\s/.test(v)) return { error: `${TOKEN_ENV} must be at least ${MIN_TOKEN_LENGTH} characters without spaces` };
  return { token: v };
}

/** The session's worker script: beside the bundle that serves (dist/). */
export const WORKER_SCRIPT = join(__dirname, 'debugAdapterWorker.js');

/** Serves one adapter session per connection on 127.0.0.1:`port` (0: a free port). */
export function serveDap(port: number, token: string, script = WORKER_SCRIPT): Promise<Server> {
  const server = createServer((socket: Socket) => {
    const bridge = new AdapterBridge({
      script, token,
      send: (m) => { if (socket.writable) socket.write(frame(m)); },
      // After disconnect the client closes the connection (requests until then are answered).
      close: () => { /* the worker has ended */ },
      hangUp: () => socket.end(() => socket.destroy()),
      log: (line) => process.stderr.write(line + '\n'),
    });
    const reader = new FrameReader((m) => bridge.handle(m), (i) => bridge.badFrame(i));
    socket.on('data', (d: Buffer) => reader.push(d));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => bridge.clientGone());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(server); });
  });
}

/** `--server=PORT`: a decimal port 0..65535; anything else is a usage error. */
export function parseServerPort(value: string): number | undefined {
  if (!/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 65535 ? n : undefined;
}
