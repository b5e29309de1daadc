#include "hikeshi/common/listen_address.hpp"

#include <gtest/gtest.h>

namespace hikeshi::common {
namespace {

TEST(ListenAddress, AcceptsIpv4BracketedIpv6AndLocalhost) {
  auto v4 = ParseListenAddress("127.0.0.1:8080", "listen address");
  ASSERT_TRUE(v4) << v4.error().message();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_FALSE(v4->bracketed);
  auto v6 = ParseListenAddress("[::1]:0", "listen address");
  ASSERT_TRUE(v6) << v6.error().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->bracketed);
  auto local = ParseListenAddress("LocalHost:2424", "listen address");
  ASSERT_TRUE(local) << local.error().message();
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 2424);
}

TEST(ListenAddress, RefusesMalformedAddressesNamingTheOption) {
  for (const char* bad :
       {"8080", "::1:80", "[::1]80", "[::1:80", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:8x", ":8080", "[]:80"}) {
    auto parsed = ParseListenAddress(bad, "LMTP listen address");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(parsed.error().message().find("LMTP listen address '"), std::string::npos) << parsed.error().message();
  }
}

}  // namespace
}  // namespace hikeshi::common
