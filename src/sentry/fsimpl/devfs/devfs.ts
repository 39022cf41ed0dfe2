// devfs: /dev, a tmpfs holding the device nodes the sandbox offers. Opening a
// character device goes to the device drivers (fsimpl/dev/devices.ts).

import * as linux from '../../../abi/linux/file.js';
import { kernelCaller } from '../../vfs/caller.js';
import { makeDev } from '../../vfs/inode.js';
import { Tmpfs } from '../tmpfs/tmpfs.js';

/** The character devices: name, major, minor. */
const DEVICES: [string, number, number][] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
  ['ptmx', 5, 2],
];

const LINKS: [string, string][] = [
  ['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'],
];

/** newDevfs builds a populated /dev. */
export function newDevfs(): Tmpfs {
  const fs = new Tmpfs({ type: 'tmpfs', source: 'dev', mode: 0o755 });
  const c = kernelCaller();
  const r = fs.root;
  for (const [name, major, minor] of DEVICES) r.mknod(c, name, linux.S_IFCHR | 0o666, makeDev(major, minor));
  r.mkdir(c, 'pts', 0o755);
  r.mkdir(c, 'shm', 0o1777);
  for (const [name, target] of LINKS) r.symlink(c, name, target);
  return fs;
}
