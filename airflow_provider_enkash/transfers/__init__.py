"""Operators that move EnKash card transactions into other systems, as Airflow's own providers do.

``enkash_to_sql`` (upsert into any common.sql database) and ``enkash_to_storage`` (JSON Lines /
Parquet files on an ObjectStoragePath), over the shared ``base`` (window, reading, summary, lineage).
"""
