"""Compares an exported Parquet file with the original, column by column, as pyarrow reads them.

Usage: python check_parquet.py ORIGINAL EXPORTED [COLUMN | ORIGINAL_COLUMN=EXPORTED_COLUMN ...]
Checks every column of ORIGINAL (or the named ones) is in EXPORTED with the same type (list
item names aside: Parquet calls them "element", Arrow "item") and the same values row by row.
Prints "ok" or one line per difference and exits 1.
"""

import sys

import pyarrow as pa
import pyarrow.parquet as pq


def read(path):
    if path.endswith(".arrow"):
        import pyarrow.feather as feather
        return feather.read_table(path)
    return pq.read_table(path)


def norm(t):
    """The type with list items renamed to "item" (the name is not part of the data)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(norm(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, norm(f.type)) for f in t])
    if pa.types.is_large_string(t):
        return pa.string()
    return t


orig = read(sys.argv[1])
exp = pq.read_table(sys.argv[2])
cols = [c.split("=", 1) if "=" in c else (c, c) for c in sys.argv[3:] or orig.column_names]
problems = []
if exp.num_rows != orig.num_rows:
    problems.append(f"rows: {exp.num_rows} exported, {orig.num_rows} original")
for name, ename in cols:
    if ename not in exp.column_names:
        problems.append(f"{ename}: missing from the export (columns: {exp.column_names})")
        continue
    a, b = norm(orig.schema.field(name).type), norm(exp.schema.field(ename).type)
    if a != b:
        problems.append(f"{name}: type {b} exported, {a} original")
    va, vb = orig.column(name).to_pylist(), exp.column(ename).to_pylist()
    for i, (x, y) in enumerate(zip(va, vb)):
        if x != y or type(x) is not type(y):
            problems.append(f"{name} row {i + 1}: {y!r:.80} exported, {x!r:.80} original")
            break
print("\n".join(problems) or "ok")
sys.exit(1 if problems else 0)
