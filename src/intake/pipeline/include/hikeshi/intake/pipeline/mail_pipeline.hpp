#pragma once
// The mail intake pipeline, shared by every way mail comes in (the mailgate, the LMTP listener,
// `hikeshi ingest mail`): keep the raw message (BlobStore) -> parse (intake/mail) -> keep the
// attachments -> extract observables from subject, text and abuse-report fields (extract) -> route
// to a constituency (routing) -> store, thread and queue the acknowledgement (core::MailIngest).
// Deliver() returns only once the message is committed: an MTA may then be told it was accepted.
// Concurrent Deliver() calls share commits (core::WriteGroup in MailIngest). Small blobs are rows
// committed in that transaction (BlobStore::SealInline, WriteTx::InsertBlob); larger ones are made
// durable together just before it (BlobStore::PutPending / SyncPending).
//
// Thread-safety: Deliver() may be called from several threads at once.

#include <chrono>
#include <memory>
#include <mutex>
#include <string_view>

#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/keyring.hpp"
#include "hikeshi/core/mail_ingest.hpp"
#include "hikeshi/core/store.hpp"
#include "hikeshi/intake/mail/mail_parser.hpp"
#include "hikeshi/routing/routing_table.hpp"

namespace hikeshi::extract {
class Extractor;
}
namespace hikeshi::routing {
class Router;
}

namespace hikeshi::intake::pipeline {

struct MailPipelineOptions {
  mail::MailParseOptions parse;
  routing::UnmatchedPolicy unmatched = routing::UnmatchedPolicy::kCoordinationQueue;
  // Constituencies are re-read at most this often (a changed constituency routes mail after this).
  std::chrono::milliseconds routing_refresh{2000};
  std::size_t max_observables = 200;
};

class MailPipeline final : public core::MailIntake {
 public:
  // Everything given must outlive the pipeline; `extractor` and `keyring` may be null.
  MailPipeline(core::Store& store, core::BlobStore& blobs, const core::Clock& clock,
               const extract::Extractor* extractor, core::KeyRing* keyring, core::MailIngest& ingest,
               MailPipelineOptions options);
  ~MailPipeline() override;
  MailPipeline(const MailPipeline&) = delete;
  MailPipeline& operator=(const MailPipeline&) = delete;

  // Errors: kTooLarge when `raw` exceeds the configured message limit by more than the parser
  // tolerates (never: a large message is kept and flagged); kPermissionDenied; storage errors,
  // which the caller must turn into "try again later" (EX_TEMPFAIL, LMTP 451).
  [[nodiscard]] Result<core::MailReceipt> Deliver(const core::Principal& actor, std::string_view raw) override;

 private:
  Result<void> RefreshRouting();

  core::Store& store_;
  core::BlobStore& blobs_;
  const core::Clock& clock_;
  const extract::Extractor* extractor_;
  core::KeyRing* keyring_;
  core::MailIngest& ingest_;
  MailPipelineOptions options_;
  std::unique_ptr<routing::Router> router_;
  std::mutex refresh_mutex_;
  std::chrono::steady_clock::time_point routed_at_{};
};

}  // namespace hikeshi::intake::pipeline
