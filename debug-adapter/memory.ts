// readMemory / writeMemory over the emulated address space (VS Code's hex editor). Reads stop
// at the first unmapped byte and report the rest as unreadable; writes ignore page
// permissions, as a debugger's do, and tell the client what changed.

import type { DebugProtocol } from '@vscode/debugprotocol';
import { needs, notAnAddress, ErrorCode, silentError, userError } from './errors';
import { hex, parseAddress, toBase64 } from './format';
import type { Target } from './target';

const MAX_READ = 1 << 20;

export function readMemory(t: Target, args: DebugProtocol.ReadMemoryArguments): DebugProtocol.ReadMemoryResponse['body'] {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw notAnAddress(args.memoryReference);
  if (!Number.isInteger(args.count) || args.count < 0 || args.count > MAX_READ) throw silentError(ErrorCode.BadArguments, `count must be an integer from 0 to ${MAX_READ}`);
  const a = BigInt.asUintN(64, base + BigInt(Number.isInteger(args.offset) ? args.offset! : 0));
  const readable = t.session.mappedLength(a, args.count);
  const data = readable ? t.machine.readBytes(a, readable) : new Uint8Array(0);
  return { address: hex(a), data: toBase64(data), unreadableBytes: args.count - readable };
}

/** Writes and returns the range written (for the `memory` event). */
export function writeMemory(t: Target, args: DebugProtocol.WriteMemoryArguments): { body: DebugProtocol.WriteMemoryResponse['body']; address: bigint; length: number } {
  const base = parseAddress(args.memoryReference);
  if (base === undefined) throw notAnAddress(args.memoryReference);
  if (typeof args.data !== 'string') throw needs('writeMemory', 'base64 "data"');
  const bytes = new Uint8Array(Buffer.from(args.data, 'base64'));
  const a = BigInt.asUintN(64, base + BigInt(Number.isInteger(args.offset) ? args.offset! : 0));
  const mapped = t.session.mappedLength(a, bytes.length);
  if (mapped < bytes.length && !args.allowPartial) throw userError(ErrorCode.BadMemory, `cannot write ${bytes.length} bytes at ${hex(a)}: ${hex(a + BigInt(mapped))} is not mapped`);
  if (mapped) t.machine.writeBytes(a, bytes.subarray(0, mapped));
  return { body: { offset: 0, bytesWritten: mapped }, address: a, length: mapped };
}
