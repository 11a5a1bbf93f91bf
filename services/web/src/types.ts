// Hand-written TypeScript forms of the protobuf messages the application uses, in
// protobuf's JSON mapping: lowerCamelCase names, enums as their names, int64 as
// strings, Timestamps as RFC 3339 text. The JSON mapping leaves out fields that hold
// their default value, so every field may be absent in a response.

// ---- ailab.identity.v1 ----

export interface User {
  /** "users/{user_id}". */
  name: string;
  username: string;
  displayName?: string;
  roles: string[];
  disabled?: boolean;
  provider?: string;
  createTime?: string;
  lastSignInTime?: string;
}

export interface SignInResponse {
  token: string;
  expireTime?: string;
  user: User;
}

export interface ListUsersResponse {
  users?: User[];
  nextPageToken?: string;
}

export interface AuditEvent {
  time?: string;
  user?: string;
  httpMethod?: string;
  path?: string;
  rpcMethod?: string;
  resource?: string;
  httpStatus?: number;
  requestId?: string;
  clientAddress?: string;
}

export interface ListAuditEventsResponse {
  events?: AuditEvent[];
  nextPageToken?: string;
}

/** Roles of the platform, from most to least powerful. */
export const ROLES = ['administrator', 'reviewer', 'data_manager', 'radiologist', 'participant'];

// ---- ailab.catalog.v1 ----

export const BODY_AREAS = [
  'BREAST', 'CHEST', 'ABDOMEN', 'HEAD', 'NECK', 'SPINE', 'PELVIS', 'MUSCULOSKELETAL',
  'CARDIAC', 'WHOLE_BODY',
];
export const MODALITIES = ['MG', 'CR', 'DX', 'CT', 'MR', 'US', 'PT', 'NM', 'XA', 'RF'];
export const TASK_KINDS = [
  'BINARY_CLASSIFICATION', 'MULTICLASS_CLASSIFICATION', 'DETECTION', 'SEGMENTATION',
];
export const USE_CASE_STATES = ['DRAFT', 'SUBMITTED', 'RETURNED', 'PUBLISHED', 'REJECTED'];
export const VALUE_KINDS = ['CATEGORICAL', 'NUMERIC', 'BOUNDING_BOX', 'POINT', 'MASK'];

export interface AllowedValue {
  value: string;
  label?: string;
  reportText?: string;
}

export interface DataElement {
  id: string;
  name?: string;
  description?: string;
  valueKind?: string;
  unit?: string;
  allowedValues?: AllowedValue[];
}

export interface UseCase {
  /** "useCases/{id}". */
  name: string;
  displayName?: string;
  description?: string;
  bodyArea?: string;
  modality?: string;
  taskKind?: string;
  state?: string;
  dataElements?: DataElement[];
  submitter?: string;
  reviewer?: string;
  reviewerNotes?: string;
  createTime?: string;
  updateTime?: string;
  etag?: string;
}

export interface ListUseCasesResponse {
  useCases?: UseCase[];
  nextPageToken?: string;
  totalSize?: number;
}

export interface StateChange {
  fromState?: string;
  toState?: string;
  actor?: string;
  notes?: string;
  changeTime?: string;
}

export interface ListUseCaseHistoryResponse {
  stateChanges?: StateChange[];
  nextPageToken?: string;
}

export interface Comment {
  name?: string;
  author?: string;
  text: string;
  createTime?: string;
}

export interface ListCommentsResponse {
  comments?: Comment[];
  nextPageToken?: string;
}

export interface DraftRequest {
  name?: string;
  title: string;
  description?: string;
  requester?: string;
  useCase?: string;
  bodyArea?: string;
  modality?: string;
  createTime?: string;
}

export interface ListDraftRequestsResponse {
  draftRequests?: DraftRequest[];
  nextPageToken?: string;
}

// ---- ailab.ingest.v1 ----

export const SPLITS = ['TRAIN', 'VALIDATION', 'TEST'];

export interface DatasetCounts {
  instances?: string;
  studies?: string;
  series?: string;
  patients?: string;
  train?: string;
  validation?: string;
  test?: string;
  unassigned?: string;
  pngReady?: string;
  arrayReady?: string;
  images?: string;
}

export interface Dataset {
  /** "datasets/{id}". */
  name: string;
  displayName?: string;
  description?: string;
  useCase?: string;
  counts?: DatasetCounts;
  createTime?: string;
}

export interface ListDatasetsResponse {
  datasets?: Dataset[];
  nextPageToken?: string;
}

export interface Instance {
  /** "datasets/{d}/instances/{id}". */
  name: string;
  study?: string;
  series?: string;
  sourceFile?: string;
  patientPseudonym?: string;
  studyDate?: string;
  modality?: string;
  bodyPart?: string;
  laterality?: string;
  view?: string;
  manufacturer?: string;
  model?: string;
  rows?: number;
  columns?: number;
  frames?: number;
  photometricInterpretation?: string;
  bitsStored?: number;
  hasImage?: boolean;
  split?: string;
  dicomBlob?: string;
  dicomSizeBytes?: string;
  pngBlob?: string;
  arrayBlob?: string;
  arrayShape?: string[];
  /** "<f4" (values 0 to 1) or "<u2" (0 to 65535). */
  arrayDtype?: string;
  pngReady?: boolean;
  arrayReady?: boolean;
  preparationError?: string;
  warnings?: string[];
  createTime?: string;
}

export interface ListInstancesResponse {
  instances?: Instance[];
  nextPageToken?: string;
  totalSize?: string;
}

export interface UploadResult {
  fileName?: string;
  /** STORED, DUPLICATE or REJECTED. */
  outcome?: string;
  instance?: string;
  reason?: string;
  message?: string;
  warnings?: string[];
}

export interface UploadInstancesResponse {
  results?: UploadResult[];
  storedCount?: number;
  duplicateCount?: number;
  rejectedCount?: number;
}

export interface AssignSplitsResponse {
  trainInstances?: string;
  validationInstances?: string;
  testInstances?: string;
  trainPatients?: string;
  validationPatients?: string;
  testPatients?: string;
}

export interface PreparationFailure {
  instance?: string;
  sourceFile?: string;
  reason?: string;
  message?: string;
}

export interface PreparationRun {
  /** "datasets/{d}/preparationRuns/{id}". */
  name: string;
  /** "PNG" and/or "ARRAY". */
  kinds?: string[];
  arraySize?: number;
  windowPreset?: string;
  arrayDtype?: string;
  onlyMissing?: boolean;
  state?: string;
  totalCount?: string;
  doneCount?: string;
  failedCount?: string;
  failures?: PreparationFailure[];
  error?: string;
  createTime?: string;
  startTime?: string;
  endTime?: string;
}

export interface ListPreparationRunsResponse {
  preparationRuns?: PreparationRun[];
  nextPageToken?: string;
}

// ---- ailab.annotation.v1 ----

export interface Annotation {
  name?: string;
  useCase?: string;
  dataset?: string;
  instance: string;
  annotator?: string;
  /** ANNOTATED or SKIPPED. */
  state?: string;
  label?: string;
  createTime?: string;
  updateTime?: string;
  revision?: string;
}

export interface SaveAnnotationResponse {
  annotation?: Annotation;
  created?: boolean;
}

export interface GetNextInstanceResponse {
  /** Empty when nothing is left. */
  instance?: string;
  position?: string;
  totalInstances?: string;
  annotatedCount?: string;
  skippedCount?: string;
  remainingCount?: string;
  quota?: string;
  done?: boolean;
}

export interface AnnotationProgress {
  useCase?: string;
  dataset?: string;
  annotator?: string;
  annotatedCount?: string;
  skippedCount?: string;
  totalInstances?: string;
  remainingCount?: string;
  quota?: string;
  quotaMet?: boolean;
}

export interface FinishSessionResponse {
  startTime?: string;
  endTime?: string;
  sessionAnnotatedCount?: string;
  sessionSkippedCount?: string;
  progress?: AnnotationProgress;
}

export interface ListAnnotationsResponse {
  annotations?: Annotation[];
  nextPageToken?: string;
  totalSize?: string;
}

export interface Contest {
  name: string;
  displayName?: string;
  useCase?: string;
  dataset?: string;
  startTime?: string;
  endTime?: string;
  createTime?: string;
}

export interface ListContestsResponse {
  contests?: Contest[];
  nextPageToken?: string;
}

export interface AnnotatorRanking {
  annotator?: string;
  annotatedCount?: string;
  rank?: string;
}

export interface ListAnnotatorRankingsResponse {
  rankings?: AnnotatorRanking[];
  nextPageToken?: string;
  totalSize?: string;
}

export interface AnnotationConfusionMatrix {
  categories?: string[];
  /** Row-major counts, rows the reference categories. */
  counts?: string[];
}

// ---- ailab.training.v1 ----

export const TRAINING_JOB_FINAL_STATES = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

export interface TrainingOptions {
  architecture?: string;
  imageSize?: number;
  augmentation?: string;
  sampling?: string;
  loss?: string;
  pretrained?: boolean;
  batchSize?: number;
  learningRate?: number;
  optimizer?: string;
  earlyStoppingPatience?: number;
  minImprovement?: number;
  maxEpochs?: number;
  metric?: string;
  seed?: string;
  resources?: { gpuCount?: number; memoryMb?: string };
}

export interface EpochMetrics {
  epoch?: number;
  step?: string;
  trainLoss?: number;
  valLoss?: number;
  metric?: number;
  valKappa?: number;
  valLinearKappa?: number;
  valAuc?: number;
  reportTime?: string;
}

export interface LabelCount {
  category?: string;
  count?: number;
  trainCount?: number;
  validationCount?: number;
  testCount?: number;
}

export interface TrainingProgress {
  epoch?: number;
  step?: string;
  trainLoss?: number;
  valLoss?: number;
  metric?: number;
  maxEpochs?: number;
}

export interface RpcStatus {
  code?: number;
  message?: string;
  details?: unknown[];
}

export interface TrainingJob {
  /** "trainingJobs/{id}". */
  name: string;
  displayName?: string;
  owner?: string;
  useCase?: string;
  dataset?: string;
  labelSource?: string;
  options?: TrainingOptions;
  /** QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLING or CANCELLED. */
  state?: string;
  progress?: TrainingProgress;
  history?: EpochMetrics[];
  attemptCount?: number;
  failureCount?: number;
  maxAttempts?: number;
  workerId?: string;
  error?: RpcStatus;
  model?: string;
  classes?: string[];
  labelCounts?: LabelCount[];
  createTime?: string;
  startTime?: string;
  endTime?: string;
  updateTime?: string;
}

export interface ListTrainingJobsResponse {
  trainingJobs?: TrainingJob[];
  nextPageToken?: string;
}

export interface TestMetrics {
  kappa?: number;
  linearKappa?: number;
  quadraticKappa?: number;
  auc?: number;
  accuracy?: number;
  confusionMatrix?: { classes?: string[]; counts?: number[] };
  n?: number;
}

export interface Model {
  /** "models/{id}". */
  name: string;
  displayName?: string;
  useCase?: string;
  trainingJob?: string;
  classes?: string[];
  imageSize?: number;
  architecture?: string;
  torchscriptBlob?: string;
  modelCardBlob?: string;
  testMetrics?: TestMetrics;
  createTime?: string;
  hidden?: boolean;
  owner?: string;
  dataset?: string;
  bestEpoch?: number;
}

export interface ListModelsResponse {
  models?: Model[];
  nextPageToken?: string;
}

export interface TestPrediction {
  instance?: string;
  label?: number;
  probabilities?: number[];
  predicted?: number;
}

export interface ListTestPredictionsResponse {
  testPredictions?: TestPrediction[];
  nextPageToken?: string;
}

// ---- ailab.inference.v1 ----

export interface ClassProbability {
  category?: string;
  label?: string;
  probability?: number;
}

export interface Review {
  /** UNREVIEWED, CONFIRMED or CORRECTED. */
  state?: string;
  correctedCategory?: string;
  reviewer?: string;
  comment?: string;
  reviewTime?: string;
}

export interface Prediction {
  /** "predictions/{id}". */
  name: string;
  model?: string;
  useCase?: string;
  instance?: string;
  /** INSTANCE, UPLOADED_DICOM or UPLOADED_PNG. */
  source?: string;
  fileName?: string;
  probabilities?: ClassProbability[];
  category?: string;
  reportText?: string;
  studyDate?: string;
  createTime?: string;
  review?: Review;
  site?: string;
  inferenceMillis?: number;
}

export interface ListPredictionsResponse {
  predictions?: Prediction[];
  nextPageToken?: string;
}
