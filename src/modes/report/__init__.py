"""Reports: per-claim JSON records, figures reproducing the paper's, and summary.md/index.html."""
