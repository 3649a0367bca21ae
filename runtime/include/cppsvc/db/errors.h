// Exceptions repositories and handlers throw inside RunInTransaction, which
// maps them to a Status (see MapException).
#pragma once

#include <stdexcept>

namespace cppsvc::db {

// The row the call is about does not exist: NOT_FOUND.
struct NotFound : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An optimistic update found another version than the one it read: ABORTED.
struct VersionConflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The request names something malformed (e.g. a page token List never
// returned): INVALID_ARGUMENT.
struct InvalidArgument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The database cannot be reached, or no connection was free in time: UNAVAILABLE.
struct Unavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace cppsvc::db
