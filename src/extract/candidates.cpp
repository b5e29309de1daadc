#include "detail/candidates.hpp"

#include <algorithm>
#include <utility>

#include "detail/chars.hpp"

namespace hikeshi::extract::detail {

namespace {

using core::ObservableType;

// Schemes a URL is recognised with. Others ("foo://") are too rare in reports to be worth the
// false positives; mailto: has no "//" and is found as an e-mail address.
constexpr std::array<std::string_view, 12> kSchemes{
    "http", "https", "ftp", "ftps", "sftp", "tftp", "ws", "wss", "ldap", "ldaps", "smb", "ssh",
};
constexpr std::size_t kMaxSchemeLength = 5;
// core refuses longer values; checking first avoids building megabyte strings from hostile input.
constexpr std::size_t kMaxUrlBytes = 4096;
constexpr std::size_t kMaxNameBytes = 253 * 4;  // 253 characters, each at most 4 bytes of UTF-8
constexpr std::size_t kMaxLabelBytes = 63 * 4;
constexpr std::size_t kMaxLocalPartBytes = 64;
constexpr std::size_t kMaxIpv6TextBytes = 64;
constexpr std::size_t kMaxCveDigits = 16;
constexpr std::size_t kMaxAsnDigits = 10;
// Up to this many results, duplicates are found by comparing; beyond it, through index_.
constexpr std::size_t kLinearSearchLimit = 32;

// Words that make the next dotted quad a version number: "version 1.0.0.1", "ビルド 10.0.1.2".
// ASCII keywords must start a word ("cover 1.2.3.4" is an address).
constexpr std::array<std::string_view, 7> kVersionWords{"version", "ver.",       "ver",   "v.",
                                                        "build",   "バージョン", "ビルド"};

bool IsDigitOrDot(char c) { return IsDigit(c) || c == '.'; }
bool IsIpv6Byte(char c) { return IsHex(c) || c == ':' || c == '.'; }
bool IsSchemeByte(char c) { return IsAlnum(c) || c == '+' || c == '-' || c == '.'; }
// RFC 5322 allows more in a local part ('!', '#', '{'...), but in prose those are punctuation
// around the address far more often than part of it.
bool IsLocalPartByte(char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool IsPrintableAscii(char c) { return c > 0x20 && c < 0x7f; }
// Everything up to the end of a URL's host and port; core decides what is valid in it.
bool IsAuthorityByte(char c) {
  return IsPrintableAscii(c) && c != '/' && c != '?' && c != '#' && c != '<' && c != '>' && c != '"' && c != '`';
}
// A URL's path, query and fragment end at whitespace, at a non-ASCII byte (Japanese text runs
// straight on: "https://example.jp/news/を参照") and at the characters that quote URLs in text.
bool IsPathByte(char c) { return IsPrintableAscii(c) && c != '<' && c != '>' && c != '"' && c != '`'; }

bool IsAsciiTitlecase(std::string_view label) {
  if (label.size() < 2 || !(label[0] >= 'A' && label[0] <= 'Z')) return false;
  return std::all_of(label.begin() + 1, label.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

bool NeedsIdna(std::string_view name) {
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!IsAscii(name[i])) return true;
    // An A-label ("xn--"): IDNA decides whether it decodes to a valid U-label.
    if (i + 4 <= name.size() && (i == 0 || name[i - 1] == '.') && EqualsIgnoreCase(name.substr(i, 4), "xn--")) {
      return true;
    }
  }
  return false;
}

std::string LowerCopy(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string KeyOf(ObservableType type, std::string_view value) {
  std::string key;
  key.reserve(value.size() + 1);
  key += static_cast<char>('a' + static_cast<int>(type));
  key += value;
  return key;
}

}  // namespace

CandidateScan::CandidateScan(const DomainRules& domains, const ExtractorOptions& options, std::string_view text,
                             std::string_view original, const SourceMap& source)
    : domains_(domains), options_(options), text_(text), original_(original), source_(source) {
  results_.reserve(16);
}

bool CandidateScan::OnTrigger(Trigger trigger, std::size_t end) {
  if (truncated_ || end > text_.size()) return !truncated_;
  switch (trigger) {
    case Trigger::kUrl:
      OnUrl(end);
      break;
    case Trigger::kEmail:
      OnEmail(end);
      break;
    case Trigger::kIpv4:
      OnIpv4(end);
      break;
    case Trigger::kIpv6:
      OnIpv6(end);
      break;
    case Trigger::kDomain:
      OnDomain(end);
      break;
    case Trigger::kMd5:
      OnHash(end, 32, ObservableType::kMd5);
      break;
    case Trigger::kSha1:
      OnHash(end, 40, ObservableType::kSha1);
      break;
    case Trigger::kSha256:
      OnHash(end, 64, ObservableType::kSha256);
      break;
    case Trigger::kCve:
      OnCve(end);
      break;
    case Trigger::kAsn:
      OnAsn(end);
      break;
    default:
      break;  // defanged forms are the caller's business
  }
  return !truncated_;
}

bool CandidateScan::Examined(Trigger trigger, std::size_t pos) const {
  return pos < examined_until_[static_cast<std::size_t>(trigger)];
}

void CandidateScan::MarkExamined(Trigger trigger, std::size_t begin, std::size_t end) {
  auto& until = examined_until_[static_cast<std::size_t>(trigger)];
  until = std::max(until, end);
  ++candidates_;
  if (end > begin) bytes_examined_ += end - begin;
}

// ---- Names ------------------------------------------------------------------------------------

LabelClass CandidateScan::ClassAt(std::size_t pos) const {
  if (pos >= text_.size()) return LabelClass::kNone;
  const char c = text_[pos];
  if (IsAscii(c)) return ClassOf(static_cast<unsigned char>(c));
  const CodePoint cp = DecodeAt(text_, pos);
  return cp.length == 0 ? LabelClass::kNone : ClassOf(cp.value);
}

LabelClass CandidateScan::ClassBefore(std::size_t pos) const {
  if (pos == 0 || pos > text_.size()) return LabelClass::kNone;
  const char c = text_[pos - 1];
  if (IsAscii(c)) return ClassOf(static_cast<unsigned char>(c));
  const CodePoint cp = DecodeBefore(text_, pos);
  return cp.length == 0 ? LabelClass::kNone : ClassOf(cp.value);
}

std::size_t CandidateScan::LabelEnd(std::size_t begin, LabelClass label_class) const {
  std::size_t pos = begin;
  while (pos < text_.size()) {
    const char c = text_[pos];
    if (IsAscii(c)) {
      if (ClassOf(static_cast<unsigned char>(c)) != label_class) break;
      ++pos;
      continue;
    }
    const CodePoint cp = DecodeAt(text_, pos);
    if (cp.length == 0 || ClassOf(cp.value) != label_class) break;
    pos += cp.length;
  }
  return pos;
}

std::size_t CandidateScan::LabelBegin(std::size_t end, std::size_t floor, LabelClass label_class) const {
  std::size_t pos = end;
  while (pos > floor) {
    const char c = text_[pos - 1];
    if (IsAscii(c)) {
      if (ClassOf(static_cast<unsigned char>(c)) != label_class) break;
      --pos;
      continue;
    }
    const CodePoint cp = DecodeBefore(text_, pos);
    if (cp.length == 0 || pos - cp.length < floor || ClassOf(cp.value) != label_class) break;
    pos -= cp.length;
  }
  return pos;
}

CandidateScan::NameSpan CandidateScan::ParseNameFrom(std::size_t begin) const {
  NameSpan span{begin, begin, 0, begin, false, begin};
  std::size_t pos = begin;
  for (;;) {
    const LabelClass label_class = ClassAt(pos);
    if (label_class == LabelClass::kNone) break;
    const std::size_t label_end = LabelEnd(pos, label_class);
    ++span.labels;
    span.last_label_begin = pos;
    span.last_label_cjk = label_class == LabelClass::kCjk;
    span.end = span.scanned_end = label_end;
    if (At(label_end) != '.') break;
    span.scanned_end = label_end + 1;
    // A dot followed by no label ends a sentence: "see example.com."
    if (ClassAt(label_end + 1) == LabelClass::kNone) break;
    pos = label_end + 1;
  }
  return span;
}

std::optional<CandidateScan::NameSpan> CandidateScan::ParseNameAround(std::size_t dot, std::size_t floor) const {
  std::size_t begin = dot;
  std::size_t first_label_end = dot;
  LabelClass first_class = LabelClass::kNone;
  std::size_t left_labels = 0;
  for (std::size_t label_end = dot; label_end > floor;) {
    const LabelClass label_class = ClassBefore(label_end);
    if (label_class == LabelClass::kNone) break;
    begin = LabelBegin(label_end, floor, label_class);
    first_label_end = label_end;
    first_class = label_class;
    ++left_labels;
    if (begin < floor + 2 || text_[begin - 1] != '.' || ClassBefore(begin - 1) == LabelClass::kNone) break;
    label_end = begin - 1;
  }
  if (left_labels == 0) return std::nullopt;

  if (first_class == LabelClass::kCjk) {
    // Japanese runs words together; a name cannot be told from the sentence before it. The usual
    // seam is a particle in hiragana followed by kanji or katakana ("から例え.jp"), so the name
    // starts after the last such seam. Names written in one script throughout stay whole.
    bool previous_hiragana = false;
    std::size_t cut = begin;
    for (std::size_t pos = begin; pos < first_label_end;) {
      const CodePoint cp = DecodeAt(text_, pos);
      if (cp.length == 0) break;
      const bool hiragana = IsHiragana(cp.value);
      if (previous_hiragana && !hiragana) cut = pos;
      previous_hiragana = hiragana;
      pos += cp.length;
    }
    begin = cut;
  } else {
    while (begin < first_label_end && text_[begin] == '-') ++begin;  // "--example.com" in a list
    if (begin == first_label_end) return std::nullopt;
  }

  NameSpan right = ParseNameFrom(dot + 1);
  if (right.labels == 0) return std::nullopt;
  right.begin = begin;
  right.labels += left_labels;
  return right;
}

std::optional<CandidateScan::Name> CandidateScan::RegistrableName(const NameSpan& span) const {
  if (span.end - span.begin > kMaxNameBytes) return std::nullopt;
  const std::string_view written = text_.substr(span.begin, span.end - span.begin);
  const bool idna = NeedsIdna(written);
  if (idna && !span.last_label_cjk) {
    // Japanese file names ("報告書.pdf") would otherwise each cost an IDNA conversion before the
    // suffix list refuses them: an ASCII TLD is checked on its own first.
    const std::string_view tld = text_.substr(span.last_label_begin, span.end - span.last_label_begin);
    if (!NeedsIdna(tld) && !domains_.IsKnownTld(LowerCopy(tld))) return std::nullopt;
  }
  const auto try_until = [&](std::size_t end) -> std::optional<Name> {
    const std::string_view text = text_.substr(span.begin, end - span.begin);
    std::optional<std::string> ascii = idna ? DomainRules::ToAscii(text) : LowerCopy(text);
    if (!ascii || !domains_.IsRegistrable(*ascii)) return std::nullopt;
    return Name{std::move(*ascii), end};
  };
  if (auto name = try_until(span.end)) return name;
  if (!span.last_label_cjk || span.end - span.last_label_begin > kMaxLabelBytes) return std::nullopt;
  // "example.みんなで確認": the TLD runs into the sentence. Try it shorter, one character at a time.
  for (std::size_t end = span.end;;) {
    const CodePoint cp = DecodeBefore(text_, end);
    if (cp.length == 0) return std::nullopt;
    end -= cp.length;
    if (end <= span.last_label_begin) return std::nullopt;
    if (auto name = try_until(end)) return name;
  }
}

// ---- Observables ------------------------------------------------------------------------------

void CandidateScan::OnUrl(std::size_t end) {
  const std::size_t colon = end - 3;  // the match is "x://"
  if (colon < claimed_until_ || Examined(Trigger::kUrl, colon)) return;

  // The longest known scheme the text before "://" ends with, so that "はhttps://" and
  // "URLhttps://" (Japanese prose runs words together) still give https.
  std::size_t run = colon;
  while (run > 0 && colon - run < kMaxSchemeLength && IsSchemeByte(text_[run - 1])) --run;
  const std::string_view letters = text_.substr(run, colon - run);
  std::string_view scheme;
  for (std::string_view known : kSchemes) {
    if (known.size() > scheme.size() && EndsWithIgnoreCase(letters, known)) scheme = known;
  }
  if (scheme.empty()) {
    MarkExamined(Trigger::kUrl, colon, end);
    return;
  }
  const std::size_t begin = colon - scheme.size();

  // user:password@ ends at the authority's last '@', as in core and in browsers.
  std::size_t authority_end = end;
  std::size_t at = std::string_view::npos;
  while (authority_end < text_.size() && IsAuthorityByte(text_[authority_end])) {
    if (text_[authority_end] == '@') at = authority_end;
    ++authority_end;
  }
  bytes_examined_ += authority_end - end;
  const std::size_t host_begin = at == std::string_view::npos ? end : at + 1;

  std::size_t host_end = host_begin;
  std::string host;
  bool host_is_name = false;
  if (At(host_begin) == '[') {
    const std::size_t close = text_.substr(host_begin, kMaxIpv6TextBytes).find(']');
    if (close == std::string_view::npos) {
      MarkExamined(Trigger::kUrl, begin, authority_end);
      return;
    }
    host_end = host_begin + close + 1;
    host = std::string(text_.substr(host_begin, host_end - host_begin));
  } else {
    const NameSpan span = ParseNameFrom(host_begin);
    host_end = span.end;
    const std::string_view written = text_.substr(host_begin, host_end - host_begin);
    if (span.labels == 0 || written.size() > kMaxNameBytes) {
      MarkExamined(Trigger::kUrl, begin, std::max(authority_end, span.scanned_end));
      return;
    }
    if (NeedsIdna(written)) {
      std::optional<std::string> ascii = DomainRules::ToAscii(written);
      if (!ascii) {
        MarkExamined(Trigger::kUrl, begin, std::max(authority_end, span.scanned_end));
        return;
      }
      host = std::move(*ascii);
    } else {
      host = std::string(written);
    }
    host_is_name = true;
  }

  std::size_t pos = host_end;
  if (At(pos) == ':' && IsDigit(At(pos + 1))) {
    ++pos;
    while (IsDigit(At(pos))) ++pos;
  }
  std::size_t url_end = pos;
  const char after_authority = At(pos);
  if (after_authority == '/' || after_authority == '?' || after_authority == '#') {
    const std::size_t path_begin = pos;
    while (pos < text_.size() && IsPathByte(text_[pos])) ++pos;
    // Punctuation that ends the sentence or closes a bracket opened before the URL is not part of
    // it: "(see https://example.com/a)." Brackets the URL itself opened are kept: ".../Foo_(bar)".
    std::array<std::ptrdiff_t, 3> open_minus_close{};
    constexpr std::string_view kOpen = "([{";
    constexpr std::string_view kClose = ")]}";
    for (std::size_t i = path_begin; i < pos; ++i) {
      if (const std::size_t k = kOpen.find(text_[i]); k != std::string_view::npos) ++open_minus_close[k];
      if (const std::size_t k = kClose.find(text_[i]); k != std::string_view::npos) --open_minus_close[k];
    }
    url_end = pos;
    while (url_end > path_begin + 1) {
      const char last = text_[url_end - 1];
      if (std::string_view(".,;:!?'*").find(last) != std::string_view::npos) {
        --url_end;
        continue;
      }
      const std::size_t k = kClose.find(last);
      if (k != std::string_view::npos && open_minus_close[k] < 0) {
        ++open_minus_close[k];
        --url_end;
        continue;
      }
      break;
    }
  }
  MarkExamined(Trigger::kUrl, begin, pos);
  if (url_end - begin > kMaxUrlBytes) return;

  std::string url(scheme);
  url += "://";
  url += text_.substr(end, host_begin - end);  // user:password@, kept: phishing hides the real host behind it
  url += host;
  url += text_.substr(host_end, url_end - host_end);
  if (!Offer(ObservableType::kUrl, url, begin, url_end)) return;
  Claim(url_end);

  if (!options_.include_hosts) return;
  if (host.front() == '[') {
    Offer(ObservableType::kIpv6, std::string_view(host).substr(1, host.size() - 2), host_begin, host_end);
  } else if (host.find_first_not_of("0123456789.") == std::string::npos) {
    Offer(ObservableType::kIpv4, host, host_begin, host_end);
  } else if (host_is_name) {
    const std::string name = LowerCopy(host);
    if (domains_.IsRegistrable(name)) Offer(ObservableType::kDomain, name, host_begin, host_end);
  }
}

void CandidateScan::OnEmail(std::size_t end) {
  const std::size_t at = end - 2;  // the match is "x@y"
  if (at < claimed_until_ || Examined(Trigger::kEmail, at)) return;
  const std::size_t floor = std::max(claimed_until_, examined_until_[static_cast<std::size_t>(Trigger::kEmail)]);
  std::size_t scan_begin = at;
  while (scan_begin > floor && IsLocalPartByte(text_[scan_begin - 1])) --scan_begin;
  std::size_t local_begin = scan_begin;
  while (local_begin < at && text_[local_begin] == '.') ++local_begin;  // "...abuse@" after an ellipsis

  const NameSpan span = ParseNameFrom(at + 1);
  MarkExamined(Trigger::kEmail, scan_begin, std::max(span.scanned_end, at + 1));
  if (local_begin == at || at - local_begin > kMaxLocalPartBytes || span.labels < 2) return;
  const std::optional<Name> name = RegistrableName(span);
  if (!name) return;
  std::string address(text_.substr(local_begin, at - local_begin));
  address += '@';
  address += name->ascii;
  if (!Offer(ObservableType::kEmail, address, local_begin, name->end)) return;
  Claim(name->end);
  if (options_.include_hosts) Offer(ObservableType::kDomain, name->ascii, at + 1, name->end);
}

bool CandidateScan::InVersionContext(std::size_t begin) const {
  std::size_t pos = begin;
  for (int skipped = 0; skipped < 3 && pos > 0; ++skipped) {
    const char c = text_[pos - 1];
    if (c != ' ' && c != '\t' && c != ':' && c != '=') break;
    --pos;
  }
  const std::string_view before = text_.substr(pos >= 16 ? pos - 16 : 0, std::min<std::size_t>(pos, 16));
  for (std::string_view word : kVersionWords) {
    if (!EndsWithIgnoreCase(before, word)) continue;
    const std::size_t word_begin = pos - word.size();
    if (!IsAscii(word.front()) || !IsAlpha(Before(word_begin))) return true;
  }
  return false;
}

void CandidateScan::OnIpv4(std::size_t end) {
  const std::size_t anchor = end - 1;  // a digit of the last group
  if (anchor < claimed_until_ || Examined(Trigger::kIpv4, anchor)) return;
  const std::size_t floor = std::max(claimed_until_, examined_until_[static_cast<std::size_t>(Trigger::kIpv4)]);
  std::size_t scan_begin = anchor;
  while (scan_begin > floor && IsDigitOrDot(text_[scan_begin - 1])) --scan_begin;
  std::size_t scan_end = end;
  while (scan_end < text_.size() && IsDigitOrDot(text_[scan_end])) ++scan_end;

  std::size_t b = scan_begin;
  std::size_t e = scan_end;
  const bool candidate = [&] {
    if (text_[b] == '.') {
      // "host.1.2.3.4" is part of a longer dotted name; "see...192.0.2.1" follows an ellipsis.
      if (IsAlnum(Before(b)) && At(b + 1) != '.') return false;
      while (b < e && text_[b] == '.') ++b;
    }
    if (text_[e - 1] == '.') {
      if (IsWordByte(At(e))) return false;       // "1.2.3.4.example.com": a name, found as one
      while (e > b && text_[e - 1] == '.') --e;  // the end of a sentence
    }
    // Exactly four groups: "1.2.3.4.5" is an OID or a version, not an address with a tail.
    if (std::count(text_.begin() + static_cast<std::ptrdiff_t>(b), text_.begin() + static_cast<std::ptrdiff_t>(e),
                   '.') != 3) {
      return false;
    }
    // "v1.2.3.4", "1.2.3.4a": glued to a word.
    if (IsWordByte(Before(b)) || IsWordByte(At(e))) return false;
    return !InVersionContext(b);
  }();
  if (!candidate) {
    MarkExamined(Trigger::kIpv4, scan_begin, scan_end);
    return;
  }
  if (e == scan_end && At(e) == '/' && IsDigit(At(e + 1))) {
    std::size_t p = e + 1;
    while (IsDigit(At(p))) ++p;
    MarkExamined(Trigger::kIpv4, scan_begin, p);
    // "192.0.2.0/24" but not "1.2.3.4/24/x" (a path) or "1.2.3.4/2024" glued to more text.
    if (IsWordByte(At(p)) || At(p) == '/' || (At(p) == '.' && IsDigit(At(p + 1))) || p - e > 3) return;
    if (Offer(ObservableType::kCidr, text_.substr(b, p - b), b, p)) Claim(p);
    return;
  }
  MarkExamined(Trigger::kIpv4, scan_begin, scan_end);
  if (Offer(ObservableType::kIpv4, text_.substr(b, e - b), b, e)) Claim(e);
}

void CandidateScan::OnIpv6(std::size_t end) {
  const std::size_t anchor = end - 1;
  if (anchor < claimed_until_ || Examined(Trigger::kIpv6, anchor)) return;
  const std::size_t floor = std::max(claimed_until_, examined_until_[static_cast<std::size_t>(Trigger::kIpv6)]);
  std::size_t scan_begin = anchor;
  while (scan_begin > floor && IsIpv6Byte(text_[scan_begin - 1])) --scan_begin;
  std::size_t scan_end = end;
  while (scan_end < text_.size() && IsIpv6Byte(text_[scan_end])) ++scan_end;

  std::size_t b = scan_begin;
  std::size_t e = scan_end;
  std::size_t examined_end = scan_end;
  ObservableType type = ObservableType::kIpv6;
  std::size_t value_end = e;
  const bool candidate = [&] {
    if (text_[e - 1] == '.') {
      if (IsWordByte(At(e))) return false;
      while (e > b && text_[e - 1] == '.') --e;
    }
    // A lone ':' at either end is punctuation: "Address:fe80::1", "fe80::1: unreachable".
    if (e - b >= 2 && text_[e - 1] == ':' && text_[e - 2] != ':') --e;
    if (e - b >= 2 && text_[b] == ':' && text_[b + 1] != ':') ++b;
    if (e - b > kMaxIpv6TextBytes || e - b < 2) return false;
    // "std::string", "Foo::Bar", "0x1a::": glued to a word, so code, not an address.
    if (IsWordByte(Before(b))) return false;
    const std::string_view token = text_.substr(b, e - b);
    if (std::count(token.begin(), token.end(), ':') < 2 || token.find_first_not_of(":.") == std::string_view::npos) {
      return false;
    }
    value_end = e;
    if (e == scan_end && At(e) == '%') {
      // A zone id ("fe80::1%eth0") names an interface on one host; the address is the observable.
      std::size_t p = e + 1;
      while (IsWordByte(At(p)) || At(p) == '-' || At(p) == '.') ++p;
      examined_end = p;
      e = p;
      return true;
    }
    if (e == scan_end && At(e) == '/' && IsDigit(At(e + 1))) {
      std::size_t p = e + 1;
      while (IsDigit(At(p))) ++p;
      examined_end = p;
      if (IsWordByte(At(p)) || At(p) == '/' || p - e > 4) return false;
      type = ObservableType::kCidr;
      value_end = e = p;
      return true;
    }
    return !IsWordByte(At(e));
  }();
  MarkExamined(Trigger::kIpv6, scan_begin, examined_end);
  if (!candidate) return;
  if (Offer(type, text_.substr(b, value_end - b), b, value_end)) Claim(e);
}

void CandidateScan::OnDomain(std::size_t end) {
  // The match is "x.ab" (dot three bytes back) or "x." and a non-ASCII byte (dot two bytes back).
  const std::size_t dot = text_[end - 2] == '.' ? end - 2 : end - 3;
  if (dot < claimed_until_ || Examined(Trigger::kDomain, dot)) return;
  const std::size_t floor = std::max(claimed_until_, examined_until_[static_cast<std::size_t>(Trigger::kDomain)]);
  const std::optional<NameSpan> span = ParseNameAround(dot, floor);
  if (!span) {
    MarkExamined(Trigger::kDomain, dot, dot + 1);
    return;
  }
  MarkExamined(Trigger::kDomain, span->begin, span->scanned_end);
  if (At(span->end) == '@') return;  // the local part of an e-mail address, found as one
  if (span->labels < 2) return;
  // "It was done.Today we...": a sentence run into the next. Names are not written in Titlecase.
  if (!span->last_label_cjk &&
      IsAsciiTitlecase(text_.substr(span->last_label_begin, span->end - span->last_label_begin))) {
    return;
  }
  const std::optional<Name> name = RegistrableName(*span);
  if (!name) return;
  if (span->labels == 2) {
    const std::string_view tld = std::string_view(name->ascii).substr(name->ascii.rfind('.') + 1);
    if (IsFileExtensionTld(tld) && !source_.Defanged(span->begin, name->end)) return;  // "setup.py"
  }
  if (Offer(ObservableType::kDomain, name->ascii, span->begin, name->end)) Claim(name->end);
}

void CandidateScan::OnHash(std::size_t end, std::size_t digits, ObservableType type) {
  const std::size_t begin = end - digits;  // the pattern matched exactly `digits` hex digits
  MarkExamined(type == ObservableType::kMd5    ? Trigger::kMd5
               : type == ObservableType::kSha1 ? Trigger::kSha1
                                               : Trigger::kSha256,
               begin, end);
  if (At(end) == '@') return;  // the local part of an e-mail address
  const std::string_view hex = text_.substr(begin, digits);
  // A real digest of this length is all digits, or all letters, with vanishing probability; a
  // phone number, a counter or "deadbeef..." padding is not.
  const bool has_digit = std::any_of(hex.begin(), hex.end(), [](char c) { return IsDigit(c); });
  const bool has_letter = std::any_of(hex.begin(), hex.end(), [](char c) { return IsAlpha(c); });
  if (!has_digit || !has_letter) return;
  Offer(type, hex, begin, end);
}

void CandidateScan::OnCve(std::size_t end) {
  const std::size_t begin = end - 13;  // "CVE-2024-1234"
  if (Examined(Trigger::kCve, begin)) return;
  std::size_t p = end;
  while (IsDigit(At(p))) ++p;
  MarkExamined(Trigger::kCve, begin, p);
  if (IsWordByte(At(p)) || p - (begin + 9) > kMaxCveDigits) return;
  Offer(ObservableType::kCve, text_.substr(begin, p - begin), begin, p);
}

void CandidateScan::OnAsn(std::size_t end) {
  const std::size_t digit = end - 1;
  if (Examined(Trigger::kAsn, digit)) return;
  std::size_t prefix_end = digit;
  if (Before(prefix_end) == ' ') --prefix_end;
  const bool with_n =
      prefix_end >= 3 && Lower(text_[prefix_end - 1]) == 'n' && EqualsIgnoreCase(text_.substr(prefix_end - 3, 2), "as");
  const std::size_t begin = prefix_end - (with_n ? 3 : 2);
  std::size_t p = digit;
  while (IsDigit(At(p))) ++p;
  MarkExamined(Trigger::kAsn, begin, p);
  // "AS1.2" is asdot notation or a version; "AS64500x" part of a word.
  if (IsWordByte(At(p)) || (At(p) == '.' && IsDigit(At(p + 1))) || p - digit > kMaxAsnDigits) return;
  std::string value = "AS";
  value += text_.substr(digit, p - digit);
  Offer(ObservableType::kAsn, value, begin, p);
}

// ---- Results ----------------------------------------------------------------------------------

bool CandidateScan::Offer(ObservableType type, std::string_view candidate, std::size_t begin, std::size_t end) {
  Result<core::Observable> observable = core::NormalizeObservable(type, candidate);
  if (!observable) return false;
  Accept(std::move(*observable), begin, end);
  return true;
}

void CandidateScan::Accept(core::Observable observable, std::size_t begin, std::size_t end) {
  const std::size_t offset = source_.Begin(begin);
  const std::size_t raw_end = source_.End(end);
  if (const std::optional<std::size_t> known = Find(observable)) {
    // Candidates arrive in order of where their pattern matched, which for nested values is not
    // quite the order of where they start; the first occurrence is the one kept.
    Extracted& first = results_[*known];
    if (offset < first.offset) {
      first.offset = offset;
      first.raw = std::string(original_.substr(offset, raw_end - offset));
    }
    return;
  }
  if (results_.size() >= options_.max_results) {
    truncated_ = true;
    return;
  }
  if (!index_.empty() || results_.size() == kLinearSearchLimit) {
    if (index_.empty()) {
      for (std::size_t i = 0; i < results_.size(); ++i) {
        index_.emplace(KeyOf(results_[i].observable.type, results_[i].observable.value), i);
      }
    }
    index_.emplace(KeyOf(observable.type, observable.value), results_.size());
  }
  results_.push_back(Extracted{std::move(observable), offset, std::string(original_.substr(offset, raw_end - offset))});
}

std::optional<std::size_t> CandidateScan::Find(const core::Observable& observable) const {
  // A mail holds a handful of observables: comparing them beats hashing. The index takes over
  // once there are more.
  if (index_.empty()) {
    for (std::size_t i = 0; i < results_.size(); ++i) {
      if (results_[i].observable == observable) return i;
    }
    return std::nullopt;
  }
  const auto it = index_.find(KeyOf(observable.type, observable.value));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::vector<Extracted> CandidateScan::TakeResults() {
  std::stable_sort(results_.begin(), results_.end(),
                   [](const Extracted& a, const Extracted& b) { return a.offset < b.offset; });
  index_.clear();
  return std::move(results_);
}

}  // namespace hikeshi::extract::detail
