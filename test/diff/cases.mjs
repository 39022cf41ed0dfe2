// The differential cases: each runs natively and under ./bin/runsc do and
// the two runs must agree. See harness.mjs for the fields a case may use.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BB = '/bin/busybox';
const bb = (...args) => [BB, ...args];
const bbsh = (script) => [BB, 'sh', '-c', script];
const sh = (script) => ['/bin/sh', '-c', script];
const bash = (script) => ['/bin/bash', '-c', script];
const py = (code, ...args) => ['/usr/bin/python3', '-c', code, ...args];
const PY = ['/usr/bin/python3'];
const LICENSES = '/usr/share/common-licenses';

const thousandLines = Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
const allBytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37 + (i >> 8)) & 255));

/** Acceptance criteria of the project, verbatim where possible. */
const acceptance = [
  { name: 'accept/busybox-pipeline',
    argv: bbsh('echo hello | /bin/busybox wc -c; /bin/busybox ls / | /bin/busybox wc -l') },
  { name: 'accept/bash-loop-tac-exit7', argv: bash('for i in 1 2 3; do echo $i; done | tac; exit 7'),
    stdout: '3\n2\n1\n', status: 7 },
  { name: 'accept/python-pid1', requires: PY,
    argv: py('import os,sys; print(os.getpid(), sys.version_info[:2], sum(range(10**6)))'),
    stdoutMatch: /^\d+ \(\d+, \d+\) 499999500000\n$/,
    // The first process of a sandbox is pid 1.
    sandboxStdout: (native) => native.replace(/^\d+ /, '1 ') },
  { name: 'accept/ls-la-usr-bin', argv: ['/bin/ls', '-la', '/usr/bin'] },
  { name: 'accept/env', argv: ['/usr/bin/env'] },
  { name: 'accept/os-release-grep', argv: sh('cat /etc/os-release | grep -c ID') },
  { name: 'accept/escape-tmp-file',
    argv: (ctx) => sh(`echo x > ${ctx.path('escape')}; cat ${ctx.path('escape')}`),
    stdout: 'x\n', hostMustNotExist: (ctx) => [ctx.path('escape')] },
];

/** The sandbox must keep every write to itself. */
const escape = [
  { name: 'escape/busybox-tmp-file',
    argv: (ctx) => bbsh(`echo y > ${ctx.path('bb')} && /bin/busybox cat ${ctx.path('bb')}`),
    stdout: 'y\n', hostMustNotExist: (ctx) => [ctx.path('bb')] },
  { name: 'escape/mkdir-var-tmp',
    argv: (ctx) => sh(`mkdir /var/tmp/${path.basename(ctx.path('dir'))} && ls -d /var/tmp/${path.basename(ctx.path('dir'))} | wc -l`),
    stdout: '1\n', hostMustNotExist: (ctx) => [`/var/tmp/${path.basename(ctx.path('dir'))}`] },
  ...[
    ['rm', 'rm $TSV_TMP/keep.txt && ls -A $TSV_TMP | wc -l', '0\n'],
    ['overwrite', 'echo changed > $TSV_TMP/keep.txt && cat $TSV_TMP/keep.txt', 'changed\n'],
    ['append', 'echo more >> $TSV_TMP/keep.txt && cat $TSV_TMP/keep.txt', 'original\nmore\n'],
    ['chmod', 'chmod 600 $TSV_TMP/keep.txt && stat -c %a $TSV_TMP/keep.txt', '600\n'],
    ['rename', 'mv $TSV_TMP/keep.txt $TSV_TMP/moved.txt && ls $TSV_TMP', 'moved.txt\n'],
    ['truncate', 'truncate -s 0 $TSV_TMP/keep.txt && wc -c < $TSV_TMP/keep.txt', '0\n'],
  ].map(([what, script, out]) => ({
    name: `escape/host-file-${what}`, argv: sh(script), stdout: out,
    setup: (ctx) => fs.writeFileSync(path.join(ctx.tmp, 'keep.txt'), 'original\n', { mode: 0o644 }),
    check: (ctx, side) => {
      if (side !== 'sandbox') return null;
      const f = path.join(ctx.tmp, 'keep.txt');
      if (!fs.existsSync(f)) return `the host file ${f} is gone`;
      if (fs.readFileSync(f, 'utf8') !== 'original\n') return `the host file ${f} was modified`;
      if ((fs.statSync(f).mode & 0o777) !== 0o644) return `the host file ${f} changed mode`;
      const others = fs.readdirSync(ctx.tmp).filter((n) => n !== 'keep.txt');
      return others.length ? `new host files: ${others.join(', ')}` : null;
    },
  })),
];

/** Busybox applets, each invoked through the multi-call binary. */
const busybox = [
  { name: 'busybox/echo', argv: bb('echo', 'hello', 'world') },
  { name: 'busybox/echo-n-e', argv: bb('echo', '-n', '-e', 'a\\tb\\n') },
  { name: 'busybox/cat-file', argv: bb('cat', '/etc/os-release') },
  { name: 'busybox/cat-stdin', argv: bb('cat'), input: 'abc\ndef\n' },
  { name: 'busybox/cat-binary-stdin', argv: bb('cat'), input: allBytes },
  { name: 'busybox/wc', argv: bb('wc', '-l', '-w', '-c', '/etc/os-release') },
  { name: 'busybox/head', argv: bb('head', '-n', '3', '/etc/passwd') },
  { name: 'busybox/tail', argv: bb('tail', '-n', '2', '/etc/passwd') },
  { name: 'busybox/sort', argv: bb('sort', '-n', '-r'), input: '10\n9\n100\n-1\n5\n' },
  { name: 'busybox/uniq', argv: bbsh('/bin/busybox sort | /bin/busybox uniq -c'), input: 'b\na\nb\nc\na\nb\n' },
  { name: 'busybox/tr', argv: bb('tr', 'a-z', 'A-Z'), input: 'Hello, World\n' },
  { name: 'busybox/cut', argv: bb('cut', '-d:', '-f1,7', '/etc/passwd') },
  { name: 'busybox/sed', argv: bb('sed', '-e', 's/root/ROOT/', '-e', '3q', '/etc/passwd') },
  { name: 'busybox/awk', argv: bb('awk', '-F:', '{ n += length($1) } END { print NR, n, (NR > 0) }', '/etc/passwd') },
  { name: 'busybox/awk-math', argv: bb('awk', 'BEGIN { for (i = 1; i <= 10; i++) s += i * i; printf "%d %.3f\\n", s, sqrt(2) }') },
  { name: 'busybox/grep', argv: bb('grep', '-c', 'root', '/etc/passwd') },
  { name: 'busybox/grep-E-n', argv: bb('grep', '-n', '-E', '^(ID|NAME)=', '/etc/os-release') },
  { name: 'busybox/grep-no-match', argv: bb('grep', 'no-such-text-tsv', '/etc/os-release'), status: 1 },
  { name: 'busybox/find', argv: bbsh(`/bin/busybox find ${LICENSES} -type f | /bin/busybox sort`) },
  { name: 'busybox/find-etc-apt', argv: bbsh('/bin/busybox find /etc/apt -maxdepth 1 | /bin/busybox sort') },
  { name: 'busybox/expr', argv: bbsh('/bin/busybox expr 6 \\* 7; /bin/busybox expr length hello; /bin/busybox expr 0; echo $?') },
  { name: 'busybox/seq', argv: bb('seq', '1', '3', '20') },
  { name: 'busybox/basename-dirname', argv: bbsh('/bin/busybox basename /usr/share/doc.txt .txt; /bin/busybox dirname /usr/share/doc.txt') },
  { name: 'busybox/printf', argv: bb('printf', '%05d|%s|%x|%c\\n', '42', 'hi', '255', 'z') },
  { name: 'busybox/test', argv: bbsh('test -d /etc && test -f /etc/passwd && ! test -e /nonexistent-tsv; echo $?; [ 3 -lt 2 ]; echo $?') },
  { name: 'busybox/true', argv: bb('true'), status: 0 },
  { name: 'busybox/false', argv: bb('false'), status: 1 },
  { name: 'busybox/md5sum', argv: bb('md5sum', '/etc/os-release') },
  { name: 'busybox/sha256sum', argv: bb('sha256sum', `${LICENSES}/GPL-3`) },
  { name: 'busybox/xargs', argv: bbsh('echo a b c | /bin/busybox xargs -n1 echo item') },
  { name: 'busybox/tee', argv: bbsh('echo data | /bin/busybox tee $TSV_TMP/t.txt; /bin/busybox cat $TSV_TMP/t.txt') },
  { name: 'busybox/ls', argv: bb('ls', '-l', LICENSES) },
  { name: 'busybox/od', argv: bb('od', '-c'), input: 'hi\tthere\n' },
  { name: 'busybox/du', argv: bb('du', '-s', LICENSES) },
  { name: 'busybox/sh-script', argv: bbsh('x=0; for w in a b c d; do x=$((x+1)); case $w in b) echo "b at $x";; esac; done; echo "total $x"') },
  { name: 'busybox/wc-stdin-1000', argv: bbsh('/bin/busybox wc -l'), input: thousandLines },
  { name: 'busybox/sleep', argv: bbsh('/bin/busybox sleep 0.2; echo slept') },
  { name: 'busybox/mkdir-rm', argv: bbsh('cd $TSV_TMP && /bin/busybox mkdir -p a/b/c && /bin/busybox touch a/b/c/f && /bin/busybox find a | /bin/busybox sort && /bin/busybox rm -r a && /bin/busybox ls -A | /bin/busybox wc -l') },
];

/** GNU coreutils. */
const coreutils = [
  { name: 'coreutils/ls', argv: ['/bin/ls', '/etc/apt'] },
  { name: 'coreutils/ls-l-licenses', argv: ['/bin/ls', '-l', LICENSES] },
  { name: 'coreutils/ls-root', argv: ['/bin/ls', '/'] },
  { name: 'coreutils/cat', argv: ['/bin/cat', '/etc/os-release', '/etc/passwd'] },
  { name: 'coreutils/stat-format', argv: ['/usr/bin/stat', '--format=%n %s %F %a %U %G %h %Y', '/etc/os-release', '/usr/bin/env', '/etc', `${LICENSES}/GPL-3`] },
  { name: 'coreutils/stat-L', argv: ['/usr/bin/stat', '-L', '--format=%n %s %F %a', '/etc/os-release', '/bin/sh'] },
  { name: 'coreutils/date-year', argv: ['/bin/date', '+%Y'] },
  { name: 'coreutils/id', argv: ['/usr/bin/id'] },
  { name: 'coreutils/uname', argv: ['/bin/uname', '-s', '-m'] },
  { name: 'coreutils/sort-passwd', argv: ['/usr/bin/sort', '-t:', '-k3', '-n', '/etc/passwd'] },
  { name: 'coreutils/seq-sha256', argv: sh('seq 1 1000 | sha256sum') },
  { name: 'coreutils/du', argv: ['/usr/bin/du', '-s', LICENSES] },
  { name: 'coreutils/cp-mv-rm', argv: sh('cd $TSV_TMP && cp /etc/os-release a && mv a b && cp b c && rm b && ls && wc -l < c && cmp c /etc/os-release && echo same') },
  { name: 'coreutils/mkdir-p', argv: sh('mkdir -p $TSV_TMP/x/y/z && touch $TSV_TMP/x/y/z/f && cd $TSV_TMP && find . | sort && rmdir x/y/z 2>&1; echo $?') },
  { name: 'coreutils/ln-s-readlink', argv: sh('ln -s /etc/os-release $TSV_TMP/l && readlink $TSV_TMP/l && readlink -f /bin/sh && head -1 $TSV_TMP/l && ls -l $TSV_TMP/l | cut -c1') },
  { name: 'coreutils/ln-hard', argv: sh('cd $TSV_TMP && echo a > f && ln f g && stat -c %h f && echo b >> g && cat f') },
  { name: 'coreutils/realpath', argv: ['/usr/bin/realpath', '/usr/bin/../bin/env', '/etc/os-release'] },
  { name: 'coreutils/head-c-od', argv: sh('head -c 64 /usr/bin/env | od -An -tx1') },
  { name: 'coreutils/wc-big-file', argv: ['/usr/bin/wc', '-c', BB] },
  { name: 'coreutils/md5sum-many', argv: sh(`md5sum ${LICENSES}/* | sort`) },
  { name: 'coreutils/pwd', argv: ['/bin/pwd'], cwd: '/usr/share' },
  { name: 'coreutils/relative-path', argv: sh('wc -l common-licenses/BSD && ls -d ./common-licenses'), cwd: '/usr/share' },
  { name: 'coreutils/touch-date', argv: sh("touch -d '2001-02-03 04:05:06' $TSV_TMP/f && stat -c '%y %s' $TSV_TMP/f") },
  { name: 'coreutils/dd-zero', argv: sh('dd if=/dev/zero bs=1k count=64 2>/dev/null | md5sum') },
  { name: 'coreutils/yes-head', argv: sh('yes | head -n 5; echo status $?') },
  { name: 'coreutils/tac-nl', argv: sh('tac | nl'), input: 'one\ntwo\nthree\n' },
  { name: 'coreutils/env-i', argv: ['/usr/bin/env', '-i', 'A=1', 'B=two', '/usr/bin/env'] },
  { name: 'coreutils/printenv', argv: ['/usr/bin/printenv', 'PATH', 'TSV_TMP'] },
  { name: 'coreutils/nproc', argv: ['/usr/bin/nproc'] },
  { name: 'coreutils/true', argv: ['/bin/true'], status: 0 },
  { name: 'coreutils/false', argv: ['/bin/false'], status: 1 },
  { name: 'coreutils/sleep', argv: sh('sleep 0.3 && echo done') },
  { name: 'coreutils/timeout', argv: sh('timeout 0.5 sleep 5; echo $?'), stdout: '124\n' },
  { name: 'coreutils/mktemp', argv: sh('d=$(mktemp -d -p $TSV_TMP) && test -d "$d" && echo ok') },
  { name: 'coreutils/split-cat', argv: sh('cd $TSV_TMP && seq 1 1000 > n && split -l 300 n part. && ls && cat part.* | cmp - n && echo same') },
  { name: 'coreutils/sort-big', argv: sh('seq 1 50000 | sort -r | head -3') },
  { name: 'coreutils/chmod-ls', argv: sh('cd $TSV_TMP && touch f && chmod 751 f && ls -l f | cut -d" " -f1 && test -x f && echo exec') },
  { name: 'coreutils/cat-missing', argv: ['/bin/cat', '/nonexistent-tsv'], status: 1, stderr: true },
  { name: 'coreutils/ls-missing', argv: ['/bin/ls', '/nonexistent-tsv'], status: 2, stderr: true },
];

/** bash features. */
const bashCases = [
  { name: 'bash/pipeline', argv: bash("echo c a b | tr ' ' '\\n' | sort -r | head -2") },
  // A bare command name: found through PATH, argv[0] stays as typed.
  { name: 'bash/argv0-as-given', argv: ['sh', '-c', 'echo $0; tr "\\0" " " < /proc/self/cmdline; echo'] },
  { name: 'bash/subshell', argv: bash('(cd /etc && pwd); pwd; x=1; (x=2; echo inner $x); echo outer $x'), cwd: '/usr' },
  { name: 'bash/command-substitution', argv: bash('echo "$(echo inner $(echo nested))"; n=$(ls /etc/apt | wc -l); echo $((n > 0)); echo `echo backticks`') },
  { name: 'bash/redirections',
    argv: bash('cd $TSV_TMP; echo one > r; echo two >> r; cat < r; wc -l < r; ls /nonexistent-tsv 2> err; echo status $?; wc -l < err; exec 3> fd3; echo three >&3; exec 3>&-; cat fd3; echo both &> both; cat both; cat <> r') },
  { name: 'bash/read-stdin', argv: bash('while read name age; do echo "$name is $age"; done; echo end'), input: 'alice 30\nbob 25\ncarol 41\n' },
  { name: 'bash/read-line-count', argv: bash('n=0; while IFS= read -r l; do n=$((n+1)); done; echo $n'), input: thousandLines },
  { name: 'bash/functions', argv: bash('f() { local a=$1; echo $((a * 2)); return 3; }; f 21; echo rc=$?; fib() { if (( $1 < 2 )); then echo $1; else echo $(( $(fib $(($1-1))) + $(fib $(($1-2))) )); fi; }; fib 12') },
  { name: 'bash/arithmetic', argv: bash('echo $(( (7+3)*5 % 13 )) $((2**40)) $((0x1f)) $((-7/2)) $((1<<62))') },
  { name: 'bash/pipeline-status', argv: bash('false | true; echo $?; true | false; echo $?; set -o pipefail; false | true; echo $?; true | (exit 3) | true; echo ${PIPESTATUS[@]}') },
  { name: 'bash/exec', argv: bash('exec /bin/echo replaced; echo never'), stdout: 'replaced\n' },
  { name: 'bash/exec-redirect', argv: bash('exec > $TSV_TMP/o; echo hidden; exec >&2; cat $TSV_TMP/o') },
  { name: 'bash/heredoc', argv: bash("cat <<EOF\nline $((1+1))\n  indented\nEOF\ncat <<'EOF'\n$NOT_EXPANDED\nEOF\ncat <<-EOF\n\ttab stripped\n\tEOF") },
  { name: 'bash/herestring', argv: bash('tr a-z A-Z <<< "here string"; read x y <<< "1 2"; echo $y$x') },
  { name: 'bash/background-wait', argv: bash('sleep 0.1 & wait $!; echo waited $?; (exit 4) & wait $!; echo $?; { for i in 1 2 3; do (echo job $i) & done; wait; } | sort; echo all') },
  { name: 'bash/trap', argv: bash("trap 'echo caught USR1' USR1; kill -USR1 $$; echo after; trap 'echo bye' EXIT; exit 2"), status: 2 },
  { name: 'bash/arrays-strings', argv: bash('a=(x y z); echo ${#a[@]} ${a[1]} ${a[@]:1}; s=hello; echo ${s^^} ${s:1:3} ${#s} ${s/l/L}; declare -A m=([k]=v); echo ${m[k]}') },
  { name: 'bash/process-substitution', argv: bash('cat <(echo procsub); diff <(seq 3) <(seq 3) && echo same') },
  { name: 'bash/glob', argv: bash('cd /usr/share/common-licenses && echo GPL* && echo [AB]*') },
  { name: 'bash/set-e', argv: bash('set -e; echo before; false; echo not reached'), status: 1 },
  { name: 'bash/ulimit', argv: bash('ulimit -n; ulimit -s') },
  { name: 'bash/kill-self', argv: bash('kill -9 $$'), status: 137, sandboxStatus: 0 }, // PID 1 ignores it (init/ cases)
  { name: 'bash/dollar-dollar', argv: bash('echo $$'), sandboxStdout: () => '1\n' },
  { name: 'bash/large-output', argv: bash('seq 1 200000') },
  { name: 'bash/large-stdin', argv: bash('wc -c'), input: Buffer.alloc(8 << 20, 'x') },
  { name: 'bash/type-builtins', argv: bash('type cd echo ls; command -v sh') },
  { name: 'bash/cd-dirs', argv: bash('cd /etc; cd /usr; cd - >/dev/null; pwd; pushd /tmp >/dev/null; popd >/dev/null; pwd') },
  { name: 'bash/script-file', argv: bash('printf \'#!/bin/bash\\necho "script $1"\\nexit 5\\n\' > $TSV_TMP/s.sh; chmod +x $TSV_TMP/s.sh; $TSV_TMP/s.sh arg; echo rc=$?; bash $TSV_TMP/s.sh two') },
  { name: 'bash/nested-shells', argv: bash('bash -c "sh -c \'echo deep; exit 6\'"; echo $?') },
];

/** python3, no subprocesses for now. */
const python = [
  { name: 'python/file-io', argv: py('import os; p=os.environ["TSV_TMP"]+"/f.txt"; open(p,"w").write("hi\\n"*3); print(open(p).read().count("hi"), os.path.getsize(p)); os.rename(p, p+".2"); print(os.path.exists(p), os.path.exists(p+".2"))') },
  { name: 'python/listdir', argv: py(`import os; print(sorted(os.listdir("${LICENSES}"))); print(len(os.listdir("/")) > 5)`) },
  { name: 'python/walk', argv: py('import os; print(sorted((d, sorted(f)) for d, _, f in os.walk("/etc/apt")))') },
  { name: 'python/json', argv: py('import json; d={"a":[1,2.5,None,True],"b":{"c":"\\u00e9"}}; s=json.dumps(d, sort_keys=True); print(s); print(json.loads(s)==d)') },
  { name: 'python/hashlib', argv: py('import hashlib; print(hashlib.sha256(b"abc"*1000).hexdigest()); print(hashlib.md5(open("/etc/os-release","rb").read()).hexdigest())') },
  { name: 'python/re', argv: py('import re; print(re.findall(r"(\\w+)=\\"?([^\\"\\n]*)", open("/etc/os-release").read())[:3]); print(re.sub(r"\\d+", lambda m: str(int(m.group())*2), "a1 b22 c333"))') },
  { name: 'python/bigint', argv: py('import math; print(2**1000 % 10**9, len(str(3**10000)), math.factorial(50) % 1000003, pow(7, 10**18, 10**9+7))') },
  { name: 'python/stdin-upper', argv: py('import sys; print(sys.stdin.read().upper())'), input: 'hello from stdin\nsecond line\n' },
  { name: 'python/argv', argv: py('import sys; print(sys.argv[1:])', 'a', 'b c', '') },
  { name: 'python/stat', argv: py('import os, stat; s=os.stat("/etc/passwd"); print(s.st_size, stat.S_ISREG(s.st_mode), oct(s.st_mode & 0o777), s.st_nlink, s.st_uid)') },
  { name: 'python/time', argv: py('import time; a=time.monotonic(); time.sleep(0.1); b=time.monotonic(); print(0.09 < b-a < 3, time.time() > 1.7e9)') },
  { name: 'python/environ-cwd', argv: py('import os; print(os.getcwd()); print(os.environ.get("TSV_TMP") is not None)'), cwd: '/etc' },
  { name: 'python/zlib-struct', argv: py('import zlib, struct; d=zlib.compress(bytes(range(256))*100); print(len(zlib.decompress(d)), struct.pack("<IhQ", 1, -2, 3).hex())') },
  { name: 'python/sqlite-memory', argv: py('import sqlite3; c=sqlite3.connect(":memory:"); c.execute("create table t(x)"); c.executemany("insert into t values (?)", [(i,) for i in range(1000)]); print(c.execute("select sum(x), count(*) from t").fetchone())') },
  { name: 'python/sqlite-file', argv: py('import os, sqlite3; c=sqlite3.connect(os.environ["TSV_TMP"]+"/db"); c.execute("create table t(x)"); c.execute("insert into t values (42)"); c.commit(); print(c.execute("select x from t").fetchall())') },
  { name: 'python/threads', argv: py('import threading; r=[]; ts=[threading.Thread(target=lambda i=i: r.append(sum(range(i*10000)))) for i in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]; print(sorted(r))') },
  { name: 'python/exit-code', argv: py('raise SystemExit(5)'), status: 5 },
  { name: 'python/exception', argv: py('def f():\n    raise ValueError("boom")\nf()'), status: 1, stderr: true },
  { name: 'python/unicode', argv: py('print("h\\u00e9llo \\u2713", len("\\u2713".encode()))') },
  { name: 'python/float-format', argv: py('import math; print(f"{math.pi:.10f} {1e300*1e10} {0.1+0.2!r} {2**0.5:.3e}")') },
  { name: 'python/import-many', argv: py('import collections, itertools, functools, decimal, fractions, datetime, pathlib, tempfile, shutil, csv, io, textwrap, unittest; print("imported")') },
  { name: 'python/tempfile', argv: py('import tempfile, os; d=tempfile.mkdtemp(dir=os.environ["TSV_TMP"]); f=os.path.join(d,"x"); open(f,"wb").write(b"\\0"*100000); print(os.path.getsize(f)); import shutil; shutil.rmtree(d); print(os.path.exists(d))') },
];
for (const c of python) c.requires = PY;

/** Exit statuses, including deaths by signal and exec failures. */
const exits = [
  { name: 'exit/sh-exit-3', argv: sh('exit 3'), status: 3 },
  { name: 'exit/sh-exit-255', argv: sh('exit 255'), status: 255 },
  { name: 'exit/sh-exit-256', argv: sh('exit 256'), status: 0 },
  // In the sandbox these run as PID 1, which ignores signals it left at SIG_DFL
  // when they come from inside (see the init/ cases); faults still kill it.
  { name: 'exit/sh-kill-9', argv: sh('kill -9 $$'), status: 137, sandboxStatus: 0 },
  { name: 'exit/sh-kill-term', argv: sh('kill -TERM $$'), status: 143, sandboxStatus: 0 },
  { name: 'exit/direct-nonexistent', argv: ['/nonexistent-tsv/command'], status: 127 },
  { name: 'exit/sh-nonexistent', argv: sh('nonexistent_command_tsv'), status: 127, stderr: true },
  { name: 'exit/bash-nonexistent', argv: bash('nonexistent_command_tsv'), status: 127, stderr: true },
  { name: 'exit/direct-not-executable', argv: ['/etc/passwd'], status: 126 },
  { name: 'exit/sh-not-executable', argv: sh('/etc/passwd'), status: 126, stderr: true },
  { name: 'exit/sh-directory', argv: sh('/etc'), status: 126, stderr: true },
  { name: 'exit/python-segv', requires: PY, argv: py('import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'), status: 139, sandboxStatus: 0 },
  { name: 'exit/python-abort', requires: PY, argv: py('import os, resource; resource.setrlimit(resource.RLIMIT_CORE, (0, 0)); os.abort()'), status: 134,
    // As PID 1, abort()'s SIGABRT is ignored; glibc then faults (hlt), and a fault kills init.
    sandboxStatus: 139 },
  { name: 'exit/child-status-via-shell', argv: sh('sh -c "exit 9"; echo $?; sh -c "kill -9 \\$\\$"; echo $?') },
];

/** Standard streams. */
const stdio = [
  { name: 'stdio/sh-wc-l-1000', argv: sh('wc -l'), input: thousandLines, stdout: '1000\n' },
  { name: 'stdio/stderr', argv: sh('echo out; echo err >&2; echo out2'), stderr: true },
  { name: 'stdio/binary-roundtrip', argv: ['/bin/cat'], input: allBytes },
  { name: 'stdio/no-input', argv: ['/bin/cat'], stdout: '' },
  { name: 'stdio/head-closes-early', argv: sh('head -c 10 > /dev/null; echo done'), input: Buffer.alloc(1 << 20, 'y') },
  { name: 'stdio/dev-stdout', argv: sh('echo via-dev-stdout > /dev/stdout; echo via-dev-stderr > /dev/stderr'), stderr: true },
  { name: 'stdio/dev-null-zero', argv: sh('echo gone > /dev/null; head -c 5 /dev/zero | od -An -tx1; head -c 16 /dev/urandom | wc -c') },
  { name: 'stdio/isatty', argv: sh('test -t 0; echo $?; test -t 1; echo $?') },
];

/** Command-line flags of runsc. */
const cli = [
  { name: 'cli/strace', runscFlags: ['--strace'], argv: ['/bin/echo', 'traced'] },
  { name: 'cli/platform-network', runscFlags: ['--platform=ptrace', '--network=none'], argv: ['/bin/echo', 'flags'] },
  { name: 'cli/debug-log', runscFlags: (ctx) => ['--debug', `--debug-log=${ctx.path('debug.log')}`], argv: ['/bin/echo', 'logged'],
    check: (ctx, side) => {
      if (side !== 'sandbox') return null;
      const f = ctx.path('debug.log');
      const ok = fs.existsSync(f) && fs.statSync(f).size > 0;
      fs.rmSync(f, { force: true });
      return ok ? null : `--debug-log did not write ${f}`;
    } },
  { name: 'cli/volume',
    setup: (ctx) => fs.writeFileSync(path.join(ctx.tmp, 'hello.txt'), 'from the host\n'),
    doFlags: (ctx) => ['--volume', `${ctx.tmp}:/mnt/tsv-volume`],
    argv: (ctx, side) => {
      const dir = side === 'native' ? ctx.tmp : '/mnt/tsv-volume';
      return sh(`cat ${dir}/hello.txt && ls ${dir}`);
    },
    check: (ctx, side) => {
      const names = fs.readdirSync(ctx.tmp);
      return side === 'sandbox' && names.join() !== 'hello.txt' ? `host volume now holds ${names.join(', ')}` : null;
    } },
];
// Pseudo-terminals, inotify and xattrs (issue 4).
const vfsCases = [
  { name: 'pty/script-tty', argv: ['/usr/bin/script', '-qc', 'tty', '/dev/null'], requires: ['/usr/bin/script'],
    stdoutMatch: /^\/dev\/pts\/\d+\r\n$/, sandboxStdout: (native) => native.replace(/\d+\r\n$/, '0\r\n') },
  { name: 'pty/script-stty', argv: ['/usr/bin/script', '-qc', 'stty -a | head -4', '/dev/null'],
    requires: ['/usr/bin/script'] },
  { name: 'pty/python-spawn', argv: py(`
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv('/bin/sh', ['sh', '-c', 'read x; stty size; echo "got $x"; tty | sed "s/[0-9]*$/N/"'])
import fcntl, termios, struct
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
os.write(fd, b'hello\r')
out = b''
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
print(repr(out), os.waitpid(pid, 0)[1])
`) },
];


// Real programs as a new user would try them (issues 4-6), and PID 1's
// protection from signals sent inside its namespace (Linux's
// SIGNAL_UNKILLABLE). Natively the init/ commands run under
// `unshare --pid --fork` so that they are a PID namespace's init too.
const UNSHARE = '/usr/bin/unshare';
const asInit = (argv) => (ctx, side) => (side === 'native' ? [UNSHARE, '--pid', '--fork', ...argv] : argv);
const GIT_ENV = { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b',
  GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z', GIT_CONFIG_NOSYSTEM: '1' };
const programs = [
  { name: 'init/ignores-default-signals', requires: [UNSHARE],
    argv: asInit(sh('kill -TERM $$; echo term; kill -9 $$; echo kill; kill -STOP $$; echo stop; kill -USR1 1; echo usr1; sh -c \'kill -TERM $$\'; echo child=$?')),
    stdout: 'term\nkill\nstop\nusr1\nchild=143\n' },
  { name: 'init/handled-and-blocked', requires: [UNSHARE, ...PY], argv: asInit(py(`
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM, signal.SIGUSR1])
os.kill(1, signal.SIGTERM); os.kill(1, signal.SIGUSR1)
print(sorted(signal.sigpending()))
signal.signal(signal.SIGTERM, lambda *a: print("handled TERM"))
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGUSR1])
print("SIGUSR1 dropped at delivery")
os.kill(1, signal.SIGSEGV); print("SIGSEGV ignored")
`)) },
  { name: 'init/fault-kills', requires: [UNSHARE, ...PY], argv: asInit(py('import ctypes; ctypes.string_at(0)')), status: 139 },
  { name: 'init/sigpipe-ignored', requires: [UNSHARE, ...PY],
    argv: asInit(py('import os, signal\nr, w = os.pipe(); os.close(r)\ntry:\n    os.write(w, b"x")\nexcept BrokenPipeError:\n    print("EPIPE")')),
    stdout: 'EPIPE\n' },
  { name: 'prog/gcc-compile-run', requires: ['/usr/bin/gcc'],
    argv: (ctx) => sh(`cd ${ctx.tmp} && printf '#include <stdio.h>\\nint main(void){printf("hello %%d\\\\n", 6*7);return 0;}\\n' > h.c && gcc -O2 -pipe -o h h.c && ./h && gcc -O2 -c h.c -o h.o && gcc -o h2 h.o && ./h2`),
    stdout: 'hello 42\nhello 42\n' },
  { name: 'prog/make-j2', requires: ['/usr/bin/make', '/usr/bin/gcc'],
    argv: (ctx) => sh(`cd ${ctx.tmp} && for i in 1 2 3; do echo "int f$i(void){return $i;}" > f$i.c; done && echo 'int f1(void),f2(void),f3(void); int main(void){return f1()+f2()+f3();}' > m.c && printf 'p: m.o f1.o f2.o f3.o\\n\\tgcc -o $@ $^\\n%%.o: %%.c\\n\\tgcc -c -O2 $< -o $@\\n' > Makefile && make -s -j2 && ./p; echo $?`),
    stdout: '6\n' },
  { name: 'prog/git-commit-log', requires: ['/usr/bin/git'], env: GIT_ENV,
    argv: (ctx) => sh(`export HOME=${ctx.tmp}; cd ${ctx.tmp} && git init -q -b main r && cd r && echo hi > f && git add f && git commit -qm one && echo more >> f && git commit -qam two && git log --oneline && git gc -q && git fsck -q && git cat-file -p HEAD:f`) },
  { name: 'prog/tar-xz-gzip', requires: ['/usr/bin/xz', '/usr/bin/gzip', '/usr/bin/tar', LICENSES],
    argv: (ctx) => sh(`cd ${ctx.tmp} && tar cf a.tar --sort=name -C /usr/share common-licenses && mkdir x && tar xf a.tar -C x && diff -r ${LICENSES} x/common-licenses && echo same && xz -9 -k a.tar && xz -dc a.tar.xz | cmp - a.tar && gzip -9 a.tar && gzip -dc a.tar.gz | sha256sum | cut -c1-16 && tar tzf a.tar.gz | sort | head -3`) },
  { name: 'prog/sort-temp-files', argv: (ctx) => sh(`cd ${ctx.tmp} && seq 1 200000 | sort -R --random-source=${LICENSES}/GPL-3 > r && sort -n -S 1M -T ${ctx.tmp} r | md5sum && sort -S 64K --parallel=2 r | tail -1 && split -l 50000 r part && ls part* && cat part* | cmp - r && echo split-ok`),
    requires: [LICENSES] },
  { name: 'prog/python-pool-sqlite-wal', requires: PY, argv: (ctx) => py(`
import multiprocessing as mp, os, sqlite3
def sq(x): return x * x
if __name__ == "__main__":
    with mp.Pool(2) as p: print(sum(p.map(sq, range(1000))))
    d = os.environ["TSV_TMP"]
    c = sqlite3.connect(d + "/w.db"); print(c.execute("pragma journal_mode=wal").fetchone())
    c.execute("create table t(x)")
    with c: c.executemany("insert into t values (?)", [(i,) for i in range(5000)])
    c2 = sqlite3.connect(d + "/w.db"); print(c2.execute("select count(*), sum(x) from t").fetchone())
    with c: c.execute("delete from t where x % 2")
    print(c2.execute("select count(*) from t").fetchone(), sorted(os.listdir(d)))
`) },
  { name: 'prog/python-http-server-curl', requires: [...PY, '/usr/bin/curl'],
    argv: (ctx) => sh(`cd ${ctx.tmp} && echo hello > i.txt && python3 -m http.server 18765 --bind 127.0.0.1 >/dev/null 2>&1 & P=$!; for i in $(seq 50); do curl -sf http://127.0.0.1:18765/i.txt && break; sleep 0.1; done; curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:18765/nope; kill $P; wait $P; echo $?`),
    stdout: 'hello\n404\n143\n' },
  { name: 'prog/node-worker-child', requires: ['/usr/bin/node'], argv: ['/usr/bin/node', '-e', `
const { Worker } = require('worker_threads'), cp = require('child_process'), crypto = require('crypto');
const w = new Worker('require("worker_threads").parentPort.postMessage(require("crypto").createHash("sha256").update("x".repeat(1e6)).digest("hex").slice(0, 8))', { eval: true });
w.on('message', (m) => {
  console.log('worker', m, 'exec', cp.execSync('echo hi').toString().trim());
  const c = cp.spawn('sh', ['-c', 'cat; exit 3']); let o = '';
  c.stdout.on('data', (d) => (o += d)); c.on('close', (code) => console.log('spawn', o, code)); c.stdin.end('piped');
});`] },
  { name: 'prog/openssl-ssh-keygen', requires: ['/usr/bin/openssl', '/usr/bin/ssh-keygen'],
    argv: (ctx) => sh(`cd ${ctx.tmp} && openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=t 2>/dev/null && openssl x509 -in c.pem -noout -subject && openssl rsa -in k.pem -check -noout && ssh-keygen -q -t ed25519 -N '' -f ./id && ssh-keygen -l -f id.pub | cut -d' ' -f1,4`) },
  // PostgreSQL: System V shared memory, sync_file_range, fork-per-connection, unix sockets.
  { name: 'prog/postgres-initdb-query', requires: ['/usr/local/bin/initdb', '/usr/local/bin/pg_ctl', '/usr/bin/psql', '/usr/bin/setpriv'],
    timeout: 90000,
    argv: (ctx) => {
      const nobody = 'setpriv --reuid=65534 --regid=65534 --clear-groups';
      return sh(`chmod 777 ${ctx.tmp} && ${nobody} initdb -N -D ${ctx.tmp}/pg -A trust -U postgres >/dev/null 2>&1; echo initdb=$?; ` +
        `${nobody} pg_ctl -D ${ctx.tmp}/pg -o "-k ${ctx.tmp} -c listen_addresses=" -l ${ctx.tmp}/pg.log -w start >/dev/null; echo start=$?; ` +
        `psql -h ${ctx.tmp} -U postgres -Atc "create table t(x int); insert into t select generate_series(1,1000); select sum(x) from t;"; ` +
        `${nobody} pg_ctl -D ${ctx.tmp}/pg -m fast -w stop >/dev/null; echo stop=$?; grep -c "WARNING\\|FATAL\\|PANIC" ${ctx.tmp}/pg.log`);
    },
    stdout: 'initdb=0\nstart=0\nCREATE TABLE\nINSERT 0 1000\n500500\nstop=0\n0\n' },
  // The JVM as PID 1: dozens of threads, signals, and exit_group while they wait.
  { name: 'prog/java-source-launch', requires: ['/usr/bin/java'], timeout: 90000,
    setup: (ctx) => fs.writeFileSync(path.join(ctx.tmp, 'H.java'),
      'public class H { public static void main(String[] a) throws Exception {\n' +
      '  long s = java.util.stream.LongStream.range(0, 1000000).parallel().sum();\n' +
      '  Thread t = new Thread(() -> System.out.println("thread")); t.start(); t.join();\n' +
      '  System.out.println("hello java " + s); } }\n'),
    argv: (ctx) => ['/usr/bin/java', '-XX:-UsePerfData', path.join(ctx.tmp, 'H.java')],
    stdout: 'thread\nhello java 499999500000\n' },
  { name: 'prog/perl', requires: ['/usr/bin/perl'],
    argv: (ctx) => ['/usr/bin/perl', '-e', `my %h = map { $_ => $_**2 } 1..10; print join(",", map { $h{$_} } sort { $a <=> $b } keys %h), "\\n"; open(my $f, ">", "${ctx.tmp}/pf") or die; print $f "x" x 100; close $f; print -s "${ctx.tmp}/pf", "\\n"; my $pid = fork; if (!$pid) { exit 7 } waitpid($pid, 0); print $? >> 8, "\\n";`] },
];

/** Network programs a new user tries, over the sandbox's own loopback
 *  (test/net/progs): iperf3, socat, busybox nc/httpd/telnet, a Go service,
 *  Node's http and fetch. Fixed ports natively; the sandbox has its own stack. */
const PROGS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'net', 'progs');
const NET_BUILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build');
/** buildGo compiles test/net/progs/NAME.go (static, CGO_ENABLED=0) into test/build once it is stale. */
function buildGo(name) {
  const src = path.join(PROGS, `${name}.go`);
  const out = path.join(NET_BUILD, name);
  if (fs.existsSync(out) && fs.statSync(out).mtimeMs >= fs.statSync(src).mtimeMs) return out;
  fs.mkdirSync(NET_BUILD, { recursive: true });
  const r = spawnSync('/usr/bin/go', ['build', '-o', out, src], { encoding: 'utf8', timeout: 300000,
    env: { ...process.env, CGO_ENABLED: '0', GOCACHE: process.env.GOCACHE ?? path.join(NET_BUILD, 'go-cache'), GOFLAGS: '' } });
  if (r.status !== 0) throw new Error(`go build ${name}: ${r.stderr || r.error}`);
  return out;
}
const NONET = ['--network=none'];
const netPrograms = [
  { name: 'prog/iperf3', requires: ['/usr/bin/iperf3', ...PY], runscFlags: NONET, timeout: 90000,
    argv: ['/bin/sh', path.join(PROGS, 'iperf3.sh')],
    stdout: 'tcp ok\nreverse ok\nparallel ok\nipv6 ok\nwindow ok\nudp ok\nudp-dont-fragment ok\nbidir ok\nserver=1\n' },
  { name: 'prog/socat', requires: ['/usr/bin/socat'], runscFlags: NONET, argv: ['/bin/sh', path.join(PROGS, 'socat.sh')],
    stdout: 'HELLO\nWORLD\nRELAYED\nUNIX\n6v\nudp\nbig-same\ndone\n' },
  // The same relays over host sockets (--network=host: real host ports, apart from prog/socat's native run).
  { name: 'prog/socat-hostnet', requires: ['/usr/bin/socat'], runscFlags: ['--network=host'], env: { SOCAT_BASE: '17020' },
    argv: ['/bin/sh', path.join(PROGS, 'socat.sh')],
    stdout: 'HELLO\nWORLD\nRELAYED\nUNIX\n6v\nudp\nbig-same\ndone\n' },
  { name: 'prog/busybox-net', requires: [BB], runscFlags: NONET, argv: ['/bin/sh', path.join(PROGS, 'busybox_net.sh')],
    stdout: 'hello nc\nfrom-server\ngot:ping\nindex\ncgi a=1 GET\ncgi b=2 POST\nwget-missing=1\nvia-telnet\ndone\n' },
  // busybox ping uses raw sockets only: it works with --net-raw, and fails without (gVisor's default).
  { name: 'prog/busybox-ping-net-raw', requires: [BB], runscFlags: ['--net-raw', ...NONET],
    argv: bbsh('ping -c 2 127.0.0.1 | grep -c "bytes from 127.0.0.1"; ping6 -c 1 ::1 | grep -c "ttl=64"'), stdout: '2\n1\n' },
  { name: 'prog/busybox-ping-no-net-raw', requires: [BB], runscFlags: NONET,
    argv: bbsh('ping -c 1 127.0.0.1 >/dev/null 2>&1; echo $?'), sandboxStdout: () => '1\n' },
  { name: 'prog/go-net', requires: ['/usr/bin/go'], runscFlags: NONET, timeout: 90000,
    argv: () => [buildGo('go_net')],
    stdout: 'gc preempts spinning goroutines: true\nkeep-alive requests ok 800 bad 0\none connection per request ok 160 bad 0\n' +
      'big 1048576 true\ndial to a closed port refused: true\nread deadline times out: true\nudp echoes 100\nunix lines 1000\n' +
      'half-close: got 300000\nshutdown: <nil>\n' },
  { name: 'prog/node-http-fetch', requires: ['/usr/bin/node'], runscFlags: NONET,
    argv: ['/usr/bin/node', path.join(PROGS, 'node_http.mjs')] },
];

/** Servers a new user runs: nginx (2 workers, sendfile, reload, quit) and redis
 *  (BGSAVE from a forked child over a big heap). Ports 17301/17311 and 17401-2/17411-2. */
const NGINX_OUT = 'config-ok\npid-file-ok\nworkers 2\nmaster: nginx: master process\n2 nginx: worker process\nhello nginx\naccept_mutex off\nseq-same\nbig-same\nrange-same\n200 12 1\n200 108894 0\n200 5242880 0\n404 153 0\n200 12 0\nhead 200\nContent-Type: application/octet-stream\nContent-Length: 5242880\nstatus-page 200\nparallel 10 same\naccept_mutex on\nafter reload workers 2 old-left 0\nbig-same-after-reload\nnginx exit 0\npid-file-removed\nworkers left 0\nbig requests logged 15\nerrors 0\ndone\n';
const REDIS_OUT = 'PONG\nOK 1000 values 1000 last v1000\n1000\n1001\nOK\nbig-same\n2000000\n1\nq woken \n1\nhello\nbenchmark 2 tests\nOK\n301003\nBackground saving started\n3000\nrdb_changes_since_last_save:3000\nrdb_last_bgsave_status:ok\nrdb-exists\nRDB looks OK!\n301003 keys read\n301003\nparent-changed\nredis exit 0\nsnapshot-is-fork-time-state\n1\ndone\n';
const serverPrograms = [
  { name: 'prog/nginx', requires: ['/usr/sbin/nginx', '/usr/bin/curl', '/usr/bin/pgrep', '/usr/bin/ps'], runscFlags: NONET,
    argv: ['/bin/sh', path.join(PROGS, 'nginx.sh')], stdout: NGINX_OUT },
  { name: 'prog/nginx-hostnet', requires: ['/usr/sbin/nginx', '/usr/bin/curl', '/usr/bin/pgrep', '/usr/bin/ps'],
    runscFlags: ['--network=host'], env: { NGINX_BASE: '17310' }, argv: ['/bin/sh', path.join(PROGS, 'nginx.sh')], stdout: NGINX_OUT },
  { name: 'prog/redis', requires: ['/usr/bin/redis-server', '/usr/bin/redis-cli', '/usr/bin/redis-benchmark', '/usr/bin/redis-check-rdb'],
    runscFlags: NONET, argv: ['/bin/sh', path.join(PROGS, 'redis.sh')], stdout: REDIS_OUT },
  { name: 'prog/redis-hostnet', requires: ['/usr/bin/redis-server', '/usr/bin/redis-cli', '/usr/bin/redis-benchmark', '/usr/bin/redis-check-rdb'],
    runscFlags: ['--network=host'], env: { REDIS_BASE: '17410' }, argv: ['/bin/sh', path.join(PROGS, 'redis.sh')], stdout: REDIS_OUT },
];

/** System V and POSIX IPC, /proc/[pid]/ns. */
const IPCS_PL = "use IPC::SysV qw(IPC_CREAT IPC_EXCL IPC_RMID);\nmy $key = 0x7a000000 + $$;\nmy $q = msgget($key, IPC_CREAT | IPC_EXCL | 0640) // die \"msgget: $!\";\nmsgsnd($q, pack(\"l! a*\", 1, \"hello\"), 0) or die \"msgsnd: $!\";\nmsgsnd($q, pack(\"l! a*\", 2, \"abc\"), 0) or die \"msgsnd: $!\";\nmy $s = semget($key, 3, IPC_CREAT | IPC_EXCL | 0600) // die \"semget: $!\";\nmy $hex = sprintf(\"0x%08x\", $key);\nfor my $opt ('-q', '-s') {\n  for (`ipcs $opt`) { my @f = split; print join(\" \", $opt, @f[3..$#f]), \"\\n\" if $f[0] eq $hex; }\n}\nmy $row = (grep { /^\\s*$key\\s/ } `cat /proc/sysvipc/msg`)[0];\nmy @f = split ' ', $row; print \"proc msg perms=$f[2] cbytes=$f[3] qnum=$f[4]\\n\";\nmsgctl($q, IPC_RMID, 0); semctl($s, 0, IPC_RMID, 0);\nprint scalar(grep { /^$hex/ } `ipcs`), \" left\\n\";\n";
const MP_PY = "import multiprocessing as mp\ndef work(sem, lock, q, v, i):\n    with sem:\n        with lock:\n            v.value += i\n    q.put(i * i)\nif __name__ == '__main__':\n    ctx = mp.get_context('fork')\n    sem = ctx.Semaphore(2); lock = ctx.Lock(); q = ctx.Queue(); v = ctx.Value('i', 0)\n    ps = [ctx.Process(target=work, args=(sem, lock, q, v, i)) for i in range(6)]\n    for p in ps: p.start()\n    got = sorted(q.get() for _ in ps)\n    for p in ps: p.join()\n    print(v.value, got, [p.exitcode for p in ps])\n    with ctx.Pool(2) as pool: print(pool.map(abs, [-1, -2, 3]))\n    b = ctx.Barrier(3); print(b.parties)\n";
const ipcCases = [
  { name: 'ipc/ipcs-limits', requires: ['/usr/bin/ipcs'], argv: ['/usr/bin/ipcs', '-l'] },
  // Objects of its own, by key: the host's IPC namespace may hold others.
  { name: 'ipc/ipcs-own-objects', requires: ['/usr/bin/ipcs', '/usr/bin/perl'], argv: ['/usr/bin/perl', '-e', IPCS_PL],
    stdout: '-q 640 8 2\n-s 600 3\nproc msg perms=640 cbytes=8 qnum=2\n0 left\n' },
  // Namespace numbers differ from the host's: compare the shape.
  { name: 'ipc/proc-self-ns', argv: sh('cd /proc/self/ns && for f in *; do echo "$f $(readlink $f | sed -E "s/[0-9]+/N/") $(stat -L -c %F $f)"; done; ' +
      '[ "$(readlink /proc/$$/ns/ipc)" = "$(readlink /proc/self/ns/ipc)" ] && echo shared; ' +
      '[ "$(stat -L -c %i /proc/self/ns/uts)" = "$(readlink /proc/self/ns/uts | tr -dc 0-9)" ] && echo ino') },
  { name: 'ipc/python-multiprocessing-sem', requires: PY, argv: py(MP_PY),
    stdout: '15 [0, 1, 4, 9, 16, 25] [0, 0, 0, 0, 0, 0]\n[1, 2, 3]\n3\n' },
];

/** /proc files whose exact bytes programs parse. */
const procCases = [
  { name: 'proc/status-groups', requires: ['/usr/bin/setpriv'],
    argv: sh('setpriv --clear-groups grep Groups /proc/self/status | od -c; setpriv --groups 4,20 grep Groups /proc/self/status | od -c') },
  // tty_nr is a /dev/pts device under script, tpgid the terminal's foreground group; 0 and -1 without one.
  { name: 'proc/stat-tty', requires: ['/usr/bin/script'],
    argv: ['/usr/bin/script', '-qc', "awk '{print ($7 >= 34816 && $7 < 34816 + 256), ($8 == $5)}' /proc/self/stat", '/dev/null'] },
  { name: 'proc/stat-no-tty', argv: sh("setsid -w awk '{print $7, $8}' /proc/self/stat </dev/null") },
];

export const cases = [
  ...acceptance, ...escape, ...busybox, ...coreutils, ...bashCases, ...python, ...exits, ...stdio, ...cli,
  ...vfsCases, ...programs, ...netPrograms, ...serverPrograms, ...ipcCases, ...procCases,
];

/**
 * One case per C test program.
 * @param {{name: string, path: string}[]} programs built binaries
 */
export function cProgramCases(programs) {
  return programs.map(({ name, path: bin, error, runscFlags }) => ({
    name: `c/${name}`,
    argv: [bin],
    cprog: true,
    timeout: 120000,
    ...(runscFlags ? { runscFlags } : {}),
    ...(error ? { buildError: error } : {}),
  }));
}
