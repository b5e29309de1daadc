#include "detail/abuse_report.hpp"

#include <array>
#include <charconv>
#include <cstddef>
#include <memory>

#include "hikeshi/core/observable.hpp"
#include "hikeshi/intake/feed/parser.hpp"
#include "hikeshi/intake/feed/sources.hpp"

#include "detail/gmime_support.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

core::Category Rsit(std::string_view rsit_class, std::string_view rsit_type) {
  return core::Category{std::string(rsit_class), std::string(rsit_type)};
}

// Appends `value` to a newline-separated list field, skipping duplicates.
void AddToList(std::string& list, std::string_view value) {
  value = Trim(value);
  if (value.empty()) return;
  std::string_view rest = list;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    if (rest.substr(0, end) == value) return;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  if (!list.empty()) list += '\n';
  list += value;
}

std::optional<int> ParsePortNumber(std::string_view text) {
  text = Trim(text);
  int port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port < 0 || port > 65535) return std::nullopt;
  return port;
}

std::string Unquote(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
      if (value[i] == '\\' && i + 2 < value.size()) {
        const char next = value[++i];
        out += next == 'n' ? '\n' : next == 't' ? '\t' : next;
      } else {
        out += value[i];
      }
    }
    return out;
  }
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    std::string out;
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
      out += value[i];
      if (value[i] == '\'' && i + 2 < value.size() && value[i + 1] == '\'') ++i;
    }
    return out;
  }
  // A plain scalar ends at " #" (a comment).
  const std::size_t comment = value.find(" #");
  return std::string(Trim(value.substr(0, comment)));
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

}  // namespace

Fields ParseFieldBlock(std::string_view text) {
  Fields fields;
  for (const std::string_view line : Lines(text)) {
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().second += ' ';
      fields.back().second += Trim(line);
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    fields.emplace_back(std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return fields;
}

Fields ParseFlatYaml(std::string_view text) {
  Fields fields;
  const std::vector<std::string_view> lines = Lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#' || trimmed == "---" || trimmed == "...") continue;
    if (line[0] == ' ' || line[0] == '\t' || line[0] == '-') continue;  // nested, or a list item
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string key(Trim(line.substr(0, colon)));
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\'')) key = Unquote(key);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (value == "|" || value == ">" || value == "|-" || value == ">-") {
      std::string block;
      const bool folded = value[0] == '>';
      while (i + 1 < lines.size() && (lines[i + 1].empty() || lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t')) {
        ++i;
        if (!block.empty()) block += folded ? ' ' : '\n';
        block += Trim(lines[i]);
      }
      fields.emplace_back(std::move(key), std::string(Trim(block)));
      continue;
    }
    fields.emplace_back(std::move(key), Unquote(value));
  }
  return fields;
}

std::optional<core::Category> ArfCategory(std::string_view feedback_type) {
  const std::string type = AsciiLower(Trim(feedback_type));
  if (type == "abuse") return Rsit("abusive-content", "spam");
  if (type == "fraud") return Rsit("fraud", "phishing");
  if (type == "virus") return Rsit("malicious-code", "malware-distribution");
  if (type == "auth-failure") return Rsit("fraud", "masquerade");
  if (type == "other") return Rsit("other", "other");
  if (type == "not-spam" || type.empty()) return std::nullopt;
  return Rsit("other", "undetermined");
}

std::optional<core::Category> Xarf02Category(std::string_view category, std::string_view report_type) {
  std::string type = AsciiLower(Trim(report_type));
  for (char& c : type) {
    if (c == '_' || c == ' ') c = '-';
  }
  constexpr std::array<std::pair<std::string_view, std::pair<std::string_view, std::string_view>>, 18> kTypes{{
      {"login-attack", {"intrusion-attempts", "brute-force"}},
      {"bruteforce", {"intrusion-attempts", "brute-force"}},
      {"brute-force", {"intrusion-attempts", "brute-force"}},
      {"portscan", {"information-gathering", "scanner"}},
      {"port-scan", {"information-gathering", "scanner"}},
      {"scan", {"information-gathering", "scanner"}},
      {"ddos", {"availability", "ddos"}},
      {"dos", {"availability", "dos"}},
      {"phishing", {"fraud", "phishing"}},
      {"phishing-site", {"fraud", "phishing"}},
      {"malware", {"malicious-code", "malware-distribution"}},
      {"malware-attack", {"malicious-code", "malware-distribution"}},
      {"virus", {"malicious-code", "malware-distribution"}},
      {"bot", {"malicious-code", "infected-system"}},
      {"botnet", {"malicious-code", "infected-system"}},
      {"spam", {"abusive-content", "spam"}},
      {"copyright", {"fraud", "copyright"}},
      {"hack-attack", {"intrusion-attempts", "exploit"}},
  }};
  for (const auto& [name, rsit] : kTypes) {
    if (type == name) return Rsit(rsit.first, rsit.second);
  }
  if (EqualsIgnoreCase(Trim(category), "fraud")) return Rsit("fraud", "masquerade");
  if (type.empty() && Trim(category).empty()) return std::nullopt;
  return Rsit("other", "undetermined");
}

std::string NormalizeReportedIp(std::string_view text) {
  text = Trim(text);
  // "192.0.2.1 (host.example)": the address is the first word.
  text = text.substr(0, text.find_first_of(" \t("));
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty()) return {};
  const auto type =
      text.find(':') != std::string_view::npos ? core::ObservableType::kIpv6 : core::ObservableType::kIpv4;
  auto normalized = core::NormalizeObservable(type, text);
  return normalized ? normalized->value : std::string();
}

core::AbuseReport ReadArf(std::string_view feedback_report) {
  core::AbuseReport report;
  report.format = "arf";
  std::optional<common::Timestamp> received_date;
  for (const auto& [name, value] : ParseFieldBlock(feedback_report)) {
    const std::string key = AsciiLower(name);
    if (key == "feedback-type") {
      report.report_type = AsciiLower(OneLine(value));
    } else if (key == "source-ip") {
      report.source_ip = NormalizeReportedIp(value);
    } else if (key == "source-port") {
      report.source_port = ParsePortNumber(value);
    } else if (key == "reported-uri") {
      AddToList(report.reported_uri, OneLine(value));
    } else if (key == "reported-domain") {
      AddToList(report.reported_domain, AsciiLower(OneLine(value)));
    } else if (key == "user-agent") {
      report.user_agent = OneLine(value);
    } else if (key == "arrival-date") {
      report.arrival_date = ParseMailDate(value);
    } else if (key == "received-date") {  // the name in drafts before RFC 5965
      received_date = ParseMailDate(value);
    }
  }
  if (!report.arrival_date) report.arrival_date = received_date;
  report.category = ArfCategory(report.report_type);
  return report;
}

std::optional<core::AbuseReport> ReadXarf02(std::string_view yaml) {
  core::AbuseReport report;
  report.format = "xarf-0.2";
  std::string category;
  std::string source_type;
  std::string source;
  bool is_report = false;
  for (const auto& [name, value] : ParseFlatYaml(yaml)) {
    const std::string key = AsciiLower(name);
    if (key == "report-type") {
      report.report_type = AsciiLower(OneLine(value));
      is_report = true;
    } else if (key == "category") {
      category = AsciiLower(OneLine(value));
    } else if (key == "source-type") {
      source_type = AsciiLower(OneLine(value));
    } else if (key == "source") {
      source = OneLine(value);
    } else if (key == "port" || key == "source-port") {
      report.source_port = ParsePortNumber(value);
    } else if (key == "user-agent") {
      report.user_agent = OneLine(value);
    } else if (key == "date") {
      report.arrival_date = ParseMailDate(value);
      if (!report.arrival_date) report.arrival_date = common::ParseRfc3339(Trim(value));
    } else if (key == "domain") {
      AddToList(report.reported_domain, AsciiLower(OneLine(value)));
    } else if (key == "url" || key == "uri") {
      AddToList(report.reported_uri, OneLine(value));
    }
  }
  if (!is_report) return std::nullopt;
  if (!source.empty()) {
    if (source_type == "uri" || source_type == "url" || source.find("://") != std::string::npos) {
      AddToList(report.reported_uri, source);
    } else if (source_type == "domain") {
      AddToList(report.reported_domain, AsciiLower(source));
    } else {
      report.source_ip = NormalizeReportedIp(source);
      if (report.source_ip.empty() && source_type != "ipv4" && source_type != "ipv6" && source_type != "ip-address") {
        AddToList(report.reported_domain, AsciiLower(source));
      }
    }
  }
  report.category = Xarf02Category(category, report.report_type);
  return report;
}

namespace {

class FirstEventSink final : public feed::EventSink {
 public:
  Result<void> OnEvent(feed::FeedEvent event) override {
    if (!event_) event_ = std::move(event);
    return {};
  }
  Result<void> OnReject(feed::FeedReject reject) override {
    if (reason_.empty()) reason_ = std::move(reject.reason);
    return {};
  }
  std::optional<feed::FeedEvent>& event() { return event_; }
  const std::string& reason() const { return reason_; }

 private:
  std::optional<feed::FeedEvent> event_;
  std::string reason_;
};

void AddObservable(core::AbuseReport& report, const core::Observable& observable) {
  switch (observable.type) {
    case core::ObservableType::kIpv4:
    case core::ObservableType::kIpv6:
      if (report.source_ip.empty()) report.source_ip = observable.value;
      break;
    case core::ObservableType::kDomain:
      AddToList(report.reported_domain, observable.value);
      break;
    case core::ObservableType::kUrl:
      AddToList(report.reported_uri, observable.value);
      break;
    default:
      break;
  }
}

}  // namespace

std::optional<core::AbuseReport> ReadXarf4(std::string_view json, std::string* why) {
  // One line: JSON strings hold no raw line breaks, so joining the lines keeps the document intact
  // and lets the feed parser read a pretty-printed report that does not start with a lone "{".
  std::string line(json);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  auto parser = feed::MakeParser(feed::FeedFormat::kXarf, feed::ParserOptions{});
  if (!parser) {
    if (why != nullptr) *why = parser.error().message();
    return std::nullopt;
  }
  feed::StringSource source(line);
  FirstEventSink sink;
  if (auto parsed = (*parser)->Parse(source, sink); !parsed) {
    if (why != nullptr) *why = parsed.error().message();
    return std::nullopt;
  }
  if (!sink.event()) {
    if (why != nullptr) *why = sink.reason().empty() ? "no report in the document" : sink.reason();
    return std::nullopt;
  }
  const feed::FeedEvent& event = *sink.event();
  core::AbuseReport report;
  report.format = "xarf-4";
  report.report_type = event.report_type;
  report.category = event.category;
  if (event.subject) {
    if (event.subject->type == core::ObservableType::kIpv4 || event.subject->type == core::ObservableType::kIpv6) {
      report.source_ip = event.subject->value;
    } else {
      AddObservable(report, *event.subject);
    }
  }
  if (event.subject_port) report.source_port = *event.subject_port;
  for (const core::Observable& observable : event.observables) {
    if (observable.type == core::ObservableType::kUrl || observable.type == core::ObservableType::kDomain) {
      AddObservable(report, observable);
    }
  }
  report.arrival_date = event.time;
  report.original_message = std::string(json);
  return report;
}

}  // namespace hikeshi::intake::mail::detail
