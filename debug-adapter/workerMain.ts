// The debug adapter's session on a worker thread. Every mode runs it here (the stdio process
// and each `--server` connection through AdapterBridge, bridge.ts; the extension's inline mode
// through its WorkerAdapter): the front thread stays free to answer while a launch builds, and
// ending the worker ends whatever the session was doing. DAP messages cross as structured
// clones of the protocol's JSON; on stdio the session writes most of its own to the stream.

import { parentPort, workerData } from 'node:worker_threads';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TdxDebugSession } from './session';
import { HANG_UP, type WorkerOptions } from './bridge';
import { SharedOut, WORKER } from './sharedOut';

const port = parentPort;
if (port) {
  const opts = (workerData ?? {}) as WorkerOptions;
  // Nothing may reach stdout but the protocol (a worker's stdout is the process's).
  console.log = (...a: unknown[]) => process.stderr.write(a.map(String).join(' ') + '\n');
  const session = new TdxDebugSession();
  if (typeof opts.token === 'string') session.requireToken(opts.token, () => port.postMessage({ type: HANG_UP }));
  const out = opts.out ? new SharedOut(opts.out.fd, opts.out.shared, WORKER) : undefined;
  session.onDidSendMessage((m) => {
    // Stdio: straight to the client, unless the front thread must see it (sharedOut.ts).
    const msg = m as DebugProtocol.ProtocolMessage & { command?: string };
    if (out && !out.viaFront(msg)) out.write(msg);
    else port.postMessage(m);
  });
  port.on('message', (m: DebugProtocol.ProtocolMessage) => session.handleMessage(m));
}
