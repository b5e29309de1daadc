// suricata-eve: Suricata's EVE JSON lines. Only "alert" events become FeedEvents; flow, dns, http,
// stats and the other event types are counted as skipped.
#include <array>
#include <cstdlib>
#include <initializer_list>

#include "detail/json_fields.hpp"
#include "detail/observables.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

struct Rule {
  std::string_view pattern;  // a signature prefix, or an alert category (classtype description)
  std::string_view rsit_class;
  std::string_view rsit_type;
};

// Signature prefixes of the Emerging Threats and Snort GPL rule sets: more specific than the
// category, so they are tried first.
constexpr Rule kSignaturePrefixes[] = {
    {"ET SCAN", "information-gathering", "scanner"},
    {"ETPRO SCAN", "information-gathering", "scanner"},
    {"GPL SCAN", "information-gathering", "scanner"},
    {"ET TROJAN", "malicious-code", "infected-system"},
    {"ETPRO TROJAN", "malicious-code", "infected-system"},
    {"ET MALWARE", "malicious-code", "infected-system"},
    {"ETPRO MALWARE", "malicious-code", "infected-system"},
    {"ET MOBILE_MALWARE", "malicious-code", "infected-system"},
    {"ET CNC", "malicious-code", "infected-system"},
    {"ET BOTCC", "malicious-code", "infected-system"},
    {"ET COINMINER", "fraud", "unauthorised-use-of-resources"},
    {"ET PHISHING", "fraud", "phishing"},
    {"ETPRO PHISHING", "fraud", "phishing"},
    {"ET EXPLOIT", "intrusion-attempts", "exploit"},
    {"ETPRO EXPLOIT", "intrusion-attempts", "exploit"},
    {"GPL EXPLOIT", "intrusion-attempts", "exploit"},
    {"ET WEB_SERVER", "intrusion-attempts", "exploit"},
    {"ET WEB_SPECIFIC_APPS", "intrusion-attempts", "exploit"},
    {"ET DOS", "availability", "dos"},
    {"GPL DOS", "availability", "dos"},
};

// Suricata's classification.config descriptions, as EVE writes them in alert.category.
constexpr Rule kCategories[] = {
    {"Attempted Information Leak", "information-gathering", "scanner"},
    {"Detection of a Network Scan", "information-gathering", "scanner"},
    {"Information Leak", "information-content-security", "unauthorised-information-access"},
    {"Large Scale Information Leak", "information-content-security", "unauthorised-information-access"},
    {"A Network Trojan was detected", "malicious-code", "infected-system"},
    {"Malware Command and Control Activity Detected", "malicious-code", "infected-system"},
    {"Domain Observed Used for C2 Detected", "malicious-code", "infected-system"},
    {"Attempted Administrator Privilege Gain", "intrusion-attempts", "exploit"},
    {"Attempted User Privilege Gain", "intrusion-attempts", "exploit"},
    {"Web Application Attack", "intrusion-attempts", "exploit"},
    {"Exploit Kit Activity Detected", "intrusion-attempts", "exploit"},
    {"Executable code was detected", "intrusion-attempts", "exploit"},
    {"Successful Administrator Privilege Gain", "intrusions", "privileged-account-compromise"},
    {"Successful User Privilege Gain", "intrusions", "unprivileged-account-compromise"},
    {"Attempted Denial of Service", "availability", "dos"},
    {"Denial of Service", "availability", "dos"},
    {"Detection of a Denial of Service Attack", "availability", "dos"},
    {"An attempted login using a suspicious username was detected", "intrusion-attempts", "brute-force"},
    {"Attempt to login by a default username and password", "intrusion-attempts", "brute-force"},
    {"Successful Credential Theft Detected", "fraud", "phishing"},
    {"Possible Social Engineering Attempted", "information-gathering", "social-engineering"},
    {"Crypto Currency Mining Activity Detected", "fraud", "unauthorised-use-of-resources"},
};

// Sets `out` in place (keeping its strings' room): this runs for every alert.
void AlertCategory(std::string_view signature, std::string_view category, core::Category& out) {
  const auto set = [&out](std::string_view rsit_class, std::string_view rsit_type) {
    out.rsit_class.assign(rsit_class);
    out.rsit_type.assign(rsit_type);
  };
  for (const Rule& rule : kSignaturePrefixes) {
    if (StartsWithIgnoreCase(signature, rule.pattern) &&
        (signature.size() == rule.pattern.size() || signature[rule.pattern.size()] == ' ')) {
      return set(rule.rsit_class, rule.rsit_type);
    }
  }
  for (const Rule& rule : kCategories) {
    if (EqualsIgnoreCase(Trim(category), rule.pattern)) return set(rule.rsit_class, rule.rsit_type);
  }
  set("intrusion-attempts", "ids-alert");
}

class SuricataParser final : public ParserBase {
 public:
  explicit SuricataParser(std::size_t max_record_bytes)
      : extractor_(Fields()), record_(Fields().size()), max_record_bytes_(max_record_bytes) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    return ForEachLine(source, sink, max_record_bytes_, [&](const LineReader::Line& line) -> Result<void> {
      if (auto error = extractor_.Extract(line.text, record_)) {
        return Reject(sink, line.number, LinePrefix(line.number) + *error, line.text);
      }
      const FieldValue type = record_.Get(kEventType);
      if (!type.present) {
        return Reject(sink, line.number, LinePrefix(line.number) + "field 'event_type' is missing: not an EVE record",
                      line.text);
      }
      if (type.text != "alert") {
        Skip();
        return {};
      }
      if (auto error = BuildEvent(event_)) {
        return Reject(sink, line.number, LinePrefix(line.number) + *error, line.text);
      }
      event_.record = line.number;
      event_.raw.assign(line.text);
      return EmitReused(sink, event_);
    });
  }

 private:
  // The fields read from each line; kPointers[slot] names each.
  enum Slot : std::size_t {
    kTimestamp,
    kFlowId,
    kEventType,
    kSrcIp,
    kSrcPort,
    kDestIp,
    kDestPort,
    kProto,
    kSignature,
    kSignatureId,
    kGid,
    kRev,
    kCategory,
    kSeverity,
    kAction,
    kHttpHostname,
    kHttpUrl,
    kTlsSni,
    kDnsRrname,
    kDnsQueryRrname,
    kDnsQueriesRrname,
    kFileMd5,
    kFileSha1,
    kFileSha256,
    kSlotCount
  };
  static constexpr std::array<std::string_view, kSlotCount> kPointers = {
      "/timestamp",
      "/flow_id",
      "/event_type",
      "/src_ip",
      "/src_port",
      "/dest_ip",
      "/dest_port",
      "/proto",
      "/alert/signature",
      "/alert/signature_id",
      "/alert/gid",
      "/alert/rev",
      "/alert/category",
      "/alert/severity",
      "/alert/action",
      "/http/hostname",
      "/http/url",
      "/tls/sni",
      "/dns/rrname",
      "/dns/query/0/rrname",
      "/dns/queries/0/rrname",
      "/fileinfo/md5",
      "/fileinfo/sha1",
      "/fileinfo/sha256",
  };

  // The same for every parser; built once. Pointers are added in slot order, so the set's slot
  // numbers are the enum's.
  static const JsonFieldSet& Fields() {
    static const JsonFieldSet fields = JsonFieldSet::FromConstants(kPointers);
    return fields;
  }

  std::string_view Text(std::size_t slot) const {
    const FieldValue value = record_.Get(slot);
    return value.present && value.kind != JsonKind::kArray ? value.text : std::string_view();
  }

  // Fills `event` from the current record, every field of it: the parser keeps one event and
  // refills it for each alert (see EventSink::OnReusedEvent). The reject reason if the record
  // is not a valid alert.
  std::optional<std::string> BuildEvent(FeedEvent& event) const {
    using Reason = std::string;
    event.event_id.clear();
    event.subject_port.reset();
    event.observables.clear();
    const std::string_view timestamp = Text(kTimestamp);
    if (timestamp.empty()) return Reason("field 'timestamp' is missing");
    event.time = ParseFeedTime(timestamp);
    if (!event.time) return Reason("field 'timestamp': " + Quote(timestamp) + " is not a time");

    const std::string_view signature = Text(kSignature);
    if (signature.empty()) return Reason("field 'alert.signature' is missing");
    AlertCategory(signature, Text(kCategory), event.category);
    CleanTextInto(signature, event.report_type, 256);

    const std::string_view src_ip = Text(kSrcIp);
    if (src_ip.empty()) return Reason("field 'src_ip' is missing");
    auto subject = NormalizeIp(src_ip);
    if (!subject) return Reason("field 'src_ip': " + subject.error().message());
    if (event.subject) {
      event.subject->type = subject->type;
      event.subject->value.assign(subject->value);
    } else {
      event.subject = *std::move(subject);
    }
    if (const std::string_view port = Text(kSrcPort); !port.empty()) {
      event.subject_port = ParsePort(port);
      if (!event.subject_port) return Reason("field 'src_port': " + Quote(port) + " is not a port number");
    }

    const std::string_view dest_ip = Text(kDestIp);
    if (!dest_ip.empty()) {
      auto destination = NormalizeIp(dest_ip);
      if (!destination) return Reason("field 'dest_ip': " + destination.error().message());
      AddObservable(event.observables, event.subject, *std::move(destination));
    }
    // Names from the traffic itself are attacker-controlled: kept only when valid.
    const std::string_view http_host = Text(kHttpHostname);
    const std::optional<core::Observable> host = LenientHost(http_host);
    AddObservable(event.observables, event.subject, host);
    if (const std::string_view url = Text(kHttpUrl); !url.empty() && host) {
      const std::string host_text = host->type == core::ObservableType::kIpv6 ? "[" + host->value + "]" : host->value;
      AddObservable(event.observables, event.subject,
                    url.starts_with('/') ? LenientUrl("http://" + host_text + std::string(url)) : LenientUrl(url));
    }
    for (const std::size_t slot : {kTlsSni, kDnsRrname, kDnsQueryRrname, kDnsQueriesRrname}) {
      AddObservable(event.observables, event.subject, LenientHost(Text(slot)));
    }
    for (const std::size_t slot : {kFileMd5, kFileSha1, kFileSha256}) {
      if (const std::string_view hash = Text(slot); !hash.empty()) {
        if (auto observable = NormalizeHash(hash))
          AddObservable(event.observables, event.subject, *std::move(observable));
      }
    }

    const std::string_view flow_id = Text(kFlowId);
    const std::string_view gid = Text(kGid).empty() ? std::string_view("1") : Text(kGid);
    const std::string_view sid = Text(kSignatureId);
    // Built by appending into one string: this runs for every alert.
    std::string text;
    text.reserve(256);
    const auto append = [&text](std::initializer_list<std::string_view> pieces) {
      for (std::string_view piece : pieces) text.append(piece);
    };
    if (!flow_id.empty()) {
      append({flow_id, ":", timestamp, ":", gid, ":", sid});
      CleanTextInto(text, event.event_id, 256);
      text.clear();
    }
    append({"[", gid, ":", sid, ":", Text(kRev), "] ", signature});
    if (const std::string_view category = Text(kCategory); !category.empty()) append({" (", category, ")"});
    if (const std::string_view severity = Text(kSeverity); !severity.empty()) append({", severity ", severity});
    append({", ", Text(kProto), " ", src_ip, ":", Text(kSrcPort), " -> ", dest_ip, ":", Text(kDestPort)});
    if (const std::string_view action = Text(kAction); !action.empty()) append({", ", action});
    const std::string& description = text;
    CleanTextInto(description, event.description);
    // The addresses and ports in the description are the fields parsed above; the signature and
    // its category are the only free text in an alert.
    const std::string_view category = Text(kCategory);
    text.clear();
    append({signature});
    if (!category.empty()) append({" (", category, ")"});
    if (!event.free_text) event.free_text.emplace();
    CleanTextInto(text, *event.free_text);
    return std::nullopt;
  }

  OndemandExtractor extractor_;
  JsonRecord record_;
  FeedEvent event_;  // refilled for every alert
  std::size_t max_record_bytes_;
};

}  // namespace

std::unique_ptr<FeedParser> MakeSuricataParser(const ParserOptions& options) {
  return std::make_unique<SuricataParser>(options.max_record_bytes);
}

}  // namespace hikeshi::intake::feed::detail
