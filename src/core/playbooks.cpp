#include "hikeshi/core/playbooks.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "detail/response_records.hpp"
#include "detail/text.hpp"
#include "detail/validate.hpp"

namespace hikeshi::core {

namespace {
using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kKind = "playbook";
constexpr std::string_view kCurrent = "current";
constexpr std::string_view kSuperseded = "superseded";
constexpr std::size_t kMaxTitle = 500;
constexpr std::size_t kMaxTasks = 200;
constexpr std::size_t kMaxNotify = 100;
constexpr std::size_t kMaxTemplates = 100;
constexpr std::size_t kMaxTemplateBody = 64 * 1024;
constexpr int kMaxDueHours = 24 * 366;
constexpr std::array<std::string_view, 7> kPlaceholders = {"incident",     "title",    "category", "tlp",
                                                           "constituency", "reporter", "handler"};

Result<void> RequireEditor(const Principal& actor) {
  if (actor.role != Role::kAdmin && actor.role != Role::kHandler) {
    return Fail(Error::PermissionDenied("a " + std::string(RoleName(actor.role)) + " may not change playbooks"));
  }
  return {};
}

Result<void> RequireReader(const Principal& actor) {
  if (actor.role == Role::kConstituent) return Fail(Error::PermissionDenied("a constituent may not read playbooks"));
  return {};
}

std::string Str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

LocalizedText Text(const json& j) {
  if (!j.is_object()) return {};
  return {Str(j, "ja"), Str(j, "en")};
}

ordered_json Encode(const Playbook& p) {
  ordered_json tasks = ordered_json::array();
  for (const auto& t : p.tasks) {
    tasks.push_back({{"title", {{"ja", t.title.ja}, {"en", t.title.en}}},
                     {"role", t.role},
                     {"due_hours", t.due_hours ? ordered_json(*t.due_hours) : ordered_json(nullptr)}});
  }
  ordered_json templates = ordered_json::array();
  for (const auto& t : p.templates) {
    templates.push_back({{"name", t.name}, {"language", t.language}, {"subject", t.subject}, {"body", t.body}});
  }
  ordered_json j;
  j["name"] = p.name;
  j["version"] = p.version;
  j["category"] = p.category;
  j["title"] = {{"ja", p.title.ja}, {"en", p.title.en}};
  j["tasks"] = tasks;
  j["notify"] = p.notify;
  j["templates"] = templates;
  j["changed_by"] = p.changed_by;
  j["change_note"] = p.change_note;
  return j;
}

Result<Playbook> ParseBody(const Record& record) {
  const json j = json::parse(record.body, nullptr, false);
  if (!j.is_object()) return Fail(Error::Internal("playbook " + record.key + " is not a JSON object"));
  Playbook p;
  p.name = Str(j, "name");
  const auto version = j.find("version");
  if (p.name.empty() || version == j.end() || !version->is_number_integer()) {
    return Fail(Error::Internal("playbook " + record.key + " has no name or version"));
  }
  p.version = version->get<int>();
  p.category = Str(j, "category");
  if (const auto it = j.find("title"); it != j.end()) p.title = Text(*it);
  if (const auto it = j.find("tasks"); it != j.end() && it->is_array()) {
    for (const auto& t : *it) {
      PlaybookTask task;
      if (const auto title = t.find("title"); title != t.end()) task.title = Text(*title);
      task.role = Str(t, "role");
      if (const auto due = t.find("due_hours"); due != t.end() && due->is_number_integer()) {
        task.due_hours = due->get<int>();
      }
      p.tasks.push_back(std::move(task));
    }
  }
  if (const auto it = j.find("notify"); it != j.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (n.is_string()) p.notify.push_back(n.get<std::string>());
    }
  }
  if (const auto it = j.find("templates"); it != j.end() && it->is_array()) {
    for (const auto& t : *it) {
      p.templates.push_back({Str(t, "name"), Str(t, "language"), Str(t, "subject"), Str(t, "body")});
    }
  }
  p.changed_by = Str(j, "changed_by");
  p.change_note = Str(j, "change_note");
  return p;
}

// Every incident triage opens reads the stored playbooks twice, and they change a few times a
// year: a body already parsed is not parsed again (about a tenth of a triaged mail's cost, measured
// with perf on `hikeshi serve --lmtp`). Keyed by the body itself, so a changed playbook is a miss.
Result<Playbook> Decode(const Record& record) {
  static std::mutex mutex;
  static std::unordered_map<std::string, Playbook> parsed;
  Playbook p;
  {
    std::lock_guard lock(mutex);
    if (const auto it = parsed.find(record.body); it != parsed.end()) p = it->second;
  }
  if (p.name.empty()) {
    HIKESHI_TRY(p, ParseBody(record));
    std::lock_guard lock(mutex);
    if (parsed.size() >= 64) parsed.clear();  // bounded: a miss only costs the parse
    parsed.emplace(record.body, p);
  }
  p.changed_at = record.created_at;
  p.current = record.state == kCurrent;
  return p;
}

// Every stored version, in id order.
Result<std::vector<std::pair<Record, Playbook>>> AllVersions(StoreReader& reader) {
  std::vector<std::pair<Record, Playbook>> out;
  std::int64_t after = 0;
  while (true) {
    HIKESHI_TRY(const auto page, reader.ListRecords(kKind, after, 500));
    for (const auto& record : page) {
      HIKESHI_TRY(auto playbook, Decode(record));
      out.emplace_back(record, std::move(playbook));
    }
    if (page.size() < 500) break;
    after = page.back().id;
  }
  return out;
}

Result<void> CheckLocalized(const LocalizedText& text, const std::string& field) {
  if (text.ja.find_first_not_of(" \t\r\n") == std::string::npos &&
      text.en.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Fail(Error::InvalidArgument("give it in Japanese (ja), English (en) or both", field));
  }
  HIKESHI_CHECK(detail::CheckText(text.ja, kMaxTitle, false, field + "/ja"));
  HIKESHI_CHECK(detail::CheckText(text.en, kMaxTitle, false, field + "/en"));
  return {};
}

Result<Playbook> Validate(const PlaybookDraft& draft) {
  Playbook p;
  HIKESHI_CHECK(detail::CheckName(draft.name, "a playbook name", "/name"));
  p.name = draft.name;
  HIKESHI_TRY(p.category, NormalizePlaybookCategory(draft.category));
  HIKESHI_CHECK(CheckLocalized(draft.title, "/title"));
  p.title = draft.title;
  if (draft.tasks.size() > kMaxTasks) {
    return Fail(Error::TooLarge("at most " + std::to_string(kMaxTasks) + " tasks", "/tasks"));
  }
  for (std::size_t i = 0; i < draft.tasks.size(); ++i) {
    const auto& task = draft.tasks[i];
    const std::string at = "/tasks/" + std::to_string(i);
    HIKESHI_CHECK(CheckLocalized(task.title, at + "/title"));
    HIKESHI_CHECK(detail::CheckText(task.role, 100, false, at + "/role"));
    if (task.due_hours && (*task.due_hours < 1 || *task.due_hours > kMaxDueHours)) {
      return Fail(Error::InvalidArgument("must be 1.." + std::to_string(kMaxDueHours) + " hours", at + "/due_hours"));
    }
  }
  p.tasks = draft.tasks;
  if (draft.notify.size() > kMaxNotify) {
    return Fail(Error::TooLarge("at most " + std::to_string(kMaxNotify) + " entries", "/notify"));
  }
  for (std::size_t i = 0; i < draft.notify.size(); ++i) {
    HIKESHI_CHECK(detail::CheckText(draft.notify[i], 200, true, "/notify/" + std::to_string(i)));
  }
  p.notify = draft.notify;
  if (draft.templates.size() > kMaxTemplates) {
    return Fail(Error::TooLarge("at most " + std::to_string(kMaxTemplates) + " templates", "/templates"));
  }
  for (std::size_t i = 0; i < draft.templates.size(); ++i) {
    const auto& t = draft.templates[i];
    const std::string at = "/templates/" + std::to_string(i);
    HIKESHI_CHECK(detail::CheckName(t.name, "a template name", at + "/name"));
    if (t.language != "ja" && t.language != "en") {
      return Fail(Error::InvalidArgument("must be ja or en", at + "/language"));
    }
    for (std::size_t k = 0; k < i; ++k) {
      if (draft.templates[k].name == t.name && draft.templates[k].language == t.language) {
        return Fail(Error::InvalidArgument("template '" + t.name + "' in '" + t.language + "' is given twice", at));
      }
    }
    HIKESHI_CHECK(detail::CheckText(t.subject, 998, true, at + "/subject"));
    if (t.subject.find_first_of("\r\n") != std::string::npos) {
      return Fail(Error::InvalidArgument("must be one line", at + "/subject"));
    }
    HIKESHI_CHECK(detail::CheckText(t.body, kMaxTemplateBody, true, at + "/body"));
    HIKESHI_CHECK(AtField(RenderMailTemplate(t.subject, {}), at + "/subject"));
    HIKESHI_CHECK(AtField(RenderMailTemplate(t.body, {}), at + "/body"));
  }
  p.templates = draft.templates;
  HIKESHI_CHECK(detail::CheckText(draft.change_note, 4000, false, "/change_note"));
  p.change_note = draft.change_note;
  return p;
}

}  // namespace

Result<std::string> NormalizePlaybookCategory(std::string_view text) {
  const auto trimmed = detail::Trim(text);
  if (detail::EqualsIgnoreCase(trimmed, "apt")) return std::string("apt");
  if (const auto parsed = ParseCategory(trimmed)) return parsed->category.ToString();
  const std::string lower = detail::AsciiLowerCopy(trimmed);
  for (const auto& c : RsitClasses()) {
    if (c.name == lower) return lower;
  }
  return Fail(Error::InvalidArgument("'" + std::string(text) +
                                         "' is not an RSIT class/type (fraud/phishing), an RSIT class "
                                         "(malicious-code), one of the guide's categories (Phishing) or APT",
                                     "/category"));
}

const Playbook* SelectPlaybook(std::span<const Playbook> current, const Category& category, bool apt) {
  const auto find = [&](std::string_view wanted) -> const Playbook* {
    for (const auto& p : current) {
      if (p.category == wanted) return &p;
    }
    return nullptr;
  };
  if (apt) {
    if (const auto* p = find("apt")) return p;
  }
  if (const auto* p = find(category.ToString())) return p;
  return find(category.rsit_class);
}

Result<std::string> RenderMailTemplate(std::string_view text,
                                       const std::map<std::string, std::string, std::less<>>& values) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const auto close = text.find("}}", open + 2);
    const auto name =
        close == std::string_view::npos ? std::string_view() : detail::Trim(text.substr(open + 2, close - open - 2));
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
      const auto shown = text.substr(open, std::min<std::size_t>(40, text.size() - open));
      return Fail(Error::InvalidArgument(
          "'" + std::string(shown) +
          "' is not a placeholder; use {{incident}}, {{title}}, {{category}}, {{tlp}}, {{constituency}}, "
          "{{reporter}} or {{handler}}"));
    }
    if (const auto it = values.find(name); it != values.end()) out += it->second;
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

Result<Playbook> Playbooks::Put(const Principal& actor, const PlaybookDraft& draft) {
  HIKESHI_CHECK(RequireEditor(actor));
  HIKESHI_TRY(Playbook playbook, Validate(draft));
  playbook.changed_by = actor.username;
  playbook.changed_at = clock_.Now();
  HIKESHI_CHECK(store_.Write([&](WriteTx& tx) -> Result<void> {
    HIKESHI_TRY(const auto all, AllVersions(tx));
    const std::pair<Record, Playbook>* previous = nullptr;
    int latest = 0;
    for (const auto& entry : all) {
      const auto& [record, stored] = entry;
      if (stored.name == playbook.name) {
        latest = std::max(latest, stored.version);
        if (stored.current) previous = &entry;
      } else if (stored.current && stored.category == playbook.category) {
        return Fail(Error::Conflict("playbook '" + stored.name + "' already applies to '" + stored.category +
                                    "'; change that one, or give this one another category"));
      }
    }
    playbook.version = latest + 1;
    const AuditContext ctx{actor.username, playbook.changed_at};
    if (previous) {
      Record after = previous->first;
      after.state = kSuperseded;
      after.updated_at = playbook.changed_at;
      HIKESHI_CHECK(tx.UpdateRecord(ctx, "playbook.supersede", previous->first, after, ""));
    }
    Record record;
    record.kind = kKind;
    record.key = playbook.Revision();
    record.state = kCurrent;
    record.body = Encode(playbook).dump();
    record.created_at = record.updated_at = playbook.changed_at;
    HIKESHI_TRY(const auto stored, tx.CreateRecord(ctx, record, ""));
    playbook.changed_at = stored.created_at;
    return {};
  }));
  return playbook;
}

Result<Playbook> Playbooks::Get(const Principal& actor, std::string_view name) {
  HIKESHI_CHECK(RequireReader(actor));
  std::optional<Playbook> found;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(auto current, detail::CurrentPlaybooks(r));
    for (auto& p : current) {
      if (p.name == name) found = std::move(p);
    }
    return {};
  }));
  if (!found) return Fail(Error::NotFound("playbook '" + std::string(name) + "'"));
  return std::move(*found);
}

Result<Playbook> Playbooks::GetVersion(const Principal& actor, std::string_view name, int version) {
  HIKESHI_CHECK(RequireReader(actor));
  const std::string key = std::string(name) + "@" + std::to_string(version);
  std::optional<Record> record;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(record, r.FindRecord(kKind, key));
    return {};
  }));
  if (!record) return Fail(Error::NotFound("playbook '" + key + "'"));
  return Decode(*record);
}

Result<std::vector<Playbook>> Playbooks::List(const Principal& actor) {
  HIKESHI_CHECK(RequireReader(actor));
  std::vector<Playbook> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(out, detail::CurrentPlaybooks(r));
    return {};
  }));
  return out;
}

Result<std::vector<Playbook>> Playbooks::History(const Principal& actor, std::string_view name) {
  HIKESHI_CHECK(RequireReader(actor));
  std::vector<Playbook> out;
  HIKESHI_CHECK(store_.Read([&](StoreReader& r) -> Result<void> {
    HIKESHI_TRY(auto all, AllVersions(r));
    for (auto& [record, playbook] : all) {
      if (playbook.name == name) {
        out.push_back(std::move(playbook));
      }
    }
    return {};
  }));
  if (out.empty()) return Fail(Error::NotFound("playbook '" + std::string(name) + "'"));
  std::sort(out.begin(), out.end(), [](const Playbook& a, const Playbook& b) { return a.version < b.version; });
  return out;
}

namespace detail {

Result<std::vector<Playbook>> CurrentPlaybooks(StoreReader& reader) {
  HIKESHI_TRY(auto all, AllVersions(reader));
  std::vector<Playbook> out;
  for (auto& [record, playbook] : all) {
    if (playbook.current) out.push_back(std::move(playbook));
  }
  std::sort(out.begin(), out.end(), [](const Playbook& a, const Playbook& b) { return a.name < b.name; });
  return out;
}

Result<void> ApplyPlaybook(WriteTx& tx, const AuditContext& ctx, const Incident& incident,
                           const std::optional<std::string>& name) {
  HIKESHI_TRY(const auto current, CurrentPlaybooks(tx));
  const Playbook* playbook = nullptr;
  if (name) {
    for (const auto& p : current) {
      if (p.name == *name) playbook = &p;
    }
    if (!playbook) return Fail(Error{ErrorCode::kNotFound, "playbook '" + *name + "' not found", "/playbook"});
  } else {
    playbook = SelectPlaybook(current, incident.category, incident.apt);
    if (!playbook) return {};
  }
  const std::string revision = playbook->Revision();
  HIKESHI_TRY(const auto existing, tx.ListRecordsForIncident(incident.id, "task"));
  for (const auto& record : existing) {
    const json body = json::parse(record.body, nullptr, false);
    if (body.is_object() && Str(body, "playbook") == revision) return {};
  }
  for (const auto& step : playbook->tasks) {
    Task task;
    const bool has_ja = step.title.ja.find_first_not_of(" \t\r\n") != std::string::npos;
    task.title = has_ja ? step.title.ja : step.title.en;
    task.title_en = has_ja ? step.title.en : "";
    task.role = step.role;
    if (step.due_hours) task.due = ctx.at + std::chrono::hours(*step.due_hours);
    task.playbook = revision;
    task.created_by = ctx.actor;
    HIKESHI_CHECK(detail::Discard(CreateTask(tx, ctx, incident, std::move(task))));
  }
  return {};
}

}  // namespace detail

}  // namespace hikeshi::core
