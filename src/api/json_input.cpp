#include "detail/json_input.hpp"

namespace hikeshi::api::detail {

namespace {
constexpr int kMaxDepth = 32;

std::string Pointer(std::string_view key) { return "/" + std::string(key); }

// Refuses deep nesting before the parser sees it, so hostile bodies cannot exhaust the stack.
bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string_view TypeName(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_null()) return "null";
  if (v.is_array()) return "an array";
  return "an object";
}

Error WrongType(std::string_view key, std::string_view expected, const nlohmann::json& got) {
  return Error::InvalidArgument("must be " + std::string(expected) + ", not " + std::string(TypeName(got)),
                                Pointer(key));
}
}  // namespace

Result<JsonObjectReader> JsonObjectReader::Parse(std::string_view body) {
  if (body.empty()) return Fail(Error::InvalidArgument("the request body must be a JSON object; it is empty"));
  if (!NestingWithin(body, kMaxDepth)) {
    return Fail(Error::InvalidArgument("the JSON body is nested deeper than " + std::to_string(kMaxDepth) + " levels"));
  }
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Parse again with exceptions only to learn where it broke; bodies are bounded in size.
    std::string where;
    try {
      const auto reparsed = nlohmann::json::parse(body);
      static_cast<void>(reparsed);
    } catch (const nlohmann::json::parse_error& e) {
      where = " at byte " + std::to_string(e.byte);
    }
    return Fail(Error::InvalidArgument("malformed JSON" + where));
  }
  if (!parsed.is_object()) {
    return Fail(Error::InvalidArgument("the request body must be a JSON object, not " + std::string(TypeName(parsed))));
  }
  return JsonObjectReader(std::move(parsed));
}

const nlohmann::json* JsonObjectReader::Take(std::string_view key) {
  known_.emplace(key);
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

Result<std::optional<std::string>> JsonObjectReader::String(std::string_view key) {
  const auto* v = Take(key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Fail(WrongType(key, "a string", *v));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> JsonObjectReader::RequiredString(std::string_view key) {
  HIKESHI_TRY(auto value, String(key));
  if (!value) return Fail(Error::InvalidArgument("is required", Pointer(key)));
  return std::move(*value);
}

Result<std::optional<std::optional<std::string>>> JsonObjectReader::NullableString(std::string_view key) {
  using R = std::optional<std::optional<std::string>>;
  const auto* v = Take(key);
  if (!v) return R();
  if (v->is_null()) return R(std::optional<std::string>());
  if (!v->is_string()) return Fail(WrongType(key, "a string or null", *v));
  return R(v->get<std::string>());
}

Result<std::optional<std::int64_t>> JsonObjectReader::Integer(std::string_view key) {
  const auto* v = Take(key);
  if (!v) return std::optional<std::int64_t>();
  if (!v->is_number_integer()) return Fail(WrongType(key, "an integer", *v));
  return std::optional<std::int64_t>(v->get<std::int64_t>());
}

Result<std::optional<std::optional<std::int64_t>>> JsonObjectReader::NullableInteger(std::string_view key) {
  using R = std::optional<std::optional<std::int64_t>>;
  const auto* v = Take(key);
  if (!v) return R();
  if (v->is_null()) return R(std::optional<std::int64_t>());
  if (!v->is_number_integer()) return Fail(WrongType(key, "an integer or null", *v));
  return R(v->get<std::int64_t>());
}

Result<std::optional<bool>> JsonObjectReader::Bool(std::string_view key) {
  const auto* v = Take(key);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return Fail(WrongType(key, "true or false", *v));
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<std::vector<std::string>>> JsonObjectReader::StringArray(std::string_view key) {
  const auto* v = Take(key);
  if (!v) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return Fail(WrongType(key, "an array of strings", *v));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    if (!item.is_string()) {
      return Fail(Error::InvalidArgument("must be a string, not " + std::string(TypeName(item)),
                                         Pointer(key) + "/" + std::to_string(i)));
    }
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::vector<core::RawObservable>>> JsonObjectReader::Observables(std::string_view key) {
  using R = std::optional<std::vector<core::RawObservable>>;
  const auto* v = Take(key);
  if (!v) return R();
  if (!v->is_array()) return Fail(WrongType(key, "an array of {type, value} objects", *v));
  std::vector<core::RawObservable> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    const std::string at = Pointer(key) + "/" + std::to_string(i);
    if (!item.is_object()) return Fail(Error::InvalidArgument("must be an object with type and value", at));
    for (const auto& [name, value] : item.items()) {
      if (name != "type" && name != "value") return Fail(Error::InvalidArgument("unknown field", at + "/" + name));
      if (!value.is_string()) return Fail(Error::InvalidArgument("must be a string", at + "/" + name));
    }
    if (!item.contains("type")) return Fail(Error::InvalidArgument("is required", at + "/type"));
    if (!item.contains("value")) return Fail(Error::InvalidArgument("is required", at + "/value"));
    out.push_back({item["type"].get<std::string>(), item["value"].get<std::string>()});
  }
  return R(std::move(out));
}

Result<void> JsonObjectReader::RejectUnknownFields() const {
  for (const auto& [name, value] : object_.items()) {
    if (!known_.contains(name)) return Fail(Error::InvalidArgument("unknown field", Pointer(name)));
  }
  return {};
}

}  // namespace hikeshi::api::detail
