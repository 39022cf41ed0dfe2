# busybox nc pairs (both directions, -e), httpd with CGI (GET, POST, 404)
# and telnet driving a shell. Run by test/diff/cases.mjs (prog/busybox-net).
cd $TSV_TMP
B=/bin/busybox
waitport() { for i in $(seq 100); do $B netstat -ltn | grep -q ":$1 " && return; sleep 0.05; done; echo "no listener on $1"; }
$B nc -l -p 17101 > got & L=$!
waitport 17101; echo "hello nc" | $B nc 127.0.0.1 17101; wait $L; cat got
echo from-server | $B nc -l -p 17102 & L=$!
waitport 17102; $B nc 127.0.0.1 17102 </dev/null; wait $L
$B nc -l -p 17103 -e $B sh -c 'read x; echo got:$x' & L=$!
waitport 17103; echo ping | $B nc 127.0.0.1 17103; wait $L
mkdir -p h/cgi-bin && echo index > h/index.html
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho cgi $QUERY_STRING $REQUEST_METHOD\n' > h/cgi-bin/t && chmod +x h/cgi-bin/t
$B httpd -f -p 127.0.0.1:17180 -h $TSV_TMP/h & H=$!
waitport 17180
$B wget -q -O - http://127.0.0.1:17180/
$B wget -q -O - 'http://127.0.0.1:17180/cgi-bin/t?a=1'
$B wget -q -O - --post-data x=1 'http://127.0.0.1:17180/cgi-bin/t?b=2'
$B wget -q -O - http://127.0.0.1:17180/missing; echo wget-missing=$?
kill $H; wait $H
$B nc -l -p 17104 -e $B sh & L=$!
waitport 17104
(echo 'echo via-telnet'; sleep 1) | $B telnet 127.0.0.1 17104 | tr -d '\r' | grep -v '^Connected'
wait $L
echo done
