#!/usr/bin/env bash
# Takes the contract in evolution/ through its versions v1..v4, each generated
# with the schema lock the previous one wrote, and applies each new migration
# to a real PostgreSQL database holding the rows inserted at earlier
# versions, which must survive. Then a destructive change without permission
# must fail with the located errors of evolution/drop_refused/expected_errors.txt,
# and the same change allowed (drop_allowed) must apply.
#   evolution.sh <protoc> <plugin> <specs-dir> <pg-dir> <pg.sh>
set -euo pipefail
protoc=$1 plugin=$2 specs=$3 pg_dir=$4 pg_sh=$5
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

db="schema_evolution_$$_$RANDOM"
url=$(bash "$pg_sh" createdb "$pg_dir" "$db")
sql() { psql "$url" -v ON_ERROR_STOP=1 -X -q -A -t -c "$1"; }
expect() {  # expect <what> <query> <expected output>
  local got
  got=$(sql "$2")
  if [ "$got" != "$3" ]; then
    echo "FAIL: $1: expected '$3', got '$got'"; exit 1
  fi
  echo "ok: $1"
}

mkdir -p "$tmp/locks"
applied=0
# generate <version>: protoc + plugin with the current lock; keeps the new lock.
generate() {
  local out="$tmp/out/$1"
  mkdir -p "$out"
  "$protoc" -I "$here/evolution/$1" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
    --cpp-svc_out="$out" --cpp-svc_opt=emit=migrations,schema_lock=update,schema_lock_dir="$tmp/locks" shop/v1/shop.proto
  mkdir -p "$tmp/locks/shop/v1"
  cp "$out/shop/v1/shop.schema.lock.json" "$tmp/locks/shop/v1/"
}
# apply <version>: the migrations not applied yet, each in one transaction;
# the old ones must be byte for byte what was applied before.
apply() {
  local dir="$tmp/out/$1/shop/v1/migrations" n=0 f
  for f in $(ls "$dir" | LC_ALL=C sort); do
    n=$((n + 1))
    if [ $n -le $applied ]; then
      cmp -s "$dir/$f" "$tmp/applied/$f" || { echo "FAIL: $1 rewrote the applied migration $f"; exit 1; }
      continue
    fi
    echo "applying $f"
    psql "$url" -v ON_ERROR_STOP=1 -X -q --single-transaction -f "$dir/$f"
    mkdir -p "$tmp/applied"
    cp "$dir/$f" "$tmp/applied/$f"
    applied=$n
  done
}

generate v1
apply v1
[ "$applied" = 1 ] || { echo "FAIL: v1 should have one migration"; exit 1; }
sql "INSERT INTO items (id, title, count) VALUES ('a', 'first', 2147483647)"
expect "v1 runtime tables exist" "SELECT count(*) FROM cppsvc_outbox" "0"

generate v2
apply v2
[ "$applied" = 2 ] || { echo "FAIL: v2 should add one migration"; exit 1; }
expect "v1 row survives v2" "SELECT title, count, note IS NULL FROM items WHERE id = 'a'" "first|2147483647|t"
sql "UPDATE items SET count = 4294967296, note = 'wide' WHERE id = 'a'"
sql "INSERT INTO tags (name, item_id) VALUES ('red', 'a')"

generate v3
apply v3
[ "$applied" = 3 ] || { echo "FAIL: v3 should add one migration"; exit 1; }
expect "v2 rows survive v3" "SELECT title, count, note, rank FROM items WHERE id = 'a'" "first|4294967296|wide|0"
expect "index on title" "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_title_idx'" "1"
sql "INSERT INTO items (id, title, count, rank) VALUES ('b', 'second', 1, 7)"

generate v4
apply v4
[ "$applied" = 4 ] || { echo "FAIL: v4 should add one migration"; exit 1; }
expect "retired column keeps its data" "SELECT title, rank FROM items ORDER BY id" $'first|0\nsecond|7'
sql "INSERT INTO items (id, count) VALUES ('c', 3)"
expect "retired column takes NULL" "SELECT title IS NULL FROM items WHERE id = 'c'" "t"
expect "dropped index" "SELECT count(*) FROM pg_indexes WHERE indexname IN ('items_title_idx', 'tags_item_id_idx')" "0"
expect "tags survive" "SELECT item_id FROM tags" "a"

# The same contract again: nothing new, the lock unchanged.
cp "$tmp/locks/shop/v1/shop.schema.lock.json" "$tmp/lock.v4"
generate v4
cmp -s "$tmp/lock.v4" "$tmp/locks/shop/v1/shop.schema.lock.json" || { echo "FAIL: regenerating v4 changed the lock"; exit 1; }
[ "$(ls "$tmp/out/v4/shop/v1/migrations" | wc -l)" = 4 ] || { echo "FAIL: regenerating v4 added a migration"; exit 1; }
echo "ok: regenerating v4 is a fixed point"

# Destructive changes without permission: refused, located, nothing written.
set +e
"$protoc" -I "$here/evolution/drop_refused" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
  --cpp-svc_out="$tmp" --cpp-svc_opt=emit=migrations,schema_lock=update,schema_lock_dir="$tmp/locks" shop/v1/shop.proto 2> "$tmp/refused"
rc=$?
set -e
[ $rc -ne 0 ] || { echo "FAIL: drop_refused generated"; exit 1; }
sed 's/^--cpp-svc_out: //' "$tmp/refused" > "$tmp/refused.txt"
diff -u "$here/evolution/drop_refused/expected_errors.txt" "$tmp/refused.txt" || { echo "FAIL: drop_refused errors differ"; exit 1; }
echo "ok: drop_refused refused with the expected errors"

# Converting count back to integer fails on values that do not fit: the
# permission is no guarantee, the data must allow it.
sql "UPDATE items SET count = 5 WHERE id = 'a'"
generate drop_allowed
apply drop_allowed
[ "$applied" = 5 ] || { echo "FAIL: drop_allowed should add one migration"; exit 1; }
expect "tags dropped" "SELECT count(*) FROM pg_tables WHERE tablename = 'tags'" "0"
expect "title dropped" "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'title'" "0"
expect "rows converted" "SELECT id || ':' || count FROM items ORDER BY id" $'a:5\nb:1\nc:3'
echo "ok: schema evolution through $applied migrations"

# A lock written when the runtime's tables were at version 1 (sent outbox
# rows stayed in cppsvc_outbox with status 'sent'; idempotency keys were not
# scoped by caller): regenerating the same contract adds one migration that
# upgrades them to the current version, over a database holding a sent and a
# pending row and a stored key. The sent row moves to cppsvc_outbox_sent
# whole; the pending one stays; the key stays, under the empty caller; the
# lock records the current version and is then a fixed point.
db2="schema_runtime_v1_$$_$RANDOM"
url=$(bash "$pg_sh" createdb "$pg_dir" "$db2")
rm -rf "$tmp/locks" "$tmp/applied" "$tmp/out/runtime_v1"
mkdir -p "$tmp/locks/shop/v1"
cp "$here/evolution/runtime_v1/shop/v1/shop.schema.lock.json" "$tmp/locks/shop/v1/"
grep -q '"infrastructure"' "$tmp/locks/shop/v1/shop.schema.lock.json" &&
  { echo "FAIL: the runtime_v1 lock must predate the recorded version"; exit 1; }
mkdir -p "$tmp/out/runtime_v1"
"$protoc" -I "$here/evolution/v1" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
  --cpp-svc_out="$tmp/out/runtime_v1" --cpp-svc_opt=emit=migrations,schema_lock=update,schema_lock_dir="$tmp/locks" shop/v1/shop.proto
migrations="$tmp/out/runtime_v1/shop/v1/migrations"
[ "$(ls "$migrations" | LC_ALL=C sort | tr '\n' ' ')" = "0001_init.sql 0002_upgrade_runtime_tables.sql " ] ||
  { echo "FAIL: expected 0001_init and 0002_upgrade_runtime_tables, got: $(ls "$migrations")"; exit 1; }
psql "$url" -v ON_ERROR_STOP=1 -X -q --single-transaction -f "$migrations/0001_init.sql"
sql "INSERT INTO cppsvc_outbox (id, subject, event_type, payload, headers, status, attempts, sent_at)
     VALUES ('00000000-0000-0000-0000-000000000001', 'shop.a', 'A', '\x01', '{\"k\": \"v\"}', 'sent', 2,
             '2026-01-02 03:04:05+00'),
            ('00000000-0000-0000-0000-000000000002', 'shop.b', 'B', '\x02', '{}', 'pending', 0, NULL)"
sql "INSERT INTO cppsvc_idempotency_keys (method, key, request_hash) VALUES ('shop.v1.Shop/Buy', 'k1', 'h')"
psql "$url" -v ON_ERROR_STOP=1 -X -q --single-transaction -f "$migrations/0002_upgrade_runtime_tables.sql"
expect "the sent row moved whole" \
  "SELECT id || ' ' || seq || ' ' || subject || ' ' || event_type || ' ' || encode(payload, 'hex') || ' ' || (headers->>'k') || ' ' || attempts || ' ' || (sent_at = '2026-01-02 03:04:05+00') FROM cppsvc_outbox_sent" \
  "00000000-0000-0000-0000-000000000001 1 shop.a A 01 v 2 true"
expect "the pending row stays" "SELECT id || ' ' || status FROM cppsvc_outbox" \
  "00000000-0000-0000-0000-000000000002 pending"
expect "the sent index of version 1 is gone" \
  "SELECT count(*) FROM pg_indexes WHERE indexname = 'cppsvc_outbox_sent_idx'" "0"
expect "the stored key stays, under the empty caller" \
  "SELECT method || ' [' || caller || '] ' || key FROM cppsvc_idempotency_keys" "shop.v1.Shop/Buy [] k1"
expect "keys are unique per method, caller and key" \
  "SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i
   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
   WHERE i.indrelid = 'cppsvc_idempotency_keys'::regclass AND i.indisprimary" "method,caller,key"
grep -q '"infrastructure": 3' "$tmp/out/runtime_v1/shop/v1/shop.schema.lock.json" ||
  { echo "FAIL: the new lock does not record version 3 of the runtime's tables"; exit 1; }
cp "$tmp/out/runtime_v1/shop/v1/shop.schema.lock.json" "$tmp/locks/shop/v1/"
rm -rf "$tmp/out/runtime_v1" && mkdir -p "$tmp/out/runtime_v1"
"$protoc" -I "$here/evolution/v1" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" \
  --cpp-svc_out="$tmp/out/runtime_v1" --cpp-svc_opt=emit=migrations,schema_lock=update,schema_lock_dir="$tmp/locks" shop/v1/shop.proto
[ "$(ls "$migrations" | wc -l)" = 2 ] || { echo "FAIL: regenerating after the upgrade added a migration"; exit 1; }
echo "ok: runtime tables upgraded from version 1 to 3"
