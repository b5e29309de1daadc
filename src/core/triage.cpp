#include "hikeshi/core/triage.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <arpa/inet.h>

#include "hikeshi/common/utf8.hpp"
#include "hikeshi/core/priority.hpp"

#include "detail/text.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {

constexpr std::array<std::string_view, 3> kDispositions = {"none", "spam", "out-of-scope"};
constexpr std::string_view kUnsigned = "unsigned";
// An error message quotes what was written; a pasted megabyte must not come back whole.
constexpr std::size_t kMaxQuoted = 80;

std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuoted) return "'" + std::string(text) + "'";
  std::size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  return "'" + std::string(text.substr(0, cut)) + "...'";
}

// ---- Addresses: one 128-bit space, IPv4 as ::ffff:a.b.c.d ---------------------------------------

struct Prefix {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  int length = 0;  // 0..128; an IPv4 /24 is 120 here
  bool operator==(const Prefix&) const = default;
};

struct PrefixHash {
  std::size_t operator()(const Prefix& p) const {
    return std::hash<std::uint64_t>{}(p.hi * 0x9E3779B97F4A7C15ULL ^ p.lo) ^ static_cast<std::size_t>(p.length);
  }
};

Prefix Masked(Prefix p, int length) {
  const auto keep = [](std::uint64_t word, int bits) -> std::uint64_t {
    if (bits <= 0) return 0;
    if (bits >= 64) return word;
    return word & (~std::uint64_t{0} << (64 - bits));
  };
  return {keep(p.hi, length), keep(p.lo, length - 64), length};
}

// An address or prefix in the normalised text form core stores ("192.0.2.1", "2001:db8::/32").
std::optional<Prefix> ParseNormalised(std::string_view text) {
  int length = -1;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    length = value;
    text = text.substr(0, slash);
  }
  const std::string terminated(text);
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, terminated.c_str(), bytes.data() + 12) != 1) return std::nullopt;
    bytes[10] = 0xFF;
    bytes[11] = 0xFF;
    v4 = true;
  } else if (inet_pton(AF_INET6, terminated.c_str(), bytes.data()) != 1) {
    return std::nullopt;
  }
  if (length < 0) {
    length = 128;
  } else if (v4) {
    length += 96;
  }
  if (length > 128) return std::nullopt;
  Prefix p;
  for (int i = 0; i < 8; ++i) p.hi = (p.hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) p.lo = (p.lo << 8) | bytes[i];
  return Masked(p, length);
}

// The host of a normalised URL ("http://user@Host:8080/x" -> "host", "http://[2001:db8::1]/" ->
// "2001:db8::1").
std::string_view UrlHost(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? std::string_view{} : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

// IPv4 addresses live in ::ffff:0:0/96 here. As in routing, an IPv6 prefix shorter than /96
// (::/0 included) does not catch them: a rule author writing 2000::/3 means IPv6 hosts.
constexpr int kIpv4Offset = 96;
bool IsIpv4(const Prefix& p) { return p.hi == 0 && (p.lo >> 32) == 0xFFFF && p.length >= kIpv4Offset; }

bool LooksLikeIp(std::string_view host) {
  return !host.empty() &&
         (host.find(':') != std::string_view::npos || host.find_first_not_of("0123456789.") == std::string_view::npos);
}

// What of an observable the watch lists compare: its address (or prefix), its domain.
std::optional<Prefix> AddressOf(const Observable& o) {
  switch (o.type) {
    case ObservableType::kIpv4:
    case ObservableType::kIpv6:
    case ObservableType::kCidr:
      return ParseNormalised(o.value);
    case ObservableType::kUrl: {
      const std::string_view host = UrlHost(o.value);
      return LooksLikeIp(host) ? ParseNormalised(host) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::string_view DomainOf(const Observable& o) {
  std::string_view domain;
  if (o.type == ObservableType::kDomain) {
    domain = o.value;
  } else if (o.type == ObservableType::kUrl) {
    domain = UrlHost(o.value);
    if (LooksLikeIp(domain)) return {};
  } else if (o.type == ObservableType::kEmail) {
    const auto at = o.value.rfind('@');
    if (at != std::string::npos) domain = std::string_view(o.value).substr(at + 1);
  }
  while (domain.ends_with('.')) domain.remove_suffix(1);
  return domain;
}

// ---- Keyword folding and search --------------------------------------------------------------

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Half-width katakana U+FF61..U+FF9F and the full-width forms they stand for (JIS X 0201 order).
constexpr std::array<char16_t, 63> kHalfWidthKana = {
    u'。', u'「', u'」', u'、', u'・', u'ヲ', u'ァ', u'ィ', u'ゥ', u'ェ', u'ォ', u'ャ', u'ュ', u'ョ', u'ッ', u'ー',
    u'ア', u'イ', u'ウ', u'エ', u'オ', u'カ', u'キ', u'ク', u'ケ', u'コ', u'サ', u'シ', u'ス', u'セ', u'ソ', u'タ',
    u'チ', u'ツ', u'テ', u'ト', u'ナ', u'ニ', u'ヌ', u'ネ', u'ノ', u'ハ', u'ヒ', u'フ', u'ヘ', u'ホ', u'マ', u'ミ',
    u'ム', u'メ', u'モ', u'ヤ', u'ユ', u'ヨ', u'ラ', u'リ', u'ル', u'レ', u'ロ', u'ワ', u'ン', u'゛', u'゜'};

bool TakesVoicedMark(char32_t kana) {
  return (kana >= U'カ' && kana <= U'ド' && kana != U'ッ') || (kana >= U'ハ' && kana <= U'ホ');
}

// The kana a voiced (dakuten) or semi-voiced (handakuten) mark makes of `kana`, or 0.
char32_t Voiced(char32_t kana, bool semi) {
  if (semi) {
    if (kana >= U'ハ' && kana <= U'ホ' && (kana - U'ハ') % 3 == 0) return kana + 2;
    return 0;
  }
  if (kana == U'ウ') return U'ヴ';
  if (!TakesVoicedMark(kana)) return 0;
  // カ..ヂ step 2; ツ テ ト step 2 from ツ; ハ row step 3.
  if (kana >= U'ハ') return (kana - U'ハ') % 3 == 0 ? kana + 1 : 0;
  if (kana >= U'ツ') return (kana - U'ツ') % 2 == 0 ? kana + 1 : 0;
  return (kana - U'カ') % 2 == 0 ? kana + 1 : 0;
}

class KeywordAutomaton {
 public:
  // Returns the keyword's id; the same folded keyword added twice gets one id.
  std::size_t Add(const std::string& folded) {
    if (const auto it = ids_.find(folded); it != ids_.end()) return it->second;
    int node = 0;
    for (const char c : folded) {
      const auto byte = static_cast<unsigned char>(c);
      int next = Child(node, byte);
      if (next < 0) {
        next = static_cast<int>(nodes_.size());
        nodes_[node].edges.insert(std::upper_bound(nodes_[node].edges.begin(), nodes_[node].edges.end(),
                                                   std::pair<unsigned char, int>{byte, -1}),
                                  {byte, next});
        nodes_.emplace_back();
      }
      node = next;
    }
    const std::size_t id = ids_.size();
    ids_.emplace(folded, id);
    nodes_[node].out.push_back(id);
    return id;
  }
  std::size_t size() const { return ids_.size(); }

  // Failure and dictionary links, breadth first (Aho and Corasick, 1975).
  void Build() {
    std::vector<int> queue;
    for (const auto& [byte, child] : nodes_[0].edges) {
      nodes_[child].fail = 0;
      queue.push_back(child);
    }
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const int node = queue[head];
      for (const auto& [byte, child] : nodes_[node].edges) {
        int f = nodes_[node].fail;
        while (f > 0 && Child(f, byte) < 0) f = nodes_[f].fail;
        const int target = Child(f, byte);
        nodes_[child].fail = (target >= 0 && target != child) ? target : 0;
        const int fail = nodes_[child].fail;
        nodes_[child].dict = nodes_[fail].out.empty() ? nodes_[fail].dict : fail;
        queue.push_back(child);
      }
    }
  }

  // Marks in `found` every keyword id that occurs in `text`. Linear: each node's outputs are
  // reported once per call, so overlapping keywords ("a", "aa", "aaa") cost nothing extra.
  void Search(std::string_view text, std::vector<bool>& found) const {
    if (ids_.empty()) return;
    std::vector<bool> reported(nodes_.size(), false);
    int node = 0;
    for (const char c : text) {
      const auto byte = static_cast<unsigned char>(c);
      int next = Child(node, byte);
      while (next < 0 && node > 0) {
        node = nodes_[node].fail;
        next = Child(node, byte);
      }
      node = next < 0 ? 0 : next;
      for (int v = nodes_[node].out.empty() ? nodes_[node].dict : node; v > 0 && !reported[v]; v = nodes_[v].dict) {
        reported[v] = true;
        for (const std::size_t id : nodes_[v].out) found[id] = true;
      }
    }
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int>> edges;  // sorted by byte
    std::vector<std::size_t> out;                      // keywords ending here
    int fail = 0;
    int dict = 0;  // the nearest node on the failure chain with outputs; 0 for none
  };

  int Child(int node, unsigned char byte) const {
    const auto& edges = nodes_[node].edges;
    const auto it = std::lower_bound(edges.begin(), edges.end(), std::pair<unsigned char, int>{byte, -1});
    return (it != edges.end() && it->first == byte) ? it->second : -1;
  }

  std::vector<Node> nodes_ = std::vector<Node>(1);
  std::unordered_map<std::string, std::size_t> ids_;
};

// ---- Sources ---------------------------------------------------------------------------------

struct SourcePattern {
  enum class Kind { kExact, kAtDomain, kSubdomain } kind = Kind::kExact;
  std::string value;  // lower case; the domain for kAtDomain and kSubdomain
  std::size_t entry = 0;
};

struct SourceParts {
  std::string whole;    // lower case, as written
  std::string address;  // the addr-spec ("Name <a@b>" -> "a@b"), lower case
  std::string domain;   // after the address's last '@', empty when none
  std::string feed;     // before the ':' of "format:source", for feed reports
};

SourceParts SplitSource(std::string_view source, Channel channel) {
  SourceParts parts;
  parts.whole = detail::AsciiLowerCopy(detail::Trim(source));
  std::string_view address = parts.whole;
  const auto open = address.rfind('<');
  if (open != std::string_view::npos) {
    const auto close = address.find('>', open);
    address = address.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  }
  parts.address = std::string(detail::Trim(address));
  if (const auto at = parts.address.rfind('@'); at != std::string::npos) parts.domain = parts.address.substr(at + 1);
  while (parts.domain.ends_with('.')) parts.domain.pop_back();
  if (channel == Channel::kFeed) parts.feed = parts.whole.substr(0, parts.whole.find(':'));
  return parts;
}

// ---- The compiled form -----------------------------------------------------------------------

struct CategoryEntry {
  enum class Kind { kExact, kClass, kGuide } kind = Kind::kExact;
  Category category;  // kExact; rsit_class alone for kClass
  GuideCategory guide = GuideCategory::kOther;
  std::size_t entry = 0;
};

template <typename T>
struct Entry {
  T value;
  std::size_t entry = 0;  // its position in the rule's list, for the explanation
};

struct CompiledRule {
  std::size_t index = 0;
  const TriageRule* rule = nullptr;
  std::vector<CategoryEntry> category;
  std::vector<Entry<std::string>> constituency;
  std::vector<Entry<Channel>> channel;
  std::vector<SourcePattern> source;
  std::vector<Entry<std::string>> format;
  std::unordered_map<Prefix, std::size_t, PrefixHash> prefixes;
  std::vector<int> prefix_lengths;  // distinct, ascending
  std::unordered_map<std::string, std::size_t> domains;
  std::vector<Entry<std::size_t>> keywords;                  // keyword ids in the automaton
  std::vector<Entry<std::optional<SignatureValidity>>> pgp;  // nullopt: unsigned

  std::optional<ParsedCategory> set_category;
  std::optional<Tlp> set_tlp;
  std::optional<TriageDisposition> set_disposition;
  bool set_priority = false;  // impact and urgency both valid
};

}  // namespace

struct CompiledRuleSet::Impl {
  RuleSet rules;
  std::vector<CompiledRule> compiled;  // enabled rules only, in order
  KeywordAutomaton keywords;
};

namespace {

std::string Ordinal(std::size_t index) { return "no. " + std::to_string(index + 1); }

// Builds the compiled form. Strict: the first problem is the error. Lenient: what cannot be read is
// left out (an entry never matches, an action is skipped).
class Compiler {
 public:
  Compiler(CompiledRuleSet::Impl& out, bool strict) : out_(out), strict_(strict) {}

  Result<void> Run() {
    const RuleSet& set = out_.rules;
    if (strict_ && set.version < 0) {
      return Fail(Error::InvalidArgument("the rule set's version must not be negative", "/version"));
    }
    if (strict_ && set.rules.size() > kMaxTriageRules) {
      return Fail(Error::TooLarge("the rule set has " + std::to_string(set.rules.size()) + " rules; at most " +
                                      std::to_string(kMaxTriageRules) + " are allowed",
                                  "/rules"));
    }
    std::unordered_map<std::string_view, std::size_t> ids;
    for (std::size_t i = 0; i < set.rules.size(); ++i) {
      const TriageRule& rule = set.rules[i];
      index_ = i;
      rule_ = &rule;
      if (auto ok = detail::CheckName(rule.id, "the rule's id", Pointer("id")); !ok) {
        HIKESHI_CHECK(Problem(Error::InvalidArgument(
            "rule " + Ordinal(i) + " (" + Quoted(rule.id) + "): id: " + ok.error().message(), Pointer("id"))));
      }
      if (const auto [it, fresh] = ids.emplace(rule.id, i); !fresh) {
        HIKESHI_CHECK(Problem(Bad("id", "is already the id of rule " + Ordinal(it->second) + "; ids must be unique",
                                  std::nullopt, rule.id)));
      }
      if (rule.description.size() > kMaxTriageTextBytes || !common::IsValidUtf8(rule.description)) {
        HIKESHI_CHECK(Problem(
            Bad("description", "must be UTF-8 text of at most " + std::to_string(kMaxTriageTextBytes) + " bytes")));
      }
      CompiledRule compiled;
      compiled.index = i;
      compiled.rule = &rule;
      HIKESHI_CHECK(CompileMatch(rule.match, compiled));
      HIKESHI_CHECK(CompileActions(rule.set, compiled));
      if (rule.enabled) out_.compiled.push_back(std::move(compiled));
    }
    out_.keywords.Build();
    return {};
  }

 private:
  std::string Pointer(std::string_view key) const {
    return "/rules/" + std::to_string(index_) + "/" + std::string(key);
  }

  // "rule 'phishing' (no. 3): match.category[2] 'phsihing' is not ..."
  Error Bad(std::string_view key, std::string_view message, std::optional<std::size_t> entry = std::nullopt,
            std::string_view value = {}) const {
    std::string where = std::string(key);
    std::string pointer = Pointer(key);
    for (char& c : pointer) c = c == '.' ? '/' : c;
    if (entry) {
      where += "[" + std::to_string(*entry + 1) + "]";
      pointer += "/" + std::to_string(*entry);
    }
    std::string text = "rule " + Quoted(rule_->id) + " (" + Ordinal(index_) + "): " + where + ": ";
    if (entry || !value.empty()) text += Quoted(value) + " ";
    return Error::InvalidArgument(text + std::string(message), pointer);
  }

  Result<void> Problem(Error error) {
    if (strict_) return Fail(std::move(error));
    return {};
  }

  // Common checks on a condition's list; false when the entry is to be skipped.
  Result<bool> CheckEntry(std::string_view key, const std::vector<std::string>& list, std::size_t j) {
    if (list.size() > kMaxTriageListEntries) {
      Error e = Bad(key, "has " + std::to_string(list.size()) + " entries; at most " +
                             std::to_string(kMaxTriageListEntries) + " are allowed");
      if (strict_) return Fail(Error::TooLarge(e.message(), e.field()));
      return j < kMaxTriageListEntries;
    }
    if (++entries_ > kMaxTriageEntries) {
      if (strict_) {
        return Fail(Error::TooLarge(
            "the rule set's conditions hold more than " + std::to_string(kMaxTriageEntries) + " entries in all",
            Pointer(key)));
      }
      return false;
    }
    const std::string_view value = list[j];
    if (detail::Trim(value).empty()) {
      HIKESHI_CHECK(Problem(Bad(key, "is empty", j, value)));
      return false;
    }
    if (!common::IsValidUtf8(value)) {
      HIKESHI_CHECK(Problem(Bad(key, "is not UTF-8 text", j, "")));
      return false;
    }
    if (value.size() > kMaxTriageTextBytes) {
      HIKESHI_CHECK(Problem(Bad(key, "is longer than " + std::to_string(kMaxTriageTextBytes) + " bytes", j, value)));
      return false;
    }
    return true;
  }

  // Runs `read` over each entry of `list`; a refused entry is the error (strict) or skipped.
  template <typename Read>
  Result<void> Each(std::string_view key, const std::vector<std::string>& list, Read read) {
    for (std::size_t j = 0; j < list.size(); ++j) {
      HIKESHI_TRY(const bool usable, CheckEntry(key, list, j));
      if (!usable) continue;
      std::string problem = read(std::string_view(detail::Trim(list[j])), j);
      if (!problem.empty()) {
        HIKESHI_CHECK(Problem(Bad(key, problem, j, list[j])));
      }
    }
    return {};
  }

  Result<void> CompileMatch(const TriageMatch& m, CompiledRule& c) {
    HIKESHI_CHECK(Each("match.category", m.category, [&](std::string_view text, std::size_t j) -> std::string {
      CategoryEntry e;
      e.entry = j;
      if (text.find('/') != std::string_view::npos) {
        const auto parsed = ParseCategory(text);
        if (!parsed) return "is not an RSIT class/type (such as \"fraud/phishing\")";
        e.kind = CategoryEntry::Kind::kExact;
        e.category = parsed->category;
      } else if (const auto cls = RsitClassNamed(text)) {
        e.kind = CategoryEntry::Kind::kClass;
        e.category.rsit_class = *cls;
      } else if (const auto parsed = ParseCategory(text)) {
        e.kind = CategoryEntry::Kind::kGuide;
        e.guide = GuideCategoryOf(parsed->category, parsed->apt);
      } else {
        return "is not a category: give an RSIT class/type (\"fraud/phishing\"), an RSIT class (\"fraud\") or one "
               "of the guide's categories (Scan, Forged, Intrusion, Phishing, DDoS, Virus, Spam, APT)";
      }
      c.category.push_back(std::move(e));
      return {};
    }));
    HIKESHI_CHECK(Each("match.constituency", m.constituency, [&](std::string_view text, std::size_t j) -> std::string {
      if (auto ok = detail::CheckName(text, "a constituency name", ""); !ok) return ok.error().message();
      c.constituency.push_back({std::string(text), j});
      return {};
    }));
    HIKESHI_CHECK(Each("match.channel", m.channel, [&](std::string_view text, std::size_t j) -> std::string {
      const auto channel = ParseChannel(detail::AsciiLowerCopy(text));
      if (!channel) return "is not a channel (api, mail, web, feed, phone, manual)";
      c.channel.push_back({*channel, j});
      return {};
    }));
    HIKESHI_CHECK(Each("match.source", m.source, [&](std::string_view text, std::size_t j) -> std::string {
      SourcePattern p;
      p.entry = j;
      for (const char ch : text) {
        if (static_cast<unsigned char>(ch) < 0x20 || ch == ' ' || ch == 0x7F) {
          return "must not hold spaces or control characters";
        }
      }
      std::string_view domain;
      if (text.starts_with('@')) {
        p.kind = SourcePattern::Kind::kAtDomain;
        domain = text.substr(1);
      } else if (text.starts_with("*.")) {
        p.kind = SourcePattern::Kind::kSubdomain;
        domain = text.substr(2);
      }
      if (p.kind == SourcePattern::Kind::kExact) {
        p.value = detail::AsciiLowerCopy(text);
      } else {
        auto normalised = NormalizeDomain(domain);
        if (!normalised) return "does not end in a domain name: " + normalised.error().message();
        p.value = std::move(*normalised);
      }
      c.source.push_back(std::move(p));
      return {};
    }));
    HIKESHI_CHECK(Each("match.format", m.format, [&](std::string_view text, std::size_t j) -> std::string {
      const std::string lower = detail::AsciiLowerCopy(text);
      if (auto ok = detail::CheckName(lower, "a format", ""); !ok) return ok.error().message();
      c.format.push_back({lower, j});
      return {};
    }));
    HIKESHI_CHECK(Each("match.ip", m.ip, [&](std::string_view text, std::size_t j) -> std::string {
      std::string normalised;
      if (text.find('/') != std::string_view::npos) {
        auto cidr = NormalizeCidr(text);
        if (!cidr) return "is not an IP address or CIDR prefix: " + cidr.error().message();
        normalised = std::move(*cidr);
      } else {
        const auto type = text.find(':') != std::string_view::npos ? ObservableType::kIpv6 : ObservableType::kIpv4;
        auto address = NormalizeObservable(type, text);
        if (!address) return "is not an IP address or CIDR prefix: " + address.error().message();
        normalised = std::move(address->value);
      }
      const auto prefix = ParseNormalised(normalised);
      if (!prefix) return "is not an IP address or CIDR prefix";
      if (c.prefixes.emplace(*prefix, j).second) {
        const auto at = std::lower_bound(c.prefix_lengths.begin(), c.prefix_lengths.end(), prefix->length);
        if (at == c.prefix_lengths.end() || *at != prefix->length) c.prefix_lengths.insert(at, prefix->length);
      }
      return {};
    }));
    HIKESHI_CHECK(Each("match.domain", m.domain, [&](std::string_view text, std::size_t j) -> std::string {
      auto normalised = NormalizeDomain(text);
      if (!normalised) return "is not a domain name: " + normalised.error().message();
      c.domains.emplace(std::move(*normalised), j);
      return {};
    }));
    HIKESHI_CHECK(Each("match.keyword", m.keyword, [&](std::string_view text, std::size_t j) -> std::string {
      if (!common::IsValidUtf8(text)) return "is not UTF-8 text";
      for (const char ch : text) {
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) return "must not hold control characters";
      }
      const std::string folded = FoldForKeywords(text);
      if (folded.size() > kMaxTriageKeywordBytes) {
        return "is longer than " + std::to_string(kMaxTriageKeywordBytes) + " bytes";
      }
      c.keywords.push_back({out_.keywords.Add(folded), j});
      return {};
    }));
    HIKESHI_CHECK(Each("match.pgp", m.pgp, [&](std::string_view text, std::size_t j) -> std::string {
      const std::string lower = detail::AsciiLowerCopy(text);
      if (lower == kUnsigned) {
        c.pgp.push_back({std::nullopt, j});
        return {};
      }
      const auto validity = ParseSignatureValidity(lower);
      if (!validity)
        return "is not a signature validity (good, bad, unknown-key, expired-key, revoked-key, error, unsigned)";
      c.pgp.push_back({*validity, j});
      return {};
    }));
    return {};
  }

  Result<void> CheckWord(std::string_view key, const std::optional<std::string>& value, std::string_view what) {
    if (!value) return {};
    if (auto ok = detail::CheckName(*value, what, ""); !ok) {
      HIKESHI_CHECK(Problem(Bad(key, ok.error().message(), std::nullopt, *value)));
    }
    return {};
  }

  Result<void> CompileActions(const TriageActions& a, CompiledRule& c) {
    const bool empty = !a.category && !a.apt && !a.impact && !a.urgency && !a.owner && !a.team && !a.playbook &&
                       !a.tlp && !a.sla_class && !a.disposition && a.flag.empty();
    if (empty) {
      HIKESHI_CHECK(Problem(Bad("set",
                                "sets nothing: give at least one action (category, impact and urgency, owner, "
                                "team, playbook, tlp, sla_class, disposition, flag)")));
    }
    if (a.category) {
      c.set_category = ParseCategory(*a.category);
      if (!c.set_category) {
        HIKESHI_CHECK(Problem(Bad("set.category",
                                  "is not a category: give an RSIT class/type (\"fraud/phishing\") or one of the "
                                  "guide's categories",
                                  std::nullopt, *a.category)));
      }
    }
    const auto level = [&](std::string_view key, const std::optional<int>& value) -> Result<bool> {
      if (!value) return false;
      if (!IsValidLevel(*value)) {
        HIKESHI_CHECK(Problem(Bad(key, "is " + std::to_string(*value) + "; it must be 1 (highest) to 4 (lowest)")));
        return false;
      }
      return true;
    };
    HIKESHI_TRY(const bool impact_ok, level("set.impact", a.impact));
    HIKESHI_TRY(const bool urgency_ok, level("set.urgency", a.urgency));
    if (a.impact.has_value() != a.urgency.has_value()) {
      HIKESHI_CHECK(Problem(Bad(a.impact ? "set.impact" : "set.urgency",
                                "needs its partner: give impact and urgency together, since the priority is read "
                                "from both through the matrix")));
    }
    c.set_priority = impact_ok && urgency_ok;
    HIKESHI_CHECK(CheckWord("set.owner", a.owner, "a username"));
    HIKESHI_CHECK(CheckWord("set.team", a.team, "a team name"));
    HIKESHI_CHECK(CheckWord("set.playbook", a.playbook, "a playbook name"));
    HIKESHI_CHECK(CheckWord("set.sla_class", a.sla_class, "an SLA class"));
    if (a.tlp) {
      c.set_tlp = ParseTlp(*a.tlp);
      if (!c.set_tlp) {
        HIKESHI_CHECK(Problem(
            Bad("set.tlp", "is not a TLP 2.0 label (clear, green, amber, amber+strict, red)", std::nullopt, *a.tlp)));
      }
    }
    if (a.disposition) {
      c.set_disposition = ParseTriageDisposition(*a.disposition);
      if (!c.set_disposition) {
        HIKESHI_CHECK(Problem(
            Bad("set.disposition", "is not a disposition (none, spam, out-of-scope)", std::nullopt, *a.disposition)));
      }
    }
    if (a.flag.size() > kMaxTriageListEntries) {
      HIKESHI_CHECK(Problem(Bad("set.flag", "has too many entries")));
    }
    for (std::size_t j = 0; j < a.flag.size(); ++j) {
      if (auto ok = detail::CheckName(a.flag[j], "a flag", ""); !ok) {
        HIKESHI_CHECK(Problem(Bad("set.flag", ok.error().message(), j, a.flag[j])));
      }
    }
    return {};
  }

  static std::optional<std::string> RsitClassNamed(std::string_view text) {
    for (const auto& cls : RsitClasses()) {
      if (detail::EqualsIgnoreCase(cls.name, text)) return std::string(cls.name);
    }
    return std::nullopt;
  }

  CompiledRuleSet::Impl& out_;
  bool strict_;
  std::size_t index_ = 0;
  const TriageRule* rule_ = nullptr;
  std::size_t entries_ = 0;
};

// ---- Deciding --------------------------------------------------------------------------------

// What the keyword search found, computed on first need: most rules never look at text.
class KeywordHits {
 public:
  KeywordHits(const KeywordAutomaton& automaton, const TriageInput& input) : automaton_(automaton), input_(input) {}

  // "subject", "body", or empty when the keyword occurs in neither.
  std::string_view Where(std::size_t id) {
    if (!searched_) {
      subject_.assign(automaton_.size(), false);
      body_.assign(automaton_.size(), false);
      automaton_.Search(FoldForKeywords(input_.subject), subject_);
      automaton_.Search(FoldForKeywords(input_.body), body_);
      searched_ = true;
    }
    if (subject_[id]) return "subject";
    if (body_[id]) return "body";
    return {};
  }

 private:
  const KeywordAutomaton& automaton_;
  const TriageInput& input_;
  bool searched_ = false;
  std::vector<bool> subject_;
  std::vector<bool> body_;
};

struct Reasons {
  std::vector<std::string> items;
  void Add(std::string text) { items.push_back(std::move(text)); }
};

bool MatchRule(const CompiledRule& c, const TriageInput& in, const SourceParts& source, KeywordHits& hits,
               Reasons& why) {
  const TriageMatch& m = c.rule->match;
  if (!m.channel.empty()) {
    const auto it =
        std::find_if(c.channel.begin(), c.channel.end(), [&](const auto& e) { return e.value == in.channel; });
    if (it == c.channel.end()) return false;
    why.Add("channel " + std::string(ChannelName(in.channel)));
  }
  if (!m.category.empty()) {
    if (!in.category) return false;
    const CategoryEntry* hit = nullptr;
    for (const auto& e : c.category) {
      const bool ok = e.kind == CategoryEntry::Kind::kExact   ? e.category == *in.category
                      : e.kind == CategoryEntry::Kind::kClass ? e.category.rsit_class == in.category->rsit_class
                                                              : e.guide == GuideCategoryOf(*in.category, in.apt);
      if (ok) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) return false;
    why.Add("category " + in.category->ToString() + " matches " + Quoted(m.category[hit->entry]));
  }
  if (!m.constituency.empty()) {
    const auto it = std::find_if(c.constituency.begin(), c.constituency.end(),
                                 [&](const auto& e) { return !in.constituency.empty() && e.value == in.constituency; });
    if (it == c.constituency.end()) return false;
    why.Add("constituency " + in.constituency);
  }
  if (!m.format.empty()) {
    const std::string format = detail::AsciiLowerCopy(in.format);
    const auto it = std::find_if(c.format.begin(), c.format.end(),
                                 [&](const auto& e) { return !format.empty() && e.value == format; });
    if (it == c.format.end()) return false;
    why.Add("format " + format);
  }
  if (!m.source.empty()) {
    const SourcePattern* hit = nullptr;
    for (const auto& p : c.source) {
      bool ok = false;
      switch (p.kind) {
        case SourcePattern::Kind::kExact:
          ok = p.value == source.whole || (!source.address.empty() && p.value == source.address) ||
               (!source.domain.empty() && p.value == source.domain) || (!source.feed.empty() && p.value == source.feed);
          break;
        case SourcePattern::Kind::kAtDomain:
          ok = source.domain == p.value;
          break;
        case SourcePattern::Kind::kSubdomain:
          ok = source.domain.size() > p.value.size() && source.domain.ends_with(p.value) &&
               source.domain[source.domain.size() - p.value.size() - 1] == '.';
          break;
      }
      if (ok) {
        hit = &p;
        break;
      }
    }
    if (hit == nullptr) return false;
    why.Add("source " + Quoted(source.address.empty() ? source.whole : source.address) + " matches " +
            Quoted(m.source[hit->entry]));
  }
  if (!m.pgp.empty()) {
    const Entry<std::optional<SignatureValidity>>* hit = nullptr;
    for (const auto& e : c.pgp) {
      const bool ok = e.value ? std::any_of(in.signatures.begin(), in.signatures.end(),
                                            [&](const SignatureCheck& s) { return s.validity == *e.value; })
                              : in.signatures.empty();
      if (ok) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) return false;
    why.Add(hit->value ? "PGP signature " + std::string(SignatureValidityName(*hit->value)) : std::string("unsigned"));
  }
  // `ip` and `domain` together are one watch list: an observable on either is enough.
  if (!m.ip.empty() || !m.domain.empty()) {
    bool found = false;
    for (const auto& o : in.observables) {
      if (const auto address = m.ip.empty() ? std::nullopt : AddressOf(o)) {
        const int shortest = IsIpv4(*address) ? kIpv4Offset : 0;
        for (const int length : c.prefix_lengths) {
          if (length > address->length) break;
          if (length < shortest) continue;
          const auto it = c.prefixes.find(Masked(*address, length));
          if (it != c.prefixes.end()) {
            why.Add("observable " + o.value + " is in " + Quoted(m.ip[it->second]));
            found = true;
            break;
          }
        }
      }
      const std::string_view domain = m.domain.empty() ? std::string_view{} : DomainOf(o);
      for (std::string_view suffix = domain; !found && !suffix.empty();) {
        const auto it = c.domains.find(std::string(suffix));
        if (it != c.domains.end()) {
          why.Add("observable " + o.value + (suffix.size() == domain.size() ? " is " : " is under ") +
                  Quoted(m.domain[it->second]));
          found = true;
          break;
        }
        const auto dot = suffix.find('.');
        suffix = dot == std::string_view::npos ? std::string_view{} : suffix.substr(dot + 1);
      }
      if (found) break;
    }
    if (!found) return false;
  }
  if (!m.keyword.empty()) {
    bool found = false;
    for (const auto& e : c.keywords) {
      const std::string_view where = hits.Where(e.value);
      if (!where.empty()) {
        why.Add("keyword " + Quoted(m.keyword[e.entry]) + " in the " + std::string(where));
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  if (why.items.empty()) why.Add("no conditions (matches every report)");
  return true;
}

// Applies a matching rule's actions to the decision; returns what it set, for the explanation.
std::vector<std::string> Apply(const CompiledRule& c, TriageDecision& d) {
  const TriageActions& a = c.rule->set;
  std::vector<std::string> set;
  if (c.set_category) {
    d.category = c.set_category->category;
    d.apt = a.apt.value_or(c.set_category->apt);
    set.push_back("category " + d.category->ToString() + (*d.apt ? " (APT)" : ""));
  } else if (a.apt) {
    d.apt = *a.apt;
    set.push_back(*a.apt ? "APT" : "not APT");
  }
  if (c.set_priority) {
    d.impact = a.impact;
    d.urgency = a.urgency;
    d.priority = PriorityOf(*a.impact, *a.urgency);
    set.push_back("priority P" + std::to_string(*d.priority) + " (impact " + std::to_string(*a.impact) + ", urgency " +
                  std::to_string(*a.urgency) + ")");
  }
  const auto text = [&](std::optional<std::string>& field, const std::optional<std::string>& value,
                        std::string_view label) {
    if (!value) return;
    field = *value;
    set.push_back(std::string(label) + " " + *value);
  };
  text(d.owner, a.owner, "owner");
  text(d.team, a.team, "team");
  text(d.playbook, a.playbook, "playbook");
  text(d.sla_class, a.sla_class, "SLA class");
  if (c.set_tlp) {
    d.tlp = c.set_tlp;
    set.push_back(std::string(TlpName(*c.set_tlp)));
  }
  if (c.set_disposition) {
    d.disposition = c.set_disposition;
    set.push_back("disposition " + std::string(TriageDispositionName(*c.set_disposition)));
  }
  for (const auto& flag : a.flag) {
    if (std::find(d.flags.begin(), d.flags.end(), flag) == d.flags.end()) d.flags.push_back(flag);
    set.push_back("flag " + flag);
  }
  return set;
}

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

TriageDecision DecideWith(const CompiledRuleSet::Impl& impl, const TriageInput& input) {
  TriageDecision d;
  d.rule_set_version = impl.rules.version;
  const SourceParts source = SplitSource(input.source, input.channel);
  KeywordHits hits(impl.keywords, input);
  std::vector<std::string> lines;
  for (const CompiledRule& c : impl.compiled) {
    Reasons why;
    if (!MatchRule(c, input, source, hits, why)) continue;
    d.rule_id = c.rule->id;
    d.matched_rules.push_back(c.rule->id);
    const auto set = Apply(c, d);
    lines.push_back("rule " + Quoted(c.rule->id) + " (" + Ordinal(c.index) + ") matched: " + Join(why.items, "; ") +
                    ". Sets " + Join(set, ", ") + (c.rule->stop ? "; stops." : "; continues."));
    if (c.rule->stop) break;
  }
  d.explanation = lines.empty() ? "no rule matched (" + std::to_string(impl.compiled.size()) + " enabled rules tried)"
                                : Join(lines, "\n");
  return d;
}

}  // namespace

std::string_view TriageDispositionName(TriageDisposition disposition) {
  return kDispositions[static_cast<std::size_t>(disposition)];
}

std::optional<TriageDisposition> ParseTriageDisposition(std::string_view text) {
  const std::string lower = detail::AsciiLowerCopy(detail::Trim(text));
  for (std::size_t i = 0; i < kDispositions.size(); ++i) {
    if (kDispositions[i] == lower) return static_cast<TriageDisposition>(i);
  }
  return std::nullopt;
}

std::string FoldForKeywords(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      out += detail::AsciiLower(text[i]);
      ++i;
      continue;
    }
    const common::CodePoint cp = common::DecodeUtf8(text, i);
    if (cp.length == 0) {
      out += text[i];
      ++i;
      continue;
    }
    i += cp.length;
    char32_t c = cp.value;
    if (c >= 0xFF01 && c <= 0xFF5E) {
      out += detail::AsciiLower(static_cast<char>(c - 0xFEE0));
      continue;
    }
    if (c == 0x3000) {
      out += ' ';
      continue;
    }
    if (c >= 0xFF61 && c <= 0xFF9F) {
      c = kHalfWidthKana[c - 0xFF61];
      const common::CodePoint mark = common::DecodeUtf8(text, i);
      if (mark.length != 0 && (mark.value == 0xFF9E || mark.value == 0xFF9F)) {
        if (const char32_t joined = Voiced(c, mark.value == 0xFF9F)) {
          c = joined;
          i += mark.length;
        }
      }
    }
    AppendUtf8(out, c);
  }
  return out;
}

CompiledRuleSet::CompiledRuleSet(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
CompiledRuleSet::CompiledRuleSet(CompiledRuleSet&&) noexcept = default;
CompiledRuleSet& CompiledRuleSet::operator=(CompiledRuleSet&&) noexcept = default;
CompiledRuleSet::~CompiledRuleSet() = default;

Result<CompiledRuleSet> CompiledRuleSet::Compile(RuleSet rules) {
  auto impl = std::make_unique<Impl>();
  impl->rules = std::move(rules);
  HIKESHI_CHECK(Compiler(*impl, true).Run());
  return CompiledRuleSet(std::move(impl));
}

TriageDecision CompiledRuleSet::Decide(const TriageInput& input) const { return DecideWith(*impl_, input); }

const RuleSet& CompiledRuleSet::rules() const { return impl_->rules; }

Result<void> Validate(const RuleSet& rules) {
  // One code path for checking and compiling, so that what Validate accepts is what Compile builds.
  HIKESHI_CHECK(CompiledRuleSet::Compile(rules));
  return {};
}

TriageDecision Decide(const RuleSet& rules, const TriageInput& input) {
  CompiledRuleSet::Impl impl;
  impl.rules = rules;
  (void)Compiler(impl, false).Run();
  return DecideWith(impl, input);
}

}  // namespace hikeshi::core
