# redis as a new user runs it: a server in the background, redis-cli commands,
# a pipelined benchmark, a big heap saved by a forked child (BGSAVE) while the
# parent keeps writing, the RDB file checked, SHUTDOWN.
# Run by test/diff/cases.mjs (prog/redis); prints only deterministic lines.
cd "$TSV_TMP" || exit 1
# Ports 17401-17402 from REDIS_BASE=17400 (another base for a run on host sockets).
B=${REDIS_BASE:-17400}
P=$((B+1))
C="redis-cli -p $P"
redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --dir "$TSV_TMP" --logfile "$TSV_TMP/redis.log" --enable-debug-command yes & RPID=$!
for i in $(seq 100); do [ "$($C ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
$C ping
# 1000 each of SET, INCR, GET from one redis-cli reading stdin.
for i in $(seq 1000); do echo "SET k$i v$i"; echo "INCR ctr"; echo "GET k$i"; done | $C > cli.out
echo "OK $(grep -c '^OK$' cli.out) values $(grep -c '^v[0-9]*$' cli.out) last $(tail -1 cli.out)"
$C GET ctr
$C DBSIZE
# A 2 MB value through -x (stdin), read back.
seq 1 400000 | head -c 2000000 > val
$C -x SET big < val
[ "$($C --raw GET big | head -c 2000000 | sha256sum)" = "$(sha256sum < val)" ] && echo big-same
$C STRLEN big
# Lists, a blocking pop woken by a push from another client.
$C BLPOP q 5 > blpop.out & BP=$!
for i in $(seq 100); do [ "$($C CLIENT LIST | grep -c 'cmd=blpop')" = 1 ] && break; sleep 0.05; done
$C LPUSH q woken
wait $BP; tr '\n' ' ' < blpop.out; echo
# Pub/sub: a subscriber gets one message.
$C SUBSCRIBE ch > sub.out & SP=$!
for i in $(seq 100); do [ "$($C PUBSUB NUMSUB ch | tail -1)" = 1 ] && break; sleep 0.05; done
$C PUBLISH ch hello
for i in $(seq 100); do grep -q hello sub.out && break; sleep 0.05; done
kill $SP; wait $SP 2>/dev/null; tail -1 sub.out
# A pipelined benchmark (numbers vary: report only that it ran).
redis-benchmark -p $P -q -n 20000 -P 16 -t set,get > bench.out 2>&1 && echo "benchmark $(grep -c 'requests per second' bench.out) tests"
[ -n "$BENCH_SHOW" ] && cat bench.out >&2
# A big heap (300000 keys), saved by a forked child while the parent writes.
$C DEBUG POPULATE 300000 key 100
$C DBSIZE
D1=$($C DEBUG DIGEST)
$C BGSAVE
# Overwrite every 100th key across the heap while the child writes the file.
for i in $(seq 0 100 299999); do echo "SET key:$i changed$i"; done | $C | grep -c '^OK$'
for i in $(seq 300); do
  [ "$($C INFO persistence | tr -d '\r' | grep '^rdb_bgsave_in_progress:')" = "rdb_bgsave_in_progress:0" ] && break; sleep 0.1
done
$C INFO persistence | tr -d '\r' | grep -e '^rdb_last_bgsave_status' -e '^rdb_changes_since_last_save'
[ -s dump.rdb ] && echo rdb-exists
redis-check-rdb dump.rdb | grep -o 'RDB looks OK!'
redis-check-rdb dump.rdb | grep -o '[0-9]* keys read'
$C DBSIZE
[ "$($C DEBUG DIGEST)" != "$D1" ] && echo parent-changed
$C SHUTDOWN NOSAVE 2>&1
wait $RPID; echo "redis exit $?"
# The file holds the data as it was at fork time: a second server loads it.
mkdir load && mv dump.rdb load/
redis-server --port $((P+1)) --bind 127.0.0.1 --save '' --dir "$TSV_TMP/load" --logfile "$TSV_TMP/redis2.log" \
  --enable-debug-command yes & R2=$!
for i in $(seq 100); do [ "$(redis-cli -p $((P+1)) ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(redis-cli -p $((P+1)) DEBUG DIGEST)" = "$D1" ] && echo snapshot-is-fork-time-state
redis-cli -p $((P+1)) SHUTDOWN NOSAVE; wait $R2
grep -c -e 'Background saving terminated with success' redis.log
echo done
