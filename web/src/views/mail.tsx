// The mail of a report or an incident: each message's parsed fields beside its raw bytes (shown
// as text, never as HTML), its PGP status, flags and problems, what became of the acknowledgement,
// and its attachments as downloads through the authenticated route.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { call, fetchText, formatTime, type MailAttachment, type MailMessage, type SignatureValidity } from '../api';
import { Dl, ErrorBox } from '../components';
import { labelOf, useI18n, type Translate } from '../i18n';

// More than this of a raw message is not shown (it stays downloadable in full).
const kRawShown = 256 * 1024;

type Owner = 'reports' | 'incidents';

function mailPath(owner: Owner, id: string, mail: number): string {
  return `/${owner}/${encodeURIComponent(id)}/mail/${mail}`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

// "0123456789ABCDEF..." as groups of four, as gpg prints fingerprints.
function groupFingerprint(fpr: string): string {
  return fpr.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

const SIGNATURE_VALIDITIES: SignatureValidity[] = ['good', 'bad', 'unknown-key', 'expired-key', 'revoked-key', 'error'];

export function SignatureBadge(props: { validity: SignatureValidity }) {
  const { t } = useI18n();
  const v = SIGNATURE_VALIDITIES.includes(props.validity) ? props.validity : 'error';
  return <span class={`badge badge-sig badge-sig-${v}`}>{labelOf(t, 'sig', v)}</span>;
}

function RawView(props: { owner: Owner; id: string; mail: MailMessage }) {
  const { t } = useI18n();
  const [raw, setRaw] = useState<{ text: string; truncated: boolean } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const m = props.mail;
  const path = mailPath(props.owner, props.id, m.id) + '/raw';
  useEffect(() => {
    setRaw(null);
    setError(null);
    if (m.raw_sha256) fetchText(path, kRawShown).then(setRaw, setError);
  }, [path, m.raw_sha256]);
  const titleId = `mail-${m.id}-raw`;
  return (
    <section class="mail-part" aria-labelledby={titleId}>
      <h4 id={titleId}>{t('mail.raw')}</h4>
      {!m.raw_sha256 ? (
        <p class="muted">{t('mail.notComposed')}</p>
      ) : (
        <>
          <ErrorBox error={error} />
          {!raw && !error && <p aria-busy="true">{t('common.loading')}</p>}
          {raw && (
            <pre class="raw mail-raw" tabIndex={0} aria-labelledby={titleId}>
              {raw.text}
            </pre>
          )}
          {raw?.truncated && <p class="muted">{t('mail.truncated', { n: formatSize(kRawShown) })}</p>}
          <p>
            <a href={'/api/v1' + path} download={`message-${m.id}.eml`} class="download">
              {t('mail.downloadRaw', { size: formatSize(m.raw_size) })}
            </a>
          </p>
        </>
      )}
    </section>
  );
}

function ParsedView(props: { mail: MailMessage }) {
  const { t, lang } = useI18n();
  const m = props.mail;
  const titleId = `mail-${m.id}-parsed`;
  const from = m.from.name ? `${m.from.name} <${m.from.address}>` : m.from.address;
  return (
    <section class="mail-part" aria-labelledby={titleId}>
      <h4 id={titleId}>{t('mail.parsed')}</h4>
      <Dl
        rows={[
          [t('mail.from'), from || t('common.none')],
          [t('mail.to'), m.to.length ? m.to.join(', ') : t('common.none')],
          [t('field.subject'), m.subject || t('common.none')],
          m.direction === 'in'
            ? [t('field.received'), formatTime(m.at, lang)]
            : m.sent_at
              ? [t('mail.sent'), formatTime(m.sent_at, lang)]
              : [t('mail.queued'), formatTime(m.at, lang)],
          [t('mail.messageId'), <code>{m.message_id}</code>],
          ...(m.in_reply_to ? ([[t('mail.inReplyTo'), <code>{m.in_reply_to}</code>]] as [string, ComponentChildren][]) : []),
          [t('mail.language'), m.language || t('common.none')],
          ...(m.automatic ? ([[t('mail.automatic'), m.automatic]] as [string, string][]) : []),
        ]}
      />
      <pre class="mail-text" tabIndex={0} aria-label={t('mail.body')}>
        {m.text}
      </pre>
    </section>
  );
}

function PgpStatus(props: { mail: MailMessage }) {
  const { t, lang } = useI18n();
  const pgp = props.mail.pgp;
  const encryption = !pgp.encrypted ? t('pgp.notEncrypted') : pgp.decrypted ? t('pgp.decrypted') : t('pgp.notDecrypted');
  return (
    <div class="pgp">
      <h4>{t('pgp.title')}</h4>
      <p>
        <span class={`badge badge-enc badge-enc-${!pgp.encrypted ? 'none' : pgp.decrypted ? 'ok' : 'failed'}`}>{encryption}</span>
      </p>
      {pgp.signatures.length === 0 ? (
        <p class="muted">{t('pgp.unsigned')}</p>
      ) : (
        <ul class="signatures">
          {pgp.signatures.map((s, i) => (
            <li key={i} class="signature" data-validity={s.validity}>
              <SignatureBadge validity={s.validity} /> {s.signer || t('pgp.unknownSigner')}
              <br />
              <span class="muted">{t('pgp.fingerprint')}:</span> <code class="fpr">{s.fingerprint ? groupFingerprint(s.fingerprint) : t('common.none')}</code>
              {s.signed_at && (
                <>
                  {' '}
                  <span class="muted">· {t('pgp.signedAt', { at: formatTime(s.signed_at, lang) })}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// Incoming: what became of the acknowledgement ("queued", "suppressed: spam", ...). Outgoing:
// the delivery state with attempts and the last error.
function delivery(t: Translate, m: MailMessage): string {
  if (m.direction === 'in') {
    if (m.status.startsWith('suppressed: ')) return t('ack.suppressed', { why: m.status.slice('suppressed: '.length) });
    return labelOf(t, 'ack', m.status);
  }
  const parts = [labelOf(t, 'delivery', m.status)];
  if (m.attempts > 0) parts.push(t('mail.attempts', { n: m.attempts }));
  if (m.last_error) parts.push(m.last_error);
  return parts.join(' · ');
}

function Attachments(props: { owner: Owner; id: string; mail: MailMessage }) {
  const { t } = useI18n();
  const m = props.mail;
  if (m.attachments.length === 0) return <p class="muted">{t('mail.noAttachments')}</p>;
  const href = (a: MailAttachment) => `/api/v1${mailPath(props.owner, props.id, m.id)}/attachments/${a.sha256}`;
  return (
    <table class="attachments" aria-label={t('mail.attachments')}>
      <thead>
        <tr>
          <th scope="col">{t('mail.filename')}</th>
          <th scope="col">{t('mail.declaredType')}</th>
          <th scope="col">{t('mail.sniffedType')}</th>
          <th scope="col">{t('mail.size')}</th>
          <th scope="col">SHA-256</th>
          <th scope="col">
            <span class="visually-hidden">{t('mail.download')}</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {m.attachments.map((a) => {
          const differs = a.magic_type && a.content_type && a.magic_type !== a.content_type;
          return (
            <tr key={a.sha256 + a.filename}>
              <td class="filename">{a.filename || t('mail.unnamed')}</td>
              <td>
                <code>{a.content_type || t('common.none')}</code>
              </td>
              <td>
                <code>{a.magic_type || t('common.none')}</code>
                {differs && (
                  <>
                    {' '}
                    <span class="badge badge-flag">{t('mail.typeDiffers')}</span>
                  </>
                )}
              </td>
              <td>{formatSize(a.size)}</td>
              <td>
                <code class="hash" title={a.sha256}>
                  {a.sha256.slice(0, 16)}…
                </code>
              </td>
              <td>
                <a href={href(a)} download={a.filename || a.sha256} class="download" aria-label={t('mail.downloadNamed', { name: a.filename || a.sha256 })}>
                  {t('mail.download')}
                </a>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function MailView(props: { owner: Owner; id: string; mail: MailMessage }) {
  const { t } = useI18n();
  const m = props.mail;
  const titleId = `mail-${m.id}-title`;
  return (
    <article class="mail panel" aria-labelledby={titleId} data-mail={m.id}>
      <header class="mail-header">
        <h3 id={titleId}>{m.subject || t('mail.noSubject')}</h3>
        <p class="badges">
          <span class={`badge badge-dir-${m.direction}`}>{labelOf(t, `mail.kind.${m.direction}`, m.kind)}</span>
          {m.flags.map((f) => (
            <span class="badge badge-flag" key={f}>
              {f}
            </span>
          ))}
          {m.spam && <span class="badge badge-flag">{t('mail.spam')}</span>}
          {m.automatic && <span class="badge">{t('mail.automatic')}</span>}
        </p>
      </header>
      {m.problems.length > 0 && (
        <div class="problems" role="note" aria-label={t('mail.problems')}>
          <strong>{t('mail.problems')}:</strong>
          <ul>
            {m.problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="columns even">
        <ParsedView mail={m} />
        <RawView owner={props.owner} id={props.id} mail={m} />
      </div>
      <div class="columns even">
        <PgpStatus mail={m} />
        <div class="ack">
          <h4>{m.direction === 'in' ? t('mail.ack') : t('mail.delivery')}</h4>
          <p class="ack-status">{delivery(t, m)}</p>
        </div>
      </div>
      <h4>{t('mail.attachments')}</h4>
      <Attachments owner={props.owner} id={props.id} mail={m} />
    </article>
  );
}

// Every message of the report or incident, oldest first; nothing at all when there is none.
export function MailList(props: { owner: Owner; id: string }) {
  const { t } = useI18n();
  const [items, setItems] = useState<MailMessage[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    setItems(null);
    setError(null);
    call<{ items: MailMessage[] }>('GET', `/${props.owner}/${encodeURIComponent(props.id)}/mail`).then((r) => setItems(r.items), setError);
  }, [props.owner, props.id]);
  if (error) return <ErrorBox error={error} />;
  if (!items || items.length === 0) return null;
  return (
    <section aria-labelledby="mail-title" class="mail-list">
      <h2 id="mail-title">{t('mail.title', { n: items.length })}</h2>
      {items.map((m) => (
        <MailView key={m.id} owner={props.owner} id={props.id} mail={m} />
      ))}
    </section>
  );
}
