"""What a kept data dir and standby replicas rely on: which Faust stores keep each changelog offset.

A rocksdb:// table keeps, in each partition's database, the last changelog offset it applied, so a worker
that opens the same data dir again (or promotes a standby it kept up to date) reads only the changelog's
tail; the memory store keeps none, so such a worker restores the partition from the start.
"""

from __future__ import annotations

import gc
from pathlib import Path

import faust
from faust.types import TP


def _members_table(store: str, datadir: Path) -> faust.Table:
    app = faust.App("offsets-test", store=store, datadir=str(datadir), autodiscover=False)
    return app.Table("members", partitions=8, key_type=bytes, value_type=bytes)


def test_a_rocksdb_table_keeps_its_changelog_offset_in_the_data_dir(tmp_path: Path) -> None:
    table = _members_table("rocksdb://", tmp_path)
    tp = TP(table.changelog_topic.get_topic_name(), 3)
    assert table.data.persisted_offset(tp) is None
    table.data.set_persisted_offset(tp, 41_999)
    del table
    gc.collect()  # Faust closes a partition's database by dropping it
    reopened = _members_table("rocksdb://", tmp_path)
    assert reopened.data.persisted_offset(tp) == 41_999
    assert reopened.data.persisted_offset(TP(tp.topic, 4)) is None


def test_the_memory_store_keeps_no_changelog_offset(tmp_path: Path) -> None:
    table = _members_table("memory://", tmp_path)
    tp = TP(table.changelog_topic.get_topic_name(), 3)
    table.data.set_persisted_offset(tp, 41_999)
    assert table.data.persisted_offset(tp) is None
