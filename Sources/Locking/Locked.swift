import Synchronization

#if STRATUMSNIFF_TSAN
    // ThreadSanitizer cannot see Synchronization.Mutex on Linux (a futex behind code TSan did not
    // instrument): it reports every access under the lock as a race — ten lines with two threads and one
    // Mutex show it. The TSan build (scripts/sanitize) tells it about the lock by hand, so that what it
    // still reports is real.
    @_silgen_name("__tsan_acquire") private func tsanAcquire(_ address: UnsafeRawPointer)
    @_silgen_name("__tsan_release") private func tsanRelease(_ address: UnsafeRawPointer)
#endif

/// A value shared between threads, behind a `Mutex` (a class, so that closures and arrays can hold
/// it). Every lock in the program is one of these.
public final class Locked<Value>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: consuming sending Value) { mutex = Mutex(value) }

    public func withLock<R>(_ body: (inout sending Value) throws -> sending R) rethrows -> sending R {
        try mutex.withLock { value in
            #if STRATUMSNIFF_TSAN
                let address = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
                tsanAcquire(address)
                defer { tsanRelease(address) }
            #endif
            return try body(&value)
        }
    }
}
