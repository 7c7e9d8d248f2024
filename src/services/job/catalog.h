// The job kinds built into the `streamforge` binary: what `serve`'s launcher and `streamforge job <target>`
// run.
#pragma once

#include "services/job/job.h"

namespace sf::services {

// Registers every built-in job kind on `registry`. Adding a kind is one line in catalog.cpp (and its library
// in the sf_job_catalog LIBS of job/CMakeLists.txt).
void register_builtin_jobs(JobRegistry& registry);

// A registry holding the built-in kinds.
JobRegistry builtin_job_registry();

}  // namespace sf::services
