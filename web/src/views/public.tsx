// The pages anyone may open without an account: the report form and the team profile.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, GUIDE_CATEGORIES } from '../api';
import { ErrorBox } from '../components';
import { labelOf, useI18n } from '../i18n';

const PUBLIC_CATEGORIES = GUIDE_CATEGORIES.filter((c) => c !== 'APT');

export function PublicReportPage() {
  const { t } = useI18n();
  const empty = { category: '', subject: '', description: '', contact: '', website: '' };
  const [f, setF] = useState(empty);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [tracking, setTracking] = useState('');

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, string> = { description: f.description };
      if (f.category) body.category = f.category;
      if (f.subject.trim()) body.subject = f.subject.trim();
      if (f.contact.trim()) body.contact = f.contact.trim();
      if (f.website) body.website = f.website;
      const r = await call<{ id: string }>('POST', '/public/reports', body);
      setTracking(r.id);
      setF(empty);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (tracking) {
    return (
      <section aria-labelledby="thanks-title" class="public narrow">
        <h1 id="thanks-title">{t('public.report.thanks')}</h1>
        <p>{t('public.report.tracking')}:</p>
        <p class="tracking" data-tracking-id={tracking}>
          {tracking}
        </p>
        <p>{t('public.report.trackingHelp')}</p>
        <button type="button" class="secondary" onClick={() => setTracking('')}>
          {t('public.report.another')}
        </button>
      </section>
    );
  }

  return (
    <section aria-labelledby="public-title" class="public narrow">
      <h1 id="public-title">{t('public.report.title')}</h1>
      <p>{t('public.report.intro')}</p>
      <form class="stacked" onSubmit={submit}>
        <div class="field">
          <label for="pr-category">{t('public.report.category')}</label>
          <select id="pr-category" value={f.category} onChange={(e) => setF({ ...f, category: e.currentTarget.value })}>
            <option value="">{t('public.report.dontKnow')}</option>
            {PUBLIC_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {labelOf(t, 'cat', c)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="pr-subject">{t('public.report.subject')}</label>
          <input id="pr-subject" maxLength={200} value={f.subject} onInput={(e) => setF({ ...f, subject: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="pr-description">{t('public.report.description')}</label>
          <textarea id="pr-description" required rows={10} maxLength={60000} value={f.description} onInput={(e) => setF({ ...f, description: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="pr-contact">{t('public.report.contact')}</label>
          <input id="pr-contact" type="email" autoComplete="email" value={f.contact} onInput={(e) => setF({ ...f, contact: e.currentTarget.value })} />
        </div>
        <div class="field honeypot" aria-hidden="true">
          <label for="pr-website">{t('public.report.honeypot')}</label>
          <input id="pr-website" name="website" tabIndex={-1} autoComplete="off" value={f.website} onInput={(e) => setF({ ...f, website: e.currentTarget.value })} />
        </div>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          {t('public.report.submit')}
        </button>
      </form>
    </section>
  );
}

type Team = {
  name: string;
  mission?: string;
  constituency?: string;
  services?: string[];
  contacts?: { kind?: string; value?: string }[];
  pgp_fingerprint?: string;
  pgp_key?: string;
};

export function TeamPage() {
  const { t } = useI18n();
  const [team, setTeam] = useState<Team | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    call<Team>('GET', '/public/team').then(setTeam, setError);
  }, []);
  if (error) {
    if (error instanceof ApiError && error.status === 404) return <p class="public narrow">{t('team.missing')}</p>;
    return <ErrorBox error={error} />;
  }
  if (!team) return <p aria-busy="true">{t('common.loading')}</p>;
  return (
    <article aria-labelledby="team-title" class="public narrow">
      <h1 id="team-title">{team.name}</h1>
      {team.mission && (
        <section>
          <h2>{t('team.mission')}</h2>
          <p>{team.mission}</p>
        </section>
      )}
      {team.constituency && (
        <section>
          <h2>{t('team.constituency')}</h2>
          <p>{team.constituency}</p>
        </section>
      )}
      {team.services && team.services.length > 0 && (
        <section>
          <h2>{t('team.services')}</h2>
          <ul>
            {team.services.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        </section>
      )}
      {team.contacts && team.contacts.length > 0 && (
        <section>
          <h2>{t('team.contacts')}</h2>
          <dl class="fields">
            {team.contacts.map((c, i) => (
              <div class="row" key={i}>
                <dt>{c.kind ?? ''}</dt>
                <dd>{c.kind === 'email' && c.value ? <a href={`mailto:${c.value}`}>{c.value}</a> : c.value}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      {(team.pgp_fingerprint || team.pgp_key) && (
        <section>
          <h2>{t('team.pgp')}</h2>
          {team.pgp_fingerprint && <p><code>{team.pgp_fingerprint}</code></p>}
          {team.pgp_key && <pre class="raw">{team.pgp_key}</pre>}
        </section>
      )}
    </article>
  );
}
