// The incident and report queues: filters in the URL, client-side sorting of what is loaded,
// keyboard navigation (j/k or arrows, Enter opens, / searches). The report queue has three views
// (all, untriaged = status new, parse failed = flag parse_failed) and bulk actions on the reports
// ticked with their checkboxes or with x.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  call,
  formatTime,
  GUIDE_CATEGORIES,
  INCIDENT_STATUSES,
  query,
  REPORT_STATUSES,
  type Constituency,
  type Incident,
  type Page,
  type Report,
  type User,
} from '../api';
import { EnumSelect, ErrorBox, PriorityBadge, StatusBadge } from '../components';
import { labelOf, useI18n } from '../i18n';
import { Link, navigate, useLocation } from '../router';
import { useLiveChanges } from '../live';
import { BulkActions } from './bulk';

type Kind = 'incidents' | 'reports';
type Row = Incident | Report;

const INCIDENT_FILTERS = ['status', 'priority', 'category', 'constituency', 'owner', 'sla', 'q'] as const;
const REPORT_FILTERS = ['status', 'flag', 'constituency', 'q'] as const;

type ReportView = 'all' | 'untriaged' | 'parseFailed';
const REPORT_VIEWS: [ReportView, string][] = [
  ['all', '/reports'],
  ['untriaged', '/reports?status=new'],
  ['parseFailed', '/reports?flag=parse_failed'],
];

function reportView(filters: Record<string, string>): ReportView {
  if (filters.flag === 'parse_failed') return 'parseFailed';
  if (filters.status === 'new') return 'untriaged';
  return 'all';
}

function sortRows(kind: Kind, rows: Row[], sort: string): Row[] {
  const out = rows.slice();
  const time = (r: Row) => ('created_at' in r ? r.created_at : r.received_at);
  if (sort === 'oldest') out.sort((a, b) => time(a).localeCompare(time(b)));
  else if (sort === 'updated') out.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  else if (sort === 'priority' && kind === 'incidents')
    out.sort((a, b) => (a as Incident).priority.localeCompare((b as Incident).priority) || time(b).localeCompare(time(a)));
  return out;
}

export function Queue(props: { kind: Kind }) {
  const { t, lang } = useI18n();
  const { params } = useLocation();
  const kind = props.kind;
  const filterNames: readonly string[] = kind === 'incidents' ? INCIDENT_FILTERS : REPORT_FILTERS;
  const filters: Record<string, string> = {};
  for (const f of filterNames) filters[f] = params.get(f) ?? '';
  const sort = params.get('sort') ?? 'newest';
  const apiQuery = query({ ...filters, limit: 50 });

  const [rows, setRows] = useState<Row[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState(0);
  const [text, setText] = useState(filters.q);
  const [constituencies, setConstituencies] = useState<Constituency[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const searchRef = useRef<HTMLInputElement>(null);
  const tableRef = useRef<HTMLTableSectionElement>(null);
  const marked = useRef(false);
  const selectAllRef = useRef<HTMLInputElement>(null);
  // Reports ticked for a bulk action, by id; and a counter that reloads the page after one.
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [reloads, setReloads] = useState(0);
  const bulk = kind === 'reports';

  useEffect(() => {
    call<{ items: Constituency[] }>('GET', '/constituencies').then((r) => setConstituencies(r.items), () => {});
    if (kind === 'incidents') call<{ items: User[] }>('GET', '/users').then((r) => setUsers(r.items), () => {});
  }, [kind]);

  useEffect(() => setChecked(new Set()), [kind, apiQuery]);

  useEffect(() => {
    let cancelled = false;
    setRows(null);
    setError(null);
    setSelected(0);
    setText(filters.q);
    call<Page<Row>>('GET', `/${kind}${apiQuery}`).then(
      (page) => {
        if (cancelled) return;
        setRows(page.items);
        setNext(page.next_cursor);
      },
      (e) => !cancelled && setError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [kind, apiQuery, reloads]);

  // Another handler changed something in this list: fetch the loaded part again, in place, keeping
  // the selected row selected.
  const [liveAt, setLiveAt] = useState<string>('');
  const live = useRef<{ rows: Row[] | null; selectedId: string | undefined }>({ rows, selectedId: undefined });
  const keepId = useRef<string | undefined>(undefined);
  useLiveChanges(
    (c) => c.object_type === (kind === 'incidents' ? 'incident' : 'report'),
    () => {
      const { rows: shown, selectedId } = live.current;
      if (!shown) return;
      keepId.current = selectedId;
      const limit = Math.min(500, Math.max(50, shown.length));
      call<Page<Row>>('GET', `/${kind}${query({ ...filters, limit })}`).then(
        (page) => {
          setRows(page.items);
          setNext(page.next_cursor);
          setLiveAt(new Date().toLocaleTimeString(lang === 'ja' ? 'ja-JP' : 'en-GB'));
        },
        () => {},
      );
    },
  );

  const sorted = useMemo(() => (rows ? sortRows(kind, rows, sort) : null), [rows, sort, kind]);
  live.current = { rows, selectedId: sorted?.[selected]?.id };
  useEffect(() => {
    if (!sorted || keepId.current === undefined) return;
    const at = sorted.findIndex((r) => r.id === keepId.current);
    keepId.current = undefined;
    if (at >= 0) setSelected(at);
  }, [sorted]);

  useEffect(() => {
    if (sorted && !marked.current) {
      marked.current = true;
      performance.mark('hikeshi:queue-rendered');
    }
  }, [sorted]);

  const setParam = (name: string, value: string) => {
    const p = new URLSearchParams(location.search);
    if (value) p.set(name, value);
    else p.delete(name);
    const s = p.toString();
    navigate(`/${kind}${s ? '?' + s : ''}`, true);
  };

  const open = (row: Row | undefined) => row && navigate(`/${kind}/${row.id}`);

  const toggle = (id: string) =>
    setChecked((c) => {
      const next = new Set(c);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const allChecked = !!sorted && sorted.length > 0 && sorted.every((r) => checked.has(r.id));
  const someChecked = !!sorted && sorted.some((r) => checked.has(r.id));
  useEffect(() => {
    if (selectAllRef.current) selectAllRef.current.indeterminate = someChecked && !allChecked;
  }, [someChecked, allChecked]);
  const toggleAll = () => setChecked(allChecked || !sorted ? new Set() : new Set(sorted.map((r) => r.id)));

  // The key handler reads the rows and the selection of the latest render: effects run after
  // paint, so a handler bound to one render's values would act on a stale row when keys come fast.
  const keyState = useRef({ sorted, selected });
  keyState.current = { sorted, selected };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = target && ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) && !(target instanceof HTMLInputElement && target.type === 'checkbox');
      if (typing) {
        if (e.key === 'Escape') target.blur();
        return;
      }
      const { sorted: rows, selected: at } = keyState.current;
      if (e.metaKey || e.ctrlKey || e.altKey || !rows) return;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        e.preventDefault();
        setSelected((s) => Math.min(s + 1, rows.length - 1));
      } else if (e.key === 'k' || e.key === 'ArrowUp') {
        e.preventDefault();
        setSelected((s) => Math.max(s - 1, 0));
      } else if (e.key === 'Enter') {
        e.preventDefault();
        open(rows[at]);
      } else if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'x' && bulk && rows[at]) {
        e.preventDefault();
        toggle(rows[at].id);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [kind, bulk]);

  useEffect(() => {
    tableRef.current?.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const loadMore = () => {
    if (!next) return;
    call<Page<Row>>('GET', `/${kind}${query({ ...filters, limit: 50, cursor: next })}`).then((page) => {
      setRows((r) => [...(r ?? []), ...page.items]);
      setNext(page.next_cursor);
    }, setError);
  };

  const view = reportView(filters);
  const title =
    kind === 'incidents' ? t('queue.incidents') : view === 'parseFailed' ? t('queue.parseFailed') : view === 'untriaged' ? t('queue.untriaged') : t('queue.reports');
  return (
    <section aria-labelledby="queue-title">
      <h1 id="queue-title">{title}</h1>
      {kind === 'reports' && (
        <nav aria-label={t('queue.views')}>
          <ul class="tabs">
            {REPORT_VIEWS.map(([v, href]) => (
              <li key={v}>
                <Link href={href} aria-current={view === v ? 'page' : undefined}>
                  {t(`queue.view.${v}`)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <form
        class="filters"
        aria-label={t('queue.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          setParam('q', text.trim());
        }}
      >
        <div class="field grow">
          <label for="q">{t('queue.search')}</label>
          <input id="q" name="q" type="search" ref={searchRef} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <EnumSelect
          id="status"
          label={t('field.status')}
          value={filters.status}
          any
          values={kind === 'incidents' ? INCIDENT_STATUSES : REPORT_STATUSES}
          prefix="status"
          onChange={(v) => setParam('status', v)}
        />
        {kind === 'incidents' && (
          <>
            <EnumSelect id="priority" label={t('field.priority')} value={filters.priority} any values={['P1', 'P2', 'P3', 'P4']} onChange={(v) => setParam('priority', v)} />
            <EnumSelect id="category" label={t('field.category')} value={filters.category} any values={GUIDE_CATEGORIES} prefix="cat" onChange={(v) => setParam('category', v)} />
          </>
        )}
        <EnumSelect
          id="constituency"
          label={t('field.constituency')}
          value={filters.constituency}
          any
          values={constituencies.map((c) => c.name)}
          onChange={(v) => setParam('constituency', v)}
        />
        {kind === 'incidents' && (
          <>
            <EnumSelect id="owner" label={t('field.owner')} value={filters.owner} any values={users.map((u) => u.username)} onChange={(v) => setParam('owner', v)} />
            <EnumSelect id="sla" label={t('queue.sla')} value={filters.sla} any values={['breached']} prefix="queue.sla" onChange={(v) => setParam('sla', v)} />
          </>
        )}
        <EnumSelect
          id="sort"
          label={t('queue.sort')}
          value={sort}
          values={kind === 'incidents' ? ['newest', 'oldest', 'priority', 'updated'] : ['newest', 'oldest', 'updated']}
          prefix="queue.sort"
          onChange={(v) => setParam('sort', v === 'newest' ? '' : v)}
        />
        <div class="field buttons">
          <button type="submit">{t('common.apply')}</button>
          <button type="button" class="secondary" onClick={() => navigate(`/${kind}`, true)}>
            {t('common.clear')}
          </button>
        </div>
      </form>
      <p class="hint">{bulk ? t('queue.keysReports') : t('queue.keys')}</p>
      {bulk && (
        <BulkActions
          key={apiQuery}
          selected={sorted ? sorted.filter((r) => checked.has(r.id)).map((r) => r.id) : []}
          onClear={() => setChecked(new Set())}
          onDone={() => {
            setChecked(new Set());
            setReloads((n) => n + 1);
          }}
        />
      )}
      <ErrorBox error={error} />
      {!sorted && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {sorted && (
        <>
          <p class="count" aria-live="polite">
            {t('queue.count', { n: sorted.length })}
            {liveAt && <span class="live-at"> · {t('queue.liveUpdated', { time: liveAt })}</span>}
          </p>
          <table class="queue" aria-label={title} data-queue={kind}>
            <thead>
              {kind === 'incidents' ? (
                <tr>
                  <th scope="col">{t('field.id')}</th>
                  <th scope="col">{t('field.priority')}</th>
                  <th scope="col">{t('field.title')}</th>
                  <th scope="col">{t('field.category')}</th>
                  <th scope="col">{t('field.status')}</th>
                  <th scope="col">{t('field.phase')}</th>
                  <th scope="col">{t('field.constituency')}</th>
                  <th scope="col">{t('field.owner')}</th>
                  <th scope="col">{t('field.updated')}</th>
                </tr>
              ) : (
                <tr>
                  <th scope="col" class="check">
                    <input type="checkbox" ref={selectAllRef} aria-label={t('bulk.selectAll')} checked={allChecked} onChange={toggleAll} />
                  </th>
                  <th scope="col">{t('field.id')}</th>
                  <th scope="col">{t('field.subject')}</th>
                  <th scope="col">{t('field.channel')}</th>
                  <th scope="col">{t('field.reporter')}</th>
                  <th scope="col">{t('field.status')}</th>
                  <th scope="col">{t('field.incident')}</th>
                  <th scope="col">{t('field.constituency')}</th>
                  <th scope="col">{t('field.received')}</th>
                </tr>
              )}
            </thead>
            <tbody ref={tableRef}>
              {sorted.map((row, i) => (
                <tr
                  key={row.id}
                  class={[i === selected ? 'selected' : '', checked.has(row.id) ? 'checked' : ''].join(' ').trim()}
                  aria-current={i === selected ? 'true' : undefined}
                  onClick={() => setSelected(i)}
                  onDblClick={() => open(row)}
                >
                  {kind === 'incidents' ? (
                    <IncidentCells incident={row as Incident} lang={lang} />
                  ) : (
                    <>
                      <td class="check">
                        <input type="checkbox" aria-label={t('bulk.select', { id: row.id })} checked={checked.has(row.id)} onChange={() => toggle(row.id)} />
                      </td>
                      <ReportCells report={row as Report} lang={lang} />
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {sorted.length === 0 && <p>{t('common.noResults')}</p>}
          {next && (
            <button type="button" class="secondary" onClick={loadMore}>
              {t('common.loadMore')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function IncidentCells(props: { incident: Incident; lang: string }) {
  const { t } = useI18n();
  const i = props.incident;
  return (
    <>
      <td>
        <Link href={`/incidents/${i.id}`}>{i.id}</Link>
      </td>
      <td>
        <PriorityBadge priority={i.priority} />
      </td>
      <td class="title">{i.title}</td>
      <td>{labelOf(t, 'cat', i.guide_category)}</td>
      <td>
        <StatusBadge status={i.status} />
        {i.sla_breaches && i.sla_breaches.length > 0 && (
          <>
            {' '}
            <span class="badge badge-sla-breach" data-sla-breach={i.sla_breaches.join(' ')}>
              {t('queue.slaBreach', { clocks: i.sla_breaches.map((c) => labelOf(t, 'sla.clock', c)).join(', ') })}
            </span>
          </>
        )}
      </td>
      <td>{labelOf(t, 'phase', i.phase)}</td>
      <td>{i.constituency ?? t('common.none')}</td>
      <td>{i.owner ?? t('common.none')}</td>
      <td>{formatTime(i.updated_at, props.lang)}</td>
    </>
  );
}

function ReportCells(props: { report: Report; lang: string }) {
  const { t } = useI18n();
  const r = props.report;
  return (
    <>
      <td class="id">
        <Link href={`/reports/${r.id}`}>{r.id}</Link>
      </td>
      <td class="title">{r.subject}</td>
      <td>{r.channel}</td>
      <td>{r.reporter}</td>
      <td>
        <StatusBadge status={r.status} />
      </td>
      <td>{r.incident ? <Link href={`/incidents/${r.incident}`}>{r.incident}</Link> : t('common.none')}</td>
      <td>{r.constituency ?? t('common.none')}</td>
      <td>{formatTime(r.received_at, props.lang)}</td>
    </>
  );
}
