#pragma once
// Structured abuse reports carried by mail: ARF (RFC 5965 message/feedback-report fields), X-ARF
// v0.2 (the flat YAML of report.txt) and X-ARF v4 (JSON, read by intake/feed's xarf parser), and
// their RSIT categories. docs/mail.md holds the category tables. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hikeshi/core/inbound_mail.hpp"

namespace hikeshi::intake::mail::detail {

using Fields = std::vector<std::pair<std::string, std::string>>;

// "Name: value" lines with folded continuation lines joined (RFC 5322 style), as in a
// message/feedback-report part. Names keep their case; values are trimmed.
Fields ParseFieldBlock(std::string_view text);
// The flat YAML of an X-ARF v0.2 report.txt: "key: value" pairs, plain, quoted or block scalars
// ("|", ">"), comments and document markers skipped. Nested structures are not read (their lines
// are skipped). Never fails; what it cannot read is left out.
Fields ParseFlatYaml(std::string_view text);

std::optional<core::Category> ArfCategory(std::string_view feedback_type);
std::optional<core::Category> Xarf02Category(std::string_view category, std::string_view report_type);

// The report from a message/feedback-report part's content. original_message is left to the
// caller (it is another MIME part).
core::AbuseReport ReadArf(std::string_view feedback_report);
// nullopt when the YAML is not an X-ARF report (no Report-Type).
std::optional<core::AbuseReport> ReadXarf02(std::string_view yaml);
// nullopt when `json` is not an X-ARF v4 report the feed parser accepts; `why` then says why.
std::optional<core::AbuseReport> ReadXarf4(std::string_view json, std::string* why);

// An IP address as written in reports ("192.0.2.1 (host.example)", "[2001:db8::1]"), normalised;
// empty when it is not one.
std::string NormalizeReportedIp(std::string_view text);

}  // namespace hikeshi::intake::mail::detail
