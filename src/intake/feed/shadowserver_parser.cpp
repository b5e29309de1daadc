// shadowserver: Shadowserver report CSVs. The report type (from the file name, or a "type"
// column) picks the RSIT category from the table below; docs/feeds.md lists it.
#include <vector>

#include "detail/csv_reader.hpp"
#include "detail/observables.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

struct ReportClass {
  std::string_view report;  // report type, or a prefix of it when it ends with '*'
  std::string_view rsit_class;
  std::string_view rsit_type;
};

// First match wins, so exact names come before the prefixes that would also match them. "scan_*"
// reports list hosts Shadowserver found exposed by scanning them: the hosts are the vulnerability,
// not scanners. Scanners and attackers are in the honeypot and darknet reports.
constexpr ReportClass kReports[] = {
    // Infected hosts seen at sinkholes.
    {"botnet_drone", "malicious-code", "infected-system"},
    {"sinkhole_http_drone", "malicious-code", "infected-system"},
    {"microsoft_sinkhole", "malicious-code", "infected-system"},
    {"event4_sinkhole*", "malicious-code", "infected-system"},
    {"event4_microsoft_sinkhole*", "malicious-code", "infected-system"},
    {"event4_drone", "malicious-code", "infected-system"},
    {"drone_brute_force", "intrusion-attempts", "brute-force"},
    {"event4_drone_brute_force", "intrusion-attempts", "brute-force"},
    // Attacks seen by honeypots and darknets.
    {"event4_honeypot_brute_force", "intrusion-attempts", "brute-force"},
    {"honeypot_brute_force", "intrusion-attempts", "brute-force"},
    {"event4_honeypot_darknet", "information-gathering", "scanner"},
    {"darknet", "information-gathering", "scanner"},
    {"scan", "information-gathering", "scanner"},
    {"event4_honeypot_http_scan", "information-gathering", "scanner"},
    {"honeypot_http_scan", "information-gathering", "scanner"},
    {"event4_honeypot_ics_scan", "information-gathering", "scanner"},
    {"event4_honeypot_exploit", "intrusion-attempts", "exploit"},
    {"event4_honeypot_ddos_amp", "availability", "ddos"},
    {"event4_ddos_participant", "availability", "ddos"},
    {"ddos_amplification", "availability", "ddos"},
    {"event4_honeypot_*", "intrusion-attempts", "ids-alert"},
    // Compromised and malicious sites.
    {"compromised_website", "intrusions", "application-compromise"},
    {"event4_compromised_website", "intrusions", "application-compromise"},
    {"event4_phish_url", "fraud", "phishing"},
    {"phish_url", "fraud", "phishing"},
    {"malware_url", "malicious-code", "malware-distribution"},
    {"event4_malware_url", "malicious-code", "malware-distribution"},
    {"spam_url", "abusive-content", "spam"},
    {"blocklist", "other", "other"},
    // Weak cryptography (RSIT names POODLE and FREAK as examples of weak-crypto).
    {"ssl_freak", "vulnerable", "weak-crypto"},
    {"scan_ssl_freak", "vulnerable", "weak-crypto"},
    {"ssl_poodle", "vulnerable", "weak-crypto"},
    {"scan_ssl_poodle", "vulnerable", "weak-crypto"},
    {"scan_ssl", "vulnerable", "weak-crypto"},
    // Services that can be abused for reflected DDoS.
    {"open_resolver", "vulnerable", "ddos-amplifier"},
    {"dns_open_resolvers", "vulnerable", "ddos-amplifier"},
    {"scan_dns", "vulnerable", "ddos-amplifier"},
    {"scan_ntp", "vulnerable", "ddos-amplifier"},
    {"scan_ntpmonitor", "vulnerable", "ddos-amplifier"},
    {"scan_chargen", "vulnerable", "ddos-amplifier"},
    {"scan_qotd", "vulnerable", "ddos-amplifier"},
    {"scan_ssdp", "vulnerable", "ddos-amplifier"},
    {"scan_snmp", "vulnerable", "ddos-amplifier"},
    {"scan_portmapper", "vulnerable", "ddos-amplifier"},
    {"scan_mdns", "vulnerable", "ddos-amplifier"},
    {"scan_memcached", "vulnerable", "ddos-amplifier"},
    {"scan_ldap_udp", "vulnerable", "ddos-amplifier"},
    {"scan_netbios", "vulnerable", "ddos-amplifier"},
    {"scan_tftp", "vulnerable", "ddos-amplifier"},
    {"scan_xdmcp", "vulnerable", "ddos-amplifier"},
    {"scan_ubiquiti", "vulnerable", "ddos-amplifier"},
    {"scan_ard", "vulnerable", "ddos-amplifier"},
    {"scan_coap", "vulnerable", "ddos-amplifier"},
    {"scan_ws_discovery", "vulnerable", "ddos-amplifier"},
    {"scan_dvr_dhcpdiscover", "vulnerable", "ddos-amplifier"},
    {"scan_rdpeudp", "vulnerable", "ddos-amplifier"},
    // Known-vulnerable software.
    {"scan_http_vulnerable", "vulnerable", "vulnerable-system"},
    {"scan_exchange", "vulnerable", "vulnerable-system"},
    {"scan_cisco_smart_install", "vulnerable", "vulnerable-system"},
    {"scan_ssl_heartbleed", "vulnerable", "vulnerable-system"},
    {"scan_*vulnerable*", "vulnerable", "vulnerable-system"},
    // Any other scan: a service reachable from the Internet that should not be (RDP, SMB, Redis...).
    {"scan_*", "vulnerable", "potentially-unwanted-accessible"},
    {"*sinkhole*", "malicious-code", "infected-system"},
};

// Pattern match where '*' matches any run of characters.
bool Matches(std::string_view pattern, std::string_view text) {
  const std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) return pattern == text;
  if (!text.starts_with(pattern.substr(0, star))) return false;
  const std::string_view rest = pattern.substr(star + 1);
  for (std::size_t i = star; i <= text.size(); ++i) {
    if (Matches(rest, text.substr(i))) return true;
  }
  return false;
}

std::optional<core::Category> ReportCategory(std::string_view report) {
  std::string name = AsciiLower(Trim(report));
  // IPv6 variants ("scan6_ssh", "event6_sinkhole") are classified as their IPv4 reports.
  if (name.starts_with("scan6_")) name.replace(0, 6, "scan_");
  if (name.starts_with("event6_")) name.replace(0, 7, "event4_");
  for (const ReportClass& entry : kReports) {
    if (Matches(entry.report, name)) return core::Category{std::string(entry.rsit_class), std::string(entry.rsit_type)};
  }
  return std::nullopt;
}

// Row-level hints when the report type is unknown.
core::Category CategoryFromRow(std::string_view infection, std::string_view tag) {
  if (!Trim(infection).empty()) return {"malicious-code", "infected-system"};
  if (ContainsIgnoreCase(tag, "freak") || ContainsIgnoreCase(tag, "poodle")) return {"vulnerable", "weak-crypto"};
  if (ContainsIgnoreCase(tag, "openresolver") || ContainsIgnoreCase(tag, "open-resolver")) {
    return {"vulnerable", "ddos-amplifier"};
  }
  return {"other", "undetermined"};
}

class ShadowserverParser final : public ParserBase {
 public:
  explicit ShadowserverParser(const ParserOptions& options)
      : report_type_(AsciiLower(Trim(options.report_type))), max_record_bytes_(options.max_record_bytes) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    CsvReader reader(source, max_record_bytes_, ',');
    HIKESHI_TRY(const std::optional<CsvReader::Item> header, reader.Next());
    if (!header) return {};
    if (!header->ok) {
      return Fail(
          Error::InvalidArgument(LinePrefix(header->line) + "the header row cannot be read: " + header->reason));
    }
    Columns columns;
    for (std::size_t i = 0; i < header->fields.size(); ++i) columns.Assign(AsciiLower(Trim(header->fields[i])), i);
    reader.ExpectColumns(header->fields.size());

    std::int64_t blank_lines = 0;
    for (;;) {
      HIKESHI_TRY(const std::optional<CsvReader::Item> item, reader.Next());
      for (; blank_lines < reader.blank_lines(); ++blank_lines) Skip();
      if (!item) return {};
      if (!item->ok) {
        HIKESHI_CHECK(Reject(sink, item->line, LinePrefix(item->line) + item->reason, item->raw));
        continue;
      }
      HIKESHI_CHECK(EmitOrRejectRecord(sink, reader, *item, BuildEvent(columns, item->fields)));
    }
  }

 private:
  // Where each column Shadowserver uses is, when the report has it.
  struct Columns {
    std::optional<std::size_t> timestamp, ip, src_ip, port, src_port, hostname, src_hostname, http_host, domain, url,
        asn, src_asn, dst_ip, dst_port, protocol, tag, infection, family, type, severity, application, cc, cc_ip,
        cc_dns, cve, event_id, reason;
    void Assign(const std::string& name, std::size_t index) {
      const std::pair<std::string_view, std::optional<std::size_t>*> known[] = {
          {"timestamp", &timestamp},
          {"ip", &ip},
          {"src_ip", &src_ip},
          {"port", &port},
          {"src_port", &src_port},
          {"hostname", &hostname},
          {"src_hostname", &src_hostname},
          {"http_host", &http_host},
          {"domain", &domain},
          {"url", &url},
          {"asn", &asn},
          {"src_asn", &src_asn},
          {"dst_ip", &dst_ip},
          {"dst_port", &dst_port},
          {"protocol", &protocol},
          {"tag", &tag},
          {"infection", &infection},
          {"family", &family},
          {"type", &type},
          {"severity", &severity},
          {"application", &application},
          {"cc_ip", &cc_ip},
          {"cc_dns", &cc_dns},
          {"cve", &cve},
          {"cc", &cc},
          {"event_id", &event_id},
          {"reason", &reason},
      };
      for (const auto& [column, slot] : known) {
        if (name == column && !*slot) *slot = index;  // the first of a duplicated name wins
      }
    }
  };

  static std::string_view Cell(std::span<const std::string> fields, const std::optional<std::size_t>& column) {
    return column ? Trim(fields[*column]) : std::string_view();
  }

  std::expected<FeedEvent, std::string> BuildEvent(const Columns& c, std::span<const std::string> fields) const {
    using Reason = std::unexpected<std::string>;
    FeedEvent event;
    const auto cell = [&](const std::optional<std::size_t>& column) { return Cell(fields, column); };

    // A "type" column names the report in some files; in older drone reports it is the transport
    // ("tcp"), so it counts only when it is a report type the table knows.
    std::string_view report = report_type_;
    if (report.empty() && ReportCategory(cell(c.type))) report = cell(c.type);
    event.report_type = CleanText(report, 256);
    if (auto category = ReportCategory(report)) {
      event.category = *std::move(category);
    } else {
      event.category = CategoryFromRow(cell(c.infection), cell(c.tag));
    }

    if (const std::string_view time = cell(c.timestamp); !time.empty()) {
      event.time = ParseFeedTime(time);
      if (!event.time) return Reason("column 'timestamp': " + Quote(time) + " is not a time");
    }

    // The subject: the reported host's address, else its name.
    for (const auto* column : {&c.ip, &c.src_ip}) {
      const std::string_view text = cell(*column);
      if (text.empty() || event.subject) continue;
      auto address = NormalizeIp(text);
      if (!address) {
        return Reason("column '" + std::string(column == &c.ip ? "ip" : "src_ip") + "': " + address.error().message());
      }
      event.subject = *std::move(address);
    }
    for (const auto* column : {&c.hostname, &c.src_hostname, &c.http_host, &c.domain, &c.cc_dns}) {
      const std::optional<core::Observable> host = LenientHost(cell(*column));
      if (!event.subject && host && column != &c.cc_dns) {
        event.subject = host;
      } else {
        AddObservable(event.observables, event.subject, host);
      }
    }
    if (!event.subject) {
      if (auto url = LenientUrl(cell(c.url))) event.subject = std::move(url);
    }
    if (!event.subject)
      return Reason("no valid address: the columns ip, src_ip, hostname and url are all empty or invalid");

    for (const auto* column : {&c.port, &c.src_port}) {
      const std::string_view text = cell(*column);
      if (text.empty() || event.subject_port) continue;
      event.subject_port = ParsePort(text);
      if (!event.subject_port) return Reason("column 'port': " + Quote(text) + " is not a port number (0 to 65535)");
    }

    // dst_ip is not an observable: in sinkhole and honeypot reports it is Shadowserver's own
    // sensor, which every such event shares, and would link unrelated incidents.
    // The C&C server a drone talked to ("cc" in older reports).
    AddObservable(event.observables, event.subject, LenientHost(cell(c.cc)));
    AddObservable(event.observables, event.subject, LenientHost(cell(c.cc_ip)));
    AddObservable(event.observables, event.subject, LenientUrl(cell(c.url)));
    for (const auto* column : {&c.asn, &c.src_asn}) {
      const std::string_view text = cell(*column);
      if (text.empty()) continue;
      auto asn = core::NormalizeObservable(core::ObservableType::kAsn, text);
      if (asn) AddObservable(event.observables, event.subject, *std::move(asn));
    }
    if (const std::string_view text = cell(c.cve); !text.empty()) {
      // Some reports list several CVEs in one cell, separated by ';' or ','.
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find_first_of(";, ", start), text.size());
        auto cve = core::NormalizeObservable(core::ObservableType::kCve, text.substr(start, end - start));
        if (cve) AddObservable(event.observables, event.subject, *std::move(cve));
        start = end + 1;
      }
    }

    event.event_id = CleanText(cell(c.event_id), 256);  // the event4_* reports number their rows

    std::string description = event.report_type.empty() ? std::string("Shadowserver report") : event.report_type;
    const std::pair<std::string_view, const std::optional<std::size_t>*> details[] = {
        {"infection", &c.infection},     {"family", &c.family},     {"tag", &c.tag},
        {"application", &c.application}, {"protocol", &c.protocol}, {"severity", &c.severity},
        {"dst_ip", &c.dst_ip},           {"dst_port", &c.dst_port}, {"reason", &c.reason},
    };
    for (const auto& [name, column] : details) {
      if (const std::string_view text = cell(*column); !text.empty()) {
        description += " " + std::string(name) + "=" + std::string(text);
      }
    }
    event.description = CleanText(description);
    return event;
  }

  std::string report_type_;
  std::size_t max_record_bytes_;
};

}  // namespace

std::unique_ptr<FeedParser> MakeShadowserverParser(const ParserOptions& options) {
  return std::make_unique<ShadowserverParser>(options);
}

}  // namespace hikeshi::intake::feed::detail
