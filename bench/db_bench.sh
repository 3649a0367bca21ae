#!/usr/bin/env bash
# Persistence benchmark: the generated BenchDbService server (bench/db/proto;
# JWT, RBAC, validation, metrics, request log, one transaction per call on a
# db::Pool) whose Create handler inserts an Item through the generated
# repository and a cppsvc_outbox row, called over gRPC on loopback with N
# calls in flight, against a hand-written raw libpq loop (BEGIN, the same two
# INSERTs prepared, COMMIT) on N connections with N threads; plus pgbench
# running the same two INSERTs (the server's commit-bound ceiling). All in
# one process and run (bench/db/db_bench.cc), against one private PostgreSQL
# 15 started with scripts/pg.sh in a temporary directory.
#
#   bash bench/db_bench.sh <build-dir>
#
# Prints rows for bench/run.sh on stdout (see bench/README.md):
#   ROW<TAB>name<TAB>ours<TAB>baseline<TAB>ratio<TAB>target<TAB>verdict
#   NOTE<TAB>text
# and progress on stderr. Builds the `db_bench` target first unless
# BENCH_NO_BUILD=1. Exits 3 with a SKIP row when PostgreSQL 15 is missing.
#
# Two server configurations, each on a fresh database of the same server:
#   durable    PostgreSQL's durability defaults (fsync, synchronous_commit,
#              full_page_writes on; set with ALTER SYSTEM, since scripts/pg.sh
#              turns them off for tests): the target row, ours >= 0.80x the
#              raw libpq baseline in transactions/s;
#   throwaway  scripts/pg.sh's settings (fsync, synchronous_commit off): no
#              commit wait, so client CPU decides; info rows.
# Info rows per configuration: pgbench against the baseline; ours' unit of
# work alone (the handler in db::RunInTransaction on N threads on ours' pool:
# no gRPC, no pipeline, no thread hop) against the baseline, which splits the
# gap between the database layer and the transport; CPU time of the bench
# process per transaction.
#
# Environment: DB_BENCH_ROUNDS (default 5), DB_BENCH_SECONDS (default 3, per
# phase; pgbench gets it rounded to whole seconds), DB_BENCH_INFLIGHT
# (default 8: calls in flight, libpq connections and threads, pgbench clients,
# ours' bulkhead workers and pool size), DB_BENCH_MODES (default
# "durable throwaway"), DB_BENCH_ARGS (more db_bench flags), BENCH_NO_BUILD=1,
# BENCH_KEEP=1 (keep the temporary directory and leave the server running).
# Runtime: about 2 x rounds x 3 x (seconds + 0.5) + 30 s (~2 min).
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd) || exit 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
rounds=${DB_BENCH_ROUNDS:-5}
seconds=${DB_BENCH_SECONDS:-3}
inflight=${DB_BENCH_INFLIGHT:-8}
read -r -a modes <<<"${DB_BENCH_MODES:-durable throwaway}"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "DB_BENCH_ROUNDS must be a positive number" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "DB_BENCH_SECONDS must be a number" >&2; exit 2; }
[[ $inflight =~ ^[1-9][0-9]*$ ]] || { echo "DB_BENCH_INFLIGHT must be a positive number" >&2; exit 2; }
for m in "${modes[@]}"; do
  [[ $m == durable || $m == throwaway ]] || { echo "DB_BENCH_MODES: durable and/or throwaway, not $m" >&2; exit 2; }
done

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
target_name="db: Create, ${inflight} in flight, tx/s (durable)"

cache_value() {  # cache_value VAR: a value from the build's CMakeCache.txt
  sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" 2>/dev/null | head -n 1
}

error_rows() {  # error_rows VERDICT MESSAGE: the target row as VERDICT, and why
  printf 'ROW\t%s\t—\t—\t—\t≥ 0.80x\t%s\n' "$target_name" "$1"
  printf 'NOTE\tdb: %s\n' "$2"
}

for tool in pgbench psql; do
  if [[ ! -x $bindir/$tool ]]; then
    error_rows SKIP "PostgreSQL 15 is not installed ($bindir/$tool is missing; scripts/install-deps.sh)"
    exit 3
  fi
done

if [[ ${BENCH_NO_BUILD:-0} != 1 ]]; then
  echo "db_bench: building db_bench in $build" >&2
  if ! cmake --build "$build" --target db_bench >&2; then
    error_rows ERROR "building db_bench failed (see the log above)"
    exit 1
  fi
fi
bin=$build/bench/db/db_bench
if [[ ! -x $bin ]]; then
  error_rows ERROR "$bin is missing (cmake --build $build --target db_bench)"
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/cppsvc-db-bench.XXXXXX")
chmod 755 "$work"  # as root, the server runs as `postgres`, which must reach $work/pg
pg_dir=$work/pg
cleanup() {
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    echo "db_bench: kept $work (server still running; bash scripts/pg.sh stop $pg_dir)" >&2
    return
  fi
  [[ -d $pg_dir ]] && bash "$root/scripts/pg.sh" stop "$pg_dir" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "db_bench: starting PostgreSQL in $pg_dir" >&2
bash "$root/scripts/pg.sh" start "$pg_dir" >"$work/pg.url" 2>"$work/pg.err"
status=$?
if ((status == 3)); then
  error_rows SKIP "PostgreSQL 15 is not installed: $(head -n 1 "$work/pg.err")"
  exit 3
elif ((status != 0)); then
  error_rows ERROR "PostgreSQL did not start: $(tail -n 1 "$work/pg.err")"
  exit 1
fi
admin_url=$(cat "$work/pg.url")
psql_admin() { "$bindir/psql" -X -q -At -v ON_ERROR_STOP=1 "$admin_url" "$@"; }

# The same two INSERTs for pgbench, with a payload the size of ours' (an Item,
# serialized: about 64 bytes) and a name as long as the others'.
cat >"$work/pgbench.sql" <<'EOF'
BEGIN;
INSERT INTO items (id, name, qty, created_at) VALUES (gen_random_uuid(), 'bench-pgbn', 42, now());
INSERT INTO cppsvc_outbox (id, subject, event_type, payload) VALUES (gen_random_uuid(), 'benchdb.item.created', 'benchdb.v1.Item', '\x0a2436663163326239652d336434612d346538622d396337642d326131623063396438653766120a62656e63682d6f757273182a220c08b0a9c8b10610c0f5c4c001'::bytea);
END;
EOF

load_before=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")
for mode in "${modes[@]}"; do
  out=$work/out.$mode
  if [[ $mode == durable ]]; then
    psql_admin -c "ALTER SYSTEM SET fsync = on" -c "ALTER SYSTEM SET synchronous_commit = on" \
      -c "ALTER SYSTEM SET full_page_writes = on" >/dev/null
  else
    psql_admin -c "ALTER SYSTEM RESET ALL" >/dev/null
  fi
  psql_admin -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5  # the reload is asynchronous; db_bench reports what the server shows
  if ! url=$(bash "$root/scripts/pg.sh" createdb "$pg_dir" "benchdb_$mode" 2>"$work/createdb.err"); then
    echo "error	createdb failed: $(head -n 1 "$work/createdb.err")" >"$out"
    echo 1 >"$work/status.$mode"
    continue
  fi
  echo "db_bench: $mode: $url" >&2
  # shellcheck disable=SC2086  # a list of flags
  "$bin" --url "$url" --rounds "$rounds" --seconds "$seconds" --inflight "$inflight" \
    --pgbench "$bindir/pgbench -n -c $inflight -j 2 -f $work/pgbench.sql $url" --uow \
    ${DB_BENCH_ARGS:-} >"$out"
  echo $? >"$work/status.$mode"
done
load_after=$(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo "?")

out=""
val() {  # val KEY [DEFAULT]: the value of a `KEY<TAB>value` line of the current run's output
  local v
  v=$(awk -F '\t' -v k="$1" '$1 == k { print $2; exit }' "$out")
  echo "${v:-${2:-}}"
}
fmt_tps() { awk -v v="$1" 'BEGIN { printf "%.0f tx/s", v }'; }
fmt_us() { awk -v v="$1" 'BEGIN { printf "%.0f µs", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }

failed=0
for mode in "${modes[@]}"; do
  out=$work/out.$mode
  status=$(cat "$work/status.$mode")
  if [[ $mode == durable ]]; then
    name=$target_name
    target="≥ 0.80x"
  else
    name="db: Create, ${inflight} in flight, tx/s (throwaway: fsync off)"
    target="—"
  fi
  if ((status != 0)) || [[ $(val "done") != 1 ]]; then
    printf 'ROW\t%s\t—\t—\t—\t%s\tERROR\n' "$name" "$target"
    printf 'NOTE\tdb (%s): db_bench failed (status %s)%s\n' "$mode" "$status" "$(v=$(val error); echo "${v:+: $v}")"
    failed=1
    continue
  fi
  tps_ours=$(val tps_ours)
  tps_base=$(val tps_baseline)
  r=$(ratio "$tps_ours" "$tps_base")
  if [[ $mode == durable ]]; then
    verdict=$(awk -v r="$r" 'BEGIN { print (r != "inf" && r >= 0.80) ? "ok" : "MISS" }')
    (($(val errors_ours 0) > 0)) && verdict=MISS
  else
    verdict=info
  fi
  printf 'ROW\t%s\t%s\t%s\t%sx\t%s\t%s\n' "$name" "$(fmt_tps "$tps_ours")" "$(fmt_tps "$tps_base")" "$r" "$target" "$verdict"
  if [[ -n $(val tps_pgbench) ]]; then
    printf 'ROW\tdb: pgbench, same 2 INSERTs, %s clients, tx/s (%s; ours = pgbench)\t%s\t%s\t%sx\t—\tinfo\n' \
      "$inflight" "$mode" "$(fmt_tps "$(val tps_pgbench)")" "$(fmt_tps "$tps_base")" "$(ratio "$(val tps_pgbench)" "$tps_base")"
  else
    printf 'NOTE\tdb (%s): pgbench did not run: %s\n' "$mode" "$(val pgbench_error "no result")"
  fi
  if [[ -n $(val tps_uow) ]]; then
    printf 'ROW\tdb: unit of work alone, no gRPC, %s threads, tx/s (%s; ours = handler in db::RunInTransaction)\t%s\t%s\t%sx\t—\tinfo\n' \
      "$inflight" "$mode" "$(fmt_tps "$(val tps_uow)")" "$(fmt_tps "$tps_base")" "$(ratio "$(val tps_uow)" "$tps_base")"
    printf 'NOTE\tdb (%s): CPU of the bench process per transaction of the unit of work alone: %s (ours %s, baseline %s)\n' \
      "$mode" "$(fmt_us "$(val cpu_us_uow)")" "$(fmt_us "$(val cpu_us_ours)")" "$(fmt_us "$(val cpu_us_baseline)")"
  fi
  printf 'ROW\tdb: CPU per transaction of the bench process (%s)\t%s\t%s\t%sx\t—\tinfo\n' \
    "$mode" "$(fmt_us "$(val cpu_us_ours)")" "$(fmt_us "$(val cpu_us_baseline)")" "$(ratio "$(val cpu_us_ours)" "$(val cpu_us_baseline)")"
  per_round=$(awk -F '\t' '$1 == "round" { s = s sprintf("%s%s r%s %.0f", (s ? ", " : ""), $3, $2, $4) } END { print s }' "$out")
  printf 'NOTE\tdb (%s): server settings %s; PostgreSQL %s; per round (tx/s): %s\n' \
    "$mode" "$(val pg_settings)" "$(val server_version)" "$per_round"
  rows_line=$(awk -F '\t' '$1 ~ /^rows_/ { printf "%s%s %s rows (%s)", (n++ ? ", " : ""), substr($1, 6), $2, $3 }' "$out")
  printf 'NOTE\tdb (%s): rows stored (acknowledged): %s; failed calls during timing: ours %s (%s), baseline %s%s\n' \
    "$mode" "$rows_line" "$(val errors_ours 0)" "$(val failures_ours none)" "$(val errors_baseline 0)" \
    "$(v=$(val baseline_error); echo "${v:+ ($v)}")"
done
out=$work/out.${modes[0]}

build_type=$(cache_value CMAKE_BUILD_TYPE)
flags_var=CMAKE_CXX_FLAGS_$(tr '[:lower:]' '[:upper:]' <<<"${build_type:-none}")
printf 'NOTE\tdb: ours = the generated BenchDbServiceServer (HS256 JWT, RBAC, validation, metrics, request log to /dev/null; %s bulkhead workers; per call: pool lease, BEGIN with SET LOCAL statement_timeout in one round trip, the repository'"'"'s prepared INSERT, the outbox row by events::AddToOutbox (prepared), COMMIT) called by a gRPC client with %s calls in flight over %s channels; baseline = %s threads on raw libpq connections (BEGIN, both INSERTs prepared, COMMIT); pgbench -n -c %s -j 2 (simple protocol); all on 127.0.0.1 with PostgreSQL sharing the same %s cores\n' \
  "$(val workers)" "$(val inflight)" "$(val channels)" "$(val inflight)" "$(val inflight)" "$(val cores)"
printf 'NOTE\tdb: build %s (%s%s); %s rounds x %s s per phase, rotated, medians; load average %s before, %s after\n' \
  "$(basename "$build")" "${build_type:-no build type}" "$([[ -n $(cache_value "$flags_var") ]] && echo ", $(cache_value "$flags_var")")" \
  "$rounds" "$seconds" "$load_before" "$load_after"
exit "$failed"
