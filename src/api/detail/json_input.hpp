#pragma once
// Strict reading of JSON request bodies: malformed JSON, wrong types and unknown fields are
// errors that name the offending field. Only api's .cpp files include this (it brings
// nlohmann/json). Not thread-safe; one reader per request.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/incidents.hpp"

namespace hikeshi::api::detail {

class JsonObjectReader {
 public:
  // Errors: kInvalidArgument for malformed JSON (with the byte offset), nesting deeper than 32,
  // or a body that is not a JSON object.
  static Result<JsonObjectReader> Parse(std::string_view body);

  Result<std::optional<std::string>> String(std::string_view key);
  Result<std::string> RequiredString(std::string_view key);
  // Absent -> nullopt; null -> optional holding nullopt; string -> the string.
  Result<std::optional<std::optional<std::string>>> NullableString(std::string_view key);
  Result<std::optional<std::int64_t>> Integer(std::string_view key);
  // Absent: nullopt; null: an empty inner optional.
  Result<std::optional<std::optional<std::int64_t>>> NullableInteger(std::string_view key);
  Result<std::optional<bool>> Bool(std::string_view key);
  Result<std::optional<std::vector<std::string>>> StringArray(std::string_view key);
  Result<std::optional<std::vector<core::RawObservable>>> Observables(std::string_view key);
  // The value of `key` as parsed (nullptr when absent), for nested objects a route reads itself;
  // valid as long as this reader.
  const nlohmann::json* Value(std::string_view key) { return Take(key); }
  // Errors: kInvalidArgument naming the first field no getter asked for.
  Result<void> RejectUnknownFields() const;

 private:
  explicit JsonObjectReader(nlohmann::json object) : object_(std::move(object)) {}
  const nlohmann::json* Take(std::string_view key);

  nlohmann::json object_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace hikeshi::api::detail
