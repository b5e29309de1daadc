// The triage of one report: what the rules decided at intake (which rule of which rule-set version,
// and why), what a person changed since (who, when, why, from and to), and the form to override it
// with a reason. GET and POST /api/v1/reports/{id}/triage.
import { useEffect, useState } from 'preact/hooks';
import { call, DISPOSITIONS, formatTime, GUIDE_CATEGORIES, TLPS, type TriageRecord, type User } from '../api';
import { Dl, EnumSelect, ErrorBox, Notice, useAction } from '../components';
import { labelOf, useI18n } from '../i18n';
import { Link } from '../router';

export function TriageSection(props: { reportId: string; users: User[]; reloadKey: number; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const path = `/reports/${encodeURIComponent(props.reportId)}/triage`;
  const [record, setRecord] = useState<TriageRecord | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const empty = { category: '', impact: '', urgency: '', tlp: '', owner: '', disposition: '', reason: '' };
  const [f, setF] = useState(empty);
  const [done, setDone] = useState(false);
  const action = useAction();
  const load = () => call<TriageRecord>('GET', path).then(setRecord, setLoadError);
  useEffect(() => {
    setRecord(null);
    load();
  }, [props.reportId, props.reloadKey]);

  const override = async (e: Event) => {
    e.preventDefault();
    setDone(false);
    const body: Record<string, unknown> = { reason: f.reason.trim() };
    if (f.category) body.category = f.category;
    if (f.impact) body.impact = Number(f.impact);
    if (f.urgency) body.urgency = Number(f.urgency);
    if (f.tlp) body.tlp = f.tlp;
    if (f.owner) body.owner = f.owner;
    if (f.disposition) body.disposition = f.disposition;
    if (await action.run(() => call('POST', path, body))) {
      setF(empty);
      setDone(true);
      load();
      props.onChanged();
    }
  };

  const d = record?.decision;
  return (
    <section aria-labelledby="triage-title" class="panel triage">
      <h2 id="triage-title">{t('triage.title')}</h2>
      <ErrorBox error={loadError} />
      {record && (
        <>
          <p class="badges">
            <span class={`badge badge-triage-${record.state}`} data-triage-state={record.state}>
              {labelOf(t, 'triage.state', record.state)}
            </span>
            {record.incident && (
              <>
                {t('triage.opened')} <Link href={`/incidents/${record.incident}`}>{record.incident}</Link>
              </>
            )}
          </p>
          {d ? (
            <Dl
              rows={[
                [t('triage.rule'), <code class="triage-rule">{record.rule_id ?? t('triage.noRule')}</code>],
                [t('triage.version'), record.rule_set_version === null ? t('common.none') : `v${record.rule_set_version}`],
                [t('triage.matched'), record.matched_rules.length ? record.matched_rules.join(', ') : t('common.none')],
                [t('field.category'), d.category ?? t('common.none')],
                [t('field.priority'), d.priority ? `${d.priority} (${d.impact ?? '—'} × ${d.urgency ?? '—'})` : t('common.none')],
                [t('field.owner'), d.owner ?? t('common.none')],
                [t('triage.playbook'), d.playbook ?? t('common.none')],
                [t('field.tlp'), d.tlp ?? t('common.none')],
                [t('triage.disposition'), d.disposition ? labelOf(t, 'triage.disposition', d.disposition) : t('common.none')],
                [t('triage.decidedAt'), formatTime(record.decided_at, lang)],
              ]}
            />
          ) : (
            <p>{t('triage.noDecision')}</p>
          )}
          {record.explanation && <p class="hint explanation">{record.explanation}</p>}
          {record.notes.length > 0 && (
            <ul class="notes">
              {record.notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          {record.overrides.length > 0 && (
            <>
              <h3>{t('triage.overrides')}</h3>
              <ol class="overrides">
                {record.overrides.map((o, i) => (
                  <li key={i}>
                    <p class="when">
                      {formatTime(o.at, lang)} · <strong>{o.by}</strong> · {o.reason}
                    </p>
                    <ul class="changes">
                      {o.changes.map((c) => (
                        <li key={c.field}>{t('timeline.changed', { field: c.field, from: c.from, to: c.to })}</li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}
      <form class="stacked" aria-labelledby="override-title" onSubmit={override}>
        <h3 id="override-title">{t('triage.override')}</h3>
        <div class="inline-form">
          <EnumSelect id="ov-category" label={t('field.category')} value={f.category} any anyLabel={t('triage.unchanged')} values={GUIDE_CATEGORIES} prefix="cat" onChange={(v) => setF({ ...f, category: v })} />
          <EnumSelect id="ov-impact" label={t('field.impact')} value={f.impact} any anyLabel={t('triage.unchanged')} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setF({ ...f, impact: v })} />
          <EnumSelect id="ov-urgency" label={t('field.urgency')} value={f.urgency} any anyLabel={t('triage.unchanged')} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setF({ ...f, urgency: v })} />
          <EnumSelect id="ov-tlp" label={t('field.tlp')} value={f.tlp} any anyLabel={t('triage.unchanged')} values={TLPS} onChange={(v) => setF({ ...f, tlp: v })} />
          <EnumSelect id="ov-owner" label={t('field.owner')} value={f.owner} any anyLabel={t('triage.unchanged')} values={props.users.map((u) => u.username)} onChange={(v) => setF({ ...f, owner: v })} />
          <EnumSelect
            id="ov-disposition"
            label={t('triage.disposition')}
            value={f.disposition}
            any
            anyLabel={t('triage.unchanged')}
            values={DISPOSITIONS}
            prefix="triage.disposition"
            onChange={(v) => setF({ ...f, disposition: v })}
          />
        </div>
        <p class="hint">{t('triage.overrideHelp')}</p>
        <div class="field">
          <label for="ov-reason">{t('triage.reason')}</label>
          <input id="ov-reason" required maxLength={2000} value={f.reason} onInput={(e) => setF({ ...f, reason: e.currentTarget.value })} />
        </div>
        <div>
          <button type="submit" disabled={action.busy}>
            {t('triage.overrideButton')}
          </button>
        </div>
        {done && <Notice>{t('triage.overridden')}</Notice>}
        <ErrorBox error={action.error} />
      </form>
    </section>
  );
}
