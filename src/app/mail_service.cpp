#include "mail_service.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <system_error>

#include <spdlog/spdlog.h>
#include <toml++/toml.h>
#include <unistd.h>

#include "hikeshi/core/investigations.hpp"
#include "hikeshi/notify/compose.hpp"
#include "hikeshi/notify/smtp_mailer.hpp"
#include "hikeshi/pgp/gpg_keyring.hpp"

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigFile = "hikeshi.toml";

constexpr const char* kDefaultConfig =
    R"toml(# Hikeshi configuration. Every key is optional; the values shown are the defaults.

[mail]
# The team's own address: the From of what Hikeshi sends. Mail from it is never acknowledged.
# team_address = "csirt@localhost"
# team_name = "CSIRT"
# The tag in subjects that threads replies back: "[Hikeshi R-2026-000001]".
# subject_tag = "Hikeshi"
# Acknowledge every new report to its sender (never spam, automatic mail or our own address).
# acknowledge = true
# At most this many acknowledgements to one sender per window.
# acks_per_sender = 5
# ack_window_seconds = 3600
# Larger messages are stored raw and flagged "truncated", not parsed.
# max_message_bytes = 67108864
# Where outgoing mail goes (a relay: "smtp://127.0.0.1:25" or "smtps://relay:465"). Empty: mail is
# queued and not sent. The password may instead come from the environment, HIKESHI_SMTP_PASSWORD.
# smtp_url = ""
# smtp_username = ""
# delivery_interval_ms = 2000
# How long a node keeps a message it took for sending before another node may take it over.
# delivery_lease_seconds = 300
# The key that seals stored mail and attachments (relative to this directory). With PostgreSQL
# (--store), every node must have the same key: copy this file to each one, or share it.
# blob_key_file = "keys/blob.key"
# The raw message and attachments up to this size are stored in the database with the report,
# sealed with the same key (one flush to disk per group of messages); larger ones in DATA/blobs
# (with PostgreSQL, both in the database). 0 keeps every one in DATA/blobs.
# inline_blob_max_bytes = 262144

# SLA targets per priority and the breach check (docs/sla-and-statistics.md); defaults shown for P1.
# [sla]
# check_interval_seconds = 60
# machine_accounts = []
# [sla.P1]
# acknowledge = "15m"
# triage = "1h"
# first-response = "4h"
# resolution = "1d"
)toml";

template <typename T>
Result<void> Take(const toml::table& mail, std::string_view key, T& out) {
  const toml::node* node = mail.get(key);
  if (node == nullptr) return {};
  if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) {
      out = *v;
      return {};
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node->value<bool>()) {
      out = *v;
      return {};
    }
  } else {
    if (auto v = node->value<std::int64_t>(); v && *v >= 0) {
      out = static_cast<T>(*v);
      return {};
    }
  }
  return Fail(Error::InvalidArgument("wrong type or value in " + std::string(kConfigFile), "mail." + std::string(key)));
}

std::string Bracketed(std::string_view id) { return id.empty() ? std::string() : "<" + std::string(id) + ">"; }

// The team keyring, opened on first use: most mail is neither signed nor encrypted, and opening a
// gpg home starts gpg several times (about a quarter of a second), which every `hikeshi mailgate`
// process would otherwise pay. Thread-safe: the first caller opens it, under a mutex.
class LazyKeyRing final : public core::KeyRing {
 public:
  explicit LazyKeyRing(fs::path home) : home_(std::move(home)) {}

  Result<core::Decrypted> Decrypt(std::string_view ciphertext) override {
    HIKESHI_TRY(auto* k, Get());
    return k->Decrypt(ciphertext);
  }
  Result<std::vector<core::SignatureCheck>> VerifyDetached(std::string_view signed_data,
                                                           std::string_view signature) override {
    HIKESHI_TRY(auto* k, Get());
    return k->VerifyDetached(signed_data, signature);
  }
  Result<core::Decrypted> VerifyInline(std::string_view message) override {
    HIKESHI_TRY(auto* k, Get());
    return k->VerifyInline(message);
  }
  Result<std::string> SignDetached(std::string_view data) override {
    HIKESHI_TRY(auto* k, Get());
    return k->SignDetached(data);
  }
  Result<std::string> SignAndEncrypt(std::string_view data, const std::vector<std::string>& recipients) override {
    HIKESHI_TRY(auto* k, Get());
    return k->SignAndEncrypt(data, recipients);
  }
  Result<std::vector<std::string>> ImportKeys(std::string_view armoured) override {
    HIKESHI_TRY(auto* k, Get());
    return k->ImportKeys(armoured);
  }
  Result<std::string> TeamFingerprint() override {
    HIKESHI_TRY(auto* k, Get());
    return k->TeamFingerprint();
  }
  Result<std::string> ExportPublicKey(std::string_view fingerprint) override {
    HIKESHI_TRY(auto* k, Get());
    return k->ExportPublicKey(fingerprint);
  }
  Result<core::PublicKeyInfo> DescribeKey(std::string_view fingerprint) override {
    HIKESHI_TRY(auto* k, Get());
    return k->DescribeKey(fingerprint);
  }

 private:
  Result<core::KeyRing*> Get() {
    std::lock_guard lock(mutex_);
    if (!inner_) {
      auto opened = pgp::OpenGpgKeyRing(home_);
      if (!opened) return Fail(opened.error());  // tried again on the next call
      inner_ = std::move(*opened);
    }
    return inner_.get();
  }

  fs::path home_;
  std::mutex mutex_;
  std::unique_ptr<core::KeyRing> inner_;
};

// Queued MailMessages become RFC 5322 messages, signed with the team key when there is one, and
// encrypted (PGP/MIME) to the keys their "encrypt-to:" flags name. A message marked for encryption
// is never sent in clear: without a keyring, or when encryption fails, composing fails and the
// delivery queue marks it failed.
class Composer final : public core::MailComposer {
 public:
  Composer(core::KeyRing* keyring, std::string subject_tag) : keyring_(keyring), tag_(std::move(subject_tag)) {}

  Result<core::OutgoingMail> Compose(const core::MailMessage& mail) override {
    notify::MailDraft draft;
    draft.from = {mail.from_name, mail.from_address};
    for (const auto& to : mail.to) draft.to.push_back({"", to});
    draft.subject = mail.subject;
    draft.message_id = Bracketed(mail.message_id);
    draft.in_reply_to = Bracketed(mail.in_reply_to);
    for (const auto& ref : mail.references) draft.references.push_back(Bracketed(ref));
    draft.text = mail.text;
    draft.date = mail.at;
    const bool automatic = mail.kind == "ack";
    if (automatic) draft.extra_headers.push_back({"Auto-Submitted", "auto-replied"});
    // A notice on resolution is sent by the system, not by a person: no vacation replies to it.
    if (mail.kind == "notice") draft.extra_headers.push_back({"Auto-Submitted", "auto-generated"});
    if (auto id = core::MailIngest::TaggedId(mail.subject, tag_)) {
      draft.extra_headers.push_back({"X-Hikeshi-Ticket", *id});
    }
    const std::vector<std::string> encrypt_to = core::EncryptionRecipients(mail);
    if (!encrypt_to.empty()) {
      if (keyring_ == nullptr) {
        return Fail(Error::FailedPrecondition("message " + mail.message_id +
                                              " must be encrypted, and this server has no team keyring"));
      }
      auto encrypted = notify::ComposeEncrypted(draft, encrypt_to, *keyring_);
      if (!encrypted) return Fail(encrypted.error());
      return core::OutgoingMail{mail.from_address, encrypted->recipients, std::move(encrypted->message)};
    }
    // Signed with the team key when there is one (asked here, not at start-up: opening a keyring
    // runs gpg, which a mailgate process that never sends anything should not pay for).
    const bool sign = keyring_ != nullptr && keyring_->TeamFingerprint().has_value();
    auto composed = sign ? notify::ComposeSigned(draft, *keyring_) : notify::Compose(draft);
    if (!composed) return Fail(composed.error());
    // RFC 3834: automatic replies go out with a null reverse-path, so nothing bounces back to us.
    return core::OutgoingMail{automatic ? "" : mail.from_address, composed->recipients, std::move(composed->message)};
  }

 private:
  core::KeyRing* keyring_;
  std::string tag_;
};

}  // namespace

Result<MailConfig> LoadMailConfig(const fs::path& data_dir) {
  MailConfig config;
  const fs::path path = data_dir / kConfigFile;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    toml::table parsed;
    try {
      parsed = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
      return Fail(Error::InvalidArgument(path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                         std::string(e.description())));
    }
    if (const toml::table* mail = parsed["mail"].as_table()) {
      for (const auto& [key, value] : *mail) {
        static constexpr std::string_view kKnown[] = {"team_address",
                                                      "team_name",
                                                      "subject_tag",
                                                      "acknowledge",
                                                      "acks_per_sender",
                                                      "ack_window_seconds",
                                                      "max_message_bytes",
                                                      "smtp_url",
                                                      "smtp_username",
                                                      "smtp_password",
                                                      "delivery_interval_ms",
                                                      "blob_key_file",
                                                      "delivery_lease_seconds",
                                                      "inline_blob_max_bytes"};
        if (std::find(std::begin(kKnown), std::end(kKnown), key.str()) == std::end(kKnown)) {
          return Fail(Error::InvalidArgument("unknown key in " + path.string(), "mail." + std::string(key.str())));
        }
      }
      HIKESHI_CHECK(Take(*mail, "team_address", config.team_address));
      HIKESHI_CHECK(Take(*mail, "team_name", config.team_name));
      HIKESHI_CHECK(Take(*mail, "subject_tag", config.subject_tag));
      HIKESHI_CHECK(Take(*mail, "acknowledge", config.acknowledge));
      HIKESHI_CHECK(Take(*mail, "acks_per_sender", config.acks_per_sender));
      HIKESHI_CHECK(Take(*mail, "ack_window_seconds", config.ack_window_seconds));
      HIKESHI_CHECK(Take(*mail, "max_message_bytes", config.max_message_bytes));
      HIKESHI_CHECK(Take(*mail, "smtp_url", config.smtp_url));
      HIKESHI_CHECK(Take(*mail, "smtp_username", config.smtp_username));
      HIKESHI_CHECK(Take(*mail, "smtp_password", config.smtp_password));
      HIKESHI_CHECK(Take(*mail, "delivery_interval_ms", config.delivery_interval_ms));
      HIKESHI_CHECK(Take(*mail, "blob_key_file", config.blob_key_file));
      HIKESHI_CHECK(Take(*mail, "delivery_lease_seconds", config.delivery_lease_seconds));
      HIKESHI_CHECK(Take(*mail, "inline_blob_max_bytes", config.inline_blob_max_bytes));
      if (config.delivery_lease_seconds < 1) {
        return Fail(Error::InvalidArgument("must be at least 1 in " + path.string(), "mail.delivery_lease_seconds"));
      }
      // A row is read and written whole, in the writer's transaction: keep them well under the
      // databases' limits (SQLite: 1 GB per value) and the writer's memory.
      if (config.inline_blob_max_bytes > (std::size_t{16} << 20)) {
        return Fail(Error::InvalidArgument("at most 16777216 in " + path.string(), "mail.inline_blob_max_bytes"));
      }
      if (config.blob_key_file.empty()) {
        return Fail(Error::InvalidArgument("empty in " + path.string(), "mail.blob_key_file"));
      }
    }
  }
  if (const char* password = std::getenv("HIKESHI_SMTP_PASSWORD"); password != nullptr && *password != '\0') {
    config.smtp_password = password;
  }
  return config;
}

Result<void> WriteDefaultConfig(const fs::path& data_dir) {
  const fs::path path = data_dir / kConfigFile;
  std::error_code ec;
  if (fs::exists(path, ec)) return {};
  std::ofstream out(path);
  out << kDefaultConfig;
  if (!out) return Fail(Error::Internal("cannot write " + path.string()));
  return {};
}

fs::path BlobKeyFile(const fs::path& data_dir, const MailConfig& config) {
  return data_dir / config.blob_key_file;  // an absolute path replaces data_dir
}

Result<void> InitMailKeys(const StoreLocation& location, const MailConfig& config) {
  const fs::path& data_dir = location.data_dir;
  // The blob key: without it stored mail cannot be read, so it is made once and kept.
  HIKESHI_CHECK(OpenBlobStore(location, BlobKeyFile(data_dir, config), true));
  auto team = pgp::CreateTeamKey(data_dir / "gnupg", config.team_name + " <" + config.team_address + ">");
  if (team) {
    spdlog::info("created the team's PGP key {} in {}", *team, (data_dir / "gnupg").string());
  } else if (team.error().code() != ErrorCode::kConflict) {
    return Fail(team.error());
  }
  (void)pgp::StopAgent(data_dir / "gnupg");
  return {};
}

Result<std::unique_ptr<MailServices>> OpenMailServices(const StoreLocation& location, core::Store& store,
                                                       const core::Clock& clock, const extract::Extractor* extractor,
                                                       const core::IntakeTriage* triage) {
  const fs::path& data_dir = location.data_dir;
  auto s = std::make_unique<MailServices>();
  HIKESHI_TRY(s->config, LoadMailConfig(data_dir));
  const MailConfig& c = s->config;
  HIKESHI_TRY(s->blobs, OpenMailBlobStore(location, BlobKeyFile(data_dir, c), store, c.inline_blob_max_bytes));
  std::error_code ec;
  if (fs::exists(data_dir / "gnupg", ec)) {
    s->keyring = std::make_unique<LazyKeyRing>(data_dir / "gnupg");
  }
  core::MailIngestOptions ingest;
  ingest.team_address = c.team_address;
  ingest.team_name = c.team_name;
  ingest.subject_tag = c.subject_tag;
  ingest.acknowledge = c.acknowledge;
  ingest.acks_per_sender = c.acks_per_sender;
  ingest.ack_window = std::chrono::seconds(c.ack_window_seconds);
  s->ingest = std::make_unique<core::MailIngest>(store, clock, ingest, triage);
  intake::pipeline::MailPipelineOptions pipeline;
  pipeline.parse.max_message_bytes = c.max_message_bytes;
  s->pipeline = std::make_unique<intake::pipeline::MailPipeline>(store, *s->blobs, clock, extractor, s->keyring.get(),
                                                                 *s->ingest, pipeline);
  s->composer = std::make_unique<Composer>(s->keyring.get(), c.subject_tag);
  if (!c.smtp_url.empty()) {
    notify::SmtpOptions smtp{c.smtp_url, c.smtp_username, c.smtp_password, false, std::chrono::milliseconds(30000)};
    HIKESHI_CHECK(notify::CheckSmtpOptions(smtp));
    s->mailer = notify::MakeSmtpMailer(std::move(smtp));
    core::MailDeliveryOptions delivery;
    delivery.worker = "pid-" + std::to_string(::getpid());
    delivery.lease = std::chrono::seconds(c.delivery_lease_seconds);
    s->delivery =
        std::make_unique<core::MailDelivery>(store, clock, *s->composer, *s->mailer, s->blobs.get(), delivery);
  }
  return s;
}

DeliveryWorker::DeliveryWorker(core::MailDelivery& delivery, std::chrono::milliseconds interval)
    : thread_([this, &delivery, interval] {
        while (!stop_.load()) {
          auto stats = delivery.RunOnce();
          if (!stats) {
            spdlog::warn("mail delivery: {}", stats.error().message());
          } else if (stats->sent + stats->retried + stats->failed > 0) {
            spdlog::info("mail delivery: {} sent, {} to retry, {} failed", stats->sent, stats->retried, stats->failed);
          }
          for (auto waited = std::chrono::milliseconds(0); waited < interval && !stop_.load();
               waited += std::chrono::milliseconds(50)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }
      }) {}

DeliveryWorker::~DeliveryWorker() {
  stop_.store(true);
  thread_.join();
}

}  // namespace hikeshi::app
