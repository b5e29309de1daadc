#include "hikeshi/notify/compose.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <string_view>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/common/utf8.hpp"
#include "hikeshi/core/keyring.hpp"

#include "detail/mime_text.hpp"

namespace hikeshi::notify {
namespace {

using detail::HeaderFolder;

constexpr std::size_t kMaxAddressLength = 254;  // RFC 5321 section 4.5.3.1.3 (path minus brackets)
constexpr std::size_t kMaxMessageIdLength = 250;
constexpr std::size_t kMaxQuotedName = 60;  // longer names are encoded, so they can fold
constexpr std::size_t kMaxHeaderNameLength = 76;
constexpr std::size_t kBoundaryRandomBytes = 18;
constexpr std::size_t kMessageIdRandomBytes = 18;

// Headers Compose() writes itself; an extra header may not add a second one.
constexpr std::array<std::string_view, 15> kReservedHeaders = {"date",
                                                               "from",
                                                               "sender",
                                                               "to",
                                                               "cc",
                                                               "bcc",
                                                               "subject",
                                                               "message-id",
                                                               "in-reply-to",
                                                               "references",
                                                               "mime-version",
                                                               "content-type",
                                                               "content-transfer-encoding",
                                                               "content-disposition",
                                                               "content-id"};

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), LowerAscii);
  return out;
}

bool IsAsciiAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 5322 atext.
bool IsAtext(char c) {
  return IsAsciiAlnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header text: UTF-8 without line breaks or other control characters (TAB allowed).
Result<void> CheckHeaderText(std::string_view value, std::string_view what, std::string field) {
  for (char c : value) {
    if (c == '\r' || c == '\n') {
      return Fail(Error::InvalidArgument(std::string(what) + " must not contain a line break (CR or LF)", field));
    }
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return Fail(Error::InvalidArgument(std::string(what) + " must not contain control characters", field));
    }
  }
  if (!common::IsValidUtf8(value)) {
    return Fail(Error::InvalidArgument(std::string(what) + " is not valid UTF-8", std::move(field)));
  }
  return {};
}

// A plain dot-atom addr-spec: what we send to; quoted local parts and address literals are refused.
Result<void> CheckAddress(std::string_view address, std::string field) {
  HIKESHI_CHECK(CheckHeaderText(address, "address", field));
  auto bad = [&](std::string_view why) {
    return Fail(Error::InvalidArgument("address '" + std::string(address) + "' " + std::string(why), field));
  };
  if (address.empty()) return bad("is empty");
  if (address.size() > kMaxAddressLength) return bad("is too long");
  std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) return bad("is not local@domain");
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  for (char c : address) {
    if (static_cast<unsigned char>(c) >= 0x80) return bad("is not ASCII (write an IDN domain in its A-label form)");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return bad("has a misplaced dot in its local part");
  }
  if (!std::all_of(local.begin(), local.end(), [](char c) { return IsAtext(c) || c == '.'; })) {
    return bad("has a character its local part may not hold");
  }
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos ||
      !std::all_of(domain.begin(), domain.end(), [](char c) { return IsAsciiAlnum(c) || c == '-' || c == '.'; })) {
    return bad("has an invalid domain");
  }
  return {};
}

// "<left@right>" in printable ASCII without blanks or nested brackets.
Result<void> CheckMessageId(std::string_view id, std::string field) {
  HIKESHI_CHECK(CheckHeaderText(id, "message id", field));
  bool ok = id.size() >= 5 && id.size() <= kMaxMessageIdLength && id.front() == '<' && id.back() == '>';
  std::string_view inner = ok ? id.substr(1, id.size() - 2) : std::string_view();
  std::size_t at = inner.find('@');
  ok = ok && at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
       std::all_of(inner.begin(), inner.end(), [](char c) {
         auto byte = static_cast<unsigned char>(c);
         return byte > 0x20 && byte < 0x7f && c != '<' && c != '>';
       });
  if (!ok) return Fail(Error::InvalidArgument("message id '" + std::string(id) + "' is not <left@right>", field));
  return {};
}

Result<void> CheckHeaderName(std::string_view name, std::string field) {
  bool ok = !name.empty() && name.size() <= kMaxHeaderNameLength &&
            std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f && c != ':'; });
  if (!ok) return Fail(Error::InvalidArgument("header name '" + std::string(name) + "' is malformed", field));
  std::string lower = Lower(name);
  if (std::find(kReservedHeaders.begin(), kReservedHeaders.end(), lower) != kReservedHeaders.end()) {
    return Fail(Error::InvalidArgument("header '" + std::string(name) + "' is written by the composer itself", field));
  }
  return {};
}

// True when `name` can be written as plain atoms: ASCII words of atext separated by single spaces.
bool IsPlainPhrase(std::string_view name) {
  if (name.find("=?") != std::string_view::npos || name.find("  ") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAtext(c) || c == ' '; });
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void AppendMailbox(HeaderFolder& folder, const MailAddress& mailbox, bool last) {
  std::string address = last ? mailbox.address : mailbox.address + ",";
  std::string_view name = TrimBlanks(mailbox.name);
  if (name.empty()) return folder.Append(" ", address);
  if (IsPlainPhrase(name)) {
    std::size_t pos = 0;
    while (pos < name.size()) {
      std::size_t space = name.find(' ', pos);
      folder.Append(" ", name.substr(pos, space - pos));
      if (space == std::string_view::npos) break;
      pos = space + 1;
    }
  } else if (IsPrintableAscii(name) && name.size() <= kMaxQuotedName) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    quoted.push_back('"');
    folder.Append(" ", quoted);
  } else {
    folder.AppendEncoded(" ", name);
  }
  folder.Append(" ", "<" + address.substr(0, mailbox.address.size()) + ">" + (last ? "" : ","));
}

Result<void> CheckMailbox(const MailAddress& mailbox, const std::string& field) {
  HIKESHI_CHECK(CheckHeaderText(mailbox.name, "display name", field + "/name"));
  return CheckAddress(mailbox.address, field + "/address");
}

std::string AddressList(std::string_view header, const std::vector<MailAddress>& list) {
  HeaderFolder folder(header);
  for (std::size_t i = 0; i < list.size(); ++i) AppendMailbox(folder, list[i], i + 1 == list.size());
  return std::move(folder).Finish();
}

void InitRandomOnce() {
  static std::once_flag once;
  std::call_once(once, [] { common::InitCrypto(); });
}

// LF, CR and CRLF all become CRLF, and non-empty text ends with one.
std::string ToCrlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16 + 2);
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r') {
      out += "\r\n";
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += "\r\n";
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

// The standard headers up to and excluding MIME-Version.
struct Envelope {
  std::string headers;
  std::string message_id;
  std::vector<std::string> recipients;
};

Result<Envelope> BuildHeaders(const MailDraft& draft) {
  HIKESHI_CHECK(CheckMailbox(draft.from, "/from"));
  if (draft.to.empty() && draft.cc.empty()) return Fail(Error::InvalidArgument("the mail has no recipient", "/to"));
  Envelope envelope;
  for (std::size_t i = 0; i < draft.to.size(); ++i) {
    HIKESHI_CHECK(CheckMailbox(draft.to[i], "/to/" + std::to_string(i)));
    envelope.recipients.push_back(draft.to[i].address);
  }
  for (std::size_t i = 0; i < draft.cc.size(); ++i) {
    HIKESHI_CHECK(CheckMailbox(draft.cc[i], "/cc/" + std::to_string(i)));
    envelope.recipients.push_back(draft.cc[i].address);
  }
  HIKESHI_CHECK(CheckHeaderText(draft.subject, "subject", "/subject"));
  if (draft.message_id.empty()) {
    InitRandomOnce();
    std::string_view domain = std::string_view(draft.from.address).substr(draft.from.address.rfind('@') + 1);
    envelope.message_id = "<" + common::RandomToken(kMessageIdRandomBytes) + "@" + std::string(domain) + ">";
  } else {
    HIKESHI_CHECK(CheckMessageId(draft.message_id, "/message_id"));
    envelope.message_id = draft.message_id;
  }
  if (!draft.in_reply_to.empty()) HIKESHI_CHECK(CheckMessageId(draft.in_reply_to, "/in_reply_to"));
  for (std::size_t i = 0; i < draft.references.size(); ++i) {
    HIKESHI_CHECK(CheckMessageId(draft.references[i], "/references/" + std::to_string(i)));
  }
  for (std::size_t i = 0; i < draft.extra_headers.size(); ++i) {
    std::string field = "/extra_headers/" + std::to_string(i);
    HIKESHI_CHECK(CheckHeaderName(draft.extra_headers[i].name, field + "/name"));
    HIKESHI_CHECK(CheckHeaderText(draft.extra_headers[i].value, "header value", field + "/value"));
  }

  std::string& out = envelope.headers;
  auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  out += "Date: " + detail::FormatMailDate(draft.date.value_or(now)) + "\r\n";
  out += AddressList("From", {draft.from});
  if (!draft.to.empty()) out += AddressList("To", draft.to);
  if (!draft.cc.empty()) out += AddressList("Cc", draft.cc);
  if (std::string_view subject = TrimBlanks(draft.subject); !subject.empty()) {
    HeaderFolder folder("Subject");
    folder.AppendUnstructured(subject);
    out += std::move(folder).Finish();
  }
  out += "Message-ID: " + envelope.message_id + "\r\n";
  if (!draft.in_reply_to.empty()) out += "In-Reply-To: " + draft.in_reply_to + "\r\n";
  if (!draft.references.empty()) {
    HeaderFolder folder("References");
    for (const auto& id : draft.references) folder.Append(" ", id);
    out += std::move(folder).Finish();
  }
  for (const auto& header : draft.extra_headers) {
    HeaderFolder folder(header.name);
    if (std::string_view value = TrimBlanks(header.value); !value.empty()) folder.AppendUnstructured(value);
    out += std::move(folder).Finish();
  }
  return envelope;
}

// The text/plain MIME entity: its Content-* headers, a blank line and the encoded body.
std::string TextEntity(std::string_view text) {
  std::string body = ToCrlf(text);
  std::string entity = "Content-Type: text/plain; charset=utf-8\r\n";
  if (detail::IsSafe7bit(body)) {
    entity += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    entity += body;
    return entity;
  }
  auto non_ascii =
      std::count_if(body.begin(), body.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  // Quoted-printable triples each non-ASCII byte and base64 costs a third overall: QP is smaller
  // (and stays readable) while under about a fifth of the bytes are non-ASCII.
  if (static_cast<std::size_t>(non_ascii) * 5 < body.size()) {
    entity += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    entity += detail::QuotedPrintableEncode(body);
  } else {
    entity += "Content-Transfer-Encoding: base64\r\n\r\n";
    entity += detail::Base64Encode(body, 76);
  }
  return entity;
}

Result<void> CheckText(std::string_view text) {
  if (!common::IsValidUtf8(text)) return Fail(Error::InvalidArgument("the text is not valid UTF-8", "/text"));
  return {};
}

// A boundary that occurs in none of `parts`. "=_" cannot occur in quoted-printable or base64
// output, and the random part makes a collision with anything else practically impossible.
std::string NewBoundary(std::initializer_list<std::string_view> parts) {
  InitRandomOnce();
  for (;;) {
    std::string boundary = "=_hikeshi_" + common::RandomToken(kBoundaryRandomBytes);
    if (std::none_of(parts.begin(), parts.end(),
                     [&](std::string_view part) { return part.find(boundary) != std::string_view::npos; })) {
      return boundary;
    }
  }
}

std::string ContentTypeHeader(std::initializer_list<std::string_view> atoms) {
  HeaderFolder folder("Content-Type");
  for (std::string_view atom : atoms) folder.Append(" ", atom);
  return std::move(folder).Finish();
}

// ASCII armour as returned by the key ring, with CRLF line ends and a final CRLF.
Result<std::string> NormaliseArmour(std::string_view armour, std::string_view what) {
  bool ascii = std::all_of(armour.begin(), armour.end(),
                           [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n'; });
  if (!ascii || armour.empty()) {
    return Fail(Error::Internal("the key ring returned a " + std::string(what) + " that is not ASCII armour"));
  }
  return ToCrlf(armour);
}

}  // namespace

Result<ComposedMail> Compose(const MailDraft& draft) {
  HIKESHI_TRY(Envelope envelope, BuildHeaders(draft));
  HIKESHI_CHECK(CheckText(draft.text));
  ComposedMail mail{.message_id = std::move(envelope.message_id),
                    .recipients = std::move(envelope.recipients),
                    .message = std::move(envelope.headers)};
  mail.message += "MIME-Version: 1.0\r\n";
  mail.message += TextEntity(draft.text);
  return mail;
}

Result<ComposedMail> ComposeSigned(const MailDraft& draft, core::KeyRing& keys) {
  HIKESHI_TRY(Envelope envelope, BuildHeaders(draft));
  HIKESHI_CHECK(CheckText(draft.text));
  // RFC 3156 section 5: the signed data is the first body part exactly as sent, its MIME headers
  // included, and the CRLF before the next boundary belongs to the boundary, not to the part.
  std::string entity = TextEntity(draft.text);
  HIKESHI_TRY(std::string signature, keys.SignDetached(entity));
  HIKESHI_TRY(signature, NormaliseArmour(signature, "signature"));
  std::string boundary = NewBoundary({entity, signature});

  ComposedMail mail{.message_id = std::move(envelope.message_id),
                    .recipients = std::move(envelope.recipients),
                    .message = std::move(envelope.headers)};
  std::string& out = mail.message;
  out += "MIME-Version: 1.0\r\n";
  out += ContentTypeHeader({"multipart/signed;", "boundary=\"" + boundary + "\";", "micalg=pgp-sha256;",
                            "protocol=\"application/pgp-signature\""});
  out += "\r\nThis is an OpenPGP/MIME signed message (RFC 4880 and 3156).\r\n";
  out += "--" + boundary + "\r\n";
  out += entity;
  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n";
  out += "Content-Description: OpenPGP digital signature\r\n";
  out += "Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n";
  out += signature;
  out += "\r\n--" + boundary + "--\r\n";
  return mail;
}

Result<ComposedMail> ComposeEncrypted(const MailDraft& draft, const std::vector<std::string>& recipient_fingerprints,
                                      core::KeyRing& keys) {
  HIKESHI_TRY(Envelope envelope, BuildHeaders(draft));
  HIKESHI_CHECK(CheckText(draft.text));
  if (recipient_fingerprints.empty()) {
    return Fail(Error::InvalidArgument("an encrypted mail needs at least one recipient key", "/recipient_keys"));
  }
  // RFC 3156 section 6.2: the combined method, one OpenPGP message that is both signed and
  // encrypted, over the MIME entity a multipart/signed would have carried as its first part.
  std::string entity = TextEntity(draft.text);
  HIKESHI_TRY(std::string ciphertext, keys.SignAndEncrypt(entity, recipient_fingerprints));
  HIKESHI_TRY(ciphertext, NormaliseArmour(ciphertext, "ciphertext"));
  std::string boundary = NewBoundary({ciphertext});

  ComposedMail mail{.message_id = std::move(envelope.message_id),
                    .recipients = std::move(envelope.recipients),
                    .message = std::move(envelope.headers)};
  std::string& out = mail.message;
  out += "MIME-Version: 1.0\r\n";
  out += ContentTypeHeader(
      {"multipart/encrypted;", "boundary=\"" + boundary + "\";", "protocol=\"application/pgp-encrypted\""});
  out += "\r\nThis is an OpenPGP/MIME encrypted message (RFC 4880 and 3156).\r\n";
  out += "--" + boundary + "\r\n";
  out += "Content-Type: application/pgp-encrypted\r\n";
  out += "Content-Description: PGP/MIME version identification\r\n\r\n";
  out += "Version: 1\r\n";
  out += "\r\n--" + boundary + "\r\n";
  out += "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n";
  out += "Content-Description: OpenPGP encrypted message\r\n";
  out += "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n";
  out += ciphertext;
  out += "\r\n--" + boundary + "--\r\n";
  return mail;
}

}  // namespace hikeshi::notify
