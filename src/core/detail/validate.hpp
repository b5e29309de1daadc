#pragma once
// Input checks shared by core's use cases. Not a public header.

#include <string>
#include <string_view>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core::detail {

// A name people type on a command line: 1..64 of [a-z0-9._-], starting with a letter or digit.
inline Result<void> CheckName(std::string_view value, std::string_view what, std::string field) {
  const auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  bool ok = !value.empty() && value.size() <= 64 && ok_char(value[0]) && value[0] != '.' && value[0] != '_' &&
            value[0] != '-';
  for (char c : value) ok = ok && ok_char(c);
  if (!ok) {
    return Fail(Error::InvalidArgument(std::string(what) + " must be 1-64 characters of a-z, 0-9, '.', '_' or '-'",
                                       std::move(field)));
  }
  return {};
}

// Rejects empty (when required) or over-long text. Sizes are in bytes of UTF-8.
inline Result<void> CheckText(std::string_view value, std::size_t max_bytes, bool required, std::string field) {
  if (required && value.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Fail(Error::InvalidArgument("must not be empty", std::move(field)));
  }
  if (value.size() > max_bytes) {
    return Fail(Error::InvalidArgument("is longer than " + std::to_string(max_bytes) + " bytes", std::move(field)));
  }
  return {};
}

}  // namespace hikeshi::core::detail
