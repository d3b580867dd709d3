"""Offline evaluation: what each model predicts and serves, measured on held-out data."""
