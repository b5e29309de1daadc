// Routes of the TOTP second factor: a user enrols, confirms and removes their own, and an admin
// resets another user's. Login itself (POST /session with "otp") stays in api.cpp.
#include "detail/json_input.hpp"
#include "detail/modules.hpp"

namespace hikeshi::api::detail {

namespace {
using nlohmann::ordered_json;

Result<std::string> CodeOf(const HttpRequest& request) {
  HIKESHI_TRY(auto body, JsonObjectReader::Parse(request.body));
  HIKESHI_TRY(auto code, body.RequiredString("code"));
  HIKESHI_CHECK(body.RejectUnknownFields());
  return code;
}

HttpResponse StateResponse(int status, core::TotpState state) {
  return Json(status, {{"state", std::string(core::TotpStateName(state))}});
}
}  // namespace

void AddSecondFactorRoutes(const RouteSink& add, const ApiServices& services) {
  core::Accounts& accounts = services.accounts;
  add("GET", "/api/v1/session/totp", true, [&accounts](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(const auto state, accounts.TotpStateOf(call.principal()));
    return StateResponse(200, state);
  });
  add("POST", "/api/v1/session/totp", true, [&accounts](Call& call) -> Result<HttpResponse> {
    if (!call.request.body.empty()) {
      HIKESHI_TRY(const auto body, JsonObjectReader::Parse(call.request.body));
      HIKESHI_CHECK(body.RejectUnknownFields());
    }
    HIKESHI_TRY(const auto enrolment, accounts.StartTotp(call.principal()));
    ordered_json out;
    out["state"] = std::string(core::TotpStateName(core::TotpState::kPending));
    out["secret"] = enrolment.secret_base32;
    out["uri"] = enrolment.uri;
    auto response = Json(201, out);
    // The secret must not linger in a cache.
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  });
  add("POST", "/api/v1/session/totp/confirm", true, [&accounts](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(const auto code, CodeOf(call.request));
    HIKESHI_CHECK(accounts.ConfirmTotp(call.principal(), code));
    return StateResponse(200, core::TotpState::kConfirmed);
  });
  add("DELETE", "/api/v1/session/totp", true, [&accounts](Call& call) -> Result<HttpResponse> {
    HIKESHI_TRY(const auto code, CodeOf(call.request));
    HIKESHI_CHECK(accounts.DisableTotp(call.principal(), code));
    return NoContent();
  });
  add("DELETE", "/api/v1/users/{username}/totp", true, [&accounts](Call& call) -> Result<HttpResponse> {
    HIKESHI_CHECK(accounts.ResetTotp(call.principal(), call.params[0]));
    return NoContent();
  });
}

}  // namespace hikeshi::api::detail
