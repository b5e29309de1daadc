#include "sla_service.hpp"

#include <algorithm>
#include <string>
#include <system_error>

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

namespace hikeshi::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigFile = "hikeshi.toml";

Error BadKey(const fs::path& path, const std::string& key, std::string why) {
  return Error::InvalidArgument(why + " in " + path.string(), key);
}

// A target: a duration string ("4h", "1h30m") or a whole number of seconds.
Result<std::chrono::seconds> Target(const toml::node& node, const fs::path& path, const std::string& key) {
  if (auto text = node.value<std::string>()) {
    auto parsed = core::ParseSlaDuration(*text);
    if (!parsed) return Fail(BadKey(path, key, parsed.error().message()));
    return *parsed;
  }
  if (auto seconds = node.value<std::int64_t>(); seconds && *seconds >= 1) {
    auto parsed = core::ParseSlaDuration(std::to_string(*seconds));
    if (!parsed) return Fail(BadKey(path, key, parsed.error().message()));
    return *parsed;
  }
  return Fail(BadKey(path, key, "expected a duration such as \"4h\" or a number of seconds"));
}

}  // namespace

Result<SlaConfig> LoadSlaConfig(const fs::path& data_dir) {
  SlaConfig config;
  const fs::path path = data_dir / kConfigFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return config;
  toml::table parsed;
  try {
    parsed = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    return Fail(Error::InvalidArgument(path.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                                       std::string(e.description())));
  }
  const toml::table* sla = parsed["sla"].as_table();
  if (sla == nullptr) {
    if (parsed.contains("sla")) return Fail(BadKey(path, "sla", "expected a table"));
    return config;
  }
  for (const auto& [key, value] : *sla) {
    const std::string name(key.str());
    if (name == "check_interval_seconds") {
      const auto v = value.value<std::int64_t>();
      if (!v || *v < 0 || *v > 86400) return Fail(BadKey(path, "sla." + name, "expected 0..86400"));
      config.check_interval_seconds = static_cast<int>(*v);
    } else if (name == "machine_accounts") {
      const toml::array* list = value.as_array();
      if (list == nullptr) return Fail(BadKey(path, "sla." + name, "expected a list of user names"));
      for (const auto& item : *list) {
        const auto user = item.value<std::string>();
        if (!user) return Fail(BadKey(path, "sla." + name, "expected a list of user names"));
        config.policy.machine_accounts.push_back(*user);
      }
    } else if (name.size() == 2 && name[0] == 'P' && name[1] >= '1' && name[1] <= '4') {
      const toml::table* targets = value.as_table();
      if (targets == nullptr) return Fail(BadKey(path, "sla." + name, "expected a table of targets"));
      core::SlaTargets& into = config.policy.by_priority[static_cast<std::size_t>(name[1] - '1')];
      for (const auto& [clock_key, target] : *targets) {
        const std::string full = "sla." + name + "." + std::string(clock_key.str());
        const auto clock = core::ParseSlaClock(clock_key.str());
        if (!clock) return Fail(BadKey(path, full, "unknown clock (acknowledge, triage, first-response, resolution)"));
        HIKESHI_TRY(into.For(*clock), Target(target, path, full));
      }
    } else {
      return Fail(BadKey(path, "sla." + name, "unknown key"));
    }
  }
  return config;
}

BreachWatch::BreachWatch(core::SlaMonitor& monitor, std::chrono::seconds interval)
    : thread_([this, &monitor, interval] {
        while (!stop_.load()) {
          auto recorded = monitor.RecordBreaches();
          if (!recorded) {
            spdlog::warn("SLA check: {}", recorded.error().message());
          } else if (*recorded > 0) {
            spdlog::info("SLA check: {} breach{} recorded", *recorded, *recorded == 1 ? "" : "es");
          }
          for (auto waited = std::chrono::milliseconds(0); waited < interval && !stop_.load();
               waited += std::chrono::milliseconds(50)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }
      }) {}

BreachWatch::~BreachWatch() {
  stop_.store(true);
  thread_.join();
}

}  // namespace hikeshi::app
