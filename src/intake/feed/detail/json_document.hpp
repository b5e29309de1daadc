#pragma once
// Whole JSON documents (MISP events, X-ARF reports written as one document) read with nlohmann,
// bounded by max_document_bytes. Not a public header: nlohmann stays out of the public ones.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hikeshi/common/error.hpp"

#include "detail/json_fields.hpp"
#include "detail/line_reader.hpp"

namespace hikeshi::intake::feed::detail {

// Fills `record` with the values `fields` names in `object`, as OndemandExtractor does for a line.
void ExtractFromDocument(const nlohmann::json& object, const JsonFieldSet& fields, JsonRecord& record);

// Parses `text` as one JSON document.
// Errors: kInvalidArgument naming the byte offset and what is wrong.
[[nodiscard]] Result<nlohmann::json> ParseJsonDocument(std::string_view text);

// A JSON value as compact text (invalid UTF-8 replaced), for FeedEvent::raw.
std::string DumpJson(const nlohmann::json& value);

// The string at `key` in `object`, or "" when absent or not a string.
std::string_view StringAt(const nlohmann::json& object, std::string_view key);

}  // namespace hikeshi::intake::feed::detail
