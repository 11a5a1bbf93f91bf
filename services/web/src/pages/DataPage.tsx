import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  call,
  CATALOG,
  hasRole,
  INGEST,
  SPLITS,
  upload,
  type AssignSplitsResponse,
  type Dataset,
  type ListDatasetsResponse,
  type ListInstancesResponse,
  type ListPreparationRunsResponse,
  type ListUseCasesResponse,
  type PreparationRun,
  type UploadInstancesResponse,
} from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import {
  Button,
  enumLabel,
  ErrorBanner,
  Field,
  formatTime,
  Notice,
  PageHeader,
  Pager,
  ProgressBar,
  Section,
  Select,
  StateBadge,
  Table,
  toCount,
  useLoad,
} from '../ui';

export const meta: PageMeta = {
  path: '/data',
  title: 'Data',
  order: 20,
  roles: ['data_manager', 'radiologist'],
};

const FINAL_RUN_STATES = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export default function DataPage() {
  const [pageToken, setPageToken] = useState('');
  const datasets = useLoad(
    () => call<ListDatasetsResponse>(INGEST, 'ListDatasets', { pageSize: 50, pageToken }),
    [pageToken],
  );
  const [selected, setSelected] = useState('');
  const dataset = datasets.data?.datasets?.find((item) => item.name === selected);
  // Only data managers change datasets; radiologists see them.
  const manager = hasRole(useSession().user, 'data_manager');

  return (
    <>
      <PageHeader
        title="Data"
        description="Datasets of de-identified DICOM images: upload files, split patients into training, validation and test sets, and prepare the images that annotation and training read."
      />
      <ErrorBanner error={datasets.error} />
      <Section title="Datasets">
        <Table
          caption="Datasets"
          rows={datasets.data?.datasets ?? (datasets.loading ? undefined : [])}
          rowKey={(row) => row.name}
          selectedKey={selected}
          onSelect={(row) => setSelected(row.name)}
          empty={manager ? "No dataset yet. Create one below." : "No dataset yet. A data manager creates them."}
          columns={[
            { header: 'Name', cell: (row) => row.displayName || row.name },
            { header: 'Use case', cell: (row) => row.useCase || '—' },
            { header: 'Images', numeric: true, cell: (row) => toCount(row.counts?.instances) },
            { header: 'Patients', numeric: true, cell: (row) => toCount(row.counts?.patients) },
            { header: 'Prepared (PNG / array)', cell: (row) => `${toCount(row.counts?.pngReady)} / ${toCount(row.counts?.arrayReady)}` },
            { header: 'Created', cell: (row) => formatTime(row.createTime) },
          ]}
        />
        <Pager pageToken={pageToken} nextPageToken={datasets.data?.nextPageToken} onPage={setPageToken} />
      </Section>
      {manager ? (
        <CreateDataset
          onCreated={(created) => {
            datasets.reload();
            setSelected(created.name);
          }}
        />
      ) : null}
      {dataset ? <DatasetDetails key={dataset.name} dataset={dataset} onChanged={datasets.reload} /> : null}
      <Section title="PACS">
        <p className="muted">
          Images can also arrive from a PACS or modality through the platform's DICOM storage
          service (C-STORE). Its address, AE title and the dataset each sender's images go to are
          set by the operator in the ingest service configuration; this page does not change them.
        </p>
      </Section>
    </>
  );
}

function CreateDataset({ onCreated }: { onCreated: (dataset: Dataset) => void }) {
  const [displayName, setDisplayName] = useState('');
  const [datasetId, setDatasetId] = useState('');
  const [description, setDescription] = useState('');
  const [useCase, setUseCase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const useCases = useLoad(
    () => call<ListUseCasesResponse>(CATALOG, 'ListUseCases', { filter: 'state=PUBLISHED', pageSize: 500 }),
    [],
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await call<Dataset>(INGEST, 'CreateDataset', {
        dataset: { displayName, description, useCase: useCase || undefined },
        datasetId: datasetId.trim(),
      });
      setDisplayName('');
      setDatasetId('');
      setDescription('');
      setUseCase('');
      onCreated(created);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Create a dataset">
      <ErrorBanner error={error || useCases.error} />
      <form className="row" onSubmit={submit} aria-label="Create a dataset">
        <Field label="Dataset name">
          <input value={displayName} onChange={(event) => setDisplayName(event.target.value)} required />
        </Field>
        <Field label="Dataset identifier" help="Optional: lowercase letters, digits and hyphens.">
          <input value={datasetId} onChange={(event) => setDatasetId(event.target.value)} pattern="[a-z][a-z0-9-]{0,62}" />
        </Field>
        <Select
          label="For use case"
          value={useCase}
          onChange={setUseCase}
          options={(useCases.data?.useCases ?? []).map((item) => ({ value: item.name, label: item.displayName || item.name }))}
          placeholder="None"
          help="Optional; annotation lists datasets of the chosen use case first."
        />
        <Field label="Dataset description">
          <input value={description} onChange={(event) => setDescription(event.target.value)} />
        </Field>
        <Button type="submit" variant="primary" busy={busy}>
          Create dataset
        </Button>
      </form>
    </Section>
  );
}

function DatasetDetails({ dataset, onChanged }: { dataset: Dataset; onChanged: () => void }) {
  const [generation, setGeneration] = useState(0);
  const changed = () => {
    setGeneration((value) => value + 1);
    onChanged();
  };
  const counts = dataset.counts ?? {};
  return (
    <>
      <Section title={dataset.displayName || dataset.name}>
        <dl className="definition-list">
          <dt>Identifier</dt>
          <dd>
            <code>{dataset.name}</code>
          </dd>
          <dt>Studies / series / images</dt>
          <dd>
            {toCount(counts.studies)} / {toCount(counts.series)} / {toCount(counts.instances)}
          </dd>
          <dt>Splits (train / validation / test / none)</dt>
          <dd>
            {toCount(counts.train)} / {toCount(counts.validation)} / {toCount(counts.test)} /{' '}
            {toCount(counts.unassigned)}
          </dd>
          {dataset.description ? (
            <>
              <dt>Description</dt>
              <dd className="pre-text">{dataset.description}</dd>
            </>
          ) : null}
        </dl>
      </Section>
      <Upload dataset={dataset.name} onUploaded={changed} />
      <Splits dataset={dataset.name} onAssigned={changed} />
      <Preparation dataset={dataset.name} onFinished={changed} />
      <Instances dataset={dataset.name} generation={generation} />
    </>
  );
}

interface FileUpload {
  file: File;
  sent: number;
  total: number;
  state: 'waiting' | 'uploading' | 'done' | 'failed';
  result?: UploadInstancesResponse;
  error?: string;
}

// Files uploaded at the same time; more keeps the connection busy without helping.
const PARALLEL_UPLOADS = 2;

function Upload({ dataset, onUploaded }: { dataset: string; onUploaded: () => void }) {
  const [uploads, setUploads] = useState<FileUpload[]>([]);
  const [running, setRunning] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const update = (index: number, change: Partial<FileUpload>) =>
    setUploads((list) => list.map((item, at) => (at === index ? { ...item, ...change } : item)));

  const start = async (files: File[]) => {
    const list: FileUpload[] = files.map((file) => ({ file, sent: 0, total: file.size, state: 'waiting' }));
    setUploads(list);
    setRunning(true);
    let next = 0;
    // Each worker takes the next file; a failed file is reported and the rest go on.
    const worker = async () => {
      while (next < list.length) {
        const index = next++;
        update(index, { state: 'uploading' });
        try {
          const result = await upload(dataset, list[index].file, (sent, total) => update(index, { sent, total }));
          update(index, { state: 'done', result, sent: list[index].file.size });
        } catch (reason) {
          update(index, { state: 'failed', error: reason instanceof Error ? reason.message : String(reason) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, list.length) }, worker));
    setRunning(false);
    if (input.current) input.current.value = '';
    onUploaded();
  };

  const totals = uploads.reduce(
    (sum, item) => {
      sum.stored += item.result?.storedCount ?? 0;
      sum.duplicate += item.result?.duplicateCount ?? 0;
      sum.rejected += (item.result?.rejectedCount ?? 0) + (item.state === 'failed' ? 1 : 0);
      return sum;
    },
    { stored: 0, duplicate: 0, rejected: 0 },
  );

  return (
    <Section title="Upload DICOM files">
      <Field label="DICOM files" help="Choose one or more files; each is de-identified on arrival.">
        <input
          ref={input}
          type="file"
          multiple
          accept=".dcm,application/dicom,*/*"
          disabled={running}
          onChange={(event) => {
            const files = Array.from(event.target.files ?? []);
            if (files.length > 0) void start(files);
          }}
        />
      </Field>
      {uploads.length > 0 ? (
        <>
          <p>
            {uploads.filter((item) => item.state === 'done' || item.state === 'failed').length} of{' '}
            {uploads.length} files processed: {totals.stored} stored, {totals.duplicate} already present,{' '}
            {totals.rejected} rejected.
          </p>
          <Table
            caption="Uploads"
            rows={uploads}
            rowKey={(row) => `${row.file.name}-${row.file.size}-${row.file.lastModified}`}
            columns={[
              { header: 'File', cell: (row) => row.file.name },
              {
                header: 'Progress',
                cell: (row) => (
                  <ProgressBar value={row.sent} max={row.total || 1} label={`Upload of ${row.file.name}`} />
                ),
              },
              {
                header: 'Result',
                cell: (row) =>
                  row.state === 'failed' ? (
                    <span className="error-text">{row.error}</span>
                  ) : row.result ? (
                    (row.result.results ?? []).map((result, index) => (
                      <div key={index}>
                        <StateBadge state={result.outcome} /> {result.message ?? ''}
                        {(result.warnings ?? []).map((warning) => (
                          <div key={warning} className="muted">
                            {warning}
                          </div>
                        ))}
                      </div>
                    ))
                  ) : (
                    enumLabel(row.state.toUpperCase())
                  ),
              },
            ]}
          />
        </>
      ) : null}
    </Section>
  );
}

function Splits({ dataset, onAssigned }: { dataset: string; onAssigned: () => void }) {
  const [train, setTrain] = useState('70');
  const [validation, setValidation] = useState('15');
  const [test, setTest] = useState('15');
  const [seed, setSeed] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<AssignSplitsResponse | null>(null);
  const sum = Number(train) + Number(validation) + Number(test);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await call<AssignSplitsResponse>(INGEST, 'AssignSplits', {
        dataset,
        trainFraction: Number(train) / 100,
        validationFraction: Number(validation) / 100,
        testFraction: Number(test) / 100,
        seed: seed.trim() || '0',
      });
      setResult(response);
      onAssigned();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Training, validation and test splits">
      <p className="muted">
        Splits are made by patient, so all images of one patient land in the same split.
      </p>
      <ErrorBanner error={error} />
      <form className="row" onSubmit={submit} aria-label="Assign splits">
        <Field label="Training %">
          <input type="number" min={0} max={100} step={1} value={train} onChange={(event) => setTrain(event.target.value)} />
        </Field>
        <Field label="Validation %">
          <input type="number" min={0} max={100} step={1} value={validation} onChange={(event) => setValidation(event.target.value)} />
        </Field>
        <Field label="Test %">
          <input type="number" min={0} max={100} step={1} value={test} onChange={(event) => setTest(event.target.value)} />
        </Field>
        <Field label="Seed" help="The same seed gives the same split.">
          <input type="number" min={0} step={1} value={seed} onChange={(event) => setSeed(event.target.value)} />
        </Field>
        <Button type="submit" variant="primary" busy={busy} disabled={Math.abs(sum - 100) > 0.1}>
          Assign splits
        </Button>
      </form>
      {Math.abs(sum - 100) > 0.1 ? <p className="error-text">The shares add up to {sum} %; they must add up to 100 %.</p> : null}
      {result ? (
        <Notice>
          Assigned: {toCount(result.trainInstances)} training images ({toCount(result.trainPatients)} patients),{' '}
          {toCount(result.validationInstances)} validation ({toCount(result.validationPatients)}),{' '}
          {toCount(result.testInstances)} test ({toCount(result.testPatients)}).
        </Notice>
      ) : null}
    </Section>
  );
}

function Preparation({ dataset, onFinished }: { dataset: string; onFinished: () => void }) {
  const runs = useLoad(
    () => call<ListPreparationRunsResponse>(INGEST, 'ListPreparationRuns', { parent: dataset, pageSize: 20 }),
    [dataset],
  );
  const [png, setPng] = useState(true);
  const [array, setArray] = useState(true);
  const [arraySize, setArraySize] = useState('256');
  const [windowPreset, setWindowPreset] = useState('');
  const [arrayDtype, setArrayDtype] = useState('<u2');
  const [onlyMissing, setOnlyMissing] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [active, setActive] = useState<PreparationRun | null>(null);

  // Polls the active run once a second until it reaches a final state.
  useEffect(() => {
    if (!active || FINAL_RUN_STATES.includes(active.state ?? '')) return;
    const timer = window.setTimeout(async () => {
      try {
        const run = await call<PreparationRun>(INGEST, 'GetPreparationRun', { name: active.name });
        setActive(run);
        if (FINAL_RUN_STATES.includes(run.state ?? '')) {
          runs.reload();
          onFinished();
        }
      } catch (reason) {
        setError(reason);
      }
    }, 1000);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active]);

  // Follows a run that is still going when the page opens.
  useEffect(() => {
    const going = runs.data?.preparationRuns?.find((run) => !FINAL_RUN_STATES.includes(run.state ?? ''));
    if (going && !active) setActive(going);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runs.data]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const kinds = [png ? 'PNG' : '', array ? 'ARRAY' : ''].filter(Boolean);
      const run = await call<PreparationRun>(INGEST, 'CreatePreparationRun', {
        parent: dataset,
        preparationRun: { kinds, arraySize: Number(arraySize) || 0, windowPreset, arrayDtype, onlyMissing },
      });
      setActive(run);
      runs.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    if (!active) return;
    try {
      setActive(await call<PreparationRun>(INGEST, 'CancelPreparationRun', { name: active.name }));
      runs.reload();
    } catch (reason) {
      setError(reason);
    }
  };

  return (
    <Section title="Prepare images">
      <p className="muted">
        Preparation renders each image as an 8-bit PNG for display and as a square array for
        training. Annotation shows the array when it is 16-bit, so window and level act on the real
        values.
      </p>
      <ErrorBanner error={error || runs.error} />
      <form onSubmit={submit} aria-label="Start a preparation run">
        <div className="row">
          <fieldset>
            <legend>Produce</legend>
            <label className="checkbox">
              <input type="checkbox" checked={png} onChange={(event) => setPng(event.target.checked)} /> PNG rendering
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={array} onChange={(event) => setArray(event.target.checked)} /> Training array
            </label>
          </fieldset>
          <Field label="Array size (pixels)" help="Side of the square array, 8 to 4096.">
            <input type="number" min={8} max={4096} value={arraySize} onChange={(event) => setArraySize(event.target.value)} />
          </Field>
          <Select
            label="Array type"
            value={arrayDtype}
            onChange={setArrayDtype}
            options={[
              { value: '<u2', label: '16-bit integers (keeps full contrast)' },
              { value: '<f4', label: '32-bit floats, 0 to 1' },
            ]}
          />
          <Field label="Window" help={'Empty for the window of the file; "minmax", or center/width such as "40/400".'}>
            <input value={windowPreset} onChange={(event) => setWindowPreset(event.target.value)} />
          </Field>
          <label className="checkbox">
            <input type="checkbox" checked={onlyMissing} onChange={(event) => setOnlyMissing(event.target.checked)} />
            Only images not prepared yet
          </label>
          <Button type="submit" variant="primary" busy={busy} disabled={!png && !array}>
            Start preparation
          </Button>
        </div>
      </form>
      {active ? (
        <div className="run-status" aria-live="polite">
          <p>
            Run <code>{active.name.split('/').pop()}</code>: <StateBadge state={active.state} />
            {active.error ? <span className="error-text"> {active.error}</span> : null}
          </p>
          <ProgressBar value={toCount(active.doneCount)} max={toCount(active.totalCount)} label="Prepared" />
          {toCount(active.failedCount) > 0 ? (
            <details>
              <summary>{toCount(active.failedCount)} images failed</summary>
              <ul>
                {(active.failures ?? []).map((failure) => (
                  <li key={failure.instance}>
                    {failure.sourceFile || failure.instance}: {failure.message}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
          {!FINAL_RUN_STATES.includes(active.state ?? '') ? (
            <Button variant="danger" onClick={() => void cancel()}>
              Cancel preparation
            </Button>
          ) : null}
        </div>
      ) : null}
      <Table
        caption="Preparation runs"
        rows={runs.data?.preparationRuns ?? (runs.loading ? undefined : [])}
        rowKey={(row) => row.name}
        onSelect={(row) => setActive(row)}
        selectedKey={active?.name}
        empty="No preparation run yet."
        columns={[
          { header: 'Started', cell: (row) => formatTime(row.createTime) },
          { header: 'Produces', cell: (row) => (row.kinds ?? []).join(', ') },
          { header: 'State', cell: (row) => <StateBadge state={row.state} /> },
          { header: 'Done', numeric: true, cell: (row) => `${toCount(row.doneCount)} of ${toCount(row.totalCount)}` },
          { header: 'Failed', numeric: true, cell: (row) => toCount(row.failedCount) },
        ]}
      />
    </Section>
  );
}

function Instances({ dataset, generation }: { dataset: string; generation: number }) {
  const [split, setSplit] = useState('');
  const [pageToken, setPageToken] = useState('');
  const list = useLoad(
    () =>
      call<ListInstancesResponse>(INGEST, 'ListInstances', {
        parent: dataset,
        filter: split ? `split=${split}` : '',
        pageSize: 50,
        pageToken,
      }),
    [dataset, split, pageToken, generation],
  );
  return (
    <Section
      title={`Images (${toCount(list.data?.totalSize)})`}
      actions={
        <Select
          label="Split"
          value={split}
          onChange={(value) => {
            setSplit(value);
            setPageToken('');
          }}
          options={[...SPLITS, 'UNSPECIFIED'].map((value) => ({
            value,
            label: value === 'UNSPECIFIED' ? 'Not assigned' : enumLabel(value),
          }))}
          placeholder="All splits"
        />
      }
    >
      <ErrorBanner error={list.error} />
      <Table
        caption="Images of the dataset"
        rows={list.data?.instances ?? (list.loading ? undefined : [])}
        rowKey={(row) => row.name}
        empty="No image matches."
        columns={[
          { header: 'File', cell: (row) => row.sourceFile || row.name.split('/').pop() },
          { header: 'Patient', cell: (row) => row.patientPseudonym ?? '—' },
          { header: 'Study date', cell: (row) => row.studyDate ?? '—' },
          { header: 'Modality', cell: (row) => row.modality ?? '—' },
          { header: 'Side / view', cell: (row) => [row.laterality, row.view].filter(Boolean).join(' ') || '—' },
          { header: 'Split', cell: (row) => enumLabel(row.split) },
          {
            header: 'Prepared',
            cell: (row) =>
              row.preparationError ? (
                <span className="error-text">{row.preparationError}</span>
              ) : (
                [row.pngReady ? 'PNG' : '', row.arrayReady ? `array ${row.arrayDtype ?? ''}` : '']
                  .filter(Boolean)
                  .join(', ') || 'no'
              ),
          },
        ]}
      />
      <Pager pageToken={pageToken} nextPageToken={list.data?.nextPageToken} onPage={setPageToken} />
    </Section>
  );
}
