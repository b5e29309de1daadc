// From one observable value to every incident and report holding it.
import { useEffect, useState } from 'preact/hooks';
import { call, formatTime, query, type Incident, type Observable, type Report } from '../api';
import { ErrorBox, PriorityBadge, StatusBadge } from '../components';
import { useI18n } from '../i18n';
import { Link, navigate, useLocation } from '../router';

type Pivot = { observable: Observable; incidents: Incident[]; reports: Report[] };

export function PivotPage() {
  const { t, lang } = useI18n();
  const { params } = useLocation();
  const value = params.get('value') ?? '';
  const type = params.get('type') ?? '';
  const [text, setText] = useState(value);
  const [result, setResult] = useState<Pivot | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    setText(value);
    setResult(null);
    setError(null);
    if (!value) return;
    call<Pivot>('GET', `/observables/${encodeURIComponent(value)}${query({ type })}`).then(setResult, setError);
  }, [value, type]);

  return (
    <section aria-labelledby="pivot-title">
      <h1 id="pivot-title">{t('pivot.title')}</h1>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/observables${query({ value: text.trim() })}`);
        }}
      >
        <div class="field grow">
          <label for="pivot-value">{t('pivot.value')}</label>
          <input id="pivot-value" required value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="field buttons">
          <button type="submit">{t('pivot.go')}</button>
        </div>
      </form>
      <ErrorBox error={error} />
      {value && !result && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {result && (
        <>
          <p class="pivot-value">
            <span class="obs-type">{result.observable.type}</span> <code>{result.observable.value}</code>
          </p>
          <h2>{t('pivot.incidents')}</h2>
          {result.incidents.length === 0 ? (
            <p>{t('common.noResults')}</p>
          ) : (
            <table class="queue" aria-label={t('pivot.incidents')}>
              <thead>
                <tr>
                  <th scope="col">{t('field.id')}</th>
                  <th scope="col">{t('field.priority')}</th>
                  <th scope="col">{t('field.title')}</th>
                  <th scope="col">{t('field.status')}</th>
                  <th scope="col">{t('field.constituency')}</th>
                  <th scope="col">{t('field.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {result.incidents.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <Link href={`/incidents/${i.id}`}>{i.id}</Link>
                    </td>
                    <td>
                      <PriorityBadge priority={i.priority} />
                    </td>
                    <td>{i.title}</td>
                    <td>
                      <StatusBadge status={i.status} />
                    </td>
                    <td>{i.constituency ?? t('common.none')}</td>
                    <td>{formatTime(i.updated_at, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>{t('pivot.reports')}</h2>
          {result.reports.length === 0 ? (
            <p>{t('common.noResults')}</p>
          ) : (
            <table class="queue" aria-label={t('pivot.reports')}>
              <thead>
                <tr>
                  <th scope="col">{t('field.id')}</th>
                  <th scope="col">{t('field.subject')}</th>
                  <th scope="col">{t('field.status')}</th>
                  <th scope="col">{t('field.received')}</th>
                </tr>
              </thead>
              <tbody>
                {result.reports.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <Link href={`/reports/${r.id}`}>{r.id}</Link>
                    </td>
                    <td>{r.subject}</td>
                    <td>
                      <StatusBadge status={r.status} />
                    </td>
                    <td>{formatTime(r.received_at, lang)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
