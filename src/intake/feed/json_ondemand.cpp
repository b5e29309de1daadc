// The only file that includes simdjson: its On Demand API walks each JSON line once, descending
// only into the keys some pointer names and skipping the rest.
#include <string>
#include <utility>

#include <simdjson.h>

#include "detail/json_fields.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::feed::detail {

namespace ondemand = simdjson::ondemand;
using simdjson::error_code;

struct OndemandExtractor::Impl {
  const JsonFieldSet& fields;
  ondemand::parser parser;
  std::string padded;  // the line plus simdjson's padding; reused
  std::string index_key;

  explicit Impl(const JsonFieldSet& field_set) : fields(field_set) {}

  error_code WalkObject(ondemand::object object, std::size_t node, JsonRecord& record) {
    for (auto field_result : object) {
      ondemand::field field;
      if (error_code error = std::move(field_result).get(field)) return error;
      std::string_view key;
      if (error_code error = field.unescaped_key().get(key)) return error;
      const std::optional<std::size_t> child = fields.Child(node, key);
      if (!child) continue;  // the loop skips the value
      if (error_code error = WalkValue(field.value(), *child, record)) return error;
    }
    return simdjson::SUCCESS;
  }

  error_code WalkValue(ondemand::value value, std::size_t node, JsonRecord& record) {
    const JsonFieldSet::Node& here = fields.node(node);
    ondemand::json_type type;
    if (error_code error = value.type().get(type)) return error;
    switch (type) {
      case ondemand::json_type::object: {
        if (here.children.empty()) return simdjson::SUCCESS;
        ondemand::object object;
        if (error_code error = value.get_object().get(object)) return error;
        return WalkObject(object, node, record);
      }
      case ondemand::json_type::array: {
        ondemand::array array;
        if (error_code error = value.get_array().get(array)) return error;
        if (here.slot) record.Set(*here.slot, JsonKind::kArray, {});
        std::size_t index = 0;
        for (auto element_result : array) {
          ondemand::value element;
          if (error_code error = std::move(element_result).get(element)) return error;
          std::optional<std::size_t> child;
          if (!here.children.empty()) {
            index_key = std::to_string(index);
            child = fields.Child(node, index_key);
          }
          ++index;
          if (child) {
            if (error_code error = WalkValue(element, *child, record)) return error;
          } else if (here.slot) {
            if (error_code error = AppendScalar(element, *here.slot, record)) return error;
          }
        }
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::string: {
        if (!here.slot) return simdjson::SUCCESS;
        std::string_view text;
        if (error_code error = value.get_string().get(text)) return error;
        record.Set(*here.slot, JsonKind::kString, text);
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::number: {
        if (!here.slot) return simdjson::SUCCESS;
        ondemand::number number;
        if (error_code error = value.get_number().get(number)) return error;  // validates it
        record.Set(*here.slot, JsonKind::kNumber, Trim(value.raw_json_token()));
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::boolean: {
        if (!here.slot) return simdjson::SUCCESS;
        bool flag = false;
        if (error_code error = value.get_bool().get(flag)) return error;
        record.Set(*here.slot, JsonKind::kBool, flag ? "true" : "false");
        return simdjson::SUCCESS;
      }
      case ondemand::json_type::null:
        if (bool is_null = false; value.is_null().get(is_null) || !is_null) return simdjson::INCORRECT_TYPE;
        return simdjson::SUCCESS;
    }
    return simdjson::SUCCESS;
  }

  error_code AppendScalar(ondemand::value element, std::size_t slot, JsonRecord& record) {
    ondemand::json_type type;
    if (error_code error = element.type().get(type)) return error;
    if (type == ondemand::json_type::string) {
      std::string_view text;
      if (error_code error = element.get_string().get(text)) return error;
      record.Append(slot, text);
    } else if (type == ondemand::json_type::number) {
      ondemand::number number;
      if (error_code error = element.get_number().get(number)) return error;
      record.Append(slot, Trim(element.raw_json_token()));
    }
    return simdjson::SUCCESS;  // nested arrays and objects in a list are not observables
  }
};

OndemandExtractor::OndemandExtractor(const JsonFieldSet& fields) : impl_(std::make_unique<Impl>(fields)) {}
OndemandExtractor::~OndemandExtractor() = default;

std::optional<std::string> OndemandExtractor::Extract(std::string_view json, JsonRecord& record) {
  record.Clear();
  std::string& padded = impl_->padded;
  padded.assign(json);
  padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  ondemand::document document;
  if (error_code error = impl_->parser.iterate(padded.data(), json.size(), padded.size()).get(document)) {
    return std::string("not valid JSON: ") + simdjson::error_message(error);
  }
  ondemand::object root;
  if (error_code error = document.get_object().get(root)) {
    if (error == simdjson::INCORRECT_TYPE) return std::string("not a JSON object");
    return std::string("not valid JSON: ") + simdjson::error_message(error);
  }
  if (error_code error = impl_->WalkObject(root, 0, record)) {
    return std::string("not valid JSON: ") + simdjson::error_message(error);
  }
  // A complete object followed by more text ({"a":1}} or two objects on one line).
  if (!document.current_location().error()) return std::string("not valid JSON: text after the end of the object");
  return std::nullopt;
}

}  // namespace hikeshi::intake::feed::detail
