// Entry point of the debug adapter process: DAP over stdio by default, or `--server=PORT` to
// accept DAP connections on 127.0.0.1 only (one session per connection, each authenticated by
// the token printed at start) for debugging the adapter itself. Either way the session runs on
// a worker thread behind an AdapterBridge (bridge.ts), which answers while a launch builds.

import { AdapterBridge } from './bridge';
import { FrameReader } from './framing';
import { newToken, parseServerPort, serveDap, tokenFromEnv, TOKEN_ENV, WORKER_SCRIPT } from './server';

const USAGE = 'usage: debugAdapter.js [--server=PORT]   (DAP over stdio; --server: on 127.0.0.1:PORT, 0 picks a free port)';

function fail(message: string, code: number): never {
  process.stderr.write(`tdx debug adapter: ${message}\n`);
  process.exit(code);
}

function main(argv: string[]): void {
  let serverArg: string | undefined;
  for (const a of argv) {
    const m = /^--server(?:=(.*))?$/.exec(a);
    if (m) { serverArg = m[1] ?? ''; continue; }
    fail(`unknown argument ${JSON.stringify(a)}\n${USAGE}`, 2);
  }
  if (serverArg !== undefined) {
    const port = parseServerPort(serverArg);
    if (port === undefined) fail(`--server needs a port number 0..65535, not ${JSON.stringify(serverArg)}\n${USAGE}`, 2);
    const env = tokenFromEnv();
    if (env.error) fail(env.error, 2);
    const token = env.token ?? newToken();
    serveDap(port, token).then((srv) => {
      const a = srv.address();
      process.stderr.write(`tdx debug adapter: listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`);
      process.stderr.write(env.token
        ? `tdx debug adapter: sessions must present the token from ${TOKEN_ENV} (launch attribute "__serverToken")\n`
        : `tdx debug adapter: token ${token} — sessions must present it (launch attribute "__serverToken"; the extension reads ${TOKEN_ENV})\n`);
    }, (e: NodeJS.ErrnoException) => {
      fail(e.code === 'EADDRINUSE' ? `port ${port} is in use on 127.0.0.1: choose another --server=PORT (0 picks a free one)`
        : e.code === 'EACCES' ? `no permission to listen on port ${port}: choose a port above 1023 (0 picks a free one)`
          : `cannot listen on 127.0.0.1:${port}: ${e.message}`, 1);
    });
    return;
  }
  // Nothing may reach stdout but the protocol: console.log from a bug would corrupt the stream.
  console.log = (...a: unknown[]) => process.stderr.write(a.map(String).join(' ') + '\n');
  const bridge = new AdapterBridge({
    script: WORKER_SCRIPT,
    // Both threads write stdout with synchronous writes under one lock (sharedOut.ts); process.stdout is never used.
    fd: 1,
    // A moment for the last answers (and for a client that says disconnect twice).
    close: () => setTimeout(() => process.exit(0), 100),
    log: (line) => process.stderr.write(line + '\n'),
  });
  const reader = new FrameReader((m) => bridge.handle(m), (i) => bridge.badFrame(i));
  process.stdin.on('data', (d: Buffer) => reader.push(d));
  process.stdin.on('end', () => bridge.clientGone());
  process.stdin.on('error', () => bridge.clientGone());
  process.on('SIGTERM', () => bridge.clientGone());
}

main(process.argv.slice(2));
