"""Evaluation: question-set formats, metrics, selective answering, runs, reports and plots."""
