// The response loop on the incident page: tasks (from the playbook and added by hand), the response
// plan with its history and the APT decision, countermeasures and their states, links with merge
// and split, and the post-incident review. Each section reads its own route and re-reads after a
// change; the rules (who may, which transitions) are the server's, whose refusals are shown.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  call,
  COUNTERMEASURE_KINDS,
  COUNTERMEASURE_NEXT,
  formatTime,
  LINK_RELATIONS,
  type Countermeasure,
  type Incident,
  type IncidentLink,
  type Report,
  type ResponsePlan,
  type Review,
  type Task,
  type User,
} from '../api';
import { EnumSelect, ErrorBox, isoToLocal, localToIso, Notice, useAction } from '../components';
import { labelOf, useI18n } from '../i18n';
import { Link, navigate } from '../router';

const enc = encodeURIComponent;

// --- tasks ---

export function TasksSection(props: { incident: Incident; users: User[]; reloadKey: number; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const base = `/incidents/${enc(props.incident.id)}/tasks`;
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [f, setF] = useState({ title: '', assignee: '', due: '' });
  const action = useAction();
  const load = () => call<{ items: Task[] }>('GET', base).then((r) => setTasks(r.items), setLoadError);
  useEffect(() => {
    load();
  }, [props.incident.id, props.reloadKey]);

  const add = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, unknown> = { title: f.title.trim() };
    if (f.assignee) body.assignee = f.assignee;
    const due = localToIso(f.due);
    if (due) body.due = due;
    if (await action.run(() => call('POST', base, body))) {
      setF({ title: '', assignee: '', due: '' });
      load();
    }
  };
  // Shown at once (a ticked box stays ticked), then as the server has it; a refusal undoes it.
  const patch = async (task: Task, change: Partial<Task>) => {
    setTasks((list) => list && list.map((x) => (x.id === task.id ? { ...x, ...change } : x)));
    await action.run(() => call('PATCH', `${base}/${enc(task.id)}`, change));
    load();
  };
  const titleOf = (task: Task) => (lang === 'en' && task.title_en ? task.title_en : task.title);
  const open = tasks ? tasks.filter((x) => !x.done).length : 0;

  return (
    <section aria-labelledby="tasks-title" class="panel tasks">
      <h2 id="tasks-title">
        {t('tasks.title')} {tasks && <span class="muted">{t('tasks.count', { open, n: tasks.length })}</span>}
      </h2>
      <ErrorBox error={loadError} />
      {tasks && tasks.length === 0 && <p>{t('tasks.none')}</p>}
      {tasks && tasks.length > 0 && (
        <ul class="task-list">
          {tasks.map((task) => {
            const overdue = !task.done && task.due && new Date(task.due).getTime() < Date.now();
            return (
              <li key={task.id} class={task.done ? 'done' : ''} data-task={task.id}>
                <input
                  type="checkbox"
                  id={`task-${task.id}`}
                  checked={task.done}
                  disabled={!props.canWrite}
                  onChange={(e) => patch(task, { done: e.currentTarget.checked })}
                />
                <label for={`task-${task.id}`} class="task-title">
                  {titleOf(task)}
                </label>
                <span class="task-meta">
                  {task.role && <span class="badge">{task.role}</span>}
                  {task.playbook && <span class="muted"> {task.playbook}</span>}
                  {task.done && task.done_by && (
                    <span class="muted"> {t('tasks.doneBy', { user: task.done_by, at: formatTime(task.done_at, lang) })}</span>
                  )}
                </span>
                <span class="task-edit">
                  <select
                    aria-label={t('tasks.assigneeOf', { task: titleOf(task) })}
                    value={task.assignee ?? ''}
                    disabled={!props.canWrite}
                    onChange={(e) => patch(task, { assignee: e.currentTarget.value || null })}
                  >
                    <option value="">{t('field.unassigned')}</option>
                    {props.users.map((u) => (
                      <option key={u.username} value={u.username}>
                        {u.username}
                      </option>
                    ))}
                  </select>
                  <input
                    type="datetime-local"
                    aria-label={t('tasks.dueOf', { task: titleOf(task) })}
                    class={overdue ? 'overdue' : ''}
                    value={isoToLocal(task.due)}
                    disabled={!props.canWrite}
                    onChange={(e) => patch(task, { due: localToIso(e.currentTarget.value) })}
                  />
                  {overdue && <span class="badge badge-flag">{t('tasks.overdue')}</span>}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {props.canWrite && (
      <form class="inline-form" aria-labelledby="task-add-title" onSubmit={add}>
        <h3 id="task-add-title" class="visually-hidden">
          {t('tasks.add')}
        </h3>
        <div class="field grow">
          <label for="task-new-title">{t('tasks.newTitle')}</label>
          <input id="task-new-title" required maxLength={500} value={f.title} onInput={(e) => setF({ ...f, title: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="task-new-assignee">{t('tasks.assignee')}</label>
          <select id="task-new-assignee" value={f.assignee} onChange={(e) => setF({ ...f, assignee: e.currentTarget.value })}>
            <option value="">{t('field.unassigned')}</option>
            {props.users.map((u) => (
              <option key={u.username} value={u.username}>
                {u.display_name ? `${u.display_name} (${u.username})` : u.username}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="task-new-due">{t('tasks.due')}</label>
          <input id="task-new-due" type="datetime-local" value={f.due} onInput={(e) => setF({ ...f, due: e.currentTarget.value })} />
        </div>
        <div class="field buttons">
          <button type="submit" disabled={action.busy}>
            {t('tasks.add')}
          </button>
        </div>
      </form>
      )}
      <ErrorBox error={action.error} />
    </section>
  );
}

// --- response plan and the APT decision ---

export function PlanSection(props: { incident: Incident; reloadKey: number; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const base = `/incidents/${enc(props.incident.id)}/plan`;
  const [plan, setPlan] = useState<ResponsePlan | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [text, setText] = useState('');
  const [decision, setDecision] = useState<'eradicate-now' | 'scope-first' | ''>('');
  const [rationale, setRationale] = useState('');
  const [saved, setSaved] = useState('');
  const action = useAction();
  // What the textarea was last filled with from the server: a reload (another handler's change)
  // refills it only while it holds that, never over the handler's own unsaved edit.
  const loaded = useRef('');
  const load = () =>
    call<ResponsePlan>('GET', base).then((p) => {
      setPlan(p);
      setText((current) => (current === loaded.current ? p.text : current));
      loaded.current = p.text;
    }, setLoadError);
  useEffect(() => {
    load();
  }, [props.incident.id, props.reloadKey]);

  const revise = async (e: Event) => {
    e.preventDefault();
    setSaved('');
    if (await action.run(() => call('PUT', base, { text }))) {
      setSaved(t('plan.saved'));
      load();
    }
  };
  const decide = async (e: Event) => {
    e.preventDefault();
    setSaved('');
    if (!decision) return;
    if (await action.run(() => call('POST', `${base}/apt-decision`, { decision, rationale }))) {
      setSaved(t('apt.recorded'));
      setRationale('');
      setDecision('');
      load();
    }
  };

  return (
    <section aria-labelledby="plan-title" class="panel plan">
      <h2 id="plan-title">{t('plan.title')}</h2>
      <ErrorBox error={loadError} />
      {plan && (
        <>
          {props.canWrite ? (
            <form class="stacked" onSubmit={revise}>
              <div class="field">
                <label for="plan-text">{t('plan.text')}</label>
                <textarea id="plan-text" rows={6} required value={text} onInput={(e) => setText(e.currentTarget.value)} />
              </div>
              <div>
                <button type="submit" disabled={action.busy || text === plan.text}>
                  {plan.revisions.length === 0 ? t('plan.write') : t('plan.revise')}
                </button>
              </div>
            </form>
          ) : (
            <pre class="plan-revision">{plan.text || t('common.none')}</pre>
          )}
          {plan.revisions.length > 0 && (
            <details class="history">
              <summary>{t('plan.history', { n: plan.revisions.length })}</summary>
              <ol reversed>
                {plan.revisions
                  .slice()
                  .reverse()
                  .map((r, i) => (
                    <li key={i}>
                      <p class="when">
                        <time dateTime={r.at}>{formatTime(r.at, lang)}</time> · {r.author}
                      </p>
                      <pre class="plan-revision">{r.text}</pre>
                    </li>
                  ))}
              </ol>
            </details>
          )}
          {props.incident.apt && (
            <div class="apt" aria-labelledby="apt-title">
              <h3 id="apt-title">{t('apt.title')}</h3>
              {plan.apt_decision ? (
                <p class="apt-current" data-decision={plan.apt_decision.decision}>
                  <strong>{t(`apt.${plan.apt_decision.decision}`)}</strong> —{' '}
                  {t('apt.decidedBy', { user: plan.apt_decision.decider, at: formatTime(plan.apt_decision.at, lang) })}
                  <br />
                  <span class="rationale">{plan.apt_decision.rationale}</span>
                </p>
              ) : (
                <p>{t('apt.none')}</p>
              )}
              {props.canWrite && (
              <form class="stacked" onSubmit={decide}>
                <fieldset>
                  <legend>{t('apt.decision')}</legend>
                  {(['eradicate-now', 'scope-first'] as const).map((d) => (
                    <label key={d} class="radio">
                      <input type="radio" name="apt-decision" value={d} checked={decision === d} onChange={() => setDecision(d)} required />{' '}
                      {t(`apt.${d}`)} <span class="hint">{t(`apt.${d}.help`)}</span>
                    </label>
                  ))}
                </fieldset>
                <div class="field">
                  <label for="apt-rationale">{t('apt.rationale')}</label>
                  <textarea id="apt-rationale" rows={3} required value={rationale} onInput={(e) => setRationale(e.currentTarget.value)} />
                </div>
                <div>
                  <button type="submit" disabled={action.busy}>
                    {t('apt.record')}
                  </button>
                </div>
              </form>
              )}
              {plan.decisions.length > 1 && (
                <details class="history">
                  <summary>{t('apt.history', { n: plan.decisions.length })}</summary>
                  <ol reversed>
                    {plan.decisions
                      .slice()
                      .reverse()
                      .map((d, i) => (
                        <li key={i}>
                          {formatTime(d.at, lang)} · {d.decider} · <strong>{t(`apt.${d.decision}`)}</strong>: {d.rationale}
                        </li>
                      ))}
                  </ol>
                </details>
              )}
            </div>
          )}
        </>
      )}
      {saved && <Notice>{saved}</Notice>}
      <ErrorBox error={action.error} />
    </section>
  );
}

// --- countermeasures ---

export function CountermeasuresSection(props: { incident: Incident; reloadKey: number; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const base = `/incidents/${enc(props.incident.id)}/countermeasures`;
  const [items, setItems] = useState<Countermeasure[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [f, setF] = useState({ kind: 'block-ip', target: '', where: '', note: '' });
  const [where, setWhere] = useState<Record<string, string>>({});
  const action = useAction();
  const load = () => call<{ items: Countermeasure[] }>('GET', base).then((r) => setItems(r.items), setLoadError);
  useEffect(() => {
    load();
  }, [props.incident.id, props.reloadKey]);

  const add = async (e: Event) => {
    e.preventDefault();
    const body: Record<string, string> = { kind: f.kind, target: f.target.trim() };
    if (f.where.trim()) body.where = f.where.trim();
    if (f.note.trim()) body.note = f.note.trim();
    if (await action.run(() => call('POST', base, body))) {
      setF({ ...f, target: '', where: '', note: '' });
      load();
    }
  };
  const move = async (c: Countermeasure, state: string) => {
    const body: Record<string, string> = { state };
    const w = (where[c.id] ?? c.where).trim();
    if (w !== c.where) body.where = w;
    if (await action.run(() => call('PATCH', `${base}/${enc(c.id)}`, body))) load();
  };

  return (
    <section aria-labelledby="cm-title" class="panel countermeasures">
      <h2 id="cm-title">{t('cm.title')}</h2>
      <ErrorBox error={loadError} />
      {items && items.length === 0 && <p>{t('cm.none')}</p>}
      {items && items.length > 0 && (
        <table class="queue" aria-labelledby="cm-title">
          <thead>
            <tr>
              <th scope="col">{t('field.id')}</th>
              <th scope="col">{t('cm.kind')}</th>
              <th scope="col">{t('cm.target')}</th>
              <th scope="col">{t('cm.where')}</th>
              <th scope="col">{t('field.status')}</th>
              <th scope="col">{t('cm.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr key={c.id} data-countermeasure={c.id}>
                <td class="id">{c.id}</td>
                <td>{labelOf(t, 'cm.kind', c.kind)}</td>
                <td class="mono">{c.target}</td>
                <td>
                  {props.canWrite && COUNTERMEASURE_NEXT[c.state]?.length ? (
                    <input
                      aria-label={t('cm.whereOf', { id: c.id })}
                      value={where[c.id] ?? c.where}
                      onInput={(e) => setWhere({ ...where, [c.id]: e.currentTarget.value })}
                    />
                  ) : (
                    c.where
                  )}
                </td>
                <td>
                  <span class={`badge badge-cm-${c.state}`} title={c.history.map((h) => `${formatTime(h.at, lang)} ${h.by}: ${h.state}`).join('\n')}>
                    {labelOf(t, 'cm.state', c.state)}
                  </span>
                </td>
                <td class="buttons">
                  {(props.canWrite ? (COUNTERMEASURE_NEXT[c.state] ?? []) : []).map((next) => (
                    <button
                      key={next}
                      type="button"
                      class="secondary"
                      disabled={action.busy}
                      aria-label={t('cm.moveLabel', { id: c.id, state: labelOf(t, 'cm.state', next) })}
                      onClick={() => move(c, next)}
                    >
                      {labelOf(t, 'cm.to', next)}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.canWrite && (
      <form class="inline-form" aria-labelledby="cm-add-title" onSubmit={add}>
        <h3 id="cm-add-title" class="visually-hidden">
          {t('cm.add')}
        </h3>
        <EnumSelect id="cm-kind" label={t('cm.kind')} value={f.kind} values={COUNTERMEASURE_KINDS} prefix="cm.kind" onChange={(v) => setF({ ...f, kind: v })} />
        <div class="field grow">
          <label for="cm-target">{t('cm.target')}</label>
          <input id="cm-target" required value={f.target} onInput={(e) => setF({ ...f, target: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="cm-where">{t('cm.where')}</label>
          <input id="cm-where" value={f.where} onInput={(e) => setF({ ...f, where: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="cm-note">{t('cm.note')}</label>
          <input id="cm-note" value={f.note} onInput={(e) => setF({ ...f, note: e.currentTarget.value })} />
        </div>
        <div class="field buttons">
          <button type="submit" disabled={action.busy}>
            {t('cm.add')}
          </button>
        </div>
      </form>
      )}
      <ErrorBox error={action.error} />
    </section>
  );
}

// --- links, merge and split ---

// A modal <dialog>, opened by `open`; Escape and the cancel button close it.
function Dialog(props: { id: string; title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={`${props.id}-title`} onClose={props.onClose} class="dialog">
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.children}
    </dialog>
  );
}

export function LinksSection(props: { incident: Incident; reports: Report[]; reloadKey: number; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const id = props.incident.id;
  const [links, setLinks] = useState<IncidentLink[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [other, setOther] = useState('');
  const [relation, setRelation] = useState('related');
  const [dialog, setDialog] = useState<'merge' | 'split' | null>(null);
  const [into, setInto] = useState('');
  const [splitTitle, setSplitTitle] = useState('');
  const [splitReports, setSplitReports] = useState<Set<string>>(new Set());
  const action = useAction();
  const dialogAction = useAction();
  const load = () => call<{ items: IncidentLink[] }>('GET', `/incidents/${enc(id)}/links`).then((r) => setLinks(r.items), setLoadError);
  useEffect(() => {
    load();
  }, [id, props.reloadKey]);

  const link = async (e: Event) => {
    e.preventDefault();
    if (await action.run(() => call('POST', `/incidents/${enc(id)}/links`, { incident: other.trim(), relation }))) {
      setOther('');
      load();
    }
  };
  const merge = async (e: Event) => {
    e.preventDefault();
    const target = into.trim();
    if (await dialogAction.run(() => call('POST', `/incidents/${enc(id)}/merge`, { into: target }))) {
      setDialog(null);
      navigate(`/incidents/${target}`);
    }
  };
  const split = async (e: Event) => {
    e.preventDefault();
    let created: Incident | null = null;
    const ok = await dialogAction.run(async () => {
      created = await call<Incident>('POST', `/incidents/${enc(id)}/split`, { reports: [...splitReports], title: splitTitle.trim() });
    });
    if (ok && created) {
      setDialog(null);
      navigate(`/incidents/${(created as Incident).id}`);
    }
  };
  const closeDialog = () => {
    setDialog(null);
    dialogAction.clear();
  };
  const mergeable = props.canWrite && props.incident.status !== 'merged';

  return (
    <section aria-labelledby="links-title" class="panel links">
      <h2 id="links-title">{t('links.title')}</h2>
      <ErrorBox error={loadError} />
      {props.incident.merged_into && (
        <p>
          {t('links.mergedInto')} <Link href={`/incidents/${props.incident.merged_into}`}>{props.incident.merged_into}</Link>
        </p>
      )}
      {links && links.length === 0 && <p>{t('links.none')}</p>}
      {links && links.length > 0 && (
        <ul class="link-list">
          {links.map((l) => (
            <li key={l.other + l.relation}>
              {labelOf(t, 'links.relation', l.relation)} <Link href={`/incidents/${l.other}`}>{l.other}</Link>{' '}
              <span class="muted">
                ({l.created_by}, {formatTime(l.created_at, lang)})
              </span>
            </li>
          ))}
        </ul>
      )}
      {props.canWrite && (
      <form class="inline-form" aria-labelledby="link-add-title" onSubmit={link}>
        <h3 id="link-add-title" class="visually-hidden">
          {t('links.add')}
        </h3>
        <EnumSelect id="link-relation" label={t('links.relationLabel')} value={relation} values={LINK_RELATIONS} prefix="links.relation" onChange={setRelation} />
        <div class="field">
          <label for="link-other">{t('links.other')}</label>
          <input id="link-other" required placeholder="I-2026-000001" value={other} onInput={(e) => setOther(e.currentTarget.value)} />
        </div>
        <div class="field buttons">
          <button type="submit" disabled={action.busy}>
            {t('links.add')}
          </button>
        </div>
      </form>
      )}
      <ErrorBox error={action.error} />
      {mergeable && (
        <p class="buttons">
          <button type="button" class="secondary" onClick={() => setDialog('merge')}>
            {t('merge.open')}
          </button>{' '}
          <button type="button" class="secondary" onClick={() => setDialog('split')} disabled={props.reports.length === 0}>
            {t('split.open')}
          </button>
        </p>
      )}
      <Dialog id="merge-dialog" title={t('merge.title', { id })} open={dialog === 'merge'} onClose={closeDialog}>
        <form class="stacked" onSubmit={merge}>
          <p>{t('merge.explain', { id })}</p>
          <div class="field">
            <label for="merge-into">{t('merge.into')}</label>
            <input id="merge-into" required placeholder="I-2026-000001" value={into} onInput={(e) => setInto(e.currentTarget.value)} />
          </div>
          <ErrorBox error={dialogAction.error} />
          <p class="buttons">
            <button type="submit" class="danger" disabled={dialogAction.busy}>
              {t('merge.submit')}
            </button>{' '}
            <button type="button" class="secondary" onClick={closeDialog}>
              {t('common.cancel')}
            </button>
          </p>
        </form>
      </Dialog>
      <Dialog id="split-dialog" title={t('split.title', { id })} open={dialog === 'split'} onClose={closeDialog}>
        <form class="stacked" onSubmit={split}>
          <p>{t('split.explain')}</p>
          <fieldset>
            <legend>{t('split.reports')}</legend>
            {props.reports.map((r) => (
              <label key={r.id} class="checkbox">
                <input
                  type="checkbox"
                  checked={splitReports.has(r.id)}
                  onChange={() => {
                    const next = new Set(splitReports);
                    if (next.has(r.id)) next.delete(r.id);
                    else next.add(r.id);
                    setSplitReports(next);
                  }}
                />{' '}
                {r.id} {r.subject}
              </label>
            ))}
          </fieldset>
          <div class="field">
            <label for="split-title">{t('split.newTitle')}</label>
            <input id="split-title" required maxLength={500} value={splitTitle} onInput={(e) => setSplitTitle(e.currentTarget.value)} />
          </div>
          <ErrorBox error={dialogAction.error} />
          <p class="buttons">
            <button type="submit" disabled={dialogAction.busy || splitReports.size === 0}>
              {t('split.submit')}
            </button>{' '}
            <button type="button" class="secondary" onClick={closeDialog}>
              {t('common.cancel')}
            </button>
          </p>
        </form>
      </Dialog>
    </section>
  );
}

// --- post-incident review ---

export function ReviewSection(props: { incident: Incident; reloadKey: number; canWrite: boolean }) {
  const { t, lang } = useI18n();
  const base = `/incidents/${enc(props.incident.id)}/review`;
  const [review, setReview] = useState<Review | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [f, setF] = useState({ root_cause: '', actions_taken: '', lessons_learned: '', playbook_revision: '' });
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const loaded = useRef(JSON.stringify(f));
  const load = () =>
    call<Review>('GET', base).then((r) => {
      setReview(r);
      const next = {
        root_cause: r.root_cause,
        actions_taken: r.actions_taken,
        lessons_learned: r.lessons_learned,
        playbook_revision: r.playbook_revision ?? '',
      };
      setF((current) => (JSON.stringify(current) === loaded.current ? next : current));
      loaded.current = JSON.stringify(next);
    }, setLoadError);
  useEffect(() => {
    load();
  }, [props.incident.id, props.reloadKey]);

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    const body = { ...f, playbook_revision: f.playbook_revision.trim() || null };
    if (await action.run(() => call('PUT', base, body))) {
      setSaved(true);
      load();
    }
  };
  const area = (key: 'root_cause' | 'actions_taken' | 'lessons_learned') => (
    <div class="field">
      <label for={`review-${key}`}>{t(`review.${key}`)}</label>
      <textarea id={`review-${key}`} rows={3} value={f[key]} onInput={(e) => setF({ ...f, [key]: e.currentTarget.value })} />
    </div>
  );

  return (
    <section aria-labelledby="review-title" class="panel review">
      <h2 id="review-title">{t('review.title')}</h2>
      <ErrorBox error={loadError} />
      {review && !props.canWrite && (
        <dl class="fields">
          {(['root_cause', 'actions_taken', 'lessons_learned'] as const).map((k) => (
            <div class="row" key={k}>
              <dt>{t(`review.${k}`)}</dt>
              <dd class="description">{review[k] || t('common.none')}</dd>
            </div>
          ))}
        </dl>
      )}
      {review && props.canWrite && (
        <form class="stacked" onSubmit={save}>
          {review.author ? (
            <p class="muted">{t('review.by', { user: review.author, at: formatTime(review.updated_at, lang) })}</p>
          ) : (
            <p class="muted">{t('review.none')}</p>
          )}
          {area('root_cause')}
          {area('actions_taken')}
          {area('lessons_learned')}
          <div class="field">
            <label for="review-playbook">{t('review.playbook_revision')}</label>
            <input
              id="review-playbook"
              placeholder="phishing@3"
              aria-describedby="review-playbook-help"
              value={f.playbook_revision}
              onInput={(e) => setF({ ...f, playbook_revision: e.currentTarget.value })}
            />
            <p id="review-playbook-help" class="hint">
              {t('review.playbookHelp')}
            </p>
          </div>
          <div>
            <button type="submit" disabled={action.busy}>
              {t('review.save')}
            </button>
          </div>
        </form>
      )}
      {saved && <Notice>{t('common.saved')}</Notice>}
      <ErrorBox error={action.error} />
    </section>
  );
}
