// Publish: destinations (folders watched by a marketplace importer, or HTTP endpoints
// of a model registry), publishing a model's package, and the publishing history.
import { useState, type FormEvent } from 'react';
import { call, hasRole, PUBLISHING, resourceId } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import { Button, ErrorBanner, Field, formatTime, Notice, PageHeader, Pager, Section, Select, StateBadge, useLoad } from '../ui';
import './model/model.css';
import { displayName } from './model/format';
import { listAll, ModelSelect, useModels, usePolling } from './model/resources';
import type { Destination, ListPublicationsResponse, Publication } from './model/types';

export const meta: PageMeta = {
  path: '/publish',
  title: 'Publish',
  order: 80,
  roles: ['administrator', 'reviewer'],
};

/** Largest Assist module PublishModel accepts, in bytes. */
const MAX_ASSIST_MODULE_BYTES = 1024 * 1024;
/** Milliseconds between refreshes of the history while a publication is in progress. */
const PUBLICATION_POLL_MS = 2000;

function destinationTarget(destination: Destination): string {
  if (destination.folder) return `Folder ${destination.folder.path ?? ''}`;
  if (destination.http) {
    return `HTTP ${destination.http.url ?? ''}${destination.http.tokenSet ? ' (with token)' : ''}`;
  }
  return '—';
}

export default function PublishPage() {
  const { user } = useSession();
  const isAdministrator = hasRole(user, 'administrator');
  const [refreshKey, setRefreshKey] = useState(0);
  const destinations = useLoad(
    () => listAll<Destination>(PUBLISHING, 'ListDestinations', {}, 'destinations'),
    [refreshKey],
  );

  return (
    <>
      <PageHeader
        title="Publish"
        description="Send a trained model, its model card and an optional Assist module to a marketplace or registry."
      />
      <Section title="Destinations" actions={<Button onClick={destinations.reload}>Refresh</Button>}>
        <ErrorBanner error={destinations.error} />
        <div className="table-wrap">
          <table className="table" data-testid="destinations">
            <caption className="visually-hidden">Publishing destinations, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Destination</th>
                <th scope="col">Target</th>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {(destinations.data ?? []).length === 0 ? (
                <tr>
                  <td colSpan={4} className="table-empty">
                    {destinations.data ? 'No destinations yet.' : 'Loading…'}
                  </td>
                </tr>
              ) : (
                (destinations.data ?? []).map((destination) => (
                  <tr key={destination.name}>
                    <td>
                      {displayName(destination)}
                      <div className="muted">{resourceId(destination.name ?? '')}</div>
                    </td>
                    <td className="pre-text">{destinationTarget(destination)}</td>
                    <td>{destination.creator || 'platform'}</td>
                    <td>{formatTime(destination.createTime)}</td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
        {isAdministrator ? (
          <CreateDestinationForm onCreated={() => setRefreshKey((value) => value + 1)} />
        ) : (
          <p className="muted">Only administrators can add destinations.</p>
        )}
      </Section>
      <PublishForm destinations={destinations.data} onPublished={() => setRefreshKey((value) => value + 1)} />
      <PublicationHistory destinations={destinations.data} refreshKey={refreshKey} />
    </>
  );
}

function CreateDestinationForm({ onCreated }: { onCreated: () => void }) {
  const [kind, setKind] = useState('folder');
  const [title, setTitle] = useState('');
  const [id, setId] = useState('');
  const [path, setPath] = useState('');
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState('');

  const problems: string[] = [];
  if (!title.trim()) problems.push('enter a name');
  if (id && !/^[a-z][a-z0-9-]{0,62}$/.test(id)) {
    problems.push('use 1 to 63 lower-case letters, digits and "-" for the id, starting with a letter');
  }
  if (kind === 'folder' && !path.startsWith('/')) problems.push('enter an absolute folder path (starting with "/")');
  if (kind === 'http' && !/^http:\/\/[^\s/]+/.test(url)) {
    problems.push('enter a URL of the form http://host[:port]/path (https is not supported yet)');
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    setCreated('');
    try {
      const destination = await call<Destination>(PUBLISHING, 'CreateDestination', {
        destination: {
          displayName: title.trim(),
          ...(kind === 'folder' ? { folder: { path } } : { http: { url, token: token || undefined } }),
        },
        destinationId: id,
      });
      setCreated(displayName(destination));
      setTitle('');
      setId('');
      setToken('');
      onCreated();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label="New destination">
      <h3>New destination</h3>
      <div className="option-grid">
        <Field label="Name">
          <input value={title} maxLength={200} onChange={(event) => setTitle(event.target.value)} />
        </Field>
        <Field label="Id (optional)" help="Generated when empty.">
          <input value={id} onChange={(event) => setId(event.target.value)} autoComplete="off" />
        </Field>
        <Select
          label="Kind"
          options={[
            { value: 'folder', label: 'Folder on the server' },
            { value: 'http', label: 'HTTP endpoint' },
          ]}
          value={kind}
          onChange={setKind}
        />
        {kind === 'folder' ? (
          <Field label="Folder path" help="Absolute path the evaluation service can write; created when missing.">
            <input value={path} onChange={(event) => setPath(event.target.value)} autoComplete="off" />
          </Field>
        ) : (
          <>
            <Field label="URL" help="Receives one multipart POST per package.">
              <input value={url} onChange={(event) => setUrl(event.target.value)} autoComplete="off" />
            </Field>
            <Field label="Bearer token (optional)" help="Stored by the service and never shown again.">
              <input type="password" value={token} onChange={(event) => setToken(event.target.value)} autoComplete="new-password" />
            </Field>
          </>
        )}
      </div>
      {problems.length > 0 ? <p className="muted">To add it, {problems.join('; ')}.</p> : null}
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {created ? <Notice>Destination {created} added.</Notice> : null}
      <Button type="submit" variant="primary" busy={busy} disabled={problems.length > 0}>
        Add destination
      </Button>
    </form>
  );
}

function PublishForm({
  destinations,
  onPublished,
}: {
  destinations: Destination[] | undefined;
  onPublished: () => void;
}) {
  const models = useModels('');
  const [model, setModel] = useState('');
  const [destination, setDestination] = useState('');
  const [assistModule, setAssistModule] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [publication, setPublication] = useState<Publication>();
  const assistBytes = new TextEncoder().encode(assistModule).length;
  const tooLarge = assistBytes > MAX_ASSIST_MODULE_BYTES;

  async function readModuleFile(file: File | undefined) {
    if (!file) return;
    setAssistModule(await file.text());
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!model || !destination || tooLarge) return;
    setBusy(true);
    setError(null);
    setPublication(undefined);
    try {
      setPublication(
        await call<Publication>(PUBLISHING, 'PublishModel', {
          model,
          destination,
          assistModule: assistModule || undefined,
        }),
      );
      onPublished();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="Publish a model">
      <form onSubmit={submit} aria-label="Publish a model">
        <div className="option-grid">
          <ModelSelect models={models.data} value={model} onChange={setModel} />
          <Select
            label="Destination"
            options={(destinations ?? []).map((item) => ({ value: item.name ?? '', label: displayName(item) }))}
            value={destination}
            onChange={setDestination}
            placeholder="Choose a destination"
          />
          <Field label="Assist module file (optional)" help="XML that maps the model's categories to report text.">
            <input
              type="file"
              accept=".xml,application/xml,text/xml"
              onChange={(event) => void readModuleFile(event.target.files?.[0])}
            />
          </Field>
        </div>
        <Field label="Assist module XML" help={`Included as assist_module.xml; at most 1 MiB (now ${assistBytes} bytes).`}>
          <textarea value={assistModule} onChange={(event) => setAssistModule(event.target.value)} spellCheck={false} />
        </Field>
        {tooLarge ? (
          <p className="check-result check-blocked">The Assist module is larger than 1 MiB; shorten it.</p>
        ) : null}
        <ErrorBanner error={models.error} />
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {publication ? (
          <Notice>
            Publication {resourceId(publication.name ?? '')} is <StateBadge state={publication.state} />
            {publication.requestCount && publication.requestCount > 1
              ? ' (this package was published there before, so the existing publication is shown)'
              : ''}
            .
          </Notice>
        ) : null}
        <Button type="submit" variant="primary" busy={busy} disabled={!model || !destination || tooLarge} data-testid="publish-submit">
          Publish
        </Button>
      </form>
    </Section>
  );
}

function PublicationHistory({
  destinations,
  refreshKey,
}: {
  destinations: Destination[] | undefined;
  refreshKey: number;
}) {
  const models = useModels('');
  const [model, setModel] = useState('');
  const [destination, setDestination] = useState('');
  const [pageToken, setPageToken] = useState('');
  const [expanded, setExpanded] = useState('');
  const publications = useLoad(
    () => call<ListPublicationsResponse>(PUBLISHING, 'ListPublications', { model, destination, pageSize: 25, pageToken }),
    [model, destination, pageToken, refreshKey],
  );
  const rows = publications.data?.publications ?? [];
  usePolling(publications.reload, PUBLICATION_POLL_MS, rows.some((row) => row.state === 'PUBLISHING'));
  const destinationName = (name: string | undefined) => {
    const match = destinations?.find((item) => item.name === name);
    return match ? displayName(match) : resourceId(name ?? '');
  };

  return (
    <Section
      title="Publications"
      actions={
        <>
          <ModelSelect
            models={models.data}
            value={model}
            onChange={(value) => {
              setModel(value);
              setPageToken('');
            }}
            placeholder="All models"
          />
          <Select
            label="Destination"
            options={(destinations ?? []).map((item) => ({ value: item.name ?? '', label: displayName(item) }))}
            value={destination}
            onChange={(value) => {
              setDestination(value);
              setPageToken('');
            }}
            placeholder="All destinations"
          />
          <Button onClick={publications.reload}>Refresh</Button>
        </>
      }
    >
      <ErrorBanner error={publications.error} />
      <div className="table-wrap">
        <table className="table" data-testid="publications">
          <caption className="visually-hidden">Publications, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Destination</th>
              <th scope="col">State</th>
              <th scope="col" className="numeric">Attempts</th>
              <th scope="col">Package</th>
              <th scope="col">Published by</th>
              <th scope="col">Last change</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={8} className="table-empty">
                  {publications.data ? 'Nothing published yet.' : 'Loading…'}
                </td>
              </tr>
            ) : (
              rows.flatMap((publication) => {
                const open = expanded === publication.name;
                const row = (
                  <tr key={publication.name}>
                    <td>{resourceId(publication.model ?? '')}</td>
                    <td>{destinationName(publication.destination)}</td>
                    <td>
                      <StateBadge state={publication.state} />
                      {publication.error?.message ? <div className="pre-text muted">{publication.error.message}</div> : null}
                    </td>
                    <td className="numeric">{publication.attemptCount ?? 0}</td>
                    <td>
                      <code>{(publication.manifest?.packageSha256 ?? '').slice(0, 16) || '—'}</code>
                    </td>
                    <td>{publication.publisher || '—'}</td>
                    <td>{formatTime(publication.updateTime)}</td>
                    <td>
                      <Button
                        variant="link"
                        aria-expanded={open}
                        onClick={() => setExpanded(open ? '' : publication.name ?? '')}
                      >
                        {open ? 'Hide' : 'Show'}
                      </Button>
                    </td>
                  </tr>
                );
                if (!open) return [row];
                return [
                  row,
                  <tr key={`${publication.name}-details`}>
                    <td colSpan={8}>
                      <PublicationDetails publication={publication} />
                    </td>
                  </tr>,
                ];
              })
            )}
          </tbody>
        </table>
      </div>
      <Pager nextPageToken={publications.data?.nextPageToken} pageToken={pageToken} onPage={setPageToken} />
    </Section>
  );
}

function PublicationDetails({ publication }: { publication: Publication }) {
  return (
    <div>
      <p>
        Location: <code className="pre-text">{publication.location || '—'}</code>
      </p>
      <h3>Files</h3>
      <ul>
        {(publication.manifest?.files ?? []).map((file) => (
          <li key={file.path}>
            <code>{file.path}</code>, {file.sizeBytes ?? 0} bytes, SHA-256 <code>{file.sha256}</code>
          </li>
        ))}
      </ul>
      <h3>Attempts</h3>
      <ol>
        {(publication.attempts ?? []).map((attempt) => (
          <li key={attempt.number}>
            {formatTime(attempt.startTime)}
            {attempt.httpStatus ? `, HTTP ${attempt.httpStatus}` : ''}
            {attempt.error?.message ? (
              <span className="pre-text">: {attempt.error.message}</span>
            ) : attempt.endTime ? (
              ', delivered'
            ) : (
              ', in progress'
            )}
          </li>
        ))}
      </ol>
    </div>
  );
}
