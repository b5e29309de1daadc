#pragma once
// What a feed parser produces: one normalised machine event per accepted record, or a reject that
// keeps the record and says why. Value types; not synchronised.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hikeshi/common/error.hpp"
#include "hikeshi/common/time.hpp"
#include "hikeshi/core/byte_source.hpp"
#include "hikeshi/core/observable.hpp"
#include "hikeshi/core/taxonomy.hpp"
#include "hikeshi/core/tlp.hpp"

namespace hikeshi::intake::feed {

// Every string field except `raw` is valid UTF-8 (invalid input bytes become U+FFFD) and, apart
// from `raw`, holds no control characters: they are safe to put in JSON, mail and a terminal.
struct FeedEvent {
  // 1-based line where the record starts (line formats), or the record's ordinal in the document:
  // the IODEF Incident, the MISP attribute, the X-ARF report.
  std::int64_t record = 0;
  // The record as received, byte for byte (it may be invalid UTF-8): the line without its
  // terminator, the CSV record, the IODEF <Incident> element, the MISP attribute as JSON.
  std::string raw;
  // The feed's own stable id when it has one, used for idempotency; empty otherwise:
  //   misp "<attribute uuid>"; suricata-eve "<flow_id>:<timestamp>:<gid>:<signature_id>" (one
  //   packet can fire several signatures, so flow and time alone are not unique); iodef
  //   "<IncidentID name>:<IncidentID>#<n>" (n-th event of the Incident); xarf "<report_id>";
  //   ndjson and csv: the field the mapping names as event_id.
  std::string event_id;
  std::optional<common::Timestamp> time;  // when it happened, if the record says
  core::Category category;                // RSIT class/type, always set (other/undetermined if unknown)
  std::string report_type;                // the feed's own name for it: "scan_ssh", "ET SCAN ...", "phishing"
  std::string description;                // one line a handler can read
  // Where more observables may hide: the free text an extractor should search (a signature name,
  // a comment). Parsers whose description is made of fields already parsed (addresses, ports,
  // ids) set only the free part here, which also repeats from event to event; when unset, the
  // description is searched.
  std::optional<std::string> free_text;
  // The address the event is about: the source of an attack, the infected host, the phishing URL's
  // host... Routing to a constituency uses it first. Normalised.
  std::optional<core::Observable> subject;
  std::optional<std::uint16_t> subject_port;
  // Everything else found (destination, URL, hashes...), normalised, without duplicates and
  // without the subject.
  std::vector<core::Observable> observables;
  // The TLP label the source put on the record: a MISP tlp: tag (the attribute's or the event's,
  // the more restrictive), an IODEF restriction, the field a mapping names as tlp. Unset when it
  // has none; the ingest's label applies then.
  std::optional<core::Tlp> tlp;
};

struct FeedReject {
  std::int64_t record = 0;  // as in FeedEvent; 0 when the reject concerns no single record
  std::string reason;       // "line 17: column 'ip': '999.1.1.1' is not an IPv4 address: 999 is over 255"
  std::string raw;          // the record as received, truncated to 64 KiB (kMaxRejectRawBytes)
};

inline constexpr std::size_t kMaxRejectRawBytes = 64 * 1024;

// Where a parser delivers its results, in input order. Returning an error stops the parse and is
// passed on (e.g. the store is unavailable).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual Result<void> OnEvent(FeedEvent event) = 0;
  // The same for an event the parser keeps and refills for its next record, so that its strings
  // and lists keep their room instead of being allocated per record: the sink copies what it
  // keeps (or moves from `event`; the parser resets every field before the next record). By
  // default, OnEvent(std::move(event)).
  virtual Result<void> OnReusedEvent(FeedEvent& event) { return OnEvent(std::move(event)); }
  virtual Result<void> OnReject(FeedReject reject) = 0;
};

// Parsers read through core's ByteSource port (a file, stdin, an HTTP body), in chunks so that
// memory stays bounded whatever the input size.
using ByteSource = core::ByteSource;

}  // namespace hikeshi::intake::feed
