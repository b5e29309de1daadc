#include "hikeshi/intake/pipeline/mail_pipeline.hpp"

#include <algorithm>
#include <cstdint>

#include "hikeshi/core/observable.hpp"
#include "hikeshi/extract/extractor.hpp"
#include "hikeshi/routing/router.hpp"

namespace hikeshi::intake::pipeline {
namespace {

void AddUnique(std::vector<core::Observable>& list, core::Observable observable, std::size_t max) {
  if (list.size() >= max) return;
  if (std::find(list.begin(), list.end(), observable) == list.end()) list.push_back(std::move(observable));
}

void AddText(const extract::Extractor& extractor, std::string_view text, std::vector<core::Observable>& out,
             std::size_t max) {
  if (text.empty()) return;
  const std::size_t limit = extractor.options().max_input_bytes;
  if (text.size() > limit) text = text.substr(0, limit);
  auto found = extractor.Extract(text);
  if (!found) return;  // extraction is a help, never a reason to lose the message
  for (auto& x : *found) AddUnique(out, std::move(x.observable), max);
}

void AddTyped(core::ObservableType type, std::string_view value, std::vector<core::Observable>& out, std::size_t max) {
  while (!value.empty() && (value.back() == '\r' || value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  if (value.empty()) return;
  if (auto normalised = core::NormalizeObservable(type, value)) AddUnique(out, std::move(*normalised), max);
}

}  // namespace

MailPipeline::MailPipeline(core::Store& store, core::BlobStore& blobs, const core::Clock& clock,
                           const extract::Extractor* extractor, core::KeyRing* keyring, core::MailIngest& ingest,
                           MailPipelineOptions options)
    : store_(store),
      blobs_(blobs),
      clock_(clock),
      extractor_(extractor),
      keyring_(keyring),
      ingest_(ingest),
      options_(std::move(options)),
      router_(std::make_unique<routing::Router>()) {}

MailPipeline::~MailPipeline() = default;

Result<void> MailPipeline::RefreshRouting() {
  std::lock_guard lock(refresh_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (routed_at_ != std::chrono::steady_clock::time_point{} && now - routed_at_ < options_.routing_refresh) return {};
  std::vector<core::Constituency> constituencies;
  HIKESHI_CHECK(store_.Read([&](core::StoreReader& r) -> Result<void> {
    HIKESHI_TRY(constituencies, r.ListConstituencies());
    return {};
  }));
  HIKESHI_CHECK(router_->Rebuild(constituencies, routing::RoutingOptions{options_.unmatched}));
  routed_at_ = now;
  return {};
}

Result<core::MailReceipt> MailPipeline::Deliver(const core::Principal& actor, std::string_view raw) {
  // 1. The raw bytes first: whatever the parse makes of them, what was received is kept. A small blob is
  // sealed to be stored as a row in the transaction that stores the message (it commits with it:
  // one WAL flush for the group of messages committed together). A larger one is written to the
  // blob store and becomes durable just before that commit, with one sync for the whole group
  // (BlobStore::PutPending). Either way, a committed row never names a blob that could be lost.
  core::ReceivedMail received;
  std::uint64_t ticket = 0;
  const auto keep = [&](std::string_view content) -> Result<std::string> {
    HIKESHI_TRY(auto sealed, blobs_.SealInline(content));
    if (sealed) {
      std::string sha = sealed->sha256;
      received.inline_blobs.push_back(std::move(*sealed));
      return sha;
    }
    HIKESHI_TRY(auto blob, blobs_.PutPending(content));
    ticket = std::max(ticket, blob.ticket);
    return std::move(blob.sha256);
  };
  HIKESHI_TRY(std::string raw_sha, keep(raw));

  // 2. Parse. Never fails; problems become flags.
  received.mail = mail::ParseMail(raw, options_.parse, keyring_);
  received.raw_sha256 = std::move(raw_sha);
  received.raw_size = static_cast<std::int64_t>(raw.size());
  for (auto& attachment : received.mail.attachments) {
    if (attachment.content.empty() && !attachment.sha256.empty()) continue;  // dropped by a limit
    HIKESHI_TRY(attachment.sha256, keep(attachment.content));
  }

  // 3. Observables: the abuse report's structured fields first, then free text.
  std::vector<core::Observable>& found = received.observables;
  const std::size_t max = options_.max_observables;
  if (const auto& abuse = received.mail.abuse) {
    const auto ip_type =
        abuse->source_ip.find(':') != std::string::npos ? core::ObservableType::kIpv6 : core::ObservableType::kIpv4;
    AddTyped(ip_type, abuse->source_ip, found, max);
    // A report may name several URIs or domains: the parser keeps one per line.
    for (const auto& [type, values] :
         {std::pair{core::ObservableType::kUrl, std::string_view(abuse->reported_uri)},
          std::pair{core::ObservableType::kDomain, std::string_view(abuse->reported_domain)}}) {
      for (std::size_t start = 0; start <= values.size();) {
        const std::size_t end = std::min(values.find('\n', start), values.size());
        AddTyped(type, values.substr(start, end - start), found, max);
        start = end + 1;
      }
    }
  }
  if (extractor_ != nullptr) {
    AddText(*extractor_, received.mail.subject, found, max);
    AddText(*extractor_, received.mail.text, found, max);
    if (received.mail.abuse) AddText(*extractor_, received.mail.abuse->original_message, found, max);
  }

  // 4. Route to a constituency.
  HIKESHI_CHECK(RefreshRouting());
  const routing::Decision decision = router_->Route(std::span<const core::Observable>(found));
  received.constituency_id = decision.constituency_id();

  // 5. Store, thread, acknowledge.
  if (ticket == 0) return ingest_.Receive(actor, received);
  return ingest_.Receive(actor, received, [&]() -> Result<void> { return blobs_.SyncPending(ticket); });
}

}  // namespace hikeshi::intake::pipeline
