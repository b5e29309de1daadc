#include "hikeshi/core/model.hpp"

#include <array>

namespace hikeshi::core {

namespace {
template <typename Enum, std::size_t N>
std::optional<Enum> FindName(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 8> kContactKinds = {"csirt",  "isp",    "hosting",     "vendor",
                                                           "police", "expert", "constituent", "other"};
constexpr std::array<std::string_view, 3> kContactTrusts = {"unvetted", "introduced", "vetted"};
constexpr std::array<std::string_view, 4> kRoles = {"admin", "handler", "viewer", "constituent"};
constexpr std::array<std::string_view, 6> kChannels = {"api", "mail", "web", "feed", "phone", "manual"};
constexpr std::array<std::string_view, 3> kReportStatuses = {"new", "linked", "rejected"};
constexpr std::array<std::string_view, 4> kRejectReasons = {"not-incident", "out-of-scope", "spam", "duplicate"};
constexpr std::array<std::string_view, 2> kMailDirections = {"in", "out"};
}  // namespace

std::string_view ContactKindName(ContactKind kind) { return kContactKinds[static_cast<int>(kind)]; }
std::optional<ContactKind> ParseContactKind(std::string_view text) {
  return FindName<ContactKind>(kContactKinds, text);
}
std::string_view ContactTrustName(ContactTrust trust) { return kContactTrusts[static_cast<int>(trust)]; }
std::optional<ContactTrust> ParseContactTrust(std::string_view text) {
  return FindName<ContactTrust>(kContactTrusts, text);
}
std::string_view MailDirectionName(MailDirection direction) { return kMailDirections[static_cast<int>(direction)]; }
std::optional<MailDirection> ParseMailDirection(std::string_view text) {
  return FindName<MailDirection>(kMailDirections, text);
}
std::string_view RoleName(Role role) { return kRoles[static_cast<int>(role)]; }
std::optional<Role> ParseRole(std::string_view text) { return FindName<Role>(kRoles, text); }
std::string_view ChannelName(Channel channel) { return kChannels[static_cast<int>(channel)]; }
std::optional<Channel> ParseChannel(std::string_view text) { return FindName<Channel>(kChannels, text); }
std::string_view ReportStatusName(ReportStatus status) { return kReportStatuses[static_cast<int>(status)]; }
std::optional<ReportStatus> ParseReportStatus(std::string_view text) {
  return FindName<ReportStatus>(kReportStatuses, text);
}
std::string_view RejectReasonName(RejectReason reason) { return kRejectReasons[static_cast<int>(reason)]; }
std::optional<RejectReason> ParseRejectReason(std::string_view text) {
  return FindName<RejectReason>(kRejectReasons, text);
}

}  // namespace hikeshi::core
