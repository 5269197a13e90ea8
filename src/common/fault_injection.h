#pragma once
// Fault injection for tests: a run stopped or held at a known point instead of a random one.
// Points are the places where a run's state changes (a chunk embedded, a pool block searched,
// rows appended to an output, an output finished, a commit begins); every point reached counts,
// across all kinds and threads, from 1.
//
//   DEFT_FAULT_TRACE=FILE          appends each point's name, one per line (how many points an
//                                  undisturbed run reaches, and where)
//   DEFT_FAULT_KILL_AT=N           SIGKILL (as `kill -9`) at the N-th point
//   DEFT_FAULT_PAUSE_AT=N          at the N-th point, creates FILE.paused (FILE from
//   DEFT_FAULT_PAUSE_FILE=FILE     DEFT_FAULT_PAUSE_FILE) and waits until FILE exists (a
//                                  second run can then be started against a live first one)
//   DEFT_FAULT_KILL_AFTER_CHUNKS=N SIGKILL right after the N-th finished embedding chunk
//
// Unset (always, outside tests), every hook is a load and a branch.

namespace deft::fault {

// A point named `what` (a literal: "mine block", "output finished", …).
void point(const char* what);

// Called once a chunk's part file is in place (also a point).
void chunk_finished();

}  // namespace deft::fault
