#pragma once
// Fault injection for tests: a run stopped at a known point instead of a random one.
//
//   DEFT_FAULT_KILL_AFTER_CHUNKS=N   the process kills itself (SIGKILL, as `kill -9` would)
//                                    right after its N-th finished embedding chunk
//
// Unset (always, outside tests), every hook is a no-op.

namespace deft::fault {

// Called once a chunk's part file is in place.
void chunk_finished();

}  // namespace deft::fault
