#pragma once
// The bytes behind a mail message: its raw RFC 5322 form and its attachments, read from the
// BlobStore for people allowed to see the report or incident the message belongs to.
// Thread-safe; Store and BlobStore must outlive it.

#include <cstdint>
#include <string>
#include <string_view>

#include "hikeshi/core/blob_store.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

struct MailFile {
  std::string filename;      // what to suggest when saving it
  std::string content_type;  // as declared (attachments) or message/rfc822 (raw)
  std::string content;
};

// Where the message hangs: a report ("R-...") or an incident ("I-...").
class MailFiles {
 public:
  MailFiles(Store& store, BlobStore& blobs) : store_(store), blobs_(blobs) {}

  // Errors: kNotFound when the report or incident is not visible to `actor`, the message is not
  // one of its own, or the blob is gone; kDataLoss when the blob fails authentication.
  [[nodiscard]] Result<MailFile> Raw(const Principal& actor, std::string_view owner, std::int64_t mail_id);
  [[nodiscard]] Result<MailFile> Attachment(const Principal& actor, std::string_view owner, std::int64_t mail_id,
                                            std::string_view sha256);

 private:
  Result<MailMessage> Visible(const Principal& actor, std::string_view owner, std::int64_t mail_id);

  Store& store_;
  BlobStore& blobs_;
};

}  // namespace hikeshi::core
