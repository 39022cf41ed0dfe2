// sockaddr_un: decoding the addresses bind/connect/sendto pass, and the
// address bytes getsockname/getpeername/recvfrom return. Three kinds, as in
// unix(7): pathname (a node in the file system), abstract (a name whose first
// byte is NUL, in a per-sandbox namespace) and unnamed (just sun_family).

import * as linuxerr from '../../../abi/linux/errno.js';
import { AF_UNIX } from '../abi.js';

/** offsetof(struct sockaddr_un, sun_path). */
export const SUN_PATH_OFFSET = 2;
/** sizeof(struct sockaddr_un). */
export const SOCKADDR_UN_LEN = 110;

/** UnixAddress is a bound name. bytes is the sockaddr as getsockname returns it. */
export type UnixAddress =
  | { readonly kind: 'path'; readonly path: string; readonly bytes: Uint8Array }
  | { readonly kind: 'abstract'; readonly name: string; readonly bytes: Uint8Array };

/** UNNAMED is the address of a socket without a name: sun_family alone. */
export const UNNAMED: Uint8Array = Uint8Array.of(AF_UNIX, 0);

const decoder = new TextDecoder();

/** isAutobindRequest reports whether a bind address is sun_family alone (autobind). */
export function isAutobindRequest(raw: Uint8Array): boolean {
  return raw.length === SUN_PATH_OFFSET && family(raw) === AF_UNIX;
}

/** family reads sa_family (0 when the address is shorter than that). */
export function family(raw: Uint8Array): number {
  return raw.length >= 2 ? raw[0] | (raw[1] << 8) : 0;
}

/** parseUnixAddress validates and decodes an address (unix_validate_addr and
 *  unix_mkname_bsd): EINVAL for a bad length or family. A pathname stops at
 *  its first NUL; an abstract name keeps every byte up to the length given. */
export function parseUnixAddress(raw: Uint8Array): UnixAddress {
  if (raw.length <= SUN_PATH_OFFSET || raw.length > SOCKADDR_UN_LEN) throw linuxerr.EINVAL;
  if (family(raw) !== AF_UNIX) throw linuxerr.EINVAL;
  if (raw[SUN_PATH_OFFSET] === 0) {
    const bytes = raw.slice();
    return { kind: 'abstract', name: latin1(raw.subarray(SUN_PATH_OFFSET)), bytes };
  }
  let end = raw.indexOf(0, SUN_PATH_OFFSET);
  if (end < 0) end = raw.length;
  const pathBytes = raw.subarray(SUN_PATH_OFFSET, end);
  // Stored as Linux stores it: family, path, one NUL (the length getsockname reports).
  const bytes = new Uint8Array(SUN_PATH_OFFSET + pathBytes.length + 1);
  bytes.set(raw.subarray(0, SUN_PATH_OFFSET));
  bytes.set(pathBytes, SUN_PATH_OFFSET);
  return { kind: 'path', path: decoder.decode(pathBytes), bytes };
}

/** abstractAddress makes the address of an abstract name given as bytes after the leading NUL. */
export function abstractAddress(name: Uint8Array): UnixAddress {
  const bytes = new Uint8Array(SUN_PATH_OFFSET + 1 + name.length);
  bytes[0] = AF_UNIX;
  bytes.set(name, SUN_PATH_OFFSET + 1);
  return { kind: 'abstract', name: latin1(bytes.subarray(SUN_PATH_OFFSET)), bytes };
}

/** autobindName formats an autobind name: five hex digits, as Linux chooses them. */
export function autobindName(n: number): Uint8Array {
  return new TextEncoder().encode((n & 0xfffff).toString(16).padStart(5, '0'));
}

/** latin1 maps bytes one-to-one onto a string (a map key that keeps every byte). */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
