from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_murmur2

from ssi_stream.timeline.partitioner import murmur2, partition_for


@given(st.binary(max_size=80))
def test_murmur2_matches_kafka_python(data: bytes) -> None:
    assert murmur2(data) & 0xFFFFFFFF == kafka_murmur2(bytearray(data))  # kafka-python returns it unsigned


@given(st.text(min_size=1, max_size=64), st.integers(min_value=1, max_value=64))
def test_partition_for_matches_the_producers_default_partitioner(member_id: str, partitions: int) -> None:
    # kafka-python's DefaultPartitioner places a keyed record on (murmur2(key) & 0x7fffffff) % partitions.
    expected = (kafka_murmur2(bytearray(member_id.encode())) & 0x7FFFFFFF) % partitions
    assert partition_for(member_id, partitions) == expected


def test_known_java_client_values() -> None:
    # Values published in Kafka's own Utils test (murmur2 of these ASCII strings).
    assert murmur2(b"21") == -973932308
    assert murmur2(b"foobar") == -790332482
    assert murmur2(b"a-little-bit-long-string") == -985981536
