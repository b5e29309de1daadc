// The REST API under /api/v1, spoken with the session cookie. Unsafe methods echo the CSRF token
// from the hikeshi_csrf cookie in X-CSRF-Token (double submit).

export type Observable = { type: string; value: string };

export type Incident = {
  id: string;
  title: string;
  description: string;
  category: string;
  guide_category: string;
  apt: boolean;
  constituency: string | null;
  impact: number;
  urgency: number;
  priority: string;
  status: string;
  phase: string;
  owner: string | null;
  tlp: string;
  exercise: boolean;
  merged_into: string | null;
  observables: Observable[];
  created_at: string;
  updated_at: string;
  resolved_at: string | null;
  closed_at: string | null;
  sla_breaches?: string[]; // in lists: the SLA clocks with a recorded breach
};

export type Report = {
  id: string;
  channel: string;
  reporter: string;
  subject: string;
  body: string;
  category: string | null;
  constituency: string | null;
  tlp: string;
  status: string;
  incident: string | null;
  reject_reason: string | null;
  reject_comment: string;
  observables: Observable[];
  flags: string[];
  received_at: string;
  updated_at: string;
  event_count?: number;
  first_seen?: string | null;
  last_seen?: string | null;
  correlations?: { incident: string; observable: Observable; at: string }[];
};

export type User = {
  username: string;
  display_name: string;
  role: string;
  constituencies: string[] | 'all';
  disabled: boolean;
};

export type Constituency = {
  name: string;
  description: string;
  cidrs: string[];
  asns: string[];
  domains: string[];
  created_at: string;
};

export type TimelineEntry = {
  seq: number;
  at: string;
  actor: string;
  action: string;
  object_type: string;
  object_id: string;
  changes: Record<string, { from: unknown; to: unknown }>;
};

export type Page<T> = { items: T[]; next_cursor: string | null };

export type FeedRun = {
  id: number;
  format: string;
  source: string;
  status: string;
  records: number;
  events_new: number;
  duplicates: number;
  rejects: number;
  reports_created: number;
  reports_updated: number;
  skipped: number;
  correlations: number;
  started_at: string;
  finished_at: string | null;
};

export type FeedReject = { record: number; reason: string; raw: string; at: string };

export const FEED_FORMATS = ['suricata-eve', 'shadowserver', 'xarf', 'iodef', 'misp', 'ndjson', 'csv'];

export type SignatureValidity = 'good' | 'bad' | 'unknown-key' | 'expired-key' | 'revoked-key' | 'error';

export type MailAttachment = { sha256: string; filename: string; content_type: string; magic_type: string; size: number };

// One message received or sent about a report or incident (GET .../mail).
export type MailMessage = {
  id: number;
  direction: 'in' | 'out';
  kind: string;
  message_id: string;
  from: { address: string; name: string };
  to: string[];
  subject: string;
  text: string;
  in_reply_to: string;
  references: string[];
  raw_sha256: string;
  raw_size: number;
  attachments: MailAttachment[];
  pgp: {
    encrypted: boolean;
    decrypted: boolean;
    signatures: { validity: SignatureValidity; fingerprint: string; signer: string; signed_at: string | null }[];
  };
  abuse_report: Record<string, unknown> | null;
  automatic: string;
  spam: boolean;
  flags: string[];
  problems: string[];
  status: string;
  language: string;
  attempts: number;
  last_error: string;
  at: string;
  sent_at: string | null;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    // The problem type (RFC 9457), e.g. PROBLEM_OTP_REQUIRED.
    readonly type?: string,
  ) {
    super(message);
  }
}

// A login whose password was right but whose one-time code is missing, wrong or used.
export const PROBLEM_OTP_REQUIRED = 'https://hikeshi.invalid/problems/otp-required';

export function cookie(name: string): string {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return '';
}

// Set by the app: called when the server says the session is gone.
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

// A Blob (a file the user picked) goes as it is, as application/octet-stream; anything else as JSON.
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const raw = body instanceof Blob;
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = cookie('hikeshi_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response: Response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. / サーバーに接続できません。');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && path !== '/session') onUnauthenticated();
    const detail = data && typeof data.detail === 'string' ? data.detail : response.statusText;
    throw new ApiError(response.status, detail, data?.field, typeof data?.type === 'string' ? data.type : undefined);
  }
  return data as T;
}

// A download route's bytes as text (never as HTML: the caller shows it as a text node), at most
// `limit` bytes of it; `truncated` says whether there was more.
export async function fetchText(path: string, limit: number): Promise<{ text: string; truncated: boolean }> {
  let response: Response;
  try {
    response = await fetch('/api/v1' + path, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. / サーバーに接続できません。');
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthenticated();
    throw new ApiError(response.status, response.statusText);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const truncated = bytes.length > limit;
  return { text: new TextDecoder('utf-8').decode(truncated ? bytes.subarray(0, limit) : bytes), truncated };
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

export const GUIDE_CATEGORIES = ['Scan', 'Forged', 'Intrusion', 'Phishing', 'DDoS', 'Virus', 'Spam', 'APT', 'Other'];
export const INCIDENT_STATUSES = ['open', 'resolved', 'closed', 'rejected', 'merged'];
export const PHASES = ['triage', 'analysis', 'response-plan', 'containment', 'coordination', 'recovery', 'post-incident'];
export const REPORT_STATUSES = ['new', 'linked', 'rejected'];
export const REJECT_REASONS = ['not-incident', 'out-of-scope', 'spam', 'duplicate'];
export const TLPS = ['TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED'];

// Guesses the observable type of a value typed by a handler; the server validates and normalises.
export function guessObservable(raw: string): Observable {
  const value = raw.trim();
  const lower = value.toLowerCase();
  let type = 'domain';
  if (/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(value) || (/^[0-9a-f:]+\/\d{1,3}$/i.test(value) && value.includes(':')))
    type = 'cidr';
  else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value)) type = 'ipv4';
  else if (/^[0-9a-f:]+$/i.test(value) && value.split(':').length > 2) type = 'ipv6';
  else if (/^[a-z][a-z0-9+.-]*:\/\//.test(lower)) type = 'url';
  else if (/^[^@\s]+@[^@\s]+$/.test(value)) type = 'email';
  else if (/^[0-9a-f]{64}$/i.test(value)) type = 'sha256';
  else if (/^[0-9a-f]{40}$/i.test(value)) type = 'sha1';
  else if (/^[0-9a-f]{32}$/i.test(value)) type = 'md5';
  else if (/^cve-\d{4}-\d{4,}$/i.test(value)) type = 'cve';
  else if (/^as\d+$/i.test(value)) type = 'asn';
  return { type, value };
}

export function formatTime(iso: string | null | undefined, lang: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
}

// --- the response loop (GET/POST /incidents/{id}/tasks, plan, countermeasures, review, links) ---

export type Task = {
  id: string;
  incident: string;
  title: string;
  title_en: string | null;
  role: string | null;
  assignee: string | null;
  due: string | null;
  done: boolean;
  done_at: string | null;
  done_by: string | null;
  playbook: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
};

export type AptDecision = { decision: 'eradicate-now' | 'scope-first'; rationale: string; decider: string; at: string };

export type ResponsePlan = {
  incident: string;
  text: string;
  revisions: { text: string; author: string; at: string }[];
  apt_decision: AptDecision | null;
  decisions: AptDecision[];
};

export type Countermeasure = {
  id: string;
  incident: string;
  kind: string;
  target: string;
  where: string;
  note: string;
  state: string;
  history: { state: string; by: string; note: string | null; at: string }[];
  created_by: string;
  created_at: string;
  updated_at: string;
};

export type Review = {
  incident: string;
  root_cause: string;
  actions_taken: string;
  lessons_learned: string;
  playbook_revision: string | null;
  author: string | null;
  updated_at: string | null;
};

export type IncidentLink = { incident: string; other: string; relation: string; created_by: string; created_at: string };

export type Localized = { ja: string | null; en: string | null };

export type MailTemplate = { name: string; language: string; subject: string; body: string };

export type Playbook = {
  name: string;
  version: number;
  revision: string;
  current: boolean;
  category: string;
  title: Localized;
  tasks: { title: Localized; role: string | null; due_hours: number | null }[];
  notify: string[];
  templates: MailTemplate[];
  changed_by: string;
  changed_at: string;
  change_note: string;
};

export const COUNTERMEASURE_KINDS = ['block-ip', 'block-domain', 'sinkhole', 'takedown', 'account-disable', 'other'];
// pending -> active -> pending-removal -> removed, and pending -> removed (core/response.hpp).
export const COUNTERMEASURE_NEXT: Record<string, string[]> = {
  pending: ['active', 'removed'],
  active: ['pending-removal'],
  'pending-removal': ['removed'],
  removed: [],
};
export const LINK_RELATIONS = ['related', 'parent', 'child'];

// --- coordination (contacts, investigations) ---

export type Contact = {
  id: number;
  name: string;
  email: string;
  organisation: string;
  kind: string;
  tlp_clearance: string;
  constituency: string | null;
  pgp_fingerprint: string | null;
  trust: string;
  introduced_by: number | null;
  created_at: string;
  pgp?: { usable: boolean; problem: string | null; fingerprint?: string; user_ids?: string[]; expires_at?: string | null };
};

export const CONTACT_TRUSTS = ['vetted', 'introduced', 'unvetted'];
export const CONTACT_KINDS = ['csirt', 'isp', 'hosting', 'vendor', 'police', 'expert', 'constituent', 'other'];

export type Investigation = {
  id: string;
  incident: string;
  contact: { id: number; name?: string; email?: string; organisation?: string; kind?: string; tlp_clearance?: string };
  title: string;
  state: string;
  due: string | null;
  sent: number;
  replies: number;
  last_sent_at: string | null;
  last_reply_at: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
};

export type InvestigationDetail = Investigation & {
  encryption: 'pgp' | 'none';
  encryption_problem: string | null;
  contact_tlp_clearance: string;
  mail: MailMessage[];
};

export const INVESTIGATION_STATES = ['open', 'waiting', 'answered', 'closed'];

// TLP 2.0 in order of restriction; a message above the contact's clearance needs encryption.
export function tlpRank(tlp: string): number {
  return TLPS.indexOf(tlp);
}

// --- triage (GET/POST /reports/{id}/triage) ---

export type TriageRecord = {
  report: string;
  state: 'auto' | 'overridden' | 'manual' | 'untriaged';
  rule_set_version: number | null;
  rule_id: string | null;
  matched_rules: string[];
  decision: {
    category: string | null;
    apt: boolean | null;
    impact: number | null;
    urgency: number | null;
    priority: string | null;
    owner: string | null;
    team: string | null;
    playbook: string | null;
    tlp: string | null;
    sla_class: string | null;
    disposition: string | null;
    flags: string[];
  } | null;
  explanation: string | null;
  decided_at: string | null;
  incident: string | null;
  notes: string[];
  overrides: { by: string; at: string; reason: string; changes: { field: string; from: string; to: string }[] }[];
};

export const DISPOSITIONS = ['none', 'spam', 'out-of-scope'];

// Outcome of POST /reports/bulk and /incidents/bulk.
export type BulkResult = {
  results: { id: string; ok: boolean; status?: number; detail?: string; field?: string | null }[];
  succeeded: number;
  failed: number;
};

// --- statistics (GET /stats) ---

export type Compliance = { met: number; breached: number; running: number; compliance: number | null };

export type Stats = {
  from: string;
  to: string;
  period: string;
  group: string;
  tz: string;
  incidents: number;
  open: number;
  closed: number;
  status: Record<string, number>;
  open_by_priority: Record<string, number>;
  categories: Record<string, number>;
  constituencies: Record<string, number>;
  channels: Record<string, number>;
  periods: {
    period: string;
    from: string;
    to: string;
    incidents: number;
    categories: Record<string, number>;
    constituencies: Record<string, number>;
    channels: Record<string, number>;
  }[];
  times: Record<string, { count: number; median_seconds: number | null; p90_seconds: number | null }>;
  sla: Record<string, Compliance>;
};

export const SLA_CLOCKS = ['acknowledge', 'triage', 'first-response', 'resolution'];
