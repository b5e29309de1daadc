#include "hikeshi/core/mail_codec.hpp"

#include <nlohmann/json.hpp>

namespace hikeshi::core {
namespace {

using nlohmann::ordered_json;

ordered_json Encode(const AbuseReport& a) {
  ordered_json j;
  j["format"] = a.format;
  j["report_type"] = a.report_type;
  j["source_ip"] = a.source_ip;
  j["source_port"] = a.source_port ? ordered_json(*a.source_port) : ordered_json(nullptr);
  j["reported_uri"] = a.reported_uri;
  j["reported_domain"] = a.reported_domain;
  j["user_agent"] = a.user_agent;
  j["arrival_date"] = a.arrival_date ? ordered_json(common::ToMicros(*a.arrival_date)) : ordered_json(nullptr);
  j["original_message"] = a.original_message;
  j["category"] = a.category ? ordered_json(a.category->ToString()) : ordered_json(nullptr);
  return j;
}

Result<AbuseReport> DecodeAbuse(const ordered_json& j) {
  AbuseReport a;
  a.format = j.at("format").get<std::string>();
  a.report_type = j.at("report_type").get<std::string>();
  a.source_ip = j.at("source_ip").get<std::string>();
  if (!j.at("source_port").is_null()) a.source_port = j.at("source_port").get<int>();
  a.reported_uri = j.at("reported_uri").get<std::string>();
  a.reported_domain = j.at("reported_domain").get<std::string>();
  a.user_agent = j.at("user_agent").get<std::string>();
  if (!j.at("arrival_date").is_null()) a.arrival_date = common::FromMicros(j.at("arrival_date").get<std::int64_t>());
  a.original_message = j.at("original_message").get<std::string>();
  if (!j.at("category").is_null()) {
    const auto text = j.at("category").get<std::string>();
    auto parsed = ParseCategory(text);
    if (!parsed) return Fail(Error::DataLoss("stored abuse report has an unknown category: " + text));
    a.category = parsed->category;
  }
  return a;
}

}  // namespace

std::string EncodeMailDetails(const MailMessage& m) {
  ordered_json j;
  j["to"] = m.to;
  j["references"] = m.references;
  ordered_json attachments = ordered_json::array();
  for (const auto& a : m.attachments) {
    attachments.push_back({{"sha256", a.sha256},
                           {"filename", a.filename},
                           {"content_type", a.content_type},
                           {"magic_type", a.magic_type},
                           {"size", a.size}});
  }
  j["attachments"] = std::move(attachments);
  ordered_json signatures = ordered_json::array();
  for (const auto& s : m.signatures) {
    signatures.push_back({{"validity", SignatureValidityName(s.validity)},
                          {"fingerprint", s.fingerprint},
                          {"signer", s.signer},
                          {"signed_at", s.signed_at ? ordered_json(common::ToMicros(*s.signed_at)) : nullptr}});
  }
  j["signatures"] = std::move(signatures);
  j["abuse"] = m.abuse ? Encode(*m.abuse) : ordered_json(nullptr);
  j["flags"] = m.flags;
  j["problems"] = m.problems;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> DecodeMailDetails(std::string_view json, MailMessage& m) {
  const auto j = ordered_json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Fail(Error::DataLoss("stored mail details are not JSON"));
  try {
    m.to = j.at("to").get<std::vector<std::string>>();
    m.references = j.at("references").get<std::vector<std::string>>();
    m.attachments.clear();
    for (const auto& a : j.at("attachments")) {
      m.attachments.push_back({a.at("sha256").get<std::string>(), a.at("filename").get<std::string>(),
                               a.at("content_type").get<std::string>(), a.at("magic_type").get<std::string>(),
                               a.at("size").get<std::int64_t>()});
    }
    m.signatures.clear();
    for (const auto& s : j.at("signatures")) {
      SignatureCheck check;
      const auto validity = s.at("validity").get<std::string>();
      auto parsed = ParseSignatureValidity(validity);
      if (!parsed) return Fail(Error::DataLoss("stored signature has an unknown validity: " + validity));
      check.validity = *parsed;
      check.fingerprint = s.at("fingerprint").get<std::string>();
      check.signer = s.at("signer").get<std::string>();
      if (!s.at("signed_at").is_null()) check.signed_at = common::FromMicros(s.at("signed_at").get<std::int64_t>());
      m.signatures.push_back(std::move(check));
    }
    m.abuse.reset();
    if (!j.at("abuse").is_null()) {
      HIKESHI_TRY(m.abuse, DecodeAbuse(j.at("abuse")));
    }
    m.flags = j.at("flags").get<std::vector<std::string>>();
    m.problems = j.at("problems").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return Fail(Error::DataLoss(std::string("stored mail details are malformed: ") + e.what()));
  }
  return {};
}

}  // namespace hikeshi::core
