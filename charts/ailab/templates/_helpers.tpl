{{/*
Names, labels and the facts about each component that the templates share.
*/}}

{{- define "ailab.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every resource name: <release>-ailab, or the release name when it
already contains the chart name. Kept at 40 characters so that suffixes fit. */}}
{{- define "ailab.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ailab.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "catalog"). */}}
{{- define "ailab.labels" -}}
helm.sh/chart: {{ include "ailab.chart" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: ailab
{{ include "ailab.selectorLabels" . }}
{{- end -}}

{{/* Labels that select the pods of one component. */}}
{{- define "ailab.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ailab.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The platform's services in start order: each calls only services before it
(the gateway, which calls them all, comes last and can be turned off). */}}
{{- define "ailab.serviceNames" -}}
catalog ingest annotation training inference evaluation worker
{{- end -}}

{{/*
What each component needs, as YAML: PostgreSQL, Redis, the blob store and the peers
it calls over gRPC. The NetworkPolicies are generated from this table, and
tests/deploy checks them against the architecture.
*/}}
{{- define "ailab.topology" -}}
catalog: {database: true, redis: false, blobs: false, peers: []}
ingest: {database: true, redis: false, blobs: true, peers: [evaluation]}
annotation: {database: true, redis: false, blobs: false, peers: [catalog, ingest]}
training: {database: true, redis: true, blobs: true, peers: [annotation, ingest, evaluation]}
inference: {database: true, redis: false, blobs: true, peers: [training, ingest, catalog]}
evaluation: {database: true, redis: false, blobs: true, peers: [inference, annotation, training, ingest, catalog]}
worker: {database: false, redis: true, blobs: true, peers: [training]}
gateway: {database: true, redis: false, blobs: true, peers: [catalog, ingest, annotation, training, inference, evaluation, worker]}
{{- end -}}

{{/* In-cluster DNS name of a component's Service; call with (dict "root" $ "component" "catalog"). */}}
{{- define "ailab.host" -}}
{{- printf "%s-%s" (include "ailab.fullname" .root) .component -}}
{{- end -}}

{{/* Image of a component; call with (dict "root" $ "component" "catalog"). */}}
{{- define "ailab.image" -}}
{{- $values := index .root.Values .component -}}
{{- $tag := default .root.Chart.AppVersion .root.Values.image.tag -}}
{{- $prefix := "" -}}
{{- if .root.Values.image.registry -}}
{{- $prefix = printf "%s/" .root.Values.image.registry -}}
{{- end -}}
{{- if and (eq .component "worker") (gt (int .root.Values.worker.gpu.count) 0) -}}
{{- if .root.Values.worker.gpu.image -}}
{{- .root.Values.worker.gpu.image -}}
{{- else -}}
{{- printf "%s%sworker-gpu:%s" $prefix .root.Values.image.namePrefix $tag -}}
{{- end -}}
{{- else if $values.image -}}
{{- $values.image -}}
{{- else -}}
{{- printf "%s%s%s:%s" $prefix .root.Values.image.namePrefix .component $tag -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret that holds the chart's generated secrets. */}}
{{- define "ailab.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "ailab.fullname" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "ailab.postgresHost" -}}
{{- if eq .Values.database.mode "bundled" -}}
{{- include "ailab.host" (dict "root" . "component" "postgresql") -}}
{{- else -}}
{{- required "database.external.host is required when database.mode is external" .Values.database.external.host -}}
{{- end -}}
{{- end -}}

{{- define "ailab.postgresPort" -}}
{{- if eq .Values.database.mode "bundled" -}}5432{{- else -}}{{ .Values.database.external.port }}{{- end -}}
{{- end -}}

{{- define "ailab.postgresDatabase" -}}
{{- if eq .Values.database.mode "bundled" -}}{{ .Values.database.bundled.database }}{{- else -}}{{ .Values.database.external.database }}{{- end -}}
{{- end -}}

{{- define "ailab.postgresUser" -}}
{{- if eq .Values.database.mode "bundled" -}}{{ .Values.database.bundled.user }}{{- else -}}{{ .Values.database.external.user }}{{- end -}}
{{- end -}}

{{- define "ailab.postgresSslMode" -}}
{{- if eq .Values.database.mode "bundled" -}}disable{{- else -}}{{ .Values.database.external.sslMode }}{{- end -}}
{{- end -}}

{{/* Path of the database CA certificate inside the pods. */}}
{{- define "ailab.postgresCaPath" -}}/etc/ailab/postgres-ca/ca.crt{{- end -}}

{{/* libpq URL without the password, which comes from PGPASSWORD. */}}
{{- define "ailab.databaseUrl" -}}
{{- $url := printf "postgresql://%s@%s:%s/%s?sslmode=%s" (include "ailab.postgresUser" .) (include "ailab.postgresHost" .) (include "ailab.postgresPort" .) (include "ailab.postgresDatabase" .) (include "ailab.postgresSslMode" .) -}}
{{- if and (eq .Values.database.mode "external") .Values.database.external.caSecret -}}
{{- $url = printf "%s&sslrootcert=%s" $url (include "ailab.postgresCaPath" .) -}}
{{- end -}}
{{- $url -}}
{{- end -}}

{{/* Secret and key of the database password. */}}
{{- define "ailab.postgresPasswordSecret" -}}
{{- if eq .Values.database.mode "bundled" -}}
{{- include "ailab.secretName" . -}}
{{- else -}}
{{- required "database.external.existingSecret is required when database.mode is external" .Values.database.external.existingSecret -}}
{{- end -}}
{{- end -}}

{{- define "ailab.postgresPasswordKey" -}}
{{- if eq .Values.database.mode "bundled" -}}{{ .Values.secrets.postgresPasswordKey }}{{- else -}}{{ .Values.database.external.passwordKey }}{{- end -}}
{{- end -}}

{{- define "ailab.redisHost" -}}
{{- if eq .Values.redis.mode "bundled" -}}
{{- include "ailab.host" (dict "root" . "component" "redis") -}}
{{- else -}}
{{- required "redis.external.host is required when redis.mode is external" .Values.redis.external.host -}}
{{- end -}}
{{- end -}}

{{- define "ailab.redisPort" -}}
{{- if eq .Values.redis.mode "bundled" -}}6379{{- else -}}{{ .Values.redis.external.port }}{{- end -}}
{{- end -}}

{{- define "ailab.redisAddress" -}}
{{- printf "%s:%s" (include "ailab.redisHost" .) (include "ailab.redisPort" .) -}}
{{- end -}}

{{/* Pod-level security settings shared by the platform's pods. */}}
{{- define "ailab.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security settings shared by every container. */}}
{{- define "ailab.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "ailab.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- include "ailab.fullname" . -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Environment variable name of a flag of a service: AILAB_<SERVICE>_<FLAG>. */}}
{{- define "ailab.flagEnv" -}}
{{- printf "AILAB_%s_%s" (upper .service) (upper .flag) -}}
{{- end -}}

{{/* A flag value as text. Helm reads numbers from values files as floats, which print
as 1.073741824e+09; whole numbers print as integers instead. */}}
{{- define "ailab.flagValue" -}}
{{- if and (kindIs "float64" .) (eq (. | int64 | float64) .) -}}
{{- . | int64 -}}
{{- else -}}
{{- . | toString -}}
{{- end -}}
{{- end -}}
