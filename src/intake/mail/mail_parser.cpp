#include "hikeshi/intake/mail/mail_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <gmime/gmime.h>

#include "hikeshi/common/crypto.hpp"

#include "detail/abuse_report.hpp"
#include "detail/file_type.hpp"
#include "detail/gmime_support.hpp"
#include "detail/gobject.hpp"
#include "detail/html_text.hpp"
#include "detail/raw_mime.hpp"
#include "detail/text.hpp"

namespace hikeshi::intake::mail {
namespace {

using core::InboundMail;
using detail::GPtr;

// Problems beyond this many are counted, not listed: hostile input can have 100,000 broken parts.
constexpr std::size_t kMaxProblems = 64;
// The bytes scanned for Subject/From when GMime could not read the message at all.
constexpr std::size_t kFallbackHeaderScan = 256 * 1024;
// Header fields are cut to these sizes before GMime reads them: GMime grows its header buffer one
// read at a time (quadratic copying on a 10 MB field wherever realloc cannot grow in place), and
// joins RFC 2231 continuations in quadratic time. No real field comes near either (the References of
// a long thread are a few kilobytes).
constexpr std::size_t kMaxHeaderFieldBytes = 256 * 1024;
constexpr std::size_t kMaxHeaderFieldLines = 1000;

// "Name:" at the start of the line, with a token name.
bool IsFieldLine(std::string_view line) {
  const std::size_t colon = line.substr(0, 100).find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (const char c : line.substr(0, colon)) {
    if (c <= ' ' || c >= 127) return false;
  }
  return true;
}

// `message` with every over-long header field cut to the limits above; nullopt when none is (the
// usual case: nothing is copied). Header blocks are found without parsing MIME: the message's own,
// and any run of field lines that starts after a "--" line (a part's headers) or an empty line (an
// attached message's headers) and runs to the next empty line.
std::optional<std::string> CapHeaderFields(std::string_view message) {
  std::optional<std::string> out;
  bool in_header = true;
  bool header_may_start = false;
  std::size_t field_bytes = 0;
  std::size_t field_lines = 0;
  for (std::size_t pos = 0; pos < message.size();) {
    std::size_t next = message.find('\n', pos);
    next = next == std::string_view::npos ? message.size() : next + 1;
    const std::string_view line = message.substr(pos, next - pos);
    const bool empty = line == "\n" || line == "\r\n";
    const bool continuation = line[0] == ' ' || line[0] == '\t';
    if (!in_header && header_may_start && IsFieldLine(line)) in_header = true;
    header_may_start = empty || line.starts_with("--");
    bool keep = true;
    std::size_t keep_bytes = line.size();
    if (in_header && empty) {
      in_header = false;
    } else if (in_header && continuation) {
      const std::size_t before = field_bytes;
      field_bytes += line.size();
      ++field_lines;
      if (field_lines > kMaxHeaderFieldLines || before >= kMaxHeaderFieldBytes) {
        keep = false;
      } else if (field_bytes > kMaxHeaderFieldBytes) {
        keep_bytes = kMaxHeaderFieldBytes - before;
      }
    } else if (in_header && IsFieldLine(line)) {
      field_bytes = line.size();
      field_lines = 1;
      if (field_bytes > kMaxHeaderFieldBytes) keep_bytes = kMaxHeaderFieldBytes;
    } else {
      in_header = false;
    }
    if ((!keep || keep_bytes < line.size()) && !out) out.emplace(message.substr(0, pos));
    if (out && keep) {
      out->append(line.substr(0, keep_bytes));
      if (keep_bytes < line.size()) out->push_back('\n');
    }
    pos = next;
  }
  return out;
}

struct Warning {
  gint64 offset;
  GMimeParserWarning code;
};

void OnWarning(gint64 offset, GMimeParserWarning code, const gchar* /*item*/, gpointer user_data);

// One GMime parse and the bytes it read. Offsets in GMime's headers refer to `source`. The GMime
// objects are released before the options and warnings they point to (members are destroyed in
// reverse order).
struct Entity {
  std::vector<Warning> warnings;
  std::unique_ptr<GMimeParserOptions, decltype(&g_mime_parser_options_free)> options{nullptr,
                                                                                     &g_mime_parser_options_free};
  GPtr<GMimeStream> stream;
  std::string_view source;
  GPtr<GMimeMessage> message;
  GPtr<GMimeObject> part;

  bool HasWarning(GMimeParserWarning code, gint64 offset) const {
    return std::ranges::any_of(warnings, [&](const Warning& w) { return w.code == code && w.offset == offset; });
  }
  bool HasWarning(GMimeParserWarning code) const {
    return std::ranges::any_of(warnings, [&](const Warning& w) { return w.code == code; });
  }
};

void OnWarning(gint64 offset, GMimeParserWarning code, const gchar* /*item*/, gpointer user_data) {
  auto* entity = static_cast<Entity*>(user_data);
  if (entity->warnings.size() < 4096) entity->warnings.push_back(Warning{offset, code});
}

GMimeParserOptions* NewParserOptions(Entity* entity) {
  GMimeParserOptions* options = g_mime_parser_options_new();
  g_mime_parser_options_set_rfc2047_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(options, GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_allow_addresses_without_domain(options, TRUE);
  g_mime_parser_options_set_fallback_charsets(options, detail::HeaderFallbackCharsets());
  g_mime_parser_options_set_warning_callback(options, &OnWarning, entity);
  return options;
}

// Where to cut `message` so that GMime builds no more MIME entities than the walk will read: the
// start of the delimiter line after the first `max_delimiters` (a delimiter is "--" and one of the
// boundary parameters the message declares). Every entity needs at least one delimiter line and a
// multipart one more, so 2 * max_parts + 2 delimiters cover every entity the walk reads; cutting
// the rest spares GMime building 100,000 parts only to have them skipped. nullopt: no cut needed.
std::optional<std::size_t> DelimiterCut(std::string_view message, std::size_t max_delimiters) {
  std::unordered_set<std::string_view> boundaries;
  constexpr std::string_view kParameter = "boundary=";
  for (std::size_t pos = 0; pos + kParameter.size() < message.size();) {
    const std::size_t found = message.find('=', pos + kParameter.size() - 1);
    if (found == std::string_view::npos) break;
    pos = found + 1;
    if (found + 1 < kParameter.size() ||
        !detail::EqualsIgnoreCase(message.substr(found + 1 - kParameter.size(), kParameter.size()), kParameter)) {
      continue;
    }
    std::size_t begin = found + 1;
    std::size_t end = begin;
    if (begin < message.size() && message[begin] == '"') {
      end = message.find('"', ++begin);
      if (end == std::string_view::npos || end - begin > 200) continue;
    } else {
      while (end < message.size() && end - begin <= 200 && message[end] != ';' && message[end] != '\r' &&
             message[end] != '\n' && message[end] != ' ' && message[end] != '\t') {
        ++end;
      }
    }
    if (end > begin) boundaries.insert(message.substr(begin, end - begin));
  }
  if (boundaries.empty()) return std::nullopt;
  std::size_t delimiters = 0;
  for (std::size_t pos = 0; pos < message.size();) {
    std::size_t next = message.find('\n', pos);
    next = next == std::string_view::npos ? message.size() : next + 1;
    if (message.substr(pos, 2) == "--") {
      std::string_view candidate = detail::Trim(message.substr(pos + 2, next - pos - 2));
      bool delimiter = boundaries.contains(candidate);
      if (!delimiter && candidate.ends_with("--")) {
        candidate.remove_suffix(2);
        delimiter = boundaries.contains(candidate);
      }
      if (delimiter && ++delimiters > max_delimiters) return pos;
    }
    pos = next;
  }
  return std::nullopt;
}

enum class As { kMessage, kPart };

std::unique_ptr<Entity> ParseEntity(std::string_view bytes, As as) {
  auto entity = std::make_unique<Entity>();
  entity->options.reset(NewParserOptions(entity.get()));
  GByteArray* array = g_byte_array_sized_new(static_cast<guint>(bytes.size()));
  g_byte_array_append(array, reinterpret_cast<const guint8*>(bytes.data()), static_cast<guint>(bytes.size()));
  entity->stream.reset(g_mime_stream_mem_new_with_byte_array(array));  // the stream owns the array
  entity->source = std::string_view(reinterpret_cast<const char*>(array->data), array->len);
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(entity->stream.get()));
  g_mime_parser_set_persist_stream(parser.get(), TRUE);
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  if (as == As::kMessage) {
    entity->message.reset(g_mime_parser_construct_message(parser.get(), entity->options.get()));
  } else {
    entity->part.reset(g_mime_parser_construct_part(parser.get(), entity->options.get()));
  }
  return entity;
}

std::string Lower(const char* text) { return text == nullptr ? std::string() : detail::AsciiLower(text); }

std::string Header(GMimeObject* object, const char* name) {
  const char* value = g_mime_object_get_header(object, name);
  return value == nullptr ? std::string() : std::string(value);
}

// The stream offset of the object's Content-Type header, or -1.
gint64 ContentTypeOffset(GMimeObject* object) {
  GMimeHeaderList* headers = g_mime_object_get_header_list(object);
  if (headers == nullptr) return -1;
  const int count = g_mime_header_list_get_count(headers);
  for (int i = 0; i < count; ++i) {
    GMimeHeader* header = g_mime_header_list_get_header_at(headers, i);
    if (g_ascii_strcasecmp(g_mime_header_get_name(header), "Content-Type") == 0)
      return g_mime_header_get_offset(header);
  }
  return -1;
}

std::string MimeType(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type == nullptr) return "application/octet-stream";
  return Lower(g_mime_content_type_get_media_type(type)) + "/" + Lower(g_mime_content_type_get_media_subtype(type));
}

bool LooksLikeMimeEntity(std::string_view text) {
  // A header line first: "Name: value" with a token name.
  const std::size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon > 76) return false;
  for (const char c : text.substr(0, colon)) {
    if (c <= ' ' || c >= 127) return false;
  }
  return true;
}

class Walker {
 public:
  Walker(const MailParseOptions& options, core::KeyRing* keyring, InboundMail& mail)
      : options_(options), keyring_(keyring), mail_(mail) {}

  void Run(std::string_view raw);

 private:
  struct Body {
    std::string text;   // UTF-8, LF line endings
    bool html = false;  // rendered from HTML
  };

  // Every flag keeps at least its first reason; repeats stop being listed after kMaxProblems.
  void Flag(std::string_view flag, std::string_view reason) {
    const bool first = std::ranges::find(mail_.flags, flag) == mail_.flags.end();
    if (!first && problems_capped_) return;
    if (first) mail_.flags.emplace_back(flag);
    if (first || mail_.problems.size() < kMaxProblems) {
      mail_.problems.push_back(std::string(flag) + ": " + detail::OneLine(reason));
    } else if (!problems_capped_) {
      mail_.problems.emplace_back("more problems were found and are not listed");
      problems_capped_ = true;
    }
  }

  void ParseFailed(std::string_view raw, std::string_view reason);
  void ReadHeaders(GMimeMessage* message, const Entity& entity);
  void DetectAutomatic(GMimeMessage* message);

  Body Walk(GMimeObject* object, const Entity& entity, int depth, std::string_view raw_entity);
  Body WalkMultipart(GMimeMultipart* multipart, const Entity& entity, int depth);
  Body WalkSigned(GMimeMultipart* multipart, const Entity& entity, int depth);
  Body WalkEncrypted(GMimeMultipart* multipart, const Entity& entity, int depth);
  Body WalkMessagePart(GMimeMessagePart* part, const Entity& entity, int depth, std::string_view raw_entity);
  Body WalkLeaf(GMimePart* part, const Entity& entity, int depth);
  Body WalkText(std::string bytes, const std::string& charset, bool html);
  Body WalkReparsed(std::string bytes, const Entity& parent, int depth);
  Body RecoverMissingBoundary(GMimeMultipart* multipart, const Entity& entity, int depth);
  void ReadAbuseReport(GMimeMultipart* multipart, std::size_t first_attachment);

  // The transfer-decoded content of `part`, counted against max_decoded_bytes.
  std::string Decode(GMimePart* part);
  // `bytes` without what lies past the entities the walk can read (DelimiterCut).
  std::string_view CutExcessParts(std::string_view bytes);
  void AddAttachment(std::string filename, std::string content_type, std::string content);
  std::string TextFromBytes(std::string_view bytes, const std::string& charset);
  std::string InlineBlocks(std::string_view bytes, const std::string& charset);

  const MailParseOptions& options_;
  core::KeyRing* keyring_;
  InboundMail& mail_;
  std::vector<std::unique_ptr<Entity>> entities_;  // every parse, alive until the walk ends
  std::vector<std::string> forwarded_texts_;       // the text of attached messages
  std::size_t parts_ = 0;
  std::size_t decoded_bytes_ = 0;
  bool xarf_header_ = false;
  bool problems_capped_ = false;
};

void Walker::Run(std::string_view raw) {
  std::string_view input = raw;
  bool headers_only = false;
  if (input.size() > options_.max_message_bytes) {
    headers_only = true;
    std::size_t end = detail::HeaderBlockEnd(input.substr(0, options_.max_message_bytes), 0);
    if (end > options_.max_message_bytes) end = options_.max_message_bytes;
    Flag("truncated", "the message is " + std::to_string(raw.size()) + " bytes, over the limit of " +
                          std::to_string(options_.max_message_bytes) + "; only its header block was read");
    input = input.substr(0, end);
  }

  std::string converted;
  // CR-only line endings (old Mac mail): GMime reads lines up to LF, so give it LFs. One byte for
  // one byte, so offsets keep their meaning.
  const auto lf = static_cast<std::size_t>(std::ranges::count(input, '\n'));
  std::size_t lone_cr = 0;
  for (std::size_t cr = input.find('\r'); cr != std::string_view::npos; cr = input.find('\r', cr + 1)) {
    if (cr + 1 == input.size() || input[cr + 1] != '\n') ++lone_cr;
  }
  if (lone_cr > lf) {
    converted.assign(input);
    for (std::size_t i = 0; i < converted.size(); ++i) {
      if (converted[i] == '\r' && (i + 1 == converted.size() || converted[i + 1] != '\n')) converted[i] = '\n';
    }
    input = converted;
  }

  std::optional<std::string> capped = CapHeaderFields(input);
  if (capped) {
    Flag("long_header", "a header field longer than " + std::to_string(kMaxHeaderFieldBytes) + " bytes or " +
                            std::to_string(kMaxHeaderFieldLines) + " lines was cut to that size");
    input = *capped;
  }

  input = CutExcessParts(input);

  entities_.push_back(ParseEntity(input, As::kMessage));
  const Entity& entity = *entities_.back();
  GMimeMessage* message = entity.message.get();
  if (message == nullptr) {
    ParseFailed(raw, "GMime found no message in the input");
    return;
  }
  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(message));
  if (headers == nullptr || g_mime_header_list_get_count(headers) == 0) {
    ParseFailed(raw, input.empty() ? "the input is empty" : "no header field could be read");
    return;
  }
  ReadHeaders(message, entity);
  DetectAutomatic(message);
  if (headers_only) return;

  GMimeObject* body = g_mime_message_get_mime_part(message);
  Body text = Walk(body, entity, 1, {});
  if (entity.HasWarning(GMIME_CRIT_NESTING_OVERFLOW)) Flag("too_deep", "MIME nesting exceeds GMime's limit");
  if (detail::Trim(text.text).empty()) {
    for (std::string& forwarded : forwarded_texts_) {
      if (!detail::Trim(forwarded).empty()) {
        text.text = std::move(forwarded);
        break;
      }
    }
  }
  mail_.text = std::move(text.text);
}

void Walker::ParseFailed(std::string_view raw, std::string_view reason) {
  mail_ = InboundMail{};
  mail_.flags = {"parse_failed"};
  mail_.problems = {"parse_failed: " + std::string(reason)};
  mail_.text = detail::UnixLineEndings(detail::ValidUtf8(raw));
  // Best effort: the first Subject and From lines, decoded.
  const std::string_view head = raw.substr(0, std::min(raw.size(), kFallbackHeaderScan));
  auto field = [&](std::string_view name) -> std::string {
    for (std::size_t pos = 0; pos < head.size();) {
      std::size_t end = head.find_first_of("\r\n", pos);
      if (end == std::string_view::npos) end = head.size();
      const std::string_view line = head.substr(pos, end - pos);
      if (detail::StartsWithIgnoreCase(line, name) && line.size() > name.size() && line[name.size()] == ':') {
        return std::string(detail::Trim(line.substr(name.size() + 1)));
      }
      pos = end + 1;
    }
    return {};
  };
  auto options = std::make_unique<Entity>();
  options->options.reset(NewParserOptions(options.get()));
  if (const std::string subject = field("Subject"); !subject.empty()) {
    char* decoded = g_mime_utils_header_decode_text(options->options.get(), subject.c_str());
    mail_.subject = detail::OneLine(decoded == nullptr ? subject : decoded);
    g_free(decoded);
  }
  if (const std::string from = field("From"); !from.empty()) {
    GPtr<InternetAddressList> list(internet_address_list_parse(options->options.get(), from.c_str()));
    if (list && internet_address_list_length(list.get()) > 0) {
      InternetAddress* address = internet_address_list_get_address(list.get(), 0);
      if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
        mail_.from_address =
            detail::AsciiLower(detail::OneLine(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address))));
        if (const char* name = internet_address_get_name(address)) mail_.from_name = detail::OneLine(name);
      }
    }
  }
}

void CollectMailboxes(InternetAddressList* list, std::vector<std::pair<std::string, std::string>>& out, int depth) {
  if (list == nullptr || depth > 4) return;
  const int count = internet_address_list_length(list);
  for (int i = 0; i < count; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address));
      const char* name = internet_address_get_name(address);
      if (addr != nullptr && *addr != '\0') {
        out.emplace_back(detail::AsciiLower(detail::OneLine(addr)), name == nullptr ? "" : detail::OneLine(name));
      }
    } else if (INTERNET_ADDRESS_IS_GROUP(address)) {
      CollectMailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out, depth + 1);
    }
  }
}

std::string DecodeSubject(const char* subject) {
  if (subject == nullptr) return {};
  std::string_view text = subject;
  // Raw ISO-2022-JP in a header (no encoded-word): seven-bit, so GMime passes the escapes through.
  if (text.find("\x1b$") != std::string_view::npos) return detail::OneLine(detail::ToUtf8(text, "iso-2022-jp").text);
  return detail::OneLine(text);
}

void Walker::ReadHeaders(GMimeMessage* message, const Entity& entity) {
  GMimeObject* object = GMIME_OBJECT(message);
  mail_.subject = DecodeSubject(g_mime_message_get_subject(message));
  std::vector<std::pair<std::string, std::string>> from;
  CollectMailboxes(g_mime_message_get_from(message), from, 0);
  if (from.empty()) CollectMailboxes(g_mime_message_get_sender(message), from, 0);
  if (!from.empty()) {
    mail_.from_address = from.front().first;
    mail_.from_name = DecodeSubject(from.front().second.c_str());
  }
  std::vector<std::pair<std::string, std::string>> recipients;
  CollectMailboxes(g_mime_message_get_to(message), recipients, 0);
  CollectMailboxes(g_mime_message_get_cc(message), recipients, 0);
  for (auto& [address, name] : recipients) {
    if (std::ranges::find(mail_.to, address) == mail_.to.end()) mail_.to.push_back(std::move(address));
  }
  mail_.date = detail::FromGDateTime(g_mime_message_get_date(message));
  if (const char* id = g_mime_message_get_message_id(message)) mail_.message_id = detail::OneLine(id);
  if (const std::string in_reply_to = Header(object, "In-Reply-To"); !in_reply_to.empty()) {
    char* id = g_mime_utils_decode_message_id(in_reply_to.c_str());
    if (id != nullptr) mail_.in_reply_to = detail::OneLine(id);
    g_free(id);
  }
  if (const std::string references = Header(object, "References"); !references.empty()) {
    GMimeReferences* list = g_mime_references_parse(entity.options.get(), references.c_str());
    if (list != nullptr) {
      const int count = std::min(g_mime_references_length(list), 1000);
      for (int i = 0; i < count; ++i) {
        mail_.references.push_back(detail::OneLine(g_mime_references_get_message_id(list, i)));
      }
      g_mime_references_free(list);
    }
  }
  if (const std::string return_path = Header(object, "Return-Path"); !return_path.empty()) {
    std::string_view path = detail::Trim(return_path);
    if (path.starts_with('<')) path.remove_prefix(1);
    if (path.ends_with('>')) path.remove_suffix(1);
    path = detail::Trim(path);
    mail_.return_path = path.empty() ? "<>" : detail::AsciiLower(detail::OneLine(path));
  }
  xarf_header_ = detail::EqualsIgnoreCase(detail::Trim(Header(object, "X-ARF")), "yes");
}

void Walker::DetectAutomatic(GMimeMessage* message) {
  GMimeObject* object = GMIME_OBJECT(message);
  const auto automatic = [&](std::string reason) {
    if (mail_.auto_generated) return;
    mail_.auto_generated = true;
    mail_.auto_reason = detail::OneLine(reason);
  };
  const std::string submitted = detail::AsciiLower(detail::Trim(Header(object, "Auto-Submitted")));
  const std::string_view submitted_value = detail::Trim(std::string_view(submitted).substr(0, submitted.find(';')));
  if (!submitted_value.empty() && submitted_value != "no") automatic("auto-submitted: " + std::string(submitted_value));
  const std::string precedence = detail::AsciiLower(detail::Trim(Header(object, "Precedence")));
  if (precedence == "bulk" || precedence == "list" || precedence == "junk") automatic("precedence: " + precedence);
  if (!Header(object, "List-Id").empty()) automatic("list-id");
  if (mail_.return_path == "<>") automatic("bounce: null sender");
  const std::string_view local = std::string_view(mail_.from_address).substr(0, mail_.from_address.find('@'));
  if (local == "mailer-daemon") automatic("bounce: mailer-daemon");
  GMimeObject* body = g_mime_message_get_mime_part(message);
  if (body != nullptr && MimeType(body) == "multipart/report") {
    const std::string report_type = Lower(g_mime_object_get_content_type_parameter(body, "report-type"));
    if (report_type == "delivery-status") automatic("bounce: delivery status report");
    if (report_type == "disposition-notification") automatic("disposition notification");
  }
  if (!Header(object, "X-Autoreply").empty() || !Header(object, "X-Autorespond").empty()) automatic("auto-reply");

  const auto says_yes = [](const std::string& value) {
    return detail::StartsWithIgnoreCase(detail::Trim(value), "yes");
  };
  mail_.spam = says_yes(Header(object, "X-Spam-Flag")) || says_yes(Header(object, "X-Spam-Status"));
}

Walker::Body Walker::Walk(GMimeObject* object, const Entity& entity, int depth, std::string_view raw_entity) {
  if (object == nullptr) return {};
  if (depth > options_.max_depth) {
    Flag("too_deep", "MIME nesting deeper than " + std::to_string(options_.max_depth) + " levels was not read");
    return {};
  }
  if (++parts_ > options_.max_parts) {
    Flag("too_many_parts", "MIME parts after the first " + std::to_string(options_.max_parts) + " were not read");
    return {};
  }
  if (GMIME_IS_MULTIPART(object)) return WalkMultipart(GMIME_MULTIPART(object), entity, depth);
  if (GMIME_IS_MESSAGE_PART(object)) return WalkMessagePart(GMIME_MESSAGE_PART(object), entity, depth, raw_entity);
  if (GMIME_IS_PART(object)) return WalkLeaf(GMIME_PART(object), entity, depth);
  return {};
}

Walker::Body Walker::WalkMultipart(GMimeMultipart* multipart, const Entity& entity, int depth) {
  GMimeObject* object = GMIME_OBJECT(multipart);
  const std::string type = MimeType(object);
  const int count = g_mime_multipart_get_count(multipart);
  if (count == 0) {
    if (entity.HasWarning(GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY, ContentTypeOffset(object))) {
      return RecoverMissingBoundary(multipart, entity, depth);
    }
    Flag("broken_mime", type + " has no parts");
    std::string text;
    if (const char* prologue = g_mime_multipart_get_prologue(multipart)) text += prologue;
    if (const char* epilogue = g_mime_multipart_get_epilogue(multipart)) text += epilogue;
    return Body{detail::UnixLineEndings(detail::ToUtf8(text, "").text), false};
  }
  if (GMIME_IS_MULTIPART_ENCRYPTED(object)) return WalkEncrypted(multipart, entity, depth);
  if (GMIME_IS_MULTIPART_SIGNED(object)) return WalkSigned(multipart, entity, depth);

  // Attached messages need their exact bytes, which only the delimiters give.
  std::vector<std::string_view> raw_parts;
  for (int i = 0; i < count; ++i) {
    if (GMIME_IS_MESSAGE_PART(g_mime_multipart_get_part(multipart, i))) {
      const gint64 offset = ContentTypeOffset(object);
      const char* boundary = g_mime_multipart_get_boundary(multipart);
      if (offset >= 0 && boundary != nullptr) {
        raw_parts = detail::RawBodyParts(entity.source, static_cast<std::size_t>(offset), boundary);
      }
      break;
    }
  }

  const std::size_t first_attachment = mail_.attachments.size();
  std::vector<Body> bodies;
  for (int i = 0; i < count; ++i) {
    const std::string_view raw = raw_parts.size() == static_cast<std::size_t>(count)
                                     ? raw_parts[static_cast<std::size_t>(i)]
                                     : std::string_view();
    bodies.push_back(Walk(g_mime_multipart_get_part(multipart, i), entity, depth + 1, raw));
  }
  ReadAbuseReport(multipart, first_attachment);

  if (type == "multipart/alternative") {
    // The plain text version when there is one, else the HTML one rendered.
    const Body* chosen = nullptr;
    for (const Body& body : bodies) {
      if (detail::Trim(body.text).empty()) continue;
      if (chosen == nullptr || (chosen->html && !body.html)) chosen = &body;
    }
    return chosen == nullptr ? Body{} : *chosen;
  }
  Body joined{{}, true};
  bool any = false;
  for (Body& body : bodies) {
    if (detail::Trim(body.text).empty()) continue;
    if (!joined.text.empty() && !joined.text.ends_with("\n\n"))
      joined.text += joined.text.ends_with('\n') ? "\n" : "\n\n";
    joined.text += body.text;
    joined.html = joined.html && body.html;
    any = true;
  }
  if (!any) joined.html = false;
  return joined;
}

Walker::Body Walker::RecoverMissingBoundary(GMimeMultipart* multipart, const Entity& entity, int depth) {
  GMimeObject* object = GMIME_OBJECT(multipart);
  const std::string type = MimeType(object);
  std::string body;
  if (const char* prologue = g_mime_multipart_get_prologue(multipart)) body += prologue;
  if (const char* epilogue = g_mime_multipart_get_epilogue(multipart)) body += epilogue;
  // The first line that looks like a delimiter names the boundary the sender forgot to declare.
  std::string boundary;
  for (std::size_t pos = 0; pos < body.size();) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    const std::string_view line = detail::Trim(std::string_view(body).substr(pos, end - pos));
    if (line.size() > 2 && line.starts_with("--")) {
      boundary = std::string(line.substr(2));
      break;
    }
    pos = end + 1;
  }
  if (boundary.empty() || boundary.find('"') != std::string::npos) {
    Flag("broken_mime", type + " has no boundary parameter and no delimiter line; its body is read as text");
    return Body{detail::UnixLineEndings(detail::ToUtf8(body, "").text), false};
  }
  Flag("broken_mime",
       type + " has no boundary parameter; read with the delimiter found in its body (--" + boundary + ")");
  std::string rebuilt = "Content-Type: " + type + "; boundary=\"" + boundary + "\"\r\n\r\n" + body;
  return WalkReparsed(std::move(rebuilt), entity, depth);
}

Walker::Body Walker::WalkReparsed(std::string bytes, const Entity& /*parent*/, int depth) {
  entities_.push_back(ParseEntity(CutExcessParts(bytes), As::kPart));
  const Entity& reparsed = *entities_.back();
  if (!reparsed.part) return Body{detail::UnixLineEndings(detail::ToUtf8(bytes, "").text), false};
  GMimeObject* object = reparsed.part.get();
  // The replacement stands for the broken entity: same depth, and it must not recurse into
  // another repair of itself.
  if (GMIME_IS_MULTIPART(object) && g_mime_multipart_get_count(GMIME_MULTIPART(object)) == 0) {
    return Body{detail::UnixLineEndings(detail::ToUtf8(bytes, "").text), false};
  }
  --parts_;
  return Walk(object, reparsed, depth, {});
}

void Walker::ReadAbuseReport(GMimeMultipart* multipart, std::size_t first_attachment) {
  if (mail_.abuse) return;
  GMimeObject* object = GMIME_OBJECT(multipart);
  const std::string type = MimeType(object);
  const auto original_from = [&](std::size_t from, std::initializer_list<std::string_view> types) -> std::string {
    for (std::size_t i = from; i < mail_.attachments.size(); ++i) {
      for (const std::string_view wanted : types) {
        if (mail_.attachments[i].content_type == wanted) {
          return detail::UnixLineEndings(detail::ValidUtf8(mail_.attachments[i].content));
        }
      }
    }
    return {};
  };
  if (type == "multipart/report" &&
      Lower(g_mime_object_get_content_type_parameter(object, "report-type")) == "feedback-report") {
    for (std::size_t i = first_attachment; i < mail_.attachments.size(); ++i) {
      if (mail_.attachments[i].content_type != "message/feedback-report") continue;
      core::AbuseReport report = detail::ReadArf(mail_.attachments[i].content);
      report.original_message = original_from(i + 1, {"message/rfc822", "text/rfc822-headers"});
      mail_.abuse = std::move(report);
      return;
    }
    return;
  }
  // X-ARF v0.2: the second part is report.txt (YAML), the third the evidence.
  const int count = g_mime_multipart_get_count(multipart);
  if (type == "multipart/mixed" && count >= 2) {
    GMimeObject* second = g_mime_multipart_get_part(multipart, 1);
    const char* name = GMIME_IS_PART(second) ? g_mime_part_get_filename(GMIME_PART(second)) : nullptr;
    if (xarf_header_ || (name != nullptr && detail::EqualsIgnoreCase(name, "report.txt"))) {
      for (std::size_t i = first_attachment; i < mail_.attachments.size(); ++i) {
        if (!detail::EqualsIgnoreCase(mail_.attachments[i].filename, "report.txt")) continue;
        if (std::optional<core::AbuseReport> report = detail::ReadXarf02(mail_.attachments[i].content)) {
          if (i + 1 < mail_.attachments.size()) {
            report->original_message = detail::UnixLineEndings(detail::ValidUtf8(mail_.attachments[i + 1].content));
          }
          mail_.abuse = std::move(*report);
          return;
        }
      }
    }
  }
  // X-ARF v4: a JSON part holding an "xarf_version".
  for (std::size_t i = first_attachment; i < mail_.attachments.size(); ++i) {
    const core::MailAttachment& attachment = mail_.attachments[i];
    const bool json = attachment.content_type == "application/json" || attachment.filename.ends_with(".json");
    if (!json || attachment.content.find("\"xarf_version\"") == std::string::npos) continue;
    std::string why;
    if (std::optional<core::AbuseReport> report = detail::ReadXarf4(attachment.content, &why)) {
      mail_.abuse = std::move(*report);
      return;
    }
    Flag("bad_abuse_report", attachment.filename + ": " + why);
  }
}

Walker::Body Walker::WalkSigned(GMimeMultipart* multipart, const Entity& entity, int depth) {
  GMimeObject* object = GMIME_OBJECT(multipart);
  GMimeObject* content = g_mime_multipart_get_part(multipart, 0);
  GMimeObject* signature =
      g_mime_multipart_get_count(multipart) > 1 ? g_mime_multipart_get_part(multipart, 1) : nullptr;
  const std::string protocol = Lower(g_mime_object_get_content_type_parameter(object, "protocol"));
  std::vector<std::string_view> raw_parts;
  const gint64 offset = ContentTypeOffset(object);
  const char* boundary = g_mime_multipart_get_boundary(multipart);
  if (offset >= 0 && boundary != nullptr) {
    raw_parts = detail::RawBodyParts(entity.source, static_cast<std::size_t>(offset), boundary);
  }
  Body body = Walk(content, entity, depth + 1, raw_parts.empty() ? std::string_view() : raw_parts[0]);
  if (protocol != "application/pgp-signature" || signature == nullptr || !GMIME_IS_PART(signature)) {
    if (signature != nullptr) Walk(signature, entity, depth + 1, {});  // S/MIME: keep the signature
    return body;
  }
  ++parts_;
  const std::string signature_bytes = Decode(GMIME_PART(signature));
  if (keyring_ == nullptr) {
    Flag("signature_unchecked", "the message is PGP-signed and no keyring was given");
    return body;
  }
  // RFC 3156: the signature covers the first part exactly as sent, in canonical CRLF form.
  std::string signed_bytes;
  if (!raw_parts.empty()) {
    signed_bytes = detail::CanonicalCrlf(raw_parts[0]);
  } else {
    char* serialized = g_mime_object_to_string(content, nullptr);
    signed_bytes = detail::CanonicalCrlf(serialized == nullptr ? "" : serialized);
    g_free(serialized);
  }
  auto checked = keyring_->VerifyDetached(signed_bytes, signature_bytes);
  if (!checked) {
    mail_.signatures.push_back(core::SignatureCheck{});  // kError
    Flag("signature_error", "the PGP/MIME signature could not be checked: " + checked.error().message());
    return body;
  }
  for (core::SignatureCheck& check : *checked) mail_.signatures.push_back(std::move(check));
  return body;
}

Walker::Body Walker::WalkEncrypted(GMimeMultipart* multipart, const Entity& /*entity*/, int depth) {
  mail_.encrypted = true;
  GMimeObject* object = GMIME_OBJECT(multipart);
  const std::string protocol = Lower(g_mime_object_get_content_type_parameter(object, "protocol"));
  GMimeObject* content = g_mime_multipart_get_count(multipart) > 1 ? g_mime_multipart_get_part(multipart, 1) : nullptr;
  if (content == nullptr || !GMIME_IS_PART(content)) {
    Flag("decrypt_failed", "multipart/encrypted without its encrypted part");
    return {};
  }
  parts_ += 2;
  const std::string ciphertext = Decode(GMIME_PART(content));
  const auto keep_original = [&](std::string_view reason) {
    Flag("decrypt_failed", reason);
    return Body{detail::UnixLineEndings(detail::ValidUtf8(ciphertext)), false};
  };
  if (protocol != "application/pgp-encrypted") return keep_original("unsupported protocol '" + protocol + "'");
  if (keyring_ == nullptr) return keep_original("no keyring");
  auto decrypted = keyring_->Decrypt(ciphertext);
  if (!decrypted) return keep_original(decrypted.error().message());
  mail_.decrypted = true;
  for (core::SignatureCheck& check : decrypted->signatures) mail_.signatures.push_back(std::move(check));
  std::string plaintext = std::move(decrypted->plaintext);
  decoded_bytes_ += plaintext.size();
  if (plaintext.size() > options_.max_message_bytes) {
    Flag("truncated", "the decrypted message is " + std::to_string(plaintext.size()) + " bytes, over the limit of " +
                          std::to_string(options_.max_message_bytes));
    plaintext.resize(options_.max_message_bytes);
  }
  if (!LooksLikeMimeEntity(plaintext)) return Body{detail::UnixLineEndings(detail::ToUtf8(plaintext, "").text), false};
  entities_.push_back(ParseEntity(plaintext, As::kPart));
  const Entity& inner = *entities_.back();
  return Walk(inner.part.get(), inner, depth + 1, {});
}

Walker::Body Walker::WalkMessagePart(GMimeMessagePart* part, const Entity& entity, int depth,
                                     std::string_view raw_entity) {
  GMimeObject* object = GMIME_OBJECT(part);
  GMimeMessage* message = g_mime_message_part_get_message(part);
  std::string content;
  if (!raw_entity.empty()) {
    content.assign(raw_entity.substr(std::min(raw_entity.size(), detail::HeaderBlockEnd(raw_entity, 0))));
  } else if (message != nullptr) {
    char* serialized = g_mime_object_to_string(GMIME_OBJECT(message), nullptr);
    if (serialized != nullptr) content = serialized;
    g_free(serialized);
  }
  decoded_bytes_ += content.size();
  std::string filename;
  if (const char* name = g_mime_object_get_content_disposition_parameter(object, "filename")) filename = name;
  if (filename.empty()) {
    if (const char* name = g_mime_object_get_content_type_parameter(object, "name")) filename = name;
  }
  if (filename.empty() && message != nullptr) {
    const std::string subject = DecodeSubject(g_mime_message_get_subject(message));
    filename = (subject.empty() ? "message" : subject.substr(0, 100)) + ".eml";
  }
  AddAttachment(detail::OneLine(filename), MimeType(object), std::move(content));
  if (message != nullptr) {
    Body inner = Walk(g_mime_message_get_mime_part(message), entity, depth + 1, {});
    if (!detail::Trim(inner.text).empty()) forwarded_texts_.push_back(std::move(inner.text));
  }
  return {};
}

Walker::Body Walker::WalkLeaf(GMimePart* part, const Entity& entity, int depth) {
  GMimeObject* object = GMIME_OBJECT(part);
  std::string type = MimeType(object);
  std::string charset = g_mime_object_get_content_type_parameter(object, "charset") == nullptr
                            ? std::string()
                            : std::string(g_mime_object_get_content_type_parameter(object, "charset"));
  if (type == "application/octet-stream") {
    // A Content-Type without subtype ("text", "multipart; boundary=x") is read by GMime as
    // octet-stream; read it as what it says.
    const std::string declared = Header(object, "Content-Type");
    const std::string_view token = detail::Trim(std::string_view(declared).substr(0, declared.find(';')));
    const std::string_view params = declared.find(';') == std::string::npos
                                        ? std::string_view()
                                        : std::string_view(declared).substr(declared.find(';'));
    if (detail::EqualsIgnoreCase(token, "multipart")) {
      Flag("broken_mime", "Content-Type '" + declared + "' has no subtype; read as multipart/mixed");
      std::string rebuilt = "Content-Type: multipart/mixed" + std::string(params) + "\r\n\r\n" + Decode(part);
      return WalkReparsed(std::move(rebuilt), entity, depth);
    }
    if (detail::EqualsIgnoreCase(token, "text")) {
      Flag("broken_mime", "Content-Type '" + declared + "' has no subtype; read as text/plain");
      GPtr<GMimeContentType> parsed(
          g_mime_content_type_parse(entity.options.get(), ("text/plain" + std::string(params)).c_str()));
      if (parsed) {
        const char* parsed_charset = g_mime_content_type_get_parameter(parsed.get(), "charset");
        if (parsed_charset != nullptr) charset = parsed_charset;
      }
      type = "text/plain";
    }
  }
  const char* disposition = g_mime_object_get_disposition(object);
  const char* name = g_mime_part_get_filename(part);
  const std::string filename = name == nullptr ? std::string() : detail::OneLine(name);
  const bool attachment_disposition = disposition != nullptr && detail::EqualsIgnoreCase(disposition, "attachment");
  const bool inline_disposition = disposition != nullptr && detail::EqualsIgnoreCase(disposition, "inline");
  const bool body_text = (type == "text/plain" || type == "text/html") && !attachment_disposition &&
                         (filename.empty() || inline_disposition);
  if (body_text) return WalkText(Decode(part), charset, type == "text/html");

  std::string content = Decode(part);
  if (type == "message/rfc822" && depth < options_.max_depth) {
    // A transfer-encoded attached message: GMime leaves it as a leaf; read it here.
    AddAttachment(filename.empty() ? "message.eml" : filename, type, content);
    entities_.push_back(ParseEntity(content, As::kMessage));
    const Entity& inner = *entities_.back();
    if (inner.message) {
      Body text = Walk(g_mime_message_get_mime_part(inner.message.get()), inner, depth + 1, {});
      if (!detail::Trim(text.text).empty()) forwarded_texts_.push_back(std::move(text.text));
    }
    return {};
  }
  AddAttachment(filename, type, std::move(content));
  return {};
}

Walker::Body Walker::WalkText(std::string bytes, const std::string& charset, bool html) {
  if (decoded_bytes_ > options_.max_decoded_bytes) return {};
  std::string text = InlineBlocks(bytes, charset);
  if (html) text = detail::HtmlToText(text);
  return Body{detail::UnixLineEndings(detail::ValidUtf8(text)), html};
}

std::string Walker::TextFromBytes(std::string_view bytes, const std::string& charset) {
  detail::Utf8Text converted = detail::ToUtf8(bytes, charset);
  if (converted.unknown_charset) {
    Flag("bad_charset", "unknown charset '" + charset + "'; read as " + converted.charset_used);
  } else if (converted.errors > 0) {
    Flag("bad_charset", std::to_string(converted.errors) + " bytes could not be read as " +
                            (charset.empty() ? converted.charset_used : charset) + " and were replaced");
  }
  return std::move(converted.text);
}

// The text of a text part, with inline PGP blocks decrypted or verified through the keyring and
// uuencoded files taken out as attachments.
std::string Walker::InlineBlocks(std::string_view bytes, const std::string& charset) {
  const std::vector<detail::TextBlock> blocks = detail::FindTextBlocks(bytes);
  if (blocks.empty()) return TextFromBytes(bytes, charset);
  std::string text;
  std::size_t pos = 0;
  for (const detail::TextBlock& block : blocks) {
    text += TextFromBytes(bytes.substr(pos, block.begin - pos), charset);
    const std::string_view raw = bytes.substr(block.begin, block.end - block.begin);
    pos = block.end;
    switch (block.kind) {
      case detail::BlockKind::kUuencode: {
        AddAttachment(detail::OneLine(detail::ToUtf8(block.name, charset).text), "application/octet-stream",
                      detail::UudecodeBlock(raw));
        text += "[uuencoded file: " + detail::OneLine(detail::ToUtf8(block.name, charset).text) + "]\n";
        break;
      }
      case detail::BlockKind::kPgpMessage: {
        mail_.encrypted = true;
        if (keyring_ == nullptr) {
          Flag("decrypt_failed", "no keyring");
          text += TextFromBytes(raw, charset);
          break;
        }
        auto decrypted = keyring_->Decrypt(raw);
        if (!decrypted) {
          Flag("decrypt_failed", decrypted.error().message());
          text += TextFromBytes(raw, charset);
          break;
        }
        mail_.decrypted = true;
        for (core::SignatureCheck& check : decrypted->signatures) mail_.signatures.push_back(std::move(check));
        decoded_bytes_ += decrypted->plaintext.size();
        text += TextFromBytes(decrypted->plaintext, "");
        if (!text.ends_with('\n')) text += '\n';
        break;
      }
      case detail::BlockKind::kPgpSigned: {
        if (keyring_ == nullptr) {
          Flag("signature_unchecked", "the text is PGP-signed and no keyring was given");
          text += TextFromBytes(raw, charset);
          break;
        }
        auto verified = keyring_->VerifyInline(raw);
        if (!verified) {
          mail_.signatures.push_back(core::SignatureCheck{});
          Flag("signature_error", "the inline PGP signature could not be checked: " + verified.error().message());
          text += TextFromBytes(raw, charset);
          break;
        }
        for (core::SignatureCheck& check : verified->signatures) mail_.signatures.push_back(std::move(check));
        text += TextFromBytes(verified->plaintext, charset);
        if (!text.ends_with('\n')) text += '\n';
        break;
      }
    }
  }
  text += TextFromBytes(bytes.substr(pos), charset);
  return text;
}

std::string_view Walker::CutExcessParts(std::string_view bytes) {
  const std::optional<std::size_t> cut = DelimiterCut(bytes, 2 * options_.max_parts + 2);
  if (!cut) return bytes;
  Flag("too_many_parts", "the message has more MIME delimiters than " + std::to_string(options_.max_parts) +
                             " parts need; it was read up to byte " + std::to_string(*cut));
  return bytes.substr(0, *cut);
}

std::string Walker::Decode(GMimePart* part) {
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (wrapper == nullptr) return {};
  GByteArray* array = g_byte_array_new();
  GPtr<GMimeStream> out(g_mime_stream_mem_new_with_byte_array(array));
  g_mime_data_wrapper_write_to_stream(wrapper, out.get());
  std::string content(reinterpret_cast<const char*>(array->data), array->len);
  decoded_bytes_ += content.size();
  return content;
}

void Walker::AddAttachment(std::string filename, std::string content_type, std::string content) {
  core::MailAttachment attachment;
  attachment.filename = std::move(filename);
  attachment.content_type = std::move(content_type);
  attachment.sha256 = common::Sha256Hex(content);
  attachment.magic_type = detail::SniffMimeType(content);
  const std::string label = attachment.filename.empty() ? attachment.content_type : attachment.filename;
  if (content.size() > options_.max_attachment_bytes) {
    Flag("attachment_dropped", label + ": " + std::to_string(content.size()) + " bytes decoded, over the limit of " +
                                   std::to_string(options_.max_attachment_bytes) + "; content not kept");
    content.clear();
  } else if (decoded_bytes_ > options_.max_decoded_bytes) {
    Flag("decoded_limit", label + ": the message's decoded content is over " +
                              std::to_string(options_.max_decoded_bytes) + " bytes; content not kept");
    content.clear();
  }
  attachment.content = std::move(content);
  mail_.attachments.push_back(std::move(attachment));
}

}  // namespace

core::InboundMail ParseMail(std::string_view raw, const MailParseOptions& options, core::KeyRing* keyring) {
  detail::InitGMime();
  InboundMail mail;
  try {
    Walker walker(options, keyring, mail);
    walker.Run(raw);
  } catch (const std::exception& error) {
    // Out of memory, most likely: keep what a person needs to read the message.
    InboundMail failed;
    failed.flags = {"parse_failed"};
    failed.problems = {std::string("parse_failed: ") + error.what()};
    failed.text = detail::ValidUtf8(raw);
    return failed;
  }
  return mail;
}

}  // namespace hikeshi::intake::mail
