#include <string>

#include "detail/mapping.hpp"
#include "detail/observables.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

using Reason = std::unexpected<std::string>;

std::optional<common::Timestamp> ParseTime(const FieldValue& value, TimeFormat format) {
  switch (format) {
    case TimeFormat::kRfc3339:
      return ParseFeedTime(value.text);
    case TimeFormat::kEpoch:
      return ParseEpoch(value.text);
    case TimeFormat::kEpochMillis:
      return ParseEpoch(value.text, true);
    case TimeFormat::kAuto:
      break;
  }
  if (auto epoch = ParseEpoch(value.text)) return epoch;
  return ParseFeedTime(value.text);
}

// Addresses, names, URLs and e-mail addresses with defanged forms written back ("hxxp://",
// "evil[.]example"): feeds that people compile often carry them so.
Result<core::Observable> Normalize(const MappedObservable& spec, std::string_view text) {
  switch (spec.kind) {
    case ValueKind::kIp:
      return NormalizeIp(Refang(text));
    case ValueKind::kIpOrCidr:
      return NormalizeIpOrCidr(Refang(text));
    case ValueKind::kHost:
      return NormalizeHost(Refang(text));
    case ValueKind::kHash:
      return NormalizeHash(text);
    case ValueKind::kTyped:
      break;
  }
  switch (spec.type) {
    case core::ObservableType::kIpv4:
    case core::ObservableType::kIpv6:
    case core::ObservableType::kCidr:
    case core::ObservableType::kDomain:
    case core::ObservableType::kUrl:
    case core::ObservableType::kEmail:
      return core::NormalizeObservable(spec.type, Trim(Refang(text)));
    default:
      return core::NormalizeObservable(spec.type, Trim(text));
  }
}

std::optional<core::Category> LookUpCategory(const Mapping& mapping, std::string_view text) {
  const std::string key = AsciiLower(Trim(text));
  for (const auto& [from, to] : mapping.category_map) {
    if (from == key) return to;
  }
  if (auto parsed = core::ParseCategory(text)) return parsed->category;
  return std::nullopt;
}

std::expected<core::Category, std::string> MappedCategory(const Mapping& mapping, std::span<const FieldValue> values) {
  if (mapping.category_fixed) return *mapping.category_fixed;
  std::string text;
  std::string source;
  bool present = false;
  if (mapping.category) {
    const FieldValue& value = values[*mapping.category];
    source = mapping.Describe(*mapping.category);
    present = value.present && value.kind != JsonKind::kArray;
    text = value.text;
  } else if (mapping.category_class) {
    const FieldValue& cls = values[*mapping.category_class];
    const FieldValue& type = values[*mapping.category_type];
    source = mapping.Describe(*mapping.category_class) + " and " + mapping.Describe(*mapping.category_type);
    present = cls.present && type.present;
    text = std::string(Trim(cls.text)) + "/" + std::string(Trim(type.text));
  }
  if (present) {
    if (auto category = LookUpCategory(mapping, text)) return *category;
    if (mapping.category_default) return *mapping.category_default;
    return Reason(source + ": " + Quote(text) +
                  " is not an RSIT class/type, one of the guide's categories or a key of [category_map], and the "
                  "mapping has no category_default");
  }
  if (mapping.category_default) return *mapping.category_default;
  return Reason(source + " is missing and the mapping has no category_default");
}

}  // namespace

std::string Mapping::Describe(std::size_t slot) const {
  return std::string(csv ? "column '" : "field '") + field_names[slot] + "'";
}

std::expected<FeedEvent, std::string> BuildMappedEvent(const Mapping& mapping, std::span<const FieldValue> values) {
  FeedEvent event;
  const auto scalar = [&](const std::optional<std::size_t>& slot) -> const FieldValue* {
    if (!slot) return nullptr;
    const FieldValue& value = values[*slot];
    return value.present && value.kind != JsonKind::kArray && !Trim(value.text).empty() ? &value : nullptr;
  };

  if (const FieldValue* time = scalar(mapping.time)) {
    event.time = ParseTime(*time, mapping.time_format);
    if (!event.time) {
      return Reason(mapping.Describe(*mapping.time) + ": " + Quote(time->text) +
                    " is not a time (RFC 3339 such as 2026-11-27T07:43:16Z, or seconds since the epoch)");
    }
  }

  auto category = MappedCategory(mapping, values);
  if (!category) return Reason(std::move(category.error()));
  event.category = *std::move(category);

  if (const FieldValue* type = scalar(mapping.report_type)) {
    event.report_type = CleanText(type->text, 256);
  } else {
    event.report_type = mapping.report_type_fixed;
  }
  if (const FieldValue* id = scalar(mapping.event_id)) event.event_id = CleanText(id->text, 256);
  if (const FieldValue* tlp = scalar(mapping.tlp)) {
    event.tlp = core::ParseTlp(Trim(tlp->text));
    // Rejected rather than read as no label: the source meant to restrict the record somehow.
    if (!event.tlp) {
      return Reason(mapping.Describe(*mapping.tlp) + ": " + Quote(tlp->text) +
                    " is not a TLP label (CLEAR, WHITE, GREEN, AMBER, AMBER+STRICT or RED, with or without TLP:)");
    }
  }
  if (const FieldValue* description = scalar(mapping.description)) event.description = CleanText(description->text);

  // The first subject field present is the subject; any other present becomes an observable.
  struct SubjectField {
    const std::optional<std::size_t>& slot;
    Result<core::Observable> (*normalize)(std::string_view);
  };
  const SubjectField subject_fields[] = {
      {mapping.subject_ip, [](std::string_view text) { return NormalizeIpOrCidr(Refang(text)); }},
      {mapping.subject_domain,
       [](std::string_view text) {
         return core::NormalizeObservable(core::ObservableType::kDomain, Trim(Refang(text)));
       }},
      {mapping.subject_url,
       [](std::string_view text) { return core::NormalizeObservable(core::ObservableType::kUrl, Trim(Refang(text))); }},
  };
  for (const SubjectField& field : subject_fields) {
    const FieldValue* value = scalar(field.slot);
    if (value == nullptr) continue;
    auto observable = field.normalize(value->text);
    if (!observable) return Reason(mapping.Describe(*field.slot) + ": " + observable.error().message());
    if (!event.subject) {
      event.subject = *std::move(observable);
    } else {
      AddObservable(event.observables, event.subject, *std::move(observable));
    }
  }

  if (const FieldValue* port = scalar(mapping.subject_port)) {
    event.subject_port = ParsePort(port->text);
    if (!event.subject_port) {
      return Reason(mapping.Describe(*mapping.subject_port) + ": " + Quote(port->text) +
                    " is not a port number (0 to 65535)");
    }
  }

  for (const MappedObservable& spec : mapping.observables) {
    const FieldValue& value = values[spec.slot];
    if (!value.present) continue;
    const auto add = [&](std::string_view text) -> std::expected<void, std::string> {
      if (Trim(text).empty()) return {};
      auto observable = Normalize(spec, text);
      if (observable) {
        AddObservable(event.observables, event.subject, *std::move(observable));
      } else if (!spec.skip_invalid) {
        return Reason(mapping.Describe(spec.slot) + ": " + observable.error().message());
      }
      return {};
    };
    if (value.kind == JsonKind::kArray) {
      for (const std::string& item : value.list) {
        if (auto added = add(item); !added) return Reason(std::move(added.error()));
      }
    } else if (auto added = add(value.text); !added) {
      return Reason(std::move(added.error()));
    }
  }
  return event;
}

}  // namespace hikeshi::intake::feed::detail
