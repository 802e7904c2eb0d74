"""Design-space sweeps: the grid of points, how they run, where they are kept, the front.

* :mod:`.grid`: ``--set KEY=V1,V2`` settings -> checked accelerator configs (the points);
* :mod:`.runner`: one point's simulation and pricing, run in this process or as Dask tasks
  on a local or an existing cluster, results streamed back as they finish;
* :mod:`.store`: the SQLite results store (one row per finished point, keyed by the hash
  of everything that decides its results) and its Parquet / CSV export;
* :mod:`.pareto`: the non-dominated points of chosen objectives, their CSV and plot.
"""
