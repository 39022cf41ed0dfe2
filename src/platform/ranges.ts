// Sorted, non-overlapping half-open ranges kept in arrays (the VMA set, the
// memory file's segments, a stub's memory-file pieces): the search they share.

/** firstEndingAbove returns the index of the first range whose end is above
 *  at (the one holding at, or the next after it); ranges must be sorted. */
export function firstEndingAbove(ranges: readonly { end: number }[], at: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid].end <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
