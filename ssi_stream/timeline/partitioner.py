"""The partition a member's records live on: Kafka's default partitioner (murmur2 of the key).

Producers (the Java client, kafka-python, aiokafka) all place a keyed record on
`(murmur2(key) & 0x7fffffff) % partitions`; replay uses the same function so that it sees
each partition's events in the order a consumer of that partition would.
"""

from __future__ import annotations

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's 32-bit murmur2 hash of `data`, as a signed int (the Java client's value)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    tail = length & ~3
    for index in range(0, tail, 4):
        k = data[index] | (data[index + 1] << 8) | (data[index + 2] << 16) | (data[index + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    remaining = length & 3
    if remaining == 3:
        h ^= data[tail + 2] << 16
    if remaining >= 2:
        h ^= data[tail + 1] << 8
    if remaining >= 1:
        h ^= data[tail]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives `key` among `partitions`."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
