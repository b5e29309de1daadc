#pragma once
// What the store contract's test files share: assertion macros for Result<T>, readable printing of
// domain values, timestamps written as dates, and one-transaction helpers. Test code only.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {
// Readable failure messages for the value types gtest cannot print itself.
inline void PrintTo(const Observable& o, std::ostream* os) { *os << ObservableTypeName(o.type) << ":" << o.value; }
inline void PrintTo(const Category& c, std::ostream* os) { *os << c.ToString(); }
}  // namespace hikeshi::core

namespace hikeshi::store_contract {

inline std::string Describe(const Error& error) {
  return std::string(ErrorCodeName(error.code())) + ": " + error.message();
}

#define CONTRACT_CONCAT_INNER(a, b) a##b
#define CONTRACT_CONCAT(a, b) CONTRACT_CONCAT_INNER(a, b)
// Asserts that `expr` (a Result<T>) holds a value and moves it into `lhs`.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, CONTRACT_CONCAT(result_, __LINE__))
#define ASSERT_OK_AND_ASSIGN_IMPL(lhs, expr, tmp)        \
  auto tmp = (expr);                                     \
  ASSERT_TRUE(tmp.has_value()) << Describe(tmp.error()); \
  lhs = std::move(tmp).value()
#define ASSERT_OK(expr)                                                            \
  do {                                                                             \
    const auto contract_result = (expr);                                           \
    ASSERT_TRUE(contract_result.has_value()) << Describe(contract_result.error()); \
  } while (0)
#define EXPECT_ERROR(expr, expected_code)                                                          \
  do {                                                                                             \
    const auto contract_result = (expr);                                                           \
    ASSERT_FALSE(contract_result.has_value()) << "expected " << ErrorCodeName(expected_code);      \
    EXPECT_EQ(contract_result.error().code(), expected_code) << Describe(contract_result.error()); \
  } while (0)

// A UTC date and time, e.g. At(2026, 3, 14, 9, 30, 123456) for 2026-03-14 09:30:00.123456.
inline core::Timestamp At(int year, unsigned month, unsigned day, int hour = 0, int minute = 0,
                          std::int64_t micros = 0) {
  const std::chrono::sys_days date = std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day};
  return std::chrono::time_point_cast<std::chrono::microseconds>(date) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::microseconds(micros);
}

// Runs `body` (WriteTx& -> Result<T>) in one write transaction and passes its value out. An error
// from `body` rolls the transaction back.
template <typename F>
auto WriteValue(core::Store& store, F body) -> decltype(body(std::declval<core::WriteTx&>())) {
  using R = decltype(body(std::declval<core::WriteTx&>()));
  std::optional<R> out;
  auto status = store.Write([&](core::WriteTx& tx) -> Result<void> {
    R result = body(tx);
    if (!result) return Fail(result.error());
    out.emplace(std::move(result));
    return {};
  });
  if (!status) return R(std::unexpected(status.error()));
  return std::move(*out);
}

// Runs `body` (StoreReader& -> Result<T>) against one snapshot and passes its result out.
template <typename F>
auto ReadValue(core::Store& store, F body) -> decltype(body(std::declval<core::StoreReader&>())) {
  using R = decltype(body(std::declval<core::StoreReader&>()));
  std::optional<R> out;
  auto status = store.Read([&](core::StoreReader& reader) -> Result<void> {
    out.emplace(body(reader));
    return {};
  });
  if (!status) return R(std::unexpected(status.error()));
  return std::move(*out);
}

}  // namespace hikeshi::store_contract
