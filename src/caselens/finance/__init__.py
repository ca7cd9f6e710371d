"""The transaction plane: bulk transactions in columnar form (Parquet), imported from bank
and payment formats, analysed by DuckDB in-process or by Apache Spark past one machine."""
