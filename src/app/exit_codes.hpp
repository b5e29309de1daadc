#pragma once
// The one mapping from ErrorCode to the CLI's exit status (sysexits.h values, so an MTA treats
// 75 as "try again later").

#include "hikeshi/common/error.hpp"

namespace hikeshi::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitVerifyFailed = 1;  // `audit verify` found tampering
inline constexpr int kExitUsage = 64;        // EX_USAGE
inline constexpr int kExitTempFail = 75;     // EX_TEMPFAIL

int ExitCodeOf(const Error& error);

}  // namespace hikeshi::app
