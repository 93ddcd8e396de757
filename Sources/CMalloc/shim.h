// glibc's allocator controls (malloc.h), which Swift's Glibc module does not export.
#ifndef STRATUMSNIFF_MALLOC_H
#define STRATUMSNIFF_MALLOC_H
#include <malloc.h>

/// At most `n` malloc arenas (M_ARENA_MAX). Returns 1 on success.
static inline int stratumsniff_malloc_arena_max(int n) { return mallopt(M_ARENA_MAX, n); }

/// Returns free memory at the top of the heaps and whole free pages inside them to the system.
static inline int stratumsniff_malloc_trim(void) { return malloc_trim(0); }

#endif
