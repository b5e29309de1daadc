#pragma once
// The playbooks `hikeshi init` writes into a new store: phishing, scanning, malware and DDoS, each
// with its checklist, whom to notify and mail templates in Japanese and English. A starting point
// for the team's own 対応マニュアル, edited through PUT /api/v1/playbooks/{name}.

#include "hikeshi/common/error.hpp"
#include "hikeshi/core/playbooks.hpp"

namespace hikeshi::app {

// Stores each default playbook whose name the store does not have yet, as the local operator
// ("cli"). Returns how many it stored. Errors: those of Playbooks::Put (kConflict when a playbook
// of another name already covers a default's category), and storage errors.
Result<int> InstallDefaultPlaybooks(core::Playbooks& playbooks);

}  // namespace hikeshi::app
