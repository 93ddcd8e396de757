// Compiler hints Swift has no spelling for. Header only: static inline, so the call compiles to the
// instruction itself in the Swift caller.
#ifndef STRATUMSNIFF_HINTS_H
#define STRATUMSNIFF_HINTS_H

/// Asks the CPU to start loading the cache line at `p` (for reading) while other work goes on:
/// the flow table's index entries and flow slots are a cache miss per packet otherwise. Never
/// faults, whatever `p` is.
static inline void stratumsniff_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// The same for data read once, front to back (a capture file's records): `prefetchnta`, so the
/// stream passes through without pushing the flow table out of the caches.
static inline void stratumsniff_prefetch_stream(const void *p) { __builtin_prefetch(p, 0, 0); }

#endif
