// Placeholder fragment: handlers arrive with their owner's work.
import type { SyscallEntries } from '../syscalls.js';

export const syscalls: SyscallEntries = {};
