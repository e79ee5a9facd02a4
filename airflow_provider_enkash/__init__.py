"""Apache Airflow provider for the EnKash Prepaid Card APIs."""

DEFAULT_CONN_ID = "enkash_default"  # the connection hooks, operators and sensors use unless told
