#pragma once
// Turns the places the pattern scan proposes into observables: finds where each candidate really
// begins and ends, rejects the usual false positives, normalises through core, deduplicates.
// One CandidateScan serves one scan of one text, on one thread.

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hikeshi/core/observable.hpp"
#include "hikeshi/extract/extractor.hpp"

#include "detail/chars.hpp"
#include "detail/domains.hpp"
#include "detail/patterns.hpp"
#include "detail/rewrite.hpp"

namespace hikeshi::extract::detail {

class CandidateScan {
 public:
  // `text` is what is scanned; `source` maps its positions to the caller's text (`original`).
  // All must outlive the scan.
  CandidateScan(const DomainRules& domains, const ExtractorOptions& options, std::string_view text,
                std::string_view original, const SourceMap& source);

  // Handles one pattern match ending at `end`. Returns false once max_results distinct observables
  // have been found: the scan should stop. Triggers arrive in order of `end`, as Hyperscan reports them.
  bool OnTrigger(Trigger trigger, std::size_t end);

  // The observables in order of offset. Call once, after the scan.
  std::vector<Extracted> TakeResults();
  bool truncated() const { return truncated_; }
  std::size_t candidates() const { return candidates_; }
  std::size_t bytes_examined() const { return bytes_examined_; }

 private:
  // A host name found in the text: [begin, end), made of `labels` labels.
  struct NameSpan {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::size_t labels = 0;
    std::size_t last_label_begin = 0;
    bool last_label_cjk = false;
    std::size_t scanned_end = 0;  // how far right the scan looked, which may be past `end`
  };
  struct Name {
    std::string ascii;  // lower-case, punycode
    std::size_t end;    // where the name ends in the text; a CJK TLD may have been cut short
  };

  void OnUrl(std::size_t end);
  void OnEmail(std::size_t end);
  void OnIpv4(std::size_t end);
  void OnIpv6(std::size_t end);
  void OnDomain(std::size_t end);
  void OnHash(std::size_t end, std::size_t digits, core::ObservableType type);
  void OnCve(std::size_t end);
  void OnAsn(std::size_t end);

  // Labels to the right of `begin`, then on through each '.' followed by another label.
  NameSpan ParseNameFrom(std::size_t begin) const;
  // The name around the dot at `dot`: labels leftwards down to `floor`, and rightwards.
  std::optional<NameSpan> ParseNameAround(std::size_t dot, std::size_t floor) const;
  std::size_t LabelBegin(std::size_t end, std::size_t floor, LabelClass label_class) const;
  std::size_t LabelEnd(std::size_t begin, LabelClass label_class) const;
  // The span as an ASCII name the public suffix list accepts; a trailing CJK label is shortened to
  // the longest known suffix ("example.みんなで" -> "example.みんな"). nullopt if none.
  std::optional<Name> RegistrableName(const NameSpan& span) const;
  bool InVersionContext(std::size_t begin) const;
  LabelClass ClassBefore(std::size_t pos) const;
  LabelClass ClassAt(std::size_t pos) const;
  char At(std::size_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }
  char Before(std::size_t pos) const { return pos > 0 ? text_[pos - 1] : '\0'; }

  // Records an observable found at text_[begin, end), unless it is already known; sets truncated_
  // instead when max_results distinct ones are known.
  void Accept(core::Observable observable, std::size_t begin, std::size_t end);
  // Normalises through core and accepts. Returns false when core refuses the value.
  bool Offer(core::ObservableType type, std::string_view candidate, std::size_t begin, std::size_t end);
  // Where `observable` already is in results_.
  std::optional<std::size_t> Find(const core::Observable& observable) const;
  void Claim(std::size_t end) { claimed_until_ = std::max(claimed_until_, end); }
  bool Examined(Trigger trigger, std::size_t pos) const;
  void MarkExamined(Trigger trigger, std::size_t begin, std::size_t end);

  const DomainRules& domains_;
  const ExtractorOptions& options_;
  std::string_view text_;
  std::string_view original_;
  const SourceMap& source_;

  // Network observables (URL, e-mail, IP, CIDR, domain) do not nest: the host of a URL is part of
  // the URL. Text before claimed_until_ belongs to one already found. Hashes and CVE ids inside a
  // URL are still reported: a VirusTotal or NVD link carries exactly the value a handler wants.
  std::size_t claimed_until_ = 0;
  // Per trigger kind, how far right candidates have been examined (accepted or not). A trigger
  // inside that stretch is skipped, and no scan goes left past it: this keeps the work linear even
  // on a megabyte of "1.1.1.1.1...", where every position is a trigger.
  std::array<std::size_t, static_cast<std::size_t>(Trigger::kCount)> examined_until_{};

  std::vector<Extracted> results_;
  std::unordered_map<std::string, std::size_t> index_;  // type + value -> position in results_, once many
  bool truncated_ = false;
  std::size_t candidates_ = 0;
  std::size_t bytes_examined_ = 0;
};

}  // namespace hikeshi::extract::detail
