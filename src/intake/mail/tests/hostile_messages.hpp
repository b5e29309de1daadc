#pragma once
// Hostile messages generated in memory (too large to commit): the cases issue 3 names (a 10 MB
// header line, 10,000-deep nesting, 100,000 parts, an attachment that decodes huge, NUL bytes,
// invalid UTF-8 everywhere) and a few more aimed at this parser's own code (HTML, armour and
// uuencode scanners). Shared by the unit tests and mail_parser_replay.

#include <string>
#include <vector>

namespace hikeshi::intake::mail::testing {

struct HostileMessage {
  std::string name;
  std::string bytes;
};

std::vector<HostileMessage> HostileMessages();

}  // namespace hikeshi::intake::mail::testing
