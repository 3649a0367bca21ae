#!/usr/bin/env bash
# Writes contracts shaped to make the plugin's checks slow, if they can be:
# long role chains, a role cycle through every role, names tens of thousands
# of characters long, one service with thousands of rpcs.
#
#   bash bench/make_hostile_spec.sh <out-dir> [--roles N] [--rpcs N] [--name-length N]
#
# Writes, under <out-dir>/hostile/ (import roots: <out-dir> and specs/):
#   role_chain/v1/role_chain.proto    N roles, each including the next; one
#                                     service whose rpc allows the last.
#                                     Valid: the plugin generates it.
#   role_errors/v1/role_errors.proto  N roles in one cycle of includes, and
#                                     a role named with --name-length
#                                     characters that an rpc refers to with
#                                     its last character changed. Invalid:
#                                     the plugin only checks it.
#   many_rpcs/v1/many_rpcs.proto      one service with --rpcs rpcs, each with
#                                     roles and an HTTP route. Valid.
#   many_rpcs_errors/v1/many_rpcs_errors.proto
#                                     the same, and one more rpc without an
#                                     access rule. Invalid: only checked.
# Defaults: 5,000 roles, 10,000 rpcs, 40,000 characters. Deterministic.
set -euo pipefail

usage() { echo "usage: $0 <out-dir> [--roles N] [--rpcs N] [--name-length N]" >&2; exit 2; }

out="" roles=5000 rpcs=10000 name_length=40000
while (($#)); do
  case $1 in
    --roles) roles=${2:-}; shift 2 || usage ;;
    --rpcs) rpcs=${2:-}; shift 2 || usage ;;
    --name-length) name_length=${2:-}; shift 2 || usage ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) usage ;;
    *) [[ -z $out ]] || usage; out=$1; shift ;;
  esac
done
[[ -n $out ]] || usage
for n in "$roles" "$rpcs" "$name_length"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "make_hostile_spec: counts must be positive numbers" >&2; exit 2; }
done

root=$out/hostile
rm -rf "$root"
mkdir -p "$root/role_chain/v1" "$root/role_errors/v1" "$root/many_rpcs/v1" "$root/many_rpcs_errors/v1"

header() {  # header PACKAGE
  printf '// Written by bench/make_hostile_spec.sh; do not edit.\nsyntax = "proto3";\n\npackage %s;\n\nimport "cppsvc/v1/options.proto";\n\n' "$1"
}

messages() {
  printf 'message Request {\n  string id = 1;\n}\n\nmessage Response {\n  string id = 1;\n}\n'
}

{
  header hostile.role_chain.v1
  awk -v n="$roles" 'BEGIN {
    for (i = 0; i < n; i++) {
      if (i + 1 < n) printf "option (cppsvc.v1.role) = { name: \"r%d\" includes: [\"r%d\"] };\n", i, i + 1
      else printf "option (cppsvc.v1.role) = { name: \"r%d\" };\n", i
    }
  }'
  printf '\nservice ChainService {\n  rpc Get(Request) returns (Response) {\n'
  printf '    option (cppsvc.v1.method) = { roles: ["r%d"] };\n  }\n}\n\n' $((roles - 1))
  messages
} >"$root/role_chain/v1/role_chain.proto"

long=$(head -c "$name_length" /dev/zero | tr '\0' 'a')
{
  header hostile.role_errors.v1
  awk -v n="$roles" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "option (cppsvc.v1.role) = { name: \"r%d\" includes: [\"r%d\"] };\n", i, (i + 1) % n
  }'
  printf 'option (cppsvc.v1.role) = { name: "%s" };\n' "$long"
  printf '\nservice ErrorsService {\n  rpc Get(Request) returns (Response) {\n'
  printf '    option (cppsvc.v1.method) = { roles: ["%sb"] };\n  }\n}\n\n' "${long%a}"
  messages
} >"$root/role_errors/v1/role_errors.proto"

many_rpcs() {  # many_rpcs PACKAGE [EXTRA_RPC]
  header "$1"
  printf 'option (cppsvc.v1.role) = { name: "user" };\n\nservice ManyService {\n'
  awk -v n="$rpcs" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "  rpc Op%d(Request) returns (Response) {\n", i
      printf "    option (cppsvc.v1.method) = { roles: [\"user\"] http: { get: \"/v1/op%d/{id}\" } };\n  }\n", i
    }
  }'
  printf '%b}\n\n' "${2:-}"
  messages
}
many_rpcs hostile.many_rpcs.v1 >"$root/many_rpcs/v1/many_rpcs.proto"
many_rpcs hostile.many_rpcs_errors.v1 '  rpc Unguarded(Request) returns (Response);\n' \
  >"$root/many_rpcs_errors/v1/many_rpcs_errors.proto"

echo "wrote 4 files under $root: $roles roles, $rpcs rpcs, a $name_length-character role name"
