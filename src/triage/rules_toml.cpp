// Reads and writes the rule set's TOML. The only file that includes toml++.
#include "hikeshi/triage/rules_toml.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace hikeshi::triage {

namespace {

using core::RuleSet;
using core::TriageActions;
using core::TriageMatch;
using core::TriageRule;

constexpr std::size_t kMaxQuotedKey = 60;

std::string QuoteKey(std::string_view key) {
  if (key.size() > kMaxQuotedKey) return "'" + std::string(key.substr(0, kMaxQuotedKey)) + "...'";
  return "'" + std::string(key) + "'";
}

// Nested tables are built and destroyed recursively by toml++: `[a.a.a...]` with a hundred
// thousand parts overflows the stack. Count the dots between key parts on each line, outside
// strings and comments, before toml++ sees the text. (Inline tables and arrays are bounded by
// toml++ itself, at 256 levels.)
Result<void> CheckKeyDepth(std::string_view text) {
  enum class State { kCode, kBasic, kLiteral, kMultiBasic, kMultiLiteral, kComment };
  State state = State::kCode;
  int dots = 0;
  std::size_t line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool triple = i + 2 < text.size() && text[i + 1] == c && text[i + 2] == c;
    if (c == '\n') {
      ++line;
      dots = 0;
      if (state != State::kMultiBasic && state != State::kMultiLiteral) state = State::kCode;
      continue;
    }
    switch (state) {
      case State::kCode:
        if (c == '#') {
          state = State::kComment;
        } else if (c == '"') {
          state = triple ? State::kMultiBasic : State::kBasic;
          if (triple) i += 2;
        } else if (c == '\'') {
          state = triple ? State::kMultiLiteral : State::kLiteral;
          if (triple) i += 2;
        } else if (c == '.' && ++dots >= kMaxDottedKeyParts) {
          return Fail(Error::InvalidArgument("line " + std::to_string(line) + ": keys are nested more than " +
                                             std::to_string(kMaxDottedKeyParts) +
                                             " levels deep; a rule set needs at most 3 (rule.match.category)"));
        }
        break;
      case State::kBasic:
      case State::kMultiBasic:
        if (c == '\\') {
          ++i;  // an escaped character, a quote included (an escaped newline is a line too)
          if (i < text.size() && text[i] == '\n') ++line;
        } else if (c == '"' && (state == State::kBasic || triple)) {
          if (state == State::kMultiBasic) i += 2;
          state = State::kCode;
        }
        break;
      case State::kLiteral:
      case State::kMultiLiteral:
        if (c == '\'' && (state == State::kLiteral || triple)) {
          if (state == State::kMultiLiteral) i += 2;
          state = State::kCode;
        }
        break;
      case State::kComment:
        break;
    }
  }
  return {};
}

class Reader {
 public:
  explicit Reader(int version) { rules_.version = version; }

  Result<RuleSet> Read(const toml::table& root) {
    for (const auto& [key, node] : root) {
      if (key.str() != "rule") {
        return Fail(At(key.source().begin.line, "unknown key " + QuoteKey(key.str()) +
                                                    " at the top level; a rule set holds only [[rule]] tables"));
      }
      const toml::array* list = node.as_array();
      if (list == nullptr || !list->is_array_of_tables()) {
        return Fail(At(node.source().begin.line, "'rule' must be an array of tables: write each rule as [[rule]]"));
      }
      if (list->size() > core::kMaxTriageRules) {
        return Fail(Error::TooLarge("the rule set has " + std::to_string(list->size()) + " rules; at most " +
                                        std::to_string(core::kMaxTriageRules) + " are allowed",
                                    "/rules"));
      }
      for (std::size_t i = 0; i < list->size(); ++i) {
        HIKESHI_CHECK(ReadRule(*(*list)[i].as_table(), i));
      }
    }
    if (auto valid = core::Validate(rules_); !valid) return Fail(WithLine(valid.error()));
    return std::move(rules_);
  }

 private:
  static Error At(std::uint32_t line, std::string message, std::string pointer = {}) {
    return Error::InvalidArgument("line " + std::to_string(line) + ": " + std::move(message), std::move(pointer));
  }

  // Prefixes core's error with the line of the value its pointer names (or of the nearest parent
  // that has one: the [rule.set] table, the [[rule]] header).
  Error WithLine(const Error& error) const {
    std::string pointer = error.field();
    while (!pointer.empty()) {
      if (const auto it = lines_.find(pointer); it != lines_.end()) {
        return Error(error.code(), "line " + std::to_string(it->second) + ": " + error.message(), error.field());
      }
      pointer.erase(pointer.rfind('/'));
    }
    return error;
  }

  void Remember(const std::string& pointer, const toml::node& node) { lines_[pointer] = node.source().begin.line; }

  // "line 12: rule no. 3 ('phish'): match.category: ..."
  Error Bad(const toml::node& node, std::string_view key, std::string_view message) const {
    return At(node.source().begin.line,
              "rule no. " + std::to_string(index_ + 1) + (id_.empty() ? "" : " ('" + id_ + "')") + ": " +
                  std::string(key) + ": " + std::string(message),
              pointer_ + "/" + Slashed(key));
  }

  static std::string Slashed(std::string_view key) {
    std::string out(key);
    for (char& c : out) c = c == '.' ? '/' : c;
    return out;
  }

  Result<void> ReadRule(const toml::table& table, std::size_t index) {
    index_ = index;
    pointer_ = "/rules/" + std::to_string(index);
    Remember(pointer_, table);
    id_.clear();
    if (const toml::node* id = table.get("id"); id != nullptr && id->is_string()) id_ = id->as_string()->get();
    TriageRule rule;
    bool have_id = false;
    for (const auto& [key_node, node] : table) {
      const std::string_view key = key_node.str();
      Remember(pointer_ + "/" + std::string(key), node);
      if (key == "id") {
        HIKESHI_TRY(rule.id, String(node, "id"));
        have_id = true;
      } else if (key == "description") {
        HIKESHI_TRY(rule.description, String(node, "description"));
      } else if (key == "enabled") {
        HIKESHI_TRY(rule.enabled, Bool(node, "enabled"));
      } else if (key == "stop") {
        HIKESHI_TRY(rule.stop, Bool(node, "stop"));
      } else if (key == "match") {
        HIKESHI_CHECK(ReadMatch(node, rule.match));
      } else if (key == "set") {
        HIKESHI_CHECK(ReadActions(node, rule.set));
      } else {
        return Fail(Bad(node, key,
                        "unknown key " + QuoteKey(key) +
                            "; a rule takes id, description, enabled, stop, [rule.match] and [rule.set]"));
      }
    }
    if (!have_id) return Fail(Bad(table, "id", "is missing; every rule needs an id, such as id = \"phishing\""));
    rules_.rules.push_back(std::move(rule));
    return {};
  }

  Result<void> ReadMatch(const toml::node& node, TriageMatch& m) {
    const toml::table* table = node.as_table();
    if (table == nullptr) return Fail(Bad(node, "match", "must be a table: [rule.match]"));
    for (const auto& [key_node, value] : *table) {
      const std::string_view key = key_node.str();
      std::vector<std::string>* list = key == "category"       ? &m.category
                                       : key == "constituency" ? &m.constituency
                                       : key == "channel"      ? &m.channel
                                       : key == "source"       ? &m.source
                                       : key == "format"       ? &m.format
                                       : key == "ip"           ? &m.ip
                                       : key == "domain"       ? &m.domain
                                       : key == "keyword"      ? &m.keyword
                                       : key == "pgp"          ? &m.pgp
                                                               : nullptr;
      if (list == nullptr) {
        return Fail(Bad(value, "match." + std::string(key),
                        "unknown condition; [rule.match] takes category, constituency, channel, source, format, ip, "
                        "domain, keyword and pgp"));
      }
      HIKESHI_TRY(*list, Strings(value, "match." + std::string(key)));
    }
    return {};
  }

  Result<void> ReadActions(const toml::node& node, TriageActions& a) {
    const toml::table* table = node.as_table();
    if (table == nullptr) return Fail(Bad(node, "set", "must be a table: [rule.set]"));
    for (const auto& [key_node, value] : *table) {
      const std::string key = "set." + std::string(key_node.str());
      Remember(pointer_ + "/" + Slashed(key), value);
      std::optional<std::string>* text = key == "set.category"      ? &a.category
                                         : key == "set.owner"       ? &a.owner
                                         : key == "set.team"        ? &a.team
                                         : key == "set.playbook"    ? &a.playbook
                                         : key == "set.tlp"         ? &a.tlp
                                         : key == "set.sla_class"   ? &a.sla_class
                                         : key == "set.disposition" ? &a.disposition
                                                                    : nullptr;
      if (text != nullptr) {
        HIKESHI_TRY(*text, String(value, key));
      } else if (key == "set.impact") {
        HIKESHI_TRY(a.impact, Level(value, key));
      } else if (key == "set.urgency") {
        HIKESHI_TRY(a.urgency, Level(value, key));
      } else if (key == "set.apt") {
        HIKESHI_TRY(a.apt, Bool(value, key));
      } else if (key == "set.flag") {
        HIKESHI_TRY(a.flag, Strings(value, key));
      } else {
        return Fail(Bad(value, key,
                        "unknown action; [rule.set] takes category, apt, impact, urgency, owner, team, playbook, "
                        "tlp, sla_class, disposition and flag"));
      }
    }
    return {};
  }

  Result<std::string> String(const toml::node& node, std::string_view key) const {
    if (const auto* s = node.as_string()) return s->get();
    return Fail(Bad(node, key, "must be a string, in double quotes"));
  }

  Result<bool> Bool(const toml::node& node, std::string_view key) const {
    if (const auto* b = node.as_boolean()) return b->get();
    return Fail(Bad(node, key, "must be true or false"));
  }

  Result<int> Level(const toml::node& node, std::string_view key) const {
    const auto* i = node.as_integer();
    if (i == nullptr) return Fail(Bad(node, key, "must be a whole number from 1 (highest) to 4 (lowest)"));
    const std::int64_t value = i->get();
    // Out-of-range values within reach of int are left to core's check, which says the same.
    if (value < -1000 || value > 1000) return Fail(Bad(node, key, "must be from 1 (highest) to 4 (lowest)"));
    return static_cast<int>(value);
  }

  Result<std::vector<std::string>> Strings(const toml::node& node, std::string_view key) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      return Fail(Bad(node, key, "must be a list of strings, such as [\"a\", \"b\"] (a single value too: [\"a\"])"));
    }
    if (array->empty()) {
      return Fail(Bad(node, key, "is an empty list; leave the key out instead (an empty list could match nothing)"));
    }
    std::vector<std::string> out;
    out.reserve(array->size());
    const std::string pointer = pointer_ + "/" + Slashed(key);
    Remember(pointer, node);
    for (std::size_t j = 0; j < array->size(); ++j) {
      const toml::node& element = (*array)[j];
      const auto* s = element.as_string();
      if (s == nullptr) {
        return Fail(Bad(element, std::string(key) + "[" + std::to_string(j + 1) + "]", "must be a string"));
      }
      Remember(pointer + "/" + std::to_string(j), element);
      out.push_back(s->get());
    }
    return out;
  }

  RuleSet rules_;
  std::unordered_map<std::string, std::uint32_t> lines_;  // JSON pointer -> line
  std::size_t index_ = 0;
  std::string id_;
  std::string pointer_;
};

// ---- Writing ---------------------------------------------------------------------------------

// A TOML basic string. Callers pass valid UTF-8 (core::Validate makes sure); other bytes go out
// as they are.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          static constexpr char kHex[] = "0123456789ABCDEF";
          out += "\\u00";
          out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += kHex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void List(std::string& out, std::string_view key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  out += std::string(key) + " = [";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(values[i]);
  }
  out += "]\n";
}

void Text(std::string& out, std::string_view key, const std::optional<std::string>& value) {
  if (value) out += std::string(key) + " = " + Quote(*value) + "\n";
}

void Number(std::string& out, std::string_view key, const std::optional<int>& value) {
  if (value) out += std::string(key) + " = " + std::to_string(*value) + "\n";
}

}  // namespace

Result<RuleSet> ParseRuleSet(std::string_view toml_text, int version) {
  if (toml_text.size() > kMaxRuleSetBytes) {
    return Fail(Error::TooLarge("the rule set is " + std::to_string(toml_text.size()) + " bytes; at most " +
                                std::to_string(kMaxRuleSetBytes) + " are allowed"));
  }
  HIKESHI_CHECK(CheckKeyDepth(toml_text));
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return Fail(Error::InvalidArgument("line " + std::to_string(e.source().begin.line) + ", column " +
                                       std::to_string(e.source().begin.column) +
                                       ": not valid TOML: " + std::string(e.description())));
  }
  return Reader(version).Read(root);
}

std::string FormatRuleSet(const RuleSet& rules) {
  std::string out = "# Hikeshi triage rules, version " + std::to_string(rules.version) +
                    ". Rules are tried in order; see docs/triage.md.\n";
  for (const TriageRule& rule : rules.rules) {
    out += "\n[[rule]]\n";
    out += "id = " + Quote(rule.id) + "\n";
    if (!rule.description.empty()) out += "description = " + Quote(rule.description) + "\n";
    out += std::string("enabled = ") + (rule.enabled ? "true" : "false") + "\n";
    out += std::string("stop = ") + (rule.stop ? "true" : "false") + "\n";

    const TriageMatch& m = rule.match;
    if (m != TriageMatch{}) {
      out += "\n[rule.match]\n";
      List(out, "category", m.category);
      List(out, "constituency", m.constituency);
      List(out, "channel", m.channel);
      List(out, "source", m.source);
      List(out, "format", m.format);
      List(out, "ip", m.ip);
      List(out, "domain", m.domain);
      List(out, "keyword", m.keyword);
      List(out, "pgp", m.pgp);
    }
    const TriageActions& a = rule.set;
    if (a != TriageActions{}) {
      out += "\n[rule.set]\n";
      Text(out, "category", a.category);
      if (a.apt) out += std::string("apt = ") + (*a.apt ? "true" : "false") + "\n";
      Number(out, "impact", a.impact);
      Number(out, "urgency", a.urgency);
      Text(out, "owner", a.owner);
      Text(out, "team", a.team);
      Text(out, "playbook", a.playbook);
      Text(out, "tlp", a.tlp);
      Text(out, "sla_class", a.sla_class);
      Text(out, "disposition", a.disposition);
      List(out, "flag", a.flag);
    }
  }
  return out;
}

}  // namespace hikeshi::triage
