// gRPC's names of its status codes, indexed by code. Header-only, so the
// generator checks a contract's retry codes against the very list the
// runtime parses them with.
#pragma once

#include <array>
#include <string_view>

namespace cppsvc {

inline constexpr std::array<std::string_view, 17> kStatusCodeNames = {"OK",
                                                                      "CANCELLED",
                                                                      "UNKNOWN",
                                                                      "INVALID_ARGUMENT",
                                                                      "DEADLINE_EXCEEDED",
                                                                      "NOT_FOUND",
                                                                      "ALREADY_EXISTS",
                                                                      "PERMISSION_DENIED",
                                                                      "RESOURCE_EXHAUSTED",
                                                                      "FAILED_PRECONDITION",
                                                                      "ABORTED",
                                                                      "OUT_OF_RANGE",
                                                                      "UNIMPLEMENTED",
                                                                      "INTERNAL",
                                                                      "UNAVAILABLE",
                                                                      "DATA_LOSS",
                                                                      "UNAUTHENTICATED"};

}  // namespace cppsvc
