// Name derivations shared by the model builder and the checks.
#pragma once

#include <string>
#include <string_view>

namespace cppsvc::model {

// OrdersService -> orders_service, HTTPRoute -> http_route.
std::string SnakeCase(std::string_view name);
// reserve_stock -> ReserveStock.
std::string PascalCase(std::string_view name);
// Short service name: OrdersService -> orders.
std::string DefaultShortName(std::string_view service_name);
// commerce.orders.v1 -> commerce::orders::v1 (as protoc's C++ generator
// spells it: keywords are not escaped, which the checks refuse).
std::string CppNamespace(std::string_view package);
bool IsCppKeyword(std::string_view name);
// PostgreSQL 15's reserved key words (including those allowed as function or
// type names), lowercase: the generated SQL does not quote identifiers, so
// these cannot name tables, columns or indexes.
bool IsSqlReservedWord(std::string_view name);
// Lowercase letters, digits and '_', starting with a letter or '_', at most
// 63 bytes (PostgreSQL's NAMEDATALEN - 1).
bool IsPlainSqlIdentifier(std::string_view name);
// Resolves an event reference written in `package`: a name with a dot is
// already fully qualified; a bare name lives in `package`.
std::string ResolveName(std::string_view name, std::string_view package);
// Last component of a full name.
std::string ShortName(std::string_view full_name);

}  // namespace cppsvc::model
