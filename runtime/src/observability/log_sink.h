// Internal: where LogJson writes. Tests redirect it; production uses stderr.
#pragma once

#include <ostream>

namespace cppsvc::observability::internal {

// Redirects log lines to `out` (nullptr restores stderr). The caller keeps
// `out` alive until it is replaced. Returns the previous sink (nullptr when it
// was stderr).
std::ostream* SetLogSink(std::ostream* out);

}  // namespace cppsvc::observability::internal
