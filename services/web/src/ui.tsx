// Small shared components and helpers of the pages.
import {
  cloneElement,
  Component,
  isValidElement,
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  type ButtonHTMLAttributes,
  type ErrorInfo,
  type ReactElement,
  type ReactNode,
  type SelectHTMLAttributes,
} from 'react';
import { ApiError, call, IDENTITY, resourceId } from './api';

// ---- formatting ----

/** Turns an enum name into words: "BINARY_CLASSIFICATION" -> "Binary classification". */
export function enumLabel(value: string | undefined): string {
  if (!value || value.endsWith('_UNSPECIFIED')) return '—';
  const words = value.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Formats an RFC 3339 timestamp in the browser's locale, or "—" when absent. */
export function formatTime(value: string | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/** Formats a number with `digits` decimals, or "—" when absent or not finite. */
export function formatNumber(value: number | string | undefined, digits = 3): string {
  if (value === undefined || value === '') return '—';
  const number = typeof value === 'string' ? Number(value) : value;
  return Number.isFinite(number) ? number.toFixed(digits) : '—';
}

/** Reads an int64 (a JSON string) or int32 field as a number, 0 when absent. */
export function toCount(value: string | number | undefined): number {
  if (value === undefined || value === '') return 0;
  const number = Number(value);
  return Number.isFinite(number) ? number : 0;
}

// ---- data loading ----

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Runs the load again. */
  reload: () => void;
}

/**
 * Runs `load` when the component mounts and whenever `deps` change, keeping only the
 * newest result when several overlap. `load` returning undefined skips the call.
 */
export function useLoad<T>(load: () => Promise<T> | undefined, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const promise = load();
    if (!promise) {
      setData(undefined);
      setLoading(false);
      return;
    }
    const ticket = ++latest.current;
    setLoading(true);
    setError(null);
    promise.then(
      (value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setLoading(false);
      },
      (reason: unknown) => {
        if (ticket !== latest.current) return;
        setError(reason);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { data, error, loading, reload };
}

// ---- components ----

/**
 * Shows an error thrown while a page renders or runs an effect in place of the page,
 * where React would otherwise remove the whole application. Key it by route.
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('the page stopped with an error', error, info.componentStack);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="banner banner-error" role="alert" data-testid="page-error">
        <div>
          <strong>This page stopped with an error: </strong>
          <span>{error.message}</span>
          <div className="banner-detail">
            Reload the page to try again. If the error comes back, send the message and the
            time to your administrator.
          </div>
        </div>
        <button type="button" className="button button-secondary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}

type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'link';

export function Button({
  variant = 'secondary',
  busy = false,
  className,
  children,
  disabled,
  type = 'button',
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: ButtonVariant; busy?: boolean }) {
  return (
    <button
      type={type}
      className={`button button-${variant}${className ? ` ${className}` : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy ? <Spinner small label="" /> : null}
      {children}
    </button>
  );
}

export function Spinner({ label = 'Loading…', small = false }: { label?: string; small?: boolean }) {
  return (
    <span className={`spinner-wrap${small ? ' small' : ''}`} role="status">
      <span className="spinner" aria-hidden="true" />
      {label ? <span className="spinner-label">{label}</span> : null}
    </span>
  );
}

/** Shows an error: an ApiError's message, code and request id, or any other error's text. */
export function ErrorBanner({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="banner banner-error" role="alert">
      <div>
        <strong>{apiError ? errorTitle(apiError) : 'Error'}: </strong>
        <span>{message}</span>
        {apiError?.requestId ? (
          <div className="banner-detail">
            Request id <code>{apiError.requestId}</code>
            {apiError.reason ? (
              <>
                {' '}· reason <code>{apiError.reason}</code>
              </>
            ) : null}
          </div>
        ) : null}
      </div>
      {onDismiss ? (
        <button type="button" className="banner-close" aria-label="Dismiss error" onClick={onDismiss}>
          ×
        </button>
      ) : null}
    </div>
  );
}

function errorTitle(error: ApiError): string {
  switch (error.status) {
    case 0:
      return 'No connection';
    case 400:
      return 'Invalid request';
    case 403:
      return 'Not allowed';
    case 404:
      return 'Not found';
    case 409:
      return 'Conflict';
    case 429:
      return 'Limit reached';
    case 503:
      return 'Service unavailable';
    default:
      return error.code || 'Error';
  }
}

/** A green or neutral message, for example after a save. */
export function Notice({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <div className="banner banner-info" role="status">
      {children}
    </div>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p className="page-description">{description}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </header>
  );
}

/** A titled block of a page. */
export function Section({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="section" aria-label={title}>
      <div className="section-header">
        <h2>{title}</h2>
        {actions ? <div className="section-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/**
 * A labelled form control with an optional help text. A single element child gets the
 * id and aria-describedby; a function child receives them.
 */
export function Field({
  label,
  help,
  children,
}: {
  label: string;
  help?: ReactNode;
  children: ReactElement | ((id: string, describedBy: string | undefined) => ReactNode);
}) {
  const id = useId();
  const helpId = help ? `${id}-help` : undefined;
  let control: ReactNode;
  if (typeof children === 'function') {
    control = children(id, helpId);
  } else if (isValidElement(children)) {
    control = cloneElement(children as ReactElement<Record<string, unknown>>, {
      id,
      'aria-describedby': helpId,
    });
  } else {
    control = children;
  }
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {control}
      {help ? (
        <small id={helpId} className="field-help">
          {help}
        </small>
      ) : null}
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

/** A labelled drop-down. `placeholder` adds an empty first option. */
export function Select({
  label,
  options,
  value,
  onChange,
  placeholder,
  help,
  ...rest
}: Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'value'> & {
  label: string;
  options: Array<Option | string>;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  help?: ReactNode;
}) {
  return (
    <Field label={label} help={help}>
      <select value={value} onChange={(event) => onChange(event.target.value)} {...rest}>
        {placeholder !== undefined ? <option value="">{placeholder}</option> : null}
        {options.map((option) => {
          const item = typeof option === 'string' ? { value: option, label: option } : option;
          return (
            <option key={item.value} value={item.value}>
              {item.label}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

export interface Column<Row> {
  /** Header text. */
  header: string;
  /** Cell content of one row. */
  cell: (row: Row) => ReactNode;
  /** Right-aligns numbers. */
  numeric?: boolean;
}

/** A table with a caption (for screen readers), an empty text and optional row selection. */
export function Table<Row>({
  caption,
  columns,
  rows,
  rowKey,
  empty = 'Nothing to show.',
  onSelect,
  selectedKey,
}: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[] | undefined;
  rowKey: (row: Row) => string;
  empty?: string;
  onSelect?: (row: Row) => void;
  selectedKey?: string;
}) {
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.header} scope="col" className={column.numeric ? 'numeric' : undefined}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {!rows || rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="table-empty">
                {rows ? empty : 'Loading…'}
              </td>
            </tr>
          ) : (
            rows.map((row) => {
              const key = rowKey(row);
              const selected = selectedKey === key;
              return (
                <tr
                  key={key}
                  className={`${onSelect ? 'selectable' : ''}${selected ? ' selected' : ''}`}
                  aria-selected={onSelect ? selected : undefined}
                  tabIndex={onSelect ? 0 : undefined}
                  onClick={onSelect ? () => onSelect(row) : undefined}
                  onKeyDown={
                    onSelect
                      ? (event) => {
                          if (event.key === 'Enter' || event.key === ' ') {
                            event.preventDefault();
                            onSelect(row);
                          }
                        }
                      : undefined
                  }
                >
                  {columns.map((column) => (
                    <td key={column.header} className={column.numeric ? 'numeric' : undefined}>
                      {column.cell(row)}
                    </td>
                  ))}
                </tr>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}

/** "Next page" / "First page" buttons for List methods' page tokens. */
export function Pager({
  nextPageToken,
  pageToken,
  onPage,
}: {
  nextPageToken?: string;
  pageToken: string;
  onPage: (token: string) => void;
}) {
  if (!nextPageToken && !pageToken) return null;
  return (
    <div className="pager">
      <Button onClick={() => onPage('')} disabled={!pageToken}>
        First page
      </Button>
      <Button onClick={() => onPage(nextPageToken ?? '')} disabled={!nextPageToken}>
        Next page
      </Button>
    </div>
  );
}

/** A progress bar with a visible text, for example "12 of 40". */
export function ProgressBar({
  value,
  max,
  label,
}: {
  value: number;
  max: number;
  label: string;
}) {
  const percent = max > 0 ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max}
        aria-valuenow={value}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-text">
        {label}: {value} of {max} ({percent}%)
      </span>
    </div>
  );
}

/** A small coloured tag for a state. */
export function StateBadge({ state }: { state: string | undefined }) {
  const name = state ?? 'STATE_UNSPECIFIED';
  return <span className={`badge badge-${name.toLowerCase()}`}>{enumLabel(name)}</span>;
}

// ---- user names ----

interface LookupUsersResponse {
  users?: { name?: string; displayName?: string }[];
}

/**
 * Returns a function from user id to display name, for the ids given, which other
 * services record in place of names. An id without an account, or any id while the
 * names load or when they cannot be read, maps to itself.
 */
export function useDisplayNames(ids: string[]): (id: string) => string {
  const key = Array.from(new Set(ids.filter(Boolean))).sort().join(',');
  const [names, setNames] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!key) return;
    let current = true;
    call<LookupUsersResponse>(IDENTITY, 'LookupUsers', { userIds: key.split(',') }).then(
      (response) => {
        if (!current) return;
        const found: Record<string, string> = {};
        for (const user of response.users ?? []) found[resourceId(user.name ?? '')] = user.displayName ?? '';
        setNames(found);
      },
      // The ids stay on screen: a list that shows ids is better than no list.
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [key]);
  return useCallback((id: string) => names[id] || id, [names]);
}
