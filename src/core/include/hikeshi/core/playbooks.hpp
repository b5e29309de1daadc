#pragma once
// Playbooks: the guide's 対応マニュアル, one per incident category. A playbook holds the checklist
// of tasks an incident of its category gets, the roles and contacts to notify, and mail templates
// in Japanese and English. Playbooks are versioned: each Put stores a new version ("phishing@3",
// a Record of kind "playbook"), the one before it is kept as superseded, and a post-incident
// review can name the revision it prompted.
//
// SelectPlaybook and RenderMailTemplate are pure functions. Playbooks is thread-safe; the Store
// and Clock must outlive it.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/clock.hpp"
#include "hikeshi/core/model.hpp"
#include "hikeshi/core/principal.hpp"
#include "hikeshi/core/store.hpp"

namespace hikeshi::core {

// The same text in the team's two languages; at least one is set.
struct LocalizedText {
  std::string ja;
  std::string en;
  bool operator==(const LocalizedText&) const = default;
};

struct PlaybookTask {
  LocalizedText title;
  std::string role;              // who does it ("handler", "広報"...), free text; may be empty
  std::optional<int> due_hours;  // due this long after the task is created; 1..8760
  bool operator==(const PlaybookTask&) const = default;
};

// A mail the playbook prepares. Placeholders {{incident}}, {{title}}, {{category}}, {{tlp}},
// {{constituency}}, {{reporter}} and {{handler}} are filled in when it is used.
struct MailTemplate {
  std::string name;      // CheckName syntax: "takedown-request"; unique per language
  std::string language;  // "ja" or "en"
  std::string subject;
  std::string body;
  bool operator==(const MailTemplate&) const = default;
};

struct Playbook {
  std::string name;  // "phishing": 1-64 of a-z, 0-9, '.', '_', '-'
  int version = 0;   // 1, 2, 3...
  // What it applies to: "class/type" (fraud/phishing), a whole RSIT class (malicious-code), or
  // "apt" for incidents marked APT.
  std::string category;
  LocalizedText title;
  std::vector<PlaybookTask> tasks;
  std::vector<std::string> notify;  // roles and contacts to notify
  std::vector<MailTemplate> templates;
  std::string changed_by;
  std::string change_note;
  Timestamp changed_at{};
  bool current = true;  // false once a newer version exists

  std::string Revision() const { return name + "@" + std::to_string(version); }
};

struct PlaybookDraft {
  std::string name;
  std::string category;  // ParseCategory syntax ("fraud/phishing", "Phishing"), an RSIT class, or "APT"
  LocalizedText title;
  std::vector<PlaybookTask> tasks;
  std::vector<std::string> notify;
  std::vector<MailTemplate> templates;
  std::string change_note;
};

// The category a playbook applies to, as stored: "apt", "class/type" or "class".
// Errors: kInvalidArgument "/category".
[[nodiscard]] Result<std::string> NormalizePlaybookCategory(std::string_view text);

// The playbook an incident of `category` gets, among current playbooks: for an APT the "apt"
// playbook if there is one; then the one for exactly its class/type; then the one for its class;
// else none. The pointer is into `current`.
const Playbook* SelectPlaybook(std::span<const Playbook> current, const Category& category, bool apt);

// `text` with each {{placeholder}} replaced by its value in `values` (absent: empty).
// Errors: kInvalidArgument for "{{" that does not open a known placeholder.
[[nodiscard]] Result<std::string> RenderMailTemplate(std::string_view text,
                                                     const std::map<std::string, std::string, std::less<>>& values);

class Playbooks {
 public:
  Playbooks(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Stores a new version of the playbook `draft.name` (version 1 when new), stamped with the actor
  // and the time; the previous version becomes superseded.
  // Errors: kPermissionDenied (viewers, constituents), kInvalidArgument naming the field,
  // kConflict when another playbook already applies to the same category.
  [[nodiscard]] Result<Playbook> Put(const Principal& actor, const PlaybookDraft& draft);
  // The current version. Errors: kPermissionDenied (constituents), kNotFound.
  [[nodiscard]] Result<Playbook> Get(const Principal& actor, std::string_view name);
  // One version, current or superseded. Errors: as Get.
  [[nodiscard]] Result<Playbook> GetVersion(const Principal& actor, std::string_view name, int version);
  // The current version of every playbook, by name. Errors: kPermissionDenied.
  [[nodiscard]] Result<std::vector<Playbook>> List(const Principal& actor);
  // Every version of one playbook, oldest first. Errors: as Get.
  [[nodiscard]] Result<std::vector<Playbook>> History(const Principal& actor, std::string_view name);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace hikeshi::core
