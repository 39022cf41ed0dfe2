// 32-bit sequence number arithmetic (RFC 1982 style comparisons).

/** seqAdd returns a + n modulo 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** seqDiff returns a - b as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export function seqLT(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

export function seqLE(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

export function seqGT(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

export function seqGE(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** seqInWindow reports whether s lies in [start, start + size). */
export function seqInWindow(s: number, start: number, size: number): boolean {
  const d = (s - start) >>> 0;
  return d < size;
}

export function seqMax(a: number, b: number): number {
  return seqGT(a, b) ? a : b;
}

export function seqMin(a: number, b: number): number {
  return seqLT(a, b) ? a : b;
}
