# socat relays a new user tries: TCP-LISTEN with EXEC, a TCP relay, UNIX-LISTEN,
# TCP6, UDP, and a 3 MB file pipe. Run by test/diff/cases.mjs (prog/socat).
cd $TSV_TMP
R='retry=50,interval=0.1'
socat TCP-LISTEN:17001,reuseaddr,fork EXEC:'tr a-z A-Z' & S1=$!
echo hello | socat - TCP:127.0.0.1:17001,$R
echo world | socat - TCP4:localhost:17001,$R
socat TCP-LISTEN:17002,reuseaddr,fork TCP:127.0.0.1:17001 & S2=$!
echo relayed | socat - TCP:127.0.0.1:17002,$R
socat UNIX-LISTEN:$TSV_TMP/s.sock,fork EXEC:'tr a-z A-Z' & S3=$!
for i in $(seq 50); do [ -S s.sock ] && break; sleep 0.1; done
echo unix | socat - UNIX-CONNECT:$TSV_TMP/s.sock
socat TCP6-LISTEN:17005,reuseaddr,fork EXEC:rev & S4=$!
echo v6 | socat - TCP6:[::1]:17005,$R
socat -u UDP-RECV:17003 OPEN:u.txt,creat & S5=$!
for i in $(seq 50); do echo udp | socat -u - UDP-SENDTO:127.0.0.1:17003; [ -s u.txt ] && break; sleep 0.1; done
head -1 u.txt
head -c 3000000 /dev/zero | tr '\0' x > big
socat -u TCP-LISTEN:17006,reuseaddr OPEN:got,creat & S6=$!
socat -u FILE:big TCP:127.0.0.1:17006,$R
wait $S6; cmp big got && echo big-same
kill $S1 $S2 $S3 $S4 $S5; wait
echo done
