// Placeholder: replaced by the ELF loader (see docs/ARCHITECTURE.md).
import * as linuxerr from '../../abi/linux/errno.js';
import type { MemoryManager } from '../mm/mm.js';
import type { Task } from '../kernel/task.js';

/** LoadResult is where the new image starts. */
export interface LoadResult {
  /** entry is the first instruction (the interpreter's entry for dynamic binaries). */
  entry: number;
  /** sp is the initial stack pointer (pointing at argc). */
  sp: number;
  /** exe is the absolute path of the executable (after #! resolution: the script's interpreter's target is not used). */
  exe: string;
}

/** load builds a new process image for path in mm. */
export function load(t: Task, mm: MemoryManager, path: string, argv: string[], envp: string[]): LoadResult {
  void t; void mm; void path; void argv; void envp;
  throw linuxerr.ENOEXEC;
}
