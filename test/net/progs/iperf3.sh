# iperf3 server and clients over loopback (TCP, reverse, parallel, IPv6,
# -w buffers, UDP, --dont-fragment, bidirectional): every run must move data
# and end without error. Prints no rates. Run by test/diff/cases.mjs (prog/iperf3).
P=15201
iperf3 -s -p $P >/dev/null 2>&1 & S=$!
for i in $(seq 50); do iperf3 -c 127.0.0.1 -p $P -n 1K >/dev/null 2>&1 && break; sleep 0.1; done
W=200K; [ "$(cat /proc/sys/net/core/rmem_max)" -ge 1048576 ] && W=1M
run() {
  label=$1; shift
  iperf3 -J -p $P -t 1 "$@" > r.json 2>&1
  python3 -c 'import json, sys
d = json.load(open("r.json")); e = d.get("end", {}); s = e.get("sum_received") or e.get("sum") or {}
print(sys.argv[1], "error: " + d["error"] if "error" in d else "ok" if s.get("bytes", 0) > 0 else "no data")' "$label"
}
cd $TSV_TMP
run tcp -c 127.0.0.1
run reverse -c 127.0.0.1 -R
run parallel -c 127.0.0.1 -P 3
run ipv6 -c ::1 -6
# 1M when net.core.rmem_max lets SO_RCVBUF reach it (iperf3 reads it back).
run window -c 127.0.0.1 -w $W
run udp -c 127.0.0.1 -u -b 20M
run udp-dont-fragment -c 127.0.0.1 -u -b 5M --dont-fragment
run bidir -c 127.0.0.1 --bidir
kill $S; wait $S; echo server=$?
