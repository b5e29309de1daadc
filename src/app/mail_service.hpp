#pragma once
// Mail in the composition root: the [mail] configuration, and the objects every way in (mailgate,
// LMTP, `ingest mail`) and the delivery worker share. Only the app names the concrete adapters.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/mail_delivery.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/mailer.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/intake/pipeline/mail_pipeline.hpp"

#include "store_factory.hpp"

namespace hikeshi::extract {
class Extractor;
}

namespace hikeshi::app {

// DATA/hikeshi.toml, section [mail]; every key optional.
struct MailConfig {
  std::string team_address = "csirt@localhost";
  std::string team_name = "CSIRT";
  std::string subject_tag = "Hikeshi";
  bool acknowledge = true;
  int acks_per_sender = 5;
  int ack_window_seconds = 3600;
  std::size_t max_message_bytes = std::size_t{64} << 20;
  std::string smtp_url;  // empty: nothing is sent (acknowledgements stay queued)
  std::string smtp_username;
  std::string smtp_password;  // or the environment variable HIKESHI_SMTP_PASSWORD
  int delivery_interval_ms = 2000;
  // How long a node keeps a message it took for sending; a node that dies holding one leaves it to
  // the others once this has passed.
  int delivery_lease_seconds = 300;
  // The key that seals stored mail (absolute, or relative to the data directory). Every node of a
  // PostgreSQL deployment must use the same key: copy the file, or point this at a shared one.
  std::string blob_key_file = "keys/blob.key";
  // The raw message and each attachment up to this size are stored in the database, in the
  // transaction that stores the message; larger ones as blobs (DATA/blobs with SQLite). 0: none.
  std::size_t inline_blob_max_bytes = std::size_t{256} << 10;
};

// Reads DATA/hikeshi.toml (absent: defaults). Errors: kInvalidArgument naming the bad key.
Result<MailConfig> LoadMailConfig(const std::filesystem::path& data_dir);
// Writes a commented default DATA/hikeshi.toml unless one exists.
Result<void> WriteDefaultConfig(const std::filesystem::path& data_dir);

// The blob key file `config` names, resolved against the data directory.
std::filesystem::path BlobKeyFile(const std::filesystem::path& data_dir, const MailConfig& config);

// The team's PGP home (DATA/gnupg) and key, made by `hikeshi init`; the blob key likewise.
Result<void> InitMailKeys(const StoreLocation& location, const MailConfig& config);

struct MailServices {
  MailConfig config;
  std::unique_ptr<core::BlobStore> blobs;
  std::unique_ptr<core::KeyRing> keyring;  // null when DATA/gnupg has no team key
  std::unique_ptr<core::MailIngest> ingest;
  std::unique_ptr<intake::pipeline::MailPipeline> pipeline;
  std::unique_ptr<core::MailComposer> composer;
  std::unique_ptr<core::Mailer> mailer;  // null without smtp_url
  std::unique_ptr<core::MailDelivery> delivery;
};

// Blobs go where the store's kind keeps them (store_factory.hpp: OpenBlobStore). `triage` (may be
// null) triages every report mail opens; it must outlive the services.
Result<std::unique_ptr<MailServices>> OpenMailServices(const StoreLocation& location, core::Store& store,
                                                       const core::Clock& clock, const extract::Extractor* extractor,
                                                       const core::IntakeTriage* triage = nullptr);

// Runs MailDelivery::RunOnce every interval on a thread of its own until destroyed.
class DeliveryWorker {
 public:
  DeliveryWorker(core::MailDelivery& delivery, std::chrono::milliseconds interval);
  ~DeliveryWorker();
  DeliveryWorker(const DeliveryWorker&) = delete;
  DeliveryWorker& operator=(const DeliveryWorker&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hikeshi::app
