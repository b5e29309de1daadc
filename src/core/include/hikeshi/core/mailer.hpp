#pragma once
// Mailer port: hands one finished RFC 5322 message to an MTA. The adapter (src/notify) speaks
// SMTP with libcurl to a real MTA, or, in tests, to an SMTP sink on loopback.
//
// Thread-safety: implementations must be safe to call from several threads at once.

#include <string>
#include <vector>

#include "hikeshi/common/error.hpp"

namespace hikeshi::core {

struct OutgoingMail {
  std::string envelope_from;            // bounce address; "" sends a null reverse-path (<>)
  std::vector<std::string> recipients;  // envelope recipients (addr-specs)
  std::string message;                  // the complete message: headers, blank line, body (CRLF)
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Returns once the MTA has accepted the message for every recipient.
  // Errors: kUnavailable for transient failures (connection refused, 4xx: retry later),
  // kInvalidArgument for permanent ones (5xx, bad address), naming the SMTP reply.
  virtual Result<void> Send(const OutgoingMail& mail) = 0;
};

}  // namespace hikeshi::core
