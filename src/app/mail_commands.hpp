#pragma once
// The mail commands: `hikeshi mailgate` (one message on stdin, for an MTA pipe) and
// `hikeshi ingest mail PATH` (a maildir, an mbox, or a directory of .eml files).

#include <filesystem>
#include <string>

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/principal.hpp"

#include "mail_service.hpp"

namespace hikeshi::app {

// Who the audit journal says took the mail in.
core::Principal MailGateway(std::string name);

// Reads one message from standard input and stores it. Returns the exit status: 0 only once the
// message is committed; 75 (EX_TEMPFAIL: the MTA retries) for any failure to store it, 65 when it
// exceeds the hard size limit.
int Mailgate(MailServices& mail, std::size_t hard_limit_bytes);

// The same against a running server: POSTs the message to URL/api/v1/mail with the bearer token.
// 0 once the server has committed it; 75 when it is down, busy or refuses us (an operator must fix
// it; the MTA keeps the mail meanwhile); 65 when the message is too large for the server.
int MailgateRemote(const std::string& url, const std::string& token, std::size_t hard_limit_bytes);

struct IngestMailOptions {
  std::string path;
  bool quiet = false;
  // Messages delivered at once (sharing commits). With more than one, messages close together in
  // the input may be stored in a different order, so a reply next to the message it answers may
  // open a report of its own; 1 keeps the input's order strictly.
  int workers = 8;
};
// Exit status 0 when every message was stored (or was already), 75 when some could not be.
Result<int> IngestMail(MailServices& mail, const IngestMailOptions& options);

}  // namespace hikeshi::app
