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
  ) {
    super(message);
  }
}

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

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const csrf = cookie('hikeshi_csrf');
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response: Response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
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
    throw new ApiError(response.status, detail, data?.field);
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
