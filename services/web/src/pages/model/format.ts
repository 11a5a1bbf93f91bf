// Number, interval and time helpers shared by the model pages.
import type { Interval, JsonDouble } from './types';

/**
 * Reads a double of the JSON mapping ("NaN", "Infinity" and numbers written as text
 * included) or an int64 string. Returns NaN when the value is absent or unreadable.
 */
export function toNumber(value: JsonDouble | undefined | null): number {
  if (value === undefined || value === null || value === '') return Number.NaN;
  if (typeof value === 'number') return value;
  return Number(value);
}

/**
 * Reads a plain scalar field (double or int64) of a proto3 message. The JSON mapping
 * leaves out a field that is at its default, so an absent value is 0, not unknown. An
 * undefined figure arrives as "NaN".
 */
export function scalarField(value: JsonDouble | undefined | null): number {
  return value === undefined || value === null || value === '' ? 0 : toNumber(value);
}

/** Formats a metric with `digits` decimals, "—" when it is absent or undefined (NaN). */
export function formatMetric(value: JsonDouble | undefined, digits = 3): string {
  const number = toNumber(value);
  return Number.isFinite(number) ? number.toFixed(digits) : '—';
}

/** Formats a fraction as a percentage with one decimal, "—" when undefined. */
export function formatPercent(value: JsonDouble | undefined): string {
  const number = toNumber(value);
  return Number.isFinite(number) ? `${(number * 100).toFixed(1)}%` : '—';
}

/** Formats an interval as "0.612–0.744", or an empty string when it is missing. */
export function formatInterval(interval: Interval | undefined, digits = 3): string {
  if (!interval) return '';
  const lower = toNumber(interval.lower);
  const upper = toNumber(interval.upper);
  if (!Number.isFinite(lower) || !Number.isFinite(upper)) return '';
  return `${lower.toFixed(digits)}–${upper.toFixed(digits)}`;
}

/** Formats a value with its interval: "0.680 (95% CI 0.612–0.744)". */
export function formatWithInterval(
  value: JsonDouble | undefined,
  interval: Interval | undefined,
  digits = 3,
): string {
  const text = formatMetric(value, digits);
  const range = formatInterval(interval, digits);
  if (!range || text === '—') return text;
  const confidence = toNumber(interval?.confidence);
  const level = Number.isFinite(confidence) ? `${Math.round(confidence * 100)}% CI ` : '';
  return `${text} (${level}${range})`;
}

/**
 * Computes the 95% Wilson score interval of a proportion `successes / total`. Returns
 * undefined when `total` is 0, because the proportion is then undefined.
 */
export function wilsonInterval(successes: number, total: number): Interval | undefined {
  if (total <= 0) return undefined;
  const z = 1.959964;
  const p = successes / total;
  const z2n = (z * z) / total;
  const center = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / total + z2n / (4 * total))) / (1 + z2n);
  return {
    lower: Math.max(0, center - half),
    upper: Math.min(1, center + half),
    confidence: 0.95,
  };
}

/** Converts the value of an <input type="datetime-local"> to RFC 3339 (UTC). */
export function localInputToRfc3339(value: string): string {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** Converts a Date to the local-time text an <input type="datetime-local"> expects. */
export function dateToLocalInput(date: Date): string {
  const pad = (number: number) => String(number).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** Returns the label of a resource: its display name, else its id. */
export function displayName(resource: { name?: string; displayName?: string }): string {
  if (resource.displayName) return resource.displayName;
  const name = resource.name ?? '';
  const slash = name.lastIndexOf('/');
  return slash >= 0 ? name.slice(slash + 1) : name;
}

/**
 * Escapes text for HTML. ECharts inserts the string a tooltip formatter returns as
 * HTML, so any user-provided text in it (names, category codes) must pass through this.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
