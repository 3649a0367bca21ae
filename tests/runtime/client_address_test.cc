#include "cppsvc/impl/client_address.h"

#include <gtest/gtest.h>

namespace cppsvc::impl {
namespace {

TEST(PeerAddress, DropsTheSchemeAndThePort) {
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:51234"), "10.0.0.7");
  EXPECT_EQ(PeerAddress("ipv4:10.0.0.7:1"), PeerAddress("ipv4:10.0.0.7:65535"));
  EXPECT_EQ(PeerAddress("ipv6:[::1]:443"), "::1");
  EXPECT_EQ(PeerAddress("ipv6:%5B2001:db8::1%5D:443"), "2001:db8::1");
  EXPECT_EQ(PeerAddress("unix:/run/s.sock"), "unix:/run/s.sock");
  EXPECT_EQ(PeerAddress("nats"), "nats");
}

TEST(ClientAddress, ForwardedAddressesCountOnlyFromTrustedProxies) {
  const std::vector<std::string> trusted = {"10.0.0.2", "10.0.0.3"};
  // Not from a proxy: the header is the client's own claim, ignored.
  EXPECT_EQ(ClientAddress("ipv4:192.0.2.9:4000", "203.0.113.5", trusted), "192.0.2.9");
  // From a proxy: the rightmost address it did not append itself.
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.2:4000", "203.0.113.5", trusted), "203.0.113.5");
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.2:4000", "6.6.6.6, 203.0.113.5, 10.0.0.3", trusted),
            "203.0.113.5");
  // Only proxies: the leftmost one.
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.2:4000", "10.0.0.3", trusted), "10.0.0.3");
  // A proxy without the header is the client.
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.2:4000", std::nullopt, trusted), "10.0.0.2");
  EXPECT_EQ(ClientAddress("ipv4:10.0.0.2:4000", " , ", trusted), "10.0.0.2");
}

}  // namespace
}  // namespace cppsvc::impl
