import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import {
  ANNOTATION,
  call,
  CATALOG,
  INGEST,
  type Annotation,
  type AnnotationProgress,
  type Contest,
  type FinishSessionResponse,
  type GetNextInstanceResponse,
  type Instance,
  type ListAnnotationsResponse,
  type ListAnnotatorRankingsResponse,
  type ListContestsResponse,
  type ListDatasetsResponse,
  type ListInstancesResponse,
  type ListUseCasesResponse,
  type UseCase,
} from '../api';
import type { PageMeta } from '../App';
import { loadInstanceImage, type GrayImage } from '../image';
import { useSession } from '../session';
import {
  Button,
  ErrorBanner,
  Notice,
  PageHeader,
  ProgressBar,
  Section,
  Select,
  Spinner,
  toCount,
  useLoad,
} from '../ui';
import { Viewer, WINDOW_PRESETS, type ViewerHandle, type WindowPresetId } from '../viewer';

export const meta: PageMeta = { path: '/annotate', title: 'Annotate', order: 30, roles: ['radiologist'] };

// Instances are listed up front so that the next image is known (and prefetched)
// before the annotator saves. NOTE: datasets larger than this fall back to one
// GetInstance call per image beyond the limit.
const MAX_LISTED_INSTANCES = 20000;
// Decoded images kept in memory: the current one, the prefetched ones and a few back.
const IMAGE_CACHE_SIZE = 6;
const PREFETCH_AHEAD = 2;

interface Current {
  instance: Instance;
  image: GrayImage | null;
  /** Label saved earlier for this instance, when it is being changed. */
  savedLabel?: string;
}

async function listAllInstances(dataset: string): Promise<Instance[]> {
  const instances: Instance[] = [];
  let pageToken = '';
  do {
    const page = await call<ListInstancesResponse>(INGEST, 'ListInstances', {
      parent: dataset,
      pageSize: 1000,
      pageToken,
    });
    instances.push(...(page.instances ?? []));
    pageToken = page.nextPageToken ?? '';
  } while (pageToken && instances.length < MAX_LISTED_INSTANCES);
  return instances;
}

function isActive(contest: Contest, now: number): boolean {
  const start = contest.startTime ? Date.parse(contest.startTime) : -Infinity;
  const end = contest.endTime ? Date.parse(contest.endTime) : Infinity;
  return start <= now && now < end;
}

function isTextInput(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
}

export default function AnnotatePage() {
  const { userId } = useSession();
  const [params, setParams] = useSearchParams();
  const useCaseName = params.get('useCase') ?? '';
  const datasetName = params.get('dataset') ?? '';

  const useCases = useLoad(
    () => call<ListUseCasesResponse>(CATALOG, 'ListUseCases', { filter: 'state=PUBLISHED', pageSize: 500 }),
    [],
  );
  const datasets = useLoad(() => call<ListDatasetsResponse>(INGEST, 'ListDatasets', { pageSize: 500 }), []);
  const useCase: UseCase | undefined = useCases.data?.useCases?.find((item) => item.name === useCaseName);
  const categories = useCase?.dataElements?.[0]?.allowedValues ?? [];

  const [current, setCurrent] = useState<Current | null>(null);
  const [category, setCategory] = useState('');
  const [progress, setProgress] = useState<GetNextInstanceResponse | AnnotationProgress | null>(null);
  const [finished, setFinished] = useState<FinishSessionResponse | null>(null);
  const [allDone, setAllDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [listGeneration, setListGeneration] = useState(0);

  const viewer = useRef<ViewerHandle>(null);
  const instances = useRef(new Map<string, Instance>());
  const order = useRef<string[]>([]);
  const images = useRef(new Map<string, Promise<GrayImage>>());
  const firstImageMarked = useRef(false);
  const saveStarted = useRef(false);
  const session = useRef(0);

  // The gateway fills the annotator with the signed-in user, so requests leave it out.
  const key = { useCase: useCaseName, dataset: datasetName };

  const getImage = useCallback((instance: Instance): Promise<GrayImage> => {
    const cache = images.current;
    let promise = cache.get(instance.name);
    if (!promise) {
      promise = loadInstanceImage(instance);
      // A failed load is not cached, so a retry fetches again.
      promise.catch(() => cache.delete(instance.name));
      cache.set(instance.name, promise);
      while (cache.size > IMAGE_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest === undefined) break;
        cache.delete(oldest);
      }
    } else {
      // Re-inserting marks it as recently used.
      cache.delete(instance.name);
      cache.set(instance.name, promise);
    }
    return promise;
  }, []);

  const findInstance = useCallback(async (name: string): Promise<Instance> => {
    const known = instances.current.get(name);
    if (known) return known;
    const instance = await call<Instance>(INGEST, 'GetInstance', { name });
    instances.current.set(name, instance);
    return instance;
  }, []);

  const prefetchAfter = useCallback(
    (name: string) => {
      const index = order.current.indexOf(name);
      if (index < 0) return;
      for (const next of order.current.slice(index + 1, index + 1 + PREFETCH_AHEAD)) {
        const instance = instances.current.get(next);
        if (instance) getImage(instance).catch(() => {});
      }
    },
    [getImage],
  );

  const show = useCallback(
    async (name: string, savedLabel?: string) => {
      const ticket = session.current;
      const instance = await findInstance(name);
      let image: GrayImage | null = null;
      try {
        image = await getImage(instance);
      } catch (reason) {
        setError(reason);
      }
      if (ticket !== session.current) return;
      setCurrent({ instance, image, savedLabel });
      setCategory(savedLabel ?? '');
      prefetchAfter(name);
    },
    [findInstance, getImage, prefetchAfter],
  );

  const goNext = useCallback(async () => {
    const next = await call<GetNextInstanceResponse>(ANNOTATION, 'GetNextInstance', key);
    setProgress(next);
    if (!next.instance) {
      setAllDone(true);
      setCurrent(null);
      saveStarted.current = false;
      return;
    }
    setAllDone(false);
    await show(next.instance);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [useCaseName, datasetName, userId, show]);

  // (Re)starts the session whenever the use case or dataset changes.
  useEffect(() => {
    session.current += 1;
    instances.current = new Map();
    order.current = [];
    images.current = new Map();
    setCurrent(null);
    setProgress(null);
    setFinished(null);
    setAllDone(false);
    setError(null);
    if (!useCaseName || !datasetName || !userId) return;
    const ticket = session.current;
    setStarting(true);
    (async () => {
      try {
        const listed = await listAllInstances(datasetName);
        if (ticket !== session.current) return;
        for (const instance of listed) instances.current.set(instance.name, instance);
        order.current = listed.map((instance) => instance.name);
        await goNext();
      } catch (reason) {
        if (ticket === session.current) setError(reason);
      } finally {
        if (ticket === session.current) setStarting(false);
      }
    })();
  }, [useCaseName, datasetName, userId, goNext]);

  const onDrawn = useCallback(() => {
    if (!firstImageMarked.current) {
      firstImageMarked.current = true;
      performance.mark('ailab:first-image');
    }
    performance.mark('ailab:image-drawn');
    if (saveStarted.current) {
      saveStarted.current = false;
      performance.measure('ailab:save-to-next', 'ailab:save-start', 'ailab:image-drawn');
    }
  }, []);

  const run = useCallback(async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (reason) {
      saveStarted.current = false;
      setError(reason);
    } finally {
      setBusy(false);
      setListGeneration((value) => value + 1);
    }
  }, []);

  const save = useCallback(() => {
    if (!current || busy) return;
    if (!category) {
      setError(new Error('pick a category first (buttons or number keys 1 to 9), then save'));
      return;
    }
    void run(async () => {
      performance.mark('ailab:save-start');
      saveStarted.current = true;
      await call(ANNOTATION, 'SaveAnnotation', { ...key, instance: current.instance.name, label: category });
      await goNext();
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current, busy, category, run, goNext, useCaseName, datasetName, userId]);

  const skip = useCallback(() => {
    if (!current || busy) return;
    void run(async () => {
      await call(ANNOTATION, 'SkipInstance', { ...key, instance: current.instance.name });
      await goNext();
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current, busy, run, goNext, useCaseName, datasetName, userId]);

  const finish = useCallback(() => {
    if (!useCaseName || !datasetName || busy) return;
    void run(async () => {
      const summary = await call<FinishSessionResponse>(ANNOTATION, 'FinishSession', key);
      setFinished(summary);
      if (summary.progress) setProgress(summary.progress);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [busy, run, useCaseName, datasetName, userId]);

  const reopen = useCallback(
    (annotation: Annotation) => {
      void run(() => show(annotation.instance, annotation.label));
    },
    [run, show],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || isTextInput(event.target)) return;
      const target = event.target instanceof HTMLElement ? event.target : null;
      const key = event.key;
      if (/^[1-9]$/.test(key)) {
        const value = categories[Number(key) - 1];
        if (value) {
          event.preventDefault();
          setCategory(value.value);
        }
        return;
      }
      switch (key.toLowerCase()) {
        case 'enter':
          // A focused button other than a category button handles Enter itself.
          if (target?.tagName === 'BUTTON' && !target.dataset.category) return;
          event.preventDefault();
          save();
          return;
        case 's':
          skip();
          return;
        case 'f':
          finish();
          return;
        case 'w':
          viewer.current?.toggleWindowMode();
          return;
        case 'i':
          viewer.current?.toggleInvert();
          return;
        case 'r':
          viewer.current?.reset();
          return;
        case '+':
        case '=':
          viewer.current?.zoomBy(1.25);
          return;
        case '-':
        case '_':
          viewer.current?.zoomBy(0.8);
          return;
        default:
          return;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [categories, save, skip, finish]);

  const setSelection = (name: 'useCase' | 'dataset', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const useCaseOptions = (useCases.data?.useCases ?? []).map((item) => ({
    value: item.name,
    label: item.displayName || item.name,
  }));
  const datasetOptions = useMemo(() => {
    const list = [...(datasets.data?.datasets ?? [])];
    // Datasets made for the chosen use case come first.
    list.sort((a, b) => Number(b.useCase === useCaseName) - Number(a.useCase === useCaseName));
    return list.map((item) => ({ value: item.name, label: item.displayName || item.name }));
  }, [datasets.data, useCaseName]);

  const annotatedCount = toCount(progress?.annotatedCount);
  const totalCount = toCount(progress?.totalInstances);
  const quota = toCount(progress?.quota);
  const ready = Boolean(useCaseName && datasetName);

  return (
    <>
      <PageHeader
        title="Annotate"
        description="Label the images of a dataset for a use case. Your labels train models; the reference reader's labels score them."
      />
      <ErrorBanner error={useCases.error || datasets.error} />
      <div className="row">
        <Select
          label="Use case"
          value={useCaseName}
          onChange={(value) => setSelection('useCase', value)}
          options={useCaseOptions}
          placeholder="Choose a published use case"
        />
        <Select
          label="Dataset"
          value={datasetName}
          onChange={(value) => setSelection('dataset', value)}
          options={datasetOptions}
          placeholder="Choose a dataset"
        />
      </div>
      {!ready ? <p className="muted">Choose a use case and a dataset to start annotating.</p> : null}
      {ready && useCase && categories.length === 0 ? (
        <ErrorBanner error="this use case has no allowed values in its first data element, so there is nothing to choose from" />
      ) : null}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {finished ? (
        <Notice>
          Session finished: {toCount(finished.sessionAnnotatedCount)} annotated and{' '}
          {toCount(finished.sessionSkippedCount)} skipped in this session.
        </Notice>
      ) : null}
      {ready ? (
        <div className="annotate-layout">
          <div className="viewer" role="region" aria-label="Viewer">
            <div className="viewer-tools" role="toolbar" aria-label="Viewer tools">
              <Button onClick={() => viewer.current?.zoomBy(1.25)} aria-label="Zoom in" title="Zoom in (+)">
                +
              </Button>
              <Button onClick={() => viewer.current?.zoomBy(0.8)} aria-label="Zoom out" title="Zoom out (-)">
                −
              </Button>
              <Button onClick={() => viewer.current?.fit()} title="Fit the image">
                Fit
              </Button>
              <Button onClick={() => viewer.current?.toggleWindowMode()} title="Window/level mode (W)">
                Window/level
              </Button>
              <Button onClick={() => viewer.current?.toggleInvert()} title="Invert (I)">
                Invert
              </Button>
              <Button onClick={() => viewer.current?.reset()} title="Reset (R)">
                Reset
              </Button>
              <label className="visually-hidden" htmlFor="window-preset">
                Window preset
              </label>
              <select
                id="window-preset"
                defaultValue=""
                onChange={(event) => {
                  if (event.target.value) viewer.current?.applyPreset(event.target.value as WindowPresetId);
                  event.target.value = '';
                }}
              >
                <option value="">Window preset…</option>
                {WINDOW_PRESETS.map((preset) => (
                  <option key={preset.id} value={preset.id}>
                    {preset.label}
                  </option>
                ))}
              </select>
            </div>
            <Viewer image={current?.image ?? null} handleRef={viewer} onDrawn={onDrawn} />
            {starting ? <Spinner label="Loading the dataset…" /> : null}
            {allDone ? (
              <p>Every image of this dataset has a label or was skipped. Thank you.</p>
            ) : null}
            <div className="categories" role="group" aria-label="Categories">
              {categories.map((value, index) => (
                <Button
                  key={value.value}
                  className="category-button"
                  data-testid={`category-${value.value}`}
                  data-category={value.value}
                  aria-pressed={category === value.value}
                  disabled={!current}
                  onClick={() => setCategory(value.value)}
                  title={value.reportText || undefined}
                >
                  {index < 9 ? <span className="key-hint">{index + 1}</span> : null}
                  {value.label || value.value}
                </Button>
              ))}
            </div>
            <div className="row">
              <Button
                variant="primary"
                data-testid="save-next"
                onClick={save}
                disabled={!current || !category}
                busy={busy}
              >
                Save and next <span className="key-hint">Enter</span>
              </Button>
              <Button onClick={skip} disabled={!current || busy}>
                Skip <span className="key-hint">S</span>
              </Button>
              <Button onClick={finish} disabled={busy}>
                Finish session <span className="key-hint">F</span>
              </Button>
            </div>
            {current ? (
              <p className="muted" style={{ color: 'var(--viewer-text)' }}>
                {current.savedLabel ? `Changing the saved label ${current.savedLabel}. ` : ''}
                Image {toCount((progress as GetNextInstanceResponse | null)?.position) || '—'}:{' '}
                {[current.instance.modality, current.instance.laterality, current.instance.view]
                  .filter(Boolean)
                  .join(' · ') || current.instance.name}
              </p>
            ) : null}
          </div>
          <aside aria-label="Progress">
            <Section title="Progress">
              <ProgressBar value={annotatedCount} max={totalCount} label="Annotated" />
              {quota > 0 ? (
                <ProgressBar value={Math.min(annotatedCount, quota)} max={quota} label="Quota" />
              ) : null}
              <p className="muted">
                Skipped {toCount(progress?.skippedCount)} · remaining {toCount(progress?.remainingCount)}
              </p>
              <p className="muted">
                Keys: 1–9 category, Enter save, S skip, F finish, W window/level, I invert, R
                reset, +/− zoom. Drag pans, right-drag changes window/level, the wheel zooms.
              </p>
            </Section>
            <ContestPanel useCase={useCaseName} dataset={datasetName} generation={listGeneration} />
            <AnnotationList
              title="Annotated"
              state="ANNOTATED"
              request={key}
              generation={listGeneration}
              onOpen={reopen}
            />
            <AnnotationList
              title="Skipped"
              state="SKIPPED"
              request={key}
              generation={listGeneration}
              onOpen={reopen}
            />
          </aside>
        </div>
      ) : null}
    </>
  );
}

function AnnotationList({
  title,
  state,
  request,
  generation,
  onOpen,
}: {
  title: string;
  state: 'ANNOTATED' | 'SKIPPED';
  request: { useCase: string; dataset: string };
  generation: number;
  onOpen: (annotation: Annotation) => void;
}) {
  const list = useLoad(
    () =>
      request.useCase && request.dataset
        ? call<ListAnnotationsResponse>(ANNOTATION, 'ListAnnotations', {
            ...request,
            filter: `state=${state}`,
            pageSize: 100,
          })
        : undefined,
    [request.useCase, request.dataset, state, generation],
  );
  const annotations = list.data?.annotations ?? [];
  return (
    <Section title={`${title} (${toCount(list.data?.totalSize) || annotations.length})`}>
      <ErrorBanner error={list.error} />
      {annotations.length === 0 ? <p className="muted">None yet.</p> : null}
      <ul className="compact-list">
        {annotations.map((annotation) => (
          <li key={annotation.instance}>
            <button type="button" className="button button-link" onClick={() => onOpen(annotation)}>
              {annotation.instance.split('/').pop()}
            </button>
            {annotation.label ? <span className="badge">{annotation.label}</span> : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function ContestPanel({
  useCase,
  dataset,
  generation,
}: {
  useCase: string;
  dataset: string;
  generation: number;
}) {
  const contests = useLoad(() => call<ListContestsResponse>(ANNOTATION, 'ListContests', { pageSize: 200 }), []);
  const now = Date.now();
  const contest = contests.data?.contests?.find(
    (item) => item.useCase === useCase && (!item.dataset || item.dataset === dataset) && isActive(item, now),
  );
  const rankings = useLoad(
    () =>
      contest
        ? call<ListAnnotatorRankingsResponse>(ANNOTATION, 'ListAnnotatorRankings', {
            contest: contest.name,
            pageSize: 10,
          })
        : undefined,
    [contest?.name, generation],
  );
  if (!contest) return null;
  return (
    <Section title={`Contest: ${contest.displayName || contest.name}`}>
      <ErrorBanner error={rankings.error} />
      <p className="muted">
        Ends {contest.endTime ? new Date(contest.endTime).toLocaleString() : 'when closed'}.
      </p>
      <ul className="compact-list ranking-list" aria-label="Annotator rankings">
        {(rankings.data?.rankings ?? []).map((ranking) => (
          <li key={ranking.annotator}>
            <strong>{toCount(ranking.rank)}.</strong> {ranking.annotator}: {toCount(ranking.annotatedCount)} images
          </li>
        ))}
      </ul>
    </Section>
  );
}
