"""ArqonHPO benchmark suite: `python -m benchmarks --size smoke|full [--only NAME ...]`.

Each benchmark module also runs on its own (`python -m benchmarks.quality --size smoke`) and exposes
`run(size, out_dir) -> Section`; see benchmarks/__main__.py for the list.
"""
