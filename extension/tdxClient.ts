// Sends a custom request with the arguments and response body the adapter's protocol declares
// (debug-adapter/protocol.ts): the one typed path from the extension to `tdx/*` requests.

import type * as vscode from 'vscode';
import type { TdxArgs, TdxBody, TdxCommand } from '../debug-adapter/protocol';

/** `session.customRequest(command, args)`, typed by the protocol map. */
export async function tdxRequest<C extends TdxCommand>(session: vscode.DebugSession, command: C, args: TdxArgs<C>): Promise<TdxBody<C>> {
  return await session.customRequest(command, args) as TdxBody<C>;
}
