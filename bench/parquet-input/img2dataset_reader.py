"""The peer: a parquet URL list read the way img2dataset's `Reader` reads one (img2dataset/reader.py,
`_save_to_arrow`): `pyarrow.parquet.read_table` of the URL, caption and additional columns, the URL and caption
columns renamed, then the table sliced into shards of `number_sample_per_shard` rows, each written as an Arrow IPC
(feather) file in a temporary folder for the download workers. Prints the rows read and the shards written.

    python img2dataset_reader.py LIST.parquet URL_COL CAPTION_COL [ADDITIONAL_COL...]
"""

import math
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

NUMBER_SAMPLE_PER_SHARD = 10000


def main():
    path, url_col, caption_col, additional = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    df = pq.read_table(path, columns=[url_col, caption_col] + additional)
    names = ["url" if c == url_col else "caption" if c == caption_col else c for c in df.column_names]
    df = df.rename_columns(names)
    column_list = additional + ["caption", "url"]
    shards = math.ceil(df.num_rows / NUMBER_SAMPLE_PER_SHARD)
    with tempfile.TemporaryDirectory() as tmp:
        for shard in range(shards):
            begin = shard * NUMBER_SAMPLE_PER_SHARD
            end = min(df.num_rows, begin + NUMBER_SAMPLE_PER_SHARD)
            part = df.slice(begin, end - begin).select(column_list)
            with pa.OSFile(f"{tmp}/{shard}.feather", "wb") as sink, pa.ipc.new_file(sink, part.schema) as writer:
                writer.write_table(part)
    print(df.num_rows, shards)


if __name__ == "__main__":
    main()
