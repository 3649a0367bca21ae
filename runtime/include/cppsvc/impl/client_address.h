// Which client a call comes from, for per-peer rate limits: the peer's
// address without its port (a new connection must not reset a bucket),
// or, behind a trusted proxy, the address the proxy forwarded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cppsvc::impl {

// "ipv4:10.0.0.7:51234" -> "10.0.0.7", "ipv6:[::1]:443" -> "::1" (also
// with the brackets percent-encoded), "unix:/run/s.sock" -> "unix:/run/s.sock".
std::string PeerAddress(std::string_view peer);

// The client's address: PeerAddress(peer), unless that is one of
// `trusted_proxies` and `forwarded_for` (an X-Forwarded-For value) names
// the client: then the rightmost forwarded address that is not a trusted
// proxy (each proxy appends the address it received the request from, so
// addresses left of the first untrusted one may be forged by the client).
std::string ClientAddress(std::string_view peer,
                          std::optional<std::string_view> forwarded_for,
                          const std::vector<std::string>& trusted_proxies);

}  // namespace cppsvc::impl
