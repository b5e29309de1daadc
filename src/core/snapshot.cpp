#include "hikeshi/core/snapshot.hpp"

#include <array>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hikeshi/common/crypto.hpp"
#include "hikeshi/core/mail_codec.hpp"

namespace hikeshi::core {

namespace {
using common::FormatRfc3339;
using nlohmann::ordered_json;

ordered_json Optional(const std::optional<std::int64_t>& v) { return v ? ordered_json(*v) : ordered_json(nullptr); }
ordered_json Optional(const std::optional<Timestamp>& v) {
  return v ? ordered_json(FormatRfc3339(*v)) : ordered_json(nullptr);
}

ordered_json Observables(const std::vector<Observable>& observables) {
  ordered_json out = ordered_json::array();
  for (const auto& o : observables) out.push_back({{"type", ObservableTypeName(o.type)}, {"value", o.value}});
  return out;
}

// One fixed field order per type, so the same object always yields the same bytes. dump() with
// ensure_ascii keeps the bytes independent of how a backend stores text.
std::string Dump(const ordered_json& j) { return j.dump(-1, ' ', true); }

// Writes the bytes Dump() writes, without building a JSON document, for the objects journalled
// most often: a feed's fold snapshots and hashes thousands of reports in one transaction, and every
// delivered mail journals a report, two mail messages and three audit entries. Text is escaped as
// Dump() escapes it (the output is all ASCII); malformed UTF-8 raises the error Dump() raises for it
// (nlohmann's type_error 316), as it always did. tests/snapshot_test.cpp compares the bytes with
// nlohmann's.
class AsciiJson {
 public:
  explicit AsciiJson(std::size_t reserve) { out_.reserve(reserve); }
  std::string Take() { return std::move(out_); }

  AsciiJson& Open(char bracket) {
    Comma();
    out_ += bracket;
    first_ = true;
    return *this;
  }
  AsciiJson& Close(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }
  AsciiJson& Key(std::string_view key) {
    Comma();
    Text(key);
    out_ += ':';
    first_ = true;  // the value that follows takes no comma
    return *this;
  }
  AsciiJson& String(std::string_view value) {
    Comma();
    Text(value);
    return *this;
  }
  AsciiJson& Int(std::int64_t value) {
    Comma();
    out_ += std::to_string(value);
    return *this;
  }
  AsciiJson& Bool(bool value) {
    Comma();
    out_ += value ? "true" : "false";
    return *this;
  }
  AsciiJson& Null() {
    Comma();
    out_ += "null";
    return *this;
  }
  AsciiJson& OptionalInt(const std::optional<std::int64_t>& value) { return value ? Int(*value) : Null(); }
  AsciiJson& OptionalTime(const std::optional<Timestamp>& value) {
    return value ? String(FormatRfc3339(*value)) : Null();
  }

 private:
  void Comma() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  // nlohmann's escaping with ensure_ascii: the bytes below 0x80 as below, and each well-formed
  // UTF-8 sequence as "\u" and four lowercase hex digits (a surrogate pair above U+FFFF). On a
  // malformed sequence, nlohmann's own error, from nlohmann escaping the same text.
  void Text(std::string_view text) {
    out_ += '"';
    for (std::size_t pos = 0; pos < text.size();) {
      // A run of bytes that stand for themselves goes in at once: most text is such a run.
      std::size_t plain = pos;
      while (plain < text.size() && IsPlain(static_cast<unsigned char>(text[plain]))) ++plain;
      if (plain > pos) {
        out_.append(text.data() + pos, plain - pos);
        pos = plain;
        continue;
      }
      const auto byte = static_cast<unsigned char>(text[pos]);
      if (byte >= 0x80) {
        const std::uint32_t code_point = DecodeUtf8(text, pos);
        if (code_point == 0) {
          (void)Dump(ordered_json(std::string(text)));                          // throws json::type_error 316
          throw std::invalid_argument("malformed UTF-8 in a journalled text");  // not reached
        }
        if (code_point <= 0xFFFF) {
          Unit(code_point);
        } else {
          Unit(0xD7C0 + (code_point >> 10));
          Unit(0xDC00 + (code_point & 0x3FF));
        }
        continue;
      }
      ++pos;
      const char c = static_cast<char>(byte);
      switch (c) {
        case '\b':
          out_ += "\\b";
          break;
        case '\t':
          out_ += "\\t";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        default:
          if (byte < 0x20 || byte == 0x7F) {
            Unit(byte);
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  // The bytes that stand for themselves: printable ASCII but the quote and the backslash. One table
  // lookup a byte: the journal's canonical bytes escape whole snapshots of several KB.
  static constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> plain{};
    for (int byte = 0x20; byte < 0x7F; ++byte) plain[static_cast<std::size_t>(byte)] = byte != '"' && byte != '\\';
    return plain;
  }();
  static bool IsPlain(unsigned char byte) { return kPlain[byte]; }
  void Unit(std::uint32_t unit) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out_ += kHex[(unit >> shift) & 0x0F];
  }
  // The code point of the well-formed UTF-8 sequence of 2 to 4 bytes at `pos` (RFC 3629, as
  // nlohmann decodes: no overlong form, no surrogate, nothing above U+10FFFF), `pos` moved past
  // it; 0 when the bytes there are not one.
  static std::uint32_t DecodeUtf8(std::string_view text, std::size_t& pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    unsigned lowest = 0x80;  // range of the second byte
    unsigned highest = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0Fu;
      if (lead == 0xE0) lowest = 0xA0;   // overlong
      if (lead == 0xED) highest = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code_point = lead & 0x07u;
      if (lead == 0xF0) lowest = 0x90;   // overlong
      if (lead == 0xF4) highest = 0x8F;  // above U+10FFFF
    } else {
      return 0;
    }
    if (text.size() - pos < length) return 0;
    for (std::size_t i = 1; i < length; ++i) {
      const auto next = static_cast<unsigned char>(text[pos + i]);
      if (next < (i == 1 ? lowest : 0x80u) || next > (i == 1 ? highest : 0xBFu)) return 0;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    pos += length;
    return code_point;
  }

  std::string out_;
  bool first_ = true;
};
}  // namespace

std::string Snapshot(const Incident& i) {
  ordered_json j;
  j["id"] = i.human_id;
  j["title"] = i.title;
  j["description"] = i.description;
  j["category"] = i.category.ToString();
  j["apt"] = i.apt;
  j["constituency_id"] = Optional(i.constituency_id);
  j["impact"] = i.impact;
  j["urgency"] = i.urgency;
  j["priority"] = i.priority;
  j["status"] = StatusName(i.status);
  j["phase"] = PhaseName(i.phase);
  j["owner_id"] = Optional(i.owner_id);
  j["tlp"] = TlpName(i.tlp);
  j["exercise"] = i.exercise;
  j["merged_into"] = Optional(i.merged_into);
  j["observables"] = Observables(i.observables);
  j["created_at"] = FormatRfc3339(i.created_at);
  j["updated_at"] = FormatRfc3339(i.updated_at);
  j["resolved_at"] = Optional(i.resolved_at);
  j["closed_at"] = Optional(i.closed_at);
  return Dump(j);
}

std::string Snapshot(const Report& r) {
  AsciiJson j(512 + 48 * r.observables.size());
  j.Open('{');
  j.Key("id").String(r.human_id);
  j.Key("channel").String(ChannelName(r.channel));
  j.Key("reporter").String(r.reporter);
  j.Key("subject").String(r.subject);
  j.Key("body_sha256").String(common::Sha256Hex(r.body));  // bodies can be large; the digest pins them
  if (r.category) {
    j.Key("category").String(r.category->ToString());
  } else {
    j.Key("category").Null();
  }
  j.Key("constituency_id").OptionalInt(r.constituency_id);
  j.Key("tlp").String(TlpName(r.tlp));
  j.Key("status").String(ReportStatusName(r.status));
  j.Key("incident_id").OptionalInt(r.incident_id);
  if (r.reject_reason) {
    j.Key("reject_reason").String(RejectReasonName(*r.reject_reason));
  } else {
    j.Key("reject_reason").Null();
  }
  j.Key("reject_comment").String(r.reject_comment);
  j.Key("observables").Open('[');
  for (const auto& o : r.observables) {
    j.Open('{').Key("type").String(ObservableTypeName(o.type)).Key("value").String(o.value).Close('}');
  }
  j.Close(']');
  j.Key("flags").Open('[');
  for (const auto& flag : r.flags) j.String(flag);
  j.Close(']');
  j.Key("fingerprint").String(r.fingerprint);
  j.Key("event_count").Int(r.event_count);
  j.Key("first_seen").OptionalTime(r.first_seen);
  j.Key("last_seen").OptionalTime(r.last_seen);
  j.Key("received_at").String(FormatRfc3339(r.received_at));
  j.Key("updated_at").String(FormatRfc3339(r.updated_at));
  j.Close('}');
  return j.Take();
}

std::string AggregateSnapshot(const Report& r, std::span<const Observable> added) {
  AsciiJson j(160 + 48 * added.size());
  j.Open('{');
  j.Key("event_count").Int(r.event_count);
  j.Key("first_seen").OptionalTime(r.first_seen);
  j.Key("last_seen").OptionalTime(r.last_seen);
  j.Key("updated_at").String(FormatRfc3339(r.updated_at));
  if (!added.empty()) {
    j.Key("observables_added").Open('[');
    for (const auto& o : added) {
      j.Open('{').Key("type").String(ObservableTypeName(o.type)).Key("value").String(o.value).Close('}');
    }
    j.Close(']');
  }
  j.Close('}');
  return j.Take();
}

std::string Snapshot(const Constituency& c) {
  ordered_json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["description"] = c.description;
  j["cidrs"] = c.cidrs;
  j["asns"] = c.asns;
  j["domains"] = c.domains;
  j["created_at"] = FormatRfc3339(c.created_at);
  return Dump(j);
}

std::string Snapshot(const Contact& c) {
  ordered_json j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["email"] = c.email;
  j["organisation"] = c.organisation;
  j["kind"] = ContactKindName(c.kind);
  j["pgp_fingerprint"] = c.pgp_fingerprint;
  j["tlp_clearance"] = TlpName(c.tlp_clearance);
  j["constituency_id"] = Optional(c.constituency_id);
  j["created_at"] = FormatRfc3339(c.created_at);
  // Added by schema 5 (SQLite) / 6 (PostgreSQL). Left out while at their defaults, so that a
  // contact recorded before the upgrade still matches its journal entry (audit verify).
  if (c.trust != ContactTrust::kUnvetted || c.introduced_by) {
    j["trust"] = ContactTrustName(c.trust);
    j["introduced_by"] = Optional(c.introduced_by);
  }
  return Dump(j);
}

std::string Snapshot(const User& u) {
  ordered_json j;
  j["id"] = u.id;
  j["username"] = u.username;
  j["display_name"] = u.display_name;
  j["role"] = RoleName(u.role);
  j["scope_all"] = u.scope_all;
  j["constituency_ids"] = u.constituency_ids;
  // The hash of the hash: a password swapped in behind Hikeshi's back is detected, yet the journal
  // holds nothing an attacker could crack.
  j["password_sha256"] = common::Sha256Hex(u.password_hash);
  j["disabled"] = u.disabled;
  j["created_at"] = FormatRfc3339(u.created_at);
  return Dump(j);
}

std::string Snapshot(const ApiToken& t) {
  ordered_json j;
  j["id"] = t.id;
  j["user_id"] = t.user_id;
  j["name"] = t.name;
  j["secret_sha256"] = t.secret_sha256;
  j["revoked"] = t.revoked;
  j["created_at"] = FormatRfc3339(t.created_at);
  return Dump(j);
}

std::string Snapshot(const FeedRun& r) {
  ordered_json j;
  j["id"] = r.id;
  j["format"] = r.format;
  j["source"] = r.source;
  j["records"] = r.records;
  j["events_new"] = r.events_new;
  j["duplicates"] = r.duplicates;
  j["rejects"] = r.rejects;
  j["reports_created"] = r.reports_created;
  j["reports_updated"] = r.reports_updated;
  j["skipped"] = r.skipped;
  j["correlations"] = r.correlations;
  j["status"] = r.status;
  j["started_at"] = FormatRfc3339(r.started_at);
  j["finished_at"] = Optional(r.finished_at);
  return Dump(j);
}

std::string Snapshot(const MailMessage& m) {
  AsciiJson j(768);
  j.Open('{');
  j.Key("id").Int(m.id);
  j.Key("direction").String(MailDirectionName(m.direction));
  j.Key("kind").String(m.kind);
  j.Key("message_id").String(m.message_id);
  j.Key("report_id").OptionalInt(m.report_id);
  j.Key("incident_id").OptionalInt(m.incident_id);
  j.Key("from_address").String(m.from_address);
  j.Key("from_name").String(m.from_name);
  j.Key("subject").String(m.subject);
  j.Key("text_sha256").String(common::Sha256Hex(m.text));
  j.Key("in_reply_to").String(m.in_reply_to);
  j.Key("raw_sha256").String(m.raw_sha256);
  j.Key("raw_size").Int(m.raw_size);
  j.Key("encrypted").Bool(m.encrypted);
  j.Key("decrypted").Bool(m.decrypted);
  j.Key("auto_reason").String(m.auto_reason);
  j.Key("spam").Bool(m.spam);
  // Recipients, references, attachments, signatures, the abuse report, flags and problems.
  j.Key("details_sha256").String(common::Sha256Hex(EncodeMailDetails(m)));
  j.Key("status").String(m.status);
  j.Key("language").String(m.language);
  j.Key("attempts").Int(m.attempts);
  j.Key("last_error").String(m.last_error);
  j.Key("next_attempt_at").OptionalTime(m.next_attempt_at);
  j.Key("at").String(FormatRfc3339(m.at));
  j.Key("sent_at").OptionalTime(m.sent_at);
  j.Close('}');
  return j.Take();
}

std::string CanonicalAuditBytes(const AuditEntry& e) {
  AsciiJson j(256 + e.before.size() * 9 / 8 + e.after.size() * 9 / 8);
  j.Open('{');
  j.Key("seq").Int(e.seq);
  j.Key("at").String(FormatRfc3339(e.at));
  j.Key("actor").String(e.actor);
  j.Key("action").String(e.action);
  j.Key("object_type").String(e.object_type);
  j.Key("object_id").String(e.object_id);
  j.Key("incident").String(e.incident);
  j.Key("before").String(e.before);
  j.Key("after").String(e.after);
  j.Key("prev_hash").String(e.prev_hash);
  j.Close('}');
  return j.Take();
}

std::string AuditHash(const AuditEntry& entry) {
  return common::Sha256Hex(entry.prev_hash + "\n" + CanonicalAuditBytes(entry));
}

std::string Snapshot(const Record& r) {
  ordered_json j;
  j["id"] = r.id;
  j["kind"] = r.kind;
  j["key"] = r.key;
  j["incident_id"] = Optional(r.incident_id);
  j["state"] = r.state;
  // The body as its owner wrote it, re-dumped so that a backend's JSON type (PostgreSQL jsonb
  // reorders keys) cannot change the bytes; a body that is not JSON is kept as a string.
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    j["body"] = r.body;
  } else {
    j["body"] = std::move(body);
  }
  j["created_at"] = FormatRfc3339(r.created_at);
  j["updated_at"] = FormatRfc3339(r.updated_at);
  return Dump(j);
}

}  // namespace hikeshi::core
