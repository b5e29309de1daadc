// Investigations on the incident page: one coordination thread per outside contact, opened with a
// contact from the directory, each with its mail thread and a composer. The composer fills in the
// playbook's mail templates and says before sending how the message will go: encrypted to the
// contact's key, in clear text (within the contact's TLP clearance), or refused because its TLP is
// above the clearance and it cannot be encrypted (the server refuses it the same way).
import { useEffect, useState } from 'preact/hooks';
import {
  call,
  formatTime,
  INVESTIGATION_STATES,
  tlpRank,
  TLPS,
  type Contact,
  type Incident,
  type Investigation,
  type InvestigationDetail,
  type MailMessage,
  type MailTemplate,
  type Playbook,
  type Report,
  type Task,
  type User,
} from '../api';
import { EnumSelect, ErrorBox, isoToLocal, localToIso, Notice, useAction } from '../components';
import { labelOf, useI18n } from '../i18n';
import { useLiveChanges } from '../live';

const enc = encodeURIComponent;

type TemplateChoice = { key: string; playbook: string; template: MailTemplate };

// {{placeholder}} -> value, as core::RenderMailTemplate does when the server uses a template.
function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name: string) => (name in values ? values[name] : whole));
}

function groupFingerprint(fpr: string): string {
  return fpr.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

function Thread(props: { mail: MailMessage[] }) {
  const { t, lang } = useI18n();
  if (props.mail.length === 0) return <p class="muted">{t('inv.noMail')}</p>;
  return (
    <ol class="thread">
      {props.mail.map((m) => (
        <li key={m.id} class={`thread-${m.direction}`} data-mail={m.id}>
          <p class="when">
            <span class={`badge badge-dir-${m.direction}`}>{m.direction === 'in' ? t('inv.received') : t('inv.sent')}</span>{' '}
            <time dateTime={m.at}>{formatTime(m.at, lang)}</time> · {m.direction === 'in' ? m.from.address : m.to.join(', ')}
            {m.direction === 'out' && <> · {labelOf(t, 'delivery', m.status)}</>}
            {m.flags.some((f) => f.startsWith('encrypt-to:')) && <span class="badge badge-pgp"> {t('inv.encrypted')}</span>}
            {m.pgp.encrypted && <span class="badge badge-pgp"> {t('inv.encrypted')}</span>}
          </p>
          <p class="thread-subject">
            <strong>{m.subject || t('mail.noSubject')}</strong>
          </p>
          <pre class="raw thread-text">{m.text}</pre>
        </li>
      ))}
    </ol>
  );
}

function Composer(props: {
  incident: Incident;
  detail: InvestigationDetail;
  contact: Contact | undefined;
  templates: TemplateChoice[];
  values: Record<string, string>;
  onSent: () => void;
}) {
  const { t } = useI18n();
  const d = props.detail;
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [tlp, setTlp] = useState(props.incident.tlp);
  const [template, setTemplate] = useState('');
  const [sent, setSent] = useState(false);
  const action = useAction();
  const idBase = `composer-${d.id}`;

  const useTemplate = (key: string) => {
    setTemplate(key);
    const choice = props.templates.find((c) => c.key === key);
    if (!choice) return;
    const values = { ...props.values, tlp };
    setSubject(fillTemplate(choice.template.subject, values));
    setBody(fillTemplate(choice.template.body, values));
  };

  const clearance = d.contact_tlp_clearance;
  const encrypted = d.encryption === 'pgp';
  const refused = !encrypted && tlpRank(tlp) > tlpRank(clearance);
  const fingerprint = props.contact?.pgp_fingerprint ?? props.contact?.pgp?.fingerprint ?? '';

  const send = async (e: Event) => {
    e.preventDefault();
    setSent(false);
    const ok = await action.run(() =>
      call('POST', `/incidents/${enc(props.incident.id)}/investigations/${enc(d.id)}/messages`, { subject: subject.trim(), body, tlp }),
    );
    if (ok) {
      setSent(true);
      setSubject('');
      setBody('');
      setTemplate('');
      props.onSent();
    }
  };

  return (
    <form class="stacked composer" aria-labelledby={`${idBase}-title`} onSubmit={send}>
      <h4 id={`${idBase}-title`}>{t('inv.compose')}</h4>
      {props.templates.length > 0 && (
        <div class="field">
          <label for={`${idBase}-template`}>{t('inv.template')}</label>
          <select id={`${idBase}-template`} value={template} onChange={(e) => useTemplate(e.currentTarget.value)}>
            <option value="">{t('inv.noTemplate')}</option>
            {props.templates.map((c) => (
              <option key={c.key} value={c.key}>
                {c.template.name} ({c.template.language}) — {c.playbook}
              </option>
            ))}
          </select>
        </div>
      )}
      <div class="inline-form">
        <div class="field grow">
          <label for={`${idBase}-subject`}>{t('field.subject')}</label>
          <input id={`${idBase}-subject`} required maxLength={500} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        </div>
        <EnumSelect id={`${idBase}-tlp`} label={t('inv.tlp')} value={tlp} values={TLPS} onChange={setTlp} />
      </div>
      <div class="field">
        <label for={`${idBase}-body`}>{t('inv.body')}</label>
        <textarea id={`${idBase}-body`} rows={8} required value={body} onInput={(e) => setBody(e.currentTarget.value)} />
      </div>
      {encrypted ? (
        <p class="notice encryption" data-encryption="pgp" role="status">
          {fingerprint ? t('inv.willEncrypt', { fpr: groupFingerprint(fingerprint) }) : t('inv.willEncryptNoFpr')}
        </p>
      ) : refused ? (
        <p class="error encryption" data-encryption="refused" role="alert">
          {t('inv.refused', { tlp, clearance, problem: d.encryption_problem ?? '' })}
        </p>
      ) : (
        <p class="warning encryption" data-encryption="clear" role="status">
          {t('inv.clearText', { clearance, problem: d.encryption_problem ?? '' })}
        </p>
      )}
      <div>
        <button type="submit" disabled={action.busy || refused || d.state === 'closed'}>
          {t('inv.send')}
        </button>
        {d.state === 'closed' && <span class="hint"> {t('inv.closedHint')}</span>}
      </div>
      {sent && <Notice>{t('inv.queued')}</Notice>}
      <ErrorBox error={action.error} />
    </form>
  );
}

function InvestigationView(props: {
  incident: Incident;
  investigation: Investigation;
  contacts: Contact[];
  templates: TemplateChoice[];
  values: Record<string, string>;
  reloadKey: number;
  canWrite: boolean;
  onChanged: () => void;
}) {
  const { t, lang } = useI18n();
  const v = props.investigation;
  const path = `/incidents/${enc(props.incident.id)}/investigations/${enc(v.id)}`;
  const [detail, setDetail] = useState<InvestigationDetail | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const action = useAction();
  const load = () => call<InvestigationDetail>('GET', path).then(setDetail, setLoadError);
  useEffect(() => {
    load();
  }, [path, props.reloadKey]);
  const patch = async (change: Record<string, unknown>) => {
    if (await action.run(() => call('PATCH', path, change))) {
      load();
      props.onChanged();
    }
  };
  const contact = props.contacts.find((c) => c.id === v.contact.id);
  const titleId = `inv-${v.id}-title`;
  return (
    <article class="investigation" aria-labelledby={titleId} data-investigation={v.id}>
      <h3 id={titleId}>
        {v.id} · {v.title}
      </h3>
      <ErrorBox error={loadError} />
      {detail && (
        <>
          <p class="muted">
            {t('inv.with', { name: v.contact.name ?? String(v.contact.id), email: v.contact.email ?? '' })} · {t('inv.clearance')}{' '}
            <span class="badge badge-tlp">{detail.contact_tlp_clearance}</span>
          </p>
          <div class="inline-form">
            <EnumSelect
              id={`inv-${v.id}-state`}
              label={t('field.status')}
              value={detail.state}
              values={INVESTIGATION_STATES}
              prefix="inv.state"
              onChange={(s) => patch({ state: s })}
            />
            <div class="field">
              <label for={`inv-${v.id}-due`}>{t('tasks.due')}</label>
              <input id={`inv-${v.id}-due`} type="datetime-local" value={isoToLocal(detail.due)} onChange={(e) => patch({ due: localToIso(e.currentTarget.value) })} />
            </div>
            <p class="muted">{t('inv.counts', { sent: detail.sent, replies: detail.replies, at: formatTime(detail.last_reply_at, lang) })}</p>
          </div>
          <ErrorBox error={action.error} />
          <Thread mail={detail.mail} />
          {props.canWrite && (
          <Composer
            incident={props.incident}
            detail={detail}
            contact={contact}
            templates={props.templates}
            values={props.values}
            onSent={() => {
              load();
              props.onChanged();
            }}
          />
          )}
        </>
      )}
    </article>
  );
}

export function InvestigationsSection(props: { incident: Incident; reports: Report[]; user: User; reloadKey: number; canWrite: boolean }) {
  const { t } = useI18n();
  const incident = props.incident;
  const base = `/incidents/${enc(incident.id)}/investigations`;
  const [items, setItems] = useState<Investigation[] | null>(null);
  const [contacts, setContacts] = useState<Contact[]>([]);
  const [templates, setTemplates] = useState<TemplateChoice[]>([]);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [openId, setOpenId] = useState<string>('');
  const [f, setF] = useState({ contact: '', title: '', due: '' });
  const action = useAction();
  const load = () => call<{ items: Investigation[] }>('GET', base).then((r) => setItems(r.items), setLoadError);
  useEffect(() => {
    load();
  }, [incident.id, props.reloadKey]);
  useEffect(() => {
    // Only those who may write need the directory and the templates (constituents may not read playbooks).
    if (!props.canWrite) return;
    call<{ items: Contact[] }>('GET', '/contacts').then((r) => setContacts(r.items), () => {});
    // The incident's own playbook (named on its tasks) first, then every other current one.
    Promise.all([
      call<{ items: Playbook[] }>('GET', '/playbooks').catch(() => ({ items: [] as Playbook[] })),
      call<{ items: Task[] }>('GET', `/incidents/${enc(incident.id)}/tasks`).catch(() => ({ items: [] as Task[] })),
    ]).then(([playbooks, tasks]) => {
      const own = new Set(tasks.items.map((x) => (x.playbook ?? '').split('@')[0]).filter((n) => n));
      const ordered = playbooks.items.slice().sort((a, b) => Number(own.has(b.name)) - Number(own.has(a.name)));
      const choices: TemplateChoice[] = [];
      for (const p of ordered) {
        for (const tpl of p.templates) choices.push({ key: `${p.revision}/${tpl.name}/${tpl.language}`, playbook: p.revision, template: tpl });
      }
      setTemplates(choices);
    });
  }, [incident.id]);
  // A reply threading in changes the investigation: show it without a reload.
  useLiveChanges(
    (c) => c.incident === incident.id && (c.object_type === 'investigation' || c.object_type === 'mail'),
    () => load(),
  );

  const open = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { contact: Number(f.contact), title: f.title.trim() };
    const due = localToIso(f.due);
    if (due) body.due = due;
    let created: InvestigationDetail | null = null;
    const ok = await action.run(async () => {
      created = await call<InvestigationDetail>('POST', base, body);
    });
    if (ok && created) {
      setF({ contact: '', title: '', due: '' });
      setOpenId((created as InvestigationDetail).id);
      load();
    }
  };

  const reporter = props.reports.find((r) => r.reporter)?.reporter ?? '';
  const values: Record<string, string> = {
    incident: incident.id,
    title: incident.title,
    category: incident.category,
    tlp: incident.tlp,
    constituency: incident.constituency ?? '',
    reporter,
    handler: props.user.display_name || props.user.username,
  };

  return (
    <section aria-labelledby="inv-title" class="panel investigations">
      <h2 id="inv-title">{t('inv.title')}</h2>
      <ErrorBox error={loadError} />
      {items && items.length === 0 && <p>{t('inv.none')}</p>}
      {items && items.length > 0 && (
        <table class="queue" aria-labelledby="inv-title">
          <thead>
            <tr>
              <th scope="col">{t('field.id')}</th>
              <th scope="col">{t('field.title')}</th>
              <th scope="col">{t('inv.contact')}</th>
              <th scope="col">{t('field.status')}</th>
              <th scope="col">{t('tasks.due')}</th>
              <th scope="col">{t('inv.messages')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((v) => (
              <tr key={v.id} class={openId === v.id ? 'selected' : ''}>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={openId === v.id}
                    aria-label={t('inv.openThread', { id: v.id })}
                    onClick={() => setOpenId(openId === v.id ? '' : v.id)}
                  >
                    {v.id}
                  </button>
                </td>
                <td>{v.title}</td>
                <td>
                  {v.contact.name} <span class="muted">{v.contact.email}</span>
                </td>
                <td>
                  <span class={`badge badge-inv-${v.state}`}>{labelOf(t, 'inv.state', v.state)}</span>
                </td>
                <td>{v.due ? new Date(v.due).toLocaleDateString() : t('common.none')}</td>
                <td>
                  {v.sent} / {v.replies}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {items &&
        items
          .filter((v) => v.id === openId)
          .map((v) => (
            <InvestigationView
              key={v.id}
              incident={incident}
              investigation={v}
              contacts={contacts}
              templates={templates}
              values={values}
              reloadKey={props.reloadKey}
              canWrite={props.canWrite}
              onChanged={load}
            />
          ))}
      {props.canWrite && (
      <form class="inline-form" aria-labelledby="inv-open-title" onSubmit={open}>
        <h3 id="inv-open-title" class="visually-hidden">
          {t('inv.open')}
        </h3>
        <div class="field">
          <label for="inv-contact">{t('inv.contact')}</label>
          <select id="inv-contact" required value={f.contact} onChange={(e) => setF({ ...f, contact: e.currentTarget.value })}>
            <option value="">{t('inv.pickContact')}</option>
            {contacts.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name} &lt;{c.email}&gt; · {labelOf(t, 'contact.kind', c.kind)} · {c.tlp_clearance}
                {c.pgp_fingerprint ? ' · PGP' : ''}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="inv-new-title">{t('field.title')}</label>
          <input id="inv-new-title" required maxLength={500} value={f.title} onInput={(e) => setF({ ...f, title: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="inv-new-due">{t('tasks.due')}</label>
          <input id="inv-new-due" type="datetime-local" value={f.due} onInput={(e) => setF({ ...f, due: e.currentTarget.value })} />
        </div>
        <div class="field buttons">
          <button type="submit" disabled={action.busy}>
            {t('inv.open')}
          </button>
        </div>
      </form>
      )}
      <ErrorBox error={action.error} />
    </section>
  );
}
