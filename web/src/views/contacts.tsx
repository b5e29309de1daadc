// The contact directory: who the team coordinates with outside, their PGP key (fingerprint, and
// whether mail to them can be encrypted now) and their TLP clearance, with the form to add one.
import { useEffect, useState } from 'preact/hooks';
import { call, CONTACT_KINDS, formatTime, TLPS, type Constituency, type Contact } from '../api';
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
  const empty = { name: '', email: '', organisation: '', kind: 'other', tlp_clearance: 'TLP:CLEAR', constituency: '', pgp_key: '' };
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
    const body: Record<string, string> = {
      name: f.name.trim(),
      email: f.email.trim(),
      kind: f.kind,
      tlp_clearance: f.tlp_clearance,
    };
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
              <th scope="col">{t('field.constituency')}</th>
              <th scope="col">{t('contacts.pgp')}</th>
              <th scope="col">{t('field.created')}</th>
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
                <td>{c.constituency ?? t('contacts.shared')}</td>
                <td class="mono fpr">{c.pgp_fingerprint ? groupFingerprint(c.pgp_fingerprint) : <span class="muted">{t('contacts.noKey')}</span>}</td>
                <td>{formatTime(c.created_at, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
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
