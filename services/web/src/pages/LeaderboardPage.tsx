// Leaderboard: challenges, their rankings by kappa against a reference reader (each
// participant's most recent submission), and for reviewers creating and closing them.
import { useState, type FormEvent } from 'react';
import { call, EVALUATION, hasRole, resourceId } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import {
  Button,
  ErrorBanner,
  Field,
  formatTime,
  Notice,
  PageHeader,
  Pager,
  Section,
  Select,
  StateBadge,
  toCount,
  useDisplayNames,
  useLoad,
} from '../ui';
import './model/model.css';
import { dateToLocalInput, displayName, formatMetric, formatWithInterval, localInputToRfc3339, scalarField } from './model/format';
import { DatasetSelect, LoadErrors, UseCaseSelect, useChallenges, useDatasets, useUseCases } from './model/resources';
import type { Challenge, ListLeaderboardEntriesResponse, ListSubmissionsResponse } from './model/types';

export const meta: PageMeta = { path: '/leaderboard', title: 'Leaderboard', order: 85 };

const ORDERS = [
  { value: 'kappa desc', label: "Cohen's kappa" },
  { value: 'linear_kappa desc', label: 'Linear-weighted kappa' },
  { value: 'auc desc', label: 'AUC' },
];

export default function LeaderboardPage() {
  const { user } = useSession();
  const isReviewer = hasRole(user, 'reviewer');
  const useCases = useUseCases();
  const [useCase, setUseCase] = useState('');
  const challenges = useChallenges(useCase);
  const [selected, setSelected] = useState('');
  const challenge = challenges.data?.find((item) => item.name === selected);

  return (
    <>
      <PageHeader
        title="Leaderboard"
        description="Challenges rank each participant's latest model by kappa against a reference reader. A hidden final set decides the result when the challenge closes."
      />
      <Section
        title="Challenges"
        actions={
          <>
            <UseCaseSelect useCases={useCases.data} value={useCase} onChange={setUseCase} placeholder="All use cases" />
            <Button onClick={challenges.reload}>Refresh</Button>
          </>
        }
      >
        <LoadErrors errors={[useCases.error, challenges.error]} />
        <div className="table-wrap">
          <table className="table" data-testid="challenges">
            <caption className="visually-hidden">Challenges, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Challenge</th>
                <th scope="col">Use case</th>
                <th scope="col">State</th>
                <th scope="col">Submissions accepted</th>
                <th scope="col" className="numeric">Daily limit</th>
                <th scope="col">Leaderboard</th>
              </tr>
            </thead>
            <tbody>
              {(challenges.data ?? []).length === 0 ? (
                <tr>
                  <td colSpan={6} className="table-empty">
                    {challenges.data ? 'No challenges yet.' : 'Loading…'}
                  </td>
                </tr>
              ) : (
                (challenges.data ?? []).map((item) => (
                  <tr key={item.name} className={item.name === selected ? 'selected' : undefined}>
                    <td>{displayName(item)}</td>
                    <td>{resourceId(item.useCase ?? '')}</td>
                    <td>
                      <StateBadge state={item.state} />
                    </td>
                    <td>
                      {formatTime(item.openTime)} to {formatTime(item.closeTime)}
                    </td>
                    <td className="numeric">{item.dailySubmissionLimit ?? 3}</td>
                    <td>
                      <Button variant="link" onClick={() => setSelected(item.name ?? '')} data-testid={`challenge-open-${resourceId(item.name ?? '')}`}>
                        Show
                      </Button>
                    </td>
                  </tr>
                ))
              )}
            </tbody>
          </table>
        </div>
      </Section>
      {challenge ? <ChallengeView key={challenge.name} challenge={challenge} onChanged={challenges.reload} /> : null}
      {isReviewer ? (
        <CreateChallengeForm
          onCreated={(created) => {
            challenges.reload();
            setSelected(created.name ?? '');
          }}
        />
      ) : null}
    </>
  );
}

function ChallengeView({ challenge, onChanged }: { challenge: Challenge; onChanged: () => void }) {
  const { user, userId } = useSession();
  const [orderBy, setOrderBy] = useState('kappa desc');
  const [showFinal, setShowFinal] = useState(Boolean(challenge.finalRankingAvailable));
  const [pageToken, setPageToken] = useState('');
  const [closing, setClosing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const name = challenge.name ?? '';
  const entries = useLoad(
    () =>
      call<ListLeaderboardEntriesResponse>(EVALUATION, 'ListLeaderboardEntries', {
        parent: name,
        orderBy,
        final: showFinal,
        pageSize: 50,
        pageToken,
      }),
    [name, orderBy, showFinal, pageToken],
  );
  const nameOf = useDisplayNames((entries.data?.entries ?? []).map((entry) => entry.participant ?? ''));
  const rankedCount = toCount(entries.data?.totalSize);
  const mine = useLoad(
    () =>
      userId
        ? call<ListSubmissionsResponse>(EVALUATION, 'ListSubmissions', { parent: name, participant: userId, pageSize: 20 })
        : undefined,
    [name, userId],
  );
  // CloseChallenge accepts only the challenge's owner.
  const mayClose = challenge.state === 'OPEN' && hasRole(user, 'reviewer') && challenge.owner === userId;

  async function close() {
    if (!window.confirm(`Close "${displayName(challenge)}" and rank every participant on the hidden final set?`)) return;
    setClosing(true);
    setError(null);
    try {
      await call<Challenge>(EVALUATION, 'CloseChallenge', { name });
      onChanged();
      setShowFinal(true);
    } catch (reason) {
      setError(reason);
    } finally {
      setClosing(false);
    }
  }

  return (
    <Section
      title={displayName(challenge)}
      actions={
        mayClose ? (
          <Button variant="danger" onClick={() => void close()} busy={closing}>
            Close challenge
          </Button>
        ) : null
      }
    >
      {challenge.description ? <p className="pre-text">{challenge.description}</p> : null}
      <dl className="definition-list">
        <dt>Test dataset</dt>
        <dd>{resourceId(challenge.testDataset ?? '')}</dd>
        <dt>Reference reader</dt>
        <dd>{challenge.referenceReader || '—'}</dd>
        {challenge.finalDataset ? (
          <>
            <dt>Hidden final dataset</dt>
            <dd>
              {resourceId(challenge.finalDataset)}
              {challenge.finalReferenceReader ? `, read by ${challenge.finalReferenceReader}` : ''} (shown only to you)
            </dd>
          </>
        ) : null}
        <dt>Owner</dt>
        <dd>{challenge.owner || '—'}</dd>
        {challenge.closedTime ? (
          <>
            <dt>Closed</dt>
            <dd>{formatTime(challenge.closedTime)}</dd>
          </>
        ) : null}
      </dl>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="inline-form">
        <Select
          label="Rank by"
          options={ORDERS}
          value={orderBy}
          onChange={(value) => {
            setOrderBy(value);
            setPageToken('');
          }}
        />
        <label className="checkbox">
          <input
            type="checkbox"
            checked={showFinal}
            disabled={!challenge.finalRankingAvailable}
            onChange={(event) => {
              setShowFinal(event.target.checked);
              setPageToken('');
            }}
          />
          Final ranking on the hidden set{challenge.finalRankingAvailable ? '' : ' (after the close)'}
        </label>
        <Button onClick={entries.reload}>Refresh</Button>
      </div>
      <ErrorBanner error={entries.error} />
      <p className="muted">
        {rankedCount} {rankedCount === 1 ? 'participant' : 'participants'} ranked. Equal scores share
        a rank; the earlier submission comes first.
      </p>
      <div className="table-wrap">
        <table className="table" data-testid="leaderboard">
          <caption className="visually-hidden">Leaderboard, best first</caption>
          <thead>
            <tr>
              <th scope="col" className="numeric">Rank</th>
              <th scope="col">Participant</th>
              <th scope="col">Model</th>
              <th scope="col" className="numeric">Kappa (95% CI)</th>
              <th scope="col" className="numeric">Linear kappa</th>
              <th scope="col" className="numeric">AUC</th>
              <th scope="col" className="numeric">Scored</th>
              <th scope="col">Submitted</th>
            </tr>
          </thead>
          <tbody>
            {(entries.data?.entries ?? []).length === 0 ? (
              <tr>
                <td colSpan={8} className="table-empty">
                  {entries.data ? 'No scored submissions yet.' : 'Loading…'}
                </td>
              </tr>
            ) : (
              (entries.data?.entries ?? []).map((entry) => (
                <tr key={entry.submission ?? entry.participant} className={entry.participant === userId ? 'selected' : undefined}>
                  <td className="numeric">{entry.rank}</td>
                  <td title={entry.participant}>{nameOf(entry.participant ?? '')}</td>
                  <td>{resourceId(entry.model ?? '')}</td>
                  <td className="numeric">
                    {entry.error?.message ? (
                      <span className="pre-text">{entry.error.message}</span>
                    ) : (
                      formatWithInterval(scalarField(entry.kappa), entry.kappaInterval)
                    )}
                  </td>
                  <td className="numeric">{formatMetric(scalarField(entry.linearKappa))}</td>
                  <td className="numeric">{formatMetric(scalarField(entry.auc))}</td>
                  <td className="numeric">{toCount(entry.scoredCount)}</td>
                  <td>{formatTime(entry.submitTime)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <Pager nextPageToken={entries.data?.nextPageToken} pageToken={pageToken} onPage={setPageToken} />
      <h3>My submissions</h3>
      <ErrorBanner error={mine.error} />
      {(mine.data?.submissions ?? []).length === 0 ? (
        <p className="muted">
          You have not submitted to this challenge. Train a model of your own on the Create and train page, then
          submit it from its results.
          {hasRole(user, 'radiologist')
            ? ''
            : ' Training needs the radiologist role, which your account lacks: ask an administrator to add it.'}
        </p>
      ) : (
        <ul>
          {(mine.data?.submissions ?? []).map((submission) => (
            <li key={submission.name}>
              {formatTime(submission.submitTime)}: {resourceId(submission.model ?? '')} <StateBadge state={submission.state} />{' '}
              {submission.state === 'SCORED'
                ? `kappa ${formatWithInterval(scalarField(submission.kappa), submission.kappaInterval)}`
                : submission.error?.message ?? ''}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function CreateChallengeForm({ onCreated }: { onCreated: (challenge: Challenge) => void }) {
  const { userId } = useSession();
  const useCases = useUseCases();
  const datasets = useDatasets();
  const now = new Date();
  const [form, setForm] = useState({
    id: '',
    title: '',
    description: '',
    useCase: '',
    testDataset: '',
    finalDataset: '',
    referenceReader: '',
    finalReferenceReader: '',
    openTime: dateToLocalInput(now),
    closeTime: dateToLocalInput(new Date(now.getTime() + 30 * 24 * 3600 * 1000)),
    dailyLimit: '3',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState('');
  const update = (field: keyof typeof form, value: string) => setForm((previous) => ({ ...previous, [field]: value }));

  const problems: string[] = [];
  if (!form.title.trim()) problems.push('enter a title');
  if (!form.useCase) problems.push('choose a use case');
  if (!form.testDataset) problems.push('choose a test dataset');
  if (!form.finalDataset) problems.push('choose a hidden final dataset');
  if (form.testDataset && form.testDataset === form.finalDataset) problems.push('choose a final dataset other than the test dataset');
  if (!form.referenceReader.trim()) problems.push("enter the reference reader's user id");
  if (!form.openTime || !form.closeTime || new Date(form.closeTime) <= new Date(form.openTime)) {
    problems.push('set a closing time after the opening time');
  }
  const limit = Number(form.dailyLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) problems.push('enter a daily limit from 1 to 1000');
  if (form.id && !/^[a-z][a-z0-9-]{0,62}$/.test(form.id)) {
    problems.push('use 1 to 63 lower-case letters, digits and "-" for the id, starting with a letter');
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    setCreated('');
    try {
      const challenge = await call<Challenge>(EVALUATION, 'CreateChallenge', {
        challenge: {
          displayName: form.title.trim(),
          description: form.description,
          useCase: form.useCase,
          testDataset: form.testDataset,
          finalDataset: form.finalDataset,
          referenceReader: form.referenceReader.trim(),
          finalReferenceReader: form.finalReferenceReader.trim(),
          openTime: localInputToRfc3339(form.openTime),
          closeTime: localInputToRfc3339(form.closeTime),
          dailySubmissionLimit: limit,
          owner: userId,
        },
        challengeId: form.id,
      });
      setCreated(displayName(challenge));
      onCreated(challenge);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="New challenge">
      <LoadErrors errors={[useCases.error, datasets.error]} />
      <form onSubmit={submit} aria-label="New challenge">
        <div className="option-grid">
          <Field label="Title">
            <input value={form.title} maxLength={200} onChange={(event) => update('title', event.target.value)} />
          </Field>
          <Field label="Id (optional)" help="Generated when empty.">
            <input value={form.id} onChange={(event) => update('id', event.target.value)} autoComplete="off" />
          </Field>
          <UseCaseSelect useCases={useCases.data} value={form.useCase} onChange={(value) => update('useCase', value)} />
          <DatasetSelect
            datasets={datasets.data}
            label="Test dataset"
            value={form.testDataset}
            onChange={(value) => update('testDataset', value)}
            help="Scored on every submission."
          />
          <DatasetSelect
            datasets={datasets.data}
            label="Hidden final dataset"
            value={form.finalDataset}
            onChange={(value) => update('finalDataset', value)}
            help="Scored once, at the close; participants never see it."
          />
          <Field label="Reference reader" help="User id whose labels of the test dataset are the truth.">
            <input value={form.referenceReader} onChange={(event) => update('referenceReader', event.target.value)} autoComplete="off" />
          </Field>
          <Field label="Final reference reader (optional)" help="Reads the final dataset; the reference reader when empty.">
            <input
              value={form.finalReferenceReader}
              onChange={(event) => update('finalReferenceReader', event.target.value)}
              autoComplete="off"
            />
          </Field>
          <Field label="Opens">
            <input type="datetime-local" value={form.openTime} onChange={(event) => update('openTime', event.target.value)} />
          </Field>
          <Field label="Closes">
            <input type="datetime-local" value={form.closeTime} onChange={(event) => update('closeTime', event.target.value)} />
          </Field>
          <Field label="Scored submissions per day" help="Per participant and UTC day, 1 to 1000.">
            <input type="number" min={1} max={1000} step={1} value={form.dailyLimit} onChange={(event) => update('dailyLimit', event.target.value)} />
          </Field>
        </div>
        <Field label="Description" help="Shown to participants as plain text; at most 10000 characters.">
          <textarea value={form.description} maxLength={10000} onChange={(event) => update('description', event.target.value)} />
        </Field>
        {problems.length > 0 ? <p className="muted">To create it, {problems.join('; ')}.</p> : null}
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {created ? <Notice>Challenge {created} created.</Notice> : null}
        <Button type="submit" variant="primary" busy={busy} disabled={problems.length > 0}>
          Create challenge
        </Button>
      </form>
    </Section>
  );
}
