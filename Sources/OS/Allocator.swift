import CMalloc

/// The C allocator's behaviour for a long-running sensor (glibc).
///
/// glibc gives each thread that allocates its own arena (up to 8 per core), and memory freed in
/// an arena stays with it: a live sensor whose capture, worker, commit and writer threads take
/// turns building large transient values (a commit's snapshot, a store batch, a period report)
/// ended up holding the high-water mark of each in every arena — measured under the mixed-flood
/// soak, 409 MB resident with default arenas against 338 MB with one (docs/hostile-input.md "Floods").
public enum Allocator {
    /// Caps the number of malloc arenas (call before starting threads). Two keep the capture
    /// threads from contending on one lock while bounding what idle arenas hold.
    public static func limitArenas(_ n: Int32 = 2) { _ = stratumsniff_malloc_arena_max(n) }

    /// Gives memory freed since the last call back to the system (after a commit's transient values are gone).
    public static func returnFreeMemory() { _ = stratumsniff_malloc_trim() }
}
