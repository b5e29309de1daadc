// The contact directory: who the team coordinates with outside, their PGP key (fingerprint, and
// whether mail to them can be encrypted now) and their TLP clearance, with the form to add one.
import { useEffect, useState } from 'preact/hooks';
import { call, CONTACT_KINDS, CONTACT_TRUSTS, formatTime, TLPS, type Constituency, type Contact } from '../api';
import { EnumSelect, ErrorBox, Notice, useAction } from '../components';
import { labelOf, useI18n } from '../i18n';

function groupFingerprint(fpr: string): string {
  return fpr.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

export function ContactsPage() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Contact[] | null>(null);
  const [constituencies, setConstituencies] = useState<Constituency[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<Contact | null>(null);
  const empty = { name: '', email: '', organisation: '', kind: 'other', tlp_clearance: 'TLP:CLEAR', constituency: '', pgp_key: '', trust: 'unvetted', introduced_by: '' };
  const [editing, setEditing] = useState<Contact | null>(null);
  // The name of the contact just saved: the editor closes, so the page says so.
  const [updated, setUpdated] = useState('');
  const nameOf = (id: number | null) => items?.find((c) => c.id === id)?.name ?? (id === null ? '' : `#${id}`);
  const [f, setF] = useState(empty);
  const action = useAction();
  const load = () => call<{ items: Contact[] }>('GET', '/contacts').then((r) => setItems(r.items), setError);
  useEffect(() => {
    load();
    call<{ items: Constituency[] }>('GET', '/constituencies').then((r) => setConstituencies(r.items), () => {});
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setCreated(null);
    const body: Record<string, string | number> = {
      name: f.name.trim(),
      email: f.email.trim(),
      kind: f.kind,
      tlp_clearance: f.tlp_clearance,
      trust: f.trust,
    };
    if (f.introduced_by) body.introduced_by = Number(f.introduced_by);
    if (f.organisation.trim()) body.organisation = f.organisation.trim();
    if (f.constituency) body.constituency = f.constituency;
    if (f.pgp_key.trim()) body.pgp_key = f.pgp_key;
    let contact: Contact | null = null;
    const ok = await action.run(async () => {
      contact = await call<Contact>('POST', '/contacts', body);
    });
    if (ok) {
      setCreated(contact);
      setF(empty);
      load();
    }
  };

  return (
    <section aria-labelledby="contacts-title">
      <h1 id="contacts-title">{t('contacts.title')}</h1>
      <p class="hint">{t('contacts.intro')}</p>
      <ErrorBox error={error} />
      {!items && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {items && items.length === 0 && <p>{t('contacts.none')}</p>}
      {items && items.length > 0 && (
        <table class="queue" aria-labelledby="contacts-title">
          <thead>
            <tr>
              <th scope="col">{t('field.name')}</th>
              <th scope="col">{t('contacts.email')}</th>
              <th scope="col">{t('contacts.organisation')}</th>
              <th scope="col">{t('contacts.kind')}</th>
              <th scope="col">{t('contacts.clearance')}</th>
              <th scope="col">{t('contacts.trust')}</th>
              <th scope="col">{t('field.constituency')}</th>
              <th scope="col">{t('contacts.pgp')}</th>
              <th scope="col">{t('field.created')}</th>
              <th scope="col">
                <span class="visually-hidden">{t('contacts.edit')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id} data-contact={c.id}>
                <td>{c.name}</td>
                <td>
                  <a href={`mailto:${c.email}`}>{c.email}</a>
                </td>
                <td>{c.organisation}</td>
                <td>{labelOf(t, 'contact.kind', c.kind)}</td>
                <td>
                  <span class="badge badge-tlp">{c.tlp_clearance}</span>
                </td>
                <td data-trust={c.trust}>
                  {labelOf(t, 'contact.trust', c.trust)}
                  {c.introduced_by !== null && (
                    <div class="hint" data-introduced-by={c.introduced_by}>
                      {t('contacts.introducedByName', { name: nameOf(c.introduced_by) })}
                    </div>
                  )}
                </td>
                <td>{c.constituency ?? t('contacts.shared')}</td>
                <td class="mono fpr">{c.pgp_fingerprint ? groupFingerprint(c.pgp_fingerprint) : <span class="muted">{t('contacts.noKey')}</span>}</td>
                <td>{formatTime(c.created_at, lang)}</td>
                <td>
                  <button type="button" class="secondary" aria-label={t('contacts.editOf', { name: c.name })} onClick={() => { setEditing(c); setUpdated(''); }}>
                    {t('contacts.edit')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {updated && <Notice>{t('contacts.updated', { name: updated })}</Notice>}
      {editing && items && (
        <ContactEditor
          key={editing.id}
          contact={editing}
          contacts={items}
          onDone={(name) => {
            setEditing(null);
            setUpdated(name);
            load();
          }}
        />
      )}
      <h2 id="contacts-new">{t('contacts.new')}</h2>
      <form class="stacked" aria-labelledby="contacts-new" onSubmit={submit}>
        <div class="inline-form">
          <div class="field">
            <label for="ct-name">{t('field.name')}</label>
            <input id="ct-name" required maxLength={200} value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="ct-email">{t('contacts.email')}</label>
            <input id="ct-email" type="email" required value={f.email} onInput={(e) => setF({ ...f, email: e.currentTarget.value })} />
          </div>
          <div class="field grow">
            <label for="ct-organisation">{t('contacts.organisation')}</label>
            <input id="ct-organisation" value={f.organisation} onInput={(e) => setF({ ...f, organisation: e.currentTarget.value })} />
          </div>
        </div>
        <div class="inline-form">
          <EnumSelect id="ct-kind" label={t('contacts.kind')} value={f.kind} values={CONTACT_KINDS} prefix="contact.kind" onChange={(v) => setF({ ...f, kind: v })} />
          <EnumSelect id="ct-clearance" label={t('contacts.clearance')} value={f.tlp_clearance} values={TLPS} onChange={(v) => setF({ ...f, tlp_clearance: v })} />
          <div class="field">
            <label for="ct-constituency">{t('field.constituency')}</label>
            <select id="ct-constituency" value={f.constituency} onChange={(e) => setF({ ...f, constituency: e.currentTarget.value })}>
              <option value="">{t('contacts.shared')}</option>
              {constituencies.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div class="inline-form">
          <EnumSelect id="ct-trust" label={t('contacts.trust')} value={f.trust} values={CONTACT_TRUSTS} prefix="contact.trust" onChange={(v) => setF({ ...f, trust: v })} />
          <IntroducerSelect id="ct-introduced-by" contacts={items ?? []} value={f.introduced_by} onChange={(v) => setF({ ...f, introduced_by: v })} />
        </div>
        <p class="hint">{t('contacts.trustHelp')}</p>
        <div class="field">
          <label for="ct-key">{t('contacts.key')}</label>
          <textarea
            id="ct-key"
            rows={5}
            class="mono"
            aria-describedby="ct-key-help"
            placeholder="-----BEGIN PGP PUBLIC KEY BLOCK-----"
            value={f.pgp_key}
            onInput={(e) => setF({ ...f, pgp_key: e.currentTarget.value })}
          />
          <p id="ct-key-help" class="hint">
            {t('contacts.keyHelp')}
          </p>
        </div>
        <p class="hint">{t('contacts.clearanceHelp')}</p>
        <ErrorBox error={action.error} />
        {created && (
          <Notice>
            {created.pgp_fingerprint
              ? t('contacts.createdKey', { name: created.name, fpr: groupFingerprint(created.pgp_fingerprint) })
              : t('contacts.created', { name: created.name })}
          </Notice>
        )}
        <div>
          <button type="submit" disabled={action.busy}>
            {t('contacts.add')}
          </button>
        </div>
      </form>
    </section>
  );
}

function IntroducerSelect(props: { id: string; contacts: Contact[]; exclude?: number; value: string; onChange: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <div class="field">
      <label for={props.id}>{t('contacts.introducedBy')}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        <option value="">{t('contacts.nobody')}</option>
        {props.contacts
          .filter((c) => c.id !== props.exclude)
          .map((c) => (
            <option key={c.id} value={String(c.id)}>
              {c.organisation ? `${c.name} (${c.organisation})` : c.name}
            </option>
          ))}
      </select>
    </div>
  );
}

// Changes a contact's name, organisation, clearance and place in the trust circle (PATCH).
function ContactEditor(props: { contact: Contact; contacts: Contact[]; onDone: (name: string) => void }) {
  const { t } = useI18n();
  const c = props.contact;
  const [f, setF] = useState({
    name: c.name,
    organisation: c.organisation,
    tlp_clearance: c.tlp_clearance,
    trust: c.trust,
    introduced_by: c.introduced_by === null ? '' : String(c.introduced_by),
  });
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = {
      name: f.name.trim(),
      organisation: f.organisation.trim(),
      tlp_clearance: f.tlp_clearance,
      trust: f.trust,
      introduced_by: f.introduced_by ? Number(f.introduced_by) : null,
    };
    const ok = await action.run(async () => {
      await call<Contact>('PATCH', `/contacts/${c.id}`, body);
    });
    if (ok) props.onDone(body.name);
  };
  return (
    <form class="stacked" aria-labelledby="contacts-edit" onSubmit={submit} data-editing={c.id}>
      <h2 id="contacts-edit">{t('contacts.editTitle', { name: c.name })}</h2>
      <div class="inline-form">
        <div class="field">
          <label for="ce-name">{t('field.name')}</label>
          <input id="ce-name" required maxLength={200} value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
        </div>
        <div class="field grow">
          <label for="ce-organisation">{t('contacts.organisation')}</label>
          <input id="ce-organisation" value={f.organisation} onInput={(e) => setF({ ...f, organisation: e.currentTarget.value })} />
        </div>
      </div>
      <div class="inline-form">
        <EnumSelect id="ce-clearance" label={t('contacts.clearance')} value={f.tlp_clearance} values={TLPS} onChange={(v) => setF({ ...f, tlp_clearance: v })} />
        <EnumSelect id="ce-trust" label={t('contacts.trust')} value={f.trust} values={CONTACT_TRUSTS} prefix="contact.trust" onChange={(v) => setF({ ...f, trust: v })} />
        <IntroducerSelect id="ce-introduced-by" contacts={props.contacts} exclude={c.id} value={f.introduced_by} onChange={(v) => setF({ ...f, introduced_by: v })} />
      </div>
      <ErrorBox error={action.error} />
      <div>
        <button type="submit" disabled={action.busy}>
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}
