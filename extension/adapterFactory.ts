// Where the debug adapter runs: inline in the extension host (default: no process to start, the
// fastest launch), as the packaged stdio executable `dist/debugAdapter.js`, or over a socket —
// an adapter you started with `--server=PORT` (to debug the adapter itself: the "Extension +
// Server" launch configuration sets TDX_DEBUG_SERVER), or one served inside the extension host.

import * as vscode from 'vscode';
import { createServer, type Server } from 'node:net';
import { Setting } from './ids';

type Mode = 'inline' | 'executable' | 'server';

export class TdxAdapterFactory implements vscode.DebugAdapterDescriptorFactory, vscode.Disposable {
  private server?: Server;

  constructor(private readonly context: vscode.ExtensionContext) {}

  async createDebugAdapterDescriptor(): Promise<vscode.DebugAdapterDescriptor> {
    const cfg = vscode.workspace.getConfiguration('tdx');
    const envPort = Number(process.env.TDX_DEBUG_SERVER ?? '');
    const mode: Mode = envPort > 0 ? 'server' : cfg.get<Mode>(Setting.AdapterMode, 'inline');
    switch (mode) {
      case 'executable':
        // The extension host's own runtime runs the bundle (Electron as Node, or Node in code-server).
        return new vscode.DebugAdapterExecutable(process.execPath, [this.context.asAbsolutePath('dist/debugAdapter.js')], {
          env: { ELECTRON_RUN_AS_NODE: '1' },
        });
      case 'server': {
        const port = envPort > 0 ? envPort : cfg.get<number>(Setting.AdapterPort, 0);
        if (port > 0) return new vscode.DebugAdapterServer(port, '127.0.0.1');
        return new vscode.DebugAdapterServer(await this.ownServerPort(), '127.0.0.1');
      }
      default: {
        const { TdxDebugSession } = await import('../debug-adapter/session');
        // The adapter library's DebugSession has the shape of vscode.DebugAdapter (handleMessage,
        // onDidSendMessage, dispose); its Event type is declared separately.
        return new vscode.DebugAdapterInlineImplementation(new TdxDebugSession() as unknown as vscode.DebugAdapter);
      }
    }
  }

  /** A loopback server in the extension host, one adapter session per connection. */
  private async ownServerPort(): Promise<number> {
    if (!this.server) {
      const { TdxDebugSession } = await import('../debug-adapter/session');
      const server = createServer((socket) => {
        const s = new TdxDebugSession(false, true);
        s.setRunAsServer(true);
        s.start(socket, socket);
        socket.on('error', () => socket.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      this.server = server;
    }
    const a = this.server.address();
    if (!a || typeof a !== 'object') throw new Error('TDX: the in-process debug adapter server has no port');
    return a.port;
  }

  dispose(): void {
    this.server?.close();
    this.server = undefined;
  }
}
