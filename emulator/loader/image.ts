// The Image: what every way into the debugger (built-in assembler, the user's toolchain, an
// ELF object) produces, and all the rest of the product consumes (architecture §3).
// Addresses are bigint here: an Image is built once, so exactness beats speed.

/** One loadable section placed at its address. */
export interface ImageSection {
  name: string;
  address: bigint;
  bytes: Uint8Array;
  /** For NOBITS sections (.bss) `bytes` is all zero and only its length matters. */
  alloc: boolean;
  write: boolean;
  exec: boolean;
  /** Per-CPU data: `address` is the offset in the per-CPU area; every CPU gets a copy at its GS base. */
  perCpu?: boolean;
}

export interface ImageSymbol {
  name: string;
  address: bigint;
  /** Section the symbol is defined in; undefined for absolute symbols (`.set`, asm-offsets). */
  section?: string;
  size?: number;
  type: 'func' | 'object' | 'notype' | 'section' | 'file';
  binding: 'global' | 'local' | 'weak';
}

/** One frame of where a byte came from: the innermost frame is first in `LineEntry.stack`. */
export interface SourcePosition {
  file: string;
  line: number;
}

/** Maps the bytes [address, address + length) to the source lines that produced them. */
export interface LineEntry {
  address: bigint;
  length: number;
  /** The line of the instruction as written in the file the user opened (the macro invocation for macro code). */
  file: string;
  line: number;
  /** For code produced by macro expansion: the lines inside macro bodies, innermost first. */
  expansion?: SourcePosition[];
}

/** A kernel exception-table entry after relocation (Linux arch/x86/include/asm/extable.h). */
export interface ExTableEntry {
  /** Address of the instruction that may fault. */
  insn: bigint;
  /** Where execution resumes. */
  fixup: bigint;
  /** The kernel's EX_TYPE_* value with its flag bits (clear AX/DX etc.) as encoded. */
  type: number;
}

/** One member of a laid-out C struct or union. */
export interface FieldLayout {
  name: string;
  /** Byte offset from the start of the outermost struct. */
  offset: number;
  size: number;
  /** C type as written, e.g. `u64`, `unsigned long`, `u8[16]`, `struct foo *`. */
  type: string;
  /** Bit-fields: bit offset within the storage unit at `offset`, and width. */
  bitOffset?: number;
  bitWidth?: number;
  /** Nested struct/union members, offsets absolute. */
  fields?: FieldLayout[];
  /** asm-offsets symbol naming this field, when one exists (e.g. `TDX_MODULE_r12`). */
  asmOffsetsName?: string;
}

export interface StructLayout {
  name: string;
  kind: 'struct' | 'union';
  size: number;
  align: number;
  fields: FieldLayout[];
}

export interface Image {
  sections: ImageSection[];
  symbols: ImageSymbol[];
  lines: LineEntry[];
  exTable: ExTableEntry[];
  /** Named constants: `#define`s with integer values, `.set`/`.equ` symbols, asm-offsets. */
  constants: Map<string, bigint>;
  structs: Map<string, StructLayout>;
  /** Source texts by path, for every file that contributed lines. */
  sources: Map<string, string>;
  /** Functions referenced but not defined (resolved to stubs by the platform). */
  undefinedSymbols: string[];
  /** Data referenced but not defined: each has zero-filled storage of its own (the `data` attribute sets values). */
  undefinedData?: UndefinedDataSymbol[];
  /** Undefined symbols that an object of the kernel build tree defines but the link left out (the run was not seen to reach them): name → object. */
  treeDefinitions?: Map<string, string>;
}

/** Storage the loader gave an undefined data symbol. */
export interface UndefinedDataSymbol {
  name: string;
  /** Its address, or for per-CPU data its offset in each CPU's per-CPU area. */
  address: bigint;
  size: number;
  /** `dwarf`: the object's declaration gave the size; `default`: nothing did. */
  sizedBy: 'dwarf' | 'default';
  /** The declared C type, when the DWARF gives it. */
  type?: string;
  perCpu: boolean;
}
