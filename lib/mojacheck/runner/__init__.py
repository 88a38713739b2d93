"""The runner: resolve params, start the embedded hub/simulator when asked, execute the notebooks with
papermill, write outputs (executed notebooks, HTML, summary.json, junit.xml) and return an exit code."""

from mojacheck.runner.core import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED, RunOptions, RunResult, run

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_PASSED", "RunOptions", "RunResult", "run"]
