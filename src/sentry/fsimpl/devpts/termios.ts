// struct termios (the kernel's, 36 bytes; termios2 adds the two speeds) and
// the flag bits the line discipline acts on. Values are Linux's asm-generic
// termbits for x86-64.

// c_iflag
export const IGNBRK = 0o1;
export const BRKINT = 0o2;
export const ISTRIP = 0o40;
export const INLCR = 0o100;
export const IGNCR = 0o200;
export const ICRNL = 0o400;
export const IUCLC = 0o1000;
export const IXON = 0o2000;
export const IXANY = 0o4000;
export const IMAXBEL = 0o20000;
export const IUTF8 = 0o40000;

// c_oflag
export const OPOST = 0o1;
export const OLCUC = 0o2;
export const ONLCR = 0o4;
export const OCRNL = 0o10;
export const ONOCR = 0o20;
export const ONLRET = 0o40;
export const TABDLY = 0o14000;
export const XTABS = 0o14000;

// c_cflag
export const B38400 = 0o17;
export const CS8 = 0o60;
export const CREAD = 0o200;
export const CBAUD = 0o10017;

// c_lflag
export const ISIG = 0o1;
export const ICANON = 0o2;
export const ECHO = 0o10;
export const ECHOE = 0o20;
export const ECHOK = 0o40;
export const ECHONL = 0o100;
export const NOFLSH = 0o200;
export const TOSTOP = 0o400;
export const ECHOCTL = 0o1000;
export const ECHOPRT = 0o2000;
export const ECHOKE = 0o4000;
export const IEXTEN = 0o100000;

// c_cc indices
export const VINTR = 0;
export const VQUIT = 1;
export const VERASE = 2;
export const VKILL = 3;
export const VEOF = 4;
export const VTIME = 5;
export const VMIN = 6;
export const VSTART = 8;
export const VSTOP = 9;
export const VSUSP = 10;
export const VEOL = 11;
export const VREPRINT = 12;
export const VWERASE = 14;
export const VLNEXT = 15;
export const VEOL2 = 16;
export const NCCS = 19;

export const SIZEOF_TERMIOS = 36;
export const SIZEOF_TERMIOS2 = 44;

/** _POSIX_VDISABLE: a c_cc value that disables the special character. */
export const VDISABLE = 0;

export class Termios {
  iflag = 0;
  oflag = 0;
  cflag = 0;
  lflag = 0;
  line = 0;
  readonly cc = new Uint8Array(NCCS);
  ispeed = 38400;
  ospeed = 38400;

  /** replicaDefault is a new pseudo-terminal's termios (Linux's pts init_termios). */
  static replicaDefault(): Termios {
    const t = new Termios();
    t.iflag = ICRNL | IXON;
    t.oflag = OPOST | ONLCR;
    t.cflag = B38400 | CS8 | CREAD;
    t.lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
    t.cc.set([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0]);
    return t;
  }

  /** encode returns struct termios (36 bytes) or, with two, struct termios2. */
  encode(two = false): Uint8Array {
    const b = new Uint8Array(two ? SIZEOF_TERMIOS2 : SIZEOF_TERMIOS);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.iflag, true);
    v.setUint32(4, this.oflag, true);
    v.setUint32(8, this.cflag, true);
    v.setUint32(12, this.lflag, true);
    b[16] = this.line;
    b.set(this.cc, 17);
    if (two) {
      v.setUint32(36, this.ispeed, true);
      v.setUint32(40, this.ospeed, true);
    }
    return b;
  }

  /** decode sets the fields from struct termios or termios2 bytes. */
  decode(b: Uint8Array): void {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.iflag = v.getUint32(0, true);
    this.oflag = v.getUint32(4, true);
    this.cflag = v.getUint32(8, true);
    this.lflag = v.getUint32(12, true);
    this.line = b[16];
    this.cc.set(b.subarray(17, 17 + NCCS));
    if (b.length >= SIZEOF_TERMIOS2) {
      this.ispeed = v.getUint32(36, true);
      this.ospeed = v.getUint32(40, true);
    }
  }
}
