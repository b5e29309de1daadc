// Small building blocks shared by the views.
import type { ComponentChildren } from 'preact';
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
  onChange: (v: string) => void;
}) {
  const { t } = useI18n();
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.any && <option value="">{t('common.any')}</option>}
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
