#include "default_playbooks.hpp"

#include <algorithm>
#include <vector>

namespace hikeshi::app {

namespace {
using core::MailTemplate;
using core::PlaybookDraft;
using core::PlaybookTask;

PlaybookDraft Phishing() {
  PlaybookDraft p;
  p.name = "phishing";
  p.category = "fraud/phishing";
  p.title = {"フィッシングサイト対応", "Phishing site response"};
  p.tasks = {
      {{"報告された URL を確認し、サイトが稼働中か確かめる", "Check the reported URL and whether the site is live"},
       "handler",
       4},
      {{"偽サイトの画面とヘッダーを証拠として保全する", "Preserve screenshots and headers of the fake site"},
       "handler",
       4},
      {{"ホスティング事業者とレジストラにテイクダウンを依頼する",
        "Ask the hosting provider and the registrar to take the site down"},
       "handler",
       24},
      {{"なりすまされた組織に連絡する", "Notify the organisation being imitated"}, "handler", 24},
      {{"必要なら利用者に注意喚起する", "Warn users if needed"}, "広報 / communications", 48},
      {{"停止を確認し、報告者に結果を伝える", "Confirm the takedown and tell the reporter"}, "handler", 72},
  };
  p.notify = {"なりすまされた組織 / the imitated organisation", "ホスティング事業者 / hosting provider", "JPCERT/CC"};
  p.templates = {
      {"takedown-request", "ja", "[{{incident}}] フィッシングサイト停止のお願い",
       "ご担当者様\n\n貴社の管理下にある以下のサイトがフィッシングに使われています。\n{{title}}\n\n"
       "サイトの停止をご検討ください。\n\n{{handler}}"},
      {"takedown-request", "en", "[{{incident}}] Request to take down a phishing site",
       "Hello,\n\nThe following site under your management is being used for phishing:\n{{title}}\n\n"
       "Please consider taking it down.\n\n{{handler}}"},
      {"reporter-resolved", "ja", "[{{incident}}] ご報告いただいた件について",
       "{{reporter}} 様\n\nご報告いただいたフィッシングサイトは停止されました。ご協力ありがとうございました。"},
      {"reporter-resolved", "en", "[{{incident}}] About your report",
       "Dear {{reporter}},\n\nThe phishing site you reported has been taken down. Thank you for your help."},
  };
  p.change_note = "hikeshi init: default playbook";
  return p;
}

PlaybookDraft Scanning() {
  PlaybookDraft p;
  p.name = "scanning";
  p.category = "information-gathering/scanner";
  p.title = {"スキャン対応", "Scanning"};
  p.tasks = {
      {{"ログで送信元と対象を確かめる", "Check the logs for the source and the targets"}, "handler", 8},
      {{"対象のシステムに該当する脆弱性がないか確認する", "Check the targeted systems for the probed weakness"},
       "handler",
       48},
      {{"送信元のネットワーク管理者に連絡する", "Notify the abuse contact of the source network"}, "handler", 48},
  };
  p.notify = {"送信元の ISP / the source's ISP"};
  p.templates = {
      {"abuse-notice", "ja", "[{{incident}}] 貴ネットワークからのスキャンについて",
       "ご担当者様\n\n貴ネットワークからのスキャンを観測しました。\n{{title}}\n\nご確認をお願いします。\n\n{{handler}"
       "}"},
      {"abuse-notice", "en", "[{{incident}}] Scanning from your network",
       "Hello,\n\nWe observed scanning from your network:\n{{title}}\n\nPlease look into it.\n\n{{handler}}"},
  };
  p.change_note = "hikeshi init: default playbook";
  return p;
}

PlaybookDraft Malware() {
  PlaybookDraft p;
  p.name = "malware";
  p.category = "malicious-code";
  p.title = {"マルウェア感染対応", "Malware infection"};
  p.tasks = {
      {{"感染した端末をネットワークから隔離する", "Isolate the infected hosts from the network"}, "handler", 2},
      {{"検体とログを保全する", "Preserve samples and logs"}, "handler", 8},
      {{"C2 などの通信先を遮断する", "Block the C2 and other destinations"}, "handler", 8},
      {{"感染の範囲を調査する", "Determine how far the infection spread"}, "handler", 48},
      {{"駆除・復旧し、再発防止策をまとめる", "Clean up, restore, and note how to prevent a recurrence"},
       "handler",
       120},
  };
  p.notify = {"構成組織の窓口 / the constituency's point of contact"};
  p.templates = {
      {"constituent-notice", "ja", "[{{incident}}] マルウェア感染の疑いについて",
       "ご担当者様\n\n貴組織の端末にマルウェア感染の疑いがあります。\n{{title}}\n\n端末の隔離をお願いします。\n\n{{"
       "handler}}"},
      {"constituent-notice", "en", "[{{incident}}] Suspected malware infection",
       "Hello,\n\nA host of your organisation appears to be infected:\n{{title}}\n\nPlease isolate it.\n\n{{handler}}"},
  };
  p.change_note = "hikeshi init: default playbook";
  return p;
}

PlaybookDraft Ddos() {
  PlaybookDraft p;
  p.name = "ddos";
  p.category = "availability/ddos";
  p.title = {"DDoS 対応", "DDoS"};
  p.tasks = {
      {{"影響と攻撃トラフィックを確認する", "Assess the impact and the attack traffic"}, "handler", 1},
      {{"上流 ISP に緩和を依頼する", "Ask the upstream ISP to mitigate"}, "handler", 2},
      {{"攻撃元の情報を関係組織と共有する", "Share what is known of the sources with the parties concerned"},
       "handler",
       24},
      {{"終息を確認する", "Confirm that the attack has ended"}, "handler", 72},
  };
  p.notify = {"上流 ISP / upstream ISP"};
  p.templates = {
      {"mitigation-request", "ja", "[{{incident}}] DDoS 緩和のお願い",
       "ご担当者様\n\n当方のネットワークが DDoS "
       "攻撃を受けています。\n{{title}}\n\n緩和のご協力をお願いします。\n\n{{handler}}"},
      {"mitigation-request", "en", "[{{incident}}] Request for DDoS mitigation",
       "Hello,\n\nOur network is under a DDoS attack:\n{{title}}\n\nPlease help us mitigate it.\n\n{{handler}}"},
  };
  p.change_note = "hikeshi init: default playbook";
  return p;
}
}  // namespace

Result<int> InstallDefaultPlaybooks(core::Playbooks& playbooks) {
  const core::Principal cli = core::Principal::LocalOperator();
  HIKESHI_TRY(const auto existing, playbooks.List(cli));
  int installed = 0;
  for (const auto& draft : {Phishing(), Scanning(), Malware(), Ddos()}) {
    HIKESHI_TRY(const auto category, core::NormalizePlaybookCategory(draft.category));
    const bool taken = std::any_of(existing.begin(), existing.end(), [&](const core::Playbook& p) {
      return p.name == draft.name || p.category == category;
    });
    if (taken) continue;
    HIKESHI_TRY(const auto stored, playbooks.Put(cli, draft));
    static_cast<void>(stored);
    ++installed;
  }
  return installed;
}

}  // namespace hikeshi::app
