import { useEffect, useState } from 'react';
import {
  call,
  CATALOG,
  fileToBase64,
  INFERENCE,
  INGEST,
  TRAINING,
  type Instance,
  type ListDatasetsResponse,
  type ListInstancesResponse,
  type ListModelsResponse,
  type ListUseCasesResponse,
  type Prediction,
} from '../api';
import type { PageMeta } from '../App';
import { decodePng, loadInstanceImage, type GrayImage } from '../image';
import {
  Button,
  ErrorBanner,
  Field,
  formatNumber,
  formatTime,
  PageHeader,
  Section,
  Select,
  useLoad,
} from '../ui';
import { Viewer } from '../viewer';

export const meta: PageMeta = { path: '/run', title: 'Run a model', order: 50, roles: ['radiologist'] };

type Source = 'instance' | 'file';

// Reads the first bytes to tell a PNG from a DICOM file: PNG starts with its 8-byte
// signature, a DICOM Part 10 file has "DICM" after a 128-byte preamble.
async function detectKind(file: File): Promise<'png' | 'dicom'> {
  const head = new Uint8Array(await file.slice(0, 132).arrayBuffer());
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((value, index) => head[index] === value)) return 'png';
  return 'dicom';
}

export default function RunPage() {
  const [useCase, setUseCase] = useState('');
  const [model, setModel] = useState('');
  const [source, setSource] = useState<Source>('instance');
  const [dataset, setDataset] = useState('');
  const [instanceName, setInstanceName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<GrayImage | null>(null);
  const [previewNote, setPreviewNote] = useState('');
  const [prediction, setPrediction] = useState<Prediction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [fileInputKey, setFileInputKey] = useState(0);

  const useCases = useLoad(
    () => call<ListUseCasesResponse>(CATALOG, 'ListUseCases', { filter: 'state=PUBLISHED', pageSize: 500 }),
    [],
  );
  const models = useLoad(
    () => (useCase ? call<ListModelsResponse>(TRAINING, 'ListModels', { useCase, pageSize: 200 }) : undefined),
    [useCase],
  );
  const datasets = useLoad(() => call<ListDatasetsResponse>(INGEST, 'ListDatasets', { pageSize: 500 }), []);
  const instances = useLoad(
    () =>
      dataset
        ? call<ListInstancesResponse>(INGEST, 'ListInstances', {
            parent: dataset,
            pageSize: 200,
            filter: 'has_image=true',
          })
        : undefined,
    [dataset],
  );
  const selectedModel = models.data?.models?.find((item) => item.name === model);
  const instance: Instance | undefined = instances.data?.instances?.find((item) => item.name === instanceName);

  // Shows the chosen image: the prepared rendering of an instance, or an uploaded PNG.
  useEffect(() => {
    let cancelled = false;
    setPreview(null);
    setPreviewNote('');
    const load = async () => {
      if (source === 'instance' && instance) return loadInstanceImage(instance);
      if (source === 'file' && file) {
        if ((await detectKind(file)) === 'png') return decodePng(file, file.name);
        setPreviewNote('DICOM files are rendered by the platform, so this page shows no preview of them.');
      }
      return null;
    };
    load().then(
      (image) => {
        if (!cancelled) setPreview(image);
      },
      (reason: unknown) => {
        if (!cancelled) setPreviewNote(reason instanceof Error ? reason.message : String(reason));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [source, instance, file]);

  const reset = () => {
    setPrediction(null);
    setError(null);
    setInstanceName('');
    setFile(null);
    setFileInputKey((value) => value + 1);
  };

  const predict = async () => {
    setBusy(true);
    setError(null);
    setPrediction(null);
    try {
      let body: Record<string, unknown>;
      if (source === 'instance') {
        if (!instanceName) throw new Error('choose an image of a dataset first');
        body = { model, instance: instanceName };
      } else {
        if (!file) throw new Error('choose a DICOM or PNG file first');
        const kind = await detectKind(file);
        body = { model, fileName: file.name, [kind]: await fileToBase64(file) };
      }
      setPrediction(await call<Prediction>(INFERENCE, 'Predict', body));
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  const ready = Boolean(model && (source === 'instance' ? instanceName : file));

  return (
    <>
      <PageHeader
        title="Run a model"
        description="Try a trained model on one image: an image of a dataset or a file from your computer. The result shows the probability of each category and the report sentence."
      />
      <ErrorBanner error={useCases.error || models.error || datasets.error || instances.error} />
      <Section title="Model">
        <div className="row">
          <Select
            label="Use case"
            value={useCase}
            onChange={(value) => {
              setUseCase(value);
              setModel('');
              setPrediction(null);
            }}
            options={(useCases.data?.useCases ?? []).map((item) => ({ value: item.name, label: item.displayName || item.name }))}
            placeholder="Choose a use case"
          />
          <Select
            label="Model"
            value={model}
            onChange={(value) => {
              setModel(value);
              setPrediction(null);
            }}
            options={(models.data?.models ?? []).map((item) => ({ value: item.name, label: item.displayName || item.name }))}
            placeholder={useCase && models.data && !models.data.models?.length ? 'No model for this use case yet' : 'Choose a model'}
            disabled={!useCase}
          />
        </div>
        {selectedModel ? (
          <dl className="definition-list" aria-label="Model details">
            <dt>Identifier</dt>
            <dd>
              <code>{selectedModel.name}</code>
            </dd>
            <dt>Architecture</dt>
            <dd>
              {selectedModel.architecture ?? '—'}, {selectedModel.imageSize ?? '—'} pixels
            </dd>
            <dt>Categories</dt>
            <dd>{(selectedModel.classes ?? []).join(', ')}</dd>
            <dt>Trained on</dt>
            <dd>{selectedModel.dataset ?? '—'}</dd>
            <dt>Test kappa / AUC / accuracy</dt>
            <dd>
              {formatNumber(selectedModel.testMetrics?.kappa)} / {formatNumber(selectedModel.testMetrics?.auc)} /{' '}
              {formatNumber(selectedModel.testMetrics?.accuracy)} on {selectedModel.testMetrics?.n ?? 0} test images
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(selectedModel.createTime)}</dd>
          </dl>
        ) : null}
      </Section>
      <Section title="Image">
        <fieldset>
          <legend>Image source</legend>
          <label className="checkbox">
            <input type="radio" name="source" checked={source === 'instance'} onChange={() => setSource('instance')} />
            An image of a dataset
          </label>
          <label className="checkbox">
            <input type="radio" name="source" checked={source === 'file'} onChange={() => setSource('file')} />
            A DICOM or PNG file
          </label>
        </fieldset>
        {source === 'instance' ? (
          <div className="row">
            <Select
              label="Dataset"
              value={dataset}
              onChange={(value) => {
                setDataset(value);
                setInstanceName('');
              }}
              options={(datasets.data?.datasets ?? []).map((item) => ({ value: item.name, label: item.displayName || item.name }))}
              placeholder="Choose a dataset"
            />
            <Select
              label="Image"
              value={instanceName}
              onChange={setInstanceName}
              options={(instances.data?.instances ?? []).map((item) => ({
                value: item.name,
                label: [item.sourceFile || item.name.split('/').pop(), item.laterality, item.view].filter(Boolean).join(' · '),
              }))}
              placeholder="Choose an image"
              disabled={!dataset}
            />
          </div>
        ) : (
          <Field label="File" help="A DICOM file (.dcm) or a PNG image.">
            <input
              key={fileInputKey}
              type="file"
              accept=".dcm,.png,application/dicom,image/png"
              onChange={(event) => setFile(event.target.files?.[0] ?? null)}
            />
          </Field>
        )}
        {preview ? (
          <div className="viewer run-viewer">
            <Viewer image={preview} label="Chosen image" />
          </div>
        ) : null}
        {previewNote ? <p className="muted">{previewNote}</p> : null}
        <div className="row">
          <Button variant="primary" busy={busy} disabled={!ready} onClick={() => void predict()}>
            Run the model
          </Button>
          <Button onClick={reset}>Reset</Button>
        </div>
      </Section>
      <ErrorBanner error={error} />
      {prediction ? <Result prediction={prediction} /> : null}
    </>
  );
}

function Result({ prediction }: { prediction: Prediction }) {
  const probabilities = prediction.probabilities ?? [];
  const winner = probabilities.find((item) => item.category === prediction.category);
  return (
    <Section title="Result">
      <p className="result-category" aria-label="Predicted category">
        Category <strong>{winner?.label ? `${prediction.category}: ${winner.label}` : prediction.category}</strong>
      </p>
      <table className="table" aria-label="Probability per category">
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col" className="numeric">
              Probability
            </th>
            <th scope="col">
              <span className="visually-hidden">Bar</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {probabilities.map((item) => (
            <tr key={item.category} className={item.category === prediction.category ? 'selected' : undefined}>
              <td>
                {item.category}
                {item.label ? ` · ${item.label}` : ''}
              </td>
              <td className="numeric">{((item.probability ?? 0) * 100).toFixed(1)} %</td>
              <td style={{ width: '40%' }}>
                <div className="probability-bar" style={{ width: `${(item.probability ?? 0) * 100}%` }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Report text</h3>
      <p className="report-text" aria-label="Report text">
        {prediction.reportText || 'The use case has no report sentence for this category.'}
      </p>
      <p className="muted">
        {prediction.name ? (
          <>
            Recorded as <code>{prediction.name}</code>
          </>
        ) : (
          'Not recorded'
        )}
        {prediction.inferenceMillis ? ` · inference took ${prediction.inferenceMillis.toFixed(0)} ms` : ''}
      </p>
    </Section>
  );
}
