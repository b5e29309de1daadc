// Bulk actions on the selected reports of a queue: reject with a reason, or link to an incident.
// One call to POST /reports/bulk, which applies the action to each report on its own; each failure
// is reported with its report and the server's reason.
import { useState } from 'preact/hooks';
import { ApiError, call, REJECT_REASONS, type BulkResult } from '../api';
import { EnumSelect } from '../components';
import { useI18n } from '../i18n';

export type BulkOutcome = { ok: string[]; failed: { id: string; message: string }[] };

async function runBulk(body: Record<string, unknown>): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { ok: [], failed: [] };
  const ids = body.reports as string[];
  try {
    const result = await call<BulkResult>('POST', '/reports/bulk', body);
    for (const r of result.results) {
      if (r.ok) outcome.ok.push(r.id);
      else outcome.failed.push({ id: r.id, message: r.detail ?? String(r.status ?? '') });
    }
  } catch (e) {
    // The request as a whole was refused (a bad reason, no permission): every report failed so.
    const message = e instanceof ApiError || e instanceof Error ? e.message : String(e);
    for (const id of ids) outcome.failed.push({ id, message });
  }
  return outcome;
}

function Outcome(props: { outcome: BulkOutcome }) {
  const { t } = useI18n();
  const { ok, failed } = props.outcome;
  if (failed.length === 0) {
    return (
      <div class="notice bulk-result" role="status">
        {t('bulk.done', { ok: ok.length })}
      </div>
    );
  }
  return (
    <div class="error bulk-result" role="alert">
      {t('bulk.doneFailed', { ok: ok.length, failed: failed.length })}
      <ul>
        {failed.map((f) => (
          <li key={f.id}>
            <strong>{f.id}</strong>: {f.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function BulkActions(props: { selected: string[]; onDone: (outcome: BulkOutcome) => void; onClear: () => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState('not-incident');
  const [comment, setComment] = useState('');
  const [incident, setIncident] = useState('');
  const [running, setRunning] = useState<{ done: number; n: number } | null>(null);
  const [outcome, setOutcome] = useState<BulkOutcome | null>(null);
  const [hint, setHint] = useState(false);
  const n = props.selected.length;

  const run = async (body: Record<string, unknown>) => {
    if (n === 0) {
      setHint(true);
      return;
    }
    setHint(false);
    setOutcome(null);
    const ids = props.selected.slice();
    setRunning({ done: 0, n: ids.length });
    const result = await runBulk({ ...body, reports: ids });
    setRunning(null);
    setOutcome(result);
    props.onDone(result);
  };
  const reject = (e: Event) => {
    e.preventDefault();
    run({ action: 'reject', reason, ...(comment ? { comment } : {}) });
  };
  const link = (e: Event) => {
    e.preventDefault();
    run({ action: 'link', incident: incident.trim() });
  };

  return (
    <>
      <section class="bulk" aria-labelledby="bulk-title">
        <h2 id="bulk-title">{t('bulk.title')}</h2>
        <span class="selected-count" aria-live="polite">
          {t('bulk.selected', { n })}
        </span>
        <form class="inline-form" onSubmit={reject}>
          <EnumSelect id="bulk-reason" label={t('field.rejectReason')} value={reason} values={REJECT_REASONS} prefix="reason" onChange={setReason} />
          <div class="field">
            <label for="bulk-comment">{t('field.comment')}</label>
            <input id="bulk-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          </div>
          <div class="field buttons">
            <button type="submit" class="danger" disabled={running !== null}>
              {t('bulk.reject')}
            </button>
          </div>
        </form>
        <form class="inline-form" onSubmit={link}>
          <div class="field">
            <label for="bulk-incident">{t('field.incident')}</label>
            <input id="bulk-incident" required placeholder="I-2026-000001" value={incident} onInput={(e) => setIncident(e.currentTarget.value)} />
          </div>
          <div class="field buttons">
            <button type="submit" disabled={running !== null}>
              {t('bulk.link')}
            </button>
          </div>
        </form>
        {n > 0 && (
          <button type="button" class="secondary" onClick={props.onClear}>
            {t('bulk.clear')}
          </button>
        )}
      </section>
      {hint && (
        <div class="notice" role="status">
          {t('bulk.none')}
        </div>
      )}
      {running && (
        <p aria-busy="true" class="muted">
          {t('bulk.running', { done: running.done, n: running.n })}
        </p>
      )}
      {outcome && <Outcome outcome={outcome} />}
    </>
  );
}
