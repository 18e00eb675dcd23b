// Where the debug adapter runs: inline in the extension host's process (default: no process to
// start, the fastest launch) but on a worker thread of its own (dist/debugAdapterWorker.js), so
// builds, loads and runs never stall the editor; as the packaged stdio executable `dist/debugAdapter.js`, or over a socket —
// an adapter you started with `--server=PORT` (to debug the adapter itself: the "Extension +
// Server" launch configuration sets TDX_DEBUG_SERVER), or one served inside the extension host.

import * as vscode from 'vscode';
import { connect, type Server } from 'node:net';
import { Setting } from './ids';
import { AdapterBridge } from '../debug-adapter/bridge';
import { FrameReader, frame } from '../debug-adapter/framing';
import { TOKEN_ENV, newToken, serveDap, tokenFromEnv } from '../debug-adapter/server';

type Mode = 'inline' | 'executable' | 'server';

export class TdxAdapterFactory implements vscode.DebugAdapterDescriptorFactory, vscode.Disposable {
  private server?: Server;
  private serverToken?: string;
  /** Tokens of adapter servers the user typed in, by port. */
  private readonly tokens = new Map<number, string>();

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
        // A socket server wants its token in the launch request: a small relay in the extension
        // host adds it, so the token never has to be written into a launch configuration.
        const port = envPort > 0 ? envPort : cfg.get<number>(Setting.AdapterPort, 0);
        if (port > 0) return new vscode.DebugAdapterInlineImplementation(new SocketRelay(port, await this.tokenFor(port)));
        const own = await this.ownServerPort();
        return new vscode.DebugAdapterInlineImplementation(new SocketRelay(own, this.serverToken!));
      }
      default:
        return new vscode.DebugAdapterInlineImplementation(new WorkerAdapter(this.context.asAbsolutePath('dist/debugAdapterWorker.js')));
    }
  }

  /** The token of an adapter started with --server=PORT: from the environment, else asked once. */
  private async tokenFor(port: number): Promise<string> {
    const env = tokenFromEnv();
    if (env.error) throw new Error(`TDX: ${env.error}`);
    if (env.token) return env.token;
    const known = this.tokens.get(port);
    if (known) return known;
    const typed = await vscode.window.showInputBox({
      title: `TDX debug adapter on port ${port}`,
      prompt: `The token the adapter printed at start ("tdx debug adapter: token …"), or set ${TOKEN_ENV}`,
      password: true, ignoreFocusOut: true,
    });
    if (!typed) throw new Error(`TDX: the debug adapter on port ${port} needs the token it printed at start (or set ${TOKEN_ENV})`);
    this.tokens.set(port, typed.trim());
    return typed.trim();
  }

  /** A loopback server in the extension host, one adapter session per connection. */
  private async ownServerPort(): Promise<number> {
    if (!this.server) {
      this.serverToken = newToken();
      this.server = await serveDap(0, this.serverToken);
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

/**
 * The extension's side of a socket session: relays DAP messages both ways and adds the server's
 * token to the launch request. A closed or refused connection ends the debug session with a
 * message instead of leaving it waiting.
 */
class SocketRelay implements vscode.DebugAdapter {
  private readonly emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.emitter.event;
  private readonly socket;
  private ended = false;

  constructor(port: number, private readonly token: string) {
    const reader = new FrameReader((m) => this.emitter.fire(m as vscode.DebugProtocolMessage), () => { /* the adapter's frames are well formed */ });
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => reader.push(d));
    this.socket.on('error', (e) => this.end(`TDX: cannot talk to the debug adapter on 127.0.0.1:${port}: ${e.message}`));
    this.socket.on('close', () => this.end());
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const m = message as { type?: string; command?: string; arguments?: Record<string, unknown> };
    const out = m.type === 'request' && m.command === 'launch' ? { ...m, arguments: { ...(m.arguments ?? {}), __serverToken: this.token } } : m;
    if (!this.ended) this.socket.write(frame(out));
  }

  private end(why?: string): void {
    if (this.ended) return;
    this.ended = true;
    if (why) this.emitter.fire({ type: 'event', seq: 0, event: 'output', body: { category: 'stderr', output: why + '\n' } } as vscode.DebugProtocolMessage);
    this.emitter.fire({ type: 'event', seq: 0, event: 'terminated', body: {} } as vscode.DebugProtocolMessage);
  }

  dispose(): void {
    this.ended = true;
    this.socket.destroy();
    this.emitter.dispose();
  }
}

/** The adapter's heap cap on its worker thread: a runaway session ends itself, not the editor. */
const ADAPTER_HEAP_MB = 4096;

/**
 * A debug adapter on a worker thread: VS Code's messages go to the worker through an
 * AdapterBridge (which answers while a launch builds, and ends the worker on disconnect or
 * terminate), the session's come back. If the thread dies (out of memory, a crash), the session
 * ends with the reason in the Debug Console instead of leaving VS Code waiting.
 */
export class WorkerAdapter implements vscode.DebugAdapter {
  private readonly emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.emitter.event;
  private readonly bridge: AdapterBridge;

  constructor(script: string) {
    this.bridge = new AdapterBridge({
      script, heapMb: ADAPTER_HEAP_MB,
      send: (m) => this.emitter.fire(m as vscode.DebugProtocolMessage),
      close: () => { /* VS Code disposes the adapter after the disconnect response */ },
    });
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    this.bridge.handle(message as Record<string, unknown>);
  }

  dispose(): void {
    this.bridge.clientGone();
    this.emitter.dispose();
  }
}
