// TypeScript forms of the evaluation, publishing and label-count messages that the
// model pages use, in protobuf's JSON mapping (see src/types.ts for the rules). Every
// field may be absent in a response because the mapping leaves out default values.
// Doubles that are NaN or infinite arrive as the strings "NaN", "Infinity" and
// "-Infinity", so those fields are typed `number | string`; read them with toNumber().
import type { RpcStatus } from '../../api';

/** A double of the JSON mapping: a number, or "NaN" / "Infinity" / "-Infinity". */
export type JsonDouble = number | string;

// ---- ailab.annotation.v1 (label counts) ----

export interface CategoryCount {
  category?: string;
  /** int64. */
  count?: string;
}

export interface CountLabelsResponse {
  /** One entry per category of the use case, in order, including zeros. */
  counts?: CategoryCount[];
  /** int64. */
  total?: string;
  /** int64: instances left out because their majority vote was tied. */
  tiedCount?: string;
}

// ---- ailab.evaluation.v1 ----

/** Splits an evaluation may use; DATA_SPLIT_UNSPECIFIED means TEST. */
export const EVALUATION_SPLITS = ['TEST', 'VALIDATION', 'TRAIN', 'ALL'];

export const EVALUATION_FINAL_STATES = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface ConfusionMatrix {
  categories?: string[];
  /** int64, row-major: counts[i * n + j] counts truth categories[i] predicted as categories[j]. */
  counts?: string[];
}

export interface RocPoint {
  fpr?: JsonDouble;
  tpr?: JsonDouble;
  /** "Infinity" for the first point (0, 0). */
  threshold?: JsonDouble;
}

export interface ThresholdMetrics {
  threshold?: JsonDouble;
  positiveCategory?: string;
  truePositives?: string;
  falsePositives?: string;
  trueNegatives?: string;
  falseNegatives?: string;
  sensitivity?: JsonDouble;
  specificity?: JsonDouble;
  ppv?: JsonDouble;
  npv?: JsonDouble;
  f1?: JsonDouble;
  accuracy?: JsonDouble;
  confusionMatrix?: ConfusionMatrix;
  kappa?: JsonDouble;
}

export interface Interval {
  lower?: JsonDouble;
  upper?: JsonDouble;
  confidence?: JsonDouble;
}

export interface ClassificationMetrics {
  n?: string;
  kappa?: JsonDouble;
  linearKappa?: JsonDouble;
  quadraticKappa?: JsonDouble;
  auc?: JsonDouble;
  categoryAucs?: JsonDouble[];
  accuracy?: JsonDouble;
  confusionMatrix?: ConfusionMatrix;
  roc?: RocPoint[];
  atThreshold?: ThresholdMetrics;
  kappaInterval?: Interval;
}

export interface ModelResult {
  model?: string;
  modelDisplayName?: string;
  metrics?: ClassificationMetrics;
  error?: RpcStatus;
  storedPredictionCount?: string;
}

export interface Evaluation {
  /** "evaluations/{id}". */
  name?: string;
  displayName?: string;
  useCase?: string;
  dataset?: string;
  split?: string;
  labelSource?: string;
  models?: string[];
  threshold?: JsonDouble;
  /** RUNNING, SUCCEEDED, FAILED or CANCELLED. */
  state?: string;
  categories?: string[];
  results?: ModelResult[];
  instanceCount?: string;
  completedPredictions?: string;
  error?: RpcStatus;
  owner?: string;
  createTime?: string;
  endTime?: string;
}

export interface ListEvaluationsResponse {
  evaluations?: Evaluation[];
  nextPageToken?: string;
}

export interface ComputeAtThresholdResponse {
  evaluation?: string;
  model?: string;
  metrics?: ThresholdMetrics;
}

/** Metrics an alert rule can watch (AlertRule.Metric). */
export const ALERT_METRICS = ['KAPPA', 'ACCURACY', 'AUC', 'SENSITIVITY', 'SPECIFICITY'];

export interface AlertRule {
  metric?: string;
  level?: number;
  /** int64. */
  minCount?: string;
}

export interface AssessmentWindow {
  startTime?: string;
  endTime?: string;
  reviewedCount?: string;
  metrics?: ClassificationMetrics;
  /** OK, ALERT, INSUFFICIENT_DATA or STATE_UNSPECIFIED. */
  alertState?: string;
  alertMetricValue?: JsonDouble;
}

export interface AssessedPoint {
  prediction?: string;
  /** YYYY-MM-DD; empty when unknown. */
  studyDate?: string;
  probability?: JsonDouble;
  predictedCategory?: string;
  truthCategory?: string;
  /** "TP", "FP", "TN", "FN", or empty for more than two categories. */
  outcome?: string;
  createTime?: string;
}

export interface AssessModelResponse {
  model?: string;
  metrics?: ClassificationMetrics;
  points?: AssessedPoint[];
  unreviewedCount?: string;
  windows?: AssessmentWindow[];
  alertState?: string;
  alertMetricValue?: JsonDouble;
  alertingWindowCount?: string;
}

export const CHALLENGE_STATES = ['OPEN', 'CLOSED'];

export interface Challenge {
  /** "challenges/{id}". */
  name?: string;
  displayName?: string;
  description?: string;
  useCase?: string;
  testDataset?: string;
  finalDataset?: string;
  referenceReader?: string;
  finalReferenceReader?: string;
  openTime?: string;
  closeTime?: string;
  dailySubmissionLimit?: number;
  /** OPEN or CLOSED. */
  state?: string;
  owner?: string;
  createTime?: string;
  closedTime?: string;
  finalRankingAvailable?: boolean;
}

export interface ListChallengesResponse {
  challenges?: Challenge[];
  nextPageToken?: string;
}

export interface Submission {
  /** "challenges/{c}/submissions/{id}". */
  name?: string;
  model?: string;
  participant?: string;
  /** SCORING, SCORED or FAILED. */
  state?: string;
  kappa?: JsonDouble;
  linearKappa?: JsonDouble;
  auc?: JsonDouble;
  accuracy?: JsonDouble;
  kappaInterval?: Interval;
  scoredCount?: string;
  submitTime?: string;
  error?: RpcStatus;
}

export interface ListSubmissionsResponse {
  submissions?: Submission[];
  nextPageToken?: string;
}

export interface LeaderboardEntry {
  rank?: string;
  participant?: string;
  submission?: string;
  model?: string;
  kappa?: JsonDouble;
  linearKappa?: JsonDouble;
  auc?: JsonDouble;
  kappaInterval?: Interval;
  submitTime?: string;
  scoredCount?: string;
  error?: RpcStatus;
}

export interface ListLeaderboardEntriesResponse {
  entries?: LeaderboardEntry[];
  nextPageToken?: string;
  totalSize?: string;
}

// ---- ailab.evaluation.v1 publishing ----

export interface Destination {
  /** "destinations/{id}". */
  name?: string;
  displayName?: string;
  folder?: { path?: string };
  http?: { url?: string; token?: string; tokenSet?: boolean };
  creator?: string;
  createTime?: string;
}

export interface ListDestinationsResponse {
  destinations?: Destination[];
  nextPageToken?: string;
}

export interface PackageFile {
  path?: string;
  sizeBytes?: string;
  sha256?: string;
}

export interface PackageManifest {
  model?: string;
  useCase?: string;
  files?: PackageFile[];
  packageSha256?: string;
}

export interface PublicationAttempt {
  number?: number;
  startTime?: string;
  endTime?: string;
  error?: RpcStatus;
  httpStatus?: number;
}

export interface Publication {
  /** "publications/{id}". */
  name?: string;
  model?: string;
  destination?: string;
  /** PUBLISHING, SUCCEEDED or FAILED. */
  state?: string;
  manifest?: PackageManifest;
  attemptCount?: number;
  attempts?: PublicationAttempt[];
  location?: string;
  error?: RpcStatus;
  publisher?: string;
  createTime?: string;
  updateTime?: string;
  requestCount?: number;
}

export interface ListPublicationsResponse {
  publications?: Publication[];
  nextPageToken?: string;
}
