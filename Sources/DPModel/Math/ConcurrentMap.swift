import Dispatch
import Synchronization

extension RandomAccessCollection where Self: Sendable, Element: Sendable, Index == Int {
  /// `map(transform)` on up to `workers` threads at once: each thread takes the next element
  /// not yet taken, and every result lands at its element's position, so the result is
  /// `map`'s whatever the number of workers or the order they finish in (as long as
  /// `transform` depends on its element alone).
  public func concurrentMap<T: Sendable>(workers: Int, _ transform: @Sendable (Element) -> T) -> [T] {
    guard workers > 1, count > 1 else { return map(transform) }
    // Each offset is written by exactly one thread, and read only after all have joined.
    nonisolated(unsafe) let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    results.initialize(repeating: nil)
    defer {
      results.deinitialize()
      results.deallocate()
    }
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: Swift.min(workers, count)) { _ in
      while true {
        let offset = next.wrappingAdd(1, ordering: .relaxed).oldValue
        guard offset < count else { return }
        results[offset] = transform(self[startIndex + offset])
      }
    }
    return results.map { $0! }
  }
}
