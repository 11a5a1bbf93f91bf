// Contest: crowdsourcing contests in which annotators race to annotate a dataset
// within a time window, with the ranking of annotators by annotated count.
import type { EChartsOption } from 'echarts';
import { useMemo, useState, type FormEvent } from 'react';
import { ANNOTATION, call, hasRole, resourceId, type AnnotatorRanking, type Contest, type ListAnnotatorRankingsResponse } from '../api';
import type { PageMeta } from '../App';
import { useSession } from '../session';
import { Button, ErrorBanner, Field, formatTime, Notice, PageHeader, Pager, Section, toCount, useDisplayNames, useLoad } from '../ui';
import './model/model.css';
import { EChart, SERIES_COLORS } from './model/chart';
import { dateToLocalInput, displayName, localInputToRfc3339 } from './model/format';
import { DatasetSelect, listAll, LoadErrors, UseCaseSelect, useDatasets, usePolling, useUseCases } from './model/resources';

export const meta: PageMeta = { path: '/contest', title: 'Contest', order: 87 };

/** Milliseconds between ranking refreshes while a contest runs. */
const RANKING_REFRESH_MS = 10000;
/** Annotators drawn in the ranking chart. */
const CHART_TOP = 20;

type Phase = 'upcoming' | 'running' | 'ended';

function phaseOf(contest: Contest, now: number): Phase {
  const start = contest.startTime ? new Date(contest.startTime).getTime() : 0;
  const end = contest.endTime ? new Date(contest.endTime).getTime() : Infinity;
  if (now < start) return 'upcoming';
  return now < end ? 'running' : 'ended';
}

const PHASE_LABELS: Record<Phase, string> = { upcoming: 'Not started', running: 'Running', ended: 'Ended' };
const PHASE_BADGES: Record<Phase, string> = { upcoming: 'queued', running: 'running', ended: 'succeeded' };

export default function ContestPage() {
  const { user } = useSession();
  const mayCreate = hasRole(user, 'data_manager');
  const [refreshKey, setRefreshKey] = useState(0);
  const contests = useLoad(() => listAll<Contest>(ANNOTATION, 'ListContests', {}, 'contests'), [refreshKey]);
  const [selected, setSelected] = useState('');
  const contest = contests.data?.find((item) => item.name === selected);
  const now = Date.now();

  return (
    <>
      <PageHeader
        title="Contest"
        description="Annotation contests: many annotators label the same dataset at once, and the ranking shows who annotated the most."
      />
      <Section title="Contests" actions={<Button onClick={contests.reload}>Refresh</Button>}>
        <ErrorBanner error={contests.error} />
        <div className="table-wrap">
          <table className="table" data-testid="contests">
            <caption className="visually-hidden">Contests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Contest</th>
                <th scope="col">Use case / dataset</th>
                <th scope="col">Window</th>
                <th scope="col">State</th>
                <th scope="col">Ranking</th>
              </tr>
            </thead>
            <tbody>
              {(contests.data ?? []).length === 0 ? (
                <tr>
                  <td colSpan={5} className="table-empty">
                    {contests.data ? 'No contests yet.' : 'Loading…'}
                  </td>
                </tr>
              ) : (
                (contests.data ?? []).map((item) => {
                  const phase = phaseOf(item, now);
                  return (
                    <tr key={item.name} className={item.name === selected ? 'selected' : undefined}>
                      <td>{displayName(item)}</td>
                      <td>
                        {resourceId(item.useCase ?? '')}
                        <div className="muted">{resourceId(item.dataset ?? '')}</div>
                      </td>
                      <td>
                        {formatTime(item.startTime)} to {formatTime(item.endTime)}
                      </td>
                      <td>
                        <span className={`badge badge-${PHASE_BADGES[phase]}`}>{PHASE_LABELS[phase]}</span>
                      </td>
                      <td>
                        <Button variant="link" onClick={() => setSelected(item.name)} data-testid={`contest-open-${resourceId(item.name)}`}>
                          Show
                        </Button>
                      </td>
                    </tr>
                  );
                })
              )}
            </tbody>
          </table>
        </div>
      </Section>
      {contest ? (
        <RankingView
          key={contest.name}
          title={`Ranking: ${displayName(contest)}`}
          request={{ contest: contest.name }}
          live={phaseOf(contest, now) === 'running'}
        />
      ) : null}
      <AllTimeRanking />
      {mayCreate ? (
        <CreateContestForm
          onCreated={(created) => {
            setRefreshKey((value) => value + 1);
            setSelected(created.name);
          }}
        />
      ) : null}
    </>
  );
}

/** Renders a ranking of annotators with a bar chart of the leaders, refreshed while `live` is true. */
function RankingView({
  title,
  request,
  live,
}: {
  title: string;
  request: { contest?: string; useCase?: string; dataset?: string };
  live: boolean;
}) {
  const { userId } = useSession();
  const [pageToken, setPageToken] = useState('');
  const key = JSON.stringify(request);
  const rankings = useLoad(
    () => call<ListAnnotatorRankingsResponse>(ANNOTATION, 'ListAnnotatorRankings', { ...request, pageSize: 50, pageToken }),
    [key, pageToken],
  );
  usePolling(rankings.reload, RANKING_REFRESH_MS, live);
  const rows = rankings.data?.rankings ?? [];
  const nameOf = useDisplayNames(rows.map((row) => row.annotator ?? ''));

  return (
    <Section title={title} actions={<Button onClick={rankings.reload}>Refresh</Button>}>
      <ErrorBanner error={rankings.error} />
      <p className="muted">
        {toCount(rankings.data?.totalSize)} annotators. Skipped images do not count; equal counts share a rank.
        {live ? ' The ranking refreshes every 10 seconds while the contest runs.' : ''}
      </p>
      {rows.length > 0 && !pageToken ? <RankingChart rankings={rows.slice(0, CHART_TOP)} nameOf={nameOf} /> : null}
      <div className="table-wrap">
        <table className="table" data-testid="annotator-rankings">
          <caption className="visually-hidden">Annotators ranked by annotated count</caption>
          <thead>
            <tr>
              <th scope="col" className="numeric">Rank</th>
              <th scope="col">Annotator</th>
              <th scope="col" className="numeric">Annotated</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={3} className="table-empty">
                  {rankings.data ? 'Nobody has annotated yet.' : 'Loading…'}
                </td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={row.annotator} className={row.annotator === userId ? 'selected' : undefined}>
                  <td className="numeric">{row.rank}</td>
                  <td title={row.annotator}>
                    {nameOf(row.annotator ?? '')}
                    {row.annotator === userId ? ' (you)' : ''}
                  </td>
                  <td className="numeric">{toCount(row.annotatedCount)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
      <Pager nextPageToken={rankings.data?.nextPageToken} pageToken={pageToken} onPage={setPageToken} />
    </Section>
  );
}

function RankingChart({ rankings, nameOf }: { rankings: AnnotatorRanking[]; nameOf: (id: string) => string }) {
  const option = useMemo<EChartsOption>(
    () => ({
      animation: false,
      tooltip: { trigger: 'axis' },
      grid: { left: 120, right: 30, top: 10, bottom: 30 },
      xAxis: { type: 'value', name: 'Annotated', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rankings.map((row) => `${row.rank}. ${nameOf(row.annotator ?? '')}`) },
      series: [
        {
          type: 'bar',
          data: rankings.map((row) => toCount(row.annotatedCount)),
          itemStyle: { color: SERIES_COLORS[0] },
          label: { show: true, position: 'right' },
        },
      ],
    }),
    [rankings, nameOf],
  );
  return <EChart option={option} label="Annotated count of the leading annotators" height={Math.max(160, 28 * rankings.length + 50)} />;
}

// Ranking over all time for one use case and dataset, without a contest window.
function AllTimeRanking() {
  const useCases = useUseCases();
  const datasets = useDatasets();
  const [useCase, setUseCase] = useState('');
  const [dataset, setDataset] = useState('');
  return (
    <>
      <Section title="Ranking over all time">
        <LoadErrors errors={[useCases.error, datasets.error]} />
        <div className="inline-form">
          <UseCaseSelect useCases={useCases.data} value={useCase} onChange={setUseCase} />
          <DatasetSelect datasets={datasets.data} value={dataset} onChange={setDataset} />
        </div>
        {!useCase || !dataset ? <p className="muted">Choose a use case and a dataset to rank their annotators.</p> : null}
      </Section>
      {useCase && dataset ? (
        <RankingView title="All-time ranking" request={{ useCase, dataset }} live={false} />
      ) : null}
    </>
  );
}

function CreateContestForm({ onCreated }: { onCreated: (contest: Contest) => void }) {
  const useCases = useUseCases();
  const datasets = useDatasets();
  const now = new Date();
  const [title, setTitle] = useState('');
  const [useCase, setUseCase] = useState('');
  const [dataset, setDataset] = useState('');
  const [start, setStart] = useState(dateToLocalInput(now));
  const [end, setEnd] = useState(dateToLocalInput(new Date(now.getTime() + 2 * 3600 * 1000)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState('');

  const problems: string[] = [];
  if (!title.trim()) problems.push('enter a title');
  if (!useCase) problems.push('choose a use case');
  if (!dataset) problems.push('choose a dataset');
  if (!start || !end || new Date(end) <= new Date(start)) problems.push('set an end after the start');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (problems.length > 0) return;
    setBusy(true);
    setError(null);
    setCreated('');
    try {
      const contest = await call<Contest>(ANNOTATION, 'CreateContest', {
        contest: {
          displayName: title.trim(),
          useCase,
          dataset,
          startTime: localInputToRfc3339(start),
          endTime: localInputToRfc3339(end),
        },
      });
      setCreated(displayName(contest));
      setTitle('');
      onCreated(contest);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Section title="New contest">
      <LoadErrors errors={[useCases.error, datasets.error]} />
      <form onSubmit={submit} aria-label="New contest">
        <div className="option-grid">
          <Field label="Title" help="Shown to the annotators.">
            <input value={title} onChange={(event) => setTitle(event.target.value)} />
          </Field>
          <UseCaseSelect useCases={useCases.data} value={useCase} onChange={setUseCase} />
          <DatasetSelect datasets={datasets.data} value={dataset} onChange={setDataset} />
          <Field label="Starts" help="Annotations first saved at or after this time count.">
            <input type="datetime-local" value={start} onChange={(event) => setStart(event.target.value)} />
          </Field>
          <Field label="Ends" help="Annotations first saved before this time count.">
            <input type="datetime-local" value={end} onChange={(event) => setEnd(event.target.value)} />
          </Field>
        </div>
        {problems.length > 0 ? <p className="muted">To create it, {problems.join(', ')}.</p> : null}
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
        {created ? <Notice>Contest {created} created.</Notice> : null}
        <Button type="submit" variant="primary" busy={busy} disabled={problems.length > 0}>
          Create contest
        </Button>
      </form>
    </Section>
  );
}
