"""Transaction export building blocks used by the operators in ``transfers/``.

``windows`` (half-open windows, reading a window without losing records), ``timestamps``
(EnKash's two formats into UTC), ``records`` (one record -> one typed row, masked card only),
``sql_sink`` (create table + common.sql upsert), ``storage_sink`` (JSON Lines / Parquet on
ObjectStoragePath, atomic).
"""
