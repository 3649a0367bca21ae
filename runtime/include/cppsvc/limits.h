// Fixed bounds on what a caller may send, shared by servers and clients so
// both sides agree on them.
#pragma once

#include <cstddef>

namespace cppsvc::limits {

// The longest bearer token accepted. Larger ones are refused before any
// parsing, by the server (UNAUTHENTICATED, that call alone) and by the
// clients, which do not send them. A signed token with many roles stays far
// below it.
inline constexpr size_t kMaxTokenBytes = size_t{16} * 1024;

// The largest header list (all metadata of one call, as HTTP/2 counts it)
// that gRPC servers and clients accept. gRPC 1.51 ends the whole HTTP/2
// connection when a peer sends more than this, so it is set well above
// kMaxTokenBytes: a call with an oversized token reaches the server and is
// refused alone, and the other calls on its connection go on. Only a header
// list above this bound ends the sender's connection, and the runtime's
// clients never send one. gRPC's own default, 8 KiB, is what made one
// oversized token end a connection shared with other callers.
inline constexpr int kMaxMetadataBytes = 1024 * 1024;

}  // namespace cppsvc::limits
