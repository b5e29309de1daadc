#include "hikeshi/core/constituencies.hpp"

#include <charconv>

#include "detail/text.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
Result<std::uint32_t> ParseAsn(std::string_view text, const std::string& field) {
  HIKESHI_TRY(const auto normalised, AtField(NormalizeObservable(ObservableType::kAsn, text), field));
  std::uint32_t asn = 0;
  const std::string_view digits = std::string_view(normalised.value).substr(2);
  std::from_chars(digits.data(), digits.data() + digits.size(), asn);
  return asn;
}
}  // namespace

Result<Constituency> Constituencies::Add(const Principal& actor, const NewConstituency& request) {
  if (actor.role != Role::kAdmin) return Fail(Error::PermissionDenied("only an admin may add constituencies"));
  HIKESHI_CHECK(detail::CheckName(request.name, "constituency name", "/name"));
  HIKESHI_CHECK(detail::CheckText(request.description, 4000, false, "/description"));
  Constituency c;
  c.name = request.name;
  c.description = request.description;
  for (std::size_t i = 0; i < request.cidrs.size(); ++i) {
    HIKESHI_TRY(auto cidr, AtField(NormalizeCidr(request.cidrs[i]), "/cidrs/" + std::to_string(i)));
    c.cidrs.push_back(std::move(cidr));
  }
  for (std::size_t i = 0; i < request.asns.size(); ++i) {
    HIKESHI_TRY(const auto asn, ParseAsn(request.asns[i], "/asns/" + std::to_string(i)));
    c.asns.push_back(asn);
  }
  for (std::size_t i = 0; i < request.domains.size(); ++i) {
    HIKESHI_TRY(auto domain, AtField(NormalizeDomain(request.domains[i]), "/domains/" + std::to_string(i)));
    c.domains.push_back(std::move(domain));
  }
  c.created_at = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto existing, tx.FindConstituency(c.name));
    if (existing) return Fail(Error::Conflict("constituency '" + c.name + "' already exists"));
    HIKESHI_TRY(c, tx.CreateConstituency({actor.username, c.created_at}, c));
    return {};
  }));
  return c;
}

Result<std::vector<Constituency>> Constituencies::List(const Principal& actor) {
  std::vector<Constituency> all;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(all, r.ListConstituencies());
    return {};
  }));
  std::erase_if(all, [&](const Constituency& c) { return !actor.scope.Allows(c.id); });
  return all;
}

}  // namespace hikeshi::core
