#pragma once
// The parts of a MailMessage that backends keep as one JSON document (recipients, references,
// attachments, signatures, the abuse report, flags and problems), encoded and decoded here once so
// that every backend stores the same thing.

#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/model.hpp"

namespace hikeshi::core {

std::string EncodeMailDetails(const MailMessage& mail);
// Fills those fields of `mail` from `json`. Errors: kDataLoss when the document is not one that
// EncodeMailDetails wrote.
Result<void> DecodeMailDetails(std::string_view json, MailMessage& mail);

}  // namespace hikeshi::core
