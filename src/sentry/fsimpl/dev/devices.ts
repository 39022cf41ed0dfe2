// Placeholder: character devices (null, zero, full, random, urandom, tty).
// openDevice returns the impl for a device number; devfs calls it on open.
import * as linuxerr from '../../../abi/linux/errno.js';
import type { Task } from '../../kernel/task.js';
import type { FileDescriptionImpl } from '../../vfs/file_description.js';

/** makedev packs a device number as Linux's new_encode_dev does. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

/** openDevice opens character device (major, minor) for t; ENXIO if unknown. */
export function openDevice(t: Task, major: number, minor: number, flags: number): FileDescriptionImpl {
  void t; void major; void minor; void flags;
  throw linuxerr.ENXIO;
}
