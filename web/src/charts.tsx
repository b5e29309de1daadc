// Charts as plain SVG drawn here (no chart library, nothing from a CDN, and no inline styles, which
// the Content-Security-Policy forbids: colours come from classes in style.css). Each chart is a
// <figure> whose SVG is labelled for screen readers and whose numbers are also in a table.
import type { ComponentChildren } from 'preact';

export type Bar = { label: string; value: number; text?: string };
export type Series = { name: string; values: number[] };

const kSeriesClasses = 10;
export const seriesClass = (i: number) => `series-${i % kSeriesClasses}`;

// A rounded-up maximum for an axis: 1, 2, 5, 10, 20, 50...
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const base = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 5, 10]) if (m * base >= value) return m * base;
  return 10 * base;
}

export function ChartFigure(props: { id: string; title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <figure class="chart panel" aria-labelledby={`${props.id}-title`} data-chart={props.id}>
      <figcaption>
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions && <span class="chart-actions">{props.actions}</span>}
      </figcaption>
      {props.children}
    </figure>
  );
}

// Horizontal bars, one per label, each with its value written at its end.
export function BarChart(props: { id: string; label: string; bars: Bar[]; max?: number; barClass?: (i: number) => string }) {
  const rowHeight = 28;
  const labelWidth = 120;
  const width = 560;
  const plot = width - labelWidth - 200; // room for the value written after the bar
  const max = props.max ?? niceMax(Math.max(0, ...props.bars.map((b) => b.value)));
  const height = props.bars.length * rowHeight + 8;
  return (
    <svg class="bar-chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={props.label} preserveAspectRatio="xMinYMin meet">
      {props.bars.map((b, i) => {
        const y = 4 + i * rowHeight;
        const w = max > 0 ? Math.max(0, (b.value / max) * plot) : 0;
        return (
          <g key={b.label} class="bar">
            <text x={labelWidth - 8} y={y + rowHeight / 2 + 4} text-anchor="end" class="axis-label">
              {b.label}
            </text>
            <rect x={labelWidth} y={y + 3} width={w} height={rowHeight - 8} class={props.barClass ? props.barClass(i) : seriesClass(0)} />
            <text x={labelWidth + w + 6} y={y + rowHeight / 2 + 4} class="value-label">
              {b.text ?? String(b.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

// Columns per period, the series stacked in each, with the column's total above it and a legend.
export function StackedColumns(props: { id: string; label: string; periods: string[]; series: Series[] }) {
  const width = 640;
  const height = 240;
  const left = 36;
  const bottom = 44;
  const top = 18;
  const plotH = height - bottom - top;
  const n = Math.max(1, props.periods.length);
  const slot = (width - left - 8) / n;
  const barW = Math.max(4, Math.min(40, slot * 0.7));
  const totals = props.periods.map((_, p) => props.series.reduce((sum, s) => sum + (s.values[p] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  return (
    <>
      <svg class="column-chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={props.label}>
        <line x1={left} y1={top + plotH} x2={width - 4} y2={top + plotH} class="axis" />
        {[0, max / 2, max].map((v) => (
          <g key={v}>
            <line x1={left} y1={y(v)} x2={width - 4} y2={y(v)} class="grid" />
            <text x={left - 4} y={y(v) + 4} text-anchor="end" class="axis-label">
              {Number.isInteger(v) ? v : v.toFixed(1)}
            </text>
          </g>
        ))}
        {props.periods.map((period, p) => {
          const x = left + p * slot + (slot - barW) / 2;
          let acc = 0;
          return (
            <g key={period} class="column">
              {props.series.map((s, i) => {
                const v = s.values[p] ?? 0;
                if (v <= 0) return null;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return <rect key={s.name} x={x} y={y1} width={barW} height={Math.max(0, y0 - y1)} class={seriesClass(i)} />;
              })}
              {totals[p] > 0 && (
                <text x={x + barW / 2} y={y(totals[p]) - 4} text-anchor="middle" class="value-label">
                  {totals[p]}
                </text>
              )}
              {(n <= 14 || p % Math.ceil(n / 12) === 0) && (
                <text x={x + barW / 2} y={top + plotH + 14} text-anchor="end" transform={`rotate(-35 ${x + barW / 2} ${top + plotH + 14})`} class="axis-label">
                  {period}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <ul class="legend">
        {props.series.map((s, i) => (
          <li key={s.name}>
            <svg width="12" height="12" aria-hidden="true">
              <rect width="12" height="12" class={seriesClass(i)} />
            </svg>{' '}
            {s.name}
          </li>
        ))}
      </ul>
    </>
  );
}

// The numbers of a chart as a table, folded away under "Data".
export function DataTable(props: { summary: string; caption: string; head: string[]; rows: (string | number)[][] }) {
  return (
    <details class="chart-data">
      <summary>{props.summary}</summary>
      <table class="queue">
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (j === 0 ? <th scope="row" key={j}>{c}</th> : <td key={j}>{c}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
