// What the reports waiting for a fold hold (core::FeedPending::Bytes(), which `--fold-memory`
// bounds) against what glibc's malloc counts as handed out for them (mallinfo2, main arena), for
// Suricata-like events from SOURCES scanners to TARGETS addresses, in batches of 10,000.
//
//   pending_memory [SOURCES] [EVENTS] [TARGETS]    (default: 50000 500000 250)

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <malloc.h>

#include "hikeshi/core/feed_ingest.hpp"

int main(int argc, char** argv) {
  using namespace hikeshi;
  const int sources = argc > 1 ? std::atoi(argv[1]) : 50'000;
  const int events = argc > 2 ? std::atoi(argv[2]) : 500'000;
  const int targets = argc > 3 ? std::atoi(argv[3]) : 250;
  if (sources < 1 || events < 1 || targets < 1) {
    fmt::print(stderr, "usage: pending_memory [SOURCES] [EVENTS] [TARGETS]\n");
    return 64;
  }
  constexpr const char* kCategories[3][2] = {
      {"information-gathering", "scanner"}, {"malicious-code", "c2-server"}, {"vulnerable", "vulnerable-system"}};
  std::mt19937 rng(7);
  const auto now = common::Timestamp{} + std::chrono::days(20'000);
  core::FeedPending pending;
  std::vector<core::MachineEvent> batch(10'000);
  long long held = 0;  // what Add() left allocated, summed over the batches
  fmt::print("| events | reports' estimate (Bytes) | malloc's count | ratio |\n|---|---|---|---|\n");
  for (int done = 0; done < events;) {
    const int n = std::min<int>(static_cast<int>(batch.size()), events - done);
    for (int i = 0; i < n; ++i) {
      core::MachineEvent& e = batch[static_cast<std::size_t>(i)];
      const unsigned source = rng() % static_cast<unsigned>(sources);
      const auto* category = kCategories[rng() % 3];
      e.category = core::Category{category[0], category[1]};
      e.description = "ET SCAN Potential SSH Scan";
      e.subject = core::Observable{core::ObservableType::kIpv4,
                                   fmt::format("10.{}.{}.{}", source >> 16 & 255, source >> 8 & 255, source & 255)};
      e.observables = {core::Observable{core::ObservableType::kIpv4,
                                        fmt::format("192.0.2.{}", rng() % static_cast<unsigned>(targets))}};
      e.time = now;
      e.fingerprint = fmt::format("suricata-eve|{}/{}|ipv4:{}|2026-11-27", category[0], category[1], e.subject->value);
    }
    const auto before = static_cast<long long>(mallinfo2().uordblks);
    pending.Add("suricata-eve", std::span<const core::MachineEvent>(batch.data(), static_cast<std::size_t>(n)), now);
    held += static_cast<long long>(mallinfo2().uordblks) - before;
    done += n;
    if (done % 100'000 == 0 || done == events) {
      fmt::print("| {} | {} | {} | {:.2f} |\n", done, pending.Bytes(), held,
                 static_cast<double>(held) / static_cast<double>(pending.Bytes()));
    }
  }
  return 0;
}
