// One incident: its fields, status/phase/priority/owner changes, observables (each a pivot),
// linked reports, the timeline from the audit journal, the response loop (tasks, plan and APT
// decision, countermeasures, investigations, links with merge and split, the post-incident review)
// and the mail threaded into it. Another handler's change to it shows up live.
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  call,
  formatTime,
  INCIDENT_STATUSES,
  PHASES,
  query,
  type Incident,
  type Page,
  type Report,
  type TimelineEntry,
  type User,
} from '../api';
import { Dl, EnumSelect, ErrorBox, Notice, PriorityBadge, StatusBadge } from '../components';
import { labelOf, useI18n } from '../i18n';
import { Link } from '../router';
import { useLiveChanges } from '../live';
import { InvestigationsSection } from './investigations';
import { MailList } from './mail';
import { CountermeasuresSection, LinksSection, PlanSection, ReviewSection, TasksSection } from './response';

export function pivotHref(o: { type: string; value: string }): string {
  return `/observables${query({ value: o.value, type: o.type })}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// A value of a journalled field as a handler reads it: lists joined with commas (an observable by
// its value, a text as it is), anything else structured as JSON; long values cut at 160 characters.
function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  let text: string;
  if (Array.isArray(value)) {
    if (value.length === 0) return '—';
    text = value
      .map((item) =>
        typeof item === 'string' || typeof item === 'number'
          ? String(item)
          : isObject(item) && typeof item.value === 'string'
            ? item.value
            : JSON.stringify(item),
      )
      .join(', ');
  } else {
    text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return text.length > 160 ? text.slice(0, 159) + '…' : text;
}

// A triage override as a handler reads it: who, what changed from what to what, and why.
function describeOverride(o: unknown): string {
  if (!isObject(o)) return show(o);
  const changes = Array.isArray(o.changes) ? o.changes : [];
  const what = changes
    .map((c) => (isObject(c) ? `${String(c.field)} ${c.from === '' || c.from == null ? '—' : String(c.from)} → ${String(c.to)}` : ''))
    .filter((text) => text !== '')
    .join(', ');
  return `${String(o.by ?? '')}: ${what || '—'}${o.reason ? ` (${String(o.reason)})` : ''}`;
}

// A response record's change arrives as its whole JSON body before and after: show only the keys
// that changed ("done: false → true"), not two copies of the document. A triage record's new
// overrides are shown one by one, in words.
function expandChanges(changes: TimelineEntry['changes']): [string, { from: unknown; to: unknown }][] {
  const out: [string, { from: unknown; to: unknown }][] = [];
  for (const [field, c] of Object.entries(changes)) {
    if (field === 'body' && isObject(c.to) && (isObject(c.from) || c.from == null)) {
      const from = isObject(c.from) ? c.from : {};
      for (const key of Object.keys({ ...from, ...c.to })) {
        if (key === 'updated_at' || key === 'created_at') continue;
        if (key === 'overrides' && Array.isArray(c.to[key])) {
          const before = Array.isArray(from[key]) ? (from[key] as unknown[]).length : 0;
          (c.to[key] as unknown[]).slice(before).forEach((o, i) => out.push([`override${i > 0 ? ` ${i + 1}` : ''}`, { from: null, to: describeOverride(o) }]));
          continue;
        }
        if (JSON.stringify(from[key]) !== JSON.stringify(c.to[key])) out.push([key, { from: from[key], to: c.to[key] }]);
      }
    } else {
      out.push([field, c]);
    }
  }
  return out;
}

// Bookkeeping times and internal row numbers (a report's incident_id; the entry names the report,
// and it is on this incident's timeline) say nothing to a handler; a creation shows only its
// headline fields.
function shownOnTimeline(action: string, field: string): boolean {
  if (field === 'id' || field === 'updated_at' || field === 'created_at' || field === 'incident_id') return false;
  if (action.endsWith('.create')) return ['title', 'category', 'priority', 'status', 'observables'].includes(field);
  return true;
}

export function IncidentPage(props: { id: string; user: User }) {
  const { t, lang } = useI18n();
  const [incident, setIncident] = useState<Incident | null>(null);
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const [reports, setReports] = useState<Report[]>([]);
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [form, setForm] = useState({ status: '', phase: '', impact: '3', urgency: '3', owner: '' });
  // Bumped when another handler changes this incident: every section reads its part again.
  const [reloadKey, setReloadKey] = useState(0);
  // The form as last filled from the server; a live reload refills it only while it is unedited.
  const loadedForm = useRef('');

  const load = () => {
    const id = encodeURIComponent(props.id);
    // The incident first: when it is not visible, nothing else is asked for.
    call<Incident>('GET', `/incidents/${id}`).then((i) => {
      setIncident(i);
      const next = { status: i.status, phase: i.phase, impact: String(i.impact), urgency: String(i.urgency), owner: i.owner ?? '' };
      setForm((current) => (loadedForm.current === '' || JSON.stringify(current) === loadedForm.current ? next : current));
      loadedForm.current = JSON.stringify(next);
      call<{ items: TimelineEntry[] }>('GET', `/incidents/${id}/timeline`).then((r) => setTimeline(r.items), setError);
      call<Page<Report>>('GET', `/reports${query({ incident: i.id, limit: 100 })}`).then((r) => setReports(r.items), () => {});
    }, setError);
  };

  useLiveChanges(
    (c) => c.object_id === props.id || c.incident === props.id,
    () => {
      load();
      setReloadKey((n) => n + 1);
    },
  );

  useEffect(() => {
    setIncident(null);
    setError(null);
    setSaved(false);
    loadedForm.current = '';
    load();
    call<{ items: User[] }>('GET', '/users').then((r) => setUsers(r.items), () => {});
  }, [props.id]);

  if (error) return <ErrorBox error={error} />;
  if (!incident) return <p aria-busy="true">{t('common.loading')}</p>;
  const canWrite = props.user.role === 'admin' || props.user.role === 'handler';

  const save = async (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setSaved(false);
    const patch: Record<string, unknown> = {};
    if (form.status !== incident.status) patch.status = form.status;
    if (form.phase !== incident.phase) patch.phase = form.phase;
    if (Number(form.impact) !== incident.impact) patch.impact = Number(form.impact);
    if (Number(form.urgency) !== incident.urgency) patch.urgency = Number(form.urgency);
    if (form.owner !== (incident.owner ?? '')) patch.owner = form.owner === '' ? null : form.owner;
    try {
      await call<Incident>('PATCH', `/incidents/${encodeURIComponent(incident.id)}`, patch);
      setSaved(true);
      load();
    } catch (err) {
      setSaveError(err);
    }
  };

  return (
    <article aria-labelledby="incident-title">
      <header class="page-header">
        <p class="id">{incident.id}</p>
        <h1 id="incident-title">{incident.title}</h1>
        <p class="badges">
          <PriorityBadge priority={incident.priority} /> <StatusBadge status={incident.status} />{' '}
          <span class="badge">{labelOf(t, 'phase', incident.phase)}</span> <span class="badge badge-tlp">{incident.tlp}</span>
          {incident.exercise && <span class="badge">{t('field.exercise')}</span>}
        </p>
      </header>
      <div class="columns">
        <div>
          <section aria-labelledby="fields-title" class="panel">
            <h2 id="fields-title" class="visually-hidden">
              {t('field.description')}
            </h2>
            <Dl
              rows={[
                [t('field.category'), `${labelOf(t, 'cat', incident.guide_category)} (${incident.category})`],
                [t('field.constituency'), incident.constituency ?? t('common.none')],
                [t('field.owner'), incident.owner ?? t('field.unassigned')],
                [t('field.impact'), incident.impact],
                [t('field.urgency'), incident.urgency],
                [t('field.created'), formatTime(incident.created_at, lang)],
                [t('field.updated'), formatTime(incident.updated_at, lang)],
              ]}
            />
            {incident.description && <p class="description">{incident.description}</p>}
          </section>
          <section aria-labelledby="change-title" class="panel">
            <h2 id="change-title">{t('incident.change')}</h2>
            <form class="inline-form" onSubmit={save}>
              <EnumSelect id="inc-status" label={t('field.status')} value={form.status} values={INCIDENT_STATUSES} prefix="status" onChange={(v) => setForm({ ...form, status: v })} />
              <EnumSelect id="inc-phase" label={t('field.phase')} value={form.phase} values={PHASES} prefix="phase" onChange={(v) => setForm({ ...form, phase: v })} />
              <EnumSelect id="inc-impact" label={t('field.impact')} value={form.impact} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setForm({ ...form, impact: v })} />
              <EnumSelect id="inc-urgency" label={t('field.urgency')} value={form.urgency} values={['1', '2', '3', '4']} prefix="level" onChange={(v) => setForm({ ...form, urgency: v })} />
              <div class="field">
                <label for="inc-owner">{t('field.owner')}</label>
                <select id="inc-owner" value={form.owner} onChange={(e) => setForm({ ...form, owner: e.currentTarget.value })}>
                  <option value="">{t('field.unassigned')}</option>
                  {users.map((u) => (
                    <option key={u.username} value={u.username}>
                      {u.display_name ? `${u.display_name} (${u.username})` : u.username}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field buttons">
                <button type="submit">{t('common.save')}</button>
              </div>
            </form>
            <ErrorBox error={saveError} />
            {saved && <Notice>{t('common.saved')}</Notice>}
          </section>
          <TasksSection incident={incident} users={users} reloadKey={reloadKey} canWrite={canWrite} />
          <section aria-labelledby="obs-title" class="panel">
            <h2 id="obs-title">{t('field.observables')}</h2>
            {incident.observables.length === 0 ? (
              <p>{t('incident.noObservables')}</p>
            ) : (
              <ul class="observables">
                {incident.observables.map((o) => (
                  <li key={o.type + o.value}>
                    <span class="obs-type">{o.type}</span> <Link href={pivotHref(o)}>{o.value}</Link>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="reports-title" class="panel">
            <h2 id="reports-title">{t('incident.linkedReports')}</h2>
            {reports.length === 0 ? (
              <p>{t('incident.noReports')}</p>
            ) : (
              <ul>
                {reports.map((r) => (
                  <li key={r.id}>
                    <Link href={`/reports/${r.id}`}>{r.id}</Link> {r.subject} <span class="muted">({formatTime(r.received_at, lang)})</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
        <section aria-labelledby="timeline-title" class="panel timeline">
          <h2 id="timeline-title">{t('incident.timeline')}</h2>
          {timeline.length === 0 ? (
            <p>{t('timeline.empty')}</p>
          ) : (
            <ol>
              {timeline
                .slice()
                .reverse()
                .map((e) => (
                  <li key={e.seq}>
                    <p class="when">
                      <time dateTime={e.at}>{formatTime(e.at, lang)}</time> · <strong>{e.actor}</strong> · {e.action}
                      {e.object_type !== 'incident' && <span class="object"> {e.object_id}</span>}
                    </p>
                    <ul class="changes">
                      {expandChanges(e.changes)
                        .filter(([field, c]) => shownOnTimeline(e.action, field) && show(c.from) !== show(c.to))
                        .map(([field, c]) => (
                          <li key={field}>{t('timeline.changed', { field, from: show(c.from), to: show(c.to) })}</li>
                        ))}
                    </ul>
                  </li>
                ))}
            </ol>
          )}
        </section>
      </div>
      <PlanSection incident={incident} reloadKey={reloadKey} canWrite={canWrite} />
      <CountermeasuresSection incident={incident} reloadKey={reloadKey} canWrite={canWrite} />
      <InvestigationsSection incident={incident} reports={reports} user={props.user} reloadKey={reloadKey} canWrite={canWrite} />
      <LinksSection incident={incident} reports={reports} reloadKey={reloadKey} canWrite={canWrite} />
      <ReviewSection incident={incident} reloadKey={reloadKey} canWrite={canWrite} />
      <MailList key={reloadKey} owner="incidents" id={incident.id} />
    </article>
  );
}
