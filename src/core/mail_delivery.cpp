#include "hikeshi/core/mail_delivery.hpp"

#include <algorithm>

namespace hikeshi::core {

MailDelivery::MailDelivery(Store& store, const Clock& clock, MailComposer& composer, Mailer& mailer, BlobStore* blobs,
                           MailDeliveryOptions options)
    : store_(store), clock_(clock), composer_(composer), mailer_(mailer), blobs_(blobs), options_(std::move(options)) {}

Result<DeliveryStats> MailDelivery::RunOnce() {
  const Timestamp now = clock_.Now();
  std::vector<MailMessage> due;
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(due, tx.ClaimOutgoingMail(now, options_.worker, now + options_.lease, options_.batch));
    return {};
  }));

  DeliveryStats stats;
  for (const MailMessage& mail : due) {
    MailMessage after = mail;
    after.attempts = mail.attempts + 1;
    std::string action;
    auto composed = composer_.Compose(mail);
    Result<void> sent = composed ? Result<void>{} : Fail(composed.error());
    if (composed && blobs_ != nullptr) {
      auto kept = blobs_->Put(composed->message);
      if (kept) {
        after.raw_sha256 = *kept;
        after.raw_size = static_cast<std::int64_t>(composed->message.size());
      }
    }
    if (composed) sent = mailer_.Send(*composed);
    const Timestamp done = clock_.Now();
    if (sent) {
      after.status = "sent";
      after.sent_at = done;
      after.last_error.clear();
      after.next_attempt_at.reset();
      action = "mail.sent";
      ++stats.sent;
    } else {
      after.last_error = sent.error().message();
      const bool transient = sent.error().code() == ErrorCode::kUnavailable ||
                             sent.error().code() == ErrorCode::kDeadlineExceeded ||
                             sent.error().code() == ErrorCode::kResourceExhausted;
      if (transient && after.attempts < options_.max_attempts) {
        auto delay = options_.first_retry;
        for (int i = 1; i < after.attempts && delay < options_.max_retry_delay; ++i) delay *= 2;
        delay = std::min(delay, options_.max_retry_delay);
        after.next_attempt_at = done + delay;
        action = "mail.retry";
        ++stats.retried;
      } else {
        after.status = "failed";
        after.next_attempt_at.reset();
        action = "mail.failed";
        ++stats.failed;
      }
    }
    HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
      std::string incident;
      if (after.incident_id) {
        HIKESHI_TRY(const auto found, tx.FindIncidentById(Scope::All(), *after.incident_id));
        if (found) incident = found->human_id;
      }
      return tx.UpdateMail(AuditContext{"system", done}, action, mail, after, incident);
    }));
  }
  return stats;
}

}  // namespace hikeshi::core
