// "#!" interpreter lines, parsed as Linux's binfmt_script does: the first
// BINPRM_BUF_SIZE bytes of the file, an interpreter path, and at most one
// argument (the rest of the line, inner blanks included).

import * as linuxerr from '../../abi/linux/errno.js';

/** BINPRM_BUF_SIZE is how much of a file execve looks at. */
export const BINPRM_BUF_SIZE = 256;
/** MAX_REWRITES: Linux lets exec go through this many "#!" files before ELOOP. */
export const MAX_REWRITES = 5;

export interface Shebang {
  interp: string;
  /** arg is the optional argument, or null. */
  arg: string | null;
}

const decoder = new TextDecoder();

function blank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** isScript reports whether b starts with "#!". */
export function isScript(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x23 && b[1] === 0x21;
}

/** cString decodes b[from, to) up to its first NUL. */
function cString(b: Uint8Array, from: number, to: number): string {
  const z = b.subarray(from, to).indexOf(0);
  return decoder.decode(b.subarray(from, z < 0 ? to : from + z));
}

/** parseShebang parses the "#!" line in head (the file's first bytes, at most
 *  BINPRM_BUF_SIZE of them). Throws ENOEXEC where Linux refuses the line. */
export function parseShebang(head: Uint8Array): Shebang {
  if (!isScript(head)) throw linuxerr.ENOEXEC;
  // Work on exactly BINPRM_BUF_SIZE bytes: a short file reads as NUL-padded.
  const b = new Uint8Array(BINPRM_BUF_SIZE);
  b.set(head.subarray(0, BINPRM_BUF_SIZE));
  const last = BINPRM_BUF_SIZE - 1;
  const nonBlank = (from: number, to: number): number => {
    for (let i = from; i <= to; i++) if (!blank(b[i])) return i;
    return -1;
  };
  const terminator = (from: number, to: number): number => {
    for (let i = from; i <= to; i++) if (blank(b[i]) || b[i] === 0) return i;
    return -1;
  };
  let end = b.indexOf(0x0a);
  if (end < 0) {
    // No newline in the buffer: accept the line only if the interpreter's
    // name visibly ends within it (else it may have been cut short).
    const n = nonBlank(2, last);
    if (n < 0 || terminator(n, last) < 0) throw linuxerr.ENOEXEC;
    end = last;
  }
  while (end > 2 && blank(b[end - 1])) end--;
  const name = nonBlank(2, end);
  if (name < 0 || name === end) throw linuxerr.ENOEXEC;
  const sep = terminator(name, end);
  let arg: string | null = null;
  if (sep >= 0 && b[sep] !== 0) {
    const a = nonBlank(sep, end);
    if (a >= 0 && a < end) arg = cString(b, a, end);
  }
  return { interp: cString(b, name, sep >= 0 ? sep : end), arg };
}
