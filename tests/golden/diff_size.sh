#!/usr/bin/env bash
# A one-field contract change must give a reviewable diff: generate
# diff_size/shop/v1/shop.proto, add one field to its table (a nullable
# column), regenerate against the first run's schema lock, and check that
# every generated file changed by at most its bound of lines (removed plus
# added; a new file counts all its lines).
#   diff_size.sh <protoc> <plugin> <tests/golden dir> <specs dir (for options.proto)>
set -euo pipefail
protoc=$1 plugin=$2 golden=$3 specs=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Bounds, per file kind, for the field added below (what the generator
# writes today, with a little room for a header line).
#  - repository: one line per clause naming the table's columns (SQL is
#    written one clause per line), one per reserve and column index, and
#    the lines binding and reading the new column: 33 today for the 7
#    statements of this table.
bound() {
  case "$1" in
    *.cppsvc.repo.cc) echo 36 ;;
    *.cppsvc.migrations.cc) echo 1 ;;  # the #include of the new migration
    */migrations/*.sql) echo 6 ;;      # the new migration: header and one ALTER TABLE
    *.schema.lock.json) echo 10 ;;     # the new migration's entry and the column
    *.openapi.json) echo 6 ;;          # the property (3 lines) and the comma before it
    *) echo 4 ;;
  esac
}

generate() {  # generate <out-dir> <proto root> <lock dir>
  mkdir -p "$1"
  "$protoc" -I "$2" -I "$specs" --plugin=protoc-gen-cpp-svc="$plugin" --cpp-svc_out="$1" \
    --cpp-svc_opt=schema_lock=update,schema_lock_dir="$3" shop/v1/shop.proto
}

mkdir -p "$tmp/v1" "$tmp/v2/shop/v1" "$tmp/locks/shop/v1"
cp -R "$golden/diff_size/shop" "$tmp/v1/"
generate "$tmp/out1" "$tmp/v1" "$tmp/locks"
cp "$tmp/out1/shop/v1/shop.schema.lock.json" "$tmp/locks/shop/v1/"

marker='  // diff_size: new field'
grep -qxF "$marker" "$tmp/v1/shop/v1/shop.proto" || { echo "FAIL: no marker line in shop.proto"; exit 1; }
sed "s|^$marker\$|  optional string note = 6;|" "$tmp/v1/shop/v1/shop.proto" > "$tmp/v2/shop/v1/shop.proto"
[ "$(diff "$tmp/v1/shop/v1/shop.proto" "$tmp/v2/shop/v1/shop.proto" | grep -c '^[<>]')" = 2 ] ||
  { echo "FAIL: the contract change is not one line"; exit 1; }
generate "$tmp/out2" "$tmp/v2" "$tmp/locks"
[ -f "$tmp/out2/shop/v1/migrations/0002_add_items_note.sql" ] ||
  { echo "FAIL: no migration 0002_add_items_note.sql: $(ls "$tmp/out2/shop/v1/migrations")"; exit 1; }

status=0
changed_files=0
while read -r f; do
  a="$tmp/out1/$f" b="$tmp/out2/$f"
  [ -f "$a" ] || a=/dev/null
  [ -f "$b" ] || b=/dev/null
  n=$(diff "$a" "$b" | grep -c '^[<>]' || true)
  [ "$n" -gt 0 ] || continue
  changed_files=$((changed_files + 1))
  max=$(bound "$f")
  if [ "$n" -gt "$max" ]; then
    echo "FAIL: $f: $n changed lines (at most $max):"
    diff -u "$a" "$b" | head -60 || true
    status=1
  else
    echo "ok: $f: $n changed lines (at most $max)"
  fi
done < <( (cd "$tmp/out1" && find . -type f; cd "$tmp/out2" && find . -type f) | sed 's|^\./||' | LC_ALL=C sort -u)
[ "$changed_files" -gt 0 ] || { echo "FAIL: adding a field changed no file"; exit 1; }
exit $status
