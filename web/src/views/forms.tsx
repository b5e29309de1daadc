// Creating things: a new incident, and the constituency list with its creation form.
import { useEffect, useState } from 'preact/hooks';
import { call, formatTime, GUIDE_CATEGORIES, guessObservable, TLPS, type Constituency, type Incident } from '../api';
import { EnumSelect, ErrorBox, Notice } from '../components';
import { useI18n } from '../i18n';
import { navigate } from '../router';

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');

export function NewIncidentPage() {
  const { t } = useI18n();
  const [constituencies, setConstituencies] = useState<Constituency[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [f, setF] = useState({
    title: '',
    description: '',
    category: 'Phishing',
    constituency: '',
    impact: '3',
    urgency: '3',
    tlp: 'TLP:AMBER',
    observables: '',
  });
  useEffect(() => {
    call<{ items: Constituency[] }>('GET', '/constituencies').then((r) => setConstituencies(r.items), () => {});
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    const body: Record<string, unknown> = {
      title: f.title,
      description: f.description,
      category: f.category,
      impact: Number(f.impact),
      urgency: Number(f.urgency),
      tlp: f.tlp,
      observables: lines(f.observables).map(guessObservable),
    };
    if (f.constituency) body.constituency = f.constituency;
    try {
      const incident = await call<Incident>('POST', '/incidents', body);
      navigate(`/incidents/${incident.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-title">
      <h1 id="new-title">{t('incident.new')}</h1>
      <form class="stacked" onSubmit={submit}>
        <div class="field">
          <label for="new-title-input">{t('field.title')}</label>
          <input id="new-title-input" required maxLength={500} value={f.title} onInput={(e) => setF({ ...f, title: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="new-description">{t('field.description')}</label>
          <textarea id="new-description" rows={6} value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
        </div>
        <div class="inline-form">
          <EnumSelect id="new-category" label={t('field.category')} value={f.category} values={GUIDE_CATEGORIES} prefix="cat" onChange={(v) => setF({ ...f, category: v })} />
          <div class="field">
            <label for="new-constituency">{t('field.constituency')}</label>
            <select id="new-constituency" value={f.constituency} onChange={(e) => setF({ ...f, constituency: e.currentTarget.value })}>
              <option value="">{t('common.none')}</option>
              {constituencies.map((c) => (
                <option key={c.name} value={c.name}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          <EnumSelect id="new-impact" label={t('field.impact')} value={f.impact} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setF({ ...f, impact: v })} />
          <EnumSelect id="new-urgency" label={t('field.urgency')} value={f.urgency} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setF({ ...f, urgency: v })} />
          <EnumSelect id="new-tlp" label={t('field.tlp')} value={f.tlp} values={TLPS} onChange={(v) => setF({ ...f, tlp: v })} />
        </div>
        <div class="field">
          <label for="new-observables">{t('field.observables')}</label>
          <textarea
            id="new-observables"
            rows={4}
            aria-describedby="new-observables-help"
            value={f.observables}
            onInput={(e) => setF({ ...f, observables: e.currentTarget.value })}
          />
          <p id="new-observables-help" class="hint">
            {t('incident.observablesHelp')}
          </p>
        </div>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          {t('common.create')}
        </button>
      </form>
    </section>
  );
}

export function ConstituenciesPage() {
  const { t, lang } = useI18n();
  const [items, setItems] = useState<Constituency[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [createError, setCreateError] = useState<unknown>(null);
  const [created, setCreated] = useState('');
  const [f, setF] = useState({ name: '', description: '', cidrs: '', asns: '', domains: '' });
  const load = () => call<{ items: Constituency[] }>('GET', '/constituencies').then((r) => setItems(r.items), setError);
  useEffect(() => {
    load();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setCreateError(null);
    setCreated('');
    try {
      const c = await call<Constituency>('POST', '/constituencies', {
        name: f.name.trim(),
        description: f.description,
        cidrs: lines(f.cidrs),
        asns: lines(f.asns),
        domains: lines(f.domains),
      });
      setCreated(c.name);
      setF({ name: '', description: '', cidrs: '', asns: '', domains: '' });
      load();
    } catch (err) {
      setCreateError(err);
    }
  };

  return (
    <section aria-labelledby="const-title">
      <h1 id="const-title">{t('constituencies.title')}</h1>
      <ErrorBox error={error} />
      {!items && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {items && (
        <table class="queue" aria-label={t('constituencies.title')}>
          <thead>
            <tr>
              <th scope="col">{t('field.name')}</th>
              <th scope="col">{t('field.description')}</th>
              <th scope="col">CIDR</th>
              <th scope="col">AS</th>
              <th scope="col">{t('field.domains')}</th>
              <th scope="col">{t('field.created')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>{c.description}</td>
                <td>{c.cidrs.join(', ')}</td>
                <td>{c.asns.join(', ')}</td>
                <td>{c.domains.join(', ')}</td>
                <td>{formatTime(c.created_at, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 id="const-new">{t('constituencies.new')}</h2>
      <form class="stacked" aria-labelledby="const-new" onSubmit={submit}>
        <div class="inline-form">
          <div class="field">
            <label for="c-name">{t('field.name')}</label>
            <input id="c-name" required value={f.name} onInput={(e) => setF({ ...f, name: e.currentTarget.value })} />
          </div>
          <div class="field grow">
            <label for="c-description">{t('field.description')}</label>
            <input id="c-description" value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
          </div>
        </div>
        <div class="inline-form">
          <div class="field grow">
            <label for="c-cidrs">{t('field.cidrs')}</label>
            <textarea id="c-cidrs" rows={3} value={f.cidrs} onInput={(e) => setF({ ...f, cidrs: e.currentTarget.value })} />
          </div>
          <div class="field grow">
            <label for="c-asns">{t('field.asns')}</label>
            <textarea id="c-asns" rows={3} value={f.asns} onInput={(e) => setF({ ...f, asns: e.currentTarget.value })} />
          </div>
          <div class="field grow">
            <label for="c-domains">{t('field.domains')}</label>
            <textarea id="c-domains" rows={3} value={f.domains} onInput={(e) => setF({ ...f, domains: e.currentTarget.value })} />
          </div>
        </div>
        <ErrorBox error={createError} />
        {created && <Notice>{t('constituencies.created', { name: created })}</Notice>}
        <button type="submit">{t('common.create')}</button>
      </form>
    </section>
  );
}
