// Loading of the lists the model pages pick from (use cases, datasets, models,
// challenges), the pickers built on them, and a polling hook.
import { useEffect, useRef } from 'react';
import {
  call,
  CATALOG,
  EVALUATION,
  INGEST,
  TRAINING,
  type Dataset,
  type Model,
  type UseCase,
} from '../../api';
import { enumLabel, ErrorBanner, Select, useLoad, type Loaded } from '../../ui';
import { displayName } from './format';
import type { Challenge } from './types';

/** Pages fetched at most by listAll(), so a huge list cannot hang the page. */
const MAX_PAGES = 20;

/**
 * Calls a List method page by page and returns the items of `field` from every page,
 * up to MAX_PAGES pages of `pageSize` items.
 */
export async function listAll<T>(
  service: string,
  method: string,
  body: object,
  field: string,
  pageSize = 200,
): Promise<T[]> {
  const items: T[] = [];
  let pageToken = '';
  for (let page = 0; page < MAX_PAGES; page++) {
    const response = await call<Record<string, unknown>>(service, method, {
      ...body,
      pageSize,
      pageToken,
    });
    items.push(...((response[field] as T[] | undefined) ?? []));
    pageToken = (response.nextPageToken as string | undefined) ?? '';
    if (!pageToken) break;
  }
  return items;
}

/** Loads every use case, sorted by display name. */
export function useUseCases(): Loaded<UseCase[]> {
  return useLoad(
    () =>
      listAll<UseCase>(CATALOG, 'ListUseCases', { orderBy: 'display_name' }, 'useCases'),
    [],
  );
}

/** Loads every dataset. */
export function useDatasets(): Loaded<Dataset[]> {
  return useLoad(
    () =>
      listAll<Dataset>(INGEST, 'ListDatasets', {}, 'datasets'),
    [],
  );
}

/**
 * Loads the models of a use case (every use case when empty), newest first. A change
 * of `refreshKey` loads them again.
 */
export function useModels(useCase: string, showHidden = false, refreshKey = 0): Loaded<Model[]> {
  return useLoad(
    () => listAll<Model>(TRAINING, 'ListModels', { useCase, showHidden }, 'models'),
    [useCase, showHidden, refreshKey],
  );
}

/** Loads the challenges of a use case (every use case when empty), newest first. */
export function useChallenges(useCase = ''): Loaded<Challenge[]> {
  return useLoad(
    () =>
      listAll<Challenge>(EVALUATION, 'ListChallenges', { useCase }, 'challenges'),
    [useCase],
  );
}

/** Returns the category codes of a classification use case: its first data element's values. */
export function categoriesOf(useCase: UseCase | undefined): string[] {
  const element = useCase?.dataElements?.[0];
  return (element?.allowedValues ?? []).map((value) => value.value);
}

/** Returns "A (Almost entirely fatty)" for a category code, or the code alone. */
export function categoryLabel(useCase: UseCase | undefined, code: string): string {
  const value = useCase?.dataElements?.[0]?.allowedValues?.find((item) => item.value === code);
  return value?.label ? `${code} (${value.label})` : code;
}

/** Renders a drop-down of use cases, whose labels show the state when it is not PUBLISHED. */
export function UseCaseSelect({
  useCases,
  value,
  onChange,
  label = 'Use case',
  help,
  placeholder = 'Choose a use case',
}: {
  useCases: UseCase[] | undefined;
  value: string;
  onChange: (value: string) => void;
  label?: string;
  help?: string;
  placeholder?: string;
}) {
  const options = (useCases ?? []).map((useCase) => ({
    value: useCase.name,
    label:
      useCase.state && useCase.state !== 'PUBLISHED'
        ? `${displayName(useCase)} (${enumLabel(useCase.state).toLowerCase()})`
        : displayName(useCase),
  }));
  return (
    <Select
      label={label}
      options={options}
      value={value}
      onChange={onChange}
      placeholder={placeholder}
      help={help}
    />
  );
}

/** Renders a drop-down of datasets with their instance counts. */
export function DatasetSelect({
  datasets,
  value,
  onChange,
  label = 'Dataset',
  help,
  placeholder = 'Choose a dataset',
}: {
  datasets: Dataset[] | undefined;
  value: string;
  onChange: (value: string) => void;
  label?: string;
  help?: string;
  placeholder?: string;
}) {
  const options = (datasets ?? []).map((dataset) => ({
    value: dataset.name,
    label: dataset.counts?.instances
      ? `${displayName(dataset)} (${dataset.counts.instances} instances)`
      : displayName(dataset),
  }));
  return (
    <Select
      label={label}
      options={options}
      value={value}
      onChange={onChange}
      placeholder={placeholder}
      help={help}
    />
  );
}

/** Renders a drop-down of models with their architecture and input size. */
export function ModelSelect({
  models,
  value,
  onChange,
  label = 'Model',
  help,
  placeholder = 'Choose a model',
}: {
  models: Model[] | undefined;
  value: string;
  onChange: (value: string) => void;
  label?: string;
  help?: string;
  placeholder?: string;
}) {
  const options = (models ?? []).map((model) => ({
    value: model.name,
    label: `${displayName(model)} (${model.architecture ?? 'model'}, ${model.imageSize ?? '?'} px)`,
  }));
  return (
    <Select
      label={label}
      options={options}
      value={value}
      onChange={onChange}
      placeholder={placeholder}
      help={help}
    />
  );
}

/** Renders a group of check boxes to pick several models. */
export function ModelCheckboxes({
  models,
  selected,
  onChange,
  legend = 'Models',
  testIdPrefix = 'model-pick',
}: {
  models: Model[] | undefined;
  selected: string[];
  onChange: (selected: string[]) => void;
  legend?: string;
  testIdPrefix?: string;
}) {
  if (!models) return <p className="muted">Loading models…</p>;
  if (models.length === 0) return <p className="muted">No models yet. Train one first.</p>;
  function toggle(name: string, checked: boolean) {
    onChange(checked ? [...selected, name] : selected.filter((item) => item !== name));
  }
  return (
    <fieldset className="model-checkboxes">
      <legend>{legend}</legend>
      {models.map((model) => {
        const id = model.name.slice(model.name.lastIndexOf('/') + 1);
        return (
          <label key={model.name} className="checkbox">
            <input
              type="checkbox"
              checked={selected.includes(model.name)}
              onChange={(event) => toggle(model.name, event.target.checked)}
              data-testid={`${testIdPrefix}-${id}`}
            />
            {displayName(model)}
            <span className="muted">
              {' '}
              ({model.architecture ?? 'model'}, {model.imageSize ?? '?'} px)
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}

/**
 * Calls `tick` every `intervalMs` milliseconds while `active` is true. The newest
 * `tick` is always the one called, so it may read fresh state without restarting the
 * timer.
 */
export function usePolling(tick: () => void, intervalMs: number, active: boolean): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(() => latest.current(), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs, active]);
}

/** Renders one error banner per failed list load; nothing when every load succeeded. */
export function LoadErrors({ errors }: { errors: unknown[] }) {
  return (
    <>
      {errors.map((error, index) => (error ? <ErrorBanner key={index} error={error} /> : null))}
    </>
  );
}
