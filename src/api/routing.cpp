#include "detail/routing.hpp"

#include <charconv>

#include "detail/headers.hpp"

namespace hikeshi::api::detail {

HttpResponse Json(int status, const nlohmann::ordered_json& body) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  AddSecurityHeaders(response);
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse Csv(std::string body, std::string_view filename) {
  HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "text/csv; charset=utf-8");
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + std::string(filename) + "\"");
  AddSecurityHeaders(response);
  response.body = std::move(body);
  return response;
}

HttpResponse NoContent() {
  HttpResponse response;
  response.status = 204;
  AddSecurityHeaders(response);
  return response;
}

std::optional<std::string> QueryReader::Get(std::string_view name) {
  known_.emplace(name);
  const auto* v = request_.Query(name);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

Result<std::optional<int>> QueryReader::Int(std::string_view name) {
  const auto v = Get(name);
  if (!v) return std::optional<int>();
  int out = 0;
  const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return Fail(Error::InvalidArgument("query parameter must be an integer", "/" + std::string(name)));
  }
  return std::optional<int>(out);
}

Result<std::optional<std::int64_t>> QueryReader::Cursor() {
  const auto v = Get("cursor");
  if (!v) return std::optional<std::int64_t>();
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(v->data() + (v->empty() ? 0 : 1), v->data() + v->size(), id);
  if (v->empty() || (*v)[0] != 'k' || ec != std::errc() || ptr != v->data() + v->size() || id <= 0) {
    return Fail(Error::InvalidArgument("not a cursor this server issued", "/cursor"));
  }
  return std::optional<std::int64_t>(id);
}

Result<void> QueryReader::RejectUnknown() const {
  for (const auto& [name, value] : request_.query) {
    if (!known_.contains(name)) return Fail(Error::InvalidArgument("unknown query parameter", "/" + name));
  }
  return {};
}

nlohmann::ordered_json NextCursor(const std::optional<std::int64_t>& next) {
  return next ? nlohmann::ordered_json("k" + std::to_string(*next)) : nlohmann::ordered_json(nullptr);
}

}  // namespace hikeshi::api::detail
