#pragma once
// Owning handles for GMime's GObjects, and GLib dates as Timestamps. Private to intake/mail; only
// its .cpp files include GMime.

#include <memory>
#include <optional>

#include <gmime/gmime.h>

#include "hikeshi/common/time.hpp"

namespace hikeshi::intake::mail::detail {

struct GObjectUnref {
  void operator()(void* object) const {
    if (object != nullptr) g_object_unref(object);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

inline std::optional<common::Timestamp> FromGDateTime(GDateTime* date) {
  if (date == nullptr) return std::nullopt;
  return common::FromMicros(g_date_time_to_unix(date) * 1'000'000 + g_date_time_get_microsecond(date));
}

}  // namespace hikeshi::intake::mail::detail
