#!/usr/bin/env bash
# Events benchmark: the outbox relay (cppsvc::events::Relay, default batch)
# draining a backlog of outbox rows to JetStream, against a bare nats.c loop
# publishing the same messages with js_PublishMsgAsync and waiting with
# js_PublishAsyncComplete; and the latency from an outbox commit to the start
# of a durable consumer's handler at a fixed event rate. All in one process
# (bench/events/events_bench.cc), against a private PostgreSQL 15
# (scripts/pg.sh) and a private nats-server with JetStream (scripts/nats.sh),
# both started in a temporary directory and stopped on exit.
#
#   bash bench/events_bench.sh <build-dir>
#
# Prints rows for bench/run.sh on stdout (see bench/README.md):
#   ROW<TAB>name<TAB>ours<TAB>baseline<TAB>ratio<TAB>target<TAB>verdict
#   NOTE<TAB>text
# and progress on stderr. Builds the `events_bench` target first unless
# BENCH_NO_BUILD=1. Exits 3 with SKIP rows when PostgreSQL 15 or nats-server
# is missing.
#
# Targets: drain rate ours >= 0.50x the bare nats.c rate (msgs/s, medians of
# interleaved rounds, a fresh database and fresh streams per round);
# commit-to-handler p99 < 50 ms at the given rate.
#
# PostgreSQL runs with scripts/pg.sh's settings (fsync and synchronous_commit
# off), like nats-server, whose file store acks before it syncs; PG_DURABLE=1
# keeps PostgreSQL's durability defaults instead.
#
# Environment: EVENTS_BENCH_ROUNDS (default 3), EVENTS_BENCH_ROWS (default
# 100000, rows per drain), EVENTS_BENCH_RATE (default 1000 events/s),
# EVENTS_BENCH_SECONDS (default 10, measured seconds of the latency run, after
# 1 s of warm-up), EVENTS_BENCH_DIAG_BATCH (default 256: an info row draining
# with that relay batch; 0 = none), EVENTS_BENCH_ARGS (more events_bench
# flags), PG_DURABLE=1, BENCH_NO_BUILD=1, BENCH_KEEP=1 (keep the directory
# and leave both servers running). About 1.5 minutes with the defaults.
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
rounds=${EVENTS_BENCH_ROUNDS:-3}
rows=${EVENTS_BENCH_ROWS:-100000}
rate=${EVENTS_BENCH_RATE:-1000}
seconds=${EVENTS_BENCH_SECONDS:-10}
diag_batch=${EVENTS_BENCH_DIAG_BATCH:-256}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "EVENTS_BENCH_ROUNDS must be a positive number" >&2; exit 2; }
[[ $rows =~ ^[1-9][0-9]*$ ]] || { echo "EVENTS_BENCH_ROWS must be a positive number" >&2; exit 2; }
[[ $rate =~ ^[1-9][0-9]*$ ]] || { echo "EVENTS_BENCH_RATE must be a positive number" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "EVENTS_BENCH_SECONDS must be a positive number" >&2; exit 2; }
[[ $diag_batch =~ ^[0-9]+$ ]] || { echo "EVENTS_BENCH_DIAG_BATCH must be a number" >&2; exit 2; }

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
group() {  # group 100000 -> 100,000
  awk -v n="$1" 'BEGIN { s = sprintf("%d", n); t = ""; while (length(s) > 3) { t = "," substr(s, length(s) - 2) t; s = substr(s, 1, length(s) - 3) }; print s t }'
}
drain_name="events: relay drain, $(group "$rows") outbox rows to JetStream, msgs/s"
p99_name="events: commit to handler, p99 at $(group "$rate") events/s"
p50_name="events: commit to handler, p50 at $(group "$rate") events/s"

cache_value() {  # cache_value VAR: a value from the build's CMakeCache.txt
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n 1
}

error_rows() {  # error_rows VERDICT MESSAGE: both target rows as VERDICT, and why
  printf 'ROW\t%s\t—\t—\t—\t≥ 0.50x\t%s\n' "$drain_name" "$1"
  printf 'ROW\t%s\t—\t—\t—\t< 50 ms\t%s\n' "$p99_name" "$1"
  printf 'NOTE\tevents: %s\n' "$2"
}

if [[ ! -x $bindir/psql ]]; then
  error_rows SKIP "PostgreSQL 15 is not installed ($bindir/psql is missing; scripts/install-deps.sh)"
  exit 3
fi
have_nats=0
if [[ -n ${NATS_SERVER:-} ]]; then
  [[ -x $NATS_SERVER ]] && have_nats=1
elif command -v nats-server >/dev/null 2>&1; then
  have_nats=1
else
  for candidate in /usr/sbin/nats-server /usr/bin/nats-server /usr/local/bin/nats-server; do
    [[ -x $candidate ]] && have_nats=1
  done
fi
if ((!have_nats)); then
  error_rows SKIP "nats-server is not installed (apt-get install nats-server, or scripts/install-deps.sh)"
  exit 3
fi

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  echo "events_bench: building events_bench in $build" >&2
  if ! cmake --build "$build" --target events_bench >&2; then
    error_rows ERROR "building events_bench failed (see the log above)"
    exit 1
  fi
fi
bin=$build/bench/events/events_bench
if [[ ! -x $bin ]]; then
  error_rows ERROR "$bin is missing (cmake --build $build --target events_bench)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-events-bench.XXXXXX")
chmod 755 "$work"  # as root, the server runs as `postgres`, which must reach $work/pg
pg_dir=$work/pg
nats_dir=$work/nats
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "events_bench: kept $work (servers still running; bash scripts/pg.sh stop $pg_dir;" \
      "bash scripts/nats.sh stop $nats_dir)" >&2
    return
  fi
  [[ -d $pg_dir ]] && bash "$root/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1
  [[ -d $nats_dir ]] && bash "$root/scripts/nats.sh" stop "$nats_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "events_bench: starting PostgreSQL in $pg_dir (PG_DURABLE=${PG_DURABLE:-0})" >&2
bash "$root/scripts/pg.sh" start "$pg_dir" >"$work/pg.url" 2>"$work/pg.err"
status=$?
if ((status == 3)); then
  error_rows SKIP "PostgreSQL 15 is not installed: $(head -n 1 "$work/pg.err")"
  exit 3
elif ((status != 0)); then
  error_rows ERROR "PostgreSQL did not start: $(tail -n 1 "$work/pg.err")"
  exit 1
fi
echo "events_bench: starting nats-server in $nats_dir" >&2
bash "$root/scripts/nats.sh" start "$nats_dir" >"$work/nats.url" 2>"$work/nats.err"
status=$?
if ((status == 3)); then
  error_rows SKIP "nats-server is not installed: $(head -n 1 "$work/nats.err")"
  exit 3
elif ((status != 0)); then
  error_rows ERROR "nats-server did not start: $(tail -n 1 "$work/nats.err")"
  exit 1
fi
nats_server=${NATS_SERVER:-$(command -v nats-server 2>/dev/null || echo /usr/sbin/nats-server)}
nats_version=$("$nats_server" --version 2>/dev/null | head -n 1)

out=$work/out
load_before=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")
# shellcheck disable=SC2086  # a list of flags
"$bin" --admin-url "$(cat "$work/pg.url")" --nats-url "$(cat "$work/nats.url")" \
  --rounds "$rounds" --rows "$rows" --rate "$rate" --latency-seconds "$seconds" \
  --diag-batch "$diag_batch" --runtime-log "$work/runtime.log" \
  --nats-pid "$(cat "$nats_dir/nats.pid" 2>/dev/null || echo 0)" ${EVENTS_BENCH_ARGS:-} >"$out"
status=$?
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")

val() {  # val KEY [DEFAULT]: the value of a `KEY<TAB>value` line of the output
  local v
  v=$(awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$out")
  echo "${v:-${2:-}}"
}
fmt_rate() { awk -v v="$1" 'BEGIN { printf "%.0f msgs/s", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
error_note() {
  local v
  v=$(val error)
  echo "${v:+: $v}"
}

failed=0
batch=$(val relay_batch "?")
if [[ $(val drain_done) == 1 ]]; then
  r=$(ratio "$(val rate_ours)" "$(val rate_baseline)")
  verdict=$(awk -v r="$r" 'BEGIN { print (r != "inf" && r >= 0.50) ? "ok" : "MISS" }')
  (($(val relay_failed_publishes 0) > 0)) && verdict=MISS
  printf 'ROW\t%s (relay batch %s)\t%s\t%s\t%sx\t≥ 0.50x\t%s\n' "$drain_name" "$batch" \
    "$(fmt_rate "$(val rate_ours)")" "$(fmt_rate "$(val rate_baseline)")" "$r" "$verdict"
  if [[ -n $(val rate_diag) ]]; then
    printf 'ROW\tevents: relay drain, relay batch %s (diagnosis; baseline as above)\t%s\t%s\t%sx\t—\tinfo\n' \
      "$(val diag_batch)" "$(fmt_rate "$(val rate_diag)")" "$(fmt_rate "$(val rate_baseline)")" \
      "$(ratio "$(val rate_diag)" "$(val rate_baseline)")"
  fi
  if [[ -n $(val mark_move_ms) ]]; then
    printf 'ROW\tevents: marking %s claimed rows sent, PostgreSQL ms (move to cppsvc_outbox_sent; baseline: UPDATE in place, runtime tables v1)\t%s ms\t%s ms\t%sx\t—\tinfo\n' \
      "$batch" "$(val mark_move_ms)" "$(val mark_update_ms)" "$(ratio "$(val mark_move_ms)" "$(val mark_update_ms)")"
  fi
  printf 'ROW\tevents: relay drain, CPU per message of the bench process\t%s µs\t%s µs\t%sx\t—\tinfo\n' \
    "$(val cpu_us_ours)" "$(val cpu_us_baseline)" "$(ratio "$(val cpu_us_ours)" "$(val cpu_us_baseline)")"
  if [[ -n $(val nats_cpu_us_ours) && -n $(val pg_cpu_us_ours) ]]; then
    total_ours=$(awk -v a="$(val cpu_us_ours)" -v b="$(val nats_cpu_us_ours)" -v c="$(val pg_cpu_us_ours)" 'BEGIN { printf "%.2f", a + b + c }')
    total_base=$(awk -v a="$(val cpu_us_baseline)" -v b="$(val nats_cpu_us_baseline)" -v c="$(val pg_cpu_us_baseline)" 'BEGIN { printf "%.2f", a + b + c }')
    printf 'ROW\tevents: relay drain, CPU per message of all three processes (bench + nats-server + PostgreSQL)\t%s µs\t%s µs\t%sx\t—\tinfo\n' \
      "$total_ours" "$total_base" "$(ratio "$total_ours" "$total_base")"
    printf 'NOTE\tevents: CPU per message during the drain, ours / baseline: bench process %s / %s µs, nats-server %s / %s µs, PostgreSQL %s / %s µs (PostgreSQL during a baseline round: autovacuum of an earlier round of ours, if any); cores kept busy at the median rate (total × rate): ours %s, baseline %s\n' \
      "$(val cpu_us_ours)" "$(val cpu_us_baseline)" "$(val nats_cpu_us_ours)" "$(val nats_cpu_us_baseline)" \
      "$(val pg_cpu_us_ours)" "$(val pg_cpu_us_baseline)" \
      "$(awk -v t="$total_ours" -v r="$(val rate_ours)" 'BEGIN { printf "%.2f", t * r / 1e6 }')" \
      "$(awk -v t="$total_base" -v r="$(val rate_baseline)" 'BEGIN { printf "%.2f", t * r / 1e6 }')"
  fi
  per_round=$(awk -F '\t' '$1 == "round" { s = s sprintf("%s%s r%s %.0f", (s ? ", " : ""), $3, $2, $4) } END { print s }' "$out")
  printf 'NOTE\tevents: drain per round (msgs/s): %s\n' "$per_round"
  printf 'NOTE\tevents: the relay drained %s rows in %s rounds of up to %s rows, %s ms per round; the backlog count (SELECT count(*) ... WHERE status = '"'"'pending'"'"', run by the relay at most once a second while batches come full) takes %s ms alone on that table; failed publishes: %s\n' \
    "$(group "$rows")" "$(val relay_rounds)" "$batch" "$(val ms_per_relay_round)" "$(val backlog_count_ms)" \
    "$(val relay_failed_publishes 0)"
else
  printf 'ROW\t%s (relay batch %s)\t—\t—\t—\t≥ 0.50x\tERROR\n' "$drain_name" "$batch"
  printf 'NOTE\tevents: the drain did not finish (status %s)%s\n' "$status" "$(error_note)"
  failed=1
fi

if [[ $(val latency_skipped) == 1 ]]; then
  printf 'ROW\t%s\t—\t—\t—\t< 50 ms\tSKIP\n' "$p99_name"
  printf 'NOTE\tevents: the latency run was left out (--only drain)\n'
elif [[ $(val latency_done) == 1 ]]; then
  p99=$(val lat_p99_ms)
  verdict=$(awk -v v="$p99" 'BEGIN { print (v < 50) ? "ok" : "MISS" }')
  (($(val lat_missing 0) > 0)) && verdict=MISS
  printf 'ROW\t%s\t%s ms\t—\t—\t< 50 ms\t%s\n' "$p99_name" "$p99" "$verdict"
  printf 'ROW\t%s\t%s ms\t—\t—\t—\tinfo\n' "$p50_name" "$(val lat_p50_ms)"
  printf 'NOTE\tevents: latency = handler start - a stamp taken in the producer'"'"'s transaction just before COMMIT (the payload carries it); %s events over %s s at %s events/s achieved (1 s warm-up not counted), max %s ms; from COMMIT returned: p50 %s ms, p99 %s ms; COMMIT itself p50 %s ms, p99 %s ms; %s relay rounds; events missing %s, failed commits %s, consumer redeliveries %s, duplicates %s\n' \
    "$(val lat_measured)" "$(val lat_seconds)" "$(val lat_rate)" "$(val lat_max_ms)" \
    "$(val lat_after_commit_p50_ms)" "$(val lat_after_commit_p99_ms)" "$(val lat_commit_p50_ms)" \
    "$(val lat_commit_p99_ms)" "$(val lat_relay_rounds)" "$(val lat_missing 0)" \
    "$(val lat_failed_commits 0)" "$(val lat_redeliveries 0)" "$(val lat_duplicates 0)"
else
  printf 'ROW\t%s\t—\t—\t—\t< 50 ms\tERROR\n' "$p99_name"
  if [[ $(val drain_done) == 1 ]]; then
    printf 'NOTE\tevents: the latency run did not finish (status %s)%s\n' "$status" "$(error_note)"
  fi
  failed=1
fi

build_type=$(cache_value CMAKE_BUILD_TYPE)
flags_var=CMAKE_CXX_FLAGS_$(tr '[:lower:]' '[:upper:]' <<<"${build_type:-none}")
printf 'NOTE\tevents: ours = cppsvc::events::Relay (its thread claims pending rows FOR UPDATE SKIP LOCKED and starts a js_PublishMsgAsync for each; a second thread waits for the acks of a full batch, marks it sent and commits while the next batch is claimed on a second connection) started on a backlog inserted in one transaction (then VACUUM ANALYZE), timed until every row is sent; baseline = one thread of bare nats.c publishing the same messages (%s-byte payload, traceparent, event type, ordering key, Nats-Msg-Id) with js_PublishMsgAsync to a stream of the same config, then js_PublishAsyncComplete; fresh database and streams per round; latency: AddToOutbox in db::RunInTransaction (4 producer threads on a schedule), the relay woken by NOTIFY, a durable pull Consumer (batch 64, inbox row per event)\n' \
  "$(val payload_bytes 100)"
printf 'NOTE\tevents: PostgreSQL %s (%s; PG_DURABLE=%s), %s, nats.c %s, on 127.0.0.1 sharing %s cores\n' \
  "$(val server_version "?")" "$(val pg_settings "?")" "${PG_DURABLE:-0}" "${nats_version:-nats-server ?}" \
  "$(val natsc_version "?")" "$(val cores "?")"
printf 'NOTE\tevents: build %s (%s%s); %s rounds of each side, rotated, after an untimed warm-up, medians; load average %s before, %s after\n' \
  "$(basename "$build")" "${build_type:-no build type}" "$([[ -n $(cache_value "$flags_var") ]] && echo ", $(cache_value "$flags_var")")" \
  "$rounds" "$load_before" "$load_after"
if ((status != 0)); then
  echo "events_bench: events_bench exited with status $status; runtime log tail:" >&2
  tail -n 5 "$work/runtime.log" >&2 2>/dev/null
  failed=1
fi
exit "$failed"
