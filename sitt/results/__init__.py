"""The study's results layer: everything the notebooks compute lives here, where tests reach it.

* :mod:`~sitt.results.tables`: per-seed metrics and the main / route / ablation / release-vs-paper / lambda1 tables
  (mean, seeded 95% bootstrap CI over seeds, IQM, probability of improvement);
* :mod:`~sitt.results.claims`: the claims table and its CI-based verdict rules;
* :mod:`~sitt.results.figures`: the paper's maze figure from our runs, success/route/comparison plots, training
  curves, value (KL) maps;
* :mod:`~sitt.results.report`: results/REPORT.md (+ HTML) and the commands behind each number;
* :mod:`~sitt.results.io`: paths per profile (smoke confined to results/smoke), tolerant loaders, writers;
* :mod:`~sitt.results.walkthrough`: one SITT iteration by hand and KL maps (notebook 00).

Import the submodules directly (``from sitt.results import tables``); this package imports nothing itself.
"""
