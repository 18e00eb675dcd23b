// Entry point of the debug adapter process: DAP over stdio by default, or `--server=PORT` to
// accept DAP connections on 127.0.0.1 only (one session per connection) for debugging the
// adapter itself. The extension host can also run TdxDebugSession inline.

import { createServer } from 'node:net';
import { TdxDebugSession } from './session';

function main(argv: string[]): void {
  const server = argv.map((a) => /^--server=(\d{1,5})$/.exec(a)).find(Boolean);
  if (server) {
    const port = Number(server[1]);
    const srv = createServer((socket) => {
      const s = new TdxDebugSession(false, true);
      s.setRunAsServer(true);
      s.start(socket, socket);
      socket.on('error', () => socket.destroy());
    });
    srv.listen(port, '127.0.0.1', () => {
      const a = srv.address();
      process.stderr.write(`tdx debug adapter: listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`);
    });
    return;
  }
  const s = new TdxDebugSession(false);
  process.on('SIGTERM', () => s.shutdown());
  // Nothing may reach stdout but the protocol: console.log from a bug would corrupt the stream.
  console.log = (...a: unknown[]) => process.stderr.write(a.map(String).join(' ') + '\n');
  s.start(process.stdin, process.stdout);
}

main(process.argv.slice(2));
