import { useState, type FormEvent } from 'react';
import {
  call,
  CATALOG,
  hasRole,
  BODY_AREAS,
  MODALITIES,
  TASK_KINDS,
  USE_CASE_STATES,
  VALUE_KINDS,
  type AllowedValue,
  type Comment,
  type DataElement,
  type DraftRequest,
  type ListCommentsResponse,
  type ListDraftRequestsResponse,
  type ListUseCaseHistoryResponse,
  type ListUseCasesResponse,
  type UseCase,
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
  Section,
  Select,
  StateBadge,
  Table,
  useLoad,
} from '../ui';

export const meta: PageMeta = { path: '/define', title: 'Define use cases', order: 10 };

type Tab = 'browse' | 'propose' | 'review' | 'requests';

const ORDER_OPTIONS = [
  { value: '', label: 'Relevance, or name without a search' },
  { value: 'display_name', label: 'Name A–Z' },
  { value: 'display_name desc', label: 'Name Z–A' },
  { value: 'update_time desc', label: 'Recently changed' },
  { value: 'create_time desc', label: 'Newest' },
  { value: 'create_time', label: 'Oldest' },
];

const enumOptions = (values: string[]) => values.map((value) => ({ value, label: enumLabel(value) }));

export default function DefinePage() {
  const { user } = useSession();
  const [tab, setTab] = useState<Tab>('browse');
  const [editing, setEditing] = useState<UseCase | null>(null);
  const isReviewer = hasRole(user, 'reviewer');
  const tabs: Array<{ id: Tab; label: string }> = [
    { id: 'browse', label: 'Browse' },
    { id: 'propose', label: 'Propose a use case' },
    { id: 'requests', label: 'Draft requests' },
  ];
  if (isReviewer) tabs.push({ id: 'review', label: 'Review queue' });

  return (
    <>
      <PageHeader
        title="Define use cases"
        description="A use case is a clinical question a model answers from images, with the outputs (common data elements) the model produces. Browse the catalog, discuss published use cases, propose new ones and review submissions."
      />
      <div className="tabs" role="tablist" aria-label="Use case views">
        {tabs.map((item) => (
          <button
            key={item.id}
            type="button"
            role="tab"
            aria-selected={tab === item.id}
            className={`tab${tab === item.id ? ' active' : ''}`}
            onClick={() => {
              setTab(item.id);
              if (item.id !== 'propose') setEditing(null);
            }}
          >
            {item.label}
          </button>
        ))}
      </div>
      {tab === 'browse' ? (
        <Browse
          onEdit={(useCase) => {
            setEditing(useCase);
            setTab('propose');
          }}
        />
      ) : null}
      {tab === 'propose' ? <UseCaseForm key={editing?.name ?? 'new'} existing={editing} /> : null}
      {tab === 'requests' ? <DraftRequests /> : null}
      {tab === 'review' && isReviewer ? <ReviewQueue /> : null}
    </>
  );
}

function buildFilter(state: string, modality: string, bodyArea: string, taskKind: string): string {
  const terms: string[] = [];
  if (state) terms.push(`state=${state}`);
  if (modality) terms.push(`modality=${modality}`);
  if (bodyArea) terms.push(`body_area=${bodyArea}`);
  if (taskKind) terms.push(`task_kind=${taskKind}`);
  return terms.join(' AND ');
}

function Browse({ onEdit }: { onEdit: (useCase: UseCase) => void }) {
  const [query, setQuery] = useState('');
  const [appliedQuery, setAppliedQuery] = useState('');
  const [state, setState] = useState('');
  const [modality, setModality] = useState('');
  const [bodyArea, setBodyArea] = useState('');
  const [taskKind, setTaskKind] = useState('');
  const [orderBy, setOrderBy] = useState('');
  const [pageToken, setPageToken] = useState('');
  const [selected, setSelected] = useState('');
  const filter = buildFilter(state, modality, bodyArea, taskKind);
  const list = useLoad(
    () =>
      call<ListUseCasesResponse>(CATALOG, 'ListUseCases', {
        filter,
        query: appliedQuery,
        orderBy,
        pageSize: 25,
        pageToken,
      }),
    [filter, appliedQuery, orderBy, pageToken],
  );
  const resetPage = <T,>(setter: (value: T) => void) => (value: T) => {
    setter(value);
    setPageToken('');
  };
  const search = (event: FormEvent) => {
    event.preventDefault();
    setAppliedQuery(query.trim());
    setPageToken('');
  };

  return (
    <>
      <Section title="Find use cases">
        <form className="row" onSubmit={search} role="search" aria-label="Search use cases">
          <Field label="Search" help="Words match names, descriptions and data elements by prefix.">
            <input type="search" value={query} onChange={(event) => setQuery(event.target.value)} maxLength={200} />
          </Field>
          <Button type="submit" variant="primary">
            Search
          </Button>
          <Select label="State" value={state} onChange={resetPage(setState)} options={enumOptions(USE_CASE_STATES)} placeholder="Any state" />
          <Select label="Modality" value={modality} onChange={resetPage(setModality)} options={MODALITIES} placeholder="Any modality" />
          <Select label="Body area" value={bodyArea} onChange={resetPage(setBodyArea)} options={enumOptions(BODY_AREAS)} placeholder="Any body area" />
          <Select label="Task" value={taskKind} onChange={resetPage(setTaskKind)} options={enumOptions(TASK_KINDS)} placeholder="Any task" />
          <Select label="Sort by" value={orderBy} onChange={resetPage(setOrderBy)} options={ORDER_OPTIONS} />
        </form>
      </Section>
      <ErrorBanner error={list.error} />
      <Section title={`Use cases (${list.data?.totalSize ?? 0})`}>
        <Table
          caption="Use cases"
          rows={list.loading && !list.data ? undefined : (list.data?.useCases ?? [])}
          rowKey={(row) => row.name}
          selectedKey={selected}
          onSelect={(row) => setSelected(row.name)}
          empty="No use case matches. Change the search or the filters."
          columns={[
            { header: 'Name', cell: (row) => row.displayName || row.name },
            { header: 'Modality', cell: (row) => row.modality ?? '—' },
            { header: 'Body area', cell: (row) => enumLabel(row.bodyArea) },
            { header: 'Task', cell: (row) => enumLabel(row.taskKind) },
            { header: 'State', cell: (row) => <StateBadge state={row.state} /> },
            { header: 'Changed', cell: (row) => formatTime(row.updateTime) },
          ]}
        />
        <Pager pageToken={pageToken} nextPageToken={list.data?.nextPageToken} onPage={setPageToken} />
      </Section>
      {selected ? (
        <UseCaseDetails
          name={selected}
          onEdit={onEdit}
          onChanged={list.reload}
        />
      ) : null}
    </>
  );
}

function UseCaseDetails({
  name,
  onEdit,
  onChanged,
}: {
  name: string;
  onEdit: (useCase: UseCase) => void;
  onChanged: () => void;
}) {
  const { userId } = useSession();
  const useCase = useLoad(() => call<UseCase>(CATALOG, 'GetUseCase', { name }), [name]);
  const history = useLoad(
    () => call<ListUseCaseHistoryResponse>(CATALOG, 'ListUseCaseHistory', { name, pageSize: 100 }),
    [name],
  );
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');
  const item = useCase.data;

  if (useCase.error) return <ErrorBanner error={useCase.error} />;
  if (!item) return null;
  const own = item.submitter === userId;
  const editable = own && (item.state === 'DRAFT' || item.state === 'RETURNED');

  const resubmit = async () => {
    setBusy(true);
    setError(null);
    try {
      await call<UseCase>(CATALOG, 'ResubmitUseCase', { name, notes });
      setNotice('Submitted for review.');
      setNotes('');
      useCase.reload();
      history.reload();
      onChanged();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      title={item.displayName || item.name}
      actions={
        editable ? (
          <Button onClick={() => onEdit(item)}>Edit</Button>
        ) : null
      }
    >
      <ErrorBanner error={error} />
      <Notice>{notice}</Notice>
      <dl className="definition-list">
        <dt>Identifier</dt>
        <dd>
          <code>{item.name}</code>
        </dd>
        <dt>State</dt>
        <dd>
          <StateBadge state={item.state} />
        </dd>
        <dt>Modality</dt>
        <dd>{item.modality ?? '—'}</dd>
        <dt>Body area</dt>
        <dd>{enumLabel(item.bodyArea)}</dd>
        <dt>Task</dt>
        <dd>{enumLabel(item.taskKind)}</dd>
        <dt>Submitter</dt>
        <dd>{item.submitter || '—'}</dd>
        {item.reviewerNotes ? (
          <>
            <dt>Reviewer notes</dt>
            <dd className="pre-text">{item.reviewerNotes}</dd>
          </>
        ) : null}
      </dl>
      <h3>Description</h3>
      <p className="pre-text">{item.description || 'No description.'}</p>
      <h3>Data elements</h3>
      {(item.dataElements ?? []).map((element, index) => (
        <DataElementView key={element.id || index} element={element} primary={index === 0} />
      ))}
      {(item.dataElements ?? []).length === 0 ? <p className="muted">None defined.</p> : null}
      {editable ? (
        <div className="row">
          <Field label="Notes for the reviewer" help="What changed since the last review.">
            <textarea value={notes} onChange={(event) => setNotes(event.target.value)} maxLength={10000} />
          </Field>
          <Button variant="primary" busy={busy} onClick={() => void resubmit()}>
            Submit for review
          </Button>
        </div>
      ) : null}
      <h3>History</h3>
      <ErrorBanner error={history.error} />
      <Table
        caption="State changes"
        rows={history.data?.stateChanges ?? []}
        rowKey={(row) => `${row.changeTime}-${row.toState}`}
        columns={[
          { header: 'When', cell: (row) => formatTime(row.changeTime) },
          { header: 'From', cell: (row) => enumLabel(row.fromState) },
          { header: 'To', cell: (row) => enumLabel(row.toState) },
          { header: 'By', cell: (row) => row.actor ?? '—' },
          { header: 'Notes', cell: (row) => <span className="pre-text">{row.notes ?? ''}</span> },
        ]}
      />
      {item.state === 'PUBLISHED' ? <Comments parent={item.name} /> : null}
    </Section>
  );
}

function DataElementView({ element, primary }: { element: DataElement; primary: boolean }) {
  return (
    <div className="data-element">
      <h4>
        {element.name || element.id} <code>{element.id}</code>
        {primary ? <span className="badge">primary output</span> : null}
      </h4>
      {element.description ? <p className="pre-text">{element.description}</p> : null}
      <p className="muted">
        {enumLabel(element.valueKind || 'CATEGORICAL')}
        {element.unit ? ` in ${element.unit}` : ''}
      </p>
      {(element.allowedValues ?? []).length > 0 ? (
        <Table
          caption={`Allowed values of ${element.id}`}
          rows={element.allowedValues ?? []}
          rowKey={(row) => row.value}
          columns={[
            { header: 'Code', cell: (row) => <code>{row.value}</code> },
            { header: 'Label', cell: (row) => row.label ?? '' },
            { header: 'Report text', cell: (row) => <span className="pre-text">{row.reportText ?? ''}</span> },
          ]}
        />
      ) : null}
    </div>
  );
}

function Comments({ parent }: { parent: string }) {
  const comments = useLoad(
    () => call<ListCommentsResponse>(CATALOG, 'ListComments', { parent, pageSize: 200 }),
    [parent],
  );
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call<Comment>(CATALOG, 'CreateComment', { parent, comment: { text } });
      setText('');
      comments.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h3>Comments</h3>
      <ErrorBanner error={comments.error || error} />
      <ul className="comments">
        {(comments.data?.comments ?? []).map((comment) => (
          <li key={comment.name}>
            <div className="muted">
              {comment.author} · {formatTime(comment.createTime)}
            </div>
            {/* Rendered as text: React escapes it, so markup in a comment stays visible text. */}
            <div className="pre-text">{comment.text}</div>
          </li>
        ))}
      </ul>
      {(comments.data?.comments ?? []).length === 0 ? <p className="muted">No comments yet.</p> : null}
      <form onSubmit={submit} aria-label="Add a comment">
        <Field label="Your comment">
          <textarea value={text} onChange={(event) => setText(event.target.value)} maxLength={10000} required />
        </Field>
        <Button type="submit" variant="primary" busy={busy} disabled={!text.trim()}>
          Post comment
        </Button>
      </form>
    </>
  );
}

function emptyElement(): DataElement {
  return {
    id: '',
    name: '',
    description: '',
    valueKind: 'CATEGORICAL',
    allowedValues: [
      { value: '', label: '', reportText: '' },
      { value: '', label: '', reportText: '' },
    ],
  };
}

function UseCaseForm({ existing }: { existing: UseCase | null }) {
  // The stored use case once it exists, so that saving a draft twice updates it.
  const [saved, setSaved] = useState<UseCase | null>(existing);
  const [useCaseId, setUseCaseId] = useState('');
  const [displayName, setDisplayName] = useState(existing?.displayName ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [bodyArea, setBodyArea] = useState(existing?.bodyArea ?? '');
  const [modality, setModality] = useState(existing?.modality ?? '');
  const [taskKind, setTaskKind] = useState(existing?.taskKind ?? 'MULTICLASS_CLASSIFICATION');
  const [elements, setElements] = useState<DataElement[]>(
    existing?.dataElements?.length ? existing.dataElements : [emptyElement()],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const updateElement = (index: number, change: Partial<DataElement>) =>
    setElements((list) => list.map((element, at) => (at === index ? { ...element, ...change } : element)));
  const updateValue = (index: number, valueIndex: number, change: Partial<AllowedValue>) =>
    setElements((list) =>
      list.map((element, at) =>
        at === index
          ? {
              ...element,
              allowedValues: (element.allowedValues ?? []).map((value, position) =>
                position === valueIndex ? { ...value, ...change } : value,
              ),
            }
          : element,
      ),
    );

  // Only a DRAFT or RETURNED use case can be changed.
  const locked = saved !== null && saved.state !== 'DRAFT' && saved.state !== 'RETURNED';

  const body = (): UseCase => ({
    name: saved?.name ?? '',
    displayName,
    description,
    bodyArea: bodyArea || undefined,
    modality: modality || undefined,
    taskKind: taskKind || undefined,
    // Blank rows of the form are left out, so a draft can be saved with a name alone.
    dataElements: elements
      .map((element) => ({
        ...element,
        allowedValues: (element.allowedValues ?? []).filter((value) => value.value || value.label),
      }))
      .filter((element) => element.id || element.name || element.allowedValues.length > 0),
    etag: saved?.etag,
  });

  const save = async (asDraft: boolean) => {
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      if (saved) {
        let updated = await call<UseCase>(CATALOG, 'UpdateUseCase', { useCase: body() });
        if (!asDraft) {
          updated = await call<UseCase>(CATALOG, 'ResubmitUseCase', { name: updated.name, notes: '' });
        }
        setSaved(updated);
        setNotice(asDraft ? `Saved ${updated.name}.` : `Submitted ${updated.name} for review.`);
      } else {
        const created = await call<UseCase>(CATALOG, 'CreateUseCase', {
          useCase: body(),
          useCaseId,
          saveAsDraft: asDraft,
        });
        setSaved(created);
        setNotice(
          asDraft
            ? `Saved ${created.name} as a draft. Submit it here or from Browse when it is ready.`
            : `Submitted ${created.name} for review.`,
        );
      }
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title={saved ? `Edit ${saved.displayName || saved.name}` : 'Propose a use case'}>
      <ErrorBanner error={error} />
      <Notice>{notice}</Notice>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(false);
        }}
        aria-label="Use case"
      >
        <div className="columns">
          <div>
            <Field label="Name" help="Title shown to users, at most 200 characters.">
              <input value={displayName} onChange={(event) => setDisplayName(event.target.value)} maxLength={200} required />
            </Field>
            {!saved ? (
              <Field
                label="Identifier"
                help="Optional. 3 to 63 lowercase letters, digits and hyphens; made from the name when empty."
              >
                <input
                  value={useCaseId}
                  onChange={(event) => setUseCaseId(event.target.value)}
                  pattern="[a-z][a-z0-9-]{1,61}[a-z0-9]"
                  maxLength={63}
                />
              </Field>
            ) : null}
            <Field label="Description" help="Purpose of the use case and its clinical value.">
              <textarea value={description} onChange={(event) => setDescription(event.target.value)} maxLength={10000} />
            </Field>
          </div>
          <div>
            <Select label="Body area" value={bodyArea} onChange={setBodyArea} options={enumOptions(BODY_AREAS)} placeholder="Choose" />
            <Select label="Modality" value={modality} onChange={setModality} options={MODALITIES} placeholder="Choose" />
            <Select
              label="Task"
              value={taskKind}
              onChange={setTaskKind}
              options={enumOptions(TASK_KINDS)}
              help="Classification needs a categorical first data element (exactly 2 values for binary)."
            />
          </div>
        </div>
        <h3>Data elements</h3>
        <p className="muted">The first element is the output that models are trained on.</p>
        {elements.map((element, index) => (
          <fieldset key={index}>
            <legend>Data element {index + 1}</legend>
            <div className="row">
              <Field label="Element identifier" help="Lowercase letters, digits and underscores, for example breast_density.">
                <input value={element.id} onChange={(event) => updateElement(index, { id: event.target.value })} />
              </Field>
              <Field label="Element name">
                <input value={element.name ?? ''} onChange={(event) => updateElement(index, { name: event.target.value })} />
              </Field>
              <Select
                label="Kind of value"
                value={element.valueKind ?? 'CATEGORICAL'}
                onChange={(value) => updateElement(index, { valueKind: value })}
                options={enumOptions(VALUE_KINDS)}
              />
              {element.valueKind === 'NUMERIC' ? (
                <Field label="Unit" help="UCUM code, for example mm.">
                  <input value={element.unit ?? ''} onChange={(event) => updateElement(index, { unit: event.target.value })} />
                </Field>
              ) : null}
            </div>
            <Field label="Element description">
              <textarea
                value={element.description ?? ''}
                onChange={(event) => updateElement(index, { description: event.target.value })}
              />
            </Field>
            {element.valueKind !== 'NUMERIC' ? (
              <>
                {(element.allowedValues ?? []).map((value, valueIndex) => (
                  <div className="row" key={valueIndex}>
                    <Field label={`Code ${valueIndex + 1}`}>
                      <input
                        value={value.value}
                        onChange={(event) => updateValue(index, valueIndex, { value: event.target.value })}
                        maxLength={64}
                      />
                    </Field>
                    <Field label={`Label ${valueIndex + 1}`}>
                      <input
                        value={value.label ?? ''}
                        onChange={(event) => updateValue(index, valueIndex, { label: event.target.value })}
                      />
                    </Field>
                    <Field label={`Report text ${valueIndex + 1}`} help="Sentence for the report when a model outputs this value.">
                      <input
                        value={value.reportText ?? ''}
                        onChange={(event) => updateValue(index, valueIndex, { reportText: event.target.value })}
                      />
                    </Field>
                    <Button
                      aria-label={`Remove value ${valueIndex + 1} of data element ${index + 1}`}
                      onClick={() =>
                        updateElement(index, {
                          allowedValues: (element.allowedValues ?? []).filter((_, at) => at !== valueIndex),
                        })
                      }
                    >
                      Remove
                    </Button>
                  </div>
                ))}
                <Button
                  onClick={() =>
                    updateElement(index, {
                      allowedValues: [...(element.allowedValues ?? []), { value: '', label: '', reportText: '' }],
                    })
                  }
                >
                  Add a value
                </Button>
              </>
            ) : null}
            {elements.length > 1 ? (
              <Button variant="link" onClick={() => setElements((list) => list.filter((_, at) => at !== index))}>
                Remove data element {index + 1}
              </Button>
            ) : null}
          </fieldset>
        ))}
        <div className="row">
          <Button onClick={() => setElements((list) => [...list, emptyElement()])}>Add a data element</Button>
          <span className="topbar-spacer" />
          <Button busy={busy} disabled={locked} onClick={() => void save(true)}>
            Save as draft
          </Button>
          <Button type="submit" variant="primary" busy={busy} disabled={locked}>
            Submit for review
          </Button>
        </div>
      </form>
    </Section>
  );
}

function DraftRequests() {
  const [pageToken, setPageToken] = useState('');
  const list = useLoad(
    () => call<ListDraftRequestsResponse>(CATALOG, 'ListDraftRequests', { pageSize: 25, pageToken }),
    [pageToken],
  );
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [useCase, setUseCase] = useState('');
  const [bodyArea, setBodyArea] = useState('');
  const [modality, setModality] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      const draftRequest: DraftRequest = {
        title,
        description,
        useCase: useCase.trim() || undefined,
        bodyArea: bodyArea || undefined,
        modality: modality || undefined,
      };
      await call<DraftRequest>(CATALOG, 'CreateDraftRequest', { draftRequest });
      setNotice('Request recorded.');
      setTitle('');
      setDescription('');
      setUseCase('');
      list.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Section title="Request a use case">
        <p className="muted">
          Ask for a use case that is not published yet: a new idea, or an existing draft you
          would like finished.
        </p>
        <ErrorBanner error={error} />
        <Notice>{notice}</Notice>
        <form onSubmit={submit} aria-label="Request to draft">
          <div className="row">
            <Field label="Title">
              <input value={title} onChange={(event) => setTitle(event.target.value)} maxLength={200} required />
            </Field>
            <Field label="Existing use case" help='Optional, for example "useCases/lung-nodule".'>
              <input value={useCase} onChange={(event) => setUseCase(event.target.value)} />
            </Field>
            <Select label="Body area" value={bodyArea} onChange={setBodyArea} options={enumOptions(BODY_AREAS)} placeholder="Unknown" />
            <Select label="Modality" value={modality} onChange={setModality} options={MODALITIES} placeholder="Unknown" />
          </div>
          <Field label="What it should cover and why">
            <textarea value={description} onChange={(event) => setDescription(event.target.value)} maxLength={10000} />
          </Field>
          <Button type="submit" variant="primary" busy={busy}>
            Request to draft
          </Button>
        </form>
      </Section>
      <Section title="Requests">
        <ErrorBanner error={list.error} />
        <Table
          caption="Draft requests"
          rows={list.data?.draftRequests ?? (list.loading ? undefined : [])}
          rowKey={(row) => row.name ?? row.title}
          columns={[
            { header: 'Title', cell: (row) => row.title },
            { header: 'Use case', cell: (row) => row.useCase || 'new idea' },
            { header: 'Requested by', cell: (row) => row.requester ?? '—' },
            { header: 'When', cell: (row) => formatTime(row.createTime) },
            { header: 'Description', cell: (row) => <span className="pre-text">{row.description ?? ''}</span> },
          ]}
        />
        <Pager pageToken={pageToken} nextPageToken={list.data?.nextPageToken} onPage={setPageToken} />
      </Section>
    </>
  );
}

function ReviewQueue() {
  const queue = useLoad(
    () =>
      call<ListUseCasesResponse>(CATALOG, 'ListUseCases', {
        filter: 'state=SUBMITTED',
        orderBy: 'update_time',
        pageSize: 100,
      }),
    [],
  );
  const [selected, setSelected] = useState('');
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState('');

  const review = async (decision: 'ACCEPT' | 'RETURN' | 'REJECT') => {
    setBusy(true);
    setError(null);
    setNotice('');
    try {
      await call<UseCase>(CATALOG, 'ReviewUseCase', { name: selected, decision, notes });
      setNotice(`${selected}: ${enumLabel(decision).toLowerCase()} recorded.`);
      setSelected('');
      setNotes('');
      queue.reload();
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Section title="Waiting for review">
        <ErrorBanner error={queue.error} />
        <Notice>{notice}</Notice>
        <Table
          caption="Submitted use cases"
          rows={queue.data?.useCases ?? (queue.loading ? undefined : [])}
          rowKey={(row) => row.name}
          selectedKey={selected}
          onSelect={(row) => setSelected(row.name)}
          empty="Nothing waits for review."
          columns={[
            { header: 'Name', cell: (row) => row.displayName || row.name },
            { header: 'Submitter', cell: (row) => row.submitter ?? '—' },
            { header: 'Modality', cell: (row) => row.modality ?? '—' },
            { header: 'Submitted', cell: (row) => formatTime(row.updateTime) },
          ]}
        />
      </Section>
      {selected ? (
        <>
          <UseCaseDetails name={selected} onEdit={() => {}} onChanged={queue.reload} />
          <Section title="Decision">
            <ErrorBanner error={error} />
            <Field label="Notes to the submitter" help="Required to return or reject.">
              <textarea value={notes} onChange={(event) => setNotes(event.target.value)} maxLength={10000} />
            </Field>
            <div className="row">
              <Button variant="primary" busy={busy} onClick={() => void review('ACCEPT')}>
                Approve and publish
              </Button>
              <Button busy={busy} disabled={!notes.trim()} onClick={() => void review('RETURN')}>
                Return for changes
              </Button>
              <Button variant="danger" busy={busy} disabled={!notes.trim()} onClick={() => void review('REJECT')}>
                Reject
              </Button>
            </div>
          </Section>
        </>
      ) : null}
    </>
  );
}
