// The one error type of the ELF and DWARF readers: every rejection of an object names the
// file, the section and the offset in it, so a kernel engineer can go straight to
// `readelf -x`/`objdump -s` at that place. It is a LoadError, so callers need catch only that.

import { Diagnostic, LoadError } from '../diagnostics';

/** A place in an object file: the section (or the ELF header) and a byte offset in it. */
export interface ElfPlace {
  file: string;
  /** Section name, or `ELF header`, `section headers`, `program headers`. */
  section: string;
  offset: number;
}

/** An object (or several) that cannot be loaded; `places` lists where each error is. */
export class ElfLoadError extends LoadError {
  constructor(diagnostics: Diagnostic[], readonly places: ElfPlace[]) {
    super(diagnostics);
  }
}

/** `tdcall.o: unsupported relocation R_X86_64_TPOFF32 in .rela.text at offset 0x1c`. */
export function placeMessage(p: ElfPlace, message: string): string {
  return `${p.file}: ${message} in ${p.section} at offset 0x${p.offset.toString(16)}`;
}

/** Throws one error at `p`. */
export function fail(p: ElfPlace, message: string): never {
  throw new ElfLoadError([{ severity: 'error', message: placeMessage(p, message) }], [p]);
}

/**
 * Collects errors that do not stop the reading of the rest (every bad relocation of an object
 * is worth seeing at once), up to a cap so hostile input cannot grow the list without bound.
 */
export class ErrorList {
  readonly diagnostics: Diagnostic[] = [];
  readonly places: ElfPlace[] = [];
  private dropped = 0;

  add(p: ElfPlace, message: string): void {
    if (this.diagnostics.length >= 50) {
      this.dropped++;
      return;
    }
    this.diagnostics.push({ severity: 'error', message: placeMessage(p, message) });
    this.places.push(p);
  }

  get empty(): boolean {
    return this.diagnostics.length === 0;
  }

  /** Throws when anything was added. */
  check(): void {
    if (this.empty) return;
    const d = [...this.diagnostics];
    if (this.dropped) d.push({ severity: 'note', message: `${this.dropped} further errors not shown` });
    throw new ElfLoadError(d, this.places);
  }
}
