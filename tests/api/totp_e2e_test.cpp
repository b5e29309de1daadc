// Two-factor login end to end, on the real binary over real HTTP: enrolment shows the secret once,
// confirmation turns it on, login then needs a current code which is accepted only once (missing,
// wrong and reused codes are refused and counted by the throttle), the secret is found nowhere in
// the data directory but sealed, and the user, an admin or the CLI can turn it off.
// The codes are computed here from the secret the enrolment returned, as an authenticator app does.

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "hikeshi/common/totp.hpp"

#include "e2e_fixture.hpp"

namespace hikeshi::e2e {
namespace {

using nlohmann::json;

std::int64_t StepNow() {
  return common::TotpStep(std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
}

std::string Code(const std::string& raw_secret, std::int64_t step) {
  return common::HotpCode(raw_secret, static_cast<std::uint64_t>(step));
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Hex(std::string_view bytes) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

class TotpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    const std::string data = data_.string();
    ASSERT_TRUE(RunCli({"init", "--data", data}, {{"HIKESHI_ADMIN_PASSWORD", kAdminPassword}}).status.Succeeded());
    ASSERT_TRUE(RunCli({"constituency", "add", "--data", data, "alpha", "--cidr", "192.0.2.0/24"}).status.Succeeded());
    for (const std::string user : {"alice", "bob", "dave"}) {
      const auto r = RunCli({"user", "add", "--data", data, user, "--role", "handler", "--constituency", "alpha"},
                            {{"HIKESHI_PASSWORD", kUserPassword}});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
    }
    for (const std::string user : {"admin", "alice", "bob", "dave"}) {
      const auto r = RunCli({"token", "create", "--data", data, "--user", user});
      ASSERT_TRUE(r.status.Succeeded()) << r.err;
      tokens_[user] = r.out.substr(0, r.out.find('\n'));
    }
    server_ = Server::Start(data_);
    ASSERT_NE(server_, nullptr);
  }

  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(server_->Stop().Succeeded());
    }
  }

  testing::HttpClientResponse Login(const std::string& user, const std::optional<std::string>& otp) {
    json body = {{"username", user}, {"password", kUserPassword}};
    if (otp) body["otp"] = *otp;
    return server_->Call("POST", "/api/v1/session", "", body.dump());
  }

  static void ExpectOtpRequired(const testing::HttpClientResponse& r) {
    EXPECT_EQ(r.status, 401) << r.body;
    const auto problem = Body(r);
    EXPECT_EQ(problem.value("type", ""), "https://hikeshi.invalid/problems/otp-required") << r.body;
    EXPECT_EQ(problem.value("field", ""), "/otp") << r.body;
  }

  // Enrols and confirms `user`; returns the raw secret and the step whose code confirmed it.
  std::pair<std::string, std::int64_t> Enrol(const std::string& user) {
    const auto start = server_->Call("POST", "/api/v1/session/totp", tokens_[user]);
    EXPECT_EQ(start.status, 201) << start.body;
    const std::string secret = Body(start).value("secret", "");
    const auto raw = common::Base32Decode(secret);
    EXPECT_TRUE(raw.has_value());
    const std::int64_t step = StepNow();
    const auto confirm = server_->Call("POST", "/api/v1/session/totp/confirm", tokens_[user],
                                       json({{"code", Code(raw.value_or(""), step)}}).dump());
    EXPECT_EQ(confirm.status, 200) << confirm.body;
    return {raw.value_or(""), step};
  }

  TempDir dir_;
  std::filesystem::path data_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Server> server_;
};

TEST_F(TotpTest, EnrolmentShowsTheSecretOnceAndTakesEffectOnlyWhenConfirmed) {
  EXPECT_EQ(Body(server_->Call("GET", "/api/v1/session/totp", tokens_["alice"]))["state"], "none");
  const auto start = server_->Call("POST", "/api/v1/session/totp", tokens_["alice"]);
  ASSERT_EQ(start.status, 201) << start.body;
  EXPECT_EQ(start.Header("Cache-Control"), "no-store");
  const std::string secret = Body(start)["secret"];
  const auto raw = common::Base32Decode(secret);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ(raw->size(), 20u);  // 160 bits
  const std::string uri = Body(start)["uri"];
  // The issuer is the team's name from hikeshi.toml.
  EXPECT_TRUE(uri.starts_with("otpauth://totp/CSIRT:alice?secret=" + secret + "&issuer=CSIRT&")) << uri;
  EXPECT_NE(uri.find("algorithm=SHA1&digits=6&period=30"), std::string::npos) << uri;
  EXPECT_EQ(Body(server_->Call("GET", "/api/v1/session/totp", tokens_["alice"]))["state"], "pending");
  // Pending: the password alone still logs in.
  EXPECT_EQ(Login("alice", std::nullopt).status, 200);

  const std::string wrong = Code(*raw, StepNow() + 5);
  const auto refused =
      server_->Call("POST", "/api/v1/session/totp/confirm", tokens_["alice"], json({{"code", wrong}}).dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(Body(refused).value("field", ""), "/code");
  const auto confirmed = server_->Call("POST", "/api/v1/session/totp/confirm", tokens_["alice"],
                                       json({{"code", Code(*raw, StepNow())}}).dump());
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(Body(confirmed)["state"], "confirmed");
  // A second enrolment would replace the secret behind the user's back: refused while it is on.
  EXPECT_EQ(server_->Call("POST", "/api/v1/session/totp", tokens_["alice"]).status, 409);
  ExpectOtpRequired(Login("alice", std::nullopt));
}

TEST_F(TotpTest, LoginNeedsACurrentCodeAcceptedOnlyOnce) {
  const auto [raw, confirm_step] = Enrol("alice");
  // The password is checked first: a wrong one says nothing about the second factor.
  const auto wrong_password = server_->Call("POST", "/api/v1/session", "",
                                            json({{"username", "alice"}, {"password", "not the password"}}).dump());
  EXPECT_EQ(wrong_password.status, 401);
  EXPECT_EQ(Body(wrong_password).value("type", ""), "https://hikeshi.invalid/problems/unauthenticated");

  ExpectOtpRequired(Login("alice", std::nullopt));
  ExpectOtpRequired(Login("alice", Code(raw, confirm_step + 7)));
  // The code that confirmed the enrolment was used up by it.
  ExpectOtpRequired(Login("alice", Code(raw, confirm_step)));
  // The next step's code is within the accepted skew, and is newer than the one used.
  const std::string next = Code(raw, confirm_step + 1);
  const auto ok = Login("alice", next);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["user"]["username"], "alice");
  // Replayed within its window: refused.
  const auto replay = Login("alice", next);
  ExpectOtpRequired(replay);
  EXPECT_NE(Body(replay).value("detail", "").find("already used"), std::string::npos) << replay.body;
  // Wrong codes count as failed logins (the success above cleared the earlier ones): after five,
  // even a right code is throttled.
  for (int i = 0; i < 4; ++i) ExpectOtpRequired(Login("alice", Code(raw, confirm_step + 100 + i)));
  EXPECT_EQ(Login("alice", Code(raw, StepNow() + 1)).status, 429);
}

TEST_F(TotpTest, TheSecretIsStoredOnlySealed) {
  const auto [raw, step] = Enrol("alice");
  ASSERT_EQ(Login("alice", Code(raw, step + 1)).status, 200);
  ASSERT_TRUE(server_->Stop().Succeeded());
  server_.reset();
  const std::string b32 = common::Base32Encode(raw);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_)) {
    if (!entry.is_regular_file() || entry.path().filename() == "totp.key") continue;
    const std::string bytes = ReadFile(entry.path());
    ++files;
    EXPECT_EQ(bytes.find(raw), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(b32), std::string::npos) << entry.path();
    EXPECT_EQ(Lower(bytes).find(Lower(b32)), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(Hex(raw)), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 0u);
  // The key that seals it was made by init, for the service account alone.
  const auto key = data_ / "keys" / "totp.key";
  ASSERT_TRUE(std::filesystem::exists(key));
  EXPECT_EQ(std::filesystem::file_size(key), 32u);
  EXPECT_EQ(std::filesystem::status(key).permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  // The enrolment and its uses are in the audit journal, which still verifies.
  const auto verify = RunCli({"audit", "verify", "--data", data_.string()});
  EXPECT_TRUE(verify.status.Succeeded()) << verify.out << verify.err;
}

TEST_F(TotpTest, TheUserAnAdminOrTheCliTurnsItOff) {
  const auto [alice_raw, alice_step] = Enrol("alice");
  const auto [bob_raw, bob_step] = Enrol("bob");
  Enrol("dave");
  (void)bob_raw;
  (void)bob_step;
  // The user: only with a current code.
  const auto no_code = server_->Call("DELETE", "/api/v1/session/totp", tokens_["alice"], R"({"code":"12345"})");
  EXPECT_EQ(no_code.status, 400) << no_code.body;
  EXPECT_EQ(server_
                ->Call("DELETE", "/api/v1/session/totp", tokens_["alice"],
                       json({{"code", Code(alice_raw, StepNow())}}).dump())
                .status,
            204);
  EXPECT_EQ(Login("alice", std::nullopt).status, 200);
  EXPECT_EQ(Body(server_->Call("GET", "/api/v1/session/totp", tokens_["alice"]))["state"], "none");
  // Another handler may not reset bob's; an admin may.
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/users/bob/totp", tokens_["alice"]).status, 403);
  ExpectOtpRequired(Login("bob", std::nullopt));
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/users/bob/totp", tokens_["admin"]).status, 204);
  EXPECT_EQ(Login("bob", std::nullopt).status, 200);
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/users/bob/totp", tokens_["admin"]).status, 409);
  EXPECT_EQ(server_->Call("DELETE", "/api/v1/users/nobody/totp", tokens_["admin"]).status, 404);
  // The local operator, for an admin who lost the phone.
  ExpectOtpRequired(Login("dave", std::nullopt));
  const auto reset = RunCli({"user", "reset-totp", "--data", data_.string(), "dave"});
  EXPECT_TRUE(reset.status.Succeeded()) << reset.err;
  EXPECT_EQ(Login("dave", std::nullopt).status, 200);
}

}  // namespace
}  // namespace hikeshi::e2e
