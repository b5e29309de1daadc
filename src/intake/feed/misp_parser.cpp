// misp: MISP event JSON (an export, or the REST API's {"response": [...]}). Each attribute, at the
// event's top level or inside an Object, is one record and one event. Types that name an observable
// give the event its subject or observables; the rest (comment, text, regkey, yara...) land too, as
// events with no observable of their own (the pipeline's extractor still reads their text), so that
// nothing a partner shared is dropped. Only attributes MISP itself marks deleted are skipped.
// tlp: tags on the event and on the attribute label the event (the more restrictive wins).
#include <vector>

#include "detail/json_document.hpp"
#include "detail/observables.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

using core::Observable;
using core::ObservableType;
using Json = nlohmann::json;

enum class Part { kIp, kHost, kUrl, kEmail, kHash, kFilename, kCve, kAsn, kPort };

struct AttributeType {
  std::string_view type;
  Part first;
  std::optional<Part> second;  // composite types "a|b"
  bool subject;                // the first part is the event's subject
};

constexpr AttributeType kTypes[] = {
    {"ip-src", Part::kIp, std::nullopt, true},
    {"ip-dst", Part::kIp, std::nullopt, true},
    {"ip-src|port", Part::kIp, Part::kPort, true},
    {"ip-dst|port", Part::kIp, Part::kPort, true},
    {"domain", Part::kHost, std::nullopt, true},
    {"hostname", Part::kHost, std::nullopt, true},
    {"domain|ip", Part::kHost, Part::kIp, true},
    {"hostname|port", Part::kHost, Part::kPort, true},
    {"url", Part::kUrl, std::nullopt, true},
    {"email", Part::kEmail, std::nullopt, true},
    {"email-src", Part::kEmail, std::nullopt, true},
    {"email-dst", Part::kEmail, std::nullopt, true},
    {"email-reply-to", Part::kEmail, std::nullopt, true},
    {"md5", Part::kHash, std::nullopt, false},
    {"sha1", Part::kHash, std::nullopt, false},
    {"sha256", Part::kHash, std::nullopt, false},
    {"filename", Part::kFilename, std::nullopt, false},
    {"filename|md5", Part::kFilename, Part::kHash, false},
    {"filename|sha1", Part::kFilename, Part::kHash, false},
    {"filename|sha256", Part::kFilename, Part::kHash, false},
    {"vulnerability", Part::kCve, std::nullopt, false},
    {"AS", Part::kAsn, std::nullopt, false},
};

// Addresses, names, URLs and e-mail addresses as shared, defanged forms written back ("hxxp://",
// "evil[.]example"); hashes, file names and ids as they are.
Result<Observable> Normalize(Part part, std::string_view text) {
  switch (part) {
    case Part::kIp:
      return NormalizeIpOrCidr(Refang(text));
    case Part::kHost:
      return NormalizeHost(Refang(text));
    case Part::kUrl:
      return core::NormalizeObservable(ObservableType::kUrl, Refang(text));
    case Part::kEmail:
      return core::NormalizeObservable(ObservableType::kEmail, Refang(text));
    case Part::kHash:
      return NormalizeHash(text);
    case Part::kFilename:
      return core::NormalizeObservable(ObservableType::kFilename, text);
    case Part::kCve:
      return core::NormalizeObservable(ObservableType::kCve, text);
    case Part::kAsn:
      return core::NormalizeObservable(ObservableType::kAsn, text);
    case Part::kPort:
      break;
  }
  return Fail(Error::Internal("a port is not an observable"));
}

// eCSIRT II types (RSIT's predecessor, still common in MISP tags) that RSIT renamed or merged.
constexpr std::pair<std::string_view, std::string_view> kEcsirtTypes[] = {
    {"malicious-code/virus", "malicious-code/infected-system"},
    {"malicious-code/worm", "malicious-code/infected-system"},
    {"malicious-code/trojan", "malicious-code/infected-system"},
    {"malicious-code/spyware", "malicious-code/infected-system"},
    {"malicious-code/dialer", "malicious-code/infected-system"},
    {"malicious-code/rootkit", "malicious-code/infected-system"},
    {"malicious-code/malware", "malicious-code/infected-system"},
    {"malicious-code/botnet-drone", "malicious-code/infected-system"},
    {"malicious-code/ransomware", "malicious-code/infected-system"},
    {"malicious-code/c&c", "malicious-code/c2-server"},
    {"intrusions/bot", "intrusions/system-compromise"},
    {"intrusions/compromised", "intrusions/system-compromise"},
    {"intrusions/backdoor", "intrusions/system-compromise"},
    {"intrusions/defacement", "information-content-security/unauthorised-information-modification"},
    {"vulnerable/vulnerable-service", "vulnerable/vulnerable-system"},
};

// rsit:malicious-code="infected-system" (or ecsirt:...) -> the category; nullopt for other tags.
std::optional<core::Category> FromTag(std::string_view tag) {
  tag = Trim(tag);
  const std::size_t colon = tag.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string ns = AsciiLower(tag.substr(0, colon));
  if (ns != "rsit" && ns != "ecsirt") return std::nullopt;
  const std::string_view machine = tag.substr(colon + 1);
  const std::size_t equals = machine.find('=');
  if (equals == std::string_view::npos) return std::nullopt;  // a class without a type
  std::string_view value = Trim(machine.substr(equals + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  std::string text = AsciiLower(Trim(machine.substr(0, equals))) + "/" + AsciiLower(value);
  if (ns == "ecsirt") {
    for (const auto& [from, to] : kEcsirtTypes) {
      if (text == from) text = std::string(to);
    }
  }
  if (auto parsed = core::ParseCategory(text)) return parsed->category;
  return std::nullopt;
}

std::optional<core::Category> FromTags(const Json& holder) {
  if (!holder.is_object()) return std::nullopt;
  const auto tags = holder.find("Tag");
  if (tags == holder.end() || !tags->is_array()) return std::nullopt;
  for (const Json& tag : *tags) {
    if (auto category = FromTag(StringAt(tag, "name"))) return category;
  }
  return std::nullopt;
}

// The most restrictive TLP among the holder's tags ("tlp:amber", "tlp:red", "tlp:white"...). MISP's
// other tlp: tags (tlp:ex:chr, tlp:unclear) name no TLP 2.0 label and are left out.
std::optional<core::Tlp> TlpFromTags(const Json& holder) {
  if (!holder.is_object()) return std::nullopt;
  const auto tags = holder.find("Tag");
  if (tags == holder.end() || !tags->is_array()) return std::nullopt;
  std::optional<core::Tlp> found;
  for (const Json& tag : *tags) {
    const std::string_view name = Trim(StringAt(tag, "name"));
    if (name.size() < 4 || AsciiLower(name.substr(0, 4)) != "tlp:") continue;
    if (const auto tlp = core::ParseTlp(name); tlp && (!found || *tlp > *found)) found = tlp;
  }
  return found;
}

class MispParser final : public ParserBase {
 public:
  explicit MispParser(const ParserOptions& options) : options_(options) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    HIKESHI_TRY(const std::string text, ReadDocument(source, options_.max_document_bytes));
    HIKESHI_TRY(const Json document, ParseJsonDocument(text));
    // {"Event": {...}}, {"response": [{"Event": {...}}, ...]}, [{"Event": {...}}, ...], or a bare event.
    std::vector<const Json*> events;
    const auto add = [&](const Json& item) {
      if (item.is_object() && item.contains("Event") && item["Event"].is_object()) {
        events.push_back(&item["Event"]);
      } else if (item.is_object() && (item.contains("Attribute") || item.contains("Object"))) {
        events.push_back(&item);
      }
    };
    if (document.is_array()) {
      for (const Json& item : document) add(item);
    } else if (document.is_object() && document.contains("response") && document["response"].is_array()) {
      for (const Json& item : document["response"]) add(item);
    } else {
      add(document);
    }
    if (events.empty()) return Fail(Error::InvalidArgument("the document holds no MISP Event"));
    for (const Json* event : events) HIKESHI_CHECK(ParseEvent(*event, sink));
    return {};
  }

 private:
  Result<void> ParseEvent(const Json& event, EventSink& sink) {
    const std::optional<core::Category> event_category = FromTags(event);
    const std::optional<core::Tlp> event_tlp = TlpFromTags(event);
    std::optional<common::Timestamp> event_date;
    if (const std::string_view date = StringAt(event, "date"); !date.empty()) event_date = ParseFeedTime(date);
    const std::string info = CleanText(StringAt(event, "info"), 300);

    const auto each_attribute = [&](const Json& holder, std::string_view object_name) -> Result<void> {
      const auto attributes = holder.find("Attribute");
      if (attributes == holder.end() || !attributes->is_array()) return {};
      for (const Json& attribute : *attributes) {
        HIKESHI_CHECK(ParseAttribute(attribute, object_name, event_category, event_tlp, event_date, info, sink));
      }
      return {};
    };
    HIKESHI_CHECK(each_attribute(event, {}));
    if (const auto objects = event.find("Object"); objects != event.end() && objects->is_array()) {
      for (const Json& object : *objects) {
        if (object.is_object()) HIKESHI_CHECK(each_attribute(object, StringAt(object, "name")));
      }
    }
    return {};
  }

  Result<void> ParseAttribute(const Json& attribute, std::string_view object_name,
                              const std::optional<core::Category>& event_category,
                              const std::optional<core::Tlp>& event_tlp,
                              const std::optional<common::Timestamp>& event_date, const std::string& info,
                              EventSink& sink) {
    const std::int64_t record = ++attributes_;
    const std::string raw = DumpJson(attribute);
    const std::string prefix = "attribute " + std::to_string(record) + ": ";
    if (!attribute.is_object()) return Reject(sink, record, prefix + "not a JSON object", raw);
    const auto deleted = attribute.find("deleted");
    if (deleted != attribute.end() && deleted->is_boolean() && deleted->get<bool>()) {
      Skip();
      return {};
    }
    const std::string_view type = StringAt(attribute, "type");
    const std::string_view value = StringAt(attribute, "value");
    const std::string_view uuid = StringAt(attribute, "uuid");
    if (type.empty()) return Reject(sink, record, prefix + "field 'type' is missing", raw);
    const AttributeType* known = nullptr;
    for (const AttributeType& entry : kTypes) {
      if (entry.type == type) known = &entry;
    }
    const std::string where = prefix + "type " + Quote(type) + (uuid.empty() ? "" : " (" + std::string(uuid) + ")");
    if (Trim(value).empty()) return Reject(sink, record, where + ": field 'value' is missing", raw);

    FeedEvent event;
    event.record = record;
    event.raw = raw;
    event.event_id = CleanText(uuid, 64);
    event.report_type = CleanText(type, 64);
    if (known != nullptr) {
      std::string_view first = value;
      std::string_view second;
      if (known->second) {
        const std::size_t bar = value.find('|');
        if (bar == std::string_view::npos) {
          return Reject(sink, record, where + ": " + Quote(value) + " is not two values joined by '|'", raw);
        }
        first = value.substr(0, bar);
        second = value.substr(bar + 1);
      }
      auto observable = Normalize(known->first, first);
      if (!observable) return Reject(sink, record, where + ": " + observable.error().message(), raw);
      if (known->subject) {
        event.subject = *std::move(observable);
      } else {
        AddObservable(event.observables, event.subject, *std::move(observable));
      }
      if (known->second == Part::kPort) {
        event.subject_port = ParsePort(second);
        if (!event.subject_port) {
          return Reject(sink, record, where + ": " + Quote(second) + " is not a port number", raw);
        }
      } else if (known->second) {
        auto other = Normalize(*known->second, second);
        if (!other) return Reject(sink, record, where + ": " + other.error().message(), raw);
        AddObservable(event.observables, event.subject, *std::move(other));
      }
    }

    // The attribute's own RSIT tag, else the event's.
    if (auto category = FromTags(attribute)) {
      event.category = *std::move(category);
    } else {
      event.category = event_category.value_or(core::Category{"other", "undetermined"});
    }
    // An attribute's tags add to its event's: the more restrictive label of the two.
    event.tlp = core::StricterTlp(event_tlp, TlpFromTags(attribute));
    // When it was seen: first_seen, else the event's date, else when the attribute was last changed.
    if (const std::string_view seen = StringAt(attribute, "first_seen"); !seen.empty())
      event.time = ParseFeedTime(seen);
    if (!event.time) event.time = event_date;
    if (!event.time) {
      if (const std::string_view changed = StringAt(attribute, "timestamp"); !changed.empty()) {
        event.time = ParseEpoch(changed);
      }
    }
    std::string description = "MISP: " + info;
    if (!object_name.empty()) description += " [object " + std::string(object_name) + "]";
    // A type with no observable: its value is what it says (a comment, a text, a registry key).
    if (known == nullptr) description += " - " + std::string(type) + ": " + std::string(value);
    if (const std::string_view comment = StringAt(attribute, "comment"); !comment.empty()) {
      description += " - " + std::string(comment);
    }
    event.description = CleanText(description);
    return Emit(sink, std::move(event));
  }

  ParserOptions options_;
  std::int64_t attributes_ = 0;
};

}  // namespace

std::unique_ptr<FeedParser> MakeMispParser(const ParserOptions& options) {
  return std::make_unique<MispParser>(options);
}

}  // namespace hikeshi::intake::feed::detail
