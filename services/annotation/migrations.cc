#include "services/annotation/migrations.h"

namespace ailab::annotation {

const std::vector<pg::Migration>& Migrations() {
  static const auto* migrations = new std::vector<pg::Migration>{
      {1, "annotations, sessions, quotas, reference readers and contests",
       R"sql(
-- One row per (use case, dataset, annotator, instance): the unique key makes
-- SaveAnnotation an upsert, so concurrent saves of one key leave one row.
CREATE TABLE annotations (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  use_case    TEXT NOT NULL,
  dataset     TEXT NOT NULL,
  annotator   TEXT NOT NULL,
  instance    TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('ANNOTATED', 'SKIPPED')),
  -- Category code; empty when skipped or for a detection without image label.
  label       TEXT NOT NULL DEFAULT '',
  -- Boxes and masks as the JSON form of ailab.annotation.v1.Annotation's
  -- boxes and masks fields; NULL when there are none.
  shapes      JSONB,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  update_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  revision    BIGINT NOT NULL DEFAULT 1,
  CONSTRAINT annotations_key UNIQUE (use_case, dataset, annotator, instance)
);
CREATE INDEX annotations_by_set ON annotations (use_case, dataset, state, annotator);

-- Annotation sessions: opened by the first request of an annotator and closed by
-- FinishSession. At most one open session per annotator, use case and dataset.
CREATE TABLE sessions (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  use_case    TEXT NOT NULL,
  dataset     TEXT NOT NULL,
  annotator   TEXT NOT NULL,
  start_time  TIMESTAMPTZ NOT NULL DEFAULT now(),
  end_time    TIMESTAMPTZ
);
CREATE UNIQUE INDEX sessions_open ON sessions (use_case, dataset, annotator)
  WHERE end_time IS NULL;

CREATE TABLE quotas (
  use_case        TEXT NOT NULL,
  dataset         TEXT NOT NULL,
  quota           BIGINT NOT NULL CHECK (quota >= 0),
  total_instances BIGINT NOT NULL,
  update_time     TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (use_case, dataset)
);

-- The reference reader whose labels are ground truth for a use case and dataset.
CREATE TABLE reference_readers (
  use_case    TEXT NOT NULL,
  dataset     TEXT NOT NULL,
  annotator   TEXT NOT NULL,
  create_time TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (use_case, dataset)
);

CREATE TABLE contests (
  id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  display_name TEXT NOT NULL,
  use_case     TEXT NOT NULL,
  dataset      TEXT NOT NULL,
  start_time   TIMESTAMPTZ NOT NULL,
  end_time     TIMESTAMPTZ NOT NULL CHECK (end_time > start_time),
  create_time  TIMESTAMPTZ NOT NULL DEFAULT now()
);
)sql"},
  };
  return *migrations;
}

}  // namespace ailab::annotation
