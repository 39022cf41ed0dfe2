# Runs a command in a new pseudo-terminal and plays a script on it, as a
# person at a terminal would; prints what the terminal showed, then
# "EXIT <status>" (or "EXIT hung" if the command did not end).
#   python3 pty_drive.py CMD... -- STEP...
# Steps: 'w:TEXT' types TEXT and Enter, 'c' ^C, 'z' ^Z, 'r' resizes to 50x132
# (SIGWINCH to the command, as a terminal emulator does), 's:N' waits N s.
import fcntl, os, pty, select, signal, struct, sys, termios, time

i = sys.argv.index('--')
argv, steps = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
out = b''

def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 4096)
            except OSError:
                return True
            if not d:
                return True
            out += d
    return False

pump(float(os.environ.get('PTY_START', '2.5')))
for s in steps:
    if s.startswith('w:'):
        os.write(fd, s[2:].encode() + b'\r')
    elif s == 'c':
        os.write(fd, b'\x03')
    elif s == 'z':
        os.write(fd, b'\x1a')
    elif s == 'r':
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 132, 0, 0))
        os.kill(pid, signal.SIGWINCH)
    elif s.startswith('s:'):
        pump(float(s[2:]))
        continue
    pump(0.7)
end = time.time() + float(os.environ.get('PTY_END', '15'))
status = None
while time.time() < end:
    pump(0.2)
    w, st = os.waitpid(pid, os.WNOHANG)
    if w:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
pump(0.2)
sys.stdout.write(out.decode(errors='replace').replace('\r', '').replace('\x1b[6n', ''))
print('\nEXIT', 'hung' if status is None else status)
