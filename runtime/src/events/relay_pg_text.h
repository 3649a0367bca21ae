// The text forms of PostgreSQL values that the relay reads from every
// claimed row and writes into its closing statements. The common forms are
// read here directly rather than through libpq's or a JSON parser's general
// paths, since the relay does it for every event it publishes; anything
// else still takes those paths. The relay drain rows of bench/README.md
// (`relay drain`, and its CPU per message) measure the relay with these;
// the README records no figure for any one of them alone.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

namespace cppsvc::events::internal {

// A float8 field as PostgreSQL prints it (locale-independent); 0 if unreadable.
double Float8(const pqxx::field& f);

// A bytea field's bytes into `out`, whose buffer is reused: PostgreSQL's
// hex output (\x...) decoded here, any other form through libpq.
void ByteaInto(const pqxx::field& f, std::string& out);

// PostgreSQL prints a jsonb object as {"key": "value", "key2": "value2"}:
// that spacing, and a backslash before anything escaped. A flat object of
// strings printed so with no backslash at all (the trace context of almost
// every row) is split here, into `pairs`, without a JSON parser; false for
// anything else, which takes the parser's path.
bool SplitPlainJsonbObject(std::string_view text,
                           std::vector<std::pair<std::string_view, std::string_view>>& pairs);

// {"(0,1)","(0,2)"}: an array literal of values without quotes or
// backslashes (tids, uuids), each quoted.
std::string ArrayLiteral(const std::vector<std::string_view>& values);

}  // namespace cppsvc::events::internal
