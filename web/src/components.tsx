// Small building blocks shared by the views.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api';
import { labelOf, useI18n } from './i18n';

export function ErrorBox(props: { error: unknown }) {
  const { t } = useI18n();
  if (!props.error) return null;
  const e = props.error;
  const message =
    e instanceof ApiError
      ? e.status === 404
        ? t('common.notFound')
        : `${e.message}${e.field ? ` (${e.field})` : ''}`
      : e instanceof Error
        ? e.message
        : String(e);
  return (
    <div class="error" role="alert">
      <strong>{t('common.error')}:</strong> {message}
    </div>
  );
}

export function Notice(props: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {props.children}
    </div>
  );
}

export function Badge(props: { kind: string; value: string; label?: string }) {
  return <span class={`badge badge-${props.kind} badge-${props.kind}-${props.value.replace(/[^a-z0-9]+/gi, '-')}`}>{props.label ?? props.value}</span>;
}

export function StatusBadge(props: { status: string }) {
  const { t } = useI18n();
  return <Badge kind="status" value={props.status} label={labelOf(t, 'status', props.status)} />;
}

export function PriorityBadge(props: { priority: string }) {
  return <Badge kind="priority" value={props.priority} />;
}

// A <select> over enumerated values, each labelled through the dictionary under `prefix`.
export function EnumSelect(props: {
  id: string;
  label: string;
  value: string;
  values: string[];
  prefix?: string;
  any?: boolean;
  anyLabel?: string; // the empty choice's label, when not "Any"
  onChange: (v: string) => void;
}) {
  const { t } = useI18n();
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.any && <option value="">{props.anyLabel ?? t('common.any')}</option>}
        {props.values.map((v) => (
          <option key={v} value={v}>
            {props.prefix ? labelOf(t, props.prefix, v) : v}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Dl(props: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {props.rows.map(([k, v]) => (
        <div class="row" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

// Runs one change against the API at a time, keeping its error for an ErrorBox: `run(f)` returns
// whether it succeeded.
export function useAction(): { run: (f: () => Promise<unknown>) => Promise<boolean>; error: unknown; busy: boolean; clear: () => void } {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return {
    error,
    busy,
    clear: () => setError(null),
    run: async (f) => {
      setError(null);
      setBusy(true);
      try {
        await f();
        return true;
      } catch (e) {
        setError(e);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

// A local date-time input's value ("2026-11-27T09:30") as RFC 3339, or null when empty.
export function localToIso(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

// An RFC 3339 time as a local date-time input's value.
export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
