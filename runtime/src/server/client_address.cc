#include "cppsvc/impl/client_address.h"

#include <algorithm>

namespace cppsvc::impl {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool Trusted(std::string_view address, const std::vector<std::string>& trusted) {
  return std::find(trusted.begin(), trusted.end(), address) != trusted.end();
}

}  // namespace

std::string PeerAddress(std::string_view peer) {
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.substr(0, scheme.size()) != scheme) continue;
    std::string_view rest = peer.substr(scheme.size());
    for (auto [open, close] : {std::pair{"[", "]"}, std::pair{"%5B", "%5D"}}) {
      const std::string_view o(open);
      if (rest.substr(0, o.size()) != o) continue;
      const size_t end = rest.find(close);
      return std::string(
          rest.substr(o.size(), end == std::string_view::npos ? end : end - o.size()));
    }
    return std::string(rest.substr(0, rest.rfind(':')));
  }
  return std::string(peer);
}

std::string ClientAddress(std::string_view peer,
                          std::optional<std::string_view> forwarded_for,
                          const std::vector<std::string>& trusted_proxies) {
  std::string address = PeerAddress(peer);
  if (!forwarded_for || !Trusted(address, trusted_proxies)) return address;
  std::string_view list = *forwarded_for;
  while (!list.empty()) {
    const size_t comma = list.rfind(',');
    const std::string_view hop =
        Trim(comma == std::string_view::npos ? list : list.substr(comma + 1));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(0, comma);
    if (hop.empty()) continue;
    address = std::string(hop);
    if (!Trusted(address, trusted_proxies)) break;
  }
  return address;
}

}  // namespace cppsvc::impl
