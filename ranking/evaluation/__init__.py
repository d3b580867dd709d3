"""Offline evaluation: what each model predicts and serves, measured on held-out data.

``run`` evaluates a version on a per-user random and a time-forward holdout (``metrics`` and
``objective_metrics`` are the figures, ``actions`` the per-action ones); ``selection`` chooses
what the feed serves; ``guardrails`` replays the feed with and without the wellbeing policy
(``responsiveness``: what one hide changes). Import the submodules: this package stays empty so
that training (``ranking.ltr``, which reads ``metrics``) never loads the evaluation around it.
"""
