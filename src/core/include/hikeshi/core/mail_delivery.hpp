#pragma once
// Delivery of queued outgoing mail (acknowledgements, notices, investigation mail). Queued rows are
// leased from the store, composed into RFC 5322 messages (signed with the team key where the
// composer can), handed to the MTA, and marked sent; transient failures are retried with
// exponential back-off, permanent ones (and too many retries) mark the message failed. Every
// outcome is audited. Several workers (threads, processes, nodes) may run at once: a lease keeps
// each message with one worker, and a worker that dies loses its lease.
// Thread-safe; Store, Clock, composer and mailer must outlive it.

#include <chrono>
#include <string>

#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/mailer.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// Port: turns a queued MailMessage into the bytes to send. Implemented in src/notify.
class MailComposer {
 public:
  virtual ~MailComposer() = default;
  // Errors: kInvalidArgument when the message cannot be composed (it will not be retried).
  virtual Result<OutgoingMail> Compose(const MailMessage& mail) = 0;
};

struct MailDeliveryOptions {
  std::string worker = "hikeshi";        // who holds a lease (host and process, for operators)
  std::chrono::seconds lease{300};       // how long a claimed message stays with this worker
  std::chrono::seconds first_retry{60};  // then 2, 4, 8... times that, at most max_retry_delay
  std::chrono::seconds max_retry_delay{6 * 3600};
  int max_attempts = 10;
  int batch = 20;
};

struct DeliveryStats {
  int sent = 0;
  int retried = 0;  // transient failure, will be tried again
  int failed = 0;   // given up
};

class MailDelivery {
 public:
  // `blobs` may be null; when set, the composed message is kept there (raw_sha256 on the row).
  MailDelivery(Store& store, const Clock& clock, MailComposer& composer, Mailer& mailer, BlobStore* blobs,
               MailDeliveryOptions options);
  // Delivers what is due now, one batch. Errors: storage errors only (a failed send is a result).
  Result<DeliveryStats> RunOnce();

 private:
  Store& store_;
  const Clock& clock_;
  MailComposer& composer_;
  Mailer& mailer_;
  BlobStore* blobs_;
  MailDeliveryOptions options_;
};

}  // namespace hikeshi::core
