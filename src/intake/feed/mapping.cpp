// Reads the mapping TOML. The only file that includes toml++.
#include "detail/mapping.hpp"

#include <string>

#include <toml++/toml.h>

#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

namespace {

// Keys that name a field or column.
constexpr std::string_view kFieldKeys[] = {"time",           "category",    "category_class", "category_type",
                                           "report_type",    "event_id",    "description",    "subject_ip",
                                           "subject_domain", "subject_url", "subject_port",   "tlp"};

Error Bad(std::string message) { return Error::InvalidArgument("mapping: " + std::move(message)); }

class MappingReader {
 public:
  explicit MappingReader(bool csv) { mapping_.csv = csv; }

  Result<Mapping> Read(const toml::table& table) {
    for (const auto& [key_node, node] : table) {
      const std::string_view key = key_node.str();
      if (key == "format") {
        HIKESHI_TRY(const std::string format, String(key, node));
        if (format != (mapping_.csv ? "csv" : "ndjson")) {
          return Fail(Bad("format = " + Quote(format) + ", but this mapping is being used for " +
                          (mapping_.csv ? "csv" : "ndjson")));
        }
      } else if (key == "delimiter") {
        HIKESHI_TRY(const std::string delimiter, String(key, node));
        if (!mapping_.csv) return Fail(Bad("'delimiter' applies to csv mappings only"));
        if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n" || delimiter == "\r") {
          return Fail(
              Bad("'delimiter' must be one character other than a quote or a line break, such as \",\" "
                  "or \"\\t\""));
        }
        mapping_.delimiter = delimiter[0];
      } else if (key == "time_format") {
        HIKESHI_TRY(const std::string format, String(key, node));
        if (format == "auto") {
          mapping_.time_format = TimeFormat::kAuto;
        } else if (format == "rfc3339") {
          mapping_.time_format = TimeFormat::kRfc3339;
        } else if (format == "epoch") {
          mapping_.time_format = TimeFormat::kEpoch;
        } else if (format == "epoch_ms") {
          mapping_.time_format = TimeFormat::kEpochMillis;
        } else {
          return Fail(Bad("'time_format' is " + Quote(format) + "; use auto, rfc3339, epoch or epoch_ms"));
        }
      } else if (key == "category_fixed" || key == "category_default") {
        HIKESHI_TRY(const std::string text, String(key, node));
        HIKESHI_TRY(core::Category category, Category(key, text));
        (key == "category_fixed" ? mapping_.category_fixed : mapping_.category_default) = std::move(category);
      } else if (key == "report_type_fixed") {
        HIKESHI_TRY(const std::string text, String(key, node));
        mapping_.report_type_fixed = CleanText(text, 256);
      } else if (key == "category_map") {
        const toml::table* map = node.as_table();
        if (map == nullptr) return Fail(Bad("'category_map' must be a table: [category_map]"));
        for (const auto& [from, to] : *map) {
          const std::string where = "category_map." + std::string(from.str());
          HIKESHI_TRY(const std::string text, String(where, to));
          HIKESHI_TRY(core::Category category, Category(where, text));
          mapping_.category_map.emplace_back(AsciiLower(Trim(from.str())), std::move(category));
        }
      } else if (key == "observable") {
        const toml::array* list = node.as_array();
        if (list == nullptr) return Fail(Bad("'observable' must be an array of tables: [[observable]]"));
        for (std::size_t i = 0; i < list->size(); ++i) {
          const toml::table* entry = (*list)[i].as_table();
          if (entry == nullptr) return Fail(Bad("observable " + std::to_string(i + 1) + " must be a table"));
          HIKESHI_CHECK(ReadObservable(*entry, i + 1));
        }
      } else if (IsFieldKey(key)) {
        HIKESHI_TRY(const std::string name, String(key, node));
        HIKESHI_TRY(const std::size_t slot, Slot(key, name));
        FieldFor(key) = slot;
      } else {
        return Fail(Bad("unknown key " + Quote(key) + " (see docs/feeds.md for the keys a mapping takes)"));
      }
    }
    HIKESHI_CHECK(Validate());
    return std::move(mapping_);
  }

 private:
  static bool IsFieldKey(std::string_view key) {
    for (std::string_view known : kFieldKeys) {
      if (key == known) return true;
    }
    return false;
  }

  std::optional<std::size_t>& FieldFor(std::string_view key) {
    if (key == "time") return mapping_.time;
    if (key == "category") return mapping_.category;
    if (key == "category_class") return mapping_.category_class;
    if (key == "category_type") return mapping_.category_type;
    if (key == "report_type") return mapping_.report_type;
    if (key == "event_id") return mapping_.event_id;
    if (key == "description") return mapping_.description;
    if (key == "subject_ip") return mapping_.subject_ip;
    if (key == "subject_domain") return mapping_.subject_domain;
    if (key == "subject_url") return mapping_.subject_url;
    if (key == "tlp") return mapping_.tlp;
    return mapping_.subject_port;
  }

  static Result<std::string> String(std::string_view key, const toml::node& node) {
    const auto value = node.value<std::string>();
    if (!value) return Fail(Bad("'" + std::string(key) + "' must be a string"));
    return *value;
  }

  static Result<core::Category> Category(std::string_view key, std::string_view text) {
    const auto parsed = core::ParseCategory(text);
    if (!parsed) {
      return Fail(Bad("'" + std::string(key) + "' is " + Quote(text) +
                      ", not an RSIT class/type such as \"information-gathering/scanner\" or one of the guide's "
                      "categories"));
    }
    return parsed->category;
  }

  Result<std::size_t> Slot(std::string_view key, std::string_view name) {
    if (name.empty()) return Fail(Bad("'" + std::string(key) + "' is empty"));
    if (!mapping_.csv) {
      // Checked here so the mistake is reported against its key.
      JsonFieldSet probe;
      if (auto added = probe.Add(name); !added) {
        return Fail(Bad("'" + std::string(key) + "': " + added.error().message()));
      }
    }
    for (std::size_t i = 0; i < mapping_.field_names.size(); ++i) {
      if (mapping_.field_names[i] == name) return i;
    }
    mapping_.field_names.emplace_back(name);
    return mapping_.field_names.size() - 1;
  }

  Result<void> ReadObservable(const toml::table& entry, std::size_t number) {
    const std::string where = "observable " + std::to_string(number);
    MappedObservable observable;
    bool have_field = false;
    bool have_type = false;
    for (const auto& [key_node, node] : entry) {
      const std::string_view key = key_node.str();
      if (key == "field") {
        HIKESHI_TRY(const std::string name, String(where + ".field", node));
        HIKESHI_TRY(observable.slot, Slot(where + ".field", name));
        have_field = true;
      } else if (key == "type") {
        HIKESHI_TRY(const std::string type, String(where + ".type", node));
        if (type == "ip") {
          observable.kind = ValueKind::kIp;
        } else if (type == "ip_or_cidr") {
          observable.kind = ValueKind::kIpOrCidr;
        } else if (type == "host") {
          observable.kind = ValueKind::kHost;
        } else if (type == "hash") {
          observable.kind = ValueKind::kHash;
        } else if (const auto core_type = core::ParseObservableType(type)) {
          observable.kind = ValueKind::kTyped;
          observable.type = *core_type;
        } else {
          return Fail(Bad(where + ": type " + Quote(type) +
                          " is unknown; use ip, ip_or_cidr, host, hash, or an observable type (ipv4, ipv6, cidr, "
                          "domain, url, email, md5, sha1, sha256, asn, cve, filename)"));
        }
        have_type = true;
      } else if (key == "skip_invalid") {
        const auto flag = node.value<bool>();
        if (!flag) return Fail(Bad(where + ": 'skip_invalid' must be true or false"));
        observable.skip_invalid = *flag;
      } else {
        return Fail(Bad(where + ": unknown key " + Quote(key) + " (field, type, skip_invalid)"));
      }
    }
    if (!have_field || !have_type) return Fail(Bad(where + " needs both 'field' and 'type'"));
    mapping_.observables.push_back(observable);
    return {};
  }

  Result<void> Validate() const {
    const Mapping& m = mapping_;
    if (m.category_class.has_value() != m.category_type.has_value()) {
      return Fail(Bad("'category_class' and 'category_type' go together"));
    }
    const bool from_field = m.category || m.category_class;
    if (m.category && m.category_class)
      return Fail(Bad("give 'category' or 'category_class'/'category_type', not both"));
    if (m.category_fixed && (from_field || m.category_default || !m.category_map.empty())) {
      return Fail(
          Bad("'category_fixed' excludes 'category', 'category_class'/'category_type', 'category_default' "
              "and [category_map]"));
    }
    if (!from_field && !m.category_fixed && !m.category_default) {
      return Fail(
          Bad("no category: give 'category' (or 'category_class' and 'category_type'), 'category_fixed', or "
              "at least 'category_default'"));
    }
    if (!m.report_type_fixed.empty() && m.report_type) {
      return Fail(Bad("give 'report_type' or 'report_type_fixed', not both"));
    }
    return {};
  }

  Mapping mapping_;
};

}  // namespace

Result<Mapping> ParseMapping(std::string_view toml_text, bool csv) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return Fail(Bad("TOML error at line " + std::to_string(e.source().begin.line) + ", column " +
                    std::to_string(e.source().begin.column) + ": " + std::string(e.description())));
  }
  return MappingReader(csv).Read(table);
}

}  // namespace hikeshi::intake::feed::detail
