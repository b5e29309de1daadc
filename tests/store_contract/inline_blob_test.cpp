// Small blobs kept as rows (core::MakeInlineBlobStore), on each backend: a message delivered
// through MailPipeline has its raw bytes and small attachments stored in the transaction that
// stores it (no blob file on SQLite), and they come back byte for byte through MailFiles, the path
// of the API's downloads; a blob over the limit still goes to the blob store (a file beside a
// SQLite store) and comes back too; a redelivery stays one report; a rolled-back delivery leaves no
// blob row behind.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/inline_blob_store.hpp"
#include "hikeshi/core/mail_files.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/intake/pipeline/mail_pipeline.hpp"
#include "hikeshi/store/files/file_blob_store.hpp"
#include "hikeshi/store/postgres/postgres_store.hpp"

#include "backends.hpp"
#include "contract_support.hpp"

namespace hikeshi::store_contract {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kLimit = 16 << 10;  // blobs up to this size are rows

// Each backend with the blob store its deployment puts larger blobs in.
struct SqliteMail : SqliteBackend {
  static constexpr bool kFiles = true;
  Result<std::unique_ptr<core::BlobStore>> Larger(const fs::path& key_file) {
    return store::files::OpenFileBlobStore(dir.Path() / "blobs", key_file, false);
  }
  fs::path BlobFile(const std::string& sha) const { return dir.Path() / "blobs" / sha.substr(0, 2) / sha; }
  int BlobFiles() const {
    int n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir.Path() / "blobs")) n += entry.is_regular_file();
    return n;
  }
};

struct PostgresMail : PostgresBackend {
  static constexpr bool kFiles = false;
  Result<std::unique_ptr<core::BlobStore>> Larger(const fs::path& key_file) {
    if (!database) return Fail(database.error());
    HIKESHI_TRY(std::string key, store::files::LoadBlobKey(key_file, false));
    return store::postgres::OpenPostgresBlobStore(database->Conninfo(), std::move(key));
  }
  fs::path BlobFile(const std::string&) const { return {}; }
  int BlobFiles() const { return 0; }
};

std::string Base64Lines(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string flat;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    flat += kAlphabet[(n >> 18) & 63];
    flat += kAlphabet[(n >> 12) & 63];
    flat += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    flat += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  std::string out;
  for (std::size_t pos = 0; pos < flat.size(); pos += 76) out += flat.substr(pos, 76) + "\r\n";
  return out;
}

// `size` bytes of evidence, NULs and high bytes included, different for each seed.
std::string Binary(std::size_t size, unsigned seed) {
  std::string out(size, '\0');
  std::uint32_t x = 2463534242u + seed;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x % 7 == 0 ? 0 : x & 0xFF);
  }
  return out;
}

std::string Multipart(std::string_view message_id, std::string_view attachment) {
  return "From: Reporter <reporter@example.org>\r\nTo: csirt@example.net\r\nSubject: capture attached\r\n"
         "Message-ID: <" +
         std::string(message_id) +
         ">\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nScan from 192.0.2.7, capture attached.\r\n--b\r\n"
         "Content-Type: application/octet-stream; name=\"scan.pcap\"\r\n"
         "Content-Disposition: attachment; filename=\"scan.pcap\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         Base64Lines(attachment) + "--b--\r\n";
}

template <typename Backend>
class InlineBlobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    common::InitCrypto();
    ASSERT_OK_AND_ASSIGN(store_, backend_.Open());
    ASSERT_OK_AND_ASSIGN(const std::string key, store::files::LoadBlobKey(KeyFile(), true));
    if constexpr (Backend::kFiles) {
      // As `hikeshi init` leaves it: the blob directory exists, empty.
      ASSERT_OK(store::files::OpenFileBlobStore(backend_.dir.Path() / "blobs", KeyFile(), false));
    }
    ASSERT_OK_AND_ASSIGN(auto larger, backend_.Larger(KeyFile()));
    blobs_ = core::MakeInlineBlobStore(*store_, std::move(larger), key, kLimit);
    ingest_ = std::make_unique<core::MailIngest>(*store_, clock_, core::MailIngestOptions{});
    pipeline_ = std::make_unique<intake::pipeline::MailPipeline>(*store_, *blobs_, clock_, nullptr, nullptr, *ingest_,
                                                                 intake::pipeline::MailPipelineOptions{});
  }
  fs::path KeyFile() const { return keys_.Path() / "blob.key"; }

  // The incoming message of report `report`, as a handler reaches it.
  core::MailMessage MailOf(const std::string& report) {
    std::vector<core::MailMessage> mail;
    EXPECT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(const auto found, r.FindReport(core::Scope::All(), report));
      if (!found) return Fail(Error::NotFound(report));
      HIKESHI_TRY(mail, r.ListMailForReport(found->id));
      return {};
    }));
    for (auto& m : mail) {
      if (m.direction == core::MailDirection::kIn) return m;
    }
    ADD_FAILURE() << "no incoming mail for " << report;
    return {};
  }
  std::optional<core::SealedBlob> Row(const std::string& sha) {
    std::optional<core::SealedBlob> row;
    EXPECT_TRUE(store_->Read([&](core::StoreReader& r) -> Result<void> {
      HIKESHI_TRY(row, r.FindBlob(sha));
      return {};
    }));
    return row;
  }

  TempDir keys_;
  Backend backend_;
  core::SystemClock clock_;
  std::unique_ptr<core::Store> store_;
  std::unique_ptr<core::BlobStore> blobs_;
  std::unique_ptr<core::MailIngest> ingest_;
  std::unique_ptr<intake::pipeline::MailPipeline> pipeline_;
};

using Backends = ::testing::Types<SqliteMail, PostgresMail>;
TYPED_TEST_SUITE(InlineBlobTest, Backends, BackendNames);

TYPED_TEST(InlineBlobTest, ASmallMessageAndItsAttachmentAreRowsAndComeBackByteForByte) {
  const std::string capture = Binary(3000, 1);
  const std::string raw = Multipart("small@example.org", capture);
  ASSERT_LT(raw.size(), kLimit);
  const auto actor = core::Principal::LocalOperator();
  ASSERT_OK_AND_ASSIGN(const auto receipt, this->pipeline_->Deliver(actor, raw));
  EXPECT_EQ(receipt.outcome, core::MailOutcome::kStored);

  const core::MailMessage mail = this->MailOf(receipt.report);
  ASSERT_EQ(mail.attachments.size(), 1u);
  core::MailFiles files(*this->store_, *this->blobs_);
  ASSERT_OK_AND_ASSIGN(const auto raw_back, files.Raw(actor, receipt.report, mail.id));
  EXPECT_EQ(raw_back.content, raw);
  ASSERT_OK_AND_ASSIGN(const auto capture_back,
                       files.Attachment(actor, receipt.report, mail.id, mail.attachments[0].sha256));
  EXPECT_EQ(capture_back.content, capture) << "every byte, NULs included";

  // Where they are: rows of the store, sealed (the plaintext is not in them), and no file.
  EXPECT_EQ(mail.raw_sha256, common::Sha256Hex(raw));
  const auto row = this->Row(mail.raw_sha256);
  ASSERT_TRUE(row.has_value()) << "the raw message is a row";
  EXPECT_EQ(row->size, static_cast<std::int64_t>(raw.size()));
  EXPECT_EQ(row->sealed.find("192.0.2.7"), std::string::npos) << "sealed at rest";
  EXPECT_TRUE(this->Row(common::Sha256Hex(capture)).has_value()) << "the attachment is a row";
  EXPECT_EQ(this->backend_.BlobFiles(), 0) << "no blob file for a small message";
}

TYPED_TEST(InlineBlobTest, ABlobOverTheLimitGoesToTheBlobStoreAndComesBack) {
  const std::string capture = Binary(40000, 2);
  const std::string raw = Multipart("large@example.org", capture);
  const auto actor = core::Principal::LocalOperator();
  ASSERT_OK_AND_ASSIGN(const auto receipt, this->pipeline_->Deliver(actor, raw));
  const core::MailMessage mail = this->MailOf(receipt.report);
  ASSERT_EQ(mail.attachments.size(), 1u);
  core::MailFiles files(*this->store_, *this->blobs_);
  ASSERT_OK_AND_ASSIGN(const auto raw_back, files.Raw(actor, receipt.report, mail.id));
  EXPECT_EQ(raw_back.content, raw);
  ASSERT_OK_AND_ASSIGN(const auto capture_back,
                       files.Attachment(actor, receipt.report, mail.id, mail.attachments[0].sha256));
  EXPECT_EQ(capture_back.content, capture);
  if constexpr (TypeParam::kFiles) {
    EXPECT_FALSE(this->Row(mail.raw_sha256).has_value()) << "over the limit: not a row of the store";
    EXPECT_TRUE(fs::exists(this->backend_.BlobFile(mail.raw_sha256))) << "but a file in DATA/blobs";
    EXPECT_TRUE(fs::exists(this->backend_.BlobFile(common::Sha256Hex(capture))));
    EXPECT_EQ(this->backend_.BlobFiles(), 2);
  }
  ASSERT_OK_AND_ASSIGN(const bool has, this->blobs_->Contains(mail.raw_sha256));
  EXPECT_TRUE(has);
}

TYPED_TEST(InlineBlobTest, ARedeliveryStaysOneReportAndStillReads) {
  const std::string raw = Multipart("again@example.org", Binary(500, 3));
  const auto actor = core::Principal::LocalOperator();
  ASSERT_OK_AND_ASSIGN(const auto first, this->pipeline_->Deliver(actor, raw));
  ASSERT_OK_AND_ASSIGN(const auto second, this->pipeline_->Deliver(actor, raw));
  EXPECT_EQ(first.outcome, core::MailOutcome::kStored);
  EXPECT_EQ(second.outcome, core::MailOutcome::kDuplicate);
  EXPECT_EQ(second.mail_id, first.mail_id);
  ASSERT_OK_AND_ASSIGN(const auto reports, ReadValue(*this->store_, [](core::StoreReader& r) {
                         return r.ListReports(core::Scope::All(), core::ReportQuery{});
                       }));
  EXPECT_EQ(reports.items.size(), 1u);
  core::MailFiles files(*this->store_, *this->blobs_);
  ASSERT_OK_AND_ASSIGN(const auto raw_back, files.Raw(actor, first.report, first.mail_id));
  EXPECT_EQ(raw_back.content, raw);
}

// The row commits with the message or not at all: a delivery whose transaction rolls back leaves
// no blob behind, and the caller is told to retry.
TYPED_TEST(InlineBlobTest, ARolledBackDeliveryLeavesNoBlobRow) {
  const std::string raw = Multipart("rolled-back@example.org", Binary(500, 4));
  core::ReceivedMail received;
  received.mail.message_id = "rolled-back@example.org";
  received.mail.from_address = "reporter@example.org";
  received.mail.subject = "capture attached";
  ASSERT_OK_AND_ASSIGN(auto sealed, this->blobs_->SealInline(raw));
  ASSERT_TRUE(sealed.has_value());
  received.raw_sha256 = sealed->sha256;
  received.raw_size = static_cast<std::int64_t>(raw.size());
  received.inline_blobs.push_back(*sealed);
  const auto failed = this->ingest_->Receive(core::Principal::LocalOperator(), received, []() -> Result<void> {
    return Fail(Error::Unavailable("syncing the blob directory: I/O error"));
  });
  ASSERT_FALSE(failed);
  EXPECT_FALSE(this->Row(sealed->sha256).has_value());
  EXPECT_ERROR(this->blobs_->Get(sealed->sha256), ErrorCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(const auto stored, this->ingest_->Receive(core::Principal::LocalOperator(), received));
  EXPECT_EQ(stored.outcome, core::MailOutcome::kStored);
  ASSERT_OK_AND_ASSIGN(const std::string back, this->blobs_->Get(sealed->sha256));
  EXPECT_EQ(back, raw);
}

TYPED_TEST(InlineBlobTest, InsertingTheSameBlobTwiceKeepsOneRow) {
  ASSERT_OK_AND_ASSIGN(auto sealed, this->blobs_->SealInline("abc"));
  ASSERT_TRUE(sealed.has_value());
  const auto now = this->clock_.Now();
  ASSERT_OK_AND_ASSIGN(const bool first,
                       WriteValue(*this->store_, [&](core::WriteTx& tx) { return tx.InsertBlob(*sealed, now); }));
  ASSERT_OK_AND_ASSIGN(auto resealed, this->blobs_->SealInline("abc"));
  ASSERT_OK_AND_ASSIGN(const bool second,
                       WriteValue(*this->store_, [&](core::WriteTx& tx) { return tx.InsertBlob(*resealed, now); }));
  EXPECT_TRUE(first);
  EXPECT_FALSE(second) << "the same plaintext is the same blob";
  const auto row = this->Row(sealed->sha256);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->sealed, sealed->sealed) << "the first copy is kept";
  ASSERT_OK_AND_ASSIGN(const auto too_large, this->blobs_->SealInline(std::string(kLimit + 1, 'x')));
  EXPECT_FALSE(too_large.has_value()) << "over the limit: for the blob store";
}

}  // namespace
}  // namespace hikeshi::store_contract
