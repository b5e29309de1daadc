#include "detail/html_text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "detail/text.hpp"

namespace hikeshi::intake::mail::detail {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

void AppendCodePoint(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    AppendReplacement(out);
  } else if (cp < 0x80) {
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

// The named entities mail HTML uses in practice; an unknown name is left as written.
constexpr std::array<std::pair<std::string_view, std::uint32_t>, 52> kEntities{{
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},    {"nbsp", ' '},
    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},  {"laquo", 0xAB},   {"raquo", 0xBB},
    {"bull", 0x2022},  {"middot", 0xB7},  {"euro", 0x20AC},  {"yen", 0xA5},      {"pound", 0xA3},   {"cent", 0xA2},
    {"sect", 0xA7},    {"deg", 0xB0},     {"times", 0xD7},   {"divide", 0xF7},   {"shy", 0xAD},     {"zwnj", 0x200C},
    {"zwj", 0x200D},   {"ensp", 0x2002},  {"emsp", 0x2003},  {"thinsp", 0x2009}, {"iexcl", 0xA1},   {"iquest", 0xBF},
    {"aacute", 0xE1},  {"eacute", 0xE9},  {"iacute", 0xED},  {"oacute", 0xF3},   {"uacute", 0xFA},  {"agrave", 0xE0},
    {"egrave", 0xE8},  {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},     {"Auml", 0xC4},    {"Ouml", 0xD6},
    {"Uuml", 0xDC},    {"szlig", 0xDF},   {"ccedil", 0xE7},  {"ntilde", 0xF1},
}};

// Decodes the entity at text[pos] == '&' into `out`; returns the bytes consumed (1 when it is not
// an entity, so the '&' is copied as is).
std::size_t DecodeEntity(std::string_view text, std::size_t pos, std::string& out) {
  constexpr std::size_t kMaxEntity = 12;
  std::size_t end = pos + 1;
  while (end < text.size() && end - pos <= kMaxEntity && (IsAlnum(text[end]) || text[end] == '#')) ++end;
  const std::string_view name = text.substr(pos + 1, end - pos - 1);
  const bool terminated = end < text.size() && text[end] == ';';
  const std::size_t consumed = end - pos + (terminated ? 1 : 0);
  if (name.size() >= 2 && name[0] == '#') {
    std::uint32_t cp = 0;
    bool any = false;
    const bool hex = name[1] == 'x' || name[1] == 'X';
    for (std::size_t i = hex ? 2 : 1; i < name.size(); ++i) {
      const char c = name[i];
      std::uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<std::uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        digit = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        digit = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        any = false;
        break;
      }
      any = true;
      cp = cp * (hex ? 16 : 10) + digit;
      if (cp > 0x10FFFF) cp = 0x110000;  // stays out of range, never overflows
    }
    if (!any) {
      out += '&';
      return 1;
    }
    AppendCodePoint(out, cp);
    return consumed;
  }
  for (const auto& [entity, cp] : kEntities) {
    if (entity == name) {
      AppendCodePoint(out, cp);
      return consumed;
    }
  }
  out += '&';
  return 1;
}

std::string DecodeEntities(std::string_view text) {
  std::string out;
  for (std::size_t pos = 0; pos < text.size();) {
    if (text[pos] == '&') {
      pos += DecodeEntity(text, pos, out);
    } else {
      out += text[pos++];
    }
  }
  return out;
}

// Collects text with HTML's whitespace rules: runs of white space are one space, and line breaks
// come only from elements (at most one blank line in a row).
class TextBuilder {
 public:
  void Append(std::string_view text, bool preformatted) {
    for (const char c : text) {
      if (preformatted) {
        if (c == '\n') {
          out_ += '\n';
          pending_space_ = false;
          continue;
        }
        Flush();
        if (c != '\r') out_ += c;
        continue;
      }
      if (IsSpace(c)) {
        pending_space_ = true;
        continue;
      }
      Flush();
      out_ += c;
    }
  }
  void Break(int lines) {
    if (lines > pending_lines_) pending_lines_ = lines;
  }
  std::string Finish() {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\n')) out_.pop_back();
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }
  // True when nothing was written since `mark` (used to avoid "url <url>").
  std::size_t Mark() const { return out_.size(); }
  std::string_view Since(std::size_t mark) const { return std::string_view(out_).substr(mark); }

 private:
  void Flush() {
    if (pending_lines_ > 0) {
      while (!out_.empty() && out_.back() == ' ') out_.pop_back();
      if (!out_.empty()) {
        int have = 0;
        for (auto it = out_.rbegin(); it != out_.rend() && *it == '\n' && have < 2; ++it) ++have;
        for (int i = have; i < pending_lines_; ++i) out_ += '\n';
      }
      pending_lines_ = 0;
      pending_space_ = false;
    } else if (pending_space_) {
      if (!out_.empty() && out_.back() != '\n' && out_.back() != ' ') out_ += ' ';
      pending_space_ = false;
    }
  }

  std::string out_;
  int pending_lines_ = 0;
  bool pending_space_ = false;
};

struct Tag {
  std::string name;  // lower case
  bool closing = false;
  std::string href;     // <a href>, entities decoded
  std::size_t end = 0;  // one past the '>' (or the input's end)
};

// Parses the tag at html[pos] == '<' (a letter or '/' follows). Attribute values may be quoted; a
// '>' inside quotes does not end the tag.
Tag ReadTag(std::string_view html, std::size_t pos) {
  Tag tag;
  std::size_t i = pos + 1;
  if (i < html.size() && html[i] == '/') {
    tag.closing = true;
    ++i;
  }
  while (i < html.size() && (IsAlnum(html[i]) || html[i] == '-' || html[i] == ':')) {
    tag.name += html[i] >= 'A' && html[i] <= 'Z' ? static_cast<char>(html[i] - 'A' + 'a') : html[i];
    ++i;
  }
  while (i < html.size() && html[i] != '>') {
    if (IsSpace(html[i]) || html[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t name_begin = i;
    while (i < html.size() && !IsSpace(html[i]) && html[i] != '=' && html[i] != '>' && html[i] != '/') ++i;
    const std::string_view attribute = html.substr(name_begin, i - name_begin);
    while (i < html.size() && IsSpace(html[i])) ++i;
    if (i >= html.size() || html[i] != '=') continue;
    ++i;
    while (i < html.size() && IsSpace(html[i])) ++i;
    std::string_view value;
    if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
      const char quote = html[i++];
      const std::size_t value_begin = i;
      while (i < html.size() && html[i] != quote) ++i;
      value = html.substr(value_begin, i - value_begin);
      if (i < html.size()) ++i;
    } else {
      const std::size_t value_begin = i;
      while (i < html.size() && !IsSpace(html[i]) && html[i] != '>') ++i;
      value = html.substr(value_begin, i - value_begin);
    }
    if (tag.name == "a" && EqualsIgnoreCase(attribute, "href")) tag.href = std::string(Trim(DecodeEntities(value)));
  }
  tag.end = i < html.size() ? i + 1 : html.size();
  return tag;
}

// Finds "</name" (any case) from `pos`; returns html.size() when absent.
std::size_t FindClosing(std::string_view html, std::size_t pos, std::string_view name) {
  for (std::size_t i = html.find('<', pos); i != std::string_view::npos; i = html.find('<', i + 1)) {
    if (i + 1 < html.size() && html[i + 1] == '/' && StartsWithIgnoreCase(html.substr(i + 2), name)) {
      const std::size_t after = i + 2 + name.size();
      if (after >= html.size() || !IsAlnum(html[after])) return i;
    }
  }
  return html.size();
}

// FindClosing with memory: searches start at increasing positions, so a closing tag found once is
// the answer until the position passes it, and "none" stays none. Keeps the whole pass linear even
// when a document opens <head> thousands of times.
class ClosingFinder {
 public:
  std::size_t Find(std::string_view html, std::size_t pos, std::string_view name) {
    for (Entry& entry : entries_) {
      if (entry.name != name) continue;
      if (entry.found == html.size() || entry.found >= pos) return entry.found;
      entry.found = FindClosing(html, pos, name);
      return entry.found;
    }
    entries_.push_back({std::string(name), FindClosing(html, pos, name)});
    return entries_.back().found;
  }

 private:
  struct Entry {
    std::string name;
    std::size_t found;
  };
  std::vector<Entry> entries_;
};

bool IsOneOf(std::string_view name, std::initializer_list<std::string_view> names) {
  for (const std::string_view candidate : names) {
    if (name == candidate) return true;
  }
  return false;
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  TextBuilder text;
  ClosingFinder closings;
  bool preformatted = false;
  std::string link;           // the href of the open <a>, if any
  std::size_t link_mark = 0;  // where its label starts in the output
  std::size_t pos = 0;
  while (pos < html.size()) {
    const char c = html[pos];
    if (c == '&') {
      std::string decoded;
      pos += DecodeEntity(html, pos, decoded);
      text.Append(decoded, preformatted);
      continue;
    }
    if (c != '<') {
      std::size_t end = pos;
      while (end < html.size() && html[end] != '<' && html[end] != '&') ++end;
      text.Append(html.substr(pos, end - pos), preformatted);
      pos = end;
      continue;
    }
    const std::string_view rest = html.substr(pos);
    if (rest.starts_with("<!--")) {
      const std::size_t end = html.find("-->", pos + 4);
      pos = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (rest.size() < 2 || !(IsAlnum(rest[1]) || rest[1] == '/' || rest[1] == '!' || rest[1] == '?')) {
      text.Append("<", preformatted);  // a lone '<' in text
      ++pos;
      continue;
    }
    if (rest[1] == '!' || rest[1] == '?') {  // doctype, processing instruction, CDATA
      const std::size_t end = html.find('>', pos);
      pos = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    const Tag tag = ReadTag(html, pos);
    pos = tag.end;
    const std::string_view name = tag.name;
    if (!tag.closing && IsOneOf(name, {"script", "style", "head", "title", "template"})) {
      // Code is dropped to its end even when unclosed; an unclosed <head> or <title> is ignored
      // rather than allowed to swallow the body.
      const std::size_t close = closings.Find(html, pos, name);
      if (close < html.size()) {
        pos = ReadTag(html, close).end;
        continue;
      }
      if (name == "script" || name == "style") {
        pos = html.size();
        continue;
      }
    }
    if (name == "br") {
      text.Break(1);
    } else if (name == "pre") {
      preformatted = !tag.closing;
      text.Break(2);
    } else if (IsOneOf(name, {"p",       "h1",         "h2",     "h3",   "h4",       "h5",     "h6",
                              "table",   "blockquote", "ul",     "ol",   "dl",       "hr",     "section",
                              "article", "header",     "footer", "form", "fieldset", "address"})) {
      text.Break(2);
    } else if (IsOneOf(name, {"div", "tr", "li", "dt", "dd", "caption", "center", "figure", "body", "html", "main",
                              "nav", "aside", "legend", "option"})) {
      text.Break(1);
    } else if (IsOneOf(name, {"td", "th"}) && !tag.closing) {
      text.Append(" ", false);
    } else if (name == "a" && !tag.closing) {
      link = tag.href;
      link_mark = text.Mark();
    } else if (name == "a" && tag.closing && !link.empty()) {
      const std::string_view label = Trim(text.Since(link_mark));
      std::string_view target = link;
      if (target.starts_with("mailto:")) target.remove_prefix(7);
      if (label != target && label != link) {
        text.Append(" <", false);
        text.Append(link, true);
        text.Append(">", true);
      }
      link.clear();
    }
  }
  return text.Finish();
}

}  // namespace hikeshi::intake::mail::detail
