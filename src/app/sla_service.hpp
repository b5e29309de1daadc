#pragma once
// SLA in the composition root: the [sla] section of DATA/hikeshi.toml, and the background check
// that `hikeshi serve` runs to record breaches (core::SlaMonitor::RecordBreaches).

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/sla.hpp"
#include "hikeshi/core/sla_monitor.hpp"

namespace hikeshi::app {

// DATA/hikeshi.toml, section [sla]; every key optional:
//   check_interval_seconds = 60          # 0: this node does not check for breaches
//   machine_accounts = ["mailbot"]       # user accounts that act for machines
//   [sla.P1]                             # P1..P4: targets per clock, as durations or seconds
//   acknowledge = "15m"
//   triage = "1h"
//   first-response = "4h"
//   resolution = "1d"
struct SlaConfig {
  core::SlaPolicy policy = core::SlaPolicy::Defaults();
  int check_interval_seconds = 60;
};

// Reads [sla] from DATA/hikeshi.toml (absent file or section: defaults).
// Errors: kInvalidArgument naming the bad key ("sla.P1.triage").
Result<SlaConfig> LoadSlaConfig(const std::filesystem::path& data_dir);

// Runs SlaMonitor::RecordBreaches at once and then every interval, on a thread of its own, until
// destroyed. Failures are logged and retried at the next interval.
class BreachWatch {
 public:
  BreachWatch(core::SlaMonitor& monitor, std::chrono::seconds interval);
  ~BreachWatch();
  BreachWatch(const BreachWatch&) = delete;
  BreachWatch& operator=(const BreachWatch&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hikeshi::app
