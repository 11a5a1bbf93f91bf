// Schema of the annotation service (PostgreSQL schema `annotation`).
#pragma once

#include <vector>

#include "ailab/pg/pg.h"

namespace ailab::annotation {

// Migrations of the `annotation` schema, in order; applied at start by Pool::Migrate.
const std::vector<pg::Migration>& Migrations();

}  // namespace ailab::annotation
