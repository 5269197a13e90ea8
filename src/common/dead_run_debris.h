#pragma once
// What a killed run leaves beside its outputs — hidden temporaries `.<name>.<pid>-<n>.deft-tmp`
// (files, or `deft run`'s staged run folder) and backups `.<name>.deft-old-<pid>` (a kill after an
// output set's renames, before their removal) — is removed by the next run that takes the output's
// lock (OutputLock): files whose writing process no longer exists. Files of a live process are
// never touched.
//
//   remove_dead_run_debris(output.parent_path());   // returns how many files went

#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace deft {

// `digits` as a pid when it is one (all digits, > 0), else 0.
pid_t pid_in(std::string_view digits);

// The pid that wrote `name` when it is one of deft's temporaries or backups, else 0.
pid_t debris_writer(const std::string& name);

// False only when no process `pid` exists (kill(pid, 0) says ESRCH).
bool process_exists(pid_t pid);

// Removes the debris of processes that no longer exist from `folder` (not recursive); returns
// the number of files removed. Failures to remove are ignored (the next run tries again).
size_t remove_dead_run_debris(const std::filesystem::path& folder);

}  // namespace deft
