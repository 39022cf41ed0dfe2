# socat relays a new user tries: TCP-LISTEN with EXEC, a TCP relay, UNIX-LISTEN,
# TCP6, UDP, and a 3 MB file pipe. Run by test/diff/cases.mjs (prog/socat).
cd $TSV_TMP
R='retry=50,interval=0.1'
# Ports 17001-17006 from SOCAT_BASE=17000 (another base for a run on host sockets).
B=${SOCAT_BASE:-17000}
P1=$((B+1)) P2=$((B+2)) P3=$((B+3)) P5=$((B+5)) P6=$((B+6))
socat TCP-LISTEN:$P1,reuseaddr,fork EXEC:'tr a-z A-Z' & S1=$!
echo hello | socat - TCP:127.0.0.1:$P1,$R
echo world | socat - TCP4:localhost:$P1,$R
socat TCP-LISTEN:$P2,reuseaddr,fork TCP:127.0.0.1:$P1 & S2=$!
echo relayed | socat - TCP:127.0.0.1:$P2,$R
socat UNIX-LISTEN:$TSV_TMP/s.sock,fork EXEC:'tr a-z A-Z' & S3=$!
for i in $(seq 50); do [ -S s.sock ] && break; sleep 0.1; done
echo unix | socat - UNIX-CONNECT:$TSV_TMP/s.sock
socat TCP6-LISTEN:$P5,reuseaddr,fork EXEC:rev & S4=$!
echo v6 | socat - TCP6:[::1]:$P5,$R
socat -u UDP-RECV:$P3 OPEN:u.txt,creat & S5=$!
for i in $(seq 50); do echo udp | socat -u - UDP-SENDTO:127.0.0.1:$P3; [ -s u.txt ] && break; sleep 0.1; done
head -1 u.txt
head -c 3000000 /dev/zero | tr '\0' x > big
socat -u TCP-LISTEN:$P6,reuseaddr OPEN:got,creat & S6=$!
socat -u FILE:big TCP:127.0.0.1:$P6,$R
wait $S6; cmp big got && echo big-same
kill $S1 $S2 $S3 $S4 $S5; wait
echo done
