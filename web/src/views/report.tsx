// One report: the raw text and the parsed fields side by side, with link, new-incident and
// reject actions, and its triage (the rule that decided, and overrides with a reason). A report
// from mail also shows its messages (raw and parsed, PGP, attachments). Keys: l link, n new
// incident, r reject, t override the triage.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, formatTime, REJECT_REASONS, type Incident, type Report, type User } from '../api';
import { Dl, EnumSelect, ErrorBox, StatusBadge } from '../components';
import { labelOf, useI18n } from '../i18n';
import { Link, navigate } from '../router';
import { pivotHref } from './incident';
import { useLiveChanges } from '../live';
import { MailList } from './mail';
import { TriageSection } from './triage';

export function ReportPage(props: { id: string }) {
  const { t, lang } = useI18n();
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [incidentId, setIncidentId] = useState('');
  const [reason, setReason] = useState('not-incident');
  const [comment, setComment] = useState('');
  const [users, setUsers] = useState<User[]>([]);
  const [reloadKey, setReloadKey] = useState(0);
  const promoteRef = useRef<HTMLButtonElement>(null);

  const load = () =>
    call<Report>('GET', `/reports/${encodeURIComponent(props.id)}`).then((r) => {
      setReport(r);
      setIncidentId(r.correlations?.[0]?.incident ?? '');
    }, setError);

  useEffect(() => {
    setReport(null);
    setError(null);
    load();
  }, [props.id]);
  useEffect(() => {
    call<{ items: User[] }>('GET', '/users').then((r) => setUsers(r.items), () => {});
  }, []);
  useLiveChanges(
    (c) => c.object_type === 'report' && c.object_id === props.id,
    () => {
      load();
      setReloadKey((n) => n + 1);
    },
  );

  // Triage from the keyboard: each key moves the focus to its action.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) {
        if (e.key === 'Escape') target.blur();
        return;
      }
      const focus = (el: HTMLElement | null) => {
        if (!el) return;
        e.preventDefault();
        el.focus();
        el.scrollIntoView({ block: 'center' });
      };
      if (e.key === 'l') focus(document.getElementById('link-incident'));
      else if (e.key === 'n') focus(promoteRef.current);
      else if (e.key === 'r') focus(document.getElementById('reject-reason'));
      else if (e.key === 't') focus(document.getElementById('ov-category'));
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  if (error) return <ErrorBox error={error} />;
  if (!report) return <p aria-busy="true">{t('common.loading')}</p>;

  const act = async (f: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await f();
      await load();
    } catch (e) {
      setActionError(e);
    }
  };
  const link = (e: Event) => {
    e.preventDefault();
    act(() => call('POST', `/reports/${encodeURIComponent(report.id)}/link`, { incident: incidentId.trim() }));
  };
  const reject = (e: Event) => {
    e.preventDefault();
    act(() => call('POST', `/reports/${encodeURIComponent(report.id)}/reject`, { reason, comment }));
  };
  const promote = () =>
    act(async () => {
      const draft: Record<string, unknown> = {
        title: report.subject,
        description: report.body.slice(0, 20000),
        category: report.category ?? 'other/undetermined',
        observables: report.observables,
      };
      if (report.constituency) draft.constituency = report.constituency;
      const incident = await call<Incident>('POST', '/incidents', draft);
      await call('POST', `/reports/${encodeURIComponent(report.id)}/link`, { incident: incident.id });
      navigate(`/incidents/${incident.id}`);
    });

  const isNew = report.status === 'new';
  // A mail report's body is the text parsed from the message; its raw bytes are in the mail view.
  const fromMail = report.channel === 'mail';
  return (
    <article aria-labelledby="report-title">
      <header class="page-header">
        <p class="id">{report.id}</p>
        <h1 id="report-title">{report.subject}</h1>
        <p class="badges">
          <StatusBadge status={report.status} /> <span class="badge">{report.channel}</span> <span class="badge badge-tlp">{report.tlp}</span>
          {report.flags.map((f) => (
            <span class="badge badge-flag" key={f}>
              {f}
            </span>
          ))}
        </p>
      </header>
      <div class="columns even">
        <section aria-labelledby="raw-title" class="panel">
          <h2 id="raw-title">{fromMail ? t('report.text') : t('report.raw')}</h2>
          <pre class="raw" tabIndex={0} aria-labelledby="raw-title">
            {report.body}
          </pre>
        </section>
        <section aria-labelledby="parsed-title" class="panel">
          <h2 id="parsed-title">{t('report.parsed')}</h2>
          <Dl
            rows={[
              [t('field.channel'), report.channel],
              [t('field.reporter'), report.reporter || t('common.none')],
              [t('field.received'), formatTime(report.received_at, lang)],
              [t('field.category'), report.category ?? t('common.none')],
              [t('field.constituency'), report.constituency ?? t('common.none')],
              [t('field.status'), labelOf(t, 'status', report.status)],
              [t('report.linkedTo'), report.incident ? <Link href={`/incidents/${report.incident}`}>{report.incident}</Link> : t('common.none')],
              ...(report.reject_reason
                ? ([[t('field.rejectReason'), `${labelOf(t, 'reason', report.reject_reason)} ${report.reject_comment}`]] as [string, string][])
                : []),
              ...(report.event_count !== undefined
                ? ([
                    [t('field.events'), report.event_count],
                    [t('field.firstSeen'), formatTime(report.first_seen, lang)],
                    [t('field.lastSeen'), formatTime(report.last_seen, lang)],
                  ] as [string, string | number][])
                : []),
            ]}
          />
          <h3>{t('field.observables')}</h3>
          {report.observables.length === 0 ? (
            <p>{t('incident.noObservables')}</p>
          ) : (
            <ul class="observables">
              {report.observables.map((o) => (
                <li key={o.type + o.value}>
                  <span class="obs-type">{o.type}</span> <Link href={pivotHref(o)}>{o.value}</Link>
                </li>
              ))}
            </ul>
          )}
          {report.correlations && report.correlations.length > 0 && (
            <>
              <h3>{t('report.correlations')}</h3>
              <ul>
                {report.correlations.map((c) => (
                  <li key={c.incident + c.observable.value}>
                    <Link href={`/incidents/${c.incident}`}>{c.incident}</Link> ({c.observable.value})
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
      <p class="hint">{isNew ? t('report.keys') : t('report.keysTriage')}</p>
      <TriageSection
        reportId={report.id}
        users={users}
        reloadKey={reloadKey}
        onChanged={() => {
          load();
        }}
      />
      {fromMail && <MailList owner="reports" id={report.id} />}
      {isNew && (
        <div class="columns even">
          <section aria-labelledby="link-title" class="panel">
            <h2 id="link-title">{t('report.link')}</h2>
            <form class="inline-form" onSubmit={link}>
              <div class="field">
                <label for="link-incident">{t('field.incident')}</label>
                <input id="link-incident" required placeholder="I-2026-000001" value={incidentId} onInput={(e) => setIncidentId(e.currentTarget.value)} />
              </div>
              <div class="field buttons">
                <button type="submit">{t('report.linkButton')}</button>
              </div>
            </form>
            <p>
              <button type="button" class="secondary" ref={promoteRef} onClick={promote}>
                {t('report.newIncident')}
              </button>
            </p>
          </section>
          <section aria-labelledby="reject-title" class="panel">
            <h2 id="reject-title">{t('report.reject')}</h2>
            <form class="inline-form" onSubmit={reject}>
              <EnumSelect id="reject-reason" label={t('field.rejectReason')} value={reason} values={REJECT_REASONS} prefix="reason" onChange={setReason} />
              <div class="field grow">
                <label for="reject-comment">{t('field.comment')}</label>
                <input id="reject-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
              </div>
              <div class="field buttons">
                <button type="submit" class="danger">
                  {t('report.rejectButton')}
                </button>
              </div>
            </form>
          </section>
        </div>
      )}
      <ErrorBox error={actionError} />
    </article>
  );
}
