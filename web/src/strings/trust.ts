// Strings of the trust circle (contacts: who introduced whom, trust level, the edit form) and the
// queue's SLA state (filter and breach badge).
export const en = {
  'contacts.trust': 'Trust',
  'contacts.introducedBy': 'Introduced by',
  'contacts.introducedByName': 'introduced by {name}',
  'contacts.nobody': 'nobody',
  'contacts.edit': 'Edit',
  'contacts.editOf': 'Edit {name}',
  'contacts.editTitle': 'Edit contact {name}',
  'contacts.updated': 'Contact {name} updated.',
  'contacts.trustHelp': 'Vetted: known to the team in person or through a peer team. Introduced: vouched for by a contact. Unvetted: neither.',
  'contact.trust.vetted': 'Vetted',
  'contact.trust.introduced': 'Introduced',
  'contact.trust.unvetted': 'Unvetted',
  'queue.sla': 'SLA',
  'queue.sla.breached': 'Breached',
  'queue.slaBreach': 'SLA breached: {clocks}',
};

export const ja: Record<keyof typeof en, string> = {
  'contacts.trust': '信頼',
  'contacts.introducedBy': '紹介者',
  'contacts.introducedByName': '{name} の紹介',
  'contacts.nobody': 'なし',
  'contacts.edit': '編集',
  'contacts.editOf': '{name} を編集',
  'contacts.editTitle': '連絡先 {name} の編集',
  'contacts.updated': '連絡先 {name} を更新しました。',
  'contacts.trustHelp': '確認済み: チームが直接、またはピアチームを通じて知っている。紹介: 連絡先が保証している。未確認: どちらでもない。',
  'contact.trust.vetted': '確認済み',
  'contact.trust.introduced': '紹介',
  'contact.trust.unvetted': '未確認',
  'queue.sla': 'SLA',
  'queue.sla.breached': '違反あり',
  'queue.slaBreach': 'SLA 違反: {clocks}',
};
