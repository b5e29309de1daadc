// xarf: X-ARF v4 JSON reports, one per line (JSON lines) or one document holding a report or an
// array of reports. A pretty-printed document is told from JSON lines by its first non-blank line
// being a lone "{" or starting with "[".
#include <array>
#include <cstdlib>

#include "detail/json_document.hpp"
#include "detail/json_fields.hpp"
#include "detail/observables.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

struct TypeClass {
  std::string_view category;  // X-ARF category
  std::string_view type;      // X-ARF type; "*" for any other type of the category
  std::string_view rsit_class;
  std::string_view rsit_type;
};

// X-ARF v4 category/type -> RSIT. docs/feeds.md lists the reasons for the less obvious rows.
constexpr TypeClass kTypes[] = {
    {"messaging", "spam", "abusive-content", "spam"},
    {"messaging", "bulk_messaging", "abusive-content", "spam"},
    {"messaging", "*", "abusive-content", "spam"},
    {"connection", "login_attack", "intrusion-attempts", "brute-force"},
    {"connection", "port_scan", "information-gathering", "scanner"},
    {"connection", "reconnaissance", "information-gathering", "scanner"},
    {"connection", "vulnerability_scan", "information-gathering", "scanner"},
    {"connection", "vuln_scanning", "information-gathering", "scanner"},
    {"connection", "scraping", "information-gathering", "scanner"},
    {"connection", "ddos", "availability", "ddos"},
    {"connection", "infected_host", "malicious-code", "infected-system"},
    {"connection", "sql_injection", "intrusion-attempts", "exploit"},
    {"connection", "*", "intrusion-attempts", "ids-alert"},
    {"content", "phishing", "fraud", "phishing"},
    {"content", "malware", "malicious-code", "malware-distribution"},
    {"content", "csam", "abusive-content", "violence"},
    {"content", "csem", "abusive-content", "violence"},
    {"content", "exposed_data", "information-content-security", "data-leak"},
    {"content", "fraud", "fraud", "masquerade"},
    {"content", "brand_infringement", "fraud", "masquerade"},
    {"content", "suspicious_registration", "fraud", "masquerade"},
    {"content", "remote_compromise", "intrusions", "application-compromise"},
    {"content", "*", "other", "undetermined"},
    {"copyright", "*", "fraud", "copyright"},
    {"infrastructure", "botnet", "malicious-code", "infected-system"},
    {"infrastructure", "compromised_server", "intrusions", "system-compromise"},
    {"infrastructure", "*", "other", "undetermined"},
    {"vulnerability", "cve", "vulnerable", "vulnerable-system"},
    {"vulnerability", "misconfiguration", "vulnerable", "vulnerable-system"},
    {"vulnerability", "open_service", "vulnerable", "potentially-unwanted-accessible"},
    {"vulnerability", "open", "vulnerable", "potentially-unwanted-accessible"},
    {"vulnerability", "*", "vulnerable", "vulnerable-system"},
    {"reputation", "*", "other", "other"},  // refined by threat_type below
};

// reputation reports say what the listed address does in threat_type.
constexpr std::pair<std::string_view, TypeClass> kThreatTypes[] = {
    {"command_and_control", {"", "", "malicious-code", "c2-server"}},
    {"c2", {"", "", "malicious-code", "c2-server"}},
    {"botnet", {"", "", "malicious-code", "infected-system"}},
    {"malware", {"", "", "malicious-code", "malware-distribution"}},
    {"malware_distribution", {"", "", "malicious-code", "malware-distribution"}},
    {"phishing", {"", "", "fraud", "phishing"}},
    {"spam", {"", "", "abusive-content", "spam"}},
    {"scanning", {"", "", "information-gathering", "scanner"}},
    {"scanner", {"", "", "information-gathering", "scanner"}},
    {"brute_force", {"", "", "intrusion-attempts", "brute-force"}},
};

std::optional<core::Category> XarfCategory(std::string_view category, std::string_view type,
                                           std::string_view threat_type) {
  const std::string cat = AsciiLower(category);
  const std::string typ = AsciiLower(type);
  if (cat == "reputation") {
    const std::string threat = AsciiLower(Trim(threat_type));
    for (const auto& [name, entry] : kThreatTypes) {
      if (threat == name) return core::Category{std::string(entry.rsit_class), std::string(entry.rsit_type)};
    }
  }
  for (const TypeClass& entry : kTypes) {
    if (entry.category == cat && (entry.type == typ || entry.type == "*")) {
      return core::Category{std::string(entry.rsit_class), std::string(entry.rsit_type)};
    }
  }
  return std::nullopt;
}

class XarfParser final : public ParserBase {
 public:
  explicit XarfParser(const ParserOptions& options)
      : extractor_(Fields()), record_(Fields().size()), options_(options) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    LineReader lines(source, options_.max_record_bytes);
    bool first = true;
    for (;;) {
      HIKESHI_TRY(const std::optional<LineReader::Line> line, lines.Next());
      if (!line) return {};
      if (line->too_long) {
        HIKESHI_CHECK(Reject(sink, line->number, TooLongReason(*line, options_.max_record_bytes), line->text));
        first = false;
        continue;
      }
      const std::string_view trimmed = Trim(line->text);
      if (trimmed.empty()) {
        Skip();
        continue;
      }
      if (first && (trimmed == "{" || trimmed.starts_with('['))) {
        std::string document(line->text);
        document += line->terminator;
        HIKESHI_CHECK(lines.ReadRest(document, options_.max_document_bytes));
        return ParseDocument(document, sink);
      }
      first = false;
      if (auto error = extractor_.Extract(line->text, record_)) {
        HIKESHI_CHECK(Reject(sink, line->number, LinePrefix(line->number) + *error, line->text));
        continue;
      }
      HIKESHI_CHECK(Deliver(sink, line->number, LinePrefix(line->number), line->text));
    }
  }

 private:
  Result<void> ParseDocument(std::string_view text, EventSink& sink) {
    HIKESHI_TRY(const nlohmann::json document, ParseJsonDocument(text));
    if (document.is_object()) {
      ExtractFromDocument(document, Fields(), record_);
      return Deliver(sink, 1, "report 1: ", text);
    }
    if (!document.is_array())
      return Fail(Error::InvalidArgument("the document is neither a report nor an array of reports"));
    for (std::size_t i = 0; i < document.size(); ++i) {
      const auto record = static_cast<std::int64_t>(i + 1);
      const std::string prefix = "report " + std::to_string(record) + ": ";
      const std::string raw = DumpJson(document[i]);
      if (!document[i].is_object()) {
        HIKESHI_CHECK(Reject(sink, record, prefix + "not a JSON object", raw));
        continue;
      }
      ExtractFromDocument(document[i], Fields(), record_);
      HIKESHI_CHECK(Deliver(sink, record, prefix, raw));
    }
    return {};
  }

  Result<void> Deliver(EventSink& sink, std::int64_t record, const std::string& prefix, std::string_view raw) {
    auto event = BuildEvent();
    if (!event) return Reject(sink, record, prefix + event.error(), raw);
    event->record = record;
    event->raw.assign(raw);
    return Emit(sink, *std::move(event));
  }

  enum Slot : std::size_t {
    kVersion,
    kReportId,
    kTimestamp,
    kSourceIdentifier,
    kSourcePort,
    kPort,
    kServicePort,
    kCategory,
    kType,
    kDescription,
    kReporterOrg,
    kThreatType,
    kMalwareFamily,
    kDestinationIp,
    kUrl,
    kTargetUrl,
    kInfringingUrl,
    kDomain,
    kC2Server,
    kSmtpFrom,
    kFileHash,
    kMd5,
    kSha1,
    kSha256,
    kCveId,
    kVulnerabilityCve,
    kVulnerabilitiesProbed,
    kAsn,
    kSlotCount
  };
  static constexpr std::array<std::string_view, kSlotCount> kPointers = {
      "/xarf_version",
      "/report_id",
      "/timestamp",
      "/source_identifier",
      "/source_port",
      "/port",
      "/service_port",
      "/category",
      "/type",
      "/description",
      "/reporter/org",
      "/threat_type",
      "/malware_family",
      "/destination_ip",
      "/url",
      "/target_url",
      "/infringing_url",
      "/domain",
      "/c2_server",
      "/smtp_from",
      "/file_hash",
      "/hash_values/md5",
      "/hash_values/sha1",
      "/hash_values/sha256",
      "/cve_id",
      "/vulnerability_cve",
      "/vulnerabilities_probed",
      "/asn",
  };

  static const JsonFieldSet& Fields() {
    static const JsonFieldSet fields = JsonFieldSet::FromConstants(kPointers);
    return fields;
  }

  std::string_view Text(std::size_t slot) const {
    const FieldValue value = record_.Get(slot);
    return value.present && value.kind != JsonKind::kArray ? Trim(value.text) : std::string_view();
  }

  std::expected<FeedEvent, std::string> BuildEvent() const {
    using Reason = std::unexpected<std::string>;
    const auto required = [&](std::size_t slot, std::string_view name) -> std::expected<std::string_view, std::string> {
      const std::string_view text = Text(slot);
      if (text.empty()) return Reason("field '" + std::string(name) + "' is missing (X-ARF v4 requires it)");
      return text;
    };
    FeedEvent event;
    const auto version = required(kVersion, "xarf_version");
    if (!version) return Reason(version.error());
    if (!version->starts_with("4.")) {
      return Reason("field 'xarf_version' is " + Quote(*version) + "; only X-ARF v4 is read");
    }
    const auto report_id = required(kReportId, "report_id");
    if (!report_id) return Reason(report_id.error());
    event.event_id = CleanText(*report_id, 256);

    const auto timestamp = required(kTimestamp, "timestamp");
    if (!timestamp) return Reason(timestamp.error());
    event.time = ParseFeedTime(*timestamp);
    if (!event.time) return Reason("field 'timestamp': " + Quote(*timestamp) + " is not a time");

    const auto category = required(kCategory, "category");
    if (!category) return Reason(category.error());
    const auto type = required(kType, "type");
    if (!type) return Reason(type.error());
    auto rsit = XarfCategory(*category, *type, Text(kThreatType));
    if (!rsit) {
      return Reason("field 'category': " + Quote(*category) +
                    " is not an X-ARF v4 category (messaging, connection, content, copyright, infrastructure, "
                    "vulnerability, reputation)");
    }
    event.category = *std::move(rsit);
    event.report_type = CleanText(AsciiLower(*category) + "/" + AsciiLower(*type), 256);

    const auto source = required(kSourceIdentifier, "source_identifier");
    if (!source) return Reason(source.error());
    auto subject = NormalizeHost(*source);
    if (!subject) {
      if (auto url = LenientUrl(*source)) {
        subject = *std::move(url);
      } else {
        return Reason("field 'source_identifier': " + Quote(*source) +
                      " is neither an IP address, a domain name nor a URL: " + subject.error().message());
      }
    }
    event.subject = *std::move(subject);
    for (const auto& [slot, name] :
         {std::pair{kSourcePort, "source_port"}, std::pair{kPort, "port"}, std::pair{kServicePort, "service_port"}}) {
      const std::string_view text = Text(slot);
      if (text.empty() || event.subject_port) continue;
      event.subject_port = ParsePort(text);
      if (!event.subject_port)
        return Reason("field '" + std::string(name) + "': " + Quote(text) + " is not a port number");
    }

    if (const std::string_view destination = Text(kDestinationIp); !destination.empty()) {
      auto address = NormalizeIp(destination);
      if (!address) return Reason("field 'destination_ip': " + address.error().message());
      AddObservable(event.observables, event.subject, *std::move(address));
    }
    // The rest are kept when valid: reporters fill them loosely.
    for (const std::size_t slot : {kUrl, kTargetUrl, kInfringingUrl}) {
      AddObservable(event.observables, event.subject, LenientUrl(Text(slot)));
    }
    for (const std::size_t slot : {kDomain, kC2Server}) {
      AddObservable(event.observables, event.subject, LenientHost(Text(slot)));
    }
    const auto add_typed = [&](core::ObservableType observable_type, std::string_view text) {
      if (text.empty()) return;
      if (auto observable = core::NormalizeObservable(observable_type, Trim(text))) {
        AddObservable(event.observables, event.subject, *std::move(observable));
      }
    };
    add_typed(core::ObservableType::kEmail, Text(kSmtpFrom));
    for (const std::size_t slot : {kFileHash, kMd5, kSha1, kSha256}) {
      if (const std::string_view hash = Text(slot); !hash.empty()) {
        if (auto observable = NormalizeHash(hash))
          AddObservable(event.observables, event.subject, *std::move(observable));
      }
    }
    add_typed(core::ObservableType::kCve, Text(kCveId));
    add_typed(core::ObservableType::kCve, Text(kVulnerabilityCve));
    for (const std::string& cve : record_.Get(kVulnerabilitiesProbed).list) add_typed(core::ObservableType::kCve, cve);
    if (const std::string_view asn = Text(kAsn); !asn.empty()) add_typed(core::ObservableType::kAsn, asn);

    std::string description(Text(kDescription));
    if (description.empty()) {
      description = "X-ARF " + event.report_type + " report";
      if (const std::string_view org = Text(kReporterOrg); !org.empty()) description += " from " + std::string(org);
    }
    if (const std::string_view family = Text(kMalwareFamily); !family.empty()) {
      description += " (malware family " + std::string(family) + ")";
    }
    event.description = CleanText(description);
    return event;
  }

  OndemandExtractor extractor_;
  JsonRecord record_;
  ParserOptions options_;
};

}  // namespace

std::unique_ptr<FeedParser> MakeXarfParser(const ParserOptions& options) {
  return std::make_unique<XarfParser>(options);
}

}  // namespace hikeshi::intake::feed::detail
