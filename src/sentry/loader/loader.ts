// The program loader: execve's work on a fresh address space (Linux's
// fs/exec.c, binfmt_script.c and binfmt_elf.c). Resolves "#!" chains, maps an
// ELF executable and its interpreter, sets up the stack, heap and layout.

import { getRandomValues } from 'node:crypto';
import * as linuxerr from '../../abi/linux/errno.js';
import { AT_FDCWD, O_NOFOLLOW, O_RDONLY, S_IFMT, S_IFREG } from '../../abi/linux/file.js';
import * as m from '../../abi/linux/mm.js';
import type { Credentials } from '../kernel/creds.js';
import { execCreds } from '../kernel/setid.js';
import type { Task } from '../kernel/task.js';
import { BRK_RND_PAGES, ELF_ET_DYN_BASE, mmapBase, MMAP_RND_PAGES, randomBelow, randomPages, STACK_RND_PAGES,
  STACK_TOP } from '../mm/layout.js';
import type { MemoryManager } from '../mm/mm.js';
import { unmappedArea } from '../mm/syscalls.js';
import type { FileDescription } from '../vfs/file_description.js';
import { locOf } from '../vfs/vfs.js';
import * as auxv from './auxv.js';
import type { ElfHeader, ProgHeader } from './elf.js';
import * as elf from './elf.js';
import { BINPRM_BUF_SIZE, isScript, MAX_REWRITES, parseShebang } from './script.js';
import type { StackSpec } from './stack.js';
import { buildStack, checkArgLimits, stackSize as neededStack } from './stack.js';

/** LoadResult is where the new image starts. */
export interface LoadResult {
  /** entry is the first instruction (the interpreter's entry for dynamic binaries). */
  entry: number;
  /** sp is the initial stack pointer (pointing at argc). */
  sp: number;
  /** exe is the absolute path of the executable (after #! resolution: the script's interpreter's target is not used). */
  exe: string;
  /** filename is the path execve was given (the script's, for a script): Linux names the task (comm) after it. */
  filename: string;
  /** creds are the credentials the new image runs with (set-id bits, capabilities); execve commits them. */
  creds: Credentials;
}

/** ADDR_NO_RANDOMIZE is the personality(2) flag that turns address randomization off. */
const ADDR_NO_RANDOMIZE = 0x0040000;
const RLIMIT_STACK = 3;
/** The largest stack we map up front (it does not grow on faults). */
const MAX_STACK = 4 * 1024 * 1024 * 1024;
const DEFAULT_STACK = 8 * 1024 * 1024;
const MIN_STACK = 128 * 1024;
const PLATFORM = 'x86_64';

/** ElfImage is one ELF file, read and validated. */
interface ElfImage {
  file: FileDescription;
  hdr: ElfHeader;
  phdrs: ProgHeader[];
}

/** Loaded is where an ELF image went. */
interface Loaded {
  bias: number;
  entry: number;
  phdrAddr: number;
  /** brk is the page-aligned end of the highest segment. */
  brk: number;
}

/** readAt reads up to len bytes at offset (short only at end of file). */
function readAt(file: FileDescription, len: number, offset: number): Uint8Array {
  const buf = new Uint8Array(len);
  let done = 0;
  while (done < len) {
    const n = file.read(buf.subarray(done), offset + done);
    if (n <= 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

/** openExec opens path as execve does: a regular file the task may execute. */
function openExec(t: Task, path: string, at: ExecAt = CWD): FileDescription {
  const flags = O_RDONLY | (at.noFollow ? O_NOFOLLOW : 0);
  const file = t.kernel.vfs.openAt(t, at.dirfd, path, flags, 0, 0, at.emptyPath);
  try {
    const st = file.stat();
    if ((st.mode & S_IFMT) !== S_IFREG) throw linuxerr.EACCES;
    const c = t.creds;
    let ok: boolean;
    if (c.euid === 0) ok = (st.mode & 0o111) !== 0;
    else if (c.euid === st.uid) ok = (st.mode & 0o100) !== 0;
    else if (c.egid === st.gid || c.groups.includes(st.gid)) ok = (st.mode & 0o010) !== 0;
    else ok = (st.mode & 0o001) !== 0;
    if (!ok) throw linuxerr.EACCES;
  } catch (e) {
    file.decRef();
    throw e;
  }
  return file;
}

/** readElf reads and validates file's ELF and program headers. notElf is thrown when it is not an x86-64 ELF. */
function readElf(file: FileDescription, head: Uint8Array, notElf: linuxerr.SyscallError): ElfImage {
  let hdr: ElfHeader;
  try {
    hdr = elf.parseElfHeader(head.length >= elf.EHDR_SIZE ? head : readAt(file, elf.EHDR_SIZE, 0));
  } catch (e) {
    if (e === linuxerr.ENOEXEC) throw notElf;
    throw e;
  }
  const size = hdr.phnum * elf.PHDR_SIZE;
  const raw = readAt(file, size, hdr.phoff);
  if (raw.length !== size) throw linuxerr.EIO;
  return { file, hdr, phdrs: elf.parseProgHeaders(raw, hdr.phnum) };
}

/** interpPath returns the PT_INTERP path of img, or null. */
function interpPath(img: ElfImage): string | null {
  const p = img.phdrs.find((ph) => ph.type === elf.PT_INTERP);
  if (!p) return null;
  if (p.filesz > 4096 || p.filesz < 2) throw linuxerr.ENOEXEC;
  const b = readAt(img.file, p.filesz, p.offset);
  if (b.length !== p.filesz) throw linuxerr.EIO;
  if (b[p.filesz - 1] !== 0) throw linuxerr.ENOEXEC;
  return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
}

function segProt(flags: number): number {
  return (flags & elf.PF_R ? m.PROT_READ : 0) | (flags & elf.PF_W ? m.PROT_WRITE : 0) | (flags & elf.PF_X ? m.PROT_EXEC : 0);
}

/** mapImage maps img's PT_LOAD segments at bias. */
function mapImage(mm: MemoryManager, img: ElfImage, bias: number): Loaded {
  let brk = 0;
  const MAP_FIXED_PRIVATE = m.MAP_PRIVATE | m.MAP_FIXED;
  for (const p of img.phdrs) {
    if (p.type !== elf.PT_LOAD) continue;
    if (p.memsz === 0) continue;
    if (p.filesz > p.memsz || p.offset % m.PAGE_SIZE !== p.vaddr % m.PAGE_SIZE) throw linuxerr.EINVAL;
    const prot = segProt(p.flags);
    const vaddr = p.vaddr + bias;
    const start = m.pageRoundDown(vaddr);
    const fileEnd = m.pageRoundUp(vaddr + p.filesz);
    const memEnd = m.pageRoundUp(vaddr + p.memsz);
    if (p.filesz > 0) {
      // Writable segments (.data) are copies in anonymous memory: the
      // Sentry reaches those pages without the host, as the heap's.
      mm.mmap({ addr: start, length: fileEnd - start, prot, flags: MAP_FIXED_PRIVATE, file: img.file,
        offset: p.offset - (vaddr - start), copy: (prot & m.PROT_WRITE) !== 0 });
      // The file's bytes after the segment in its last page are .bss: zero them.
      const zeroFrom = vaddr + p.filesz;
      if (p.memsz > p.filesz && zeroFrom % m.PAGE_SIZE !== 0) {
        mm.as.writeForce(zeroFrom, new Uint8Array(fileEnd - zeroFrom));
      }
    }
    const anonStart = p.filesz > 0 ? fileEnd : start;
    if (memEnd > anonStart) {
      mm.mmap({ addr: anonStart, length: memEnd - anonStart, prot, flags: MAP_FIXED_PRIVATE | m.MAP_ANONYMOUS });
    }
    brk = Math.max(brk, memEnd);
  }
  // AT_PHDR: where the program headers are, inside the segment that holds them.
  let phdrAddr = 0;
  for (const p of img.phdrs) {
    if (p.type === elf.PT_LOAD && p.offset <= img.hdr.phoff && img.hdr.phoff < p.offset + p.filesz) {
      phdrAddr = img.hdr.phoff - p.offset + p.vaddr + bias;
      break;
    }
  }
  return { bias, entry: img.hdr.entry + bias, phdrAddr, brk };
}

/** mmapPlacedBias returns a load bias for an ET_DYN image placed by the mmap policy. */
function mmapPlacedBias(mm: MemoryManager, img: ElfImage): number {
  const span = elf.loadSpan(img.phdrs);
  if (span.end <= span.first) throw linuxerr.EINVAL;
  const base = unmappedArea(mm, 0, span.end - span.first, 0, elf.maxAlign(img.phdrs));
  return base - span.first;
}

/** randomizeOff reports whether t's personality turned ASLR off. */
function randomizeOff(t: Task): boolean {
  const p = t.tg.personality;
  return (p & ADDR_NO_RANDOMIZE) !== 0;
}

/** ExecAt says where execveat(2) finds the file: relative to dirfd, or
 *  dirfd's own file (emptyPath); noFollow refuses a final symlink. */
export interface ExecAt {
  dirfd: number;
  emptyPath: boolean;
  noFollow: boolean;
  /** fdCloexec: dirfd is close-on-exec, so a script's interpreter could not open /dev/fd/N. */
  fdCloexec: boolean;
}

const CWD: ExecAt = { dirfd: AT_FDCWD, emptyPath: false, noFollow: false, fdCloexec: false };

/** execFilename is the name Linux gives an execveat(2) image: the path, or
 *  /dev/fd/N[/path] when it is found through a directory fd. */
export function execFilename(path: string, at: ExecAt): string {
  if (path.startsWith('/') || at.dirfd === AT_FDCWD) return path;
  return path === '' && at.emptyPath ? `/dev/fd/${at.dirfd}` : `/dev/fd/${at.dirfd}/${path}`;
}

/** load builds a new process image for path in mm (a new MemoryManager over a fresh address space). */
export function load(t: Task, mm: MemoryManager, pathIn: string, argvIn: string[], envp: string[],
  at: ExecAt = CWD): LoadResult {
  // Linux 5.18+: an empty argv becomes [""], so argv[0] always exists.
  let argv = argvIn.length === 0 ? [''] : [...argvIn];
  const filename = execFilename(pathIn, at);
  let path = filename;
  const opened: FileDescription[] = [];
  try {
    // Follow "#!" lines: at most MAX_REWRITES of them.
    let file = openExec(t, pathIn, at);
    opened.push(file);
    let head = readAt(file, BINPRM_BUF_SIZE, 0);
    for (let depth = 0; isScript(head); depth++) {
      if (depth >= MAX_REWRITES) throw linuxerr.ELOOP;
      // The interpreter opens the script by name: /dev/fd/N of a
      // close-on-exec fd is gone by then (Linux's BINPRM_FLAGS_PATH_INACCESSIBLE).
      if (depth === 0 && at.fdCloexec && filename.startsWith('/dev/fd/')) throw linuxerr.ENOENT;
      const sb = parseShebang(head);
      argv = [sb.interp, ...(sb.arg !== null ? [sb.arg] : []), path, ...argv.slice(1)];
      path = sb.interp;
      file = openExec(t, path);
      opened.push(file);
      head = readAt(file, BINPRM_BUF_SIZE, 0);
    }
    const main = readElf(file, head, linuxerr.ENOEXEC);
    const interp = interpPath(main);
    let interpImg: ElfImage | null = null;
    if (interp !== null) {
      const f = openExec(t, interp);
      opened.push(f);
      interpImg = readElf(f, readAt(f, BINPRM_BUF_SIZE, 0), linuxerr.ELIBBAD);
    }
    const stackLimit = t.tg.rlimits[RLIMIT_STACK][0];
    checkArgLimits(argv, envp, filename, stackLimit);
    try {
      // Set-id bits come from the binary that runs (a script's interpreter), never the script.
      const st = file.stat();
      const nosuid = locOf(file)?.mnt.flags.includes('nosuid') ?? true;
      const ex = execCreds(t.creds, { mode: st.mode, uid: st.uid, gid: st.gid, nosuid });
      return buildImage(t, mm, main, interpImg, argv, envp, filename, stackLimit, ex.creds, ex.secure);
    } catch (e) {
      // The caller discards the half-built address space; let go of the files mapped so far.
      mm.vmas.clear();
      throw e;
    }
  } finally {
    // The mappings hold their own references.
    for (const f of opened) f.decRef();
  }
}

function buildImage(t: Task, mm: MemoryManager, main: ElfImage, interp: ElfImage | null, argv: string[],
  envp: string[], filename: string, stackLimit: number, c: Credentials, secure: boolean): LoadResult {
  const randomize = !randomizeOff(t);
  mm.mmapBase = mmapBase(stackLimit, randomize);

  // The stack: a fixed mapping below the (randomized) stack top.
  const stackTop = STACK_TOP - (randomize ? randomPages(STACK_RND_PAGES) : 0);
  const stackSize = Number.isFinite(stackLimit)
    ? Math.min(MAX_STACK, m.pageRoundUp(Math.max(stackLimit, MIN_STACK)))
    : DEFAULT_STACK;
  const gnuStack = main.phdrs.find((p) => p.type === elf.PT_GNU_STACK);
  const stackProt = m.PROT_READ | m.PROT_WRITE | (gnuStack && (gnuStack.flags & elf.PF_X) ? m.PROT_EXEC : 0);
  mm.mmap({ addr: stackTop - stackSize, length: stackSize, prot: stackProt,
    flags: m.MAP_PRIVATE | m.MAP_ANONYMOUS | m.MAP_FIXED | m.MAP_GROWSDOWN | m.MAP_NORESERVE });

  // The executable: fixed (ET_EXEC), at ELF_ET_DYN_BASE (PIE with an interpreter), or where mmap puts it.
  let bias = 0;
  if (main.hdr.type === elf.ET_DYN) {
    if (interp) {
      const first = elf.loadSpan(main.phdrs).first;
      let b = ELF_ET_DYN_BASE + (randomize ? randomPages(MMAP_RND_PAGES) : 0);
      const align = elf.maxAlign(main.phdrs);
      b -= b % align;
      bias = m.pageRoundDown(b - first);
    } else {
      bias = mmapPlacedBias(mm, main);
    }
  }
  const exe = mapImage(mm, main, bias);
  let entry = exe.entry;
  let interpBase = 0;
  if (interp) {
    const li = mapImage(mm, interp, interp.hdr.type === elf.ET_DYN ? mmapPlacedBias(mm, interp) : 0);
    entry = li.entry;
    interpBase = li.bias;
  }

  // Code and data extents (for /proc/[pid]/stat and RLIMIT_DATA), as Linux computes them.
  let startCode = Infinity;
  let endCode = 0;
  let startData = 0;
  let endData = 0;
  for (const p of main.phdrs) {
    if (p.type !== elf.PT_LOAD) continue;
    startCode = Math.min(startCode, p.vaddr);
    startData = Math.max(startData, p.vaddr);
    const k = p.vaddr + p.filesz;
    if ((p.flags & elf.PF_X) && k > endCode) endCode = k;
    endData = Math.max(endData, k);
  }
  mm.startCode = (startCode === Infinity ? 0 : startCode) + bias;
  mm.endCode = endCode + bias;
  mm.startData = startData + bias;
  mm.endData = endData + bias;

  // The heap starts after the executable (a page further, and randomized, with ASLR).
  let brk = exe.brk;
  if (randomize) {
    brk = main.hdr.type === elf.ET_DYN && !interp ? ELF_ET_DYN_BASE : brk + m.PAGE_SIZE;
    brk += randomPages(BRK_RND_PAGES);
  }
  mm.startBrk = mm.curBrk = brk;

  const host = auxv.hostAuxv();
  const vdso = mm.as.vdsoBase;
  const entries: auxv.AuxEntry[] = [];
  if (vdso) entries.push([auxv.AT_SYSINFO_EHDR, vdso]);
  entries.push(
    [auxv.AT_MINSIGSTKSZ, host.minSigStkSz],
    [auxv.AT_HWCAP, host.hwcap],
    [auxv.AT_PAGESZ, m.PAGE_SIZE],
    [auxv.AT_CLKTCK, 100],
    [auxv.AT_PHDR, exe.phdrAddr],
    [auxv.AT_PHENT, elf.PHDR_SIZE],
    [auxv.AT_PHNUM, main.hdr.phnum],
    [auxv.AT_BASE, interpBase],
    [auxv.AT_FLAGS, 0],
    [auxv.AT_ENTRY, exe.entry],
    [auxv.AT_UID, c.uid],
    [auxv.AT_EUID, c.euid],
    [auxv.AT_GID, c.gid],
    [auxv.AT_EGID, c.egid],
    [auxv.AT_SECURE, secure ? 1 : 0],
    [auxv.AT_RANDOM, 0],
    [auxv.AT_HWCAP2, host.hwcap2],
    [auxv.AT_EXECFN, 0],
    [auxv.AT_PLATFORM, 0],
  );
  const random = getRandomValues(new Uint8Array(16));
  const spec: StackSpec = { top: stackTop, argv, envp, execfn: filename, auxv: entries, random,
    jitter: randomize ? randomBelow(8192) : 0, platform: PLATFORM };
  if (neededStack(spec) > stackSize) throw linuxerr.E2BIG;
  const st = buildStack(mm, spec);
  mm.stackStart = st.sp;
  mm.argStart = st.argStart;
  mm.argEnd = st.argEnd;
  mm.envStart = st.envStart;
  mm.envEnd = st.envEnd;
  mm.auxv = st.auxv;
  return { entry, sp: st.sp, exe: main.file.path, filename, creds: c };
}
