// iodef: IODEF v2 (RFC 7970) documents, and v1 (RFC 5070) ones, read with expat. The document is
// read whole (bounded by max_document_bytes) so that each Incident's raw bytes can be cut from it;
// each <Incident> is built into a small element tree (bounded by max_record_bytes) and turned into
// events as soon as it closes. DTDs are refused outright, which rules out external entities (XXE)
// and entity expansion bombs before expat reads any declaration. The restriction attributes (on the
// document, the Incident and anything inside it) label the Incident's events: the most restrictive.
#include <expat.h>

#include "detail/observables.hpp"
#include "detail/parser_base.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

constexpr std::string_view kIodef1 = "urn:ietf:params:xml:ns:iodef-1.0";
constexpr std::string_view kIodef2 = "urn:ietf:params:xml:ns:iodef-2.0";
constexpr char kNamespaceSeparator = ' ';      // cannot occur in a namespace URI
constexpr std::size_t kMaxNesting = 64;        // inside one Incident
constexpr std::size_t kMaxElements = 100'000;  // per Incident
constexpr std::size_t kChunkBytes = 1 << 20;

struct XmlParserFree {
  void operator()(XML_ParserStruct* parser) const { XML_ParserFree(parser); }
};
using XmlParser = std::unique_ptr<XML_ParserStruct, XmlParserFree>;

struct Element {
  std::string name;                                             // local name
  std::vector<std::pair<std::string, std::string>> attributes;  // local name -> value
  std::string text;
  std::vector<Element> children;

  std::string_view Attribute(std::string_view key) const {
    for (const auto& [name_, value] : attributes) {
      if (name_ == key) return value;
    }
    return {};
  }
  const Element* Child(std::string_view child) const {
    for (const Element& element : children) {
      if (element.name == child) return &element;
    }
    return nullptr;
  }
  std::string_view ChildText(std::string_view child) const {
    const Element* element = Child(child);
    return element == nullptr ? std::string_view() : Trim(element->text);
  }
};

std::string_view LocalName(std::string_view name) {
  const std::size_t separator = name.rfind(kNamespaceSeparator);
  return separator == std::string_view::npos ? name : name.substr(separator + 1);
}
std::string_view NamespaceOf(std::string_view name) {
  const std::size_t separator = name.rfind(kNamespaceSeparator);
  return separator == std::string_view::npos ? std::string_view() : name.substr(0, separator);
}
bool IsIodefNamespace(std::string_view ns) { return ns.empty() || ns == kIodef1 || ns == kIodef2; }

// A restriction attribute (RFC 7970 3.3.1; RFC 5070 has the first five values) as a TLP label:
// public and white may go anywhere (CLEAR), partner stays in a closed community (GREEN),
// need-to-know goes to the parties involved (AMBER), private may not be shared (RED); ext-value
// names its label in ext-restriction. nullopt for default (inherit) and for values it does not know.
std::optional<core::Tlp> RestrictionTlp(std::string_view restriction, std::string_view ext) {
  const std::string value = AsciiLower(Trim(restriction));
  if (value == "public" || value == "white") return core::Tlp::kClear;
  if (value == "partner" || value == "green") return core::Tlp::kGreen;
  if (value == "need-to-know" || value == "amber") return core::Tlp::kAmber;
  if (value == "private" || value == "red") return core::Tlp::kRed;
  if (value == "ext-value") return core::ParseTlp(Trim(ext));
  return std::nullopt;
}

// The most restrictive label anywhere in the Incident: a restriction holds for an element and what
// it contains, and the Incident's raw XML is kept, and shown, as one record.
std::optional<core::Tlp> IncidentTlp(const Element& incident) {
  std::optional<core::Tlp> found;
  std::vector<const Element*> todo{&incident};
  while (!todo.empty()) {
    const Element* element = todo.back();
    todo.pop_back();
    found = core::StricterTlp(found,
                              RestrictionTlp(element->Attribute("restriction"), element->Attribute("ext-restriction")));
    for (const Element& child : element->children) todo.push_back(&child);
  }
  return found;
}

// ---- Category --------------------------------------------------------------------------------

struct ImpactClass {
  std::string_view type;
  std::string_view rsit_class;
  std::string_view rsit_type;
  std::string_view failed_class;  // when completion="failed"; empty: same as succeeded
  std::string_view failed_type;
};

// v2 SystemImpact@type (RFC 7970 3.12.2) and v1 Impact@type (RFC 5070 3.10.1) in one table: their
// names do not overlap.
constexpr ImpactClass kImpacts[] = {
    {"takeover-account", "intrusions", "unprivileged-account-compromise", "intrusion-attempts", "brute-force"},
    {"takeover-service", "intrusions", "application-compromise", "intrusion-attempts", "exploit"},
    {"takeover-system", "intrusions", "system-compromise", "intrusion-attempts", "exploit"},
    {"cps-manipulation", "availability", "sabotage", "", ""},
    {"cps-damage", "availability", "sabotage", "", ""},
    {"availability-data", "availability", "dos", "", ""},
    {"availability-account", "availability", "dos", "", ""},
    {"availability-service", "availability", "dos", "", ""},
    {"availability-system", "availability", "dos", "", ""},
    {"damaged-system", "availability", "sabotage", "", ""},
    {"damaged-data", "availability", "sabotage", "", ""},
    {"breach-proprietary", "information-content-security", "data-leak", "", ""},
    {"breach-privacy", "information-content-security", "data-leak", "", ""},
    {"breach-credential", "information-content-security", "data-leak", "", ""},
    {"breach-configuration", "information-content-security", "unauthorised-information-access", "", ""},
    {"integrity-data", "information-content-security", "unauthorised-information-modification", "", ""},
    {"integrity-configuration", "information-content-security", "unauthorised-information-modification", "", ""},
    {"integrity-hardware", "information-content-security", "unauthorised-information-modification", "", ""},
    {"traffic-redirection", "intrusions", "system-compromise", "", ""},
    {"monitoring-traffic", "information-gathering", "sniffing", "", ""},
    {"monitoring-host", "intrusions", "system-compromise", "", ""},
    // IODEF v1
    {"admin", "intrusions", "privileged-account-compromise", "intrusion-attempts", "exploit"},
    {"user", "intrusions", "unprivileged-account-compromise", "intrusion-attempts", "exploit"},
    {"dos", "availability", "dos", "", ""},
    {"file", "information-content-security", "unauthorised-information-access", "", ""},
    {"info-leak", "information-content-security", "data-leak", "", ""},
    {"misconfiguration", "vulnerable", "vulnerable-system", "", ""},
    {"recon", "information-gathering", "scanner", "", ""},
    {"social-engineering", "information-gathering", "social-engineering", "", ""},
    {"extortion", "other", "other", "", ""},
    // both
    {"policy", "other", "other", "", ""},
    {"unknown", "other", "undetermined", "", ""},
};

// NodeRole@category values (RFC 7970 3.18.2) that say what an address is for; they decide the
// category of the event whose subject has them.
constexpr ImpactClass kNodeRoles[] = {
    {"c2-server", "malicious-code", "c2-server", "", ""},
    {"malware-distribution", "malicious-code", "malware-distribution", "", ""},
    {"phishing-site", "fraud", "phishing", "", ""},
    {"spear-phishing-site", "fraud", "phishing", "", ""},
    {"fraudulent-site", "fraud", "masquerade", "", ""},
    {"reflector", "vulnerable", "ddos-amplifier", "", ""},
};

struct Classified {
  core::Category category;
  std::string report_type;  // the IODEF value that decided it
};

std::optional<Classified> FromTable(std::span<const ImpactClass> table, std::string_view type,
                                    std::string_view completion) {
  for (const ImpactClass& entry : table) {
    if (entry.type != type) continue;
    const bool failed = completion == "failed" && !entry.failed_class.empty();
    return Classified{{std::string(failed ? entry.failed_class : entry.rsit_class),
                       std::string(failed ? entry.failed_type : entry.rsit_type)},
                      std::string(type)};
  }
  return std::nullopt;
}

// From an <Assessment>: the first SystemImpact/Impact (or BusinessImpact) that names a category.
// type="ext-value" with an RSIT class/type in ext-type is read too, as some CSIRT tools write it.
std::optional<Classified> FromAssessment(const Element& assessment) {
  for (std::string_view impact_name : {"SystemImpact", "Impact", "BusinessImpact"}) {
    for (const Element& impact : assessment.children) {
      if (impact.name != impact_name) continue;
      const std::string_view type = impact.Attribute("type");
      if (type == "ext-value") {
        if (auto parsed = core::ParseCategory(impact.Attribute("ext-type"))) {
          return Classified{parsed->category, std::string(impact.Attribute("ext-type"))};
        }
        continue;
      }
      if (auto found = FromTable(kImpacts, type, impact.Attribute("completion"))) return found;
    }
  }
  return std::nullopt;
}

std::optional<Classified> FromAssessments(const Element& parent) {
  for (const Element& child : parent.children) {
    if (child.name != "Assessment") continue;
    if (auto found = FromAssessment(child)) return found;
  }
  return std::nullopt;
}

// ---- Addresses -------------------------------------------------------------------------------

// An <Address> by its category; nullopt (not an error) for the kinds that are no observable.
std::optional<Result<core::Observable>> FromAddress(const Element& address) {
  const std::string_view category = address.Attribute("category");
  const std::string_view text = Trim(address.text);
  using core::ObservableType;
  if (category.empty()) return NormalizeIpOrCidr(text);
  if (category == "ipv4-addr") return core::NormalizeObservable(ObservableType::kIpv4, text);
  if (category == "ipv6-addr") return core::NormalizeObservable(ObservableType::kIpv6, text);
  if (category == "ipv4-net" || category == "ipv6-net") return core::NormalizeObservable(ObservableType::kCidr, text);
  if (category == "e-mail") return core::NormalizeObservable(ObservableType::kEmail, text);
  if (category == "asn") return core::NormalizeObservable(ObservableType::kAsn, text);
  if (category == "site-uri") return core::NormalizeObservable(ObservableType::kUrl, text);
  return std::nullopt;  // mac, atm, masked networks, ext-value
}

// <BulkObservable type="domain-name"><BulkObservableList>a.example b.example ...</...> (RFC 7970
// 3.29.1): whitespace-separated values of one type.
void CollectBulk(const Element& bulk, std::vector<Result<core::Observable>>& out) {
  const std::string_view type = bulk.Attribute("type");
  std::optional<core::ObservableType> observable_type;
  if (type == "domain-name") observable_type = core::ObservableType::kDomain;
  if (type == "url") observable_type = core::ObservableType::kUrl;
  if (type == "email") observable_type = core::ObservableType::kEmail;
  const bool address = type == "ipv4-addr" || type == "ipv6-addr";
  if (!observable_type && !address) return;
  const std::string_view list = bulk.ChildText("BulkObservableList");
  std::size_t start = 0;
  while (start < list.size()) {
    const std::size_t end = std::min(list.find_first_of(" \t\r\n", start), list.size());
    if (end > start) {
      const std::string_view value = list.substr(start, end - start);
      out.push_back(address ? NormalizeIp(value) : core::NormalizeObservable(*observable_type, value));
    }
    start = end + 1;
  }
}

// Every address of a <System> or <Node> tree, in document order: Address, DomainData/Name (v2),
// NodeName (v1). Indicator trees are read the same way.
void CollectAddresses(const Element& element, std::vector<Result<core::Observable>>& out, std::size_t depth = 0) {
  if (depth > kMaxNesting) return;
  for (const Element& child : element.children) {
    if (child.name == "Address") {
      if (auto observable = FromAddress(child)) out.push_back(*std::move(observable));
    } else if (child.name == "NodeName" || (child.name == "Name" && element.name == "DomainData")) {
      out.push_back(core::NormalizeObservable(core::ObservableType::kDomain, Trim(child.text)));
    } else if (child.name == "BulkObservable") {
      CollectBulk(child, out);
    } else if (child.name != "Service") {
      // Ports and applications live under Service; everything else may hold nodes.
      CollectAddresses(child, out, depth + 1);
    }
  }
}

std::optional<std::uint16_t> PortOf(const Element& system) {
  for (const Element& service : system.children) {
    if (service.name != "Service") continue;
    if (auto port = ParsePort(service.ChildText("Port"))) return port;
  }
  return std::nullopt;
}

std::optional<Classified> FromNodeRoles(const Element& system) {
  for (const Element& role : system.children) {
    if (role.name != "NodeRole") continue;
    if (auto found = FromTable(kNodeRoles, role.Attribute("category"), {})) return found;
  }
  return std::nullopt;
}

std::optional<common::Timestamp> FirstTime(const Element& parent, std::string& error) {
  for (std::string_view name : {"DetectTime", "StartTime", "ReportTime", "GenerationTime"}) {
    const std::string_view text = parent.ChildText(name);
    if (text.empty()) continue;
    auto time = ParseFeedTime(text);
    if (!time) error = std::string(name) + " " + Quote(text) + " is not a time";
    return time;
  }
  return std::nullopt;
}

// ---- Incident -> events ----------------------------------------------------------------------

struct Context {
  std::optional<common::Timestamp> time;
  std::string description;
  std::optional<Classified> classified;
};

class IncidentReader {
 public:
  IncidentReader(const Element& incident, std::int64_t record) : incident_(incident), record_(record) {}

  // The events of the incident, or a reject reason for each one that failed.
  void Read(std::vector<FeedEvent>& events, std::vector<std::string>& rejects) {
    const Element* id = incident_.Child("IncidentID");
    if (id == nullptr || Trim(id->text).empty()) {
      rejects.push_back(Prefix() + "it has no IncidentID (RFC 7970 requires one)");
      return;
    }
    id_ = CleanText(std::string(id->Attribute("name")) + ":" + std::string(Trim(id->text)), 200);
    Context context;
    std::string time_error;
    context.time = FirstTime(incident_, time_error);
    if (!time_error.empty()) {
      rejects.push_back(Prefix() + time_error);
      return;
    }
    context.description = std::string(incident_.ChildText("Description"));
    context.classified = FromAssessments(incident_);

    for (const Element& child : incident_.children) {
      if (child.name == "EventData") ReadEventData(child, context, 0, events, rejects);
    }
    if (events.empty() && rejects.empty()) ReadIndicatorsOnly(context, events, rejects);
  }

 private:
  std::string Prefix() const {
    return "Incident " + std::to_string(record_) + (id_.empty() ? "" : " (" + id_ + ")") + ": ";
  }

  void ReadEventData(const Element& event_data, const Context& outer, std::size_t depth, std::vector<FeedEvent>& events,
                     std::vector<std::string>& rejects) {
    if (depth > kMaxNesting) return;
    Context context = outer;
    std::string time_error;
    if (auto time = FirstTime(event_data, time_error)) context.time = time;
    if (!time_error.empty()) {
      rejects.push_back(Prefix() + "EventData: " + time_error);
      return;
    }
    if (const std::string_view description = event_data.ChildText("Description"); !description.empty()) {
      context.description = std::string(description);
    }
    if (auto classified = FromAssessments(event_data)) context.classified = std::move(classified);
    for (const Element& child : event_data.children) {
      if (child.name == "Flow") ReadFlow(child, context, events, rejects);
    }
    for (const Element& child : event_data.children) {
      if (child.name == "EventData") ReadEventData(child, context, depth + 1, events, rejects);
    }
  }

  void ReadFlow(const Element& flow, const Context& context, std::vector<FeedEvent>& events,
                std::vector<std::string>& rejects) {
    std::vector<const Element*> systems;
    for (const Element& child : flow.children) {
      if (child.name == "System" && child.Attribute("category") != "sensor") systems.push_back(&child);
    }
    // The sources are what the event is about (the attacker, the infected host); a Flow with
    // none (a report about a victim) is about each of its systems.
    const bool has_source = std::any_of(systems.begin(), systems.end(),
                                        [](const Element* s) { return s->Attribute("category") == "source"; });
    for (const Element* subject : systems) {
      if (has_source && subject->Attribute("category") != "source") continue;
      ++event_number_;
      FeedEvent event;
      std::string error;
      const bool ok = AddAddresses(*subject, true, event, error);
      // The other systems' addresses are context; a bad one is reported with its own system.
      for (const Element* other : systems) {
        if (ok && other != subject) AddAddresses(*other, false, event, error);
      }
      if (!ok) {
        rejects.push_back(Prefix() + "Flow system " + std::to_string(event_number_) + ": " + error);
        continue;
      }
      event.subject_port = PortOf(*subject);
      Finish(event, context, FromNodeRoles(*subject));
      events.push_back(std::move(event));
    }
  }

  // Adds the addresses of `system` to `event`: for the subject system, the first becomes the
  // subject and an invalid one fails the event (false, with `error` set); for the others, invalid
  // ones are left out.
  static bool AddAddresses(const Element& system, bool subject, FeedEvent& event, std::string& error) {
    std::vector<Result<core::Observable>> addresses;
    CollectAddresses(system, addresses);
    for (auto& address : addresses) {
      if (!address) {
        if (!subject) continue;
        error = address.error().message();
        return false;
      }
      if (subject && !event.subject) {
        event.subject = *std::move(address);
      } else {
        AddObservable(event.observables, event.subject, *std::move(address));
      }
    }
    return true;
  }

  // An Incident without Flow/System: one event holding what its IndicatorData names.
  void ReadIndicatorsOnly(const Context& context, std::vector<FeedEvent>& events, std::vector<std::string>& rejects) {
    std::vector<Result<core::Observable>> addresses;
    for (const Element& child : incident_.children) {
      if (child.name == "IndicatorData") CollectAddresses(child, addresses);
    }
    FeedEvent event;
    for (auto& address : addresses) {
      if (!address) {
        rejects.push_back(Prefix() + "IndicatorData: " + address.error().message());
        return;
      }
      if (!event.subject) {
        event.subject = *std::move(address);
      } else {
        AddObservable(event.observables, event.subject, *std::move(address));
      }
    }
    ++event_number_;
    Finish(event, context, std::nullopt);
    events.push_back(std::move(event));
  }

  void Finish(FeedEvent& event, const Context& context, std::optional<Classified> role) const {
    const std::optional<Classified>& classified = role ? role : context.classified;
    event.category = classified ? classified->category : core::Category{"other", "undetermined"};
    event.report_type = classified ? CleanText(classified->report_type, 256) : "iodef";
    event.time = context.time;
    event.event_id = id_ + "#" + std::to_string(event_number_);
    event.description =
        CleanText("IODEF incident " + id_ + (context.description.empty() ? "" : ": " + context.description));
    event.record = record_;
  }

  const Element& incident_;
  std::int64_t record_;
  std::string id_;
  std::size_t event_number_ = 0;
};

// ---- The expat driver ------------------------------------------------------------------------

class IodefParser final : public ParserBase {
 public:
  explicit IodefParser(const ParserOptions& options) : options_(options) {}

  Result<void> Parse(ByteSource& source, EventSink& sink) override {
    HIKESHI_TRY(const std::string document, ReadDocument(source, options_.max_document_bytes));
    XmlParser parser(XML_ParserCreateNS(nullptr, kNamespaceSeparator));
    if (!parser) return Fail(Error::Internal("expat could not allocate a parser"));
    Run run{*this, sink, document, parser.get()};
    XML_SetUserData(parser.get(), &run);
    XML_SetElementHandler(parser.get(), &Run::OnStart, &Run::OnEnd);
    XML_SetCharacterDataHandler(parser.get(), &Run::OnText);
    XML_SetStartDoctypeDeclHandler(parser.get(), &Run::OnDoctype);
    XML_SetEntityDeclHandler(parser.get(), &Run::OnEntity);
    XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);

    for (std::size_t offset = 0;;) {
      const std::size_t size = std::min(kChunkBytes, document.size() - offset);
      const bool last = offset + size == document.size();
      const XML_Status status =
          XML_Parse(parser.get(), document.data() + offset, static_cast<int>(size), last ? XML_TRUE : XML_FALSE);
      if (!run.sink_error) return Fail(std::move(run.sink_error).error());
      if (run.fatal) return Fail(*std::move(run.fatal));
      if (status != XML_STATUS_OK) {
        return Fail(Error::InvalidArgument(
            "the document is not well-formed XML: " + std::string(XML_ErrorString(XML_GetErrorCode(parser.get()))) +
            " at line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
            std::to_string(XML_GetCurrentColumnNumber(parser.get()))));
      }
      offset += size;
      if (last) break;
    }
    if (!run.root_seen) return Fail(Error::InvalidArgument("the document has no IODEF-Document element"));
    return {};
  }

 private:
  // One parse's state, reached from expat's C callbacks through the user data pointer.
  struct Run {
    Run(IodefParser& parser_self, EventSink& event_sink, std::string_view text, XML_Parser xml)
        : self(parser_self), sink(event_sink), document(text), parser(xml) {}

    IodefParser& self;
    EventSink& sink;
    std::string_view document;
    XML_Parser parser;
    Result<void> sink_error{};
    std::optional<Error> fatal;
    bool root_seen = false;
    std::optional<core::Tlp> document_tlp;  // the IODEF-Document's restriction
    std::size_t depth = 0;
    std::size_t foreign_depth = 0;  // > 0 inside an element of another namespace, which is ignored
    std::int64_t incidents = 0;
    std::optional<Element> incident;
    std::vector<Element*> stack;
    std::size_t incident_start = 0;
    std::size_t elements = 0;
    std::string broken;  // why the open Incident will be rejected, once it closes

    void Stop(Error error) {
      if (!fatal) fatal = std::move(error);
      XML_StopParser(parser, XML_FALSE);
    }

    std::size_t Offset() const {
      return static_cast<std::size_t>(std::max<XML_Index>(0, XML_GetCurrentByteIndex(parser)));
    }

    void CheckSize() {
      if (broken.empty() && Offset() - incident_start > self.options_.max_record_bytes) {
        broken = "it is larger than max_record_bytes (" + std::to_string(self.options_.max_record_bytes) + ")";
        // Free the tree: the Incident is rejected anyway. The stack keeps its depth (for the end
        // tags to come) but points at nothing.
        if (stack.size() > 1) std::fill(stack.begin() + 1, stack.end(), nullptr);
        incident->children.clear();
      }
    }

    static void OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
      auto& run = *static_cast<Run*>(data);
      ++run.depth;
      const std::string_view full(name);
      const std::string_view local = LocalName(full);
      if (run.depth == 1) {
        if (local != "IODEF-Document" || !IsIodefNamespace(NamespaceOf(full))) {
          run.Stop(Error::InvalidArgument("the root element is <" + CleanText(local, 100) +
                                          ">, not an IODEF <IODEF-Document>"));
          return;
        }
        run.root_seen = true;
        Element root;
        ReadAttributes(root, attributes);
        run.document_tlp = RestrictionTlp(root.Attribute("restriction"), root.Attribute("ext-restriction"));
        return;
      }
      if (run.foreign_depth > 0 || !IsIodefNamespace(NamespaceOf(full))) {
        ++run.foreign_depth;
        return;
      }
      if (!run.incident) {
        if (run.depth != 2 || local != "Incident") return;
        run.incident.emplace();
        run.incident->name = std::string(local);
        run.stack.assign(1, &*run.incident);
        run.incident_start = run.Offset();
        run.elements = 1;
        run.broken.clear();
        ReadAttributes(*run.incident, attributes);
        return;
      }
      run.CheckSize();
      if (!run.broken.empty()) {
        run.stack.push_back(nullptr);  // keeps the end tags balanced while building nothing
        return;
      }
      if (run.stack.size() > kMaxNesting || ++run.elements > kMaxElements) {
        run.broken = "its elements are nested deeper than " + std::to_string(kMaxNesting) + " levels or number over " +
                     std::to_string(kMaxElements);
        run.stack.push_back(nullptr);
        return;
      }
      Element* parent = run.stack.back();
      parent->children.emplace_back();
      Element& element = parent->children.back();
      element.name = std::string(local);
      ReadAttributes(element, attributes);
      run.stack.push_back(&element);
    }

    static void ReadAttributes(Element& element, const XML_Char** attributes) {
      for (std::size_t i = 0; attributes[i] != nullptr && attributes[i + 1] != nullptr; i += 2) {
        element.attributes.emplace_back(LocalName(attributes[i]), attributes[i + 1]);
      }
    }

    static void OnEnd(void* data, const XML_Char*) {
      auto& run = *static_cast<Run*>(data);
      --run.depth;
      if (run.foreign_depth > 0) {
        --run.foreign_depth;
        return;
      }
      if (!run.incident) return;
      run.stack.pop_back();
      if (!run.stack.empty()) return;
      const std::size_t end = run.Offset() + static_cast<std::size_t>(std::max(0, XML_GetCurrentByteCount(run.parser)));
      const std::string_view raw = run.document.substr(run.incident_start, end - run.incident_start);
      run.CheckSize();
      Result<void> delivered =
          run.self.Deliver(run.sink, *run.incident, ++run.incidents, raw, run.broken, run.document_tlp);
      run.incident.reset();
      if (!delivered) {
        run.sink_error = std::move(delivered);
        XML_StopParser(run.parser, XML_FALSE);
      }
    }

    static void OnText(void* data, const XML_Char* text, int length) {
      auto& run = *static_cast<Run*>(data);
      if (!run.incident || run.foreign_depth > 0 || run.stack.empty() || run.stack.back() == nullptr) return;
      run.CheckSize();
      if (run.broken.empty()) run.stack.back()->text.append(text, static_cast<std::size_t>(length));
    }

    static void OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
      static_cast<Run*>(data)->Stop(Error::InvalidArgument(
          "the document has a DOCTYPE; DTDs are refused because they allow external entities (XXE) and entity "
          "expansion bombs, and IODEF needs none"));
    }

    static void OnEntity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*, const XML_Char*,
                         const XML_Char*, const XML_Char*) {
      static_cast<Run*>(data)->Stop(Error::InvalidArgument("the document declares an entity; DTDs are refused"));
    }
  };

  Result<void> Deliver(EventSink& sink, const Element& incident, std::int64_t record, std::string_view raw,
                       const std::string& broken, std::optional<core::Tlp> document_tlp) {
    if (!broken.empty()) {
      return Reject(sink, record, "Incident " + std::to_string(record) + ": " + broken, raw);
    }
    std::vector<FeedEvent> events;
    std::vector<std::string> rejects;
    IncidentReader(incident, record).Read(events, rejects);
    for (std::string& reason : rejects) HIKESHI_CHECK(Reject(sink, record, std::move(reason), raw));
    const std::optional<core::Tlp> tlp =
        events.empty() ? document_tlp : core::StricterTlp(document_tlp, IncidentTlp(incident));
    for (FeedEvent& event : events) {
      event.raw.assign(raw);
      event.tlp = tlp;
      HIKESHI_CHECK(Emit(sink, std::move(event)));
    }
    return {};
  }

  ParserOptions options_;
};

}  // namespace

std::unique_ptr<FeedParser> MakeIodefParser(const ParserOptions& options) {
  return std::make_unique<IodefParser>(options);
}

}  // namespace hikeshi::intake::feed::detail
