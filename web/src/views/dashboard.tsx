// The managers' dashboard, from GET /api/v1/stats (scoped to the user's constituencies, exercises
// left out): incidents per category per week, month or quarter; open incidents by priority; SLA
// compliance; time to triage and to resolve; intake per channel. Every chart links to its table
// as CSV (the same route with format=csv), and its numbers are in a table under it.
import { useEffect, useState } from 'preact/hooks';
import { call, query, SLA_CLOCKS, type Stats } from '../api';
import { BarChart, ChartFigure, DataTable, StackedColumns, type Series } from '../charts';
import { EnumSelect, ErrorBox } from '../components';
import { labelOf, useI18n, type Translate } from '../i18n';
import { useLiveChanges } from '../live';
import { navigate, useLocation } from '../router';

const PERIODS = ['week', 'month', 'quarter'];
const GROUPS = ['guide', 'rsit'];

function duration(t: Translate, seconds: number | null): string {
  if (seconds === null) return t('common.none');
  if (seconds < 60) return t('dur.s', { n: Math.round(seconds) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('dur.min', { n: minutes });
  const hours = minutes / 60;
  if (hours < 48) return t('dur.h', { n: hours.toFixed(1) });
  return t('dur.d', { n: (hours / 24).toFixed(1) });
}

// The series of a count table over the periods, in the order of the totals (largest first).
function seriesOf(stats: Stats, table: 'categories' | 'channels', name: (key: string) => string): Series[] {
  return Object.entries(stats[table])
    .filter(([, total]) => total > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key]) => ({ name: name(key), values: stats.periods.map((p) => p[table][key] ?? 0) }));
}

export function DashboardPage() {
  const { t } = useI18n();
  const { params } = useLocation();
  const period = PERIODS.includes(params.get('period') ?? '') ? (params.get('period') as string) : 'month';
  const group = GROUPS.includes(params.get('group') ?? '') ? (params.get('group') as string) : 'guide';
  const tz = (() => {
    const minutes = -new Date().getTimezoneOffset();
    const sign = minutes >= 0 ? '+' : '-';
    const abs = Math.abs(minutes);
    return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  })();
  const params_ = { period, group, tz };
  const [stats, setStats] = useState<Stats | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reloads, setReloads] = useState(0);
  // Other options: show nothing stale meanwhile. A live reload keeps the figures until the new come.
  useEffect(() => setStats(null), [period, group]);
  useEffect(() => {
    setError(null);
    call<Stats>('GET', `/stats${query(params_)}`).then(setStats, setError);
  }, [period, group, reloads]);
  useLiveChanges((c) => c.object_type === 'incident' || c.object_type === 'sla-breach', () => setReloads((n) => n + 1), 1000);

  const setParam = (name: string, value: string) => {
    const p = new URLSearchParams(location.search);
    p.set(name, value);
    navigate(`/dashboard?${p.toString()}`, true);
  };
  const csv = (table: string) => `/api/v1/stats${query({ ...params_, format: 'csv', table })}`;
  const csvLink = (table: string, what: string) => (
    <a href={csv(table)} download={`hikeshi-${table}.csv`} class="csv" aria-label={t('dash.csvOf', { chart: what })}>
      {t('dash.csv')}
    </a>
  );
  const category = (key: string) => (group === 'guide' ? labelOf(t, 'cat', key) : key);
  const periodName = t(`dash.period.${period}` as 'dash.period.month');

  return (
    <section aria-labelledby="dash-title" class="dashboard">
      <h1 id="dash-title">{t('dash.title')}</h1>
      <form class="filters" aria-label={t('dash.options')} onSubmit={(e) => e.preventDefault()}>
        <EnumSelect id="dash-period" label={t('dash.period')} value={period} values={PERIODS} prefix="dash.period" onChange={(v) => setParam('period', v)} />
        <EnumSelect id="dash-group" label={t('dash.group')} value={group} values={GROUPS} prefix="dash.group" onChange={(v) => setParam('group', v)} />
        {stats && (
          <p class="muted range">
            {t('dash.range', { from: stats.from.slice(0, 10), to: stats.to.slice(0, 10), tz: stats.tz })}
          </p>
        )}
      </form>
      <ErrorBox error={error} />
      {!stats && !error && <p aria-busy="true">{t('common.loading')}</p>}
      {stats && (
        <>
          <dl class="kpis">
            <div>
              <dt>{t('dash.incidents')}</dt>
              <dd data-kpi="incidents">{stats.incidents}</dd>
            </div>
            <div>
              <dt>{t('dash.open')}</dt>
              <dd data-kpi="open">{stats.open}</dd>
            </div>
            <div>
              <dt>{t('dash.closed')}</dt>
              <dd data-kpi="closed">{stats.closed}</dd>
            </div>
            <div>
              <dt>{t('dash.compliance')}</dt>
              <dd data-kpi="sla">{stats.sla.all?.compliance == null ? t('common.none') : `${Math.round(stats.sla.all.compliance * 100)}%`}</dd>
            </div>
          </dl>
          <div class="charts">
            <ChartFigure id="chart-categories" title={t('dash.categories', { period: periodName })} actions={csvLink('categories', t('dash.categories', { period: periodName }))}>
              <StackedColumns
                id="chart-categories"
                label={t('dash.categories', { period: periodName })}
                periods={stats.periods.map((p) => p.period)}
                series={seriesOf(stats, 'categories', category)}
              />
              <DataTable
                summary={t('dash.data')}
                caption={t('dash.categories', { period: periodName })}
                head={[t('dash.periodCol'), ...Object.keys(stats.categories).map(category), t('dash.total')]}
                rows={stats.periods.map((p) => [p.period, ...Object.keys(stats.categories).map((k) => p.categories[k] ?? 0), p.incidents])}
              />
            </ChartFigure>
            <ChartFigure id="chart-priority" title={t('dash.openByPriority')} actions={csvLink('priority', t('dash.openByPriority'))}>
              <BarChart
                id="chart-priority"
                label={t('dash.openByPriority')}
                bars={['P1', 'P2', 'P3', 'P4'].map((p) => ({ label: p, value: stats.open_by_priority[p] ?? 0 }))}
                barClass={(i) => `priority-${i + 1}`}
              />
              <DataTable
                summary={t('dash.data')}
                caption={t('dash.openByPriority')}
                head={[t('field.priority'), t('dash.open')]}
                rows={['P1', 'P2', 'P3', 'P4'].map((p) => [p, stats.open_by_priority[p] ?? 0])}
              />
            </ChartFigure>
            <ChartFigure id="chart-sla" title={t('dash.sla')} actions={csvLink('sla', t('dash.sla'))}>
              <BarChart
                id="chart-sla"
                label={t('dash.sla')}
                max={100}
                bars={[...SLA_CLOCKS, 'all'].map((c) => {
                  const s = stats.sla[c] ?? { met: 0, breached: 0, running: 0, compliance: null };
                  return {
                    label: labelOf(t, 'sla.clock', c),
                    value: s.compliance == null ? 0 : Math.round(s.compliance * 100),
                    text: s.compliance == null ? t('dash.noData') : t('dash.slaText', { pct: Math.round(s.compliance * 100), met: s.met, breached: s.breached }),
                  };
                })}
                barClass={() => 'series-sla'}
              />
              <DataTable
                summary={t('dash.data')}
                caption={t('dash.sla')}
                head={[t('dash.clock'), t('dash.met'), t('dash.breached'), t('dash.running'), t('dash.compliance')]}
                rows={[...SLA_CLOCKS, 'all'].map((c) => {
                  const s = stats.sla[c] ?? { met: 0, breached: 0, running: 0, compliance: null };
                  return [labelOf(t, 'sla.clock', c), s.met, s.breached, s.running, s.compliance == null ? '—' : `${(s.compliance * 100).toFixed(1)}%`];
                })}
              />
            </ChartFigure>
            <ChartFigure id="chart-times" title={t('dash.times')} actions={csvLink('times', t('dash.times'))}>
              <BarChart
                id="chart-times"
                label={t('dash.times')}
                bars={SLA_CLOCKS.map((c) => {
                  const v = stats.times[c] ?? { count: 0, median_seconds: null, p90_seconds: null };
                  return {
                    label: labelOf(t, 'sla.clock', c),
                    value: (v.median_seconds ?? 0) / 3600,
                    text: v.count === 0 ? t('dash.noData') : t('dash.timeText', { median: duration(t, v.median_seconds), p90: duration(t, v.p90_seconds), n: v.count }),
                  };
                })}
                barClass={() => 'series-time'}
              />
              <DataTable
                summary={t('dash.data')}
                caption={t('dash.times')}
                head={[t('dash.clock'), t('dash.count'), t('dash.median'), t('dash.p90')]}
                rows={SLA_CLOCKS.map((c) => {
                  const v = stats.times[c] ?? { count: 0, median_seconds: null, p90_seconds: null };
                  return [labelOf(t, 'sla.clock', c), v.count, duration(t, v.median_seconds), duration(t, v.p90_seconds)];
                })}
              />
            </ChartFigure>
            <ChartFigure id="chart-channels" title={t('dash.channels', { period: periodName })} actions={csvLink('channels', t('dash.channels', { period: periodName }))}>
              <StackedColumns
                id="chart-channels"
                label={t('dash.channels', { period: periodName })}
                periods={stats.periods.map((p) => p.period)}
                series={seriesOf(stats, 'channels', (k) => labelOf(t, 'channel', k))}
              />
              <DataTable
                summary={t('dash.data')}
                caption={t('dash.channels', { period: periodName })}
                head={[t('field.channel'), t('dash.total')]}
                rows={Object.entries(stats.channels).map(([k, v]) => [labelOf(t, 'channel', k), v])}
              />
            </ChartFigure>
          </div>
        </>
      )}
    </section>
  );
}
