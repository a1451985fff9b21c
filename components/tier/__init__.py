"""The shared tier: lakeFS, Hive metastore, Dagster host, Postgres and object storage."""

from components.tier.component import Tier, TierArgs

__all__ = ["Tier", "TierArgs"]
