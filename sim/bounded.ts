/**
 * Every record the sim world keeps for inspection is bounded (TigerBeetle style: a limit on
 * everything). A fleet run makes hundreds of thousands of pages, messages and cards; nobody reads
 * more than the last few thousand, and an unbounded log would be most of the heap.
 */

/** The last `capacity` items, oldest first; push is O(1). */
export class BoundedLog<A> {
  private items: Array<A> = []
  /** Index of the oldest item once the ring is full. */
  private start = 0
  /** Items pushed out to make room. */
  dropped = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a bounded log needs a capacity >= 1, not ${capacity}`)
  }

  get length(): number {
    return this.items.length
  }

  push(item: A): void {
    if (this.items.length < this.capacity) {
      this.items.push(item)
      return
    }
    this.items[this.start] = item
    this.start = (this.start + 1) % this.capacity
    this.dropped++
  }

  toArray(): Array<A> {
    return this.start === 0 ? this.items.slice() : [...this.items.slice(this.start), ...this.items.slice(0, this.start)]
  }

  /** The items, oldest first, and an empty log. */
  drain(): Array<A> {
    const all = this.toArray()
    this.items = []
    this.start = 0
    return all
  }

  last(): A | undefined {
    if (this.items.length === 0) return undefined
    return this.items[(this.start + this.items.length - 1) % this.items.length]
  }
}

/**
 * A map that forgets its oldest entries past `capacity` (an idempotency window). The insertion order
 * is kept in a ring of keys rather than read from the Map: V8's `map.keys().next()` walks over the
 * deleted entries at the front, which turns a steady stream of evictions quadratic.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>()
  private readonly order: Array<K> = []
  /** Index of the oldest key once the ring is full. */
  private start = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a bounded map needs a capacity >= 1, not ${capacity}`)
  }

  get size(): number {
    return this.map.size
  }

  get(key: K): V | undefined {
    return this.map.get(key)
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) {
      this.map.set(key, value)
      return
    }
    if (this.order.length < this.capacity) {
      this.order.push(key)
    } else {
      // The ring is full: the key at `start` is the oldest; its slot takes the new key.
      this.map.delete(this.order[this.start] as K)
      this.order[this.start] = key
      this.start = (this.start + 1) % this.capacity
    }
    this.map.set(key, value)
  }

  values(): IterableIterator<V> {
    return this.map.values()
  }
}
