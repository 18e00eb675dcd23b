// The debug adapter on a worker thread (the extension's default "inline" mode): the session
// runs beside the extension host, not on its thread, so a long build, load or run never stalls
// the editor; DAP messages cross as structured clones of the protocol's JSON. The extension
// side is WorkerAdapter (extension/adapterFactory.ts).

import { parentPort } from 'node:worker_threads';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TdxDebugSession } from './session';

const port = parentPort;
if (port) {
  const session = new TdxDebugSession();
  session.onDidSendMessage((m) => port.postMessage(m));
  port.on('message', (m: DebugProtocol.ProtocolMessage) => session.handleMessage(m));
}
