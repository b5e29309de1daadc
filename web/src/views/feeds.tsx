// Machine feeds: send a feed file (POST /events), the runs newest first with their counts, and one
// run's rejects with their reasons and raw records.
import { useEffect, useState } from 'preact/hooks';
import { call, FEED_FORMATS, formatTime, query, TLPS, type FeedReject, type FeedRun, type Page, type User } from '../api';
import { Dl, EnumSelect, ErrorBox, Notice, StatusBadge, useAction } from '../components';
import { useI18n } from '../i18n';
import { Link } from '../router';

const kRejectPage = 100;
// How often the run list is refreshed while a file is being sent.
const kProgressMs = 1000;

function SendFeed(props: { onDone: (run: FeedRun) => void; onBusy: (busy: boolean) => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState(FEED_FORMATS[0]);
  const [mapping, setMapping] = useState('');
  const [tlp, setTlp] = useState('TLP:AMBER');
  const { run, error, busy } = useAction();
  const mapped = format === 'ndjson' || format === 'csv';
  useEffect(() => props.onBusy(busy), [busy]);
  return (
    <section aria-labelledby="send-title" class="panel">
      <h2 id="send-title">{t('feeds.send')}</h2>
      <p class="help">{t('feeds.sendHelp')}</p>
      <form
        class="stacked"
        onSubmit={(e) => {
          e.preventDefault();
          if (!file) return;
          // The file's name is the run's source: for Shadowserver it also names the report type.
          const params = { format, source: file.name, tlp, mapping: mapped && mapping.trim() ? mapping.trim() : undefined };
          run(async () => props.onDone(await call<FeedRun>('POST', `/events${query(params)}`, file)));
        }}
      >
        <div class="field">
          <label for="feed-file">{t('feeds.file')}</label>
          <input id="feed-file" type="file" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </div>
        <EnumSelect id="feed-format" label={t('feeds.format')} value={format} values={FEED_FORMATS} onChange={setFormat} />
        {mapped && (
          <div class="field">
            <label for="feed-mapping">{t('feeds.mapping')}</label>
            <input id="feed-mapping" value={mapping} required aria-describedby="feed-mapping-help" onInput={(e) => setMapping(e.currentTarget.value)} />
            <p class="help" id="feed-mapping-help">
              {t('feeds.mappingHelp')}
            </p>
          </div>
        )}
        <EnumSelect id="feed-tlp" label={t('feeds.tlp')} value={tlp} values={TLPS} onChange={setTlp} />
        <p class="help">{t('feeds.tlpHelp')}</p>
        <ErrorBox error={error} />
        <div class="field buttons">
          <button type="submit" disabled={busy || !file}>
            {busy && file ? t('feeds.ingesting', { name: file.name }) : t('feeds.ingest')}
          </button>
        </div>
      </form>
    </section>
  );
}

function Counts(props: { run: FeedRun }) {
  const { t } = useI18n();
  const r = props.run;
  return t('feeds.done', {
    id: r.id,
    records: r.records,
    stored: r.events_new,
    duplicates: r.duplicates,
    rejects: r.rejects,
    created: r.reports_created,
    updated: r.reports_updated,
  });
}

export function FeedsPage(props: { user: User }) {
  const { t, lang } = useI18n();
  const [runs, setRuns] = useState<FeedRun[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<FeedRun | null>(null);
  const [sending, setSending] = useState(false);

  const load = () =>
    call<Page<FeedRun>>('GET', `/feeds/runs${query({ limit: 50 })}`).then((page) => {
      setRuns(page.items);
      setNext(page.next_cursor);
    }, setError);
  useEffect(() => {
    load();
  }, []);
  // The server ingests a file while it arrives and commits it batch by batch: while one is being
  // sent, the list is refreshed so that its run (Running, with its counts so far) shows progress.
  useEffect(() => {
    if (!sending) return;
    const timer = setInterval(load, kProgressMs);
    return () => clearInterval(timer);
  }, [sending]);

  // Feeds are sent, and their runs seen, by users who see every constituency: a feed's reports go to
  // whichever constituency each event names.
  const canSend = (props.user.role === 'admin' || props.user.role === 'handler') && props.user.constituencies === 'all';
  return (
    <section aria-labelledby="feeds-title">
      <h1 id="feeds-title">{t('feeds.title')}</h1>
      {done && (
        <Notice>
          <Counts run={done} /> <Link href={`/feeds/runs/${done.id}`}>{t('feeds.runTitle', { id: done.id })}</Link>
        </Notice>
      )}
      {canSend && (
        <SendFeed
          onDone={(run) => {
            setDone(run);
            load();
          }}
          onBusy={setSending}
        />
      )}
      <h2>{t('feeds.runs')}</h2>
      <ErrorBox error={error} />
      {runs === null && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {runs && runs.length === 0 && <p>{t('feeds.noRuns')}</p>}
      {runs && runs.length > 0 && (
        <table class="queue" aria-label={t('feeds.runs')}>
          <thead>
            <tr>
              <th scope="col">{t('feeds.run')}</th>
              <th scope="col">{t('feeds.started')}</th>
              <th scope="col">{t('feeds.format')}</th>
              <th scope="col">{t('feeds.source')}</th>
              <th scope="col">{t('field.status')}</th>
              <th scope="col">{t('feeds.records')}</th>
              <th scope="col">{t('feeds.stored')}</th>
              <th scope="col">{t('feeds.duplicates')}</th>
              <th scope="col">{t('feeds.rejects')}</th>
              <th scope="col">{t('feeds.reportsCreated')}</th>
              <th scope="col">{t('feeds.reportsUpdated')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-run={r.id}>
                <td>
                  <Link href={`/feeds/runs/${r.id}`}>{r.id}</Link>
                </td>
                <td>{formatTime(r.started_at, lang)}</td>
                <td>{r.format}</td>
                <td>{r.source}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>{r.records}</td>
                <td>{r.events_new}</td>
                <td>{r.duplicates}</td>
                <td>{r.rejects}</td>
                <td>{r.reports_created}</td>
                <td>{r.reports_updated}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button
          type="button"
          class="secondary"
          onClick={() =>
            call<Page<FeedRun>>('GET', `/feeds/runs${query({ limit: 50, cursor: next })}`).then((page) => {
              setRuns((r) => [...(r ?? []), ...page.items]);
              setNext(page.next_cursor);
            }, setError)
          }
        >
          {t('common.loadMore')}
        </button>
      )}
    </section>
  );
}

export function FeedRunPage(props: { id: string }) {
  const { t, lang } = useI18n();
  const [run, setRun] = useState<FeedRun | null>(null);
  const [rejects, setRejects] = useState<FeedReject[] | null>(null);
  const [nextAfter, setNextAfter] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);

  const loadRejects = (after: number) =>
    call<{ items: FeedReject[]; next_after: number | null }>(
      'GET',
      `/feeds/runs/${encodeURIComponent(props.id)}/rejects${query({ after, limit: kRejectPage })}`,
    ).then((page) => {
      setRejects((r) => [...(after === 0 ? [] : (r ?? [])), ...page.items]);
      setNextAfter(page.next_after);
    }, setError);
  useEffect(() => {
    setRun(null);
    setRejects(null);
    setError(null);
    call<FeedRun>('GET', `/feeds/runs/${encodeURIComponent(props.id)}`).then(setRun, setError);
    loadRejects(0);
  }, [props.id]);

  return (
    <article aria-labelledby="run-title">
      <p>
        <Link href="/feeds">{t('feeds.back')}</Link>
      </p>
      <h1 id="run-title">{t('feeds.runTitle', { id: props.id })}</h1>
      <ErrorBox error={error} />
      {run && (
        <Dl
          rows={[
            [t('feeds.format'), run.format],
            [t('feeds.source'), run.source],
            [t('field.status'), <StatusBadge status={run.status} />],
            [t('feeds.started'), formatTime(run.started_at, lang)],
            [t('feeds.finished'), formatTime(run.finished_at, lang)],
            [t('feeds.records'), run.records],
            [t('feeds.stored'), run.events_new],
            [t('feeds.duplicates'), run.duplicates],
            [t('feeds.rejects'), run.rejects],
            [t('feeds.skipped'), run.skipped],
            [t('feeds.reportsCreated'), run.reports_created],
            [t('feeds.reportsUpdated'), run.reports_updated],
            [t('feeds.correlations'), run.correlations],
          ]}
        />
      )}
      <h2>{t('feeds.rejects')}</h2>
      {rejects && rejects.length === 0 && <p>{t('feeds.noRejects')}</p>}
      {rejects && rejects.length > 0 && (
        <table class="queue rejects" aria-label={t('feeds.rejects')}>
          <thead>
            <tr>
              <th scope="col">{t('feeds.record')}</th>
              <th scope="col">{t('feeds.reason')}</th>
              <th scope="col">{t('feeds.raw')}</th>
            </tr>
          </thead>
          <tbody>
            {rejects.map((r) => (
              <tr key={`${r.record}:${r.reason}`}>
                <td>{r.record}</td>
                <td>{r.reason}</td>
                <td>
                  <pre class="raw">{r.raw}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {nextAfter !== null && (
        <button type="button" class="secondary" onClick={() => loadRejects(nextAfter)}>
          {t('common.loadMore')}
        </button>
      )}
    </article>
  );
}

