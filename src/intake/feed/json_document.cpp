#include "detail/json_document.hpp"

#include <string>

namespace hikeshi::intake::feed::detail {

namespace {

constexpr int kMaxJsonDepth = 128;

void Walk(const nlohmann::json& value, std::size_t node, const JsonFieldSet& fields, JsonRecord& record) {
  const JsonFieldSet::Node& here = fields.node(node);
  if (value.is_object()) {
    for (const auto& edge : here.children) {
      const auto found = value.find(edge.key);
      if (found != value.end()) Walk(*found, edge.node, fields, record);
    }
    return;
  }
  if (value.is_array()) {
    if (here.slot) record.Set(*here.slot, JsonKind::kArray, {});
    for (std::size_t index = 0; index < value.size(); ++index) {
      const nlohmann::json& element = value[index];
      if (const auto child = here.children.empty() ? std::nullopt : fields.Child(node, std::to_string(index))) {
        Walk(element, *child, fields, record);
      } else if (here.slot && element.is_string()) {
        record.Append(*here.slot, element.get_ref<const std::string&>());
      } else if (here.slot && element.is_number()) {
        record.Append(*here.slot, element.dump());
      }
    }
    return;
  }
  if (!here.slot) return;
  if (value.is_string()) {
    record.Set(*here.slot, JsonKind::kString, value.get_ref<const std::string&>());
  } else if (value.is_number()) {
    record.Set(*here.slot, JsonKind::kNumber, value.dump());
  } else if (value.is_boolean()) {
    record.Set(*here.slot, JsonKind::kBool, value.get<bool>() ? "true" : "false");
  }
}

}  // namespace

void ExtractFromDocument(const nlohmann::json& object, const JsonFieldSet& fields, JsonRecord& record) {
  record.Clear();
  Walk(object, 0, fields, record);
}

Result<nlohmann::json> ParseJsonDocument(std::string_view text) {
  // nlohmann parses nesting iteratively but dumps it recursively: a hostile document nested a
  // million levels deep would overflow the stack later, so depth is capped while parsing.
  struct TooDeep {};
  const auto limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), limit_depth);
  } catch (const TooDeep&) {
    return Fail(
        Error::InvalidArgument("the document is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
  } catch (const nlohmann::json::exception& e) {
    // e.what() names the byte offset ("parse error at line 3, column 7: ...").
    return Fail(Error::InvalidArgument(std::string("the document is not valid JSON: ") + e.what()));
  }
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string_view StringAt(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return {};
  return found->get_ref<const std::string&>();
}

}  // namespace hikeshi::intake::feed::detail
