# nginx as a new user runs it: 2 workers, sendfile, static files (one 5 MB),
# keep-alive, ranges, a 404, reload with a changed config, quit.
# Run by test/diff/cases.mjs (prog/nginx); prints only deterministic lines.
cd "$TSV_TMP" || exit 1
# Port 17301 from NGINX_BASE=17300 (another base for a run on host sockets).
B=${NGINX_BASE:-17300}
P=$((B+1))
U=http://127.0.0.1:$P
mkdir -p www/sub logs tmp
printf 'hello nginx\n' > www/index.html
seq 1 20000 > www/sub/seq.txt
# 5 MB of varied but deterministic bytes.
seq 1 1000000 | head -c 5242880 > www/big.bin
conf() {  # $1: accept_mutex on|off
  cat > nginx.conf <<EOF
user root;
worker_processes 2;
pid $TSV_TMP/nginx.pid;
error_log $TSV_TMP/logs/error.log info;
events { worker_connections 256; accept_mutex $1; }
http {
  access_log $TSV_TMP/logs/access.log;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 30;
  client_body_temp_path $TSV_TMP/tmp/body;
  proxy_temp_path $TSV_TMP/tmp/proxy;
  fastcgi_temp_path $TSV_TMP/tmp/fastcgi;
  uwsgi_temp_path $TSV_TMP/tmp/uwsgi;
  scgi_temp_path $TSV_TMP/tmp/scgi;
  types { text/html html; text/plain txt; application/octet-stream bin; }
  server {
    listen 127.0.0.1:$P;
    root $TSV_TMP/www;
    location = /status { stub_status; }
    location = /mutex { return 200 "accept_mutex $1\n"; }
  }
}
EOF
}
NG="nginx -p $TSV_TMP -e $TSV_TMP/logs/error.log -c $TSV_TMP/nginx.conf"
conf off
$NG -t -q && echo config-ok
$NG -g 'daemon off;' & NPID=$!
for i in $(seq 100); do curl -sf -o /dev/null $U/ && break; sleep 0.1; done
workers() { pgrep -P "$(cat nginx.pid)" | sort | tr '\n' ' '; }
[ "$(cat nginx.pid)" = "$NPID" ] && echo pid-file-ok
W1=$(workers); echo "workers $(echo $W1 | wc -w)"
# Titles the processes wrote over their arguments, as ps reads them from /proc.
echo "master: $(ps -o args= -p $NPID | cut -d' ' -f1-3)"
for w in $W1; do ps -o args= -p $w; done | sort | uniq -c | sed 's/^ *//'
curl -s $U/
curl -s $U/mutex
[ "$(curl -s $U/sub/seq.txt | sha256sum)" = "$(sha256sum < www/sub/seq.txt)" ] && echo seq-same
[ "$(curl -s $U/big.bin | sha256sum)" = "$(sha256sum < www/big.bin)" ] && echo big-same
# A range from the middle: sendfile from an offset.
[ "$(curl -s -r 1000000-2999999 $U/big.bin | sha256sum)" = "$(tail -c +1000001 www/big.bin | head -c 2000000 | sha256sum)" ] && echo range-same
# Keep-alive: several URLs on one connection (one connect, then none).
N=/dev/null
curl -s -w '%{http_code} %{size_download} %{num_connects}\n' \
  -o $N $U/ -o $N $U/sub/seq.txt -o $N $U/big.bin -o $N $U/missing -o $N $U/index.html
curl -s -o /dev/null -w 'head %{http_code}\n' -I $U/big.bin
curl -s -D - -o /dev/null $U/big.bin | grep -i -e '^content-length' -e '^content-type' | tr -d '\r'
curl -s -o /dev/null -w 'status-page %{http_code}\n' $U/status
# Ten clients at once.
(for i in $(seq 10); do curl -s $U/big.bin | sha256sum > par.$i & done; wait)
[ "$(cat par.* | sort -u)" = "$(sha256sum < www/big.bin)" ] && echo "parallel $(ls par.* | wc -l) same"
# Reload with a changed config: new workers replace the old ones.
conf on
$NG -s reload
old() { for w in $W1; do [ -e /proc/$w ] && echo $w; done | wc -l; }
for i in $(seq 100); do
  W2=$(workers)
  [ "$(curl -s $U/mutex)" = "accept_mutex on" ] && [ "$(old)" = 0 ] && [ "$(echo $W2 | wc -w)" = 2 ] && break
  sleep 0.1
done
curl -s $U/mutex
echo "after reload workers $(echo $W2 | wc -w) old-left $(old)"
[ "$(curl -s $U/big.bin | sha256sum)" = "$(sha256sum < www/big.bin)" ] && echo big-same-after-reload
# Quit: the master waits for its workers and removes the pid file.
$NG -s quit
wait $NPID; echo "nginx exit $?"
[ -e nginx.pid ] || echo pid-file-removed
left=0; for w in $W2; do [ -e /proc/$w ] && left=$((left+1)); done; echo "workers left $left"
grep -c '"GET /big.bin' logs/access.log | sed 's/^/big requests logged /'
grep -c -e '\[emerg\]' -e '\[alert\]' -e '\[crit\]' logs/error.log | sed 's/^/errors /'
echo done
